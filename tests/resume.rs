//! Resuming on a real Asterisk (option `r`, README "When a server goes
//! away"). The caller is a Local channel whose other half runs
//! `AudioSocket()` to a far end that keeps what it hears, so a test knows
//! which server the caller heard, and when. Bots are the example server
//! (a process of its own, killed as a crashed bot dies) or scripted ones;
//! a fleet is `fleet.test`, which Asterisk resolves (through nss_wrapper)
//! to 127.0.0.2 and 127.0.0.3.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::asterisk::{nss_wrapper, skip, Options};
use common::example::{tone_wav, Example};
use common::far_end::FarEnd;
use common::server::Conn;
use common::tones::{self, has};
use common::ws_server::WsServer;
use common::{Asterisk, TestServer, UUID};
use tungstenite::protocol::frame::coding::CloseCode;

const S: Duration = Duration::from_secs(1);
/// What the caller says, and what each server plays.
const CALLER: f64 = 500.0;
const FIRST: f64 = 700.0;
const SECOND: f64 = 1700.0;
const FLEET: [&str; 2] = ["127.0.0.2", "127.0.0.3"];
const TAP: &str = "11111111-2222-4333-8444-555555555501";

fn dialplan() -> String {
    // After a hangup the dialplan goes on at h: the same line, as HANGUP.
    let result = "same => n,Log(NOTICE,RESULT ${EXTEN} status=${AUDIOSOCKET_STATUS} \
                  resumes=${AUDIOSOCKET_RESUMES})\n\
                  exten => h,1,Log(NOTICE,HANGUP status=${AUDIOSOCKET_STATUS} \
                  resumes=${AUDIOSOCKET_RESUMES})";
    format!(
        "[fleet]\nexten => _X.,1,Answer()\n \
         same => n,AudioSocket({UUID},fleet.test:${{EXTEN}},mr)\n {result}\n\
         [local]\nexten => _X.,1,Answer()\n \
         same => n,AudioSocket({UUID},127.0.0.1:${{EXTEN}},mr)\n {result}\n\
         [local-quick]\nexten => _X.,1,Answer()\n \
         same => n,AudioSocket({UUID},127.0.0.1:${{EXTEN}},r(1.5))\n {result}\n\
         [local-ws]\nexten => _X.,1,Answer()\n \
         same => n,AudioSocket({UUID},ws://127.0.0.1:${{EXTEN}}/bot,r)\n {result}\n\
         [fleet-echo]\nexten => _X.,1,Answer()\n \
         same => n,AudioSocket(${{UUID()}},fleet.test:${{EXTEN}},r)\n {result}\n\
         [tapped]\nexten => _X.,1,Answer()\n \
         same => n,Set(AUDIOSOCKET_TAP({TAP})=fleet.test:${{EXTEN}},m)\n \
         same => n,Dial(Local/1@hears/n)\n\
         [hears]\nexten => _X!,1,Answer()\n same => n,Playtones({SECOND})\n same => n,Wait(120)\n\
         [far]\nexten => _X.,1,Answer()\n \
         same => n,AudioSocket(99999999-2222-4333-8444-555555555599,127.0.0.1:${{EXTEN}})\n\
         {}",
        common::FAR_ENDS
    )
}

fn start(test: &str, fleet: bool) -> Option<Asterisk> {
    common::asterisk::installed(test)?;
    if fleet && nss_wrapper().is_none() {
        skip(
            test,
            "needs Debian's libnss-wrapper to give Asterisk a hosts file",
        );
        return None;
    }
    let hosts: Vec<(&str, &str)> = FLEET.iter().map(|a| (*a, "fleet.test")).collect();
    Asterisk::start_with(
        test,
        Options {
            dialplan: &dialplan(),
            hosts: if fleet { &hosts } else { &[] },
            needs: &["app_playtones.so", "func_uuid.so"],
            ..Options::default()
        },
    )
}

/// A port free on every address of the fleet.
fn fleet_port() -> u16 {
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if FLEET.iter().all(|h| TcpListener::bind((*h, port)).is_ok()) {
            return port;
        }
    }
}

/// A scripted server on each address of the fleet, on one port.
fn scripted_fleet() -> (Vec<TestServer>, u16) {
    let port = fleet_port();
    let servers = FLEET
        .iter()
        .map(|h| TestServer::bind(&format!("{h}:{port}")))
        .collect();
    (servers, port)
}

/// Hangs the call up, and checks that its stream had resumed once.
fn hang_up_resumed_once(ast: &Asterisk) {
    ast.cli("channel request hangup all");
    ast.expect_log(&["HANGUP", "status=CHANNEL_HANGUP resumes=1"], 5 * S);
}

/// When the caller first heard `freq` at or after `from` (a frame that
/// is mostly that tone).
fn first_heard(far: &FarEnd, freq: f64, from: Instant) -> Option<Instant> {
    let heard = far.heard.lock().unwrap();
    heard
        .iter()
        .filter(|(at, _)| *at >= from)
        .find(|(_, f)| tones::share(&tones::samples(f), 8000, freq) > 0.5)
        .map(|(at, _)| *at)
}

/// When the caller last heard `freq` before `until`.
fn last_heard(far: &FarEnd, freq: f64, until: Instant) -> Option<Instant> {
    let heard = far.heard.lock().unwrap();
    heard
        .iter()
        .rev()
        .filter(|(at, _)| *at < until)
        .find(|(_, f)| tones::share(&tones::samples(f), 8000, freq) > 0.5)
        .map(|(at, _)| *at)
}

/// Waits until the caller hears `freq` (after `from`); when it first did.
fn wait_to_hear(far: &FarEnd, freq: f64, from: Instant, timeout: Duration) -> Option<Instant> {
    let t0 = Instant::now();
    loop {
        if let Some(at) = first_heard(far, freq, from) {
            return Some(at);
        }
        if t0.elapsed() > timeout {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The address (`host:port`) `audiosocket show session` names for the call.
fn address(ast: &Asterisk) -> String {
    let shown = ast.cli(&format!("audiosocket show session {UUID}"));
    shown
        .lines()
        .find_map(|l| l.strip_prefix("Address:"))
        .map(|a| a.trim().to_string())
        .unwrap_or_else(|| panic!("no session: {shown}"))
}

/// A bot killed mid-call, with another member of the fleet up: the caller
/// goes on hearing the other server, which gets the same UUID and a
/// context that says it resumes; the gap is within the limit.
#[test]
fn a_killed_bot_is_replaced_by_another_of_the_fleet() {
    let Some(ast) = start("resume_killed_bot", true) else {
        return;
    };
    let port = fleet_port();
    let dir = ast.scratch();
    let mut bots: Vec<Example> = FLEET
        .iter()
        .zip([FIRST, SECOND])
        .map(|(host, freq)| {
            let wav = dir.join(format!("{freq}.wav"));
            tone_wav(&wav, freq, 8000, 60);
            Example::start("play", &format!("{host}:{port}"), &[wav.to_str().unwrap()])
        })
        .collect();
    let far = FarEnd::talking(CALLER);
    ast.originate(&format!("{port}@fleet"), &format!("{}@far", far.port));
    let t0 = Instant::now();
    // The first call to a name goes to its first address.
    wait_to_hear(&far, FIRST, t0, 10 * S).expect("the caller hears the first bot");
    assert_eq!(address(&ast), format!("{}:{port}", FLEET[0]));
    std::thread::sleep(S);
    let killed = Instant::now();
    bots[0].kill();
    let back = wait_to_hear(&far, SECOND, killed, 10 * S).expect("the caller hears the second bot");
    let last = last_heard(&far, FIRST, back).expect("the first bot was heard");
    let gap = back.saturating_duration_since(last);
    eprintln!("resume_killed_bot: the caller heard nothing of a bot for {gap:?}");
    assert!(gap < 5 * S, "{gap:?}");
    let line = ast.expect_log(&["AudioSocket stream resumed on", FLEET[1]], 5 * S);
    assert!(line.contains("(attempt 1)"), "{line}");
    ast.expect_log(&["lost AudioSocket server fleet.test"], S);
    // The second bot got the same UUID, then a context that says so.
    let said = bots[1].said().join("\n");
    assert!(said.contains(&format!("call {UUID}")), "{said}");
    assert!(said.contains("\"resumed\":1"), "{said}");
    assert!(said.contains("\"gap_ms\":"), "{said}");
    let shown = ast.cli(&format!("audiosocket show session {UUID}"));
    assert!(shown.contains("Resumes:          1"), "{shown}");
    assert!(shown.contains("State:            connected"), "{shown}");
    hang_up_resumed_once(&ast);
}

/// The same server, restarted a second later on the same address: the
/// call resumes on it; the caller waits in silence meanwhile.
#[test]
fn the_same_server_back_a_second_later_resumes_the_call() {
    let Some(ast) = start("resume_restarted", false) else {
        return;
    };
    let port = fleet_port();
    let dir = ast.scratch();
    let (first, second) = (dir.join("first.wav"), dir.join("second.wav"));
    tone_wav(&first, FIRST, 8000, 60);
    tone_wav(&second, SECOND, 8000, 60);
    let addr = format!("127.0.0.1:{port}");
    let mut bot = Example::start("play", &addr, &[first.to_str().unwrap()]);
    let far = FarEnd::talking(CALLER);
    ast.originate(&format!("{port}@local"), &format!("{}@far", far.port));
    wait_to_hear(&far, FIRST, Instant::now(), 10 * S).expect("the caller hears the bot");
    std::thread::sleep(S / 2);
    let killed = Instant::now();
    bot.kill();
    std::thread::sleep(S);
    let status = ast.cli(&format!("audiosocket show session {UUID}"));
    assert!(status.contains("State:            resuming"), "{status}");
    let _bot = Example::start("play", &addr, &[second.to_str().unwrap()]);
    let back = wait_to_hear(&far, SECOND, killed, 10 * S).expect("the caller hears it again");
    let gap = back - killed;
    eprintln!("resume_restarted: back {gap:?} after the kill");
    assert!(gap >= S && gap < 5 * S, "{gap:?}");
    // Meanwhile the caller heard silence, as frames: never a hole.
    let (pcm, longest) = far.heard_since(killed + S / 5);
    assert!(!pcm.is_empty());
    assert!(
        longest < S / 4,
        "the caller's line went dead for {longest:?}"
    );
    ast.expect_log(&["resume attempt", "failed"], S);
    hang_up_resumed_once(&ast);
}

/// Ends the server meant never resume; a server that keeps dying ends the
/// call as SERVER_LOST within its time, with one line per attempt.
#[test]
fn ends_the_server_meant_never_resume_and_a_dying_server_is_lost() {
    let Some(ast) = start("resume_ends", false) else {
        return;
    };
    for (wire, status) in [
        (&[0u8, 0, 0][..], "SERVER_HANGUP"),
        (&[0xff, 0, 1, 2][..], "SERVER_ERROR"),
    ] {
        let srv = TestServer::new();
        let far = FarEnd::talking(CALLER);
        ast.originate(&format!("{}@local", srv.port), &format!("{}@far", far.port));
        let mut conn = srv.accept_call();
        conn.send_raw(wire);
        ast.expect_log(
            &[
                &format!("RESULT {}", srv.port),
                &format!("status={status} resumes=0"),
            ],
            5 * S,
        );
        assert!(srv.accept(S).is_none(), "reconnected after {status}");
    }
    // A WebSocket closed with 1000.
    let ws = WsServer::new();
    let far = FarEnd::talking(CALLER);
    ast.originate(
        &format!("{}@local-ws", ws.port),
        &format!("{}@far", far.port),
    );
    let mut conn = ws.accept(5 * S).expect("the call connects");
    conn.read_msgs(2 * S).expect("the UUID");
    conn.close(CloseCode::Normal);
    ast.expect_log(
        &[
            &format!("RESULT {}", ws.port),
            "status=SERVER_HANGUP resumes=0",
        ],
        5 * S,
    );
    assert!(ws.accept(S).is_none(), "reconnected after a normal close");

    // Accepts, then dies at once, again and again.
    let srv = TestServer::new();
    let far = FarEnd::talking(CALLER);
    ast.originate(
        &format!("{}@local-quick", srv.port),
        &format!("{}@far", far.port),
    );
    let conn = srv.accept_call();
    std::thread::sleep(S / 2);
    let t0 = Instant::now();
    conn.reset();
    let mut connections = 0;
    while let Some(c) = srv.accept(2 * S) {
        connections += 1;
        c.reset();
    }
    let line = ast.expect_log(
        &[&format!("RESULT {}", srv.port), "status=SERVER_LOST"],
        5 * S,
    );
    assert!(line.contains("resumes="), "{line}");
    let took = t0.elapsed();
    assert!(
        (1..=8).contains(&connections),
        "{connections} connections: backed off, not hammered"
    );
    assert!(took < 5 * S, "{took:?}");
    let end = ast.expect_log(&["the server was lost", "attempt"], S);
    assert!(end.contains("to resume failed"), "{end}");
}

/// A server that asks to be left (0x26) while it still plays: the call
/// moves to the other member of the fleet with a gap of a few frames.
#[test]
fn a_server_that_asks_to_be_left_moves_the_call_at_once() {
    let Some(ast) = start("resume_moved", true) else {
        return;
    };
    let (servers, port) = scripted_fleet();
    let far = FarEnd::talking(CALLER);
    ast.originate(&format!("{port}@fleet"), &format!("{}@far", far.port));
    let play = |mut conn: Conn, freq: f64, seconds: u32, then_move: bool| {
        std::thread::spawn(move || {
            let (mut phase, t0) = (0.0, Instant::now());
            // A frame, while the connection takes it.
            let mut frame = |conn: &mut Conn| {
                let mut m = vec![0x10, 0x01, 0x40];
                m.extend(tones::tone(freq, 8000, 160, 8000.0, &mut phase));
                conn.stream.write_all(&m).is_ok()
            };
            for i in 0..seconds * 50 {
                if !frame(&mut conn) {
                    return conn;
                }
                std::thread::sleep(
                    (t0 + S / 50 * (i + 1)).saturating_duration_since(Instant::now()),
                );
            }
            if then_move {
                let _ = conn.stream.write_all(&[0x26, 0, 0]);
                // It still answers: it plays on until the module leaves.
                for _ in 0..100 {
                    if !frame(&mut conn) {
                        break;
                    }
                    std::thread::sleep(S / 50);
                }
            }
            conn
        })
    };
    let first = servers[0].accept_call();
    let playing = play(first, FIRST, 3, true);
    let second = servers[1].accept_call();
    let moved = Instant::now();
    let _second = play(second, SECOND, 5, false);
    let back = wait_to_hear(&far, SECOND, moved, 5 * S).expect("the caller hears the new server");
    let last = last_heard(&far, FIRST, back).expect("the first server was heard");
    let gap = back.saturating_duration_since(last);
    eprintln!("resume_moved: the caller heard no server for {gap:?}");
    assert!(gap < S / 5, "{gap:?}");
    let line = ast.expect_log(&["asked to be left (0x26)", "moving the stream"], S);
    assert!(line.contains("NOTICE"), "{line}");
    let mut old = playing.join().unwrap();
    assert!(old.wait_closed(2 * S), "the old connection is closed");
    hang_up_resumed_once(&ast);
}

/// A tapped call whose transcription server dies: the tap resumes on the
/// fleet's other member, with a context that says so, while the tapped
/// call's party hears every frame throughout.
#[test]
fn a_tap_whose_server_dies_resumes_and_the_call_is_untouched() {
    let Some(ast) = start("resume_tap", true) else {
        return;
    };
    let (servers, port) = scripted_fleet();
    let far = FarEnd::talking(CALLER);
    ast.originate(&format!("{port}@tapped"), &format!("{}@far", far.port));
    let mut first = servers[0].accept_call();
    let ctx = first.read_msg(2 * S).expect("the context");
    assert_eq!(ctx.kind, 0x23);
    first.read_for(S);
    let t0 = Instant::now();
    first.reset();
    let mut second = servers[1].accept_call();
    let ctx = second.read_msg(2 * S).expect("the context");
    let json: serde_json::Value = serde_json::from_slice(&ctx.payload).unwrap();
    assert_eq!(json["resumed"], 1, "{json}");
    assert_eq!(json["direction"], "both", "{json}");
    let streamed = second.read_for(S);
    assert!(streamed.len() >= 45, "{} frames a second", streamed.len());
    std::thread::sleep(S / 2);
    let (pcm, longest) = far.heard_since(t0 - S / 2);
    assert!(has(&pcm, 8000, SECOND), "the party still hears its call");
    assert!(
        longest < S / 10,
        "the tapped call had a hole of {longest:?}"
    );
    let status = ast.cli(&format!("audiosocket show session {TAP}"));
    assert!(status.contains("Resumes:          1"), "{status}");
    ast.cli("channel request hangup all");
    assert!(ast.wait_no_channels(10 * S));
}

/// 100 calls lose their server at once (its process is killed): every
/// one resumes on the other member of the fleet within the limit.
/// Prints the gaps and the CPU Asterisk used in the storm.
#[test]
fn a_hundred_calls_whose_server_dies_at_once_all_resume() {
    let Some(ast) = start("resume_storm", true) else {
        return;
    };
    // Every call on one server (the other address refuses, so the fleet
    // puts them all on the first); the other comes up before it dies.
    let port = fleet_port();
    let mut dying = Example::start("echo", &format!("{}:{port}", FLEET[0]), &[]);
    const CALLS: usize = 100;
    for _ in 0..CALLS {
        ast.originate(&format!("{port}@fleet-echo"), "1@tone");
    }
    let t0 = Instant::now();
    let on = |host: &str| {
        ast.cli("audiosocket show sessions")
            .lines()
            .filter(|l| l.contains(&format!("{host}:{port}")))
            .count()
    };
    while on(FLEET[0]) < CALLS {
        assert!(
            t0.elapsed() < 30 * S,
            "{}",
            ast.cli("audiosocket show sessions")
        );
        std::thread::sleep(S / 5);
    }
    let moving = CALLS;
    let _standby = Example::start("echo", &format!("{}:{port}", FLEET[1]), &[]);
    std::thread::sleep(S);
    let cpu = || {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", ast.pid())).unwrap();
        let f: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap()
            .split_whitespace()
            .collect();
        (f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()) * 10
    };
    let (quiet0, q0) = (cpu(), Instant::now());
    std::thread::sleep(2 * S);
    let quiet_ms = (cpu() - quiet0) as f64 / q0.elapsed().as_secs_f64();
    let (storm0, s0) = (cpu(), Instant::now());
    dying.kill();
    let mut gaps: Vec<u64> = Vec::new();
    while gaps.len() < moving && s0.elapsed() < 10 * S {
        std::thread::sleep(S / 5);
        gaps = ast
            .log()
            .lines()
            .filter(|l| l.contains("AudioSocket stream resumed on"))
            .filter_map(|l| l.split(" after ").nth(1)?.split(" ms").next()?.parse().ok())
            .collect();
    }
    let storm_ms = (cpu() - storm0) as f64 / s0.elapsed().as_secs_f64();
    gaps.sort_unstable();
    assert_eq!(gaps.len(), moving, "every call resumed");
    assert_eq!(on(FLEET[1]), CALLS, "all on the second server now");
    assert!(!ast.log().contains("SERVER_LOST"));
    let worst = *gaps.last().unwrap();
    eprintln!(
        "resume_storm: {moving} calls resumed; gap median {} ms, worst {worst} ms; Asterisk CPU \
         {storm_ms:.0} ms/s in the storm against {quiet_ms:.0} ms/s before",
        gaps[gaps.len() / 2]
    );
    assert!(worst < 5000, "{gaps:?}");
    ast.cli("channel request hangup all");
    assert!(ast.wait_no_channels(20 * S));
}

/// With `resume_hold = moh:class`, the caller hears that music while the
/// stream resumes: played on the application's channel, and for the
/// channel driver by the other side of its bridge (a HOLD, then UNHOLD).
#[test]
fn the_caller_hears_music_on_hold_while_the_stream_resumes() {
    const MUSIC: f64 = 2600.0;
    let Some(installed) = common::asterisk::installed("resume_moh") else {
        return;
    };
    let _ = installed;
    let music = std::env::temp_dir().join(format!("resume-moh-{}", std::process::id()));
    std::fs::create_dir_all(&music).unwrap();
    tone_wav(&music.join("hold.wav"), MUSIC, 8000, 30);
    let moh = format!(
        "[resumetest]\nmode = files\ndirectory = {}\n",
        music.display()
    );
    let plan = format!(
        "[app-moh]\nexten => _X.,1,Answer()\n \
         same => n,AudioSocket({UUID},127.0.0.1:${{EXTEN}},r)\n\
         [driver-moh]\nexten => _X.,1,Dial(AudioSocket/127.0.0.1:${{EXTEN}}/{UUID}/r)\n\
         [far]\nexten => _X.,1,Answer()\n \
         same => n,AudioSocket(99999999-2222-4333-8444-555555555599,127.0.0.1:${{EXTEN}})\n"
    );
    let Some(ast) = Asterisk::start_with(
        "resume_moh",
        Options {
            dialplan: &plan,
            needs: &["res_musiconhold.so"],
            files: &[
                ("musiconhold.conf", &moh),
                (
                    "audiosocket.conf",
                    "[general]\nresume_hold = moh:resumetest\n",
                ),
            ],
            ..Options::default()
        },
    ) else {
        return;
    };
    for ctx in ["app-moh", "driver-moh"] {
        let srv = TestServer::new();
        let far = FarEnd::talking(CALLER);
        ast.originate(&format!("{}@{ctx}", srv.port), &format!("{}@far", far.port));
        let mut first = srv.accept_call();
        let (mut phase, t0) = (0.0, Instant::now());
        for i in 0..50u32 {
            first.send(0x10, &tones::tone(FIRST, 8000, 160, 8000.0, &mut phase));
            std::thread::sleep((t0 + S / 50 * (i + 1)).saturating_duration_since(Instant::now()));
        }
        wait_to_hear(&far, FIRST, t0, 2 * S).expect("the caller hears the bot");
        // The server goes, and nothing listens on its port for a while.
        let port = srv.port;
        drop(srv);
        let lost = Instant::now();
        first.reset();
        let on_hold = wait_to_hear(&far, MUSIC, lost, 3 * S);
        // Back: the music stops and the new server is heard.
        let srv = TestServer::bind(&format!("127.0.0.1:{port}"));
        let mut second = srv.accept(5 * S).expect("the call resumes");
        second.read_msg(2 * S).expect("the UUID");
        let back = Instant::now();
        let mut phase = 0.0;
        for _ in 0..50 {
            second.send(0x10, &tones::tone(SECOND, 8000, 160, 8000.0, &mut phase));
            std::thread::sleep(S / 50);
        }
        let heard_again = wait_to_hear(&far, SECOND, back, 2 * S);
        let (after, _) = far.heard_since(back + S / 2);
        ast.cli("channel request hangup all");
        assert!(ast.wait_no_channels(10 * S));
        assert!(on_hold.is_some(), "{ctx}: no music on hold in the gap");
        assert!(heard_again.is_some(), "{ctx}: the new server is not heard");
        assert!(
            tones::share(&after, 8000, MUSIC) < 0.05,
            "{ctx}: the music goes on after the resume"
        );
    }
    let _ = std::fs::remove_dir_all(&music);
}
