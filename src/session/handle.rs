//! The channel thread's handle on a session: starting it, what the channel
//! waits on, and stopping it. Sending is in `uplink.rs`, playing what the
//! server sent in `playout.rs`.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{bounded, Receiver};

use super::caller_clock::CallerClock;
use super::census;
use super::digits::{Budget, Digits};
use super::events::Queued;
use super::fd::TimerFd;
use super::io_thread::IoThread;
use super::outbox::Outbox;
use super::pacer::Pacer;
use super::session_config::SessionConfig;
use super::shared::Shared;
use super::stats::StatsSnapshot;
use super::threads::{self, Finished};
use super::waiting::{Style, Waiting};
use crate::logging::Log;
use crate::protocol::{Rate, HEADER_LEN};

/// One call's session, owned by the channel thread. Dropping it stops the
/// I/O thread, which closes the socket.
pub struct Session {
    pub(super) shared: Arc<Shared>,
    pub(super) queue: Receiver<Queued>,
    /// The item taken from the queue but not yet played (audio or a mark
    /// waiting for its time).
    pub(super) head: Option<Queued>,
    /// The server asked to hear when nothing is left to play.
    pub(super) server_wants_drained: bool,
    /// The flush generation this thread last saw.
    pub(super) generation: u64,
    /// Drop server audio later than this (see `SessionConfig::max_lateness`).
    pub(super) max_lateness: Option<std::time::Duration>,
    pub(super) logged_late: bool,
    /// See `SessionConfig::low_latency`.
    pub(super) low_latency: bool,
    /// See `SessionConfig::answer_flushed_marks`.
    pub(super) answer_flushed_marks: bool,
    pub(super) pacer: Pacer,
    pub(super) timer: TimerFd,
    /// When the timer is armed to expire, if it is.
    pub(super) timer_at: Option<Instant>,
    /// The caller's frames, as the clock playout may follow.
    pub(super) clock: CallerClock,
    /// How the channel thread waits (see `playout.rs`).
    pub(super) style: Style,
    /// What the event first in line waits for.
    pub(super) waiting: Waiting,
    /// The server's digits waiting their turn.
    pub(super) digits: Digits,
    pub(super) mark_budget: Budget,
    /// The kinds of drops already logged on this call.
    pub(super) logged_drops: u8,
    pub(super) rate: Rate,
    pub(super) connected: bool,
    pub(super) ended: bool,
    /// Reused for each message to the server.
    pub(super) scratch: Vec<u8>,
    pub(super) logged_drop: bool,
    pub(super) log: Arc<dyn Log>,
    pub(super) label: String,
    census_id: u64,
    /// Set once the I/O thread has finished.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) io_finished: Finished,
}

impl Session {
    /// Starts the session's I/O thread, which resolves and connects at once.
    pub fn start(config: SessionConfig, log: Arc<dyn Log>) -> io::Result<Session> {
        #[cfg(feature = "fault-injection")]
        if crate::fault::fails(crate::fault::SESSION_START_FAILS, &config.uuid) {
            return Err(io::Error::other("fault injection"));
        }
        let (rate, max_lateness, low_latency, answer_flushed_marks) = (
            config.rate,
            config.max_lateness,
            config.low_latency,
            config.answer_flushed_marks,
        );
        let frame_bytes_up = config.frame_bytes_up();
        let outbox_limit =
            SessionConfig::frames_in(config.uplink_buffer) * (frame_bytes_up + HEADER_LEN);
        let shared = Arc::new(Shared::new(Outbox::new(outbox_limit))?);
        // Room for the queued part of the playout buffer plus the events
        // around its frames.
        let (queue_tx, queue) = bounded(config.queue_frames() + 4);
        let timer = TimerFd::new()?;
        let census_id = census::join(census::Entry {
            channel: config.label.clone(),
            channel_id: config.channel_id.clone(),
            uuid: uuid::Uuid::from_bytes(config.uuid).to_string(),
            server: config.server.clone(),
            rate,
            tap: config.tap,
            started: Instant::now(),
            shared: shared.clone(),
        });
        let name = format!("audiosock {}", config.server.port);
        let label = config.label.clone();
        // A tap's session is over when its I/O thread is: nothing waits
        // on it that would notice its end sooner than its next frame.
        let leaves_with_io = config.tap.is_some().then_some(census_id);
        let io = IoThread::new(
            config,
            shared.clone(),
            queue_tx,
            log.clone(),
            leaves_with_io,
        );
        let io_finished = match threads::spawn(&name, move || io.run()) {
            Ok(finished) => finished,
            Err(e) => {
                census::leave(census_id);
                return Err(e);
            }
        };
        Ok(Session {
            shared,
            queue,
            head: None,
            server_wants_drained: false,
            generation: 0,
            max_lateness,
            logged_late: false,
            low_latency,
            answer_flushed_marks,
            pacer: Pacer::default(),
            timer,
            timer_at: None,
            clock: CallerClock::default(),
            style: Style::Readable,
            waiting: Waiting::Nothing,
            digits: Digits::default(),
            mark_budget: Budget::marks(),
            logged_drops: 0,
            rate,
            connected: false,
            ended: false,
            scratch: Vec::with_capacity(frame_bytes_up + HEADER_LEN),
            logged_drop: false,
            log,
            label,
            census_id,
            io_finished,
        })
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

    /// With TLS, once connected: "TLS 1.3, <cipher suite>".
    pub fn encryption(&self) -> Option<String> {
        self.shared.encryption()
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.shared.stats.snapshot()
    }

    /// This session, as other threads may see and steer it.
    pub fn remote(&self, uuid: &str, server: &crate::session::ServerAddr) -> super::Remote {
        super::Remote::new(
            self.shared.clone(),
            self.rate,
            uuid.to_string(),
            server.clone(),
        )
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.shared
            .stop
            .store(true, std::sync::atomic::Ordering::Release);
        self.shared.io_wake.wake();
        census::leave(self.census_id);
    }
}
