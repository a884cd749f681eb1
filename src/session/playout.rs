//! Down: what the server sent leaves the queue for the channel, audio at
//! real-time pace under the session's timer. A mark leaves when the audio
//! before it has been played; audio and marks a flush made stale are
//! skipped; a drained report waits until the audio played so far has ended.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crossbeam_channel::TryRecvError;

use super::end_reason::EndReason;
use super::events::{Event, Queued};
use super::handle::Session;
use super::stats::Stats;

impl Session {
    /// Before the channel thread waits: publishes when it will look at the
    /// queue by itself, so that the I/O thread need not wake it for audio
    /// that could not play before then anyway (a frame waiting on the
    /// timer, or the next frame of a stream, looked for just after its
    /// slot). Returns the longest the wait may last (`None`: until woken or
    /// the timer); zero when something arrived meanwhile. Callers that never
    /// park are woken for every event. See `shared.rs` for why no wake-up
    /// is lost.
    pub fn park(&mut self, now: Instant) -> Option<Duration> {
        let (at, timeout) = if self.ended {
            (None, None)
        } else if let Some(at) = self.timer_at {
            (Some(at), None)
        } else if let Some(at) = self.pacer.expect_next(now) {
            (Some(at), Some(at - now))
        } else {
            (None, None)
        };
        let waiting = self.head.is_none();
        if self.shared.park(at, || waiting && !self.queue.is_empty()) {
            return Some(Duration::ZERO);
        }
        timeout
    }

    /// After the wait: the channel thread is looking again.
    pub fn unpark(&self) {
        self.shared.unpark();
    }

    /// Makes the session's timer fire at `at` (unless it already will).
    fn wake_at(&mut self, at: Instant, now: Instant) {
        if self.timer_at != Some(at) {
            self.timer.arm(at.saturating_duration_since(now));
            self.timer_at = Some(at);
        }
    }

    /// The next event if one is ready now. Audio frames come out at
    /// real-time pace: when the next one is not yet due this returns None
    /// and arms the timer among [`Session::wait_fds`] for when it is.
    pub fn next_event(&mut self, now: Instant) -> Option<Event> {
        if let Some(at) = self.timer_at {
            if self.timer.drain() {
                // The one-shot timer expired, and is now disarmed.
                self.timer_at = None;
            } else if now >= at {
                // Due by our clock but not yet by the kernel's: disarm, so a
                // late expiry cannot leave the descriptor readable for good.
                self.timer.disarm();
                self.timer_at = None;
            }
        }
        if self.ended {
            return None;
        }
        loop {
            if self.head.is_none() {
                self.head = match self.queue.try_recv() {
                    Ok(item) => Some(item),
                    Err(TryRecvError::Empty) => return self.idle(now),
                    Err(TryRecvError::Disconnected) => Some(Queued::Ended(EndReason::Internal(
                        "the session's I/O thread stopped".into(),
                    ))),
                };
                if self.shared.io_wants_room.swap(false, Ordering::AcqRel) {
                    self.shared.io_wake.wake();
                }
            }
            let generation = self.shared.flush_generation.load(Ordering::Acquire);
            if generation != self.generation {
                self.generation = generation;
                self.shared
                    .playing_generation
                    .store(generation, Ordering::Release);
            }
            match &self.head {
                Some(Queued::Audio(f)) if f.generation < generation => {
                    self.shared.queued_frames.fetch_sub(1, Ordering::Relaxed);
                }
                Some(Queued::Mark(m)) if m.generation < generation => {}
                Some(Queued::ReportDrained) => self.server_wants_drained = true,
                Some(Queued::Flush) => {}
                _ => break,
            }
            // Stale, or a request now noted: look at the next one.
            self.head = None;
        }
        match &self.head {
            Some(Queued::Audio(frame)) => {
                if let Some(at) = self.pacer.wait_until(now) {
                    self.wake_at(at, now);
                    return None;
                }
                let length = self.rate.duration_of(frame.samples());
                self.pacer.played(now, length);
            }
            Some(Queued::Mark(_)) => {
                if let Some(at) = self.pacer.busy_until(now) {
                    self.wake_at(at, now);
                    return None;
                }
            }
            _ => {}
        }
        Some(match self.head.take()? {
            Queued::Connected => {
                self.connected = true;
                self.shared.connected.store(true, Ordering::Release);
                Event::Connected
            }
            Queued::Audio(f) => {
                self.shared.queued_frames.fetch_sub(1, Ordering::Relaxed);
                Stats::add(&self.shared.stats.frames_down, 1);
                Stats::add(&self.shared.stats.bytes_down, f.pcm.len() as u64);
                Event::Audio(f)
            }
            Queued::Dtmf(d) => Event::Dtmf(d),
            Queued::Mark(m) => {
                if !m.from_dialplan {
                    self.send_mark_played(&m.id);
                }
                Event::MarkPlayed(m)
            }
            Queued::Ended(end) => {
                self.ended = true;
                Event::Ended(end)
            }
            // Taken care of in the loop above.
            Queued::ReportDrained | Queued::Flush => return None,
        })
    }

    /// Nothing is queued: a drained report is due once the audio played so
    /// far has ended; otherwise the timer has nothing to wait for.
    fn idle(&mut self, now: Instant) -> Option<Event> {
        let dialplan = self.shared.dialplan_wants_drained.load(Ordering::Acquire);
        if self.server_wants_drained || dialplan {
            if let Some(at) = self.pacer.busy_until(now) {
                self.wake_at(at, now);
                return None;
            }
            if std::mem::take(&mut self.server_wants_drained) {
                self.send_drained();
            }
            if self
                .shared
                .dialplan_wants_drained
                .swap(false, Ordering::AcqRel)
            {
                return Some(Event::Drained);
            }
        }
        if self.timer_at.take().is_some() {
            self.timer.disarm();
        }
        None
    }

    /// For a caller that takes one event per wake-up (the channel driver's
    /// read callback, which returns one frame): while more events wait,
    /// makes the wait return again so that it asks. A caller that loops on
    /// [`Session::next_event`] until `None` needs none of this.
    pub fn wake_again_if_more(&self) {
        if !self.ended && !self.queue.is_empty() {
            self.shared.chan_wake.wake();
        }
    }

    /// Server audio waiting to be played.
    pub fn buffered(&self) -> Duration {
        self.shared.buffered(self.rate)
    }
}
