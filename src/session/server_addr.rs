//! A server as the dialplan names it.

use std::fmt;

/// A server as the dialplan names it: a host name or address and a port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerAddr {
    pub host: String,
    pub port: u16,
    /// How the dialplan named it, when not as `host:port` (a WebSocket
    /// URL, without its query; a profile): what logs and the CLI show.
    pub shown: Option<String>,
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
            shown: None,
        })
    }
}

impl fmt::Display for ServerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(shown) = &self.shown {
            f.write_str(shown)
        } else if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
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
        for (bad, why) in [
            ("", "no server given"),
            ("host", "'host' has no port"),
            ("host:", "'' in 'host:' is not a port number"),
            (":80", "':80' has no host"),
            ("host:0", "'0' in 'host:0' is not a port number"),
            ("host:65536", "'65536' in 'host:65536' is not a port number"),
            ("host:http", "'http' in 'host:http' is not a port number"),
            (
                "::1:80",
                "looks like an IPv6 address: write it as [address]:port",
            ),
            ("[::1]", "'[::1]' has no port (expected [address]:port)"),
            ("[::1:80", "has no closing ']'"),
            ("a b:80", "'a b' is not a valid host name"),
        ] {
            let e = ServerAddr::parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e:?} should say {why:?}");
        }
    }
}
