//! The AudioSocket/ channel driver on a real Asterisk: Local channels whose
//! one half dials AudioSocket/... and whose other half plays a tone,
//! echoes, sends or reads DTMF, or hangs up.

mod common;

use std::time::{Duration, Instant};

use common::server::audio_of;
use common::{ramp, uuid_bytes, Asterisk, TestServer, UUID};

const S: Duration = Duration::from_secs(1);

fn dialplan() -> String {
    let dial = |ctx: &str, target: &str| {
        format!(
            "[{ctx}]\n\
             exten => _X.,1,Dial(AudioSocket/{target},,gb(predial^s^1))\n \
             same => n,Log(NOTICE,DIALED ${{EXTEN}} dialstatus=${{DIALSTATUS}} cause=${{HANGUPCAUSE}})\n \
             same => n,Hangup()\n"
        )
    };
    [
        dial("dial", &format!("127.0.0.1:${{EXTEN}}/{UUID}")),
        dial("dial16", &format!("127.0.0.1:${{EXTEN}}/{UUID}/c(slin16)")),
        dial("dial6", &format!("[::1]:${{EXTEN}}/{UUID}")),
        dial("dialhost", &format!("localhost:${{EXTEN}}/{UUID}")),
        dial("bad-nohost", &format!(":${{EXTEN}}/{UUID}")),
        dial("bad-noport", &format!("127.0.0.1/{UUID}")),
        dial("bad-nouuid", "127.0.0.1:${EXTEN}"),
        dial("bad-uuid", "127.0.0.1:${EXTEN}/xyz"),
        dial("bad-option", &format!("127.0.0.1:${{EXTEN}}/{UUID}/q")),
        dial("bad-codec", &format!("127.0.0.1:${{EXTEN}}/{UUID}/c(ulaw)")),
        // Runs on the AudioSocket channel: a hangup handler that reports its end.
        "[predial]\nexten => s,1,Set(CHANNEL(hangup_handler_push)=hh,s,1)\n same => n,Return()\n\
         [hh]\nexten => s,1,Log(NOTICE,AS-HANGUP ${CHANNEL(name)} cause=${HANGUPCAUSE} \
         status=${AUDIOSOCKET_STATUS} code=${AUDIOSOCKET_ERROR_CODE})\n same => n,Return()\n"
            .into(),
        common::FAR_ENDS.into(),
    ]
    .join("\n")
}

fn start(test: &str) -> Option<Asterisk> {
    Asterisk::start(test, &dialplan())
}

/// Accepts the driver's connection and checks the UUID comes first.
fn connected(srv: &TestServer) -> common::Conn {
    let mut conn = srv.accept(5 * S).expect("the driver connects");
    let first = conn.read_msg(2 * S).expect("a first message");
    assert_eq!((first.kind, first.payload), (0x01, uuid_bytes()));
    conn
}

#[test]
fn dial_streams_8khz_uplink_and_sets_its_variables() {
    let Some(ast) = start("dial_8khz_uplink") else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@dial", srv.port), "1@tone");
    let mut conn = connected(&srv);
    let msgs = conn.read_for(S);
    assert!(msgs.len() >= 40, "{} messages in a second", msgs.len());
    assert!(msgs
        .iter()
        .all(|(_, m)| m.kind == 0x10 && m.payload.len() == 320));
    let peak = common::peak(&audio_of(&msgs, 0x10));
    assert!(
        peak > 1000,
        "the caller's tone reaches the server (peak {peak})"
    );

    let concise = ast.cli("core show channels concise");
    let name = concise
        .lines()
        .find(|l| l.starts_with("AudioSocket/"))
        .and_then(|l| l.split('!').next())
        .unwrap_or_else(|| panic!("no AudioSocket channel in:\n{concise}"))
        .to_string();
    assert!(
        name.starts_with(&format!("AudioSocket/127.0.0.1:{}-", srv.port)),
        "{name}"
    );
    let shown = ast.cli(&format!("core show channel {name}"));
    assert!(
        shown.contains(&format!("AUDIOSOCKET_UUID={UUID}")),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("AUDIOSOCKET_SERVICE=127.0.0.1:{}", srv.port)),
        "{shown}"
    );
    assert!(shown.contains("slin"), "{shown}");

    conn.hangup();
    let line = ast.expect_log(&[&format!("DIALED {}", srv.port)], 5 * S);
    assert!(
        line.contains("dialstatus=ANSWER"),
        "g continues the caller's dialplan: {line}"
    );
    let ended = ast.expect_log(&["AS-HANGUP", &name], 5 * S);
    assert!(
        ended.contains("cause=16 status=SERVER_HANGUP"),
        "normal clearing: {ended}"
    );
    assert!(ast.wait_no_channels(5 * S));
}

#[test]
fn dial_with_slin16_sends_kind_0x12_frames_of_640_bytes() {
    let Some(ast) = start("dial_slin16") else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@dial16", srv.port), "1@tone");
    let mut conn = connected(&srv);
    let msgs = conn.read_for(S);
    assert!(msgs.len() >= 40, "{}", msgs.len());
    let kinds: Vec<(u8, usize)> = msgs
        .iter()
        .map(|(_, m)| (m.kind, m.payload.len()))
        .collect();
    assert!(kinds.iter().all(|k| *k == (0x12, 640)), "{kinds:?}");
    let concise = ast.cli("core show channels concise");
    let name = concise
        .lines()
        .find(|l| l.starts_with("AudioSocket/"))
        .unwrap()
        .split('!')
        .next()
        .unwrap()
        .to_string();
    let shown = ast.cli(&format!("core show channel {name}"));
    assert!(shown.contains("NativeFormats: (slin16)"), "{shown}");
    conn.hangup();
    ast.expect_log(&[&format!("DIALED {}", srv.port)], 5 * S);
}

#[test]
fn dial_downlink_burst_is_heard_whole_and_paced() {
    let Some(ast) = start("dial_burst") else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@dial", srv.port), "1@echo");
    let mut conn = connected(&srv);
    // The echo only returns what the server sends; wait for the bridge.
    std::thread::sleep(Duration::from_millis(300));
    let pcm = ramp(24_000);
    conn.send_audio(0x10, &pcm, 777);
    let msgs = conn.read_for(5 * S);
    let back = audio_of(&msgs, 0x10);
    // Whatever the bridge sent before the burst came round is skipped.
    let heard = &back[back
        .windows(8)
        .position(|w| w == &pcm[..8])
        .expect("the burst comes back")..];
    assert!(
        heard.len() >= pcm.len(),
        "{} of {} bytes",
        heard.len(),
        pcm.len()
    );
    assert!(heard[..pcm.len()] == pcm[..], "in order and unchanged");
    let audio_times: Vec<Instant> = msgs
        .iter()
        .filter(|(_, m)| m.payload.iter().any(|b| *b != 0))
        .map(|(t, _)| *t)
        .collect();
    let spread = *audio_times.last().unwrap() - audio_times[0];
    assert!(
        spread >= Duration::from_millis(2800),
        "played over {spread:?}"
    );
    conn.hangup();
}

#[test]
fn dial_dtmf_flows_both_ways() {
    let Some(ast) = start("dial_dtmf") else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@dial", srv.port), "1@dtmf");
    let mut conn = connected(&srv);
    let digits = conn.read_digits_until(b'#', 10 * S);
    assert_eq!(digits, b"159#", "the caller's digits reach the server");
    ast.expect_log(&["Executing", "Read("], 5 * S);
    for d in b"427" {
        conn.send(0x03, &[*d]);
    }
    let line = ast.expect_log(&["NOTICE", "READ "], 10 * S);
    assert!(
        line.contains("READ 427"),
        "the caller's Read() got the server's digits: {line}"
    );
    conn.hangup();
}

#[test]
fn server_error_hangs_up_with_a_failure_cause() {
    let Some(ast) = start("dial_server_error") else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@dial", srv.port), "1@silent");
    let mut conn = connected(&srv);
    std::thread::sleep(Duration::from_millis(200));
    conn.send(0xff, &[0x04]);
    let line = ast.expect_log(&["AS-HANGUP", &format!("127.0.0.1:{}-", srv.port)], 5 * S);
    assert!(
        line.contains("cause=38 status=SERVER_ERROR code=0x04"),
        "{line}"
    );
    ast.expect_log(&[&format!("DIALED {}", srv.port)], 5 * S);
    ast.expect_log(&["ERROR", "AudioSocket/127.0.0.1", "0x04"], S);
    assert!(ast.wait_no_channels(5 * S));
}

#[test]
fn caller_hangup_closes_the_socket_promptly() {
    let Some(ast) = start("dial_caller_hangup") else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@dial", srv.port), "1@hangup1");
    let mut conn = connected(&srv);
    let t0 = Instant::now();
    let mut saw_hangup = false;
    while let Some(m) = conn.read_msg(5 * S) {
        if m.kind == 0x00 {
            saw_hangup = true;
            break;
        }
    }
    assert!(saw_hangup, "a hangup message before the close");
    assert!(conn.wait_closed(S));
    assert!(
        t0.elapsed() < Duration::from_millis(2500),
        "{:?}",
        t0.elapsed()
    );
    assert!(ast.wait_no_channels(5 * S));
}

#[test]
fn refused_connection_fails_the_dial() {
    let Some(ast) = start("dial_refused") else {
        return;
    };
    let port = TestServer::new().port;
    ast.originate(&format!("{port}@dial"), "1@silent");
    let line = ast.expect_log(&[&format!("DIALED {port}")], 5 * S);
    assert!(line.contains("dialstatus=CHANUNAVAIL"), "{line}");
    ast.expect_log(&["ERROR", &format!("127.0.0.1:{port}"), "refused"], S);
    assert!(ast.wait_no_channels(5 * S));
}

#[test]
fn ipv6_and_host_names_dial() {
    let Some(ast) = start("dial_ipv6_host") else {
        return;
    };
    for (ctx, srv) in [
        ("dial6", TestServer::bind("[::1]:0")),
        ("dialhost", TestServer::new()),
    ] {
        ast.originate(&format!("{}@{ctx}", srv.port), "1@silent");
        let mut conn = connected(&srv);
        conn.hangup();
        let line = ast.expect_log(&[&format!("DIALED {}", srv.port)], 5 * S);
        assert!(line.contains("dialstatus=ANSWER"), "{ctx}: {line}");
    }
}

#[test]
fn bad_dial_strings_fail_at_once_naming_the_bad_part() {
    let Some(ast) = start("bad_dial_strings") else {
        return;
    };
    let cases = [
        ("bad-nohost", "has no host"),
        ("bad-noport", "has no port"),
        ("bad-nouuid", "missing UUID"),
        ("bad-uuid", "malformed UUID 'xyz'"),
        ("bad-option", "unknown option 'q'"),
        ("bad-codec", "codec 'ulaw'"),
    ];
    for (ctx, want) in cases {
        let srv = TestServer::new();
        ast.originate(&format!("{}@{ctx}", srv.port), "1@silent");
        let line = ast.expect_log(&["ERROR", want], 5 * S);
        assert!(line.contains("AudioSocket/"), "{line}");
        let dialed = ast.expect_log(&[&format!("DIALED {}", srv.port)], 5 * S);
        assert!(dialed.contains("dialstatus=CHANUNAVAIL"), "{ctx}: {dialed}");
        assert!(
            srv.accept(Duration::from_millis(200)).is_none(),
            "{ctx}: nothing connected"
        );
    }
    assert!(ast.wait_no_channels(5 * S));
}

#[test]
fn cli_originate_of_an_audiosocket_channel() {
    let Some(ast) = start("cli_originate") else {
        return;
    };
    let srv = TestServer::new();
    ast.cli(&format!(
        "channel originate AudioSocket/127.0.0.1:{}/{UUID} extension 1@tone",
        srv.port
    ));
    let mut conn = connected(&srv);
    let msgs = conn.read_for(S);
    assert!(
        msgs.len() >= 40 && msgs.iter().all(|(_, m)| m.kind == 0x10),
        "{}",
        msgs.len()
    );
    conn.hangup();
    assert!(ast.wait_no_channels(5 * S));
}

#[test]
fn core_show_channeltype_describes_the_driver() {
    let Some(ast) = start("show_channeltype") else {
        return;
    };
    let out = ast.cli("core show channeltype AudioSocket");
    assert!(out.contains("slin|slin12|slin16"), "{out}");
    assert!(out.contains("Digit End: yes"), "{out}");
    let all = ast.cli("core show channeltypes");
    let line = all
        .lines()
        .find(|l| l.starts_with("AudioSocket"))
        .unwrap_or_else(|| panic!("{all}"));
    assert!(line.contains("host:port/uuid"), "{line}");
}
