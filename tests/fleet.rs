//! Several servers behind one name: Asterisk is given a hosts file (through
//! nss_wrapper) in which `fleet.test` stands for 127.0.0.2, 127.0.0.3 and
//! ::1, and a server listens on each. Calls take them in turns, dead ones
//! are skipped at once, and the CLI names the address each session reached.

mod common;

use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use common::asterisk::{installed, nss_wrapper, skip, Options};
use common::server::Conn;
use common::{Asterisk, UUID};

const FLEET: [&str; 3] = ["127.0.0.2", "127.0.0.3", "[::1]"];

const S: Duration = Duration::from_secs(1);

fn dialplan() -> String {
    format!(
        "[fleet]\nexten => _X.,1,Answer()\n \
         same => n,AudioSocket({UUID},fleet.test:${{EXTEN}})\n \
         same => n,Log(NOTICE,RESULT ${{EXTEN}} status=${{AUDIOSOCKET_STATUS}})\n same => n,Hangup()\n{}",
        common::FAR_ENDS
    )
}

/// An Asterisk that resolves fleet.test to the three addresses.
fn start(test: &str) -> Option<Asterisk> {
    installed(test)?;
    if nss_wrapper().is_none() {
        skip(
            test,
            "needs Debian's libnss-wrapper to give Asterisk a hosts file",
        );
        return None;
    }
    let hosts: Vec<(&str, &str)> = FLEET
        .iter()
        .map(|a| (a.trim_matches(['[', ']']), "fleet.test"))
        .collect();
    Asterisk::start_with(
        test,
        Options {
            dialplan: &dialplan(),
            hosts: &hosts,
            ..Options::default()
        },
    )
}

/// Listeners on the given loopback addresses, sharing one port.
fn listeners(hosts: &[&str]) -> (Vec<TcpListener>, u16) {
    'again: loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut all = Vec::new();
        for h in hosts {
            match TcpListener::bind(format!("{h}:{port}")) {
                Ok(l) => all.push(l),
                Err(_) => continue 'again,
            }
        }
        for l in &all {
            l.set_nonblocking(true).unwrap();
        }
        return (all, port);
    }
}

/// The next connection on any of `ls`, and which listener took it.
fn accept_any(ls: &[TcpListener], timeout: Duration) -> Option<(usize, Conn)> {
    let t0 = Instant::now();
    while t0.elapsed() < timeout {
        for (i, l) in ls.iter().enumerate() {
            if let Ok((s, _)) = l.accept() {
                s.set_nonblocking(false).unwrap();
                return Some((i, Conn { stream: s }));
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

#[test]
fn calls_to_a_name_take_its_addresses_in_turns_and_the_cli_names_each() {
    let Some(ast) = start("fleet_spread") else {
        return;
    };
    let (ls, port) = listeners(&FLEET);
    let mut per = [0; 3];
    for call in 0..9 {
        ast.originate(&format!("{port}@fleet"), "1@silent");
        let (i, mut conn) = accept_any(&ls, 5 * S).expect("the call connects");
        per[i] += 1;
        conn.read_msg(2 * S).unwrap();
        if call == 0 {
            let addr = ls[i].local_addr().unwrap();
            let shown = ast.cli(&format!("audiosocket show session {UUID}"));
            assert!(
                shown.contains(&format!("Server:           fleet.test:{port}")),
                "{shown}"
            );
            assert!(
                shown.contains(&format!("Address:          {addr}")),
                "{shown}"
            );
            let listed = ast.cli("audiosocket show sessions");
            assert!(listed.contains(&addr.to_string()), "{listed}");
        }
        conn.hangup();
        ast.expect_log(&[&format!("RESULT {port}"), "SERVER_HANGUP"], 5 * S);
        // The next call's RESULT line must be its own.
        ast.cli("logger rotate");
    }
    assert_eq!(per, [3, 3, 3], "calls per address");
    let stats = ast.cli("audiosocket show stats");
    for l in &ls {
        let addr = l.local_addr().unwrap().to_string();
        let row = stats
            .lines()
            .find(|r| r.contains(&addr))
            .unwrap_or_else(|| panic!("{addr} in {stats}"));
        let counts: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(counts[1..], ["3", "0", "-"], "{row}");
    }
}

#[test]
fn with_one_server_down_every_call_still_connects_and_fast() {
    let Some(ast) = start("fleet_one_down") else {
        return;
    };
    // Only 127.0.0.3 listens; the two others refuse.
    let (ls, port) = listeners(&["127.0.0.3"]);
    for _ in 0..6 {
        let t0 = Instant::now();
        ast.originate(&format!("{port}@fleet"), "1@silent");
        let (_, mut conn) = accept_any(&ls, 5 * S).expect("the call connects");
        assert!(t0.elapsed() < S, "connected after {:?}", t0.elapsed());
        conn.read_msg(2 * S).unwrap();
        conn.hangup();
        ast.expect_log(&[&format!("RESULT {port}"), "SERVER_HANGUP"], 5 * S);
        ast.cli("logger rotate");
    }
    let stats = ast.cli("audiosocket show stats");
    for down in ["127.0.0.2", "[::1]"] {
        let down: SocketAddr = format!("{down}:{port}").parse().unwrap();
        let row = stats
            .lines()
            .find(|r| r.contains(&down.to_string()))
            .unwrap_or_else(|| panic!("{down} in {stats}"));
        assert!(row.contains("s more"), "tried last for a while: {row}");
        let counts: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(counts[1], "0", "{row}");
        // Each refused once; then tried last, never reached again.
        assert_eq!(counts[2], "1", "{row}");
    }
}
