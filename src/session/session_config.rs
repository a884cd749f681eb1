//! What one session is told when it starts; the features fill it from the
//! dialplan arguments and audiosocket.conf.

use std::time::Duration;

use super::server_addr::ServerAddr;
use super::tls::TlsClient;
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
    /// Server audio that falls further than this behind its schedule (the
    /// machine is too loaded to play it in time) is dropped; None: never.
    pub max_lateness: Option<Duration>,
    /// The barge-in extension: flush, marks and drained reports on the
    /// socket, and a tight bound on what the server can write ahead.
    pub barge_in: bool,
    /// TLS to the server, with this profile; None: plain TCP.
    pub tls: Option<TlsClient>,
    /// The channel's name, for log lines.
    pub label: String,
    /// The channel's unique id, by which Asterisk's side finds the session.
    pub channel_id: String,
}

impl SessionConfig {
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
    pub const DEFAULT_PLAYOUT_BUFFER: Duration = Duration::from_secs(2);
    pub const DEFAULT_UPLINK_BUFFER: Duration = Duration::from_secs(1);
    pub const DEFAULT_MAX_LATENESS: Duration = Duration::from_millis(200);

    pub fn new(uuid: [u8; 16], server: ServerAddr, rate: Rate, label: &str) -> Self {
        SessionConfig {
            uuid,
            server,
            rate,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            inactivity_timeout: None,
            playout_buffer: Self::DEFAULT_PLAYOUT_BUFFER,
            uplink_buffer: Self::DEFAULT_UPLINK_BUFFER,
            max_lateness: Some(Self::DEFAULT_MAX_LATENESS),
            barge_in: false,
            tls: None,
            label: label.to_string(),
            channel_id: String::new(),
        }
    }

    /// 20 ms frames that fit in `d`, at least a few.
    pub(crate) fn frames_in(d: Duration) -> usize {
        (d.as_millis() as usize / 20).max(4)
    }

    /// With barge-in, how much of the playout buffer is read ahead of a
    /// full queue, so that a flush or mark behind the audio is seen at once.
    pub(crate) fn read_ahead(&self) -> Duration {
        if self.barge_in {
            (self.playout_buffer / 2).min(Duration::from_secs(1))
        } else {
            Duration::ZERO
        }
    }

    /// The queue between the threads: the playout buffer less what is read ahead.
    pub(crate) fn queue_frames(&self) -> usize {
        Self::frames_in(self.playout_buffer.saturating_sub(self.read_ahead()))
    }

    /// Frames read from the socket but not yet queued before the I/O thread
    /// stops reading: one read's worth without barge-in, the read-ahead with.
    pub(crate) fn pending_frames(&self) -> usize {
        if self.barge_in {
            Self::frames_in(self.read_ahead())
        } else {
            1
        }
    }

    /// With barge-in, the socket limits that keep what a server can write
    /// ahead close to the playout buffer (see `connect::Limits`).
    pub(crate) fn socket_limits(&self) -> Option<super::connect::Limits> {
        self.barge_in
            .then(|| super::connect::Limits::for_rate(self.rate))
    }
}
