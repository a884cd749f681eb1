//! How a call's end is told: the status the dialplan sees in
//! `AUDIOSOCKET_STATUS`, and how many calls ended with each.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::session::EndReason;

/// The values of `AUDIOSOCKET_STATUS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    ServerHangup,
    ChannelHangup,
    ConnectFailed,
    ServerError,
    ProtocolError,
    NetworkError,
    Timeout,
    InvalidArguments,
    InternalError,
}

impl Status {
    /// Every status, in the order the CLI lists them.
    pub const ALL: [Status; 9] = [
        Status::ServerHangup,
        Status::ChannelHangup,
        Status::ConnectFailed,
        Status::ServerError,
        Status::ProtocolError,
        Status::NetworkError,
        Status::Timeout,
        Status::InvalidArguments,
        Status::InternalError,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Status::ServerHangup => "SERVER_HANGUP",
            Status::ChannelHangup => "CHANNEL_HANGUP",
            Status::ConnectFailed => "CONNECT_FAILED",
            Status::ServerError => "SERVER_ERROR",
            Status::ProtocolError => "PROTOCOL_ERROR",
            Status::NetworkError => "NETWORK_ERROR",
            Status::Timeout => "TIMEOUT",
            Status::InvalidArguments => "INVALID_ARGUMENTS",
            Status::InternalError => "INTERNAL_ERROR",
        }
    }

    /// What a session's end means to the dialplan.
    pub fn of(end: &EndReason) -> Status {
        match end {
            EndReason::ServerHangup => Status::ServerHangup,
            EndReason::ChannelHangup => Status::ChannelHangup,
            EndReason::ConnectFailed(_) => Status::ConnectFailed,
            EndReason::ServerError(_) => Status::ServerError,
            EndReason::ProtocolError(_) => Status::ProtocolError,
            EndReason::NetworkError(_) => Status::NetworkError,
            EndReason::Timeout => Status::Timeout,
            EndReason::Internal(_) => Status::InternalError,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

static ENDED: [AtomicU64; Status::ALL.len()] = [const { AtomicU64::new(0) }; Status::ALL.len()];

/// One more call ended with `status`.
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
        let before: Vec<u64> = Status::ALL.iter().map(|s| ended_with(*s)).collect();
        record(Status::Timeout);
        // (Other tests may record too, so counts only grow.)
        for (s, b) in Status::ALL.iter().zip(before) {
            let want = b + u64::from(*s == Status::Timeout);
            assert!(ended_with(*s) >= want, "{s:?}");
        }
    }
}
