//! A server nobody here wrote: a bot built on npm's `asterisk-audiosocket`
//! 0.1.0, exactly as its README shows (tests/third_party/bot.mjs), against
//! a real Asterisk. Through the application and the driver, what it plays
//! with its paced `play()` and what it writes at once with `writeFrame()`
//! (a burst the library warns against) is heard whole: the far end echoes
//! it back to the bot, which counts the tone. The library understands
//! every message the module sends it (it reports any other as an error),
//! sees a far end's hangup as its `hangup` event, and its own hangup ends
//! the call with SERVER_HANGUP.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::asterisk::skip;
use common::Asterisk;

const S: Duration = Duration::from_secs(1);
const PACKAGE: &str = "asterisk-audiosocket@0.1.0";
const APP_UUID: &str = "7d4c1c6a-3a5e-4f0b-9d41-000000000001";
const DRIVER_UUID: &str = "7d4c1c6a-3a5e-4f0b-9d41-000000000002";
/// The bot plays nothing on this one: its far end hangs up.
const QUIET_UUID: &str = "7d4c1c6a-3a5e-4f0b-9d41-0000000000ff";

/// The library's entry point, installed once into the target folder from
/// the npm registry, as `tests/third_party/package-lock.json` pins it (its
/// version and its checksum), running none of its install scripts; or why
/// it cannot be installed.
fn library() -> Result<PathBuf, String> {
    static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let works = |tool: &str| {
                Command::new(tool)
                    .arg("--version")
                    .output()
                    .is_ok_and(|o| o.status.success())
            };
            if !works("node") || !works("npm") {
                return Err("Node.js and npm are not installed".into());
            }
            let pinned = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/third_party");
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("third-party-npm");
            let index = dir.join("node_modules/asterisk-audiosocket/dist/index.js");
            let lock = std::fs::read(pinned.join("package-lock.json")).map_err(|e| e.to_string())?;
            let installed_from = std::fs::read(dir.join("package-lock.json")).ok();
            if !index.is_file() || installed_from.as_deref() != Some(&lock[..]) {
                std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
                for f in ["package.json", "package-lock.json"] {
                    std::fs::copy(pinned.join(f), dir.join(f)).map_err(|e| format!("{f}: {e}"))?;
                }
                let out = Command::new("npm")
                    .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
                    .current_dir(&dir)
                    .output()
                    .map_err(|e| format!("npm: {e}"))?;
                if !out.status.success() || !index.is_file() {
                    return Err(format!(
                        "npm ci could not install {PACKAGE} from tests/third_party/package-lock.json: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    ));
                }
            }
            Ok(index)
        })
        .clone()
}

/// The bot, running: its port, and its lines as they come.
struct Bot {
    child: Child,
    port: u16,
    lines: Receiver<String>,
}

impl Bot {
    fn start(test: &str) -> Option<Bot> {
        let index = match library() {
            Ok(index) => index,
            // Not the module's failure: the run cannot test it here.
            Err(why) => {
                skip(
                    test,
                    &format!("cannot install the third-party server: {why}"),
                );
                return None;
            }
        };
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/third_party/bot.mjs");
        let mut child = Command::new("node")
            .arg(script)
            .arg(index)
            .stdout(Stdio::piped())
            .spawn()
            .expect("node runs");
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                eprintln!("bot: {line}");
                let _ = tx.send(line);
            }
        });
        let first = lines.recv_timeout(10 * S).expect("the bot listens");
        let port = first
            .strip_prefix("LISTENING ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the bot said {first:?}"));
        Some(Bot { child, port, lines })
    }

    /// The first line starting with `prefix`, within `timeout`.
    fn expect(&self, prefix: &str, timeout: Duration) -> String {
        let t0 = Instant::now();
        while let Some(left) = timeout.checked_sub(t0.elapsed()) {
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(prefix) => return line,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        panic!("the bot never said {prefix:?}")
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `name=N` from a bot's line.
fn count(line: &str, name: &str) -> usize {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{name}=")))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {line:?}"))
}

fn dialplan(port: u16) -> String {
    format!(
        "[app]\nexten => _X.,1,Answer()\n same => n,AudioSocket(${{EXTEN:1}},127.0.0.1:{port})\n \
         same => n,Log(NOTICE,RESULT ${{EXTEN}} status=${{AUDIOSOCKET_STATUS}})\n\
         [driver]\nexten => _X.,1,Dial(AudioSocket/127.0.0.1:{port}/${{EXTEN:1}})\n \
         same => n,Log(NOTICE,DIALED ${{EXTEN}} status=${{DIALSTATUS}})\n{}",
        common::FAR_ENDS
    )
}

#[test]
fn its_paced_audio_and_its_burst_are_heard_whole_through_the_application_and_the_driver() {
    let test = "npm_asterisk_audiosocket";
    let Some(bot) = Bot::start(test) else {
        return;
    };
    let Some(ast) = Asterisk::start(test, &dialplan(bot.port)) else {
        return;
    };
    for (uuid, context) in [(APP_UUID, "app"), (DRIVER_UUID, "driver")] {
        // (The extension carries the UUID past the pattern's first digit.)
        ast.originate(&format!("9{uuid}@{context}"), "1@echo");
        bot.expect(&format!("ID {uuid}"), 5 * S);
        let done = bot.expect(&format!("DONE {uuid}"), 10 * S);
        // 100 frames paced and 50 at once went out; the echo brings back
        // what the caller heard.
        let loud = count(&done, "loud");
        assert!(
            loud >= 145,
            "{context}: {loud} of 150 frames came back: {done}"
        );
        assert_eq!(count(&done, "errors"), 0, "{context}: {done}");
        let hangup = bot.expect(&format!("HANGUP {uuid}"), 5 * S);
        assert_eq!(count(&hangup, "errors"), 0, "{context}: {hangup}");
        if context == "app" {
            let line = ast.expect_log(&[&format!("RESULT 9{uuid}")], 5 * S);
            assert!(line.contains("status=SERVER_HANGUP"), "{line}");
        }
        assert!(ast.wait_no_channels(5 * S), "{context}: channels left");
    }
}

#[test]
fn a_far_end_hangup_reaches_the_library_as_its_hangup_event() {
    let test = "npm_hangup";
    let Some(bot) = Bot::start(test) else {
        return;
    };
    let Some(ast) = Asterisk::start(test, &dialplan(bot.port)) else {
        return;
    };
    for context in ["app", "driver"] {
        ast.originate(&format!("9{QUIET_UUID}@{context}"), "1@hangup1");
        bot.expect(&format!("ID {QUIET_UUID}"), 5 * S);
        let t0 = Instant::now();
        let hangup = bot.expect(&format!("HANGUP {QUIET_UUID}"), 5 * S);
        assert!(t0.elapsed() < 3 * S, "{context}: {:?}", t0.elapsed());
        assert_eq!(count(&hangup, "errors"), 0, "{context}: {hangup}");
        assert!(ast.wait_no_channels(5 * S), "{context}: channels left");
    }
}
