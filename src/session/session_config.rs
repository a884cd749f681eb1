//! What one session is told when it starts; the features fill it from the
//! dialplan arguments and audiosocket.conf.

use std::time::Duration;

use super::server_addr::ServerAddr;
use crate::protocol::Rate;

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
