//! The audiosocket CLI commands during and after a live call.

mod common;

use std::time::Duration;

use common::{Asterisk, TestServer, UUID};

const S: Duration = Duration::from_secs(1);

fn dialplan() -> String {
    format!("{}{}", common::app_context(), common::FAR_ENDS)
}

#[test]
fn show_sessions_session_and_stats_during_and_after_a_call() {
    let Some(ast) = Asterisk::start("cli_commands", &dialplan()) else {
        return;
    };
    assert!(ast
        .cli("audiosocket show sessions")
        .contains("0 AudioSocket sessions"));
    let srv = TestServer::new();
    ast.originate(&format!("{}@app", srv.port), "1@tone");
    let mut conn = srv.accept_call();
    conn.send_audio(0x10, &common::ramp(8000), 320);
    conn.read_for(Duration::from_millis(500));

    let table = ast.cli("audiosocket show sessions");
    let line = table
        .lines()
        .find(|l| l.starts_with(&format!("Local/{}@app", srv.port)))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(
        line.contains(UUID) && line.contains(&format!("127.0.0.1:{}", srv.port)),
        "{line}"
    );
    assert!(line.contains(" 8000 "), "{line}");
    assert!(table.contains("1 AudioSocket session\n"), "{table}");
    let channel = line.split_whitespace().next().unwrap().to_string();

    for key in [UUID, channel.as_str()] {
        let detail = ast.cli(&format!("audiosocket show session {key}"));
        assert!(detail.contains("State:            connected"), "{detail}");
        assert!(
            detail.contains(&format!("Channel:          {channel}")),
            "{detail}"
        );
        let frames = detail
            .lines()
            .find(|l| l.starts_with("Frames up/down"))
            .unwrap();
        let (up, down) = frames.rsplit_once(' ').unwrap().1.split_once('/').unwrap();
        assert!(
            up.parse::<u64>().unwrap() > 10 && down.parse::<u64>().unwrap() > 10,
            "{frames}"
        );
    }
    assert!(ast
        .cli("audiosocket show session nope")
        .contains("No AudioSocket session"));

    // Tab completion offers the live session's channel and UUID.
    let offered = ast.cli("_command matchesarray \"audiosocket show session \" \"\"");
    assert!(
        offered.contains(UUID) && offered.contains(&channel),
        "{offered}"
    );

    conn.hangup();
    ast.expect_log(&[&format!("RESULT {}", srv.port)], 5 * S);
    let stats = ast.cli("audiosocket show stats");
    assert!(stats.contains("Sessions started:   1"), "{stats}");
    assert!(stats.contains("Sessions live:      0"), "{stats}");
    assert!(stats.contains("  SERVER_HANGUP     1"), "{stats}");
    let bytes_down: u64 = stats
        .lines()
        .find(|l| l.starts_with("Bytes down:"))
        .and_then(|l| l.split_whitespace().last()?.parse().ok())
        .unwrap();
    assert!(bytes_down >= 16_000, "{stats}");
}
