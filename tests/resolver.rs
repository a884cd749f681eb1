//! A resolver that does not answer, on a real Asterisk: the call is given
//! its connect timeout and no more, a hangup ends the wait at once, and
//! `module unload` never waits for the lookups left running.
//!
//! The test Asterisk gets a resolv.conf of its own (in a mount namespace)
//! naming a name server on loopback that reads every query and answers
//! none.

mod common;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use common::asterisk::{private_resolv_conf, skip, Options};
use common::{Asterisk, TestServer, UUID};

const S: Duration = Duration::from_secs(1);
const NAME: &str = "bot.unanswered.test";

fn dialplan() -> String {
    let app = |ctx: &str, target: &str| {
        format!(
            "[{ctx}]\nexten => _X.,1,Answer()\n same => n,AudioSocket({UUID},{target})\n \
             same => n,Log(NOTICE,RESULT ${{EXTEN}} status=${{AUDIOSOCKET_STATUS}})\n \
             same => n,Hangup()\n"
        )
    };
    [
        app("silent-t1", &format!("{NAME}:${{EXTEN}},t(1)")),
        app("silent-t30", &format!("{NAME}:${{EXTEN}},t(30)")),
        app("app", "127.0.0.1:${EXTEN}"),
        common::FAR_ENDS.into(),
    ]
    .join("\n")
}

#[test]
fn a_silent_resolver_costs_a_call_its_timeout_and_nothing_else() {
    if !private_resolv_conf() {
        skip(
            "silent_resolver",
            "cannot give Asterisk its own resolv.conf (unshare --mount needs root)",
        );
        return;
    }
    let Ok(dns) = UdpSocket::bind("127.0.0.53:53").or_else(|_| UdpSocket::bind("127.0.0.54:53"))
    else {
        skip(
            "silent_resolver",
            "cannot listen on port 53 of a loopback address",
        );
        return;
    };
    let server = dns.local_addr().unwrap().ip().to_string();
    // Reads every query and answers none.
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while dns.recv(&mut buf).is_ok() {}
    });
    let Some(ast) = Asterisk::start_with(
        "silent_resolver",
        Options {
            dialplan: &dialplan(),
            nameserver: Some(&server),
            ..Options::default()
        },
    ) else {
        return;
    };
    let t0 = Instant::now();
    ast.originate("9092@silent-t1", "1@silent");
    let line = ast.expect_log(&["RESULT 9092"], 5 * S);
    assert!(line.contains("status=CONNECT_FAILED"), "{line}");
    let took = t0.elapsed();
    assert!(took < S * 2, "the call took {took:?} for t(1)");
    ast.expect_log(
        &["ERROR", NAME, "no answer from the resolver within 1000 ms"],
        S,
    );

    // A hangup ends the wait at once, whatever the connect timeout.
    ast.originate("9093@silent-t30", "1@silent");
    std::thread::sleep(S / 2);
    let t0 = Instant::now();
    ast.cli("channel request hangup all");
    ast.expect_log(
        &["bot.unanswered.test:9093 ended: the channel hung up"],
        5 * S,
    );
    assert!(t0.elapsed() < S, "the hangup took {:?}", t0.elapsed());
    assert!(ast.wait_no_channels(5 * S));

    // The lookups still run (the system's resolver gives up in its own
    // time): unload is refused at once rather than waiting for them, and
    // the module goes on as before.
    let t0 = Instant::now();
    let out = ast.cli("module unload chan_audiosocket_rs.so");
    assert!(t0.elapsed() < S, "unload took {:?}", t0.elapsed());
    assert!(!out.contains("Unloaded"), "{out}");
    ast.expect_log(&["WARNING", "still running; not unloading"], S);
    let srv = TestServer::new();
    ast.originate(&format!("{}@app", srv.port), "1@tone");
    let mut conn = srv.accept_call();
    conn.hangup();
    ast.expect_log(&[&format!("RESULT {}", srv.port), "SERVER_HANGUP"], 5 * S);
}
