//! The example server (examples/audiosocket_server/) answers as its
//! usage says: echo, record to WAV, play a WAV at real-time pace.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::example::binary;
use common::{ramp, uuid_bytes, Conn, UUID};

const S: Duration = Duration::from_secs(1);

struct Server(Child, u16);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts it on any free port and reads back the port it says it took:
/// a port chosen here and freed before the server binds it could go to
/// someone else in between.
fn start(args: &[&str]) -> Server {
    let mut child = Command::new(binary())
        .arg(args[0])
        .arg("127.0.0.1:0")
        .args(&args[1..])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut said = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    said.read_line(&mut line).unwrap();
    let port = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("127.0.0.1:"))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("the example server did not listen: {line:?}"));
    // What it says later (calls, recordings) still reaches the test's output.
    std::thread::spawn(move || {
        for line in said.lines().map_while(Result::ok) {
            eprintln!("{line}");
        }
    });
    Server(child, port)
}

fn connect(port: u16) -> Conn {
    let t0 = Instant::now();
    loop {
        if let Ok(stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let mut c = Conn { stream };
            c.send(0x01, &uuid_bytes());
            return c;
        }
        assert!(t0.elapsed() < 10 * S, "the example server did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn echo_sends_audio_and_dtmf_back() {
    let srv = start(&["echo"]);
    let mut c = connect(srv.1);
    let pcm = ramp(480);
    c.send(0x12, &pcm);
    c.send(0x03, b"7");
    assert_eq!(
        c.read_msg(5 * S).map(|m| (m.kind, m.payload)),
        Some((0x12, pcm))
    );
    assert_eq!(
        c.read_msg(5 * S).map(|m| (m.kind, m.payload)),
        Some((0x03, b"7".to_vec()))
    );
}

#[test]
fn record_writes_the_call_to_a_wav_file_and_play_plays_it_back_paced() {
    let dir = std::env::temp_dir().join(format!("ars-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rec = start(&["record", dir.to_str().unwrap()]);
    let mut c = connect(rec.1);
    let pcm = ramp(16_000); // one second at 16 kHz
    c.send_audio(0x12, &pcm, 640);
    c.hangup();
    let wav = dir.join(format!("{UUID}.wav"));
    let t0 = Instant::now();
    while std::fs::metadata(&wav).map_or(true, |m| m.len() < 44 + pcm.len() as u64) {
        assert!(t0.elapsed() < 5 * S, "no recording at {}", wav.display());
        std::thread::sleep(Duration::from_millis(50));
    }
    let bytes = std::fs::read(&wav).unwrap();
    assert_eq!(&bytes[..4], b"RIFF");
    assert_eq!(
        u32::from_le_bytes(bytes[24..28].try_into().unwrap()),
        16_000
    );
    assert_eq!(&bytes[44..], &pcm[..]);

    // A 16 kHz call hears the file as it is; an 8 kHz call hears it
    // converted, rather than nothing.
    for (call_kind, samples) in [(0x12, 320), (0x10, 160)] {
        let player = start(&["play", wav.to_str().unwrap()]);
        let mut c = connect(player.1);
        c.send(call_kind, &[0; 640][..samples * 2]);
        let msgs = c.read_for(3 * S);
        let audio: Vec<_> = msgs.iter().filter(|(_, m)| m.kind == call_kind).collect();
        assert_eq!(audio.len(), 50, "one second in 20 ms frames");
        assert!(audio.iter().all(|(_, m)| m.payload.len() == samples * 2));
        let spread = audio.last().unwrap().0 - audio[0].0;
        assert!(spread >= Duration::from_millis(900), "paced: {spread:?}");
        assert_eq!(msgs.last().unwrap().1.kind, 0x00, "then hangs up");
        if call_kind == 0x12 {
            let played: Vec<u8> = audio.iter().flat_map(|(_, m)| m.payload.clone()).collect();
            assert_eq!(played, pcm, "as recorded");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A TLS client of the tests' own; with `ours`, it shows that certificate.
fn tls_client(
    port: u16,
    pki: &common::tls::Pki,
    ours: Option<&common::tls::Issued>,
) -> rustls::StreamOwned<rustls::ClientConnection, std::net::TcpStream> {
    use std::sync::Arc;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(pki.roots());
    let config = match ours {
        Some(c) => builder
            .with_client_auth_cert(vec![c.cert.clone()], c.key())
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let t0 = Instant::now();
    let sock = loop {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(_) if t0.elapsed() < 10 * S => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("the example server did not listen: {e}"),
        }
    };
    sock.set_read_timeout(Some(5 * S)).unwrap();
    rustls::StreamOwned::new(conn, sock)
}

/// Sends the UUID and a frame; the echoed frame, if it comes back.
fn echo_through(
    mut tls: rustls::StreamOwned<rustls::ClientConnection, std::net::TcpStream>,
) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Write};
    let pcm = ramp(160);
    let mut wire = vec![0x01, 0, 16];
    wire.extend(uuid_bytes());
    wire.extend([0x10, 1, 64]);
    wire.extend(&pcm);
    tls.write_all(&wire)?;
    let mut back = vec![0u8; 3 + pcm.len()];
    tls.read_exact(&mut back)?;
    assert_eq!(&back[..3], &[0x10, 1, 64]);
    Ok(back.split_off(3))
}

#[test]
fn echo_listens_with_tls_and_admits_only_known_clients_with_client_ca() {
    use common::tls::{Pki, Role};
    let pki = Pki::new("example");
    let stranger = Pki::new("example-stranger");
    let server = pki.issue("server", &["127.0.0.1"], Role::Server, false);
    let pbx = pki.issue("pbx", &["pbx.example"], Role::Client, false);
    let foreign = stranger.issue("foreign", &["pbx.example"], Role::Client, false);
    let cert = server.cert_file.display().to_string();
    let key = server.key_file.display().to_string();
    let ca = pki.ca_file().display().to_string();

    let srv = start(&["echo", "--tls", &cert, &key]);
    let back = echo_through(tls_client(srv.1, &pki, None)).unwrap();
    assert_eq!(back, ramp(160));

    let srv = start(&["echo", "--tls", &cert, &key, "--client-ca", &ca]);
    let back = echo_through(tls_client(srv.1, &pki, Some(&pbx))).unwrap();
    assert_eq!(back, ramp(160));
    assert!(echo_through(tls_client(srv.1, &pki, None)).is_err());
    assert!(echo_through(tls_client(srv.1, &pki, Some(&foreign))).is_err());
}
