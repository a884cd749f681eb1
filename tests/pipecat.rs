//! A bot written for Twilio Media Streams, unchanged, answers an Asterisk
//! call: Pipecat (`pipecat-ai` from PyPI, as tests/pipecat/requirements.txt
//! pins it, with hashes) serving wss with its FastAPI WebSocket transport
//! and TwilioFrameSerializer (tests/pipecat/bot.py). A SIP phone (sipp
//! through PJSIP, µ-law) calls the application and the driver, each
//! through a websocket profile in the Twilio dialect: the bot accepts the
//! X-Twilio-Signature with twilio's own validator, learns the stream and
//! the caller, hears the caller's tone, the caller hears the bot's; the
//! caller's digit reaches the bot as a keypad frame, and the bot's
//! interruption (a clear) stops what the caller hears within a frame or
//! so; the marks come back in order, and the hangup reaches the bot as
//! `stop`.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::ami::free_port;
use common::asterisk::skip;
use common::sip::{self, CallSpec, Codec, Ending, Phone, Sipp, Stack};
use common::tls::{Pki, Role};
use common::tones::{has, lacks};
use common::UUID;

const S: Duration = Duration::from_secs(1);
const PCMU: Codec = Codec {
    payload_type: 0,
    ptime_ms: 20,
};
const TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// A virtual environment with the pinned packages, made once in the
/// target folder; or why it cannot be made.
fn python() -> Result<PathBuf, String> {
    static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let pinned =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pipecat/requirements.txt");
            let lock = std::fs::read(&pinned).map_err(|e| e.to_string())?;
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pipecat-venv");
            let python = dir.join("bin/python");
            let stamp = dir.join("installed-from.txt");
            if std::fs::read(&stamp).ok().as_deref() == Some(&lock[..]) && python.is_file() {
                return Ok(python);
            }
            let _ = std::fs::remove_dir_all(&dir);
            let run = |cmd: &mut Command| -> Result<(), String> {
                let out = cmd.output().map_err(|e| e.to_string())?;
                if out.status.success() {
                    Ok(())
                } else {
                    Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
                }
            };
            run(Command::new("python3").args(["-m", "venv"]).arg(&dir))
                .map_err(|e| format!("python3 -m venv: {e}"))?;
            run(Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--require-hashes",
                    "--no-deps",
                    "-r",
                ])
                .arg(&pinned))
            .map_err(|e| format!("pip could not install tests/pipecat/requirements.txt: {e}"))?;
            std::fs::write(&stamp, &lock).map_err(|e| e.to_string())?;
            Ok(python)
        })
        .clone()
}

/// The bot, running: its lines as they come.
struct Bot {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Bot {
    fn start(test: &str, port: u16, cert: &Path, key: &Path) -> Option<Bot> {
        let python = match python() {
            Ok(p) => p,
            Err(why) => {
                skip(test, &format!("cannot install Pipecat: {why}"));
                return None;
            }
        };
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pipecat/bot.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(port.to_string())
            .arg(cert)
            .arg(key)
            .arg(TOKEN)
            // Pipecat's own log: its warnings only.
            .env("LOGURU_LEVEL", "WARNING")
            .stdout(Stdio::piped())
            .spawn()
            .expect("python runs the bot");
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                eprintln!("bot: {line}");
                let _ = tx.send(line);
            }
        });
        let mut bot = Bot {
            child,
            lines,
            seen: Vec::new(),
        };
        bot.expect("LISTENING", 20 * S);
        let t0 = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(t0.elapsed() < 20 * S, "the bot listens");
            std::thread::sleep(S / 10);
        }
        Some(bot)
    }

    /// The next line starting with `what`, within `timeout`.
    fn expect(&mut self, what: &str, timeout: Duration) -> String {
        if let Some(at) = self.seen.iter().position(|l| l.starts_with(what)) {
            return self.seen.remove(at);
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if l.starts_with(what) => return l,
                Ok(l) => self.seen.push(l),
                Err(_) => panic!("the bot did not say {what}; it said {:?}", self.seen),
            }
        }
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The moment the bot wrote as milliseconds since the epoch (a moment
/// past), on this process's clock.
fn instant_of(epoch_ms: u64) -> Instant {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    Instant::now() - Duration::from_millis(now.saturating_sub(epoch_ms))
}

#[test]
fn a_pipecat_bot_written_for_twilio_answers_through_the_application_and_the_driver() {
    let pki = Pki::new("pipecat");
    let cert = pki.issue("bot", &["localhost"], Role::Server, false);
    let port = free_port();
    let conf = format!(
        "[ca]\ntype = tls\nca_file = {}\n\n\
         [pipecat]\ntype = websocket\nurl = wss://localhost:{port}/ws\ndialect = twilio\n\
         tls = ca\ntwilio_auth_token = {TOKEN}\n",
        pki.ca_file().display()
    );
    let dialplan = format!(
        "[from-sipp]\n\
         exten => 100,1,Answer()\n same => n,AudioSocket({UUID},ws:pipecat,m)\n \
         same => n,Hangup()\n\
         exten => 200,1,Dial(AudioSocket/ws:pipecat/{UUID}/m)\n same => n,Hangup()\n"
    );
    let Some((ast, sip_port, caller_port)) = sip::asterisk_with(
        "pipecat",
        Stack::Pjsip,
        &dialplan,
        &[("audiosocket.conf", &conf)],
    ) else {
        return;
    };
    let Some(mut bot) = Bot::start("pipecat", port, &cert.cert_file, &cert.key_file) else {
        return;
    };
    for exten in ["100", "200"] {
        let phone = Phone::new(PCMU);
        let call = CallSpec {
            exten: exten.into(),
            caller: "4930123".into(),
            codec: PCMU,
            media_port: phone.port,
        };
        let mut sipp = Sipp::call(sip_port, caller_port, &[call], Ending::CallerHangsUp(7 * S));
        let to = sipp.asterisk_media(phone.port, 10 * S).expect("answered");
        assert_eq!(
            bot.expect("SIGNATURE", 10 * S),
            "SIGNATURE valid",
            "{exten}"
        );
        let start = bot.expect("START", 5 * S);
        let want = format!("START twilio MZ{} CA", UUID.replace('-', ""));
        assert!(start.starts_with(&want), "{exten}: {start}");
        assert!(start.ends_with("from=4930123"), "{exten}: {start}");
        bot.expect("TALKING", 5 * S);
        // The caller talks for three seconds, then presses 5.
        let talked = Instant::now();
        phone.talk(to, 600.0, 3 * S, Some(b'5'));
        assert_eq!(bot.expect("HEARD", 2 * S), "HEARD 600", "{exten}");
        assert_eq!(bot.expect("DTMF", 2 * S), "DTMF 5", "{exten}");
        let cleared_at = instant_of(bot.expect("CLEARED", 2 * S)[8..].parse().unwrap());
        // Marks in order, each after its second of audio; the third, which
        // the interruption caught in Pipecat's own queue, never.
        assert_eq!(bot.expect("MARK", 2 * S), "MARK m1", "{exten}");
        assert_eq!(bot.expect("MARK", 2 * S), "MARK m2", "{exten}");
        std::thread::sleep(2 * S);
        assert!(
            !bot.seen.iter().any(|l| l == "MARK m3"),
            "{exten}: {:?}",
            bot.seen
        );
        // What the caller heard: the bot's tone, until the clear.
        let heard = phone.heard();
        let before: Vec<i16> = heard
            .arrivals
            .iter()
            .zip(heard.samples.chunks(160))
            .filter(|((at, _), _)| *at < cleared_at && *at > talked)
            .flat_map(|(_, s)| s.to_vec())
            .collect();
        assert!(
            has(&before, 8000, 1000.0),
            "{exten}: the caller heard the bot"
        );
        let after: Vec<i16> = heard
            .arrivals
            .iter()
            .zip(heard.samples.chunks(160))
            .filter(|((at, _), _)| *at > cleared_at + Duration::from_millis(60))
            .flat_map(|(_, s)| s.to_vec())
            .collect();
        assert!(
            lacks(&after, 8000, 1000.0),
            "{exten}: and nothing of it after the clear"
        );
        drop(heard);
        sipp.finished(20 * S)
            .unwrap_or_else(|e| panic!("{exten}: {e}"));
        bot.expect("STOP", 5 * S);
        bot.expect("DISCONNECTED", 5 * S);
        assert!(ast.wait_no_channels(10 * S));
    }
    ast.expect_log(
        &["AudioSocket session with ws:pipecat ended: the channel hung up"],
        S,
    );
}
