use std::fmt;
use std::time::Duration;

use crate::protocol::Rate;

/// A server as the dialplan names it: a host name or address and a port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerAddr {
    pub host: String,
    pub port: u16,
}

impl ServerAddr {
    /// Parses `host:port`, `a.b.c.d:port` or `[v6]:port`.
    pub fn parse(s: &str) -> Result<ServerAddr, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("no server given (expected host:port)".into());
        }
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (host, after) = rest
                .split_once(']')
                .ok_or_else(|| format!("'{s}' has no closing ']' for its IPv6 address"))?;
            let port = after
                .strip_prefix(':')
                .ok_or_else(|| format!("'{s}' has no port (expected [address]:port)"))?;
            (host, port)
        } else {
            let (host, port) = s
                .rsplit_once(':')
                .ok_or_else(|| format!("'{s}' has no port (expected host:port)"))?;
            if host.contains(':') {
                return Err(format!(
                    "'{s}' looks like an IPv6 address: write it as [address]:port"
                ));
            }
            (host, port)
        };
        if host.is_empty() {
            return Err(format!("'{s}' has no host"));
        }
        if host
            .chars()
            .any(|c| c.is_whitespace() || c == '/' || c == ',')
        {
            return Err(format!("'{host}' is not a valid host name"));
        }
        let port: u16 = port
            .parse()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("'{port}' in '{s}' is not a port number (1-65535)"))?;
        Ok(ServerAddr {
            host: host.to_string(),
            port,
        })
    }
}

impl fmt::Display for ServerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Everything one session needs to know; the channel layers fill it from the
/// dialplan arguments.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    pub uuid: [u8; 16],
    pub server: ServerAddr,
    pub rate: Rate,
    /// Total time allowed to resolve and connect, across all addresses.
    pub connect_timeout: Duration,
    /// End the call when neither side sent anything for this long.
    pub inactivity_timeout: Option<Duration>,
    /// Server audio held for playout before the socket stops being read.
    pub playout_buffer: Duration,
    /// Channel audio held for a server that is not reading before it is dropped.
    pub uplink_buffer: Duration,
    /// The channel's name, for log lines.
    pub label: String,
}

impl SessionConfig {
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
    pub const DEFAULT_PLAYOUT_BUFFER: Duration = Duration::from_secs(2);
    pub const DEFAULT_UPLINK_BUFFER: Duration = Duration::from_secs(1);

    pub fn new(uuid: [u8; 16], server: ServerAddr, rate: Rate, label: &str) -> Self {
        SessionConfig {
            uuid,
            server,
            rate,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            inactivity_timeout: None,
            playout_buffer: Self::DEFAULT_PLAYOUT_BUFFER,
            uplink_buffer: Self::DEFAULT_UPLINK_BUFFER,
            label: label.to_string(),
        }
    }

    /// 20 ms frames that fit in `d`, at least a few.
    pub(crate) fn frames_in(d: Duration) -> usize {
        (d.as_millis() as usize / 20).max(4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hosts_ipv4_and_ipv6() {
        let a = ServerAddr::parse("example.com:9092").unwrap();
        assert_eq!((a.host.as_str(), a.port), ("example.com", 9092));
        let a = ServerAddr::parse("127.0.0.1:1").unwrap();
        assert_eq!((a.host.as_str(), a.port), ("127.0.0.1", 1));
        let a = ServerAddr::parse("[::1]:65535").unwrap();
        assert_eq!((a.host.as_str(), a.port), ("::1", 65535));
        assert_eq!(a.to_string(), "[::1]:65535");
    }

    #[test]
    fn rejects_bad_servers_with_a_reason() {
        for bad in [
            "",
            "host",
            "host:",
            ":80",
            "host:0",
            "host:65536",
            "host:http",
            "::1:80",
            "[::1]",
            "[::1:80",
            "a b:80",
        ] {
            let e = ServerAddr::parse(bad).unwrap_err();
            assert!(!e.is_empty(), "{bad}");
        }
    }
}
