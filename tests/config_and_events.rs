//! audiosocket.conf (load, reload, a bad file) and the AMI session events.

mod common;

use std::time::Duration;

use common::ami;
use common::asterisk::Options;
use common::{Asterisk, TestServer, UUID};

const S: Duration = Duration::from_secs(1);

fn dialplan() -> String {
    format!("{}{}", common::app_context(), common::FAR_ENDS)
}

/// Makes one call and returns the kind of the audio the server received.
fn call_kind(ast: &Asterisk) -> u8 {
    let srv = TestServer::new();
    ast.originate(&format!("{}@app", srv.port), "1@tone");
    let mut conn = srv.accept_call();
    let m = conn.read_msg(2 * S).expect("audio");
    conn.hangup();
    ast.expect_log(&[&format!("RESULT {}", srv.port)], 5 * S);
    m.kind
}

#[test]
fn settings_load_reload_and_survive_a_bad_file() {
    let conf = "[general]\ndefault_codec = slin16\nconnect_timeout = 3\n";
    let Some(ast) = Asterisk::start_with(
        "config_reload",
        Options {
            dialplan: &dialplan(),
            files: &[("audiosocket.conf", conf)],
            ..Options::default()
        },
    ) else {
        return;
    };
    assert_eq!(
        call_kind(&ast),
        0x12,
        "default_codec = slin16 applies to calls without c()"
    );

    ast.cli("module reload chan_audiosocket_rs.so");
    ast.expect_log(&["audiosocket.conf unchanged; settings kept"], 5 * S);

    ast.write_config(
        "audiosocket.conf",
        "[general]\ndefault_codec = ulaw\nbogus = 1\n",
    );
    ast.cli("module reload chan_audiosocket_rs.so");
    let line = ast.expect_log(&["ERROR", "audiosocket.conf", "line 2", "ulaw"], 5 * S);
    assert!(line.contains("default_codec"), "{line}");
    ast.expect_log(
        &[
            "ERROR",
            "audiosocket.conf",
            "line 3",
            "unknown setting 'bogus'",
        ],
        S,
    );
    ast.expect_log(&["previous settings stay in force"], S);
    assert_eq!(call_kind(&ast), 0x12, "a bad file changes nothing");

    ast.write_config("audiosocket.conf", "[general]\ndefault_codec = slin\n");
    ast.cli("module reload chan_audiosocket_rs.so");
    assert_eq!(call_kind(&ast), 0x10, "a good file applies after reload");
}

/// The file is read by Asterisk's own parser: #include, templates and
/// escaped semicolons behave as in every other Asterisk file, and the
/// sample file loads without a complaint.
#[test]
fn the_file_behaves_like_every_asterisk_configuration_file() {
    let conf = "; the codec comes from a template, the timeout from an include\n\
                [defaults](!)\ndefault_codec = slin16 ; a comment\n\
                [general](defaults)\n#include audiosocket-more.conf\n";
    let Some(ast) = Asterisk::start_with(
        "config_parser",
        Options {
            dialplan: &dialplan(),
            files: &[
                ("audiosocket.conf", conf),
                ("audiosocket-more.conf", "connect_timeout = 4\n"),
            ],
            ..Options::default()
        },
    ) else {
        return;
    };
    let settings = ast.expect_log(&["settings from audiosocket.conf"], 5 * S);
    assert!(settings.contains("connect_timeout: 4s"), "{settings}");
    assert!(
        settings.contains("default_rate: Some(Hz16000)"),
        "{settings}"
    );
    assert_eq!(call_kind(&ast), 0x12, "the template's codec applies");

    // An escaped semicolon is part of the value, not a comment.
    ast.write_config(
        "audiosocket.conf",
        "[general]\ndefault_codec = slin16\\;x\n",
    );
    ast.cli("module reload chan_audiosocket_rs.so");
    ast.expect_log(
        &["ERROR", "line 2", "'slin16;x' is not a signed linear codec"],
        5 * S,
    );

    let sample = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/audiosocket.conf"),
    )
    .unwrap();
    ast.write_config("audiosocket.conf", &sample);
    let errors = || ast.log().matches("ERROR").count();
    let before = errors();
    ast.cli("module reload chan_audiosocket_rs.so");
    let line = ast.expect_log(
        &["settings from audiosocket.conf", "default_rate: None"],
        5 * S,
    );
    assert!(line.contains("connect_timeout: 2s"), "{line}");
    assert_eq!(
        errors(),
        before,
        "the sample has no error:\n{}",
        ast.log_tail()
    );
}

#[test]
fn ami_events_follow_each_session() {
    let Some((ast, mut ami)) = ami::start("ami_events", &dialplan(), "", &[]) else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@app", srv.port), "1@tone");
    let mut conn = srv.accept_call();
    let start = ami.event("AudioSocketSessionStart", 10 * S);
    assert_eq!(start.field("UUID"), UUID);
    assert_eq!(start.field("Server"), format!("127.0.0.1:{}", srv.port));
    assert_eq!(start.field("Rate"), "8000");
    assert!(start
        .field("Channel")
        .starts_with(&format!("Local/{}@app", srv.port)));

    conn.read_for(Duration::from_millis(500));
    conn.send(0xff, &[0x07]);
    let end = ami.event("AudioSocketSessionEnd", 10 * S);
    assert_eq!(end.field("Channel"), start.field("Channel"));
    assert_eq!(end.field("Status"), "SERVER_ERROR");
    assert_eq!(end.field("ErrorCode"), "0x07");
    assert!(
        end.field("FramesUp").parse::<u64>().unwrap() >= 20,
        "{end:?}"
    );
    assert!(
        end.field("DurationMs").parse::<u64>().unwrap() >= 400,
        "{end:?}"
    );
}
