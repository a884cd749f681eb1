//! Why a session ended.

use std::fmt;

/// Why a session ended; the features turn it into what the dialplan sees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// The server sent a hangup message or closed the connection.
    ServerHangup,
    /// The channel hung up (or the call was stopped from Asterisk).
    ChannelHangup,
    /// No connection could be made.
    ConnectFailed(String),
    /// The server sent `0xff`, with its optional code.
    ServerError(Vec<u8>),
    /// The server broke the framing (for example closed in mid-message).
    ProtocolError(String),
    /// Reading or writing the socket failed.
    NetworkError(String),
    /// Neither side sent anything for the configured inactivity timeout.
    Timeout,
    /// The module itself failed (a caught panic, a resource it could not get).
    Internal(String),
}

impl EndReason {
    /// The server's error code as hex (`0x01`), when it sent one.
    pub fn error_code(&self) -> Option<String> {
        match self {
            EndReason::ServerError(code) if !code.is_empty() => Some(format!(
                "0x{}",
                code.iter().map(|b| format!("{b:02x}")).collect::<String>()
            )),
            _ => None,
        }
    }
}

impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndReason::ServerHangup => write!(f, "the server hung up"),
            EndReason::ChannelHangup => write!(f, "the channel hung up"),
            EndReason::ConnectFailed(why) => write!(f, "could not connect: {why}"),
            EndReason::ServerError(_) => match self.error_code() {
                Some(code) => write!(f, "the server reported error {code}"),
                None => write!(f, "the server reported an error (no code)"),
            },
            EndReason::ProtocolError(why) => write!(f, "protocol error: {why}"),
            EndReason::NetworkError(why) => write!(f, "network error: {why}"),
            EndReason::Timeout => write!(f, "no audio either way for the inactivity timeout"),
            EndReason::Internal(why) => write!(f, "internal error: {why}"),
        }
    }
}
