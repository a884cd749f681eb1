//! TLS to the server on a real Asterisk: the application and the driver
//! through a TLS front (certificates made here), mutual TLS, the failures
//! a user meets, the profiles in audiosocket.conf, and stunnel in front of
//! a plain server as users deploy it.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::asterisk::{skip, Options};
use common::server::audio_of;
use common::tls::{server_config, ClientAuth, Issued, Pki, Role, TlsFront};
use common::{ramp, uuid_bytes, Asterisk, TestServer, UUID};
use rustls::version::{TLS12, TLS13};

const S: Duration = Duration::from_secs(1);

fn dialplan() -> String {
    let app = |ctx: &str, opts: &str| {
        format!(
            "[{ctx}]\nexten => _X.,1,Answer()\n \
             same => n,AudioSocket({UUID},127.0.0.1:${{EXTEN}},{opts})\n \
             same => n,Log(NOTICE,RESULT ${{EXTEN}} status=${{AUDIOSOCKET_STATUS}})\n \
             same => n,Hangup()\n"
        )
    };
    [
        app("tls-bot", "s(bot)"),
        app("tls-bot16", "c(slin16)s(bot)"),
        app("tls-system", "s"),
        app("tls-none", "s(nope)"),
        app("tls-lab", "s(lab)"),
        format!(
            "[dial-mtls]\nexten => _X.,1,Dial(AudioSocket/127.0.0.1:${{EXTEN}}/{UUID}/s(mtls),,g)\n \
             same => n,Log(NOTICE,DIALED ${{EXTEN}} dialstatus=${{DIALSTATUS}})\n \
             same => n,Hangup()\n"
        ),
        common::FAR_ENDS.into(),
    ]
    .join("\n")
}

/// The profiles the tests use: `bot` trusts the tests' CA, `mtls` also
/// shows the PBX's certificate.
fn conf(pki: &Pki, pbx: &Issued) -> String {
    let ca = pki.ca_file().display().to_string();
    format!(
        "[bot]\ntype = tls\nca_file = {ca}\n\n\
         [mtls]\ntype = tls\nca_file = {ca}\ncert_file = {}\nkey_file = {}\n",
        pbx.cert_file.display(),
        pbx.key_file.display()
    )
}

fn start(test: &str, pki: &Pki, pbx: &Issued) -> Option<Asterisk> {
    Asterisk::start_with(
        test,
        Options {
            dialplan: &dialplan(),
            files: &[("audiosocket.conf", &conf(pki, pbx))],
            ..Options::default()
        },
    )
}

/// Sends a second of audio to the caller (an Echo() far end) and checks
/// it comes back up: whole and unchanged at 8 kHz; at 16 kHz, where
/// Asterisk resamples on the way through the Local channel to Echo(), as
/// a second of loud 16 kHz frames.
fn round_trip(conn: &mut common::Conn, kind: u8, rate_hz: usize) {
    let frame = rate_hz / 50 * 2;
    // The echo returns only what the server sends; let the bridge settle.
    std::thread::sleep(Duration::from_millis(300));
    let pcm = ramp(rate_hz);
    conn.send_audio(kind, &pcm, frame);
    let msgs = conn.read_for(2 * S);
    assert!(
        msgs.iter().all(|(_, m)| m.kind == kind),
        "only kind {kind:#x}"
    );
    let up = audio_of(&msgs, kind);
    if rate_hz == 8000 {
        let start = up
            .windows(8)
            .position(|w| w == &pcm[..8])
            .expect("the audio comes back up");
        assert!(
            up.len() - start >= pcm.len(),
            "{} bytes back",
            up.len() - start
        );
        assert!(
            up[start..start + pcm.len()] == pcm[..],
            "whole and in order"
        );
    } else {
        let loud = msgs
            .iter()
            .filter(|(_, m)| m.payload.len() == frame && common::peak(&m.payload) > 5000)
            .count();
        assert!(loud >= 45, "{loud} loud frames of {frame} bytes came back");
    }
}

/// The session's line in `audiosocket show session`.
fn encryption(ast: &Asterisk) -> String {
    let shown = ast.cli(&format!("audiosocket show session {UUID}"));
    shown
        .lines()
        .find(|l| l.starts_with("Encryption:"))
        .unwrap_or_else(|| panic!("{shown}"))
        .to_string()
}

#[test]
fn the_application_streams_both_ways_over_tls_at_8_and_16_khz() {
    let pki = Pki::new("app");
    let pbx = pki.issue("pbx", &["pbx.example"], Role::Client, false);
    let server = pki.issue("server", &["127.0.0.1"], Role::Server, false);
    let Some(ast) = start("tls_app", &pki, &pbx) else {
        return;
    };
    for (ctx, kind, hz, version, shown) in [
        ("tls-bot", 0x10, 8000, &TLS13, "TLS 1.3"),
        ("tls-bot16", 0x12, 16000, &TLS12, "TLS 1.2"),
    ] {
        let srv = TestServer::new();
        let front = TlsFront::start(
            server_config(&server, ClientAuth::None, &[version]),
            srv.port,
        );
        ast.originate(&format!("{}@{ctx}", front.port), "1@echo");
        let mut conn = srv.accept_call();
        round_trip(&mut conn, kind, hz);
        let line = encryption(&ast);
        assert!(line.contains(shown), "{line}");
        ast.expect_log(&["AudioSocket connected to", shown], S);
        conn.hangup();
        ast.expect_log(
            &[&format!("RESULT {} status=SERVER_HANGUP", front.port)],
            5 * S,
        );
    }
}

#[test]
fn the_driver_connects_with_mutual_tls() {
    let pki = Pki::new("driver");
    let pbx = pki.issue("pbx", &["pbx.example"], Role::Client, false);
    let server = pki.issue("server", &["127.0.0.1"], Role::Server, false);
    let Some(ast) = start("tls_driver", &pki, &pbx) else {
        return;
    };
    let srv = TestServer::new();
    let front = TlsFront::start(
        server_config(&server, ClientAuth::Required(&pki), &[&TLS13]),
        srv.port,
    );
    ast.originate(&format!("{}@dial-mtls", front.port), "1@echo");
    let mut conn = srv.accept(5 * S).expect("the driver connects");
    let first = conn.read_msg(2 * S).expect("a first message");
    assert_eq!((first.kind, first.payload), (0x01, uuid_bytes()));
    round_trip(&mut conn, 0x10, 8000);
    assert!(encryption(&ast).contains("TLS 1.3"));
    conn.hangup();
    ast.expect_log(
        &[&format!("DIALED {} dialstatus=ANSWER", front.port)],
        5 * S,
    );
    assert!(front.errors.lock().unwrap().is_empty());
}

/// Each failure a user meets sets CONNECT_FAILED, promptly, with one log
/// line that names the channel, the server and the reason.
#[test]
fn failed_handshakes_set_connect_failed_and_say_why() {
    let pki = Pki::new("failures");
    let stranger = Pki::new("stranger");
    let pbx = pki.issue("pbx", &["pbx.example"], Role::Client, false);
    let server = pki.issue("server", &["127.0.0.1"], Role::Server, false);
    let unknown = stranger.issue("unknown", &["127.0.0.1"], Role::Server, false);
    let misnamed = pki.issue("misnamed", &["elsewhere.example"], Role::Server, false);
    let expired = pki.issue("expired", &["127.0.0.1"], Role::Server, true);
    let Some(ast) = start("tls_failures", &pki, &pbx) else {
        return;
    };
    let tls = |cert: &Issued, clients| Some(server_config(cert, clients, &[&TLS13]));
    let cases = [
        (
            "tls-bot",
            tls(&unknown, ClientAuth::None),
            "not signed by a trusted CA",
        ),
        // `s` alone trusts the system's CAs, which do not know the tests' CA.
        (
            "tls-system",
            tls(&server, ClientAuth::None),
            "not signed by a trusted CA",
        ),
        (
            "tls-bot",
            tls(&misnamed, ClientAuth::None),
            "not valid for the name",
        ),
        ("tls-bot", tls(&expired, ClientAuth::None), "has expired"),
        (
            "tls-bot",
            tls(&server, ClientAuth::Required(&pki)),
            "wants a client certificate",
        ),
        ("tls-bot", None, "did not complete the handshake in time"),
    ];
    for (ctx, config, why) in cases {
        let srv = TestServer::new();
        let port = match config {
            Some(config) => TlsFront::start(config, srv.port).port,
            // A plain AudioSocket server, which waits for the UUID.
            None => srv.port,
        };
        let t0 = Instant::now();
        ast.originate(&format!("{port}@{ctx}"), "1@silent");
        let line = ast.expect_log(&[&format!("127.0.0.1:{port}"), "could not connect"], 5 * S);
        assert!(line.contains(why), "{ctx}: {line}");
        assert!(line.contains("ERROR"), "{line}");
        assert!(
            line.contains(&format!("{port}@{ctx}")),
            "names the channel: {line}"
        );
        ast.expect_log(&[&format!("RESULT {port} status=CONNECT_FAILED")], 5 * S);
        assert!(t0.elapsed() < 4 * S, "{ctx}: {:?}", t0.elapsed());
    }
    // A profile audiosocket.conf lacks: the arguments are wrong.
    ast.originate("99@tls-none", "1@silent");
    let line = ast.expect_log(&["no TLS profile [nope] in audiosocket.conf"], 5 * S);
    assert!(
        line.contains("ERROR") && line.contains("99@tls-none"),
        "{line}"
    );
}

/// Profiles are read at load and on reload: one that does not verify is
/// warned about; a bad one is reported with its line and the previous
/// profiles stay in force.
#[test]
fn profiles_load_warn_and_survive_a_bad_reload() {
    let pki = Pki::new("reload");
    let pbx = pki.issue("pbx", &["pbx.example"], Role::Client, false);
    let server = pki.issue("server", &["127.0.0.1"], Role::Server, false);
    let ca = pki.ca_file().display().to_string();
    let text = format!(
        "{}\n[lab]\ntype = tls\nca_file = {ca}\nverify_server = no\n",
        conf(&pki, &pbx)
    );
    let Some(ast) = Asterisk::start_with(
        "tls_reload",
        Options {
            dialplan: &dialplan(),
            files: &[("audiosocket.conf", &text)],
            ..Options::default()
        },
    ) else {
        return;
    };
    ast.expect_log(
        &["WARNING", "TLS profile [lab] has verify_server = no"],
        5 * S,
    );
    // A call through it says, wherever its encryption shows, that its
    // server was not checked.
    {
        let srv = TestServer::new();
        let front = TlsFront::start(
            server_config(&server, ClientAuth::None, &[&TLS13]),
            srv.port,
        );
        ast.originate(&format!("{}@tls-lab", front.port), "1@silent");
        let mut conn = srv.accept_call();
        let line = ast.expect_log(
            &[
                "AudioSocket connected to",
                &format!("127.0.0.1:{}", front.port),
            ],
            5 * S,
        );
        assert!(
            line.contains("TLS 1.3") && line.ends_with("unverified)"),
            "{line}"
        );
        assert!(
            encryption(&ast).ends_with(", unverified"),
            "{}",
            encryption(&ast)
        );
        conn.hangup();
        ast.expect_log(
            &[&format!("RESULT {} status=SERVER_HANGUP", front.port)],
            5 * S,
        );
    }

    ast.write_config(
        "audiosocket.conf",
        "[bot]\ntype = tls\nca_file = /nonexistent/ca.pem\n",
    );
    ast.cli("module reload chan_audiosocket_rs.so");
    let line = ast.expect_log(&["ERROR", "audiosocket.conf", "line 3", "ca_file"], 5 * S);
    assert!(line.contains("cannot read /nonexistent/ca.pem"), "{line}");
    ast.expect_log(&["previous settings stay in force"], S);

    // The previous [bot] still connects.
    let srv = TestServer::new();
    let front = TlsFront::start(
        server_config(&server, ClientAuth::None, &[&TLS13]),
        srv.port,
    );
    ast.originate(&format!("{}@tls-bot", front.port), "1@silent");
    let mut conn = srv.accept_call();
    conn.hangup();
    ast.expect_log(
        &[&format!("RESULT {} status=SERVER_HANGUP", front.port)],
        5 * S,
    );
}

/// stunnel (Debian's package) in front of a plain AudioSocket server.
struct Stunnel {
    child: Child,
    port: u16,
}

impl Stunnel {
    fn start(dir: &Path, cert: &Issued, backend: u16) -> Option<Stunnel> {
        let bin = ["stunnel4", "stunnel"].into_iter().find(|b| {
            Command::new(b)
                .arg("-version")
                .stderr(Stdio::null())
                .output()
                .is_ok()
        })?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let conf = dir.join("stunnel.conf");
        std::fs::write(
            &conf,
            format!(
                "foreground = yes\npid =\n[audiosocket]\naccept = 127.0.0.1:{port}\n\
                 connect = 127.0.0.1:{backend}\ncert = {}\nkey = {}\n\
                 socket = l:TCP_NODELAY=1\nsocket = r:TCP_NODELAY=1\n",
                cert.cert_file.display(),
                cert.key_file.display()
            ),
        )
        .unwrap();
        let child = Command::new(bin)
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let t0 = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(t0.elapsed() < 10 * S, "stunnel did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Stunnel { child, port })
    }
}

impl Drop for Stunnel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn stunnel_in_front_of_a_plain_server() {
    let pki = Pki::new("stunnel");
    let pbx = pki.issue("pbx", &["pbx.example"], Role::Client, false);
    let server = pki.issue("server", &["127.0.0.1"], Role::Server, false);
    let srv = TestServer::new();
    let Some(tunnel) = Stunnel::start(&pki.dir, &server, srv.port) else {
        skip(
            "stunnel_in_front_of_a_plain_server",
            "stunnel is not installed (apt-get install stunnel4)",
        );
        return;
    };
    let Some(ast) = start("tls_stunnel", &pki, &pbx) else {
        return;
    };
    ast.originate(&format!("{}@tls-bot", tunnel.port), "1@echo");
    let mut conn = srv.accept_call();
    round_trip(&mut conn, 0x10, 8000);
    assert!(encryption(&ast).contains("TLS 1."));
    conn.hangup();
    ast.expect_log(
        &[&format!("RESULT {} status=SERVER_HANGUP", tunnel.port)],
        5 * S,
    );
}
