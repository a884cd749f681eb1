//! Up: the channel's audio and DTMF on their way to the server, sent from
//! the channel thread without ever waiting on the network.

use super::handle::Session;
use super::outbox::Pushed;
use super::stats::Stats;
use super::waiting::{Style, Waiting};
use crate::logging::Level;
use crate::protocol::{
    encode_audio, encode_drained, encode_dtmf, encode_mark, encode_stereo, is_dtmf_digit,
};
use crate::slog;

impl Session {
    /// Sends channel audio (little-endian samples at the session's rate)
    /// to the server. Never blocks: before the connection is up it is
    /// ignored, and when the server is not keeping up it is dropped and counted.
    pub fn send_audio(&mut self, pcm: &[u8]) {
        if !self.connected || self.ended || pcm.is_empty() {
            return;
        }
        self.clock.caller_frame(std::time::Instant::now());
        if self.style == Style::Readable && matches!(self.waiting, Waiting::Caller { .. }) {
            // One write to the wake-up descriptor and no context switch:
            // the thread it wakes is this one, which finds the descriptor
            // readable when it next waits.
            self.shared.chan_wake.wake();
            self.waiting = Waiting::Nothing;
        }
        let mut msg = std::mem::take(&mut self.scratch);
        msg.clear();
        encode_audio(&mut msg, self.rate, pcm);
        self.send(&msg, true, pcm.len());
        self.scratch = msg;
    }

    /// Sends a live tap's two-channel frame (interleaved samples, left =
    /// in, right = out) as `0x25`. Never blocks, as [`Session::send_audio`].
    pub fn send_stereo(&mut self, pcm: &[u8]) {
        if !self.connected || self.ended || pcm.is_empty() {
            return;
        }
        let mut msg = std::mem::take(&mut self.scratch);
        msg.clear();
        encode_stereo(&mut msg, pcm);
        self.send(&msg, true, pcm.len());
        self.scratch = msg;
    }

    /// Sends a DTMF digit to the server; anything but `0-9*#A-D` is ignored.
    pub fn send_dtmf(&mut self, digit: u8) {
        let digit = digit.to_ascii_uppercase();
        if !self.connected || self.ended || !is_dtmf_digit(digit) {
            return;
        }
        let mut msg = Vec::with_capacity(4);
        encode_dtmf(&mut msg, digit);
        self.send(&msg, true, 0);
    }

    /// Barge-in: tells the server its mark `id` has been played.
    pub(super) fn send_mark_played(&mut self, id: &[u8]) {
        let mut msg = Vec::with_capacity(id.len() + 3);
        encode_mark(&mut msg, id);
        self.send(&msg, false, 0);
    }

    /// Barge-in: tells the server nothing is left to play.
    pub(super) fn send_drained(&mut self) {
        let mut msg = Vec::with_capacity(3);
        encode_drained(&mut msg);
        self.send(&msg, false, 0);
    }

    /// `frame`: counted among the frames sent (audio and DTMF are; the
    /// extension's replies are not); `audio`: the bytes of audio it holds,
    /// counted as `bytes_up` (as `bytes_down` counts the audio played).
    fn send(&mut self, msg: &[u8], frame: bool, audio: usize) {
        if !self.connected || self.ended {
            return;
        }
        let shared = &self.shared;
        let pushed = shared.outbox.push(msg);
        if matches!(pushed, Pushed::Sent | Pushed::Queued | Pushed::NowWaiting) {
            Stats::add(&shared.stats.frames_up, u64::from(frame));
            Stats::add(&shared.stats.bytes_up, audio as u64);
            shared.note_sent();
        }
        match pushed {
            Pushed::Sent | Pushed::Queued | Pushed::Closed => {}
            Pushed::NowWaiting => shared.io_wake.wake(),
            Pushed::Dropped => {
                Stats::add(&shared.stats.dropped_up, 1);
                if !self.logged_drop {
                    self.logged_drop = true;
                    slog!(
                        self.log,
                        Level::Warning,
                        "{}: AudioSocket server is not reading; dropping channel audio \
                         (counted in 'audiosocket show sessions')",
                        self.label
                    );
                }
            }
        }
    }
}
