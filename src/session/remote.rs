//! A live session seen from another thread: the dialplan function that
//! AMI's Setvar and ARI's channel variables also reach. It can flush the
//! session's queued audio, place a mark after it, ask to hear when it has
//! all played, and read how much is queued; never block on the session.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::server_addr::ServerAddr;
use super::shared::Shared;
use crate::locks::lock;
use crate::protocol::Rate;

/// Marks waiting for the I/O thread, at most: a caller that places marks
/// faster than a session can queue them is refused beyond this.
const MAX_WAITING_MARKS: usize = 256;

pub struct Remote {
    shared: Arc<Shared>,
    rate: Rate,
    /// The stream's UUID, in its standard form.
    pub uuid: String,
    /// The server as the dialplan named it.
    pub server: ServerAddr,
}

impl Remote {
    pub(crate) fn new(shared: Arc<Shared>, rate: Rate, uuid: String, server: ServerAddr) -> Remote {
        Remote {
            shared,
            rate,
            uuid,
            server,
        }
    }

    /// The address reached, once connected.
    pub fn address(&self) -> Option<std::net::SocketAddr> {
        self.shared.peer()
    }

    /// With TLS, once connected: "TLS 1.3, <cipher suite>", and
    /// ", unverified" when the profile does not check the server.
    pub fn encryption(&self) -> Option<String> {
        self.shared.encryption()
    }

    /// Discards all server audio not yet played: the caller hears at most
    /// the frame playing now. What TCP still holds arrives after it as new
    /// audio.
    pub fn flush(&self) {
        self.shared.flush_generation.fetch_add(1, Ordering::AcqRel);
        self.shared.io_wake.wake();
        self.shared.chan_wake.wake();
    }

    /// Places a mark after the audio queued so far; the session reports it
    /// (`Event::MarkPlayed`) once that audio has been played. False if too
    /// many marks already wait.
    pub fn mark(&self, id: &[u8]) -> bool {
        {
            let mut marks = lock(&self.shared.dialplan_marks);
            if marks.len() >= MAX_WAITING_MARKS {
                return false;
            }
            marks.push(id.to_vec());
        }
        self.shared.io_wake.wake();
        true
    }

    /// Asks to hear (`Event::Drained`) when nothing is left to play.
    pub fn report_drained(&self) {
        self.shared
            .dialplan_wants_drained
            .store(true, Ordering::Release);
        self.shared.chan_wake.wake();
    }

    /// Server audio queued and not yet played.
    pub fn buffered(&self) -> Duration {
        self.shared.buffered(self.rate)
    }

    pub fn is_connected(&self) -> bool {
        self.shared.connected.load(Ordering::Acquire)
    }

    /// The server was lost and the stream is resuming (option `r`).
    pub fn is_resuming(&self) -> bool {
        self.shared.resuming.load(Ordering::Acquire)
    }

    /// Times the stream has resumed.
    pub fn resumes(&self) -> u64 {
        self.shared.stats.snapshot().resumes
    }
}
