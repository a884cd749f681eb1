//! The live tap, `AUDIOSOCKET_TAP()`, on a real Asterisk: a bridged call of
//! two Local halves, one party saying a 500 Hz tone and the other 1400 Hz,
//! so that each direction is recognisable in what a tap's server gets.
//!
//! `originate Local/X@tapped-.../n extension Y@...`: the `;2` half runs
//! the tapped context, so it is the tapped channel; what its `;1` partner
//! plays is what its party says (read from it); the party it dials plays
//! what it hears (written to it).

mod common;

use std::time::{Duration, Instant};

use common::ami;
use common::asterisk::Options;
use common::far_end::FarEnd;
use common::server::{Conn, Msg};
use common::tones::{self, has, lacks, split_stereo};
use common::{Asterisk, BlackHole, TestServer};

const S: Duration = Duration::from_secs(1);
const SAYS: f64 = 500.0;
const HEARS: f64 = 1400.0;
const WHISPER: f64 = 2600.0;

const U1: &str = "11111111-2222-4333-8444-555555555501";
const U2: &str = "11111111-2222-4333-8444-555555555502";

fn tapped(ctx: &str, opts: &str) -> String {
    format!(
        "[{ctx}]\nexten => _X.,1,Answer()\n \
         same => n,Set(AUDIOSOCKET_TAP({U1})=127.0.0.1:${{EXTEN:0:5}}{opts})\n \
         same => n,Log(NOTICE,TAPPING ${{EXTEN}} status=${{AUDIOSOCKET_TAP({U1})}})\n \
         same => n,Dial(Local/1@hears/n)\n \
         same => n,Log(NOTICE,AFTER ${{EXTEN}} status=${{AUDIOSOCKET_TAP({U1})}})\n"
    )
}

fn dialplan() -> String {
    [
        tapped("tapped-both", ""),
        tapped("tapped-in", ",d(in)"),
        tapped("tapped-out", ",d(out)"),
        tapped("tapped-stereo", ",d(stereo)"),
        tapped("tapped-16", ",c(slin16)d(both)"),
        tapped("tapped-w", ",w"),
        // Without resuming: a server that fails ends its tap.
        tapped("tapped-t1", ",t(1)r(0)"),
        tapped("tapped-w16", ",c(slin16)w"),
        tapped("tapped-v", ",mv(TAP_NOTE)"),
        tapped("tapped-m", ",m"),
        format!(
            "[tap-restart]\nexten => _X.,1,Answer()\n \
             same => n,Set(AUDIOSOCKET_TAP({U1})=127.0.0.1:${{EXTEN}},d(in))\n \
             same => n,Wait(1)\n \
             same => n,Set(AUDIOSOCKET_TAP({U1})=)\n \
             same => n,Set(STOPPED=${{AUDIOSOCKET_TAP({U1})}})\n \
             same => n,Set(AUDIOSOCKET_TAP({U1})=127.0.0.1:${{EXTEN}},d(in))\n \
             same => n,Log(NOTICE,RESTART ${{EXTEN}} stopped=${{STOPPED}} now=${{AUDIOSOCKET_TAP({U1})}})\n \
             same => n,Dial(Local/1@hears/n)\n"
        ),
        format!(
            "[tap-on-hangup]\nexten => _X.,1,Answer()\n \
             same => n,Dial(Local/1@hears/n,,b(arm-late^s^1(${{EXTEN}})))\n\
             [arm-late]\nexten => s,1,Set(CHANNEL(hangup_handler_push)=tap-late,s,1(${{ARG1}}))\n \
             same => n,Return()\n\
             [tap-late]\nexten => s,1,Set(AUDIOSOCKET_TAP({U1})=127.0.0.1:${{ARG1}})\n \
             same => n,Log(NOTICE,LATE ${{ARG1}} status=${{AUDIOSOCKET_TAP({U1})}})\n \
             same => n,Return()\n"
        ),
        format!(
            "[untapped]\nexten => _X!,1,Answer()\n same => n,Dial(Local/1@hears/n)\n\
             [both-ends]\nexten => _X.,1,Answer()\n \
             same => n,Set(AUDIOSOCKET_TAP({U1})=127.0.0.1:${{EXTEN:0:5}},d(in))\n \
             same => n,Dial(Local/${{EXTEN:6:5}}@hears-tapped/n)\n\
             [hears-tapped]\nexten => _X.,1,Answer()\n \
             same => n,Set(AUDIOSOCKET_TAP({U2})=127.0.0.1:${{EXTEN}},d(out))\n \
             same => n,Playtones({HEARS})\n same => n,Wait(120)\n"
        ),
        format!(
            "[says]\nexten => _X!,1,Answer()\n same => n,Playtones({SAYS})\n same => n,Wait(120)\n\
             [hears]\nexten => _X!,1,Answer()\n same => n,Playtones({HEARS})\n same => n,Wait(120)\n\
             [far]\nexten => _X.,1,Answer()\n \
             same => n,AudioSocket(99999999-2222-4333-8444-555555555599,127.0.0.1:${{EXTEN}})\n"
        ),
    ]
    .join("\n")
}

fn start(test: &str) -> Option<Asterisk> {
    Asterisk::start_with(
        test,
        Options {
            dialplan: &dialplan(),
            needs: &["app_playtones.so"],
            ..Options::default()
        },
    )
}

fn uuid_bytes(u: &str) -> Vec<u8> {
    let hex: String = u.chars().filter(|c| *c != '-').collect();
    (0..16)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// The tap's connection, once it has sent the tap's UUID first.
fn tap_of(srv: &TestServer, uuid: &str) -> Conn {
    let mut conn = srv.accept(5 * S).expect("the tap connects");
    let first = conn.read_msg(2 * S).expect("a first message");
    assert_eq!((first.kind, first.payload), (0x01, uuid_bytes(uuid)));
    conn
}

/// What a tap streamed over `d`, after half a second for the call to
/// settle: its kinds, payload sizes and samples.
fn listen(conn: &mut Conn, d: Duration) -> (Vec<u8>, Vec<usize>, Vec<i16>) {
    conn.read_for(S / 2);
    let msgs: Vec<Msg> = conn.read_for(d).into_iter().map(|(_, m)| m).collect();
    let kinds = msgs.iter().map(|m| m.kind).collect();
    let sizes = msgs.iter().map(|m| m.payload.len()).collect();
    let pcm = msgs
        .iter()
        .flat_map(|m| tones::samples(&m.payload))
        .collect();
    (kinds, sizes, pcm)
}

/// Reads until the hangup message and the close; whether both came
/// within `d`.
fn hangup_then_close(conn: &mut Conn, d: Duration) -> bool {
    let deadline = Instant::now() + d;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match conn.read_msg(left) {
            Some(m) if m.kind == 0x00 => return conn.wait_closed(deadline - Instant::now()),
            Some(_) => {}
            None => return false,
        }
    }
    false
}

#[test]
fn each_direction_carries_its_own_side_and_a_hangup_ends_the_tap() {
    let Some(ast) = start("tap_directions") else {
        return;
    };
    let cases = [
        ("both", 0x10, 320, 8000),
        ("in", 0x10, 320, 8000),
        ("out", 0x10, 320, 8000),
        ("stereo", 0x25, 640, 8000),
        ("16", 0x12, 640, 16000),
    ];
    let servers: Vec<TestServer> = cases.iter().map(|_| TestServer::new()).collect();
    let t0 = Instant::now();
    for ((ctx, ..), srv) in cases.iter().zip(&servers) {
        ast.originate(&format!("{}@tapped-{ctx}", srv.port), "1@says");
    }
    let mut conns: Vec<Conn> = servers.iter().map(|s| tap_of(s, U1)).collect();
    for ((ctx, ..), srv) in cases.iter().zip(&servers) {
        let line = ast.expect_log(&[&format!("TAPPING {}", srv.port)], 5 * S);
        assert!(
            line.contains("status=CONNECTING") || line.contains("status=ACTIVE"),
            "{ctx}: {line}"
        );
    }
    assert!(
        t0.elapsed() < 5 * S,
        "the dialplan went on at once: {:?}",
        t0.elapsed()
    );
    for ((ctx, kind, size, rate), conn) in cases.iter().zip(conns.iter_mut()) {
        let (kinds, sizes, pcm) = listen(conn, S);
        assert!(kinds.iter().all(|k| k == kind), "{ctx}: {kinds:02x?}");
        assert!(sizes.iter().all(|s| s == size), "{ctx}: {sizes:?}");
        assert!(
            kinds.len() >= 45,
            "{ctx}: {} frames in a second",
            kinds.len()
        );
        match *ctx {
            "in" => assert!(has(&pcm, *rate, SAYS) && lacks(&pcm, *rate, HEARS), "{ctx}"),
            "out" => assert!(has(&pcm, *rate, HEARS) && lacks(&pcm, *rate, SAYS), "{ctx}"),
            "stereo" => {
                let (left, right) = split_stereo(&pcm);
                assert!(
                    has(&left, *rate, SAYS) && lacks(&left, *rate, HEARS),
                    "left"
                );
                assert!(
                    has(&right, *rate, HEARS) && lacks(&right, *rate, SAYS),
                    "right"
                );
            }
            _ => assert!(has(&pcm, *rate, SAYS) && has(&pcm, *rate, HEARS), "{ctx}"),
        }
    }
    ast.cli("channel request hangup all");
    for (((ctx, ..), srv), conn) in cases.iter().zip(&servers).zip(conns.iter_mut()) {
        assert!(
            hangup_then_close(conn, S),
            "{ctx}: hangup message and close"
        );
        let line = ast.expect_log(
            &[
                &format!("AudioSocket tap {U1} to 127.0.0.1:{}", srv.port),
                "ended",
            ],
            5 * S,
        );
        assert!(line.contains("the tapped channel hung up"), "{line}");
    }
    assert!(ast.wait_no_channels(10 * S));
}

#[test]
fn taps_start_and_stop_from_outside_and_say_how_they_are() {
    let (p1, p2) = (TestServer::new(), TestServer::new());
    let Some((ast, mut ami)) = ami::start_with(
        "tap_from_outside",
        Options {
            dialplan: &dialplan(),
            needs: &["app_playtones.so"],
            ..Options::default()
        },
        "",
    ) else {
        return;
    };
    ast.originate("1@untapped", "1@says");
    let t0 = Instant::now();
    let chan = loop {
        if let Some(c) = ast.channel_in("Dial") {
            break c;
        }
        assert!(t0.elapsed() < 5 * S, "the call is up");
        std::thread::sleep(S / 20);
    };
    // The CLI, then AMI, reach the same function.
    ast.cli(&format!(
        "dialplan set chanvar {chan} AUDIOSOCKET_TAP({U1}) 127.0.0.1:{},d(in)",
        p1.port
    ));
    let mut in_tap = tap_of(&p1, U1);
    assert!(ami.setvar(
        &chan,
        &format!("AUDIOSOCKET_TAP({U2})"),
        &format!("127.0.0.1:{},d(out)", p2.port)
    ));
    let mut out_tap = tap_of(&p2, U2);
    let started = ami.event("AudioSocketTapStart", 5 * S);
    assert_eq!(started.field("Channel"), chan);
    assert!(["in", "out"].contains(&started.field("Direction")));

    let (_, _, pcm) = listen(&mut in_tap, S);
    assert!(has(&pcm, 8000, SAYS) && lacks(&pcm, 8000, HEARS));
    let (_, _, pcm) = listen(&mut out_tap, S);
    assert!(has(&pcm, 8000, HEARS) && lacks(&pcm, 8000, SAYS));
    assert_eq!(
        ami.getvar(&chan, &format!("AUDIOSOCKET_TAP({U1})"))
            .as_deref(),
        Some("ACTIVE")
    );
    assert_eq!(
        ami.getvar(
            &chan,
            "AUDIOSOCKET_TAP(00000000-0000-0000-0000-000000000077)"
        )
        .as_deref(),
        Some("")
    );

    // A second tap with a live UUID is refused, with a warning.
    let p3 = TestServer::new();
    ami.setvar(
        &chan,
        &format!("AUDIOSOCKET_TAP({U1})"),
        &format!("127.0.0.1:{}", p3.port),
    );
    ast.expect_log(
        &[
            "WARNING",
            &format!("a tap with UUID {U1} is already active"),
        ],
        5 * S,
    );
    assert!(p3.accept(S / 2).is_none());

    // Stopped: the server gets the hangup message, then the close.
    assert!(ami.setvar(&chan, &format!("AUDIOSOCKET_TAP({U1})"), ""));
    assert!(hangup_then_close(&mut in_tap, S));
    let ended = ami.wait_for("AudioSocketTapEnd", 5 * S, |m| {
        m.get("Event") == Some("AudioSocketTapEnd") && m.get("UUID") == Some(U1)
    });
    assert_eq!(ended.field("Status"), "CHANNEL_HANGUP");
    assert_eq!(ended.field("Reason"), "stopped");
    assert_eq!(ended.field("Direction"), "in");
    assert!(ended.field("FramesUp").parse::<u64>().unwrap() >= 45);
    assert_eq!(
        ami.getvar(&chan, &format!("AUDIOSOCKET_TAP({U1})"))
            .as_deref(),
        Some("CHANNEL_HANGUP")
    );
    // The other tap, and the call, go on.
    let (kinds, _, _) = listen(&mut out_tap, S);
    assert!(kinds.len() >= 45);
    assert!(ast.cli("core show channels").contains(&chan));
    ast.cli("channel request hangup all");
    assert!(hangup_then_close(&mut out_tap, S));
    assert!(ast.wait_no_channels(10 * S));
}

#[test]
fn both_channels_of_one_call_are_tapped_at_once() {
    let Some(ast) = start("tap_both_ends") else {
        return;
    };
    let (p1, p2) = (TestServer::new(), TestServer::new());
    ast.originate(&format!("{}-{}@both-ends", p1.port, p2.port), "1@says");
    let mut caller = tap_of(&p1, U1);
    let mut callee = tap_of(&p2, U2);
    let (_, _, pcm) = listen(&mut caller, S);
    assert!(
        has(&pcm, 8000, SAYS) && lacks(&pcm, 8000, HEARS),
        "the caller says"
    );
    let (_, _, pcm) = listen(&mut callee, S);
    assert!(
        has(&pcm, 8000, HEARS) && lacks(&pcm, 8000, SAYS),
        "the callee plays"
    );
    ast.cli("channel request hangup all");
    assert!(hangup_then_close(&mut caller, 2 * S));
    assert!(hangup_then_close(&mut callee, 2 * S));
    assert!(ast.wait_no_channels(10 * S));
}

#[test]
fn a_tap_server_that_fails_leaves_the_call_exactly_as_it_was() {
    let Some(ast) = start("tap_server_failures") else {
        return;
    };
    let dies = TestServer::new();
    let stalls = TestServer::with_small_receive_buffer();
    let hole = BlackHole::new();
    let refused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refused_port = refused.local_addr().unwrap().port();
    drop(refused);
    let fars: Vec<FarEnd> = (0..4).map(|_| FarEnd::talking(SAYS)).collect();
    let ports = [dies.port, stalls.port, hole.port, refused_port];
    let t0 = Instant::now();
    for (port, far) in ports.iter().zip(&fars) {
        ast.originate(&format!("{port}@tapped-t1"), &format!("{}@far", far.port));
    }
    for port in ports {
        ast.expect_log(&[&format!("TAPPING {port}")], 5 * S);
    }
    assert!(t0.elapsed() < 3 * S, "the dialplan went on at once");
    let dead = tap_of(&dies, U1);
    dead.reset();
    let _stalled = tap_of(&stalls, U1);
    // The stalled server never reads: what it cannot take is dropped.
    std::thread::sleep(S);
    let from = Instant::now();
    let cli = Instant::now();
    let shown = ast.cli("audiosocket show sessions");
    assert!(cli.elapsed() < S, "the CLI answers at once");
    assert!(shown.contains("tap both"), "{shown}");
    std::thread::sleep(3 * S);
    for (port, far) in ports.iter().zip(&fars) {
        let (pcm, gap) = far.heard_since(from);
        assert!(
            pcm.len() >= 8000 * 29 / 10,
            "{port}: the far end heard {} samples in 3 s",
            pcm.len()
        );
        assert!(gap < Duration::from_millis(80), "{port}: a {gap:?} gap");
        assert!(has(&pcm, 8000, HEARS), "{port}: and what it should hear");
    }
    for (port, how) in [
        (dies.port, "the server hung up (connection reset)"),
        (hole.port, "could not connect"),
        (refused_port, "could not connect"),
    ] {
        ast.expect_log(
            &[
                &format!("AudioSocket tap {U1}"),
                &format!("127.0.0.1:{port}"),
                how,
            ],
            S,
        );
    }
    let stalled_row = ast.cli("audiosocket show sessions");
    let row = stalled_row
        .lines()
        .find(|l| l.contains(&format!("127.0.0.1:{}", stalls.port)))
        .unwrap_or_else(|| panic!("{stalled_row}"));
    let drops: u64 = row
        .split_whitespace()
        .last()
        .and_then(|d| d.split('/').next()?.parse().ok())
        .unwrap();
    assert!(
        drops > 0,
        "the stalled tap drops what it cannot send: {row}"
    );
    ast.cli("channel request hangup all");
    assert!(ast.wait_no_channels(10 * S));
}

#[test]
fn whisper_is_heard_with_w_and_not_without() {
    let Some(ast) = start("tap_whisper") else {
        return;
    };
    for (ctx, heard) in [("tapped-w", true), ("tapped-both", false)] {
        let srv = TestServer::new();
        let far = FarEnd::talking(SAYS);
        ast.originate(&format!("{}@{ctx}", srv.port), &format!("{}@far", far.port));
        let mut tap = tap_of(&srv, U1);
        tap.read_for(S / 2);
        // Two seconds of whisper, at real-time pace.
        let from = Instant::now();
        let mut phase = 0.0;
        for i in 0..100u32 {
            tap.send(0x10, &tones::tone(WHISPER, 8000, 160, 8000.0, &mut phase));
            let next = from + Duration::from_millis(20) * (i + 1);
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
        }
        std::thread::sleep(S / 5);
        let (pcm, _) = far.heard_since(from + S / 5);
        assert!(
            has(&pcm, 8000, HEARS),
            "{ctx}: the party still hears its call"
        );
        if heard {
            assert!(has(&pcm, 8000, WHISPER), "{ctx}: and the whisper");
        } else {
            assert!(lacks(&pcm, 8000, WHISPER), "{ctx}: no whisper without w");
        }
        ast.cli("channel request hangup all");
        assert!(ast.wait_no_channels(10 * S));
    }
}

#[test]
fn thirty_tapped_calls_at_once_each_stream_whole() {
    let Some(ast) = start("tap_thirty") else {
        return;
    };
    let servers: Vec<TestServer> = (0..30).map(|_| TestServer::new()).collect();
    let (_, threads_before, _) = ast.resources();
    for srv in &servers {
        ast.originate(&format!("{}@tapped-stereo", srv.port), "1@says");
    }
    let mut conns: Vec<Conn> = servers.iter().map(|s| tap_of(s, U1)).collect();
    std::thread::sleep(S);
    let counts: Vec<usize> = std::thread::scope(|scope| {
        let handles: Vec<_> = conns
            .iter_mut()
            .map(|c| scope.spawn(move || c.read_for(2 * S).len()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        counts.iter().all(|n| *n >= 95),
        "every tap streams 50 frames a second: {counts:?}"
    );
    ast.cli("channel request hangup all");
    for c in conns.iter_mut() {
        assert!(hangup_then_close(c, 3 * S));
    }
    assert!(ast.wait_no_channels(10 * S));
    let t0 = Instant::now();
    loop {
        let (_, threads, _) = ast.resources();
        if threads <= threads_before {
            break;
        }
        assert!(
            t0.elapsed() < 5 * S,
            "threads: {threads_before} before, {threads} after"
        );
        std::thread::sleep(S / 10);
    }
}

/// The call's channel running `Dial()`, once the call is up.
fn dialing(ast: &Asterisk) -> String {
    let t0 = Instant::now();
    loop {
        if let Some(c) = ast.channel_in("Dial") {
            return c;
        }
        assert!(t0.elapsed() < 5 * S, "the call is up");
        std::thread::sleep(S / 20);
    }
}

fn uuid(i: usize) -> String {
    format!("11111111-2222-4333-8444-5555555556{i:02}")
}

#[test]
fn a_stopped_tap_is_over_at_once_and_its_uuid_free_again() {
    let Some(ast) = start("tap_stop_restart") else {
        return;
    };
    // Stopped, read and started again in three dialplan steps, with no
    // time for the first tap's I/O thread to report its end.
    let srv = TestServer::new();
    ast.originate(&format!("{}@tap-restart", srv.port), "1@says");
    let mut first = tap_of(&srv, U1);
    let mut second = tap_of(&srv, U1);
    let line = ast.expect_log(&[&format!("RESTART {}", srv.port)], 5 * S);
    assert!(
        line.contains("stopped=CHANNEL_HANGUP now=CONNECTING")
            || line.contains("stopped=CHANNEL_HANGUP now=ACTIVE"),
        "{line}"
    );
    assert!(hangup_then_close(&mut first, 2 * S));
    let (_, _, pcm) = listen(&mut second, S);
    assert!(has(&pcm, 8000, SAYS), "the new tap streams");
    assert!(
        ast.log().lines().all(|l| !l.contains("already active")),
        "{}",
        ast.log_tail()
    );
    ast.cli("channel request hangup all");
    assert!(hangup_then_close(&mut second, 2 * S));
    assert!(ast.wait_no_channels(10 * S));
}

#[test]
fn a_channel_has_at_most_eight_live_taps_even_when_starts_race() {
    let Some((ast, mut ami)) = ami::start_with(
        "tap_limit",
        Options {
            dialplan: &dialplan(),
            needs: &["app_playtones.so"],
            ..Options::default()
        },
        "",
    ) else {
        return;
    };
    ast.originate("1@untapped", "1@says");
    let chan = dialing(&ast);
    let srv = TestServer::new();
    // Six AMI clients start a tap with one UUID at the same moment, then
    // twelve start taps with twelve UUIDs: one of the first, seven of the
    // others run, and nothing beyond.
    let race = |uuids: Vec<String>| {
        let barrier = std::sync::Barrier::new(uuids.len());
        std::thread::scope(|scope| {
            for u in &uuids {
                let (chan, barrier, port) = (&chan, &barrier, srv.port);
                scope.spawn(move || {
                    let mut ami = ami::Ami::connect(ami.port);
                    ami.action("Action: Ping\r\n");
                    barrier.wait();
                    ami.setvar(
                        chan,
                        &format!("AUDIOSOCKET_TAP({u})"),
                        &format!("127.0.0.1:{port}"),
                    );
                });
            }
        });
    };
    race(vec![uuid(0); 6]);
    race((1..=12).map(uuid).collect());
    let mut conns = Vec::new();
    while let Some(conn) = srv.accept(S) {
        conns.push(conn);
    }
    assert_eq!(conns.len(), 8, "eight taps at most");
    let mut firsts: Vec<Vec<u8>> = conns
        .iter_mut()
        .map(|c| c.read_msg(S).expect("the UUID").payload)
        .collect();
    firsts.sort();
    firsts.dedup();
    assert_eq!(firsts.len(), 8, "no UUID twice");
    assert!(firsts.contains(&uuid_bytes(&uuid(0))));
    ast.expect_log(
        &[
            "WARNING",
            &format!("a tap with UUID {} is already active", uuid(0)),
        ],
        S,
    );
    ast.expect_log(&["WARNING", "8 taps are active already"], S);
    // One stopped makes room for one more.
    let live = (1..=12)
        .map(uuid)
        .find(|u| {
            ami.getvar(&chan, &format!("AUDIOSOCKET_TAP({u})"))
                .as_deref()
                == Some("ACTIVE")
        })
        .expect("a live tap");
    assert!(ami.setvar(&chan, &format!("AUDIOSOCKET_TAP({live})"), ""));
    assert!(ami.setvar(
        &chan,
        &format!("AUDIOSOCKET_TAP({})", uuid(13)),
        &format!("127.0.0.1:{}", srv.port)
    ));
    let mut last = srv.accept(5 * S).expect("room for one more");
    assert_eq!(last.read_msg(S).unwrap().payload, uuid_bytes(&uuid(13)));
    ast.cli("channel request hangup all");
    assert!(ast.wait_no_channels(10 * S));
}

#[test]
fn a_taps_server_sets_only_the_variables_its_start_allows() {
    let Some((ast, mut ami)) = ami::start_with(
        "tap_variables",
        Options {
            dialplan: &dialplan(),
            needs: &["app_playtones.so"],
            ..Options::default()
        },
        "",
    ) else {
        return;
    };
    for (ctx, note) in [("tapped-v", Some("hello")), ("tapped-m", None)] {
        let srv = TestServer::new();
        ast.originate(&format!("{}@{ctx}", srv.port), "1@says");
        let mut tap = tap_of(&srv, U1);
        let ctx_msg = tap.read_msg(2 * S).expect("the context");
        assert_eq!(ctx_msg.kind, 0x23);
        // BOT_* is what a call's server may set by default: not a tap's.
        tap.send(0x24, b"BOT_RESULT=x");
        tap.send(0x24, b"TAP_NOTE=hello");
        tap.send(0x24, b"TRANSFER_CONTEXT=from-internal");
        std::thread::sleep(S / 2);
        let chan = dialing(&ast);
        let get = |ami: &mut ami::Ami, v: &str| ami.getvar(&chan, v).filter(|v| !v.is_empty());
        assert_eq!(get(&mut ami, "TAP_NOTE").as_deref(), note, "{ctx}");
        assert_eq!(get(&mut ami, "BOT_RESULT"), None, "{ctx}");
        assert_eq!(get(&mut ami, "TRANSFER_CONTEXT"), None, "{ctx}");
        tap.hangup();
        ast.cli("channel request hangup all");
        assert!(ast.wait_no_channels(10 * S));
    }
    ast.expect_log(
        &[
            "WARNING",
            "named BOT_RESULT, which the call does not allow (it allows TAP_NOTE)",
        ],
        S,
    );
    ast.expect_log(
        &[
            "WARNING",
            "named BOT_RESULT, which the call does not allow (it allows nothing)",
        ],
        S,
    );
}

#[test]
fn whisper_at_a_rate_other_than_the_channels_is_heard() {
    let Some(ast) = start("tap_whisper_16") else {
        return;
    };
    let srv = TestServer::new();
    let far = FarEnd::talking(SAYS);
    ast.originate(
        &format!("{}@tapped-w16", srv.port),
        &format!("{}@far", far.port),
    );
    let mut tap = tap_of(&srv, U1);
    let (kinds, _, _) = listen(&mut tap, S / 2);
    assert!(kinds.iter().all(|k| *k == 0x12), "16 kHz to the server");
    let from = Instant::now();
    let mut phase = 0.0;
    for i in 0..100u32 {
        tap.send(0x12, &tones::tone(WHISPER, 16000, 320, 8000.0, &mut phase));
        let next = from + Duration::from_millis(20) * (i + 1);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    std::thread::sleep(S / 5);
    let (pcm, _) = far.heard_since(from + S / 5);
    assert!(has(&pcm, 8000, HEARS), "the party still hears its call");
    assert!(has(&pcm, 8000, WHISPER), "and the 16 kHz whisper, at 8 kHz");
    ast.cli("channel request hangup all");
    assert!(ast.wait_no_channels(10 * S));
}

#[test]
fn a_tap_that_cannot_attach_still_reports_its_end() {
    let Some((ast, mut ami)) = ami::start_with(
        "tap_late",
        Options {
            dialplan: &dialplan(),
            needs: &["app_playtones.so"],
            ..Options::default()
        },
        "",
    ) else {
        return;
    };
    // Started from a hangup handler of a dialled channel, which Asterisk
    // runs once the channel is already going: the audiohook cannot be
    // attached after AudioSocketTapStart went out.
    let srv = TestServer::new();
    ast.originate(&format!("{}@tap-on-hangup", srv.port), "1@says");
    std::thread::sleep(S);
    ast.cli("channel request hangup all");
    let started = ami.event("AudioSocketTapStart", 5 * S);
    assert_eq!(started.field("UUID"), U1);
    let ended = ami.event("AudioSocketTapEnd", 5 * S);
    assert_eq!(ended.field("UUID"), U1);
    ast.expect_log(&["WARNING", "the channel is hanging up; no tap started"], S);
    assert!(ast.wait_no_channels(10 * S));
}
