//! WebSocket to the server (`ws://`, `wss://`), beside TLS: RFC 6455
//! through tungstenite, over the session's own socket, fleet and TLS, so
//! that AudioSocket bots behind HTTP load balancers, and bots written for
//! Twilio's Media Streams, are reached like any other.
//!
//! - `handshake.rs`: the HTTP upgrade on the I/O thread, within what is
//!   left of the connect timeout; a refusal is named by its HTTP status.
//! - `framer.rs`: what the session sends, as WebSocket frames, on the
//!   thread that sends it (the channel's, under the outbox's lock): one
//!   binary message per AudioSocket write, or the Twilio dialect's text
//!   messages. Mask keys come from the system's generator, never from a
//!   thread-local one on Asterisk's threads.
//! - `reader.rs`: what the server sends, on the I/O thread: frames
//!   reassembled, pings answered, the close handshake, one message
//!   bounded; the payloads handed on as AudioSocket bytes.
//! - `mem.rs`: the in-memory stream tungstenite works over.

mod framer;
mod handshake;
mod mem;
mod reader;

use std::fmt;

use super::server_addr::ServerAddr;

pub(crate) use framer::Framer;
pub(crate) use handshake::upgrade;
pub(crate) use mem::MemStream as Mem;
pub use reader::MAX_AHEAD;
pub(crate) use reader::{WsEnd, WsReader};

/// The most one WebSocket message from a server may hold (a frame too):
/// beyond it the call ends as a protocol error. A Twilio `media` message
/// this long carries about 24 s of audio.
pub const MAX_MESSAGE: usize = 256 * 1024;

/// What the messages on a WebSocket say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// AudioSocket messages in binary WebSocket messages.
    AudioSocket,
    /// Twilio's Media Streams messages (JSON text).
    Twilio,
}

impl Dialect {
    pub fn parse(s: &str) -> Option<Dialect> {
        match s.trim().to_ascii_lowercase().as_str() {
            "audiosocket" => Some(Dialect::AudioSocket),
            "twilio" => Some(Dialect::Twilio),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Dialect::AudioSocket => "audiosocket",
            Dialect::Twilio => "twilio",
        }
    }
}

/// A server reached over WebSocket: where on its host, and what the
/// upgrade request carries. The host and port are the session's
/// [`ServerAddr`](super::ServerAddr).
#[derive(Clone, PartialEq, Eq)]
pub struct WebSocketTarget {
    /// `wss`: TLS to the server.
    pub secure: bool,
    /// The URL's path and query ("/" at least).
    pub resource: String,
    /// More request headers (authorization, sticky load balancing).
    pub headers: Vec<(String, String)>,
    pub dialect: Dialect,
    /// Twilio: the auth token `X-Twilio-Signature` is computed with.
    pub twilio_auth_token: Option<String>,
    /// Twilio: the account ID the stream says it belongs to.
    pub twilio_account_sid: Option<String>,
}

impl WebSocketTarget {
    /// `ws://host[:port]/path?query`, the port left out when it is the
    /// scheme's own, as a server sees the URL it was called at.
    pub fn url(&self, host: &str, port: u16) -> String {
        let scheme = if self.secure { "wss" } else { "ws" };
        let default = if self.secure { 443 } else { 80 };
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        if port == default {
            format!("{scheme}://{host}{}", self.resource)
        } else {
            format!("{scheme}://{host}:{port}{}", self.resource)
        }
    }

    /// The URL without its query, which may hold a secret: what logs show.
    pub fn shown(&self, host: &str, port: u16) -> String {
        let url = self.url(host, port);
        match url.split_once('?') {
            Some((bare, _)) => format!("{bare}?..."),
            None => url,
        }
    }
}

/// `ws://host[:port][/path][?query]` or `wss://...`: the host and port to
/// connect to, whether TLS is wanted, and the path and query.
pub fn parse_url(url: &str) -> Result<(ServerAddr, bool, String), String> {
    let url = url.trim();
    let (secure, rest) = if let Some(rest) = url.strip_prefix("wss://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("ws://") {
        (false, rest)
    } else {
        return Err(format!("'{url}' is not a ws:// or wss:// URL"));
    };
    let (authority, resource) = match rest.find(['/', '?']) {
        Some(at) if rest[at..].starts_with('?') => (&rest[..at], format!("/{}", &rest[at..])),
        Some(at) => (&rest[..at], rest[at..].to_string()),
        None => (rest, "/".to_string()),
    };
    if authority.contains('@') {
        return Err(format!(
            "'{url}': user names and passwords go in a header, not the URL"
        ));
    }
    if resource
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "'{url}' has spaces or control characters in its path"
        ));
    }
    let default = if secure { 443 } else { 80 };
    let with_port = if authority.ends_with(']') || !authority.contains(':') {
        format!("{authority}:{default}")
    } else {
        authority.to_string()
    };
    let addr = ServerAddr::parse(&with_port).map_err(|e| format!("'{url}': {e}"))?;
    Ok((addr, secure, resource))
}

/// Headers and tokens are secrets: Debug shows their names only.
impl fmt::Debug for WebSocketTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketTarget")
            .field("secure", &self.secure)
            .field("resource", &self.resource.split('?').next().unwrap_or(""))
            .field(
                "headers",
                &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("dialect", &self.dialect)
            .field(
                "twilio_auth_token",
                &self.twilio_auth_token.as_ref().map(|_| "..."),
            )
            .field("twilio_account_sid", &self.twilio_account_sid)
            .finish()
    }
}

/// `X-Twilio-Signature` for a request to `url` with no body: HMAC-SHA1 of
/// the URL under the auth token, base64, as Twilio signs its requests.
pub fn twilio_signature(auth_token: &str, url: &str) -> String {
    let key = ring::hmac::Key::new(
        ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        auth_token.as_bytes(),
    );
    data_encoding::BASE64.encode(ring::hmac::sign(&key, url.as_bytes()).as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(secure: bool, resource: &str) -> WebSocketTarget {
        WebSocketTarget {
            secure,
            resource: resource.into(),
            headers: vec![("Authorization".into(), "Bearer s3cret".into())],
            dialect: Dialect::Twilio,
            twilio_auth_token: Some("token".into()),
            twilio_account_sid: None,
        }
    }

    #[test]
    fn urls_leave_out_the_default_port_and_logs_the_query() {
        assert_eq!(target(true, "/m?k=1").url("bot", 443), "wss://bot/m?k=1");
        assert_eq!(target(false, "/").url("bot", 8080), "ws://bot:8080/");
        assert_eq!(target(false, "/").url("::1", 80), "ws://[::1]/");
        assert_eq!(target(true, "/m?k=1").shown("bot", 443), "wss://bot/m?...");
        let debug = format!("{:?}", target(true, "/m?key=abc"));
        assert!(
            !debug.contains("s3cret") && !debug.contains("abc") && !debug.contains("token\""),
            "{debug}"
        );
    }

    #[test]
    fn urls_give_the_address_tls_and_resource() {
        let (a, secure, r) = parse_url("wss://bot.example.com/media?token=1").unwrap();
        assert_eq!(
            (a.host.as_str(), a.port, secure, r.as_str()),
            ("bot.example.com", 443, true, "/media?token=1")
        );
        let (a, secure, r) = parse_url("ws://10.0.0.5:8080").unwrap();
        assert_eq!(
            (a.host.as_str(), a.port, secure, r.as_str()),
            ("10.0.0.5", 8080, false, "/")
        );
        let (a, _, r) = parse_url("ws://[::1]?x=y").unwrap();
        assert_eq!((a.host.as_str(), a.port, r.as_str()), ("::1", 80, "/?x=y"));
        for (bad, why) in [
            ("http://x/", "not a ws:// or wss:// URL"),
            ("ws://user:pw@host/", "go in a header"),
            ("ws:///path", "has no host"),
            ("ws://host:99999/", "not a port number"),
            ("ws://host/a b", "spaces"),
        ] {
            let e = parse_url(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn the_signature_is_twilios() {
        // Twilio's documented example: the URL, then each parameter's
        // name and value, under the auth token 12345.
        let signed = "https://mycompany.com/myapp.php?foo=1&bar=2\
                      CallSidCA1234567890ABCDECaller+12349013030Digits1234\
                      From+12349013030To+18005551212";
        assert_eq!(
            twilio_signature("12345", signed),
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        );
        // What twilio's own RequestValidator computes for a WebSocket URL.
        assert_eq!(
            twilio_signature("12345", "wss://bot.example.com/media?x=1"),
            "pKTfK/3J9vaEEoaGFySQ8DZwe6c="
        );
    }
}
