//! The state both threads of a session touch, and the wake-up protocol
//! between them.
//!
//! The I/O thread queues events for the channel thread on a bounded
//! channel and wakes it through `chan_wake`; the channel thread wakes the
//! I/O thread through `io_wake` (to stop, to watch for room in the socket,
//! or when it made room in a full queue).
//!
//! To save the channel thread a wake-up per frame, it publishes in
//! `look_at` when it will look at the queue by itself (the slot of the
//! frame it waits for, or just after the next slot while a stream flows);
//! the I/O thread then skips waking it for audio. Why no wake-up is lost:
//!
//! - The channel thread, before it waits, stores `look_at`, issues a
//!   SeqCst fence, then checks the queue; it does not wait if the queue
//!   holds something ([`Shared::park`]).
//! - The I/O thread queues an event, issues a SeqCst fence, then loads
//!   `look_at` ([`Shared::must_wake`]).
//! - The two fences are totally ordered. If the channel thread's comes
//!   first, the I/O thread's load sees the new `look_at`: it wakes the
//!   thread if that says "only if woken", and otherwise the thread's wait
//!   ends by itself at `look_at`, when it looks. If the I/O thread's fence
//!   comes first, the channel thread's check sees the queued event and it
//!   does not wait at all.
//! - Anything but audio always wakes (DTMF and the end must not wait for
//!   a slot), and `chan_wake` itself loses no wake-up (see `fd::Waker`).
//!
//! A flush (from the server, in order, or from Asterisk, at any time) bumps
//! `flush_generation` and wakes both threads: the I/O thread drops what it
//! read but did not queue, and the channel thread skips queued audio and
//! marks of an older generation, so the caller hears at most the frame
//! already playing.
//!
//! A full queue is the mirror image: the I/O thread sets `io_wants_room`,
//! then tries once more (the channel thread may have made room in
//! between); the channel thread, after taking an event, swaps the flag and
//! wakes the I/O thread if it was set.

use std::net::SocketAddr;
use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::fd::Waker;
use super::outbox::Outbox;
use super::stats::Stats;
use crate::locks::lock;
use crate::protocol::Rate;

/// `look_at` while the channel thread is looking at the queue.
const AWAKE: u64 = 0;
/// `look_at` when the channel thread will not look unless woken.
const ONLY_IF_WOKEN: u64 = u64::MAX;

pub(crate) struct Shared {
    pub stop: AtomicBool,
    /// The connection is up (and the UUID sent).
    pub connected: AtomicBool,
    /// The server was lost and the stream is resuming (option `r`).
    pub resuming: AtomicBool,
    /// The address the I/O thread reached (of those the name resolved to).
    peer: Mutex<Option<SocketAddr>>,
    /// With TLS, the version and cipher suite the handshake settled on.
    encryption: Mutex<Option<String>>,
    /// The I/O thread failed (a caught panic): the call ends now, whatever
    /// is still queued.
    pub io_failed: OnceLock<String>,
    /// The I/O thread is waiting for room in the event queue.
    pub io_wants_room: AtomicBool,
    pub io_wake: Waker,
    pub chan_wake: Waker,
    pub stats: Stats,
    /// Channel audio and DTMF for the server.
    pub outbox: Outbox,
    /// Audio frames queued and not yet played (for the CLI and
    /// `AUDIOSOCKET(buffered_ms)`).
    pub queued_frames: AtomicUsize,
    /// Counts flushes: audio and marks queued in an earlier generation are
    /// stale and never played.
    pub flush_generation: AtomicU64,
    /// The flush generation a resume started: marks queued before it were
    /// the lost server's, and are never answered.
    pub resumed_generation: AtomicU64,
    /// The flush generation the channel thread has caught up with: until
    /// it has, the queued frames it will skip still count in
    /// `queued_frames`.
    pub playing_generation: AtomicU64,
    /// Marks the dialplan placed, for the I/O thread to queue in order.
    pub dialplan_marks: Mutex<Vec<Vec<u8>>>,
    /// The dialplan asked to hear when nothing is left to play.
    pub dialplan_wants_drained: AtomicBool,
    /// When the channel side last sent something, in nanoseconds since
    /// `epoch` (for the inactivity timeout, which the I/O thread keeps).
    sent_at: AtomicU64,
    epoch: Instant,
    /// When the channel thread will next look at the queue without being
    /// woken, in nanoseconds since `epoch`; or [`AWAKE`], or [`ONLY_IF_WOKEN`].
    look_at: AtomicU64,
}

impl Shared {
    pub fn new(outbox: Outbox) -> std::io::Result<Shared> {
        Ok(Shared {
            stop: AtomicBool::new(false),
            connected: AtomicBool::new(false),
            resuming: AtomicBool::new(false),
            peer: Mutex::new(None),
            encryption: Mutex::new(None),
            resumed_generation: AtomicU64::new(0),
            io_failed: OnceLock::new(),
            io_wants_room: AtomicBool::new(false),
            io_wake: Waker::new()?,
            chan_wake: Waker::new()?,
            stats: Stats::default(),
            outbox,
            queued_frames: AtomicUsize::new(0),
            flush_generation: AtomicU64::new(0),
            playing_generation: AtomicU64::new(0),
            dialplan_marks: Mutex::new(Vec::new()),
            dialplan_wants_drained: AtomicBool::new(false),
            sent_at: AtomicU64::new(0),
            epoch: Instant::now(),
            look_at: AtomicU64::new(ONLY_IF_WOKEN),
        })
    }

    /// The address the session's connection reached (the last, after a
    /// resume).
    pub fn peer(&self) -> Option<SocketAddr> {
        *lock(&self.peer)
    }

    pub fn set_peer(&self, addr: SocketAddr) {
        *lock(&self.peer) = Some(addr);
    }

    /// With TLS, "TLS 1.3, <cipher suite>" for the connection in use.
    pub fn encryption(&self) -> Option<String> {
        lock(&self.encryption).clone()
    }

    pub fn set_encryption(&self, described: Option<String>) {
        *lock(&self.encryption) = described;
    }

    /// About how long the server audio queued and not yet played lasts
    /// (short tail frames count as whole ones): none while a flush is on
    /// its way to the channel thread.
    pub fn buffered(&self, rate: Rate) -> Duration {
        let flushing = self.flush_generation.load(Ordering::Acquire)
            != self.playing_generation.load(Ordering::Acquire);
        let frames = if flushing {
            0
        } else {
            self.queued_frames.load(Ordering::Relaxed)
        };
        rate.duration_of(frames * rate.frame_samples())
    }

    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    /// The channel side sent something now.
    pub fn note_sent(&self) {
        let since = self.epoch.elapsed().as_nanos() as u64;
        self.sent_at.store(since, Ordering::Relaxed);
    }

    pub fn last_sent(&self) -> Instant {
        self.epoch + Duration::from_nanos(self.sent_at.load(Ordering::Relaxed))
    }

    /// Channel thread, before it waits: it will look at the queue by itself
    /// at `at` (None: only when woken). Returns whether the queue already
    /// holds something, in which case it must not wait.
    pub fn park(&self, at: Option<Instant>, queue_has_events: impl FnOnce() -> bool) -> bool {
        let at = at.map_or(ONLY_IF_WOKEN, |at| {
            let ns = at.saturating_duration_since(self.epoch).as_nanos();
            (ns as u64).clamp(AWAKE + 1, ONLY_IF_WOKEN - 1)
        });
        self.look_at.store(at, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        queue_has_events()
    }

    /// Channel thread, after its wait: it is looking again.
    pub fn unpark(&self) {
        self.look_at.store(AWAKE, Ordering::SeqCst);
    }

    /// I/O thread, after queueing events: whether the channel thread must
    /// be woken for them.
    pub fn must_wake(&self, urgent: bool) -> bool {
        fence(Ordering::SeqCst);
        urgent || self.look_at.load(Ordering::SeqCst) == ONLY_IF_WOKEN
    }
}
