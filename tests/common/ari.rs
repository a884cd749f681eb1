//! A small ARI client for the tests: plain HTTP requests, and the event
//! WebSocket that makes a Stasis application exist.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The modules ARI's channel, bridge and externalMedia resources need
/// (what they require besides is loaded with them; see `asterisk.rs`).
pub const MODULES: &[&str] = &[
    "res_http_websocket.so",
    "res_stasis.so",
    "res_stasis_answer.so",
    "res_stasis_playback.so",
    "res_stasis_recording.so",
    "res_stasis_snoop.so",
    "res_ari.so",
    "res_ari_model.so",
    "res_ari_applications.so",
    "res_ari_events.so",
    "res_ari_channels.so",
    "res_ari_bridges.so",
    "app_stasis.so",
    "res_rtp_asterisk.so",
    "res_rtp_multicast.so",
    "chan_rtp.so",
    "bridge_softmix.so",
    "codec_ulaw.so",
];

/// `http.conf` and `ari.conf` for an ARI on loopback `port`, user test/test.
pub fn files(port: u16) -> [(&'static str, String); 2] {
    [
        (
            "http.conf",
            format!("[general]\nenabled = yes\nbindaddr = 127.0.0.1\nbindport = {port}\n"),
        ),
        (
            "ari.conf",
            "[general]\nenabled = yes\n\n[test]\ntype = user\nread_only = no\npassword = test\n"
                .to_string(),
        ),
    ]
}

pub struct Ari {
    port: u16,
    /// The application's events, as JSON text, in order.
    pub events: Arc<Mutex<Vec<String>>>,
}

impl Ari {
    /// Opens the event WebSocket for Stasis application `app`, which exists
    /// from then on.
    pub fn connect(port: u16, app: &str) -> Ari {
        let url = format!("ws://127.0.0.1:{port}/ari/events?app={app}&api_key=test:test");
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("ARI listens");
        let (mut ws, _) = tungstenite::client(url, stream).expect("the ARI event WebSocket opens");
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = events.clone();
        std::thread::spawn(move || {
            while let Ok(msg) = ws.read() {
                if let tungstenite::Message::Text(t) = msg {
                    sink.lock().unwrap().push(t.to_string());
                }
            }
        });
        Ari { port, events }
    }

    /// Sends a request; returns the status code and the body.
    pub fn request(&self, method: &str, path: &str) -> (u16, String) {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "{method} /ari/{path}{sep}api_key=test:test HTTP/1.1\r\nHost: 127.0.0.1\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut reply = String::new();
        let _ = s.read_to_string(&mut reply);
        let status = reply
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = reply
            .split_once("\r\n\r\n")
            .map_or(String::new(), |(_, b)| b.to_string());
        (status, body)
    }

    /// Waits until the channel `id` has entered the application.
    pub fn wait_stasis_start(&self, id: &str, timeout: Duration) {
        let t0 = std::time::Instant::now();
        while t0.elapsed() < timeout {
            let started = self.events.lock().unwrap().iter().any(|e| {
                string_field(e, "type").as_deref() == Some("StasisStart") && e.contains(id)
            });
            if started {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("channel {id} did not enter the application");
    }

    /// Bridges channel `id` (in the application) with a new channel playing
    /// a tone; returns the tone channel's and the bridge's ids.
    pub fn bridge_with_tone(&self, id: &str) -> (String, String) {
        let tone = self.ok("POST", "channels?endpoint=Local/1@tone&app=bot");
        let tone_id = string_field(&tone, "id").expect("a channel id");
        self.wait_stasis_start(id, Duration::from_secs(5));
        self.wait_stasis_start(&tone_id, Duration::from_secs(5));
        let bridge = self.ok("POST", "bridges?type=mixing");
        let bridge_id = string_field(&bridge, "id").expect("a bridge id");
        self.ok(
            "POST",
            &format!("bridges/{bridge_id}/addChannel?channel={id},{tone_id}"),
        );
        (tone_id, bridge_id)
    }

    /// Hangs up the channels and destroys the bridge.
    pub fn tear_down(&self, channels: &[&str], bridge: &str) {
        for c in channels {
            self.ok("DELETE", &format!("channels/{c}"));
        }
        self.ok("DELETE", &format!("bridges/{bridge}"));
    }

    /// A request that must succeed; its body.
    pub fn ok(&self, method: &str, path: &str) -> String {
        let (status, body) = self.request(method, path);
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {body}"
        );
        body
    }
}

/// The first string value of `key` in a JSON text.
pub fn string_field(json: &str, key: &str) -> Option<String> {
    let at = json.find(&format!("\"{key}\""))? + key.len() + 2;
    let rest = json[at..].trim_start().strip_prefix(':')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}
