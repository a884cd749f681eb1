//! What one session is told when it starts; the features fill it from the
//! dialplan arguments and audiosocket.conf.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::end_reason::EndReason;
use super::resume::{ResumeListener, ResumePolicy};
use super::server_addr::ServerAddr;
use super::server_input::InputOptions;
use super::stats::StatsSnapshot;
use super::tls::TlsClient;
use super::variables::VariablePolicy;
use super::websocket::WebSocketTarget;
use crate::protocol::twilio::StreamInfo;
use crate::protocol::Rate;

/// What a tap streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TapDirection {
    /// `d(in)`: what the channel's party says (frames read from the channel).
    In,
    /// `d(out)`: what the party hears (frames written to the channel).
    Out,
    /// `d(both)`: both, mixed into one mono stream.
    Both,
    /// `d(stereo)`: both, time-aligned, as one two-channel stream (`0x25`).
    Stereo,
}

impl TapDirection {
    pub fn parse(s: &str) -> Option<TapDirection> {
        match s.trim().to_ascii_lowercase().as_str() {
            "in" => Some(TapDirection::In),
            "out" => Some(TapDirection::Out),
            "both" => Some(TapDirection::Both),
            "stereo" => Some(TapDirection::Stereo),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TapDirection::In => "in",
            TapDirection::Out => "out",
            TapDirection::Both => "both",
            TapDirection::Stereo => "stereo",
        }
    }
}

/// Told by the I/O thread, once, how a session ended, whichever side ended
/// it, with its final counters: for a session no channel thread waits on
/// (a live tap), whose end must be told as it happens.
#[derive(Clone)]
pub struct EndListener(pub Arc<EndFn>);

pub type EndFn = dyn Fn(&EndReason, StatsSnapshot) + Send + Sync;

impl fmt::Debug for EndListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EndListener")
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
    /// Server audio that falls further than this behind its schedule (the
    /// machine is too loaded to play it in time) is dropped; None: never.
    pub max_lateness: Option<Duration>,
    /// A frame that arrives while the playout is not ahead plays at once
    /// (true), or, in the application, at the caller's next frame when
    /// those come as a clock (false: up to a frame later, half on
    /// average, for one wake-up of the channel's thread less per frame).
    pub low_latency: bool,
    /// The barge-in extension: flush, marks and drained reports on the
    /// socket, and a tight bound on what the server can write ahead.
    pub barge_in: bool,
    /// TLS to the server, with this profile; None: plain TCP.
    pub tls: Option<TlsClient>,
    /// A WebSocket to the server (over TLS for `wss`); None: AudioSocket
    /// straight over TCP.
    pub websocket: Option<WebSocketTarget>,
    /// The Twilio dialect's stream, as `start` tells it (with a WebSocket
    /// in that dialect).
    pub twilio: Option<StreamInfo>,
    /// A mark the server placed is answered when a flush drops it, as
    /// Twilio answers the marks a `clear` drops; else it never comes back.
    pub answer_flushed_marks: bool,
    /// The call-context extension (option `m`): this JSON object goes to
    /// the server right after the UUID.
    pub context: Option<Vec<u8>>,
    /// The variables the server may set (`0x24`, with option `m` or
    /// `v()`); None: `0x24` is an unknown kind.
    pub variables: Option<VariablePolicy>,
    /// A live tap streaming this side of its channel; None for a call.
    pub tap: Option<TapDirection>,
    /// Whether the server's audio is played (a tap without `w` reads and
    /// drops it).
    pub play_server_audio: bool,
    /// Told how the session ended (see [`EndListener`]).
    pub on_end: Option<EndListener>,
    /// Resume the stream on another server when this one is lost or asks
    /// to be left (option `r`); None: a loss ends the call.
    pub resume: Option<ResumePolicy>,
    /// Told each step of a resume, as it happens.
    pub on_resume: Option<ResumeListener>,
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
            low_latency: true,
            barge_in: false,
            tls: None,
            websocket: None,
            twilio: None,
            answer_flushed_marks: false,
            context: None,
            variables: None,
            tap: None,
            play_server_audio: true,
            on_end: None,
            resume: None,
            on_resume: None,
            label: label.to_string(),
            channel_id: String::new(),
        }
    }

    /// What the call accepts from its server.
    pub(crate) fn input_options(&self) -> InputOptions {
        InputOptions {
            rate: self.rate,
            barge_in: self.barge_in,
            variables: self.variables.clone(),
            play_audio: self.play_server_audio,
            keep_flushed_marks: self.answer_flushed_marks,
            resume: self.resume.is_some(),
        }
    }

    /// Bytes of one 20 ms frame of audio to the server: two channels' worth
    /// for a stereo tap, so that every bound on what waits for the server
    /// holds the same time of audio.
    pub(crate) fn frame_bytes_up(&self) -> usize {
        match self.tap {
            Some(TapDirection::Stereo) => 2 * self.rate.frame_bytes(),
            _ => self.rate.frame_bytes(),
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

    /// The bytes read from the socket but not yet queued, at most: the
    /// frames above, and room for the small messages between them.
    pub(crate) fn pending_bytes(&self) -> usize {
        self.pending_frames() * (self.rate.frame_bytes() + 64) + 4096
    }

    /// The socket limits that keep what a server can write ahead, and what
    /// the kernel holds, close to the playout buffer (see `connect::Limits`).
    pub(crate) fn socket_limits(&self) -> super::connect::Limits {
        if self.barge_in {
            super::connect::Limits::for_barge_in(self.rate)
        } else {
            super::connect::Limits::for_call(self.rate, self.playout_buffer)
        }
    }
}
