//! How a call's start and end are told, decided in one place for the
//! application and the channel driver: the status the dialplan sees in
//! `AUDIOSOCKET_STATUS`, the log lines and their levels, the hangup cause
//! (for the driver's channel), and how many calls ended with each status.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::logging::Level;
use crate::session::{EndReason, ServerAddr};

/// The values of `AUDIOSOCKET_STATUS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    ServerHangup,
    ChannelHangup,
    Redirected,
    ConnectFailed,
    ServerError,
    ProtocolError,
    NetworkError,
    Timeout,
    ServerLost,
    InvalidArguments,
    InternalError,
}

impl Status {
    /// Every status, in the order the CLI lists them.
    pub const ALL: [Status; 11] = [
        Status::ServerHangup,
        Status::ChannelHangup,
        Status::Redirected,
        Status::ConnectFailed,
        Status::ServerError,
        Status::ProtocolError,
        Status::NetworkError,
        Status::Timeout,
        Status::ServerLost,
        Status::InvalidArguments,
        Status::InternalError,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Status::ServerHangup => "SERVER_HANGUP",
            Status::ChannelHangup => "CHANNEL_HANGUP",
            Status::Redirected => "REDIRECTED",
            Status::ConnectFailed => "CONNECT_FAILED",
            Status::ServerError => "SERVER_ERROR",
            Status::ProtocolError => "PROTOCOL_ERROR",
            Status::NetworkError => "NETWORK_ERROR",
            Status::Timeout => "TIMEOUT",
            Status::ServerLost => "SERVER_LOST",
            Status::InvalidArguments => "INVALID_ARGUMENTS",
            Status::InternalError => "INTERNAL_ERROR",
        }
    }

    /// What a session's end means to the dialplan.
    pub fn of(end: &EndReason) -> Status {
        match end {
            EndReason::ServerHangup(_) => Status::ServerHangup,
            EndReason::ChannelHangup => Status::ChannelHangup,
            EndReason::Redirected => Status::Redirected,
            EndReason::ConnectFailed(_) => Status::ConnectFailed,
            EndReason::ServerError(_) => Status::ServerError,
            EndReason::ProtocolError(_) => Status::ProtocolError,
            EndReason::NetworkError(_) => Status::NetworkError,
            EndReason::Timeout => Status::Timeout,
            EndReason::ServerLost { .. } => Status::ServerLost,
            EndReason::Internal(_) => Status::InternalError,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Why the driver's channel is hung up, in Q.850 terms; the boundary maps
/// it to Asterisk's cause codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HangupCause {
    /// 16: an ordinary end (either side hung up, the inactivity timeout).
    NormalClearing,
    /// 27: the server could not be reached.
    DestinationOutOfOrder,
    /// 38: the server or the connection failed.
    Failure,
}

/// Everything the features tell about one call's end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    /// The server's error code, as hex, when it sent one.
    pub error_code: Option<String>,
    pub level: Level,
    /// What happened, in words: "the server hung up (connection reset)".
    pub reason: String,
    pub cause: HangupCause,
}

impl Outcome {
    pub fn of(end: &EndReason) -> Outcome {
        let status = Status::of(end);
        let (level, cause) = match status {
            Status::ServerHangup | Status::ChannelHangup | Status::Redirected => {
                (Level::Verbose(3), HangupCause::NormalClearing)
            }
            Status::Timeout => (Level::Notice, HangupCause::NormalClearing),
            Status::ConnectFailed => (Level::Error, HangupCause::DestinationOutOfOrder),
            Status::ServerError
            | Status::ProtocolError
            | Status::NetworkError
            | Status::ServerLost
            | Status::InvalidArguments
            | Status::InternalError => (Level::Error, HangupCause::Failure),
        };
        Outcome {
            status,
            error_code: end.error_code(),
            level,
            reason: end.to_string(),
            cause,
        }
    }

    /// The log line for `channel`'s session with `server`: a failure names
    /// the server first, the way an administrator looks for it.
    pub fn log_line(&self, channel: &str, server: &ServerAddr) -> String {
        if self.level == Level::Error {
            format!("{channel}: AudioSocket server {server}: {}", self.reason)
        } else {
            format!(
                "{channel}: AudioSocket session with {server} ended: {}",
                self.reason
            )
        }
    }
}

impl Outcome {
    /// The log line for a live tap on `channel`: as [`Outcome::log_line`],
    /// naming the tap, and why a tap that was not ended by its server
    /// ended (`how`: it was stopped, or its channel hung up).
    pub fn tap_log_line(
        &self,
        channel: &str,
        uuid: &str,
        server: &ServerAddr,
        how: Option<&str>,
    ) -> String {
        let reason = how.unwrap_or(&self.reason);
        if self.level == Level::Error {
            format!("{channel}: AudioSocket tap {uuid}: server {server}: {reason}")
        } else {
            format!("{channel}: AudioSocket tap {uuid} to {server} ended: {reason}")
        }
    }
}

static ENDED: [AtomicU64; Status::ALL.len()] = [const { AtomicU64::new(0) }; Status::ALL.len()];

/// One more call ended with `status`.
/// The verbose log line of a call that connected: "connected to
/// host:port" and, over TLS, the version and cipher suite.
pub fn connected(channel: &str, server: &ServerAddr, encryption: Option<&str>) -> String {
    match encryption {
        Some(tls) => format!("{channel}: AudioSocket connected to {server} ({tls})"),
        None => format!("{channel}: AudioSocket connected to {server}"),
    }
}

pub fn record(status: Status) {
    ENDED[status.index()].fetch_add(1, Relaxed);
}

/// How many calls ended with `status` since the module loaded.
pub fn ended_with(status: Status) -> u64 {
    ENDED[status.index()].load(Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{ErrorCode, Hangup};

    #[test]
    fn the_list_holds_every_status_once_in_declaration_order() {
        for (i, s) in Status::ALL.iter().enumerate() {
            assert_eq!(s.index(), i, "{s:?}");
        }
        let names: std::collections::HashSet<_> = Status::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(names.len(), Status::ALL.len());
    }

    #[test]
    fn recording_counts_the_status() {
        let before = ended_with(Status::Timeout);
        record(Status::Timeout);
        // (Other tests may record too, so the count only grows.)
        assert!(ended_with(Status::Timeout) > before);
    }

    #[test]
    fn every_way_a_server_hangs_up_is_the_same_ordinary_end() {
        for how in [
            Hangup::Message,
            Hangup::Closed,
            Hangup::Reset,
            Hangup::ClosedWhileWritten,
        ] {
            let o = Outcome::of(&EndReason::ServerHangup(how));
            assert_eq!(o.status, Status::ServerHangup);
            assert_eq!(o.level, Level::Verbose(3));
            assert_eq!(o.cause, HangupCause::NormalClearing);
        }
        let reset = Outcome::of(&EndReason::ServerHangup(Hangup::Reset));
        assert_eq!(reset.reason, "the server hung up (connection reset)");
    }

    #[test]
    fn each_end_has_one_status_level_and_cause() {
        let server = ServerAddr::parse("bot:9092").unwrap();
        let cases = [
            (
                EndReason::ChannelHangup,
                "CHANNEL_HANGUP",
                Level::Verbose(3),
                HangupCause::NormalClearing,
            ),
            (
                EndReason::Redirected,
                "REDIRECTED",
                Level::Verbose(3),
                HangupCause::NormalClearing,
            ),
            (
                EndReason::Timeout,
                "TIMEOUT",
                Level::Notice,
                HangupCause::NormalClearing,
            ),
            (
                EndReason::ConnectFailed("refused".into()),
                "CONNECT_FAILED",
                Level::Error,
                HangupCause::DestinationOutOfOrder,
            ),
            (
                EndReason::ServerError(ErrorCode::from_payload(&[2])),
                "SERVER_ERROR",
                Level::Error,
                HangupCause::Failure,
            ),
            (
                EndReason::NetworkError("reading from the server: timed out".into()),
                "NETWORK_ERROR",
                Level::Error,
                HangupCause::Failure,
            ),
            (
                EndReason::Internal("x".into()),
                "INTERNAL_ERROR",
                Level::Error,
                HangupCause::Failure,
            ),
        ];
        for (end, status, level, cause) in cases {
            let o = Outcome::of(&end);
            assert_eq!(
                (o.status.name(), o.level, o.cause),
                (status, level, cause),
                "{end:?}"
            );
        }
        let err = Outcome::of(&EndReason::ServerError(ErrorCode::from_payload(&[2])));
        assert_eq!(err.error_code.as_deref(), Some("0x02"));
        assert_eq!(
            err.log_line("Local/1@app-1;2", &server),
            "Local/1@app-1;2: AudioSocket server bot:9092: the server reported error 0x02"
        );
        assert_eq!(
            Outcome::of(&EndReason::Timeout).log_line("C", &server),
            "C: AudioSocket session with bot:9092 ended: no audio either way for the inactivity timeout"
        );
    }
}
