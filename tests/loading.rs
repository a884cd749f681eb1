//! Loading, unloading and describing the module in a real Asterisk.

mod common;

use std::time::{Duration, Instant};

use common::asterisk::Options;
use common::{Asterisk, TestServer, UUID};

const S: Duration = Duration::from_secs(1);
const MODULE: &str = "chan_audiosocket_rs.so";

fn dialplan() -> String {
    format!(
        "{}[dial]\nexten => _X.,1,Dial(AudioSocket/127.0.0.1:${{EXTEN}}/{UUID},,g)\n \
         same => n,Log(NOTICE,DIALED ${{EXTEN}} status=${{DIALSTATUS}})\n same => n,Hangup()\n\
         {}",
        common::app_context(),
        common::FAR_ENDS
    )
}

/// One call through the application and one through the channel driver,
/// each ended by the server after a little audio.
fn make_calls(ast: &Asterisk) {
    for (ctx, done) in [("app", "RESULT"), ("dial", "DIALED")] {
        let srv = TestServer::new();
        ast.originate(&format!("{}@{ctx}", srv.port), "1@tone");
        let mut conn = srv
            .accept(5 * S)
            .unwrap_or_else(|| panic!("{ctx}: the module connects"));
        assert_eq!(conn.read_msg(2 * S).unwrap().kind, 0x01);
        let audio = conn.read_for(Duration::from_millis(300));
        assert!(!audio.is_empty(), "{ctx}: audio flows");
        conn.hangup();
        ast.expect_log(&[&format!("{done} {}", srv.port)], 5 * S);
    }
    assert!(ast.wait_no_channels(5 * S), "calls ended");
}

#[test]
fn load_unload_and_load_again_repeatedly_with_calls_between() {
    let Some(ast) = Asterisk::start("load_unload_load", &dialplan()) else {
        return;
    };
    let shown = ast.cli("module show like audiosocket");
    assert!(
        shown.contains(MODULE) && shown.contains("AudioSocket app & driver "),
        "{shown}"
    );
    for round in 0..3 {
        make_calls(&ast);
        let out = ast.cli(&format!("module unload {MODULE}"));
        assert!(out.contains("Unloaded"), "round {round}: {out}");
        assert!(!ast.cli("module show like audiosocket").contains(MODULE));
        assert!(!ast
            .cli("core show applications like AudioSocket")
            .contains("AudioSocket:"));
        let out = ast.cli(&format!("module load {MODULE}"));
        assert!(
            out.contains("Loaded"),
            "round {round}: {out}\n{}",
            ast.log_tail()
        );
        assert!(ast.cli("module show like audiosocket").contains(MODULE));
    }
    make_calls(&ast);
    let log = ast.log();
    assert!(
        !log.contains("could not be completely unloaded"),
        "{}",
        ast.log_tail()
    );
    assert!(
        !log.contains("did not register itself"),
        "{}",
        ast.log_tail()
    );
}

#[test]
fn builtin_modules_holding_the_names_make_loading_decline_with_advice() {
    let Some(ast) = Asterisk::start_with(
        "builtin_conflict",
        Options {
            dialplan: &dialplan(),
            load_module: false,
            builtin: true,
            ..Options::default()
        },
    ) else {
        return;
    };
    if !ast
        .cli("module show like audiosocket")
        .contains("app_audiosocket.so")
    {
        eprintln!("this Asterisk has no built-in app_audiosocket; nothing to conflict with");
        return;
    }
    let out = ast.cli(&format!("module load {MODULE}"));
    assert!(!out.contains("Loaded"), "{out}");
    let line = ast.expect_log(
        &[
            "ERROR",
            "chan_audiosocket_rs",
            "noload => app_audiosocket.so",
        ],
        5 * S,
    );
    assert!(line.contains("noload => chan_audiosocket.so"), "{line}");
    ast.cli("module unload chan_audiosocket.so");
    ast.cli("module unload app_audiosocket.so");
    let out = ast.cli(&format!("module load {MODULE}"));
    assert!(out.contains("Loaded"), "{out}\n{}", ast.log_tail());
    make_calls(&ast);
}

#[test]
fn core_show_application_documents_syntax_options_and_variables() {
    let Some(ast) = Asterisk::start("show_application", "") else {
        return;
    };
    let doc = ast.cli("core show application AudioSocket");
    for want in [
        "AudioSocket(uuid,host:port[,options])",
        "uuid",
        "host:port",
        "[IPv6 address]",
        "c(codec)",
        "slin16",
        "t(seconds)",
        "i(seconds)",
        "AUDIOSOCKET_STATUS",
        "AUDIOSOCKET_ERROR_CODE",
        "SERVER_HANGUP",
        "CONNECT_FAILED",
        "INVALID_ARGUMENTS",
    ] {
        assert!(doc.contains(want), "missing {want:?} in:\n{doc}");
    }
}

#[test]
fn unload_with_a_live_call_is_refused_and_allowed_after() {
    let Some(ast) = Asterisk::start("unload_live_call", &dialplan()) else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@app", srv.port), "1@tone");
    let mut conn = srv.accept_call();
    let t0 = Instant::now();
    let out = ast.cli(&format!("module unload {MODULE}"));
    assert!(
        t0.elapsed() < S,
        "refused at once, never waiting for the call"
    );
    assert!(!out.contains("Unloaded"), "{out}");
    ast.expect_log(&["chan_audiosocket_rs", "use count"], 5 * S);
    assert!(ast.cli("module show like audiosocket").contains(MODULE));
    // The call still works, and so do new ones.
    assert!(!conn.read_for(Duration::from_millis(300)).is_empty());
    let second = TestServer::new();
    ast.originate(&format!("{}@app", second.port), "1@tone");
    let mut other = second.accept_call();
    other.hangup();
    conn.hangup();
    ast.expect_log(&[&format!("RESULT {}", srv.port)], 5 * S);
    assert!(ast.wait_no_channels(5 * S));
    let out = ast.cli(&format!("module unload {MODULE}"));
    assert!(out.contains("Unloaded"), "{out}");
}
