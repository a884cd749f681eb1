//! The AudioSocket() application on a real Asterisk: calls are made with
//! Local channels whose other half plays a tone, echoes, sends or reads
//! DTMF, stays silent or hangs up.

mod common;

use std::time::{Duration, Instant};

use common::server::audio_of;
use common::{ramp, uuid_bytes, Asterisk, TestServer, UUID};

const S: Duration = Duration::from_secs(1);

fn dialplan() -> String {
    let app = |ctx: &str, target: &str| {
        format!(
            "[{ctx}]\n\
             exten => _X.,1,Answer()\n \
             same => n,Set(PORT=${{EXTEN}})\n \
             same => n,Log(NOTICE,BEFORE ${{EXTEN}} read=${{CHANNEL(audioreadformat)}} write=${{CHANNEL(audiowriteformat)}})\n \
             same => n,AudioSocket({target})\n \
             same => n,Log(NOTICE,RESULT ${{EXTEN}} status=${{AUDIOSOCKET_STATUS}} code=${{AUDIOSOCKET_ERROR_CODE}} read=${{CHANNEL(audioreadformat)}} write=${{CHANNEL(audiowriteformat)}})\n \
             same => n,Hangup()\n\
             exten => h,1,Log(NOTICE,HUNGUP ${{PORT}} status=${{AUDIOSOCKET_STATUS}})\n"
        )
    };
    [
        app("app", &format!("{UUID},127.0.0.1:${{EXTEN}}")),
        app("app16", &format!("{UUID},127.0.0.1:${{EXTEN}},c(slin16)")),
        app("app6", &format!("{UUID},[::1]:${{EXTEN}}")),
        app("apphost", &format!("{UUID},localhost:${{EXTEN}}")),
        app("appslow", &format!("{UUID},127.0.0.1:${{EXTEN}},t(30)")),
        app("bad-empty", ""),
        app("bad-nouuid", ",127.0.0.1:${EXTEN}"),
        app("bad-uuid", "not-a-uuid,127.0.0.1:${EXTEN}"),
        app("bad-noport", &format!("{UUID},127.0.0.1")),
        app(
            "bad-host",
            &format!("{UUID},no-such-host.invalid:${{EXTEN}}"),
        ),
        app("bad-option", &format!("{UUID},127.0.0.1:${{EXTEN}},z")),
        common::FAR_ENDS.into(),
    ]
    .join("\n")
}

fn start(test: &str) -> Option<Asterisk> {
    Asterisk::start(test, &dialplan())
}

#[test]
fn uuid_first_then_8khz_tone_and_server_hangup_continues_the_dialplan() {
    let Some(ast) = start("uuid_first_then_8khz_tone") else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@app", srv.port), "1@tone");
    let mut conn = srv.accept(5 * S).expect("the module connects");
    let first = conn.read_msg(2 * S).expect("a first message");
    assert_eq!((first.kind, first.payload), (0x01, uuid_bytes()));
    let msgs = conn.read_for(S);
    assert!(msgs.len() >= 40, "{} messages in a second", msgs.len());
    for (_, m) in &msgs {
        assert_eq!((m.kind, m.payload.len()), (0x10, 320));
    }
    let pcm = audio_of(&msgs, 0x10);
    let peak = common::peak(&pcm);
    assert!(peak > 1000, "the tone is there (peak {peak})");
    conn.hangup();
    let line = ast.expect_log(&[&format!("RESULT {}", srv.port)], 5 * S);
    assert!(line.contains("status=SERVER_HANGUP"), "{line}");
}

#[test]
fn slin16_option_uses_kind_0x12_both_ways_and_restores_formats() {
    let Some(ast) = start("slin16_option") else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@app16", srv.port), "1@echo");
    let mut conn = srv.accept_call();
    // One second of 16 kHz audio, echoed back by the far end (whose own
    // formats are 8 kHz, so Asterisk resamples: the length survives, not
    // every bit).
    let pcm = ramp(16_000);
    conn.send_audio(0x12, &pcm, 640);
    let msgs = conn.read_for(2 * S);
    let kinds: Vec<u8> = msgs.iter().map(|(_, m)| m.kind).collect();
    assert!(
        kinds.iter().all(|k| *k == 0x12),
        "only 16 kHz audio comes back: {kinds:x?}"
    );
    let sizes: Vec<usize> = msgs.iter().map(|(_, m)| m.payload.len()).collect();
    assert!(sizes.iter().all(|n| *n == 640), "20 ms frames: {sizes:?}");
    let back = audio_of(&msgs, 0x12).len();
    assert!(
        back.abs_diff(pcm.len()) <= 2 * 640,
        "{back} bytes back for {}",
        pcm.len()
    );
    conn.hangup();
    let before = ast.expect_log(&[&format!("BEFORE {}", srv.port)], 5 * S);
    let after = ast.expect_log(&[&format!("RESULT {}", srv.port)], 5 * S);
    let formats = |l: &str| l[l.find("read=").unwrap()..].to_string();
    assert_eq!(formats(&before), formats(&after));
    assert!(!formats(&after).contains("slin16"), "{after}");
}

#[test]
fn a_three_second_burst_is_heard_whole_in_order_at_real_time_pace() {
    let Some(ast) = start("three_second_burst") else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@app", srv.port), "1@echo");
    let mut conn = srv.accept_call();
    // Three seconds at once, in odd-sized payloads.
    let pcm = ramp(24_000);
    conn.send_audio(0x10, &pcm, 1001);
    let msgs = conn.read_for(5 * S);
    let back = audio_of(&msgs, 0x10);
    assert_eq!(
        back.len(),
        pcm.len(),
        "every sample comes back through the far end"
    );
    assert!(back == pcm, "in order and unchanged");
    let spread = msgs.last().unwrap().0 - msgs[0].0;
    assert!(
        spread >= Duration::from_millis(2800),
        "played over {spread:?}, not faster than real time"
    );
}

#[test]
fn dtmf_flows_both_ways() {
    let Some(ast) = start("dtmf_both_ways") else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@app", srv.port), "1@dtmf");
    let mut conn = srv.accept_call();
    let digits = conn.read_digits_until(b'#', 10 * S);
    assert_eq!(digits, b"159#", "the far end's SendDTMF reaches the server");
    // Digits sent before the far end listens would be lost to SendDTMF.
    ast.expect_log(&["Executing", "Read("], 5 * S);
    for d in b"427" {
        conn.send(0x03, &[*d]);
    }
    let line = ast.expect_log(&["NOTICE", "READ "], 10 * S);
    assert!(
        line.contains("READ 427"),
        "the far end's Read() got the server's digits: {line}"
    );
}

#[test]
fn eight_seconds_of_mutual_silence_does_not_end_the_call() {
    let Some(ast) = start("mutual_silence") else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@app", srv.port), "1@silent");
    let mut conn = srv.accept_call();
    let t0 = Instant::now();
    assert!(
        !conn.wait_closed(8 * S),
        "the module closed after {:?}",
        t0.elapsed()
    );
    assert!(ast.wait_log(&["RESULT"], Duration::ZERO).is_none());
    conn.hangup();
    let line = ast.expect_log(&[&format!("RESULT {}", srv.port)], 5 * S);
    assert!(line.contains("status=SERVER_HANGUP"), "{line}");
}

#[test]
fn channel_hangup_closes_the_socket_promptly() {
    let Some(ast) = start("channel_hangup") else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@app", srv.port), "1@hangup1");
    let mut conn = srv.accept_call();
    let t0 = Instant::now();
    let bye = conn.read_msg(5 * S).expect("a hangup message");
    assert_eq!(bye.kind, 0x00);
    assert!(conn.wait_closed(S), "then the close");
    // The far end hangs up one second in.
    assert!(
        t0.elapsed() < Duration::from_millis(2500),
        "{:?}",
        t0.elapsed()
    );
    let line = ast.expect_log(&[&format!("HUNGUP {}", srv.port)], 5 * S);
    assert!(line.contains("status=CHANNEL_HANGUP"), "{line}");
    assert!(ast.wait_no_channels(5 * S));
}

#[test]
fn server_error_sets_the_status_and_code() {
    let Some(ast) = start("server_error") else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@app", srv.port), "1@silent");
    let mut conn = srv.accept_call();
    conn.send(0xff, &[0x02]);
    let line = ast.expect_log(&[&format!("RESULT {}", srv.port)], 5 * S);
    assert!(line.contains("status=SERVER_ERROR code=0x02"), "{line}");
    ast.expect_log(
        &[
            "ERROR",
            "Local/",
            &format!("127.0.0.1:{}", srv.port),
            "0x02",
        ],
        S,
    );
}

#[test]
fn refused_connection_fails_fast_and_the_dialplan_goes_on() {
    let Some(ast) = start("refused_connection") else {
        return;
    };
    let port = {
        let srv = TestServer::new();
        srv.port
    };
    let t0 = Instant::now();
    ast.originate(&format!("{port}@app"), "1@silent");
    let line = ast.expect_log(&[&format!("RESULT {port}")], 5 * S);
    assert!(line.contains("status=CONNECT_FAILED"), "{line}");
    assert!(t0.elapsed() < 2 * S, "{:?}", t0.elapsed());
    let err = ast.expect_log(&["ERROR", &format!("127.0.0.1:{port}")], S);
    assert!(err.contains("Local/") && err.contains("refused"), "{err}");
}

#[test]
fn hangup_during_the_connect_aborts_it() {
    let Some(ast) = start("hangup_during_connect") else {
        return;
    };
    let hole = common::BlackHole::new();
    let port = hole.port;
    ast.originate(&format!("{port}@appslow"), "1@hangup1");
    let line = ast.expect_log(&[&format!("HUNGUP {port}")], 5 * S);
    assert!(line.contains("status=CHANNEL_HANGUP"), "{line}");
    assert!(ast.wait_no_channels(5 * S));
}

#[test]
fn ipv6_and_host_names_connect() {
    let Some(ast) = start("ipv6_and_host_names") else {
        return;
    };
    for (ctx, srv) in [
        ("app6", TestServer::bind("[::1]:0")),
        ("apphost", TestServer::new()),
    ] {
        ast.originate(&format!("{}@{ctx}", srv.port), "1@silent");
        let mut conn = srv
            .accept(5 * S)
            .unwrap_or_else(|| panic!("{ctx} connects"));
        assert_eq!(conn.read_msg(2 * S).unwrap().payload, uuid_bytes());
        conn.hangup();
        let line = ast.expect_log(&[&format!("RESULT {}", srv.port)], 5 * S);
        assert!(line.contains("status=SERVER_HANGUP"), "{ctx}: {line}");
    }
}

#[test]
fn bad_arguments_fail_at_once_naming_the_channel_and_the_argument() {
    let Some(ast) = start("bad_arguments") else {
        return;
    };
    let cases = [
        ("bad-empty", "no arguments"),
        ("bad-nouuid", "missing UUID"),
        ("bad-uuid", "malformed UUID 'not-a-uuid'"),
        ("bad-noport", "'127.0.0.1' has no port"),
        ("bad-option", "unknown option 'z'"),
        ("bad-host", "cannot resolve host 'no-such-host.invalid'"),
    ];
    for (ctx, want) in cases {
        let srv = TestServer::new();
        ast.originate(&format!("{}@{ctx}", srv.port), "1@silent");
        let line = ast.expect_log(&["ERROR", &format!("{}@{ctx}", srv.port), want], 10 * S);
        assert!(line.contains("Local/"), "names the channel: {line}");
        let status = ast.expect_log(&[&format!("{} status=", srv.port)], 10 * S);
        let want_status = if ctx == "bad-host" {
            "CONNECT_FAILED"
        } else {
            "INVALID_ARGUMENTS"
        };
        assert!(status.contains(want_status), "{ctx}: {status}");
        if ctx == "bad-uuid" {
            assert!(
                srv.accept(Duration::from_millis(500)).is_none(),
                "no connection with a malformed UUID"
            );
        }
    }
    assert!(ast.wait_no_channels(10 * S));
}
