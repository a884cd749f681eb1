//! The channel thread's side of a session.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, TryRecvError};

use super::census;
use super::config::SessionConfig;
use super::end::EndReason;
use super::fd::{TimerFd, Waker};
use super::io_thread::IoThread;
use super::log::{Level, Log};
use super::outbox::{Outbox, Pushed};
use super::pacer::Pacer;
use super::registry;
use super::stats::{Stats, StatsSnapshot};
use crate::protocol::{encode_audio, encode_dtmf, is_dtmf_digit, Rate};
use crate::slog;

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

/// What the server side has for the channel, in the order it happened.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    Connected,
    Audio(AudioFrame),
    Dtmf(u8),
    Ended(EndReason),
}

/// About how long `frames` queued playout frames last (the queue also holds
/// a few events and short tail frames, so this is an estimate).
pub(crate) fn queued_audio(rate: Rate, frames: usize) -> Duration {
    rate.duration_of(frames * rate.frame_samples())
}

/// State both threads touch.
pub(crate) struct Shared {
    pub stop: AtomicBool,
    /// The connection is up (set by the channel side when it sees it).
    pub connected: AtomicBool,
    /// The I/O thread is waiting for room in the playout queue.
    pub io_wants_room: AtomicBool,
    pub io_wake: Waker,
    pub chan_wake: Waker,
    pub stats: Stats,
    /// Channel audio and DTMF for the server.
    pub outbox: Outbox,
    /// When the channel side last sent something, in nanoseconds since
    /// `epoch` (for the inactivity timeout, which the I/O thread keeps).
    pub sent_at: AtomicU64,
    pub epoch: Instant,
    /// When the channel thread will next look at the playout queue without
    /// being woken, in nanoseconds since `epoch`; [`AWAKE`] while it is
    /// looking, [`ONLY_IF_WOKEN`] when it will not by itself. The I/O thread
    /// skips waking it for audio unless this is `ONLY_IF_WOKEN`: see
    /// [`Session::park`].
    pub look_at: AtomicU64,
}

pub(crate) const AWAKE: u64 = 0;
pub(crate) const ONLY_IF_WOKEN: u64 = u64::MAX;

impl Shared {
    pub fn last_sent(&self) -> Instant {
        self.epoch + Duration::from_nanos(self.sent_at.load(Ordering::Relaxed))
    }
}

/// One call's session, owned by the channel thread. Dropping it stops the
/// I/O thread, which closes the socket.
pub struct Session {
    shared: Arc<Shared>,
    events: Receiver<Event>,
    /// Reused for each message to the server.
    scratch: Vec<u8>,
    head: Option<Event>,
    pacer: Pacer,
    timer: TimerFd,
    /// When the timer is armed to expire, if it is.
    timer_at: Option<Instant>,
    rate: Rate,
    connected: bool,
    ended: bool,
    log: Arc<dyn Log>,
    label: String,
    logged_drop: bool,
    census_id: u64,
    /// How it ended, once known (a drop before that is a channel hangup).
    end: Option<EndReason>,
}

impl Session {
    /// Starts the session's I/O thread, which resolves and connects at once.
    pub fn start(config: SessionConfig, log: Arc<dyn Log>) -> io::Result<Session> {
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            connected: AtomicBool::new(false),
            io_wants_room: AtomicBool::new(false),
            io_wake: Waker::new()?,
            chan_wake: Waker::new()?,
            stats: Stats::default(),
            outbox: Outbox::new(
                SessionConfig::frames_in(config.uplink_buffer) * (config.rate.frame_bytes() + 3),
            ),
            sent_at: AtomicU64::new(0),
            epoch: Instant::now(),
            look_at: AtomicU64::new(ONLY_IF_WOKEN),
        });
        // Room for the playout buffer's frames plus the events around them.
        let (event_tx, events) = bounded(SessionConfig::frames_in(config.playout_buffer) + 4);
        let timer = TimerFd::new()?;
        let session = Session {
            shared: shared.clone(),
            events,
            scratch: Vec::with_capacity(config.rate.frame_bytes() + 3),
            head: None,
            pacer: Pacer::default(),
            timer,
            timer_at: None,
            rate: config.rate,
            connected: false,
            ended: false,
            log: log.clone(),
            label: config.label.clone(),
            logged_drop: false,
            census_id: 0,
            end: None,
        };
        let mut session = session;
        session.census_id = census::join(census::Entry {
            id: 0,
            channel: config.label.clone(),
            uuid: uuid::Uuid::from_bytes(config.uuid).to_string(),
            server: config.server.clone(),
            rate: config.rate,
            started: Instant::now(),
            shared: shared.clone(),
            queued: session.events.clone(),
        });
        let name = format!("audiosock {}", config.server.port);
        let io = IoThread::new(config, shared, event_tx, log);
        if let Err(e) = registry::spawn(&name, move || io.run()) {
            session.end = Some(EndReason::Internal(format!("cannot start a thread: {e}")));
            return Err(e);
        }
        Ok(session)
    }

    /// The descriptors to wait on: readable when [`Session::next_event`] may
    /// have something (an event arrived, or a paced frame is due). The first
    /// is the wake-up descriptor: see [`Session::take_wake_up`].
    pub fn wait_fds(&self) -> [RawFd; 2] {
        [self.shared.chan_wake.as_raw_fd(), self.timer.as_raw_fd()]
    }

    /// Consumes a wake-up from the I/O thread. Call it when the wake-up
    /// descriptor was readable (or whenever unsure), before
    /// [`Session::next_event`]; skipping it when the descriptor was not
    /// readable saves a system call per wake-up on the per-frame path.
    pub fn take_wake_up(&self) {
        self.shared.chan_wake.clear();
    }

    pub fn rate(&self) -> Rate {
        self.rate
    }

    pub fn is_connected(&self) -> bool {
        self.connected
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.shared.stats.snapshot()
    }

    /// Sends channel audio (little-endian samples at the session's rate)
    /// to the server. Never blocks: before the connection is up it is
    /// ignored, and when the server is not keeping up it is dropped and counted.
    pub fn send_audio(&mut self, pcm: &[u8]) {
        if !self.connected || self.ended || pcm.is_empty() {
            return;
        }
        let mut msg = std::mem::take(&mut self.scratch);
        msg.clear();
        encode_audio(&mut msg, self.rate, pcm);
        self.send(&msg);
        self.scratch = msg;
    }

    /// Queues a DTMF digit for the server; anything but `0-9*#A-D` is ignored.
    pub fn send_dtmf(&mut self, digit: u8) {
        let digit = digit.to_ascii_uppercase();
        if !self.connected || self.ended || !is_dtmf_digit(digit) {
            return;
        }
        let mut msg = Vec::with_capacity(4);
        encode_dtmf(&mut msg, digit);
        self.send(&msg);
    }

    fn send(&mut self, msg: &[u8]) {
        let pushed = self.shared.outbox.push(msg);
        if matches!(pushed, Pushed::Sent | Pushed::Queued | Pushed::NowWaiting) {
            let stats = &self.shared.stats;
            Stats::add(&stats.frames_up, 1);
            Stats::add(&stats.bytes_up, msg.len() as u64);
            let since = self.shared.epoch.elapsed().as_nanos() as u64;
            self.shared.sent_at.store(since, Ordering::Relaxed);
        }
        match pushed {
            Pushed::Sent | Pushed::Queued | Pushed::Closed => {}
            Pushed::NowWaiting => self.shared.io_wake.wake(),
            Pushed::Dropped => {
                Stats::add(&self.shared.stats.dropped_up, 1);
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

    /// Before the channel thread waits: publishes when it will look at the
    /// playout queue by itself, so that the I/O thread need not wake it for
    /// audio that could not play before then anyway (a frame waiting on the
    /// timer, or the next frame of a stream, looked for just after its
    /// slot). Returns the longest the wait may last (`None`: until woken or
    /// the timer); zero when something arrived meanwhile. Callers that never
    /// park are woken for every event.
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
        let at = at.map_or(ONLY_IF_WOKEN, |at| {
            let ns = at.saturating_duration_since(self.shared.epoch).as_nanos();
            (ns as u64).clamp(AWAKE + 1, ONLY_IF_WOKEN - 1)
        });
        self.shared.look_at.store(at, Ordering::SeqCst);
        // Pairs with the I/O thread's fence between queueing and reading
        // look_at: either it sees this value, or the queue check below sees
        // what it queued. No wake-up is lost either way.
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.head.is_none() && !self.events.is_empty() {
            return Some(Duration::ZERO);
        }
        timeout
    }

    /// After the wait: the channel thread is looking again.
    pub fn unpark(&self) {
        self.shared.look_at.store(AWAKE, Ordering::SeqCst);
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
        if self.head.is_none() {
            self.head = match self.events.try_recv() {
                Ok(ev) => Some(ev),
                Err(TryRecvError::Empty) => {
                    if self.timer_at.take().is_some() {
                        self.timer.disarm();
                    }
                    return None;
                }
                Err(TryRecvError::Disconnected) => Some(Event::Ended(EndReason::Internal(
                    "the session's I/O thread stopped".into(),
                ))),
            };
            if self.shared.io_wants_room.swap(false, Ordering::AcqRel) {
                self.shared.io_wake.wake();
            }
        }
        if let Some(Event::Audio(frame)) = &self.head {
            if let Some(at) = self.pacer.wait_until(now) {
                if self.timer_at != Some(at) {
                    self.timer.arm(at - now);
                    self.timer_at = Some(at);
                }
                return None;
            }
            let length = self.rate.duration_of(frame.samples());
            self.pacer.played(now, length);
        }
        let ev = self.head.take()?;
        match &ev {
            Event::Connected => {
                self.connected = true;
                self.shared.connected.store(true, Ordering::Release);
            }
            Event::Ended(end) => {
                self.ended = true;
                self.end = Some(end.clone());
            }
            Event::Audio(f) => {
                Stats::add(&self.shared.stats.frames_down, 1);
                Stats::add(&self.shared.stats.bytes_down, f.pcm.len() as u64);
            }
            Event::Dtmf(_) => {}
        }
        Some(ev)
    }

    /// For a caller that takes one event per wake-up (the channel driver's
    /// read callback, which returns one frame): while more events wait,
    /// makes the wait return again so that it asks. A caller that loops on
    /// [`Session::next_event`] until `None` needs none of this.
    pub fn wake_again_if_more(&self) {
        if !self.ended && !self.events.is_empty() {
            self.shared.chan_wake.wake();
        }
    }

    /// Server audio waiting to be played.
    pub fn buffered(&self) -> Duration {
        queued_audio(
            self.rate,
            self.events.len() + usize::from(self.head.is_some()),
        )
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        self.shared.io_wake.wake();
        let end = self.end.take().unwrap_or(EndReason::ChannelHangup);
        census::leave(self.census_id, &end);
    }
}
