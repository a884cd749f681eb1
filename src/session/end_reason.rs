//! Why a session ended.

use std::fmt;
use std::io;

/// How a server hung up: each is an ordinary end of the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hangup {
    /// It sent the hangup message (`0x00`).
    Message,
    /// It closed the connection (end of file).
    Closed,
    /// It closed the connection with a reset: Linux does this when a
    /// process closes a socket with unread data, as a streaming server
    /// almost always has.
    Reset,
    /// A write failed because it had closed the connection.
    ClosedWhileWritten,
    /// It closed its WebSocket, with this code (1000: the normal end).
    WebSocketClose(u16),
    /// It asked to be left (`0x26`), for the call to resume elsewhere.
    Moving,
}

/// The code a server's error message (`0xff`) carried: its first
/// [`ErrorCode::KEPT`] bytes, and how long it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorCode {
    pub bytes: Vec<u8>,
    pub length: usize,
}

impl ErrorCode {
    /// Bytes of a code kept: Asterisk's own codes are one byte, and the
    /// code travels in a channel variable, a log line and an AMI event.
    pub const KEPT: usize = 8;

    pub fn from_payload(payload: &[u8]) -> ErrorCode {
        ErrorCode {
            bytes: payload[..payload.len().min(Self::KEPT)].to_vec(),
            length: payload.len(),
        }
    }
}

/// Why a session ended; the features turn it into what the dialplan sees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// The server hung up, one way or another.
    ServerHangup(Hangup),
    /// The channel hung up (or the call was stopped from Asterisk).
    ChannelHangup,
    /// The channel left the application for another place in the dialplan
    /// (a redirect); the call goes on there.
    Redirected,
    /// No connection could be made.
    ConnectFailed(String),
    /// The server sent `0xff`, with its optional code.
    ServerError(ErrorCode),
    /// The server broke the framing (for example closed in mid-message).
    ProtocolError(String),
    /// Reading or writing the socket failed for a reason other than the
    /// server closing it (a timed-out or unreachable peer, say).
    NetworkError(String),
    /// Neither side sent anything for the configured inactivity timeout.
    Timeout,
    /// The server was lost (`why`) and the call could not resume within
    /// its limits, after `attempts` attempts.
    ServerLost { attempts: u32, why: String },
    /// The module itself failed (a caught panic, a resource it could not get).
    Internal(String),
}

impl EndReason {
    /// The server's error code as hex (`0x01`), when it sent one.
    pub fn error_code(&self) -> Option<String> {
        match self {
            EndReason::ServerError(code) if !code.bytes.is_empty() => Some(format!(
                "0x{}",
                code.bytes
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            )),
            _ => None,
        }
    }

    /// A failed read or write of the connection: the server hanging up if
    /// the error says it closed the connection, else a network error.
    pub(crate) fn from_io(e: &io::Error, writing: bool) -> EndReason {
        match e.kind() {
            io::ErrorKind::ConnectionReset if !writing => EndReason::ServerHangup(Hangup::Reset),
            io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe => {
                EndReason::ServerHangup(Hangup::ClosedWhileWritten)
            }
            _ => EndReason::NetworkError(format!(
                "{} the server: {e}",
                if writing {
                    "writing to"
                } else {
                    "reading from"
                }
            )),
        }
    }
}

/// What a WebSocket close code says (RFC 6455, section 7.4.1).
fn close_meaning(code: u16) -> &'static str {
    match code {
        1000 => "normal",
        1001 => "going away",
        1002 => "protocol error",
        1003 => "unsupported data",
        1005 => "no code",
        1007 => "invalid data",
        1008 => "policy violation",
        1009 => "message too big",
        1011 => "server error",
        1012 => "service restart",
        1013 => "try again later",
        _ => "other",
    }
}

impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndReason::ServerHangup(how) => write!(
                f,
                "the server hung up ({})",
                match how {
                    Hangup::Message => "hangup message",
                    Hangup::Closed => "closed the connection",
                    Hangup::Reset => "connection reset",
                    Hangup::ClosedWhileWritten => "closed the connection while it was written to",
                    Hangup::Moving => return write!(f, "the server asked to be left (0x26)"),
                    Hangup::WebSocketClose(code) =>
                        return write!(
                            f,
                            "the server closed the WebSocket ({code} {})",
                            close_meaning(*code)
                        ),
                }
            ),
            EndReason::ChannelHangup => write!(f, "the channel hung up"),
            EndReason::Redirected => {
                write!(f, "the channel was redirected elsewhere in the dialplan")
            }
            EndReason::ConnectFailed(why) => write!(f, "could not connect: {why}"),
            EndReason::ServerError(code) => match self.error_code() {
                Some(hex) if code.length > code.bytes.len() => write!(
                    f,
                    "the server reported error {hex}... (a {}-byte code, cut to its first {})",
                    code.length,
                    code.bytes.len()
                ),
                Some(hex) => write!(f, "the server reported error {hex}"),
                None => write!(f, "the server reported an error (no code)"),
            },
            EndReason::ProtocolError(why) => write!(f, "protocol error: {why}"),
            EndReason::NetworkError(why) => write!(f, "network error: {why}"),
            EndReason::Timeout => write!(f, "no audio either way for the inactivity timeout"),
            EndReason::ServerLost { attempts, why } => write!(
                f,
                "the server was lost ({why}) and {attempts} attempt{} to resume failed",
                if *attempts == 1 { "" } else { "s" }
            ),
            EndReason::Internal(why) => write!(f, "internal error: {why}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_error_code_is_cut_to_its_first_bytes_and_says_so() {
        let short = EndReason::ServerError(ErrorCode::from_payload(&[2]));
        assert_eq!(short.error_code().as_deref(), Some("0x02"));
        assert_eq!(short.to_string(), "the server reported error 0x02");
        let huge: Vec<u8> = (0..65535u32).map(|i| i as u8).collect();
        let long = EndReason::ServerError(ErrorCode::from_payload(&huge));
        assert_eq!(long.error_code().as_deref(), Some("0x0001020304050607"));
        assert_eq!(
            long.to_string(),
            "the server reported error 0x0001020304050607... (a 65535-byte code, cut to its first 8)"
        );
        let none = EndReason::ServerError(ErrorCode::from_payload(&[]));
        assert_eq!(none.error_code(), None);
    }

    #[test]
    fn a_closed_connection_is_a_hangup_and_other_failures_are_network_errors() {
        let err = |k: io::ErrorKind| io::Error::from(k);
        assert_eq!(
            EndReason::from_io(&err(io::ErrorKind::ConnectionReset), false),
            EndReason::ServerHangup(Hangup::Reset)
        );
        for kind in [io::ErrorKind::ConnectionReset, io::ErrorKind::BrokenPipe] {
            assert_eq!(
                EndReason::from_io(&err(kind), true),
                EndReason::ServerHangup(Hangup::ClosedWhileWritten)
            );
        }
        let timed_out = EndReason::from_io(&io::Error::from_raw_os_error(libc::ETIMEDOUT), false);
        assert!(
            matches!(&timed_out, EndReason::NetworkError(m) if m.starts_with("reading from the server: ")),
            "{timed_out:?}"
        );
        let unreachable =
            EndReason::from_io(&io::Error::from_raw_os_error(libc::EHOSTUNREACH), true);
        assert!(
            matches!(&unreachable, EndReason::NetworkError(m) if m.starts_with("writing to the server: ")),
            "{unreachable:?}"
        );
    }
}
