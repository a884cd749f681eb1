//! A scripted WebSocket server, tungstenite's server side: it accepts the
//! upgrade (or refuses it with a status), keeps the request's headers, and
//! reads and writes messages: AudioSocket in binary, or Twilio's JSON.
#![allow(clippy::result_large_err)]

use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::CloseFrame;
use tungstenite::{Message, WebSocket};

use super::server::Msg;

pub struct WsServer {
    pub port: u16,
    listener: TcpListener,
}

pub struct WsConn {
    pub ws: WebSocket<TcpStream>,
    /// The request's headers (lowercase names), and its path as "path".
    pub headers: Vec<(String, String)>,
}

impl WsServer {
    pub fn new() -> WsServer {
        Self::bind("127.0.0.1:0")
    }

    pub fn bind(addr: &str) -> WsServer {
        Self::on(TcpListener::bind(addr).unwrap())
    }

    /// On a listener already bound.
    pub fn on(listener: TcpListener) -> WsServer {
        listener.set_nonblocking(true).unwrap();
        WsServer {
            port: listener.local_addr().unwrap().port(),
            listener,
        }
    }

    fn stream(&self, timeout: Duration) -> Option<TcpStream> {
        let t0 = Instant::now();
        loop {
            match self.listener.accept() {
                Ok((s, _)) => {
                    s.set_nonblocking(false).unwrap();
                    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                    s.set_nodelay(true).unwrap();
                    return Some(s);
                }
                Err(_) if t0.elapsed() < timeout => std::thread::sleep(Duration::from_millis(10)),
                Err(_) => return None,
            }
        }
    }

    /// Accepts one connection and its upgrade.
    pub fn accept(&self, timeout: Duration) -> Option<WsConn> {
        let stream = self.stream(timeout)?;
        let mut headers = Vec::new();
        let ws = tungstenite::accept_hdr(stream, |req: &Request, resp: Response| {
            headers = req
                .headers()
                .iter()
                .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
                .collect();
            headers.push(("path".into(), req.uri().to_string()));
            Ok::<Response, ErrorResponse>(resp)
        })
        .ok()?;
        Some(WsConn { ws, headers })
    }

    /// Accepts one connection and refuses its upgrade with `status`.
    pub fn refuse(&self, status: u16, timeout: Duration) -> bool {
        let Some(stream) = self.stream(timeout) else {
            return false;
        };
        let _ = tungstenite::accept_hdr(stream, |_: &Request, _: Response| {
            Err::<Response, ErrorResponse>(
                tungstenite::http::Response::builder()
                    .status(status)
                    .body(None)
                    .unwrap(),
            )
        });
        true
    }
}

impl WsConn {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The next data message, within `timeout`; None when the connection
    /// ends or nothing comes.
    pub fn next(&mut self, timeout: Duration) -> Option<Message> {
        let t0 = Instant::now();
        loop {
            match self.ws.read() {
                Ok(m @ (Message::Binary(_) | Message::Text(_) | Message::Close(_))) => {
                    return Some(m)
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) && t0.elapsed() < timeout => {}
                Err(_) => return None,
            }
        }
    }

    /// The AudioSocket messages of the next binary message.
    pub fn read_msgs(&mut self, timeout: Duration) -> Option<Vec<Msg>> {
        match self.next(timeout)? {
            Message::Binary(b) => {
                let mut out = Vec::new();
                let mut rest = &b[..];
                while rest.len() >= 3 {
                    let len = u16::from_be_bytes([rest[1], rest[2]]) as usize;
                    out.push(Msg {
                        kind: rest[0],
                        payload: rest[3..3 + len].to_vec(),
                    });
                    rest = &rest[3 + len..];
                }
                Some(out)
            }
            other => panic!("expected a binary message, got {other:?}"),
        }
    }

    /// The next Twilio event.
    pub fn read_event(&mut self, timeout: Duration) -> Option<serde_json::Value> {
        match self.next(timeout)? {
            Message::Text(t) => Some(serde_json::from_str(t.as_str()).unwrap()),
            Message::Close(_) => None,
            other => panic!("expected a text message, got {other:?}"),
        }
    }

    pub fn send_msg(&mut self, kind: u8, payload: &[u8]) {
        let mut m = vec![kind];
        m.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        m.extend_from_slice(payload);
        self.ws.send(Message::Binary(m.into())).unwrap();
    }

    pub fn send_text(&mut self, text: &str) {
        self.ws.send(Message::Text(text.into())).unwrap();
    }

    pub fn close(&mut self, code: CloseCode) {
        let _ = self.ws.close(Some(CloseFrame {
            code,
            reason: "".into(),
        }));
        let _ = self.ws.flush();
    }
}
