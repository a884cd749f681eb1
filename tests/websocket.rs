//! AudioSocket over WebSocket on a real Asterisk, against tungstenite's
//! server side: a URL in AudioSocket(), a profile (ws:NAME) for the
//! application, the driver and ARI's externalMedia, its request headers,
//! refused upgrades named by their status, wss with a CA of the profile's
//! and mutual TLS, a fleet of WebSocket servers behind one name, and the
//! Twilio dialect's messages.

mod common;

use std::time::{Duration, Instant};

use common::ami;
use common::ari::{self, string_field, Ari};
use common::asterisk::{nss_wrapper, Options};
use common::tls::{server_config, ClientAuth, Pki, Role, TlsFront};
use common::tones::{self, has};
use common::ws_server::{WsConn, WsServer};
use common::{uuid_bytes, Asterisk, UUID};
use rustls::version::TLS13;
use tungstenite::protocol::frame::coding::CloseCode;

const S: Duration = Duration::from_secs(1);

fn dialplan() -> String {
    let app = |ctx: &str, server: &str, opts: &str| {
        format!(
            "[{ctx}]\nexten => _X.,1,Answer()\n \
             same => n,AudioSocket({UUID},{server}{opts})\n \
             same => n,Log(NOTICE,RESULT ${{EXTEN}} status=${{AUDIOSOCKET_STATUS}})\n \
             same => n,Hangup()\n"
        )
    };
    [
        app("ws-app", "ws://127.0.0.1:${EXTEN}/media?call=${EXTEN}", ""),
        app("ws-bot", "ws:bot", ""),
        app("ws-secure", "ws:secure", ""),
        app("ws-mutual", "ws:mutual", ""),
        app("ws-fleet", "ws:fleet", ""),
        app("ws-twilio", "ws://127.0.0.1:${EXTEN}/twilio", ",p(twilio)m"),
        format!(
            "[ws-dial]\nexten => _X.,1,Dial(AudioSocket/ws:bot/{UUID},,g)\n \
             same => n,Log(NOTICE,DIALED ${{EXTEN}} dialstatus=${{DIALSTATUS}})\n \
             same => n,Hangup()\n"
        ),
        common::FAR_ENDS.into(),
    ]
    .join("\n")
}

/// Profiles for the servers the tests start first.
fn conf(
    bot: u16,
    secure: u16,
    pki: Option<&Pki>,
    pbx: Option<&common::tls::Issued>,
    fleet: u16,
) -> String {
    let mut c = String::new();
    if bot > 0 {
        c.push_str(&format!(
            "[bot]\ntype = websocket\nurl = ws://127.0.0.1:{bot}/bot?tenant=7\n\
             header = Authorization: Bearer s3cret\nheader = X-Route: blue\n\n"
        ));
    }
    if fleet > 0 {
        c.push_str(&format!(
            "[fleet]\ntype = websocket\nurl = ws://fleet.test:{fleet}/f\n"
        ));
    }
    if let (Some(pki), Some(pbx)) = (pki, pbx) {
        let ca = pki.ca_file().display().to_string();
        c.push_str(&format!(
            "\n[ca]\ntype = tls\nca_file = {ca}\n\n\
             [mtls]\ntype = tls\nca_file = {ca}\ncert_file = {}\nkey_file = {}\n\n\
             [secure]\ntype = websocket\nurl = wss://localhost:{secure}/s\ntls = ca\n\n\
             [mutual]\ntype = websocket\nurl = wss://localhost:{secure}/m\ntls = mtls\n",
            pbx.cert_file.display(),
            pbx.key_file.display()
        ));
    }
    c
}

fn start(test: &str, conf: &str) -> Option<Asterisk> {
    Asterisk::start_with(
        test,
        Options {
            dialplan: &dialplan(),
            files: &[("audiosocket.conf", conf)],
            ..Options::default()
        },
    )
}

/// The server's side once the call is up: the UUID came first.
fn call(srv: &WsServer) -> WsConn {
    let mut conn = srv.accept(5 * S).expect("the module connects and upgrades");
    let first = conn.read_msgs(2 * S).expect("a first message");
    assert_eq!(first[0].kind, 0x01);
    assert_eq!(first[0].payload, uuid_bytes());
    conn
}

/// Sends a second of 8 kHz tone at real-time pace, 20 ms a message.
fn talk(conn: &mut WsConn, freq: f64) {
    let t0 = Instant::now();
    let mut phase = 0.0;
    for i in 0..50u32 {
        conn.send_msg(0x10, &tones::tone(freq, 8000, 160, 8000.0, &mut phase));
        std::thread::sleep((t0 + S / 50 * (i + 1)).saturating_duration_since(Instant::now()));
    }
}

/// What came back as audio over `d`.
fn heard(conn: &mut WsConn, d: Duration) -> Vec<i16> {
    let t0 = Instant::now();
    let mut pcm = Vec::new();
    while t0.elapsed() < d {
        let Some(msgs) = conn.read_msgs(d) else { break };
        for m in msgs.into_iter().filter(|m| m.kind == 0x10) {
            pcm.extend(tones::samples(&m.payload));
        }
    }
    pcm
}

#[test]
fn audiosocket_over_websocket_streams_both_ways_and_a_normal_close_ends_it() {
    let Some(ast) = start("ws_app", "") else {
        return;
    };
    let srv = WsServer::new();
    ast.originate(&format!("{}@ws-app", srv.port), "1@echo");
    let mut conn = call(&srv);
    assert_eq!(
        conn.header("path"),
        Some(format!("/media?call={}", srv.port).as_str())
    );
    // What it says comes back through the echo (written from a second
    // handle on the socket while this one reads).
    let mut talker = WsConn {
        ws: tungstenite::WebSocket::from_raw_socket(
            conn.ws.get_ref().try_clone().unwrap(),
            tungstenite::protocol::Role::Server,
            None,
        ),
        headers: vec![],
    };
    let h = std::thread::spawn(move || talk(&mut talker, 1000.0));
    let talker = heard(&mut conn, S + S / 2);
    h.join().unwrap();
    assert!(has(&talker, 8000, 1000.0), "the echo of what it said");
    conn.close(CloseCode::Normal);
    let line = ast.expect_log(&["Ext.", &format!("RESULT {}", srv.port)], 5 * S);
    assert!(line.contains("status=SERVER_HANGUP"), "{line}");
    ast.expect_log(&["the server closed the WebSocket (1000 normal)"], S);
    assert!(ast.wait_no_channels(5 * S));
}

#[test]
fn a_profile_carries_the_url_and_headers_for_the_application_the_driver_and_ari() {
    let bot = WsServer::new();
    let port = ami::free_port();
    let files = ari::files(port);
    let conf = conf(bot.port, 0, None, None, 0);
    let mut all: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    all.push(("audiosocket.conf", &conf));
    let Some(ast) = Asterisk::start_with(
        "ws_profile",
        Options {
            dialplan: &dialplan(),
            needs: ari::MODULES,
            files: &all,
            ..Options::default()
        },
    ) else {
        return;
    };
    for ctx in ["ws-bot", "ws-dial"] {
        ast.originate(&format!("10@{ctx}"), "1@tone");
        let mut conn = call(&bot);
        assert_eq!(conn.header("path"), Some("/bot?tenant=7"), "{ctx}");
        assert_eq!(conn.header("authorization"), Some("Bearer s3cret"), "{ctx}");
        assert_eq!(conn.header("x-route"), Some("blue"), "{ctx}");
        let pcm = heard(&mut conn, S);
        assert!(has(&pcm, 8000, 1004.0), "{ctx}: the far end's tone");
        conn.send_msg(0x00, &[]);
        assert!(ast.wait_no_channels(5 * S), "{ctx}");
    }
    ast.expect_log(&["Executing", "Dial(\"Local/10@ws-dial"], S);
    // ARI's external_host must be host:port: ws:NAME is one.
    let ari = Ari::connect(port, "bot");
    let media = ari.ok(
        "POST",
        &format!(
            "channels/externalMedia?app=bot&external_host=ws:bot&format=slin16\
             &encapsulation=audiosocket&transport=tcp&data={UUID}"
        ),
    );
    let id = string_field(&media, "id").unwrap();
    let name = string_field(&media, "name").unwrap();
    assert_eq!(name, format!("AudioSocket/ws:bot-{UUID}"));
    let conn = call(&bot);
    assert_eq!(conn.header("authorization"), Some("Bearer s3cret"));
    let shown = ast.cli(&format!("audiosocket show session {UUID}"));
    assert!(shown.contains("16000"), "16 kHz, as ARI asked: {shown}");
    ari.ok("DELETE", &format!("channels/{id}"));
    drop(conn);
    assert!(ast.wait_no_channels(5 * S));
}

#[test]
fn a_refused_upgrade_fails_the_call_naming_the_status() {
    let Some(ast) = start("ws_refused", "") else {
        return;
    };
    for status in [401u16, 404, 503] {
        let srv = WsServer::new();
        ast.originate(&format!("{}@ws-app", srv.port), "1@tone");
        assert!(srv.refuse(status, 5 * S));
        let line = ast.expect_log(&["Ext.", &format!("RESULT {}", srv.port)], 5 * S);
        assert!(line.contains("status=CONNECT_FAILED"), "{line}");
        ast.expect_log(
            &[
                "ERROR",
                &format!("ws://127.0.0.1:{}/media?...", srv.port),
                &format!("the server refused the upgrade: HTTP {status}"),
            ],
            S,
        );
    }
    assert!(ast.wait_no_channels(5 * S));
}

#[test]
fn wss_checks_the_servers_certificate_and_can_show_ours() {
    let pki = Pki::new("wss");
    let pbx = pki.issue("pbx", &["pbx.example"], Role::Client, false);
    let server = pki.issue("server", &["localhost"], Role::Server, false);
    for (ctx, clients) in [
        ("ws-secure", ClientAuth::None),
        ("ws-mutual", ClientAuth::Required(&pki)),
    ] {
        let srv = WsServer::new();
        let front = TlsFront::start(server_config(&server, clients, &[&TLS13]), srv.port);
        let conf = conf(0, front.port, Some(&pki), Some(&pbx), 0);
        let Some(ast) = start(&format!("wss_{ctx}"), &conf) else {
            return;
        };
        ast.originate(&format!("10@{ctx}"), "1@tone");
        let mut conn = call(&srv);
        let pcm = heard(&mut conn, S);
        assert!(has(&pcm, 8000, 1004.0), "{ctx}");
        let shown = ast.cli("audiosocket show sessions");
        assert!(shown.contains("ws:"), "{shown}");
        let detail = ast.cli(&format!("audiosocket show session {UUID}"));
        assert!(detail.contains("TLS 1.3"), "{detail}");
        conn.close(CloseCode::Normal);
        assert!(ast.wait_no_channels(5 * S));
    }
}

#[test]
fn a_fleet_of_websocket_servers_takes_calls_in_turns() {
    if nss_wrapper().is_none() {
        common::asterisk::skip("ws_fleet", "needs Debian's libnss-wrapper");
        return;
    }
    // Two servers on one port, on two loopback addresses.
    let (a, b) = loop {
        let first = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
        let port = first.local_addr().unwrap().port();
        if let Ok(second) = std::net::TcpListener::bind(("127.0.0.3", port)) {
            break (WsServer::on(first), WsServer::on(second));
        }
    };
    let conf = conf(0, 0, None, None, a.port);
    let Some(ast) = Asterisk::start_with(
        "ws_fleet",
        Options {
            dialplan: &dialplan(),
            files: &[("audiosocket.conf", &conf)],
            hosts: &[("127.0.0.2", "fleet.test"), ("127.0.0.3", "fleet.test")],
            ..Options::default()
        },
    ) else {
        return;
    };
    let mut served = [0; 2];
    for _ in 0..4 {
        ast.originate("10@ws-fleet", "1@tone");
        let t0 = Instant::now();
        let (i, mut conn) = loop {
            if let Some(c) = a.accept(S / 20) {
                break (0, c);
            }
            if let Some(c) = b.accept(S / 20) {
                break (1, c);
            }
            assert!(t0.elapsed() < 5 * S, "a fleet member gets the call");
        };
        served[i] += 1;
        assert_eq!(conn.header("path"), Some("/f"));
        conn.read_msgs(2 * S).unwrap();
        conn.close(CloseCode::Normal);
        assert!(ast.wait_no_channels(5 * S));
    }
    assert_eq!(served, [2, 2], "in turns");
}

#[test]
fn the_twilio_dialect_tells_the_stream_and_carries_mulaw() {
    let Some(ast) = Asterisk::start_with(
        "ws_twilio",
        Options {
            dialplan: &dialplan(),
            needs: &["func_callerid.so"],
            ..Options::default()
        },
    ) else {
        return;
    };
    let srv = WsServer::new();
    ast.originate(&format!("{}@ws-twilio", srv.port), "1@tone");
    let mut conn = srv.accept(5 * S).expect("the module connects");
    let connected = conn.read_event(2 * S).unwrap();
    assert_eq!(connected["event"], "connected");
    let start = conn.read_event(2 * S).unwrap();
    assert_eq!(start["event"], "start");
    let sid = start["start"]["streamSid"].as_str().unwrap().to_string();
    assert_eq!(sid, format!("MZ{}", UUID.replace('-', "")));
    assert!(start["start"]["callSid"]
        .as_str()
        .unwrap()
        .starts_with("CA"));
    assert_eq!(start["start"]["tracks"], serde_json::json!(["inbound"]));
    assert_eq!(
        start["start"]["customParameters"]["to_number"],
        srv.port.to_string()
    );
    assert_eq!(start["start"]["mediaFormat"]["encoding"], "audio/x-mulaw");
    let media = conn.read_event(2 * S).unwrap();
    assert_eq!(media["event"], "media");
    assert_eq!(media["streamSid"], sid.as_str());
    assert_eq!(media["media"]["chunk"], "1");
    // Three seconds at once and a mark, then a clear a second later: the
    // mark comes back at the clear, not after the three seconds.
    let burst = data_encoding::BASE64.encode(&[0x55u8; 24_000]);
    conn.send_text(&format!(
        r#"{{"event":"media","streamSid":"{sid}","media":{{"payload":"{burst}"}}}}"#
    ));
    conn.send_text(&format!(
        r#"{{"event":"mark","streamSid":"{sid}","mark":{{"name":"burst"}}}}"#
    ));
    std::thread::sleep(S);
    conn.send_text(&format!(r#"{{"event":"clear","streamSid":"{sid}"}}"#));
    let cleared = Instant::now();
    let mark = loop {
        let e = conn.read_event(2 * S).expect("the mark");
        if e["event"] == "mark" {
            break e;
        }
    };
    assert_eq!(mark["mark"]["name"], "burst");
    assert!(
        cleared.elapsed() < S / 2,
        "answered at the clear: {:?}",
        cleared.elapsed()
    );
    conn.close(CloseCode::Normal);
    let line = ast.expect_log(&["Ext.", &format!("RESULT {}", srv.port)], 5 * S);
    assert!(line.contains("status=SERVER_HANGUP"), "{line}");
    assert!(ast.wait_no_channels(5 * S));
}
