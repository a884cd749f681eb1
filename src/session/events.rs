//! What the I/O thread hands the channel thread, and what the channel side
//! gets from the session.

use super::end_reason::EndReason;

/// Server audio ready to play: little-endian samples at the session's rate.
#[derive(Debug)]
pub struct AudioFrame {
    pub pcm: Vec<u8>,
    /// The flush generation it was queued in: a flush since makes it stale.
    pub(crate) generation: u64,
    /// When it should play at the latest, were nothing late: its arrival,
    /// or just after the frame before it (a burst is never late).
    pub(crate) due: Option<std::time::Instant>,
}

impl AudioFrame {
    pub fn new(pcm: Vec<u8>) -> AudioFrame {
        AudioFrame {
            pcm,
            generation: 0,
            due: None,
        }
    }

    pub fn samples(&self) -> usize {
        self.pcm.len() / 2
    }
}

/// Two frames are the same when they carry the same audio; the session's
/// bookkeeping (generation, schedule) is not part of it.
impl PartialEq for AudioFrame {
    fn eq(&self, other: &AudioFrame) -> bool {
        self.pcm == other.pcm
    }
}

impl Eq for AudioFrame {}

/// A mark in the server's audio (barge-in extension), or one the dialplan
/// placed after the audio queued so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    pub id: Vec<u8>,
    pub from_dialplan: bool,
    pub(crate) generation: u64,
}

impl Mark {
    pub fn new(id: Vec<u8>, from_dialplan: bool) -> Mark {
        Mark {
            id,
            from_dialplan,
            generation: 0,
        }
    }

    /// The id as text when it is printable UTF-8, else as hex.
    pub fn id_text(&self) -> String {
        match std::str::from_utf8(&self.id) {
            Ok(s) if s.chars().all(|c| !c.is_control()) => s.to_string(),
            _ => self.id.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

/// What the I/O thread queues for the channel thread, in the order the
/// server sent it.
#[derive(Debug, PartialEq, Eq)]
pub enum Queued {
    Connected,
    Audio(AudioFrame),
    Dtmf(u8),
    Mark(Mark),
    /// The server asks to be told when nothing is left to play.
    ReportDrained,
    /// The server sets a channel variable (call-context extension).
    SetVariable {
        name: String,
        value: String,
    },
    /// Where a server's flush came in what was read. The I/O thread acts
    /// on it; it is never queued.
    Flush,
    /// The server was lost (why); the stream is resuming (option `r`).
    Lost(String),
    /// The stream resumed on a new connection, for the `resumes`th time,
    /// after `gap` without a server.
    Resumed {
        resumes: u32,
        gap: std::time::Duration,
    },
    Ended(EndReason),
}

impl Queued {
    /// Audio may wait for the channel thread to look by itself; anything
    /// else is handled as soon as it arrives.
    pub(crate) fn is_urgent(&self) -> bool {
        !matches!(self, Queued::Audio(_))
    }

    /// About what it holds in memory, in bytes: the item and its contents.
    pub(crate) fn cost(&self) -> usize {
        std::mem::size_of::<Queued>()
            + match self {
                Queued::Audio(f) => f.pcm.len(),
                Queued::Mark(m) => m.id.len(),
                Queued::SetVariable { name, value } => name.len() + value.len(),
                Queued::Ended(end) => end.to_string().len(),
                Queued::Lost(why) => why.len(),
                _ => 0,
            }
    }
}

/// What the session has for the channel side, in order.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    Connected,
    Audio(AudioFrame),
    Dtmf(u8),
    /// The audio before this mark has been played (and the server told,
    /// if the mark was its own).
    MarkPlayed(Mark),
    /// Nothing is left to play, as the dialplan asked to hear.
    Drained,
    /// The server sets this variable on the call's channel.
    SetVariable {
        name: String,
        value: String,
    },
    /// The server was lost (why) and the stream is resuming: the caller
    /// waits (on hold, or in silence).
    ServerLost(String),
    /// The stream resumed, for the `resumes`th time, after `gap`.
    Resumed {
        resumes: u32,
        gap: std::time::Duration,
    },
    Ended(EndReason),
}
