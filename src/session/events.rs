//! What the I/O thread hands the channel thread, in the order it happened.

use super::end_reason::EndReason;

/// Server audio ready to play: little-endian samples at the session's rate.
#[derive(Debug, PartialEq, Eq)]
pub struct AudioFrame {
    pub pcm: Vec<u8>,
}

impl AudioFrame {
    pub fn samples(&self) -> usize {
        self.pcm.len() / 2
    }
}

/// What the server side has for the channel.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    Connected,
    Audio(AudioFrame),
    Dtmf(u8),
    Ended(EndReason),
}

impl Event {
    /// Audio may wait for the channel thread to look by itself; anything
    /// else is handled as soon as it arrives.
    pub(crate) fn is_urgent(&self) -> bool {
        !matches!(self, Event::Audio(_))
    }
}
