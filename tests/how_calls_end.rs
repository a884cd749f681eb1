//! How a call ends, told the same way by the application and the channel
//! driver: every way a server hangs up is SERVER_HANGUP, a redirect is not
//! a hangup, the driver tells a caller's hangup too, and each call logs
//! "connected" once.

mod common;

use std::time::Duration;

use common::ami;
use common::{Asterisk, TestServer, UUID};

const S: Duration = Duration::from_secs(1);

fn dialplan() -> String {
    format!(
        "[app]\nexten => _X.,1,Answer()\n \
         same => n,AudioSocket({UUID},127.0.0.1:${{EXTEN}})\n \
         same => n,Log(NOTICE,RESULT ${{EXTEN}} status=${{AUDIOSOCKET_STATUS}})\n same => n,Hangup()\n\
         [app-idle]\nexten => _X.,1,Answer()\n \
         same => n,AudioSocket({UUID},127.0.0.1:${{EXTEN}},i(1))\n \
         same => n,Log(NOTICE,RESULT ${{EXTEN}} status=${{AUDIOSOCKET_STATUS}})\n same => n,Hangup()\n\
         [elsewhere]\nexten => _X.,1,Log(NOTICE,ELSEWHERE ${{EXTEN}} status=${{AUDIOSOCKET_STATUS}})\n \
         same => n,Hangup()\n\
         [dial]\nexten => _X.,1,Dial(AudioSocket/127.0.0.1:${{EXTEN}}/{UUID},,gb(predial^s^1))\n \
         same => n,Log(NOTICE,DIALED ${{EXTEN}} dialstatus=${{DIALSTATUS}})\n same => n,Hangup()\n\
         [dial-idle]\nexten => _X.,1,Dial(AudioSocket/127.0.0.1:${{EXTEN}}/{UUID}/i(1),,gb(predial^s^1))\n \
         same => n,Log(NOTICE,DIALED ${{EXTEN}} dialstatus=${{DIALSTATUS}})\n same => n,Hangup()\n\
         [predial]\nexten => s,1,Set(CHANNEL(hangup_handler_push)=hh,s,1)\n same => n,Return()\n\
         [hh]\nexten => s,1,Log(NOTICE,AS-HANGUP ${{CHANNEL(name)}} cause=${{HANGUPCAUSE}} \
         status=${{AUDIOSOCKET_STATUS}})\n same => n,Return()\n\
         {}",
        common::FAR_ENDS
    )
}

#[test]
fn a_reset_or_a_close_with_unread_audio_is_a_server_hangup() {
    let Some(ast) = Asterisk::start("server_resets", &dialplan()) else {
        return;
    };
    // A reset at once, and a close after the module's audio piled up unread.
    for unread in [false, true] {
        let srv = TestServer::new();
        ast.originate(&format!("{}@app", srv.port), "1@tone");
        let conn = srv.accept_call();
        if unread {
            std::thread::sleep(Duration::from_millis(500));
            drop(conn);
        } else {
            conn.reset();
        }
        let line = ast.expect_log(&[&format!("RESULT {}", srv.port)], 5 * S);
        assert!(line.contains("status=SERVER_HANGUP"), "{line}");
        let ended = ast.expect_log(&[&format!("127.0.0.1:{} ended", srv.port)], S);
        assert!(ended.contains("the server hung up ("), "{ended}");
        assert!(!ended.contains("ERROR"), "{ended}");
    }
    assert!(
        ast.wait_log(&["ERROR", "AudioSocket"], Duration::ZERO)
            .is_none(),
        "{}",
        ast.log_tail()
    );
}

#[test]
fn a_redirect_takes_the_caller_elsewhere_and_is_not_a_hangup() {
    let Some(ast) = Asterisk::start("redirect", &dialplan()) else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@app", srv.port), "1@tone");
    let mut conn = srv.accept_call();
    conn.read_for(Duration::from_millis(300));
    let concise = ast.cli("core show channels concise");
    let chan = concise
        .lines()
        .find(|l| l.contains("!AudioSocket!"))
        .and_then(|l| l.split('!').next())
        .unwrap_or_else(|| panic!("no channel in AudioSocket() in {concise}"))
        .to_string();
    ast.cli(&format!("channel redirect {chan} elsewhere,{},1", srv.port));
    let line = ast.expect_log(&[&format!("ELSEWHERE {}", srv.port)], 5 * S);
    assert!(line.contains("status=REDIRECTED"), "{line}");
    assert!(
        ast.wait_log(&[&format!("RESULT {}", srv.port)], Duration::ZERO)
            .is_none(),
        "the dialplan after AudioSocket() did not run"
    );
    let bye = conn.read_for(2 * S);
    assert!(bye.iter().any(|(_, m)| m.kind == 0x00), "a hangup message");
    assert!(conn.wait_closed(2 * S));
    ast.expect_log(&["ended: the channel was redirected elsewhere"], S);
}

#[test]
fn the_driver_tells_a_callers_hangup_like_the_application() {
    let Some((ast, mut ami)) = ami::start(
        "driver_caller_hangup",
        &dialplan(),
        "AUDIOSOCKET_STATUS",
        &[],
    ) else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@dial", srv.port), "1@hangup1");
    let mut conn = srv.accept_call();
    let name = format!("AudioSocket/127.0.0.1:{}-{UUID}", srv.port);
    let end = ami.event("AudioSocketSessionEnd", 10 * S);
    assert_eq!(end.field("Channel"), name);
    assert_eq!(end.field("Status"), "CHANNEL_HANGUP");
    let hangup = ami.wait_for("Hangup of the AudioSocket channel", 10 * S, |m| {
        m.get("Event") == Some("Hangup") && m.get("Channel") == Some(name.as_str())
    });
    assert!(
        hangup
            .all("ChanVariable")
            .contains(&"AUDIOSOCKET_STATUS=CHANNEL_HANGUP"),
        "{hangup:?}"
    );
    ast.expect_log(&[&name, "ended: the channel hung up"], S);
    assert!(conn.wait_closed(5 * S));
}

#[test]
fn an_inactivity_timeout_is_a_notice_and_a_normal_clearing_in_both() {
    let Some(ast) = Asterisk::start("inactivity_both", &dialplan()) else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@app-idle", srv.port), "1@silent");
    let _conn = srv.accept_call();
    let line = ast.expect_log(&[&format!("RESULT {}", srv.port)], 5 * S);
    assert!(line.contains("status=TIMEOUT"), "{line}");
    let told = ast.expect_log(&[&format!("127.0.0.1:{} ended: no audio", srv.port)], S);
    assert!(told.contains("NOTICE"), "{told}");

    let srv = TestServer::new();
    ast.originate(&format!("{}@dial-idle", srv.port), "1@silent");
    let _conn = srv.accept_call();
    let hh = ast.expect_log(&["AS-HANGUP", &format!("127.0.0.1:{}-", srv.port)], 5 * S);
    assert!(hh.contains("cause=16 status=TIMEOUT"), "{hh}");
    let told = ast.expect_log(&[&format!("127.0.0.1:{} ended: no audio", srv.port)], S);
    assert!(told.contains("NOTICE"), "{told}");
    assert!(
        ast.wait_log(&["ERROR", "AudioSocket"], Duration::ZERO)
            .is_none(),
        "{}",
        ast.log_tail()
    );
}

#[test]
fn connected_is_logged_once_per_call() {
    let Some(ast) = Asterisk::start("connected_once", &dialplan()) else {
        return;
    };
    for ctx in ["app", "dial"] {
        let srv = TestServer::new();
        ast.originate(&format!("{}@{ctx}", srv.port), "1@tone");
        let mut conn = srv.accept_call();
        conn.read_for(Duration::from_millis(300));
        conn.hangup();
        ast.expect_log(&[&format!("127.0.0.1:{} ended", srv.port)], 5 * S);
        let connected = ast
            .log()
            .lines()
            .filter(|l| l.contains("connected") && l.contains(&format!("127.0.0.1:{}", srv.port)))
            .count();
        assert_eq!(connected, 1, "{ctx}:\n{}", ast.log_tail());
    }
}
