//! Down: what the server sent leaves the queue for the channel, audio at
//! real-time pace. A frame that arrives while the playout is not ahead of
//! real time plays at once; only frames that come faster (a burst, a
//! server sending ahead) wait for their slot, at the caller's own frames
//! when those are a clock (`caller_clock.rs`), else under the session's
//! timer. The schedule follows a server whose clock runs up to 1 % fast
//! (see `pacer.rs`), so a paced server never waits. A mark leaves when the
//! audio before it has been played; audio and marks a flush made stale
//! are skipped, and audio too far behind its schedule (an overloaded
//! machine) is dropped; a drained report waits until the audio played so
//! far has ended; digits take their turns (`digits.rs`).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crossbeam_channel::TryRecvError;

use super::caller_clock::MARGIN;
use super::end_reason::EndReason;
use super::events::{Event, Queued};
use super::handle::Session;
use super::stats::Stats;
use super::waiting::{Style, Waiting};
use crate::logging::Level;
use crate::slog;

/// How [`Session::next_event`] and its kin take audio.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Take {
    /// At real-time pace.
    Paced,
    /// As soon as it is queued.
    Unpaced,
    /// Not at all: it stays first in line.
    NoAudio,
}

/// What a server can send faster than a call takes it.
#[derive(Clone, Copy)]
enum Dropped {
    Digit = 1,
    Mark = 2,
}

impl Session {
    /// Before the channel thread waits: publishes when it will look at the
    /// queue by itself, so that the I/O thread need not wake it for audio
    /// that would only queue behind a frame that waits. Returns the longest
    /// the wait may last (`None`: until woken or the timer); zero when
    /// something arrived meanwhile. See `shared.rs` for why no wake-up is
    /// lost.
    pub fn park(&mut self, now: Instant) -> Option<Duration> {
        self.style = Style::Parks;
        let timeout = match self.waiting {
            Waiting::Caller { by } if by > now => Some(by - now),
            _ => None,
        };
        let waiting = self.head.is_none();
        if self
            .shared
            .park(self.looks_at(), || waiting && !self.queue.is_empty())
        {
            return Some(Duration::ZERO);
        }
        timeout
    }

    /// When the channel thread will look by itself: only while something
    /// waits first in line (what arrives then queues behind it).
    fn looks_at(&self) -> Option<Instant> {
        if self.ended {
            return None;
        }
        match self.waiting {
            Waiting::Nothing => None,
            Waiting::Timer => self.timer_at,
            Waiting::Caller { by } => Some(by),
        }
    }

    /// After the wait: the channel thread is looking again.
    pub fn unpark(&self) {
        self.shared.unpark();
    }

    /// A frame may play from `at`: look then, at the caller's next frame if
    /// that comes within a frame of it (no wake-up of its own), else when
    /// the timer fires.
    fn play_from(&mut self, at: Instant, now: Instant) {
        let frame = self.rate.duration_of(self.rate.frame_samples());
        match self.clock.next_frame(now) {
            Some(caller) if caller <= at + frame => {
                let by = caller + MARGIN;
                if self.style == Style::Readable {
                    self.wake_at(by, now);
                } else if self.timer_at.take().is_some() {
                    self.timer.disarm();
                }
                self.waiting = Waiting::Caller { by };
            }
            _ => {
                self.wake_at(at, now);
                self.waiting = Waiting::Timer;
            }
        }
    }

    /// Whether audio due at `due` is further behind than the session allows.
    fn too_late(&self, due: Option<Instant>, now: Instant) -> bool {
        match (due, self.max_lateness) {
            (Some(due), Some(max)) => now.saturating_duration_since(due) > max,
            _ => false,
        }
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
        self.next(now, Take::Paced)
    }

    /// The next event if one is ready now, audio as soon as it is queued:
    /// for a channel side whose own frames pace the server's audio (a
    /// tap's whisper, mixed into frames written to the channel). Audio a
    /// flush made stale, or later than `max_lateness`, is still skipped.
    pub fn next_event_unpaced(&mut self, now: Instant) -> Option<Event> {
        self.next(now, Take::Unpaced)
    }

    /// The next event if it is not audio: what else the server sent, for a
    /// channel side that takes audio only when it has room for it.
    pub fn next_control_event(&mut self, now: Instant) -> Option<Event> {
        self.next(now, Take::NoAudio)
    }

    fn next(&mut self, now: Instant, take: Take) -> Option<Event> {
        // The timer cannot have expired before its time: no system call
        // until then.
        if self.timer_at.is_some_and(|at| now >= at) {
            // A one-shot timer that expired is disarmed once drained; one due
            // by our clock but not yet by the kernel's is disarmed, so that a
            // late expiry cannot leave the descriptor readable for good.
            if !self.timer.drain() {
                self.timer.disarm();
            }
            self.timer_at = None;
        }
        self.waiting = Waiting::Nothing;
        if self.ended {
            return None;
        }
        if let Some(why) = self.shared.io_failed.get() {
            self.ended = true;
            return Some(Event::Ended(EndReason::Internal(why.clone())));
        }
        let event = self.next_in_line(now, take);
        if event.is_none() {
            // A digit waiting its turn needs the timer too.
            if let Some(at) = self.digits.due() {
                if self.timer_at.map_or(true, |t| at < t) {
                    self.wake_at(at.max(now), now);
                }
            }
        }
        event
    }

    fn next_in_line(&mut self, now: Instant, take: Take) -> Option<Event> {
        if let Some(d) = self.digits.take(now) {
            return Some(Event::Dtmf(d));
        }
        loop {
            if self.head.is_none() {
                self.head = match self.queue.try_recv() {
                    Ok(item) => Some(item),
                    Err(TryRecvError::Empty) => {
                        self.caught_up();
                        return self.idle(now);
                    }
                    Err(TryRecvError::Disconnected) => Some(Queued::Ended(EndReason::Internal(
                        "the session's I/O thread stopped".into(),
                    ))),
                };
                if self.shared.io_wants_room.swap(false, Ordering::AcqRel) {
                    self.shared.io_wake.wake();
                }
            }
            let generation = self.shared.flush_generation.load(Ordering::Acquire);
            self.generation = generation;
            match &self.head {
                Some(Queued::Audio(f)) if f.generation < generation => {
                    self.shared.queued_frames.fetch_sub(1, Ordering::Relaxed);
                }
                Some(Queued::Audio(f)) if self.too_late(f.due, now) => {
                    self.shared.queued_frames.fetch_sub(1, Ordering::Relaxed);
                    Stats::add(&self.shared.stats.dropped_down, 1);
                    if !std::mem::replace(&mut self.logged_late, true) {
                        slog!(
                            self.log,
                            Level::Warning,
                            "{}: the machine is too loaded to play AudioSocket audio in time; \
                             dropping audio more than {} ms late (counted in 'audiosocket show \
                             sessions')",
                            self.label,
                            self.max_lateness.unwrap_or_default().as_millis()
                        );
                    }
                }
                // Dropped by a flush: answered at once where the dialect
                // asks for it, else never; and never when it was a lost
                // server's (the new one never placed it).
                Some(Queued::Mark(m)) if m.generation < generation => {
                    let lost =
                        m.generation < self.shared.resumed_generation.load(Ordering::Acquire);
                    if self.answer_flushed_marks && !m.from_dialplan && !lost {
                        break;
                    }
                }
                Some(Queued::ReportDrained) => self.server_wants_drained = true,
                Some(Queued::Flush) => {}
                Some(Queued::Dtmf(d)) => {
                    let d = *d;
                    if !self.digits.push(d) {
                        self.dropped(Dropped::Digit);
                    }
                    if let Some(d) = self.digits.take(now) {
                        self.head = None;
                        return Some(Event::Dtmf(d));
                    }
                }
                // The end waits for the digits before it to be played.
                Some(Queued::Ended(_)) if self.digits.due().is_some() => return None,
                Some(Queued::Audio(_)) if take == Take::NoAudio => return None,
                Some(Queued::Audio(frame)) if take == Take::Paced => {
                    if let Some(at) = self.pacer.wait_until(now) {
                        self.play_from(at, now);
                        return None;
                    }
                    // The schedule follows a paced server's clock when
                    // nothing else waits behind this frame.
                    let alone = self.queue.is_empty();
                    let length = self.rate.duration_of(frame.samples());
                    self.pacer.played(now, length, alone);
                    self.clock.played(now);
                    break;
                }
                Some(Queued::Mark(_)) => {
                    if let Some(at) = self.pacer.busy_until(now) {
                        self.wake_at(at, now);
                        self.waiting = Waiting::Timer;
                        return None;
                    }
                    if self.mark_budget.take(now) {
                        break;
                    }
                    self.dropped(Dropped::Mark);
                }
                _ => break,
            }
            // Stale, dropped, or a request now noted: look at the next one.
            self.head = None;
        }
        self.caught_up();
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
            Queued::SetVariable { name, value } => Event::SetVariable { name, value },
            Queued::Mark(m) => {
                if !m.from_dialplan {
                    self.send_mark_played(&m.id);
                }
                Event::MarkPlayed(m)
            }
            Queued::Lost(why) => {
                // What the lost server asked for is not the new one's.
                self.server_wants_drained = false;
                Event::ServerLost(why)
            }
            Queued::Resumed { resumes, gap } => Event::Resumed { resumes, gap },
            Queued::Ended(end) => {
                self.ended = true;
                Event::Ended(end)
            }
            // Taken care of in the loop above.
            Queued::ReportDrained | Queued::Flush => return None,
        })
    }

    /// Counts what a server sent faster than a call can take it, and says
    /// so once a call.
    fn dropped(&mut self, what: Dropped) {
        let stats = &self.shared.stats;
        let (counter, name) = match what {
            Dropped::Digit => (&stats.dropped_dtmf, "DTMF digits"),
            Dropped::Mark => (&stats.dropped_marks, "marks"),
        };
        Stats::add(counter, 1);
        if self.logged_drops & what as u8 == 0 {
            self.logged_drops |= what as u8;
            slog!(
                self.log,
                Level::Warning,
                "{}: the AudioSocket server sends {name} faster than a call plays them; \
                 dropping what does not fit (counted in 'audiosocket show session')",
                self.label
            );
        }
    }

    /// Says that the frames a flush made stale are gone: only then, so
    /// that `AUDIOSOCKET(buffered_ms)` never counts them as queued.
    fn caught_up(&self) {
        if self.shared.playing_generation.load(Ordering::Relaxed) != self.generation {
            self.shared
                .playing_generation
                .store(self.generation, Ordering::Release);
        }
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
        // Without low latency, a parking channel thread says it will look
        // at the caller's next frame: the I/O thread then queues a paced
        // server's frame without waking it, and the frame plays with the
        // caller's. (The driver is woken for every frame either way, so
        // waiting would save it nothing.)
        if !self.low_latency && self.style == Style::Parks {
            if let Some(caller) = self.clock.next_frame(now) {
                self.waiting = Waiting::Caller {
                    by: caller + MARGIN,
                };
            }
        }
        None
    }

    /// For a channel thread that takes one event per wake-up and waits
    /// only on [`Session::wait_fds`] (the channel driver, read when they
    /// are readable), after each read: makes the descriptors readable again
    /// at once while more events wait, and otherwise publishes when it will
    /// look by itself, as [`Session::park`] does. See `shared.rs` for why
    /// no wake-up is lost.
    pub fn park_until_readable(&mut self) {
        self.style = Style::Readable;
        let waiting = self.head.is_none();
        if self
            .shared
            .park(self.looks_at(), || waiting && !self.queue.is_empty())
        {
            self.shared.chan_wake.wake();
        }
    }

    /// Server audio waiting to be played.
    pub fn buffered(&self) -> Duration {
        self.shared.buffered(self.rate)
    }
}
