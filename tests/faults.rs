//! Faults on a real Asterisk: panics inside the module, a server that stops
//! reading, servers that never answer, and stopping Asterisk mid-call.

mod common;

use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use common::asterisk::{fault_injection_module, Options};
use common::{Asterisk, TestServer, UUID};

const S: Duration = Duration::from_secs(1);

const PANIC_IN_APP: &str = "00000000-0000-0000-0000-0000000000a1";
const PANIC_IN_READ: &str = "00000000-0000-0000-0000-0000000000a2";
const PANIC_IN_IO_THREAD: &str = "00000000-0000-0000-0000-0000000000a3";
const PANIC_WHEN_QUEUE_FULL: &str = "00000000-0000-0000-0000-0000000000a4";
const PANIC_IN_REQUEST: &str = "00000000-0000-0000-0000-0000000000a5";
const PANIC_IN_TAP_HOOK: &str = "00000000-0000-0000-0000-0000000000a6";
const SESSION_START_FAILS: &str = "00000000-0000-0000-0000-0000000000a7";

fn dialplan() -> String {
    let app = |ctx: &str, args: &str| {
        format!(
            "[{ctx}]\nexten => _X.,1,Answer()\n same => n,AudioSocket({args})\n \
             same => n,Log(NOTICE,RESULT ${{EXTEN}} status=${{AUDIOSOCKET_STATUS}})\n same => n,Hangup()\n"
        )
    };
    let dial = |ctx: &str, target: &str| {
        format!(
            "[{ctx}]\nexten => _X.,1,Dial(AudioSocket/{target},,g)\n \
             same => n,Log(NOTICE,DIALED ${{EXTEN}} dialstatus=${{DIALSTATUS}})\n same => n,Hangup()\n"
        )
    };
    [
        app("app", &format!("{UUID},127.0.0.1:${{EXTEN}}")),
        app("app-t1", &format!("{UUID},127.0.0.1:${{EXTEN}},t(1)")),
        app("panic-app", &format!("{PANIC_IN_APP},127.0.0.1:${{EXTEN}}")),
        app(
            "panic-io",
            &format!("{PANIC_IN_IO_THREAD},127.0.0.1:${{EXTEN}}"),
        ),
        app(
            "panic-full",
            &format!("{PANIC_WHEN_QUEUE_FULL},127.0.0.1:${{EXTEN}}"),
        ),
        dial(
            "panic-read",
            &format!("127.0.0.1:${{EXTEN}}/{PANIC_IN_READ}"),
        ),
        dial(
            "panic-request",
            &format!("127.0.0.1:${{EXTEN}}/{PANIC_IN_REQUEST}"),
        ),
        dial("dial-t1", &format!("127.0.0.1:${{EXTEN}}/{UUID}/t(1)")),
        format!(
            "[tapped]\nexten => _X.,1,Answer()\n \
             same => n,Set(AUDIOSOCKET_TAP(${{TAP}})=127.0.0.1:${{EXTEN}})\n \
             same => n,Dial(Local/1@tone/n)\n\
             [tap-hook]\nexten => _X.,1,Set(TAP={PANIC_IN_TAP_HOOK})\n same => n,Goto(tapped,${{EXTEN}},1)\n\
             [tap-start]\nexten => _X.,1,Set(TAP={SESSION_START_FAILS})\n same => n,Goto(tapped,${{EXTEN}},1)\n"
        ),
        common::FAR_ENDS.into(),
    ]
    .join("\n")
}

#[test]
fn a_panic_in_the_module_ends_only_that_call() {
    let Some(mut ast) = Asterisk::start_with(
        "panic_guard",
        Options {
            dialplan: &dialplan(),
            module: Some(fault_injection_module()),
            ..Options::default()
        },
    ) else {
        return;
    };
    // A healthy call runs throughout.
    let healthy = TestServer::new();
    ast.originate(&format!("{}@app", healthy.port), "1@tone");
    let mut good = healthy.accept(5 * S).unwrap();
    good.read_msg(2 * S).unwrap();

    // The application panics before connecting.
    let srv = TestServer::new();
    ast.originate(&format!("{}@panic-app", srv.port), "1@silent");
    let line = ast.expect_log(
        &[
            "ERROR",
            "internal error in chan_audiosocket_rs",
            "fault injection",
        ],
        5 * S,
    );
    assert!(
        line.contains(&format!("Local/{}@panic-app", srv.port)),
        "names the channel: {line}"
    );

    // The channel driver's read callback panics once connected.
    let srv = TestServer::new();
    ast.originate(&format!("{}@panic-read", srv.port), "1@silent");
    let _conn = srv.accept(5 * S).unwrap();
    let line = ast.expect_log(
        &[
            "ERROR",
            "AudioSocket/127.0.0.1",
            "internal error",
            "fault injection",
        ],
        5 * S,
    );
    assert!(
        line.contains(&format!("AudioSocket/127.0.0.1:{}-", srv.port)),
        "{line}"
    );
    ast.expect_log(&[&format!("DIALED {}", srv.port)], 5 * S);

    // The I/O thread panics once connected.
    let srv = TestServer::new();
    ast.originate(&format!("{}@panic-io", srv.port), "1@silent");
    let line = ast.expect_log(&[&format!("RESULT {}", srv.port)], 5 * S);
    assert!(line.contains("status=INTERNAL_ERROR"), "{line}");
    ast.expect_log(
        &[
            "ERROR",
            &format!("Local/{}@panic-io", srv.port),
            "I/O thread",
        ],
        S,
    );

    // The healthy call never stopped.
    let msgs = good.read_for(S);
    assert!(
        msgs.len() >= 40,
        "healthy call still streams: {} frames",
        msgs.len()
    );
    good.hangup();
    ast.expect_log(
        &[&format!("RESULT {} status=SERVER_HANGUP", healthy.port)],
        5 * S,
    );
    assert!(ast.wait_no_channels(10 * S));
    assert!(ast.alive(), "Asterisk survived three panics");
}

fn fault_asterisk(test: &str) -> Option<Asterisk> {
    Asterisk::start_with(
        test,
        Options {
            dialplan: &dialplan(),
            module: Some(fault_injection_module()),
            ..Options::default()
        },
    )
}

/// The I/O thread panics while a burst fills the queue to the channel
/// thread: the call ends at once with INTERNAL_ERROR (not after the queued
/// audio, nor never), and the server sees its socket close.
#[test]
fn a_panic_in_the_io_thread_with_a_full_queue_ends_the_call_at_once() {
    let Some(ast) = fault_asterisk("panic_queue_full") else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@panic-full", srv.port), "1@silent");
    let mut conn = srv.accept_call();
    // Ten seconds at once: far more than the queue holds.
    let pcm = common::ramp(80_000);
    let t0 = Instant::now();
    let writer = std::thread::spawn(move || {
        let _ = conn.stream.write_all(&{
            let mut wire = Vec::new();
            for c in pcm.chunks(320) {
                wire.push(0x10);
                wire.extend_from_slice(&(c.len() as u16).to_be_bytes());
                wire.extend_from_slice(c);
            }
            wire
        });
        conn
    });
    let line = ast.expect_log(&[&format!("RESULT {}", srv.port)], 5 * S);
    assert!(line.contains("status=INTERNAL_ERROR"), "{line}");
    assert!(t0.elapsed() < S, "ended after {:?}", t0.elapsed());
    let mut conn = writer.join().unwrap();
    assert!(conn.wait_closed(2 * S), "the socket closed");
    ast.expect_log(&["ERROR", "I/O thread", "fault injection"], S);
    assert!(ast.wait_no_channels(5 * S));
}

/// The driver panics while it creates its channel: the dial fails, and
/// neither the channel nor its hold on the module is left behind.
#[test]
fn a_panic_creating_a_driver_channel_leaks_nothing() {
    let Some(ast) = fault_asterisk("panic_request") else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@panic-request", srv.port), "1@silent");
    let line = ast.expect_log(&[&format!("DIALED {}", srv.port)], 5 * S);
    assert!(line.contains("dialstatus=CHANUNAVAIL"), "{line}");
    ast.expect_log(
        &["ERROR", "internal error", "the channel is not created"],
        S,
    );
    assert!(srv.accept(Duration::from_millis(300)).is_none());
    assert!(ast.wait_no_channels(5 * S));
    let out = ast.cli("module unload chan_audiosocket_rs.so");
    assert!(out.contains("Unloaded"), "no use count is left: {out}");
}

#[test]
fn a_server_that_stops_reading_for_a_minute_blocks_nothing() {
    let Some(ast) = Asterisk::start("stalled_server", &dialplan()) else {
        return;
    };
    // Left to autotune, the stalled server's kernel would take in megabytes
    // (a loopback receive buffer grows without the application reading).
    let stalled = TestServer::with_small_receive_buffer();
    ast.originate(&format!("{}@app", stalled.port), "1@tone");
    let mut stuck = stalled.accept(5 * S).unwrap();
    stuck.read_msg(2 * S).unwrap();
    // From here on the stalled server reads nothing.

    let other = TestServer::new();
    ast.originate(&format!("{}@app", other.port), "1@echo");
    let mut echo = other.accept(5 * S).unwrap();
    echo.read_msg(2 * S).unwrap();

    let t0 = Instant::now();
    let mut worst_cli = Duration::ZERO;
    let mut sent = 0usize;
    let mut back = 0usize;
    while t0.elapsed() < 60 * S {
        // The other call keeps working: a second of audio out, echoed back.
        let pcm = common::ramp(8000);
        echo.send_audio(0x10, &pcm, 320);
        sent += pcm.len();
        back += common::server::audio_of(&echo.read_for(S), 0x10).len();
        let c0 = Instant::now();
        ast.cli("core show channels");
        worst_cli = worst_cli.max(c0.elapsed());
    }
    assert!(
        back + 2 * 320 >= sent * 9 / 10,
        "the other call's echo kept flowing: {back} of {sent} bytes"
    );
    assert!(
        worst_cli < 2 * S,
        "the CLI stayed responsive (worst {worst_cli:?})"
    );
    let drops: Vec<String> = ast
        .log()
        .lines()
        .filter(|l| l.contains("not reading; dropping channel audio"))
        .map(String::from)
        .collect();
    assert_eq!(
        drops.len(),
        1,
        "one warning for the stalled call: {drops:?}"
    );
    assert!(
        drops[0].contains(&format!("Local/{}@app", stalled.port)),
        "{}",
        drops[0]
    );
    // The stalled call is still up, and ends normally when its server does.
    assert!(ast
        .wait_log(&[&format!("RESULT {}", stalled.port)], Duration::ZERO)
        .is_none());
    stuck.hangup();
    ast.expect_log(
        &[&format!("RESULT {} status=SERVER_HANGUP", stalled.port)],
        10 * S,
    );
    echo.hangup();
    assert!(ast.wait_no_channels(10 * S));
}

#[test]
fn a_server_that_never_answers_fails_within_the_connect_timeout() {
    let Some(ast) = Asterisk::start("never_answers", &dialplan()) else {
        return;
    };
    let hole = common::BlackHole::new();
    let port = hole.port;
    let t0 = Instant::now();
    ast.originate(&format!("{port}@app-t1"), "1@silent");
    let line = ast.expect_log(&[&format!("RESULT {port}")], 5 * S);
    assert!(line.contains("status=CONNECT_FAILED"), "{line}");
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_millis(2500),
        "{took:?}"
    );
    ast.expect_log(
        &[
            "ERROR",
            &format!("127.0.0.1:{port}"),
            "timed out after 1000 ms",
        ],
        S,
    );

    let t0 = Instant::now();
    ast.originate(&format!("{port}@dial-t1"), "1@silent");
    let line = ast.expect_log(&[&format!("DIALED {port}")], 5 * S);
    assert!(line.contains("dialstatus=CHANUNAVAIL"), "{line}");
    assert!(
        t0.elapsed() < Duration::from_millis(2500),
        "{:?}",
        t0.elapsed()
    );
    assert!(ast.wait_no_channels(5 * S));
}

#[test]
fn core_stop_now_with_live_calls_does_not_crash() {
    let Some(mut ast) = Asterisk::start("core_stop_now", &dialplan()) else {
        return;
    };
    let servers: Vec<TestServer> = (0..20).map(|_| TestServer::new()).collect();
    for s in &servers {
        ast.originate(&format!("{}@app", s.port), "1@tone");
    }
    let mut conns: Vec<_> = servers
        .iter()
        .map(|s| s.accept(5 * S).expect("connects"))
        .collect();
    for c in &mut conns {
        c.read_msg(2 * S).unwrap();
    }
    let status = ast.stop_with("core stop now");
    assert_eq!(
        status.signal(),
        None,
        "Asterisk was killed by a signal: {status:?}\n{}",
        ast.stderr()
    );
    assert!(!ast.stderr().contains("panicked"), "{}", ast.stderr());
    for c in &mut conns {
        assert!(c.wait_closed(5 * S), "every socket closed");
    }
}

/// A tap's audiohook panics: the tap ends as an internal error (not as a
/// hangup), and the call it taps goes on as it was.
#[test]
fn a_panic_in_a_taps_audiohook_ends_the_tap_not_the_call() {
    let Some((ast, mut ami)) = common::ami::start_with(
        "panic_tap_hook",
        Options {
            dialplan: &dialplan(),
            module: Some(fault_injection_module()),
            ..Options::default()
        },
        "",
    ) else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@tap-hook", srv.port), "1@echo");
    let _tap = srv.accept(5 * S).expect("the tap connects");
    let ended = ami.event("AudioSocketTapEnd", 5 * S);
    assert_eq!(ended.field("Status"), "INTERNAL_ERROR", "{ended:?}");
    ast.expect_log(&["ERROR", "internal error", "fault injection"], S);
    std::thread::sleep(S);
    let chan = ast.channel_in("Dial").expect("the tapped call goes on");
    assert_eq!(
        ami.getvar(&chan, &format!("AUDIOSOCKET_TAP({PANIC_IN_TAP_HOOK})"))
            .as_deref(),
        Some("INTERNAL_ERROR")
    );
    ast.cli("channel request hangup all");
    assert!(ast.wait_no_channels(10 * S));
}

/// A tap whose session cannot start: AudioSocketTapStart went out, and
/// its AudioSocketTapEnd follows.
#[test]
fn a_tap_that_cannot_start_still_reports_its_end() {
    let Some((ast, mut ami)) = common::ami::start_with(
        "tap_start_fails",
        Options {
            dialplan: &dialplan(),
            module: Some(fault_injection_module()),
            ..Options::default()
        },
        "",
    ) else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@tap-start", srv.port), "1@echo");
    let started = ami.event("AudioSocketTapStart", 5 * S);
    assert_eq!(started.field("UUID"), SESSION_START_FAILS);
    let ended = ami.event("AudioSocketTapEnd", 5 * S);
    assert_eq!(ended.field("UUID"), SESSION_START_FAILS);
    assert_eq!(ended.field("Status"), "INTERNAL_ERROR");
    ast.expect_log(&["WARNING", "cannot start the tap's session"], S);
    ast.cli("channel request hangup all");
    assert!(ast.wait_no_channels(10 * S));
}
