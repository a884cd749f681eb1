//! TLS over loopback: certificates made here, a TLS front before the plain
//! scripted server (as stunnel would be), and each way a handshake fails.

use std::path::PathBuf;

use crate::test_pki::{server_config, without_tickets, ClientAuth, Issued, Pki, Role, TlsFront};
use rustls::version::{TLS12, TLS13};

use super::*;
use crate::session::tls::{ProfileError, TlsClient, TlsProfile};
use pki_types::ServerName;

fn trusting(ca: PathBuf) -> TlsProfile {
    TlsProfile {
        name: "test".into(),
        ca_file: Some(ca),
        ..TlsProfile::system_default()
    }
}

fn with_certificate(ca: PathBuf, ours: &Issued) -> TlsProfile {
    TlsProfile {
        cert_file: Some(ours.cert_file.clone()),
        key_file: Some(ours.key_file.clone()),
        ..trusting(ca)
    }
}

fn tls_session(port: u16, profile: &TlsProfile, rate: Rate, label: &str) -> Session {
    let server = ServerAddr {
        host: "127.0.0.1".into(),
        port,
        shown: None,
    };
    let mut cfg = SessionConfig::new(UUID, server, rate, label);
    cfg.connect_timeout = Duration::from_secs(1);
    cfg.max_lateness = None;
    cfg.tls = Some(TlsClient::build(profile).unwrap());
    Session::start(cfg, Arc::new(Captured::default())).unwrap()
}

fn encryption_of(label: &str) -> Option<String> {
    census::sessions()
        .into_iter()
        .find(|s| s.channel == label)
        .and_then(|s| s.encryption)
}

/// Through TLS 1.3 at 8 kHz and TLS 1.2 at 16 kHz: the UUID first, a
/// second of the server's audio heard whole, the channel's frames
/// received whole, and the CLI shows the version.
#[test]
fn a_call_over_tls_streams_both_ways_at_8_and_16_khz() {
    let pki = Pki::new("stream");
    let server = pki.issue("server", &["127.0.0.1"], Role::Server, false);
    for (rate, version, shown) in [
        (Rate::Hz8000, &TLS13, "TLS 1.3"),
        (Rate::Hz16000, &TLS12, "TLS 1.2"),
    ] {
        let (l, backend) = listener();
        let front = TlsFront::start(
            server_config(&server, ClientAuth::None, &[version]),
            backend.port,
        );
        let label = format!("Test/tls-{}", rate.hz());
        let mut s = tls_session(front.port, &trusting(pki.ca_file()), rate, &label);
        let (mut peer, _) = l.accept().unwrap();
        assert_eq!(read_msg(&mut peer), Some((0x01, UUID.to_vec())));
        let pcm = pattern(rate.frame_bytes() * 50);
        let mut wire = Vec::new();
        encode_audio(&mut wire, rate, &pcm);
        peer.write_all(&wire).unwrap();
        let mut events = pump(&mut s, Duration::from_millis(100));
        let frames: Vec<Vec<u8>> = (0..50u8).map(|i| vec![i; rate.frame_bytes()]).collect();
        for f in &frames {
            s.send_audio(f);
            events.extend(pump(&mut s, Duration::from_millis(20)));
        }
        events.extend(pump(&mut s, Duration::from_millis(300)));
        assert_eq!(audio_bytes(&events), pcm, "{shown}: the server's audio");
        for f in &frames {
            let (kind, payload) = read_msg(&mut peer).unwrap();
            assert_eq!((kind, &payload), (rate.kind(), f), "{shown}");
        }
        let encryption = encryption_of(&label).unwrap_or_default();
        assert!(encryption.starts_with(shown), "{encryption}");
    }
}

/// A server that admits only its own PBXs: with the profile's certificate
/// the call goes through.
#[test]
fn mutual_tls_admits_a_client_with_its_certificate() {
    let pki = Pki::new("mutual");
    let server = pki.issue("server", &["127.0.0.1"], Role::Server, false);
    let pbx = pki.issue("pbx", &["pbx.example"], Role::Client, false);
    for version in [&TLS13, &TLS12] {
        let (l, backend) = listener();
        // No session tickets: the greeting is what tells that the server
        // took our certificate.
        let front = TlsFront::start(
            without_tickets(server_config(
                &server,
                ClientAuth::Required(&pki),
                &[version],
            )),
            backend.port,
        );
        let profile = with_certificate(pki.ca_file(), &pbx);
        let mut s = tls_session(front.port, &profile, Rate::Hz8000, "Test/mtls");
        let (mut peer, _) = l.accept().unwrap();
        // A greeting at once, before the UUID is read: it may come in the
        // same packets as the handshake's last messages.
        let mut wire = Vec::new();
        encode_audio(&mut wire, Rate::Hz8000, &pattern(3200));
        wire.extend_from_slice(&[0, 0, 0]);
        peer.write_all(&wire).unwrap();
        assert_eq!(read_msg(&mut peer).map(|m| m.0), Some(0x01));
        let ev = pump(&mut s, Duration::from_secs(2));
        assert_eq!(audio_bytes(&ev), pattern(3200));
        assert_eq!(ending(&ev), Some(&EndReason::ServerHangup(Hangup::Message)));
    }
}

/// `verify_server = no`: a certificate from nobody the profile trusts is
/// taken (the warning is the configuration's, at load).
#[test]
fn a_profile_that_does_not_verify_takes_any_certificate() {
    let pki = Pki::new("unverified");
    let stranger = Pki::new("stranger");
    let server = stranger.issue("server", &["elsewhere.example"], Role::Server, true);
    let (l, backend) = listener();
    let front = TlsFront::start(
        server_config(&server, ClientAuth::None, &[&TLS13]),
        backend.port,
    );
    let profile = TlsProfile {
        verify_server: false,
        ..trusting(pki.ca_file())
    };
    let _s = tls_session(front.port, &profile, Rate::Hz8000, "Test/noverify");
    let (mut peer, _) = l.accept().unwrap();
    assert_eq!(read_msg(&mut peer).map(|m| m.0), Some(0x01));
}

/// What the server end does in one failure case.
enum Far {
    /// A TLS front with this server configuration.
    Tls(Arc<rustls::ServerConfig>),
    /// A plain AudioSocket server that waits for the UUID.
    PlainSilent,
    /// A plain server that closes at once.
    PlainCloses,
    /// A plain server that sends audio at once.
    PlainTalks,
}

/// Every way a handshake fails ends the connect within its timeout, as a
/// failed connect (CONNECT_FAILED), with a reason that says which.
#[test]
fn each_failed_handshake_fails_the_connect_and_says_why() {
    let pki = Pki::new("failures");
    let stranger = Pki::new("stranger");
    let good = pki.issue("server", &["127.0.0.1"], Role::Server, false);
    let unknown = stranger.issue("unknown", &["127.0.0.1"], Role::Server, false);
    let misnamed = pki.issue("misnamed", &["elsewhere.example"], Role::Server, false);
    let expired = pki.issue("expired", &["127.0.0.1"], Role::Server, true);
    let foreign_pbx = stranger.issue("foreign-pbx", &["pbx.example"], Role::Client, false);
    let plain = trusting(pki.ca_file());
    let config = |cert: &Issued, clients: ClientAuth<'_>| server_config(cert, clients, &[&TLS13]);
    let cases: Vec<(&str, Far, TlsProfile, &str)> = vec![
        (
            "unknown CA",
            Far::Tls(config(&unknown, ClientAuth::None)),
            plain.clone(),
            "not signed by a trusted CA",
        ),
        (
            "wrong name",
            Far::Tls(config(&misnamed, ClientAuth::None)),
            plain.clone(),
            "not valid for the name",
        ),
        (
            "expired",
            Far::Tls(config(&expired, ClientAuth::None)),
            plain.clone(),
            "has expired",
        ),
        (
            "client certificate demanded, none given (TLS 1.3)",
            Far::Tls(config(&good, ClientAuth::Required(&pki))),
            plain.clone(),
            "wants a client certificate, and this profile gives none",
        ),
        (
            "client certificate demanded, none given (TLS 1.2)",
            Far::Tls(server_config(&good, ClientAuth::Required(&pki), &[&TLS12])),
            plain.clone(),
            "wants a client certificate, and this profile gives none",
        ),
        (
            "client certificate from a CA the server does not trust",
            Far::Tls(config(&good, ClientAuth::Required(&pki))),
            with_certificate(pki.ca_file(), &foreign_pbx),
            "did not accept our client certificate",
        ),
        (
            "plain server that waits",
            Far::PlainSilent,
            plain.clone(),
            "did not complete the handshake in time",
        ),
        (
            "plain server that closes",
            Far::PlainCloses,
            plain.clone(),
            "closed the connection during the handshake",
        ),
        (
            "plain server that talks first",
            Far::PlainTalks,
            plain.clone(),
            "does not speak TLS",
        ),
    ];
    for (what, far, profile, expected) in cases {
        let (l, backend) = listener();
        let (port, _front, peer) = match far {
            Far::Tls(config) => (TlsFront::start(config, backend.port).port, Some(()), None),
            plain => {
                let peer = std::thread::spawn(move || {
                    let (mut s, _) = l.accept().unwrap();
                    match plain {
                        Far::PlainCloses => drop(s),
                        Far::PlainTalks => {
                            let mut wire = Vec::new();
                            encode_audio(&mut wire, Rate::Hz8000, &[0u8; 320]);
                            let _ = s.write_all(&wire);
                            std::thread::sleep(Duration::from_secs(2));
                        }
                        _ => std::thread::sleep(Duration::from_secs(2)),
                    }
                });
                (backend.port, None, Some(peer))
            }
        };
        let t0 = Instant::now();
        let mut s = tls_session(port, &profile, Rate::Hz8000, "Test/tls-failure");
        let ev = pump(&mut s, Duration::from_secs(3));
        let took = t0.elapsed();
        match ending(&ev) {
            Some(EndReason::ConnectFailed(why)) => {
                assert!(why.contains(expected), "{what}: {why}");
                assert!(why.starts_with("TLS: "), "{what}: {why}");
            }
            other => panic!("{what}: {other:?}"),
        }
        assert!(
            !ev.iter().any(|(_, e)| *e == Event::Connected),
            "{what}: connected"
        );
        assert!(took < Duration::from_millis(1500), "{what}: took {took:?}");
        drop(s);
        if let Some(peer) = peer {
            let _ = peer.join();
        }
    }
}

// Profiles as audiosocket.conf gives them.

fn build(p: TlsProfile) -> Result<TlsClient, ProfileError> {
    TlsClient::build(&p)
}

fn profile(pki: &Pki) -> TlsProfile {
    TlsProfile {
        name: "t".into(),
        ca_file: Some(pki.ca_file()),
        ..TlsProfile::system_default()
    }
}

#[test]
fn a_good_profile_builds_with_or_without_our_certificate() {
    let pki = Pki::new("good");
    let ours = pki.issue("pbx", &["pbx.example"], Role::Client, false);
    assert!(!build(profile(&pki)).unwrap().has_certificate());
    let mutual = TlsProfile {
        cert_file: Some(ours.cert_file.clone()),
        key_file: Some(ours.key_file.clone()),
        ..profile(&pki)
    };
    assert!(build(mutual).unwrap().has_certificate());
    let folder = TlsProfile {
        ca_file: None,
        ca_path: Some(pki.dir.clone()),
        ..profile(&pki)
    };
    assert!(build(folder).is_ok());
}

/// Each mistake names the setting at fault and the file.
#[test]
fn each_bad_profile_names_the_setting_and_why() {
    let pki = Pki::new("bad");
    let ours = pki.issue("pbx", &["pbx.example"], Role::Client, false);
    let other = pki.issue("other", &["other.example"], Role::Client, false);
    let text = pki.dir.join("notes.txt");
    std::fs::write(&text, "not a certificate").unwrap();
    let missing = pki.dir.join("missing.pem");
    let cases = [
        (
            TlsProfile {
                ca_file: Some(missing.clone()),
                ..profile(&pki)
            },
            "ca_file",
            "cannot read",
        ),
        (
            TlsProfile {
                ca_file: Some(text.clone()),
                ..profile(&pki)
            },
            "ca_file",
            "holds no CA certificate",
        ),
        (
            TlsProfile {
                ca_path: Some(pki.dir.clone()),
                ..profile(&pki)
            },
            "ca_path",
            "not both",
        ),
        (
            TlsProfile {
                cert_file: Some(ours.cert_file.clone()),
                ..profile(&pki)
            },
            "cert_file",
            "needs key_file",
        ),
        (
            TlsProfile {
                key_file: Some(ours.key_file.clone()),
                ..profile(&pki)
            },
            "key_file",
            "needs cert_file",
        ),
        (
            TlsProfile {
                cert_file: Some(ours.cert_file.clone()),
                key_file: Some(other.key_file.clone()),
                ..profile(&pki)
            },
            "key_file",
            "is not the key of",
        ),
        (
            TlsProfile {
                cert_file: Some(ours.cert_file.clone()),
                key_file: Some(text.clone()),
                ..profile(&pki)
            },
            "key_file",
            "no private key",
        ),
        (
            TlsProfile {
                server_name: Some("not a name!".into()),
                ..profile(&pki)
            },
            "server_name",
            "is not a host name",
        ),
    ];
    for (p, setting, why) in cases {
        let e = build(p).map(|_| ()).unwrap_err();
        assert_eq!(e.setting, setting, "{e:?}");
        assert!(e.why.contains(why), "{e:?}");
    }
}

#[test]
fn the_name_checked_is_the_host_dialled_unless_the_profile_says() {
    let pki = Pki::new("names");
    let plain = build(profile(&pki)).unwrap();
    assert_eq!(
        plain.server_name("bot.example").unwrap(),
        ServerName::try_from("bot.example").unwrap()
    );
    assert!(plain.server_name("10.1.2.3").is_ok());
    let named = build(TlsProfile {
        server_name: Some("bot.example".into()),
        ..profile(&pki)
    })
    .unwrap();
    assert_eq!(
        named.server_name("10.1.2.3").unwrap(),
        ServerName::try_from("bot.example").unwrap()
    );
}
