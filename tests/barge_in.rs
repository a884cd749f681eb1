//! Barge-in on a real Asterisk: a server that flushes is heard no further,
//! marks and drained reports come back once their audio has played, and
//! the same controls reach a session through AUDIOSOCKET() from AMI.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::ami::{self, Ami};
use common::server::Conn;
use common::{ramp, Asterisk, TestServer, UUID};

const S: Duration = Duration::from_secs(1);

fn dialplan(rec: &std::path::Path) -> String {
    format!(
        "[bot]\nexten => _X.,1,Answer()\n \
         same => n,AudioSocket({UUID},127.0.0.1:${{EXTEN}},b)\n \
         same => n,Log(NOTICE,RESULT ${{EXTEN}} status=${{AUDIOSOCKET_STATUS}})\n \
         same => n,Wait(3)\n same => n,Hangup()\n\
         [record]\nexten => _X.,1,Answer()\n \
         same => n,Record({}/${{EXTEN}}.wav,0,30,qk)\n same => n,Hangup()\n{}",
        rec.display(),
        common::FAR_ENDS
    )
}

/// What the module sent, with arrival times: (when, kind, payload).
type Received = Arc<Mutex<Vec<(Instant, u8, Vec<u8>)>>>;

/// A bot's end of the connection: sends without ever blocking, so that it
/// can stop and flush at any moment, and collects what the module sends.
struct Bot {
    stream: TcpStream,
    /// Messages not yet taken by TCP, the first maybe partly sent.
    unsent: std::collections::VecDeque<Vec<u8>>,
    got: Received,
}

fn message(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut m = vec![kind];
    m.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    m.extend_from_slice(payload);
    m
}

impl Bot {
    /// Takes over an accepted connection whose UUID was read. With
    /// `limited`, the bot keeps at most 4 KiB unsent in its kernel
    /// (TCP_NOTSENT_LOWAT), as README advises.
    fn new(conn: Conn, limited: bool) -> Bot {
        let stream = conn.stream;
        if limited {
            let lowat: libc::c_int = 4096;
            // SAFETY: the descriptor is open; the value outlives the call.
            unsafe {
                libc::setsockopt(
                    stream.as_raw_fd(),
                    libc::IPPROTO_TCP,
                    libc::TCP_NOTSENT_LOWAT,
                    (&lowat as *const libc::c_int).cast(),
                    4,
                )
            };
        }
        let got: Received = Arc::default();
        let (reader, sink) = (stream.try_clone().unwrap(), got.clone());
        std::thread::spawn(move || {
            let mut conn = Conn { stream: reader };
            while let Some(m) = conn.read_msg(Duration::from_secs(30)) {
                sink.lock()
                    .unwrap()
                    .push((Instant::now(), m.kind, m.payload));
            }
        });
        Bot {
            stream,
            unsent: Default::default(),
            got,
        }
    }

    fn queue_audio(&mut self, pcm: &[u8]) {
        for chunk in pcm.chunks(320) {
            self.unsent.push_back(message(0x10, chunk));
        }
    }

    fn queue(&mut self, kind: u8, payload: &[u8]) {
        self.unsent.push_back(message(kind, payload));
    }

    /// Sends what TCP takes now, never waiting.
    fn pump(&mut self) {
        while let Some(m) = self.unsent.front_mut() {
            // SAFETY: the descriptor is open; m is a valid buffer of m.len() bytes.
            let n = unsafe {
                libc::send(
                    self.stream.as_raw_fd(),
                    m.as_ptr().cast(),
                    m.len(),
                    libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                )
            };
            if n <= 0 {
                return;
            }
            m.drain(..n as usize);
            if m.is_empty() {
                self.unsent.pop_front();
            }
        }
    }

    /// Keeps sending for `d`.
    fn pump_for(&mut self, d: Duration) {
        let end = Instant::now() + d;
        while Instant::now() < end {
            self.pump();
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The caller barged in: finish the message in progress, drop the rest
    /// of what was not sent, and send `kind`.
    fn interrupt_with(&mut self, kind: u8) {
        let partial = self.unsent.pop_front().filter(|m| m.len() % 323 != 0);
        self.unsent.clear();
        if let Some(rest) = partial {
            self.stream.write_all(&rest).unwrap();
        }
        self.stream.write_all(&message(kind, &[])).unwrap();
    }

    fn received(&self, kind: u8) -> Vec<(Instant, Vec<u8>)> {
        let got = self.got.lock().unwrap();
        got.iter()
            .filter(|(_, k, _)| *k == kind)
            .map(|(t, _, p)| (*t, p.clone()))
            .collect()
    }

    fn hangup(&mut self) {
        let _ = self.stream.write_all(&message(0x00, &[]));
    }
}

/// How many seconds of audio the far end recorded for the call to `port`.
fn heard(ast: &Asterisk, port: u16) -> f64 {
    ast.expect_log(&[&format!("RESULT {port}")], 5 * S);
    let file = ast.scratch().join(format!("{port}.wav"));
    let t0 = Instant::now();
    // The recording is closed when the far end hangs up, after the Wait.
    while ast
        .wait_log(
            &["Executing", &format!("{port}@record"), "Hangup"],
            Duration::ZERO,
        )
        .is_none()
        && t0.elapsed() < 10 * S
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(300));
    common::wav_samples(&file).len() as f64 / 8000.0
}

/// Starts an Asterisk with AMI and the dialplan above. (The recordings'
/// folder is only known once the instance exists, so the dialplan names it
/// and is written afterwards.)
fn start(test: &str, files: &[(&str, &str)]) -> Option<(Asterisk, Ami)> {
    let (ast, ami) = ami::start(test, "", "", files)?;
    ast.write_config("extensions.conf", &dialplan(&ast.scratch()));
    ast.cli("dialplan reload");
    Some((ast, ami))
}

/// Five seconds sent at once, a flush one second in: the caller hears about
/// one second, then nothing. When the module holds all five seconds the
/// flush takes effect at once; with the default two-second buffer, what
/// the kernels held in front of the flush plays first (README: about half
/// a second for a bot that limits its unsent data).
#[test]
fn a_flush_one_second_into_five_leaves_about_one_second_heard() {
    let Some((ast, _)) = start(
        "barge_in_flush",
        &[("audiosocket.conf", "[general]\nplayout_buffer = 6000\n")],
    ) else {
        return;
    };
    for (buffer, limit) in [(6000, 1.3), (2000, 2.0)] {
        if buffer == 2000 {
            ast.write_config("audiosocket.conf", "[general]\nplayout_buffer = 2000\n");
            ast.cli("module reload chan_audiosocket_rs.so");
        }
        let srv = TestServer::new();
        ast.originate(
            &format!("{}@bot", srv.port),
            &format!("{}@record", srv.port),
        );
        let conn = srv.accept_call();
        let mut bot = Bot::new(conn, true);
        bot.queue_audio(&ramp(5 * 8000));
        bot.pump_for(S);
        bot.interrupt_with(0x20);
        bot.pump_for(2 * S);
        bot.hangup();
        let secs = heard(&ast, srv.port);
        eprintln!("playout_buffer {buffer} ms: {secs:.2} s heard of 5 s, flushed at 1 s");
        assert!(
            (0.9..=limit).contains(&secs),
            "playout_buffer {buffer}: {secs:.2} s heard"
        );
    }
}

#[test]
fn marks_and_drained_reports_come_back_once_their_audio_has_played() {
    let Some((ast, mut ami)) = start("barge_in_marks", &[]) else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@bot", srv.port), "1@silent");
    let conn = srv.accept_call();
    let mut bot = Bot::new(conn, false);
    let sent = Instant::now();
    bot.queue_audio(&ramp(4000));
    bot.queue(0x21, b"one");
    bot.queue_audio(&ramp(4000));
    bot.queue(0x21, b"two");
    bot.queue(0x22, &[]);
    bot.pump_for(Duration::from_millis(1500));
    let marks = bot.received(0x21);
    let ids: Vec<&[u8]> = marks.iter().map(|(_, id)| id.as_slice()).collect();
    assert_eq!(ids, [&b"one"[..], &b"two"[..]]);
    let after = |t: Instant| t - sent;
    assert!(
        after(marks[0].0) >= Duration::from_millis(450),
        "{:?}",
        after(marks[0].0)
    );
    assert!(
        after(marks[1].0) >= Duration::from_millis(950),
        "{:?}",
        after(marks[1].0)
    );
    let drained = bot.received(0x22);
    assert_eq!(drained.len(), 1);
    assert!(drained[0].0 >= marks[1].0);
    for id in ["one", "two"] {
        let e = ami.event("AudioSocketMark", 5 * S);
        assert_eq!(
            (e.field("Mark"), e.field("Source")),
            (id, "server"),
            "{e:?}"
        );
        assert_eq!(e.field("UUID"), UUID);
    }
    bot.hangup();
    ast.expect_log(&[&format!("RESULT {}", srv.port), "SERVER_HANGUP"], 5 * S);
}

#[test]
fn asterisks_side_reaches_the_session_through_audiosocket_from_ami() {
    let Some((ast, mut ami)) = start("barge_in_ami", &[]) else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@bot", srv.port), "1@silent");
    let conn = srv.accept_call();
    let chan = ast
        .channel_in("AudioSocket")
        .expect("a channel in AudioSocket()");
    let get = |ami: &mut Ami, item: &str| {
        ami.getvar(&chan, &format!("AUDIOSOCKET({item})"))
            .unwrap_or_else(|| panic!("Getvar AUDIOSOCKET({item})"))
    };
    assert_eq!(get(&mut ami, "status"), "CONNECTED");
    assert_eq!(get(&mut ami, "uuid"), UUID);
    assert_eq!(get(&mut ami, "server"), format!("127.0.0.1:{}", srv.port));
    assert_eq!(get(&mut ami, "address"), format!("127.0.0.1:{}", srv.port));
    let mut bot = Bot::new(conn, false);

    // A mark placed behind half a second of audio, and a drained report.
    bot.queue_audio(&ramp(4000));
    bot.pump();
    std::thread::sleep(Duration::from_millis(100));
    let placed = Instant::now();
    assert!(ami.setvar(&chan, "AUDIOSOCKET(mark)", "prompt-1"));
    assert!(ami.setvar(&chan, "AUDIOSOCKET(report_drained)", "1"));
    let e = ami.event("AudioSocketMark", 5 * S);
    assert_eq!(
        (e.field("Mark"), e.field("Source")),
        ("prompt-1", "dialplan")
    );
    assert_eq!(e.field("Channel"), chan);
    assert!(
        placed.elapsed() >= Duration::from_millis(300),
        "{:?}",
        placed.elapsed()
    );
    ami.event("AudioSocketQueueDrained", 5 * S);
    assert!(
        bot.received(0x21).is_empty(),
        "the dialplan's marks stay in Asterisk"
    );

    // A flush empties what is queued at once.
    bot.queue_audio(&ramp(12000));
    bot.pump();
    std::thread::sleep(Duration::from_millis(300));
    let queued: u64 = get(&mut ami, "buffered_ms").parse().unwrap();
    assert!(queued >= 800, "{queued} ms queued");
    assert!(ami.setvar(&chan, "AUDIOSOCKET(flush)", "1"));
    let left: u64 = get(&mut ami, "buffered_ms").parse().unwrap();
    assert!(left <= 40, "{left} ms left after the flush");

    // Wrong items are refused with a warning naming them.
    assert!(!ami.setvar(&chan, "AUDIOSOCKET(bogus)", "1"));
    ast.expect_log(&["WARNING", "AUDIOSOCKET(bogus): unknown item"], S);

    // After the session: the status it ended with; no controls.
    bot.hangup();
    ast.expect_log(&[&format!("RESULT {}", srv.port)], 5 * S);
    assert_eq!(get(&mut ami, "status"), "SERVER_HANGUP");
    assert!(!ami.setvar(&chan, "AUDIOSOCKET(flush)", "1"));
    ast.expect_log(&["WARNING", "no live AudioSocket session"], S);
    let shown = ast.cli("core show function AUDIOSOCKET");
    assert!(
        shown.contains("report_drained") && shown.contains("buffered_ms"),
        "{shown}"
    );
}
