//! The per-call I/O thread: connects, sends the UUID, then moves bytes both
//! ways with poll(2) on a non-blocking socket until either side ends.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Sender, TrySendError};

use super::connect::{cap_send_buffer, connect, ConnectError};
use super::end_reason::{EndReason, Hangup};
use super::events::{Mark, Queued};
use super::fd::{poll, pollfd};
use super::fleet;
use super::outbox::Outbox;
use super::resume::{self, Loss, ResumeStep};
use super::server_input::{BadInput, ServerInput};
use super::session_config::SessionConfig;
use super::shared::Shared;
use super::stats::Stats;
use super::tls::{handshake, TlsChannel, TlsReader};
use super::websocket::{self, Framer, WsEnd, WsReader};
use crate::locks::lock;
use crate::logging::{panic_text, Level, Log};
use crate::protocol::twilio::Unheard;
use crate::protocol::{encode_context, encode_hangup, encode_uuid};
use crate::slog;

/// Gives the socket back however `stream` ends, a panic included, so that
/// it closes with the thread.
struct CloseOnDrop<'a>(&'a Outbox);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// How long a server has to answer our WebSocket close.
const CLOSE_WAIT: Duration = Duration::from_millis(500);

pub(crate) struct IoThread {
    config: SessionConfig,
    shared: Arc<Shared>,
    queue: Sender<Queued>,
    log: Arc<dyn Log>,
    /// What was read but not yet accepted by the queue, in order.
    pending: VecDeque<Queued>,
    /// Read no more while this many items wait in `pending`...
    pending_limit: usize,
    /// ...or while they hold this many bytes.
    pending_bytes: usize,
    input: ServerInput,
    /// Since when a short frame has been held for more audio.
    partial_since: Option<Instant>,
    /// The flush generation the items in `pending` belong to.
    generation: u64,
    /// When the last audio queued is due (see `AudioFrame::due`).
    stream_due: Option<Instant>,
    /// When the server last sent something.
    last_heard: Instant,
    /// With TLS, what reads and decrypts the socket.
    tls_in: Option<TlsReader>,
    /// Over a WebSocket, what reads its messages.
    ws_in: Option<WsReader>,
    /// The kinds of skipped dialect messages already logged on this call.
    unheard_logged: u8,
    /// The census entry that ends with this thread (a tap's), if any.
    census_id: Option<u64>,
    /// Times the stream resumed, and connection attempts made to resume.
    resumes: u32,
    attempts: u32,
    /// The gap the last resume ended, while its connection is young.
    recent: Option<Gap>,
}

/// A connection, as far as the call's layers go.
type Connection = (
    TcpStream,
    Option<TlsChannel>,
    Option<tungstenite::WebSocket<websocket::Mem>>,
);

/// A time without a server, while the stream resumes.
struct Gap {
    since: Instant,
    /// Why the stream was lost.
    why: String,
    /// Attempts of this gap that failed (for the backoff).
    failed: u32,
    attempts: u32,
}

impl IoThread {
    pub fn new(
        config: SessionConfig,
        shared: Arc<Shared>,
        queue: Sender<Queued>,
        log: Arc<dyn Log>,
        census_id: Option<u64>,
    ) -> Self {
        let input = ServerInput::new(config.input_options());
        let pending_limit = config.pending_frames();
        let pending_bytes = config.pending_bytes();
        IoThread {
            config,
            shared,
            queue,
            log,
            pending: VecDeque::new(),
            pending_limit,
            pending_bytes,
            input,
            partial_since: None,
            generation: 0,
            stream_due: None,
            last_heard: Instant::now(),
            tls_in: None,
            ws_in: None,
            unheard_logged: 0,
            census_id,
            resumes: 0,
            attempts: 0,
            recent: None,
        }
    }

    /// The thread's body. A panic ends this call (the channel thread sees
    /// an internal error at once) and is logged with the channel's name.
    pub fn run(mut self) {
        let shared = self.shared.clone();
        let label = self.config.label.clone();
        let log = self.log.clone();
        let on_end = self.config.on_end.take();
        let census_id = self.census_id;
        let end = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.work())) {
            Ok(end) => end,
            Err(p) => {
                let text = panic_text(&*p).to_string();
                slog!(
                    log,
                    Level::Error,
                    "{label}: internal error in the AudioSocket I/O thread ({text}); ending this call"
                );
                // Seen by the channel thread before anything still queued.
                let _ = shared.io_failed.set(text.clone());
                EndReason::Internal(text)
            }
        };
        // Every sender goes before the wake-up: a channel thread that looks
        // then finds either the last event or a closed queue, never a
        // queue that may still be written to.
        drop(self);
        shared.chan_wake.wake();
        if let Some(listener) = on_end {
            (listener.0)(&end, shared.stats.snapshot());
        }
        if let Some(id) = census_id {
            super::census::leave(id);
        }
    }

    /// Connects, streams until either side ends (resuming on a new
    /// connection after a loss, with option `r`), and hands the channel
    /// thread the end; returns it.
    fn work(&mut self) -> EndReason {
        let mut gap: Option<Gap> = None;
        let end = loop {
            let timeout = match &mut gap {
                None => self.config.connect_timeout,
                Some(g) => match self.next_attempt(g) {
                    Ok(timeout) => timeout,
                    Err(end) => break end,
                },
            };
            match self.connect(timeout) {
                Err(ConnectError::Aborted) => return EndReason::ChannelHangup,
                Err(ConnectError::Failed(why)) => match &mut gap {
                    None => break EndReason::ConnectFailed(why),
                    Some(g) => self.attempt_failed(g, why),
                },
                Ok((stream, tls, ws)) => {
                    if let Some(g) = gap.take() {
                        self.resumed(g);
                    }
                    let since = Instant::now();
                    let end = self.stream(stream, tls, ws);
                    match self.loss(&end) {
                        Some(loss) if !self.shared.stopped() => {
                            gap = Some(self.lose(loss, since.elapsed()));
                        }
                        _ => break end,
                    }
                }
            }
        };
        if end != EndReason::ChannelHangup {
            self.pending.push_back(Queued::Ended(end.clone()));
            self.deliver_all();
        }
        end
    }

    /// Resolves, connects, and shakes hands (TLS, WebSocket) within
    /// `timeout`.
    fn connect(&mut self, timeout: Duration) -> Result<Connection, ConnectError> {
        let deadline = Instant::now() + timeout;
        let shared = self.shared.clone();
        let is_stopped = move || shared.stopped();
        let (stream, addr) = connect(
            &self.config.server,
            timeout,
            self.config.socket_limits(),
            &self.shared.io_wake,
            &is_stopped,
        )?;
        self.shared.set_peer(addr);
        let host = &self.config.server.host;
        let mut tls = match &self.config.tls {
            None => None,
            Some(client) => Some(handshake(
                &stream,
                host,
                client,
                deadline,
                &self.shared.io_wake,
                &is_stopped,
            )?),
        };
        let ws = match &self.config.websocket {
            None => None,
            Some(target) => Some(websocket::upgrade(
                &stream,
                tls.as_mut(),
                target,
                &target.url(host, self.config.server.port),
                deadline,
                &self.shared.io_wake,
                &is_stopped,
            )?),
        };
        Ok((stream, tls, ws))
    }

    /// Whether the stream that ended with `end` resumes.
    fn loss(&self, end: &EndReason) -> Option<Loss> {
        self.config.resume.and_then(|_| resume::loss(end))
    }

    /// The stream was lost: what its server sent and was not played goes
    /// (its marks are never answered), the caller waits, and a gap starts.
    /// `lasted`: how long the lost connection lived.
    fn lose(&mut self, loss: Loss, lasted: Duration) -> Gap {
        let now = Instant::now();
        // Other addresses of a fleet come first (see `fleet.rs`).
        if let Some(peer) = self.shared.peer() {
            fleet::failed(peer, now);
        }
        self.pending
            .retain(|q| matches!(q, Queued::Dtmf(_) | Queued::SetVariable { .. }));
        self.generation = self.shared.flush_generation.fetch_add(1, Ordering::AcqRel) + 1;
        self.shared
            .resumed_generation
            .store(self.generation, Ordering::Release);
        self.stream_due = None;
        self.partial_since = None;
        self.input.restart();
        self.tls_in = None;
        self.ws_in = None;
        self.shared.set_encryption(None);
        self.shared.resuming.store(true, Ordering::Release);
        let (label, server) = (&self.config.label, &self.config.server);
        let within = self.config.resume.unwrap_or_default().within;
        match &loss {
            Loss::Lost(why) => slog!(
                self.log,
                Level::Warning,
                "{label}: lost AudioSocket server {server} ({why}); resuming the stream \
                 (for up to {} ms)",
                within.as_millis()
            ),
            Loss::Left(why) => slog!(
                self.log,
                Level::Notice,
                "{label}: AudioSocket server {server} {}; moving the stream",
                why.trim_start_matches("the server ")
            ),
        }
        self.tell(ResumeStep::Lost {
            why: loss.why().to_string(),
            asked: matches!(loss, Loss::Left(_)),
        });
        self.pending.push_back(Queued::Lost(loss.why().to_string()));
        self.flush_pending();
        // A connection lost again before it settled continues its gap, and
        // the resume it made does not count (a dying server's listener can
        // still complete a connection the kernel then resets).
        match self.recent.take() {
            Some(mut g) if lasted < resume::SETTLED => {
                self.resumes -= 1;
                self.shared.stats.resumes.fetch_sub(1, Ordering::Relaxed);
                g.failed += 1;
                g.why = loss.why().to_string();
                g
            }
            _ => Gap {
                since: now,
                why: loss.why().to_string(),
                failed: 0,
                attempts: 0,
            },
        }
    }

    /// Waits its turn for the gap's next attempt; the time that attempt
    /// has, or how the call ends when there is to be none.
    fn next_attempt(&mut self, g: &mut Gap) -> Result<Duration, EndReason> {
        let policy = self.config.resume.unwrap_or_default();
        let give_up = g.since + policy.within;
        let start = Instant::now() + resume::backoff(g.failed);
        if self.attempts >= policy.attempts || start >= give_up {
            let gap = g.since.elapsed();
            self.tell(ResumeStep::GaveUp {
                attempts: g.attempts,
                gap,
            });
            return Err(EndReason::ServerLost {
                attempts: g.attempts,
                why: g.why.clone(),
            });
        }
        if !self.pause_until(start) {
            return Err(EndReason::ChannelHangup);
        }
        self.attempts += 1;
        g.attempts += 1;
        Ok(self
            .config
            .connect_timeout
            .min(give_up.saturating_duration_since(Instant::now())))
    }

    /// Until `at`, hands the channel thread what waits and takes its
    /// requests; false if the channel hung up meanwhile.
    fn pause_until(&mut self, at: Instant) -> bool {
        loop {
            self.take_requests();
            self.flush_pending();
            if self.shared.stopped() {
                return false;
            }
            let now = Instant::now();
            if now >= at {
                return true;
            }
            let mut fds = [pollfd(self.shared.io_wake.as_raw_fd(), libc::POLLIN)];
            let _ = poll(&mut fds, Some(at - now));
            self.shared.io_wake.clear();
        }
    }

    fn attempt_failed(&mut self, g: &mut Gap, why: String) {
        g.failed += 1;
        slog!(
            self.log,
            Level::Warning,
            "{}: AudioSocket resume attempt {} to {} failed: {why}",
            self.config.label,
            g.attempts,
            self.config.server
        );
        self.tell(ResumeStep::Failed {
            attempt: g.attempts,
            why,
        });
    }

    /// A new connection ends the gap: the new server is told it resumes
    /// the stream (the context, with option `m`; the Twilio dialect's
    /// `customParameters`), and the channel that the stream is back.
    fn resumed(&mut self, g: Gap) {
        self.resumes += 1;
        Stats::add(&self.shared.stats.resumes, 1);
        let gap = g.since.elapsed();
        if let Some(json) = &self.config.context {
            self.config.context = Some(resume::resumed_context(json, self.resumes, gap));
        }
        if let Some(info) = &self.config.twilio {
            self.config.twilio = Some(resume::resumed_stream(info, self.resumes, gap));
        }
        let peer = self.shared.peer();
        slog!(
            self.log,
            Level::Notice,
            "{}: AudioSocket stream resumed on {} after {} ms (attempt {})",
            self.config.label,
            peer.map_or_else(|| self.config.server.to_string(), |p| p.to_string()),
            gap.as_millis(),
            g.attempts
        );
        if let Some(peer) = peer {
            self.tell(ResumeStep::Resumed {
                attempt: g.attempts,
                resumes: self.resumes,
                gap,
                peer,
            });
        }
        self.shared.resuming.store(false, Ordering::Release);
        self.pending.push_back(Queued::Resumed {
            resumes: self.resumes,
            gap,
        });
        self.recent = Some(g);
    }

    fn tell(&self, step: ResumeStep) {
        if let Some(listener) = &self.config.on_resume {
            (listener.0)(&step);
        }
    }

    fn stream(
        &mut self,
        stream: TcpStream,
        tls: Option<TlsChannel>,
        ws: Option<tungstenite::WebSocket<websocket::Mem>>,
    ) -> EndReason {
        // About a second of audio in the kernel (which doubles the figure).
        cap_send_buffer(&stream, (self.config.frame_bytes_up() * 50).max(16 * 1024));
        #[cfg(feature = "fault-injection")]
        crate::fault::at(crate::fault::PANIC_IN_IO_THREAD, &self.config.uuid);
        let stream = Arc::new(stream);
        let shared = self.shared.clone();
        let outbox = &shared.outbox;
        if let Some(tls) = &tls {
            let unverified = self
                .config
                .tls
                .as_ref()
                .is_some_and(|c| !c.profile().verify_server);
            let mut described = tls.describe();
            if unverified {
                // Said wherever the encryption is: a session whose server
                // was not checked must not pass for a secure one.
                described.push_str(", unverified");
            }
            self.shared.set_encryption(Some(described));
        }
        let encrypted = tls.is_some();
        let framer = ws
            .is_some()
            .then(|| Framer::new(self.config.twilio.clone()));
        outbox.open(stream.clone(), tls, framer);
        // No write by either thread reaches the socket after this guard
        // drops, so it closes when `stream` drops.
        let _give_back = CloseOnDrop(outbox);
        if encrypted {
            let mut reader = TlsReader::new();
            if let Err(e) = reader.start(outbox) {
                outbox.close();
                return EndReason::from_io(&e, false);
            }
            self.tls_in = Some(reader);
        }
        self.ws_in = ws.map(|ws| WsReader::new(ws, self.config.twilio.is_some()));
        let mut first = Vec::new();
        encode_uuid(&mut first, &self.config.uuid);
        if let Some(json) = &self.config.context {
            encode_context(&mut first, json);
        }
        // The first bytes on a fresh socket: the kernel takes them.
        outbox.push(&first);
        self.shared.connected.store(true, Ordering::Release);
        if self.resumes == 0 {
            self.pending.push_back(Queued::Connected);
        }
        self.last_heard = Instant::now();
        let end = self.exchange(&stream);
        // A lost server is not waited for; one that asked to be left is
        // told goodbye but not waited for either.
        let resuming = self.loss(&end).is_some();
        if end == EndReason::ChannelHangup {
            // Polite last word, if the socket takes it now; the close follows.
            let mut bye = Vec::new();
            encode_hangup(&mut bye);
            outbox.push(&bye);
        }
        let closing = self
            .ws_in
            .as_mut()
            .filter(|ws| ws.end().is_none())
            .map(WsReader::close);
        if let Some(close) = &closing {
            outbox.push_framed(close);
        }
        if end == EndReason::ChannelHangup || closing.is_some() {
            outbox.end_tls();
            let _ = outbox.flush();
        }
        if closing.is_some() && !resuming {
            self.await_close(&stream);
        }
        end
    }

    /// After our WebSocket close: the server's answer, for a little while
    /// (what it sends meanwhile is dropped).
    fn await_close(&mut self, stream: &TcpStream) {
        let deadline = Instant::now() + CLOSE_WAIT;
        let mut sink = vec![0u8; 4096];
        loop {
            let _ = self.shared.outbox.flush();
            if !self.ws_in.as_ref().is_some_and(|ws| ws.end().is_none()) {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            let mut fds = [pollfd(stream.as_raw_fd(), libc::POLLIN)];
            if poll(&mut fds, Some(left)).is_err() {
                return;
            }
            match self.read_raw(stream, &mut sink) {
                Ok((0, _)) => return,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => return,
            }
        }
    }

    /// What Asterisk asked of the session since the last look: a flush
    /// (drop what was read but not queued) and marks to place in order.
    fn take_requests(&mut self) {
        let generation = self.shared.flush_generation.load(Ordering::Acquire);
        if generation != self.generation {
            self.input.discard_audio(&mut self.pending);
            self.generation = generation;
            self.stream_due = None;
        }
        // Only as many as there is room for: the rest wait where they
        // are, which bounds them (see `Remote::mark`).
        let room = self.pending_limit.saturating_sub(self.pending.len());
        if room > 0 {
            let mut marks = lock(&self.shared.dialplan_marks);
            let n = room.min(marks.len());
            for id in marks.drain(..n) {
                self.pending.push_back(Queued::Mark(Mark::new(id, true)));
            }
        }
    }

    /// What `pending` holds, in bytes.
    fn pending_cost(&self) -> usize {
        self.pending.iter().map(Queued::cost).sum()
    }

    fn reading(&self) -> bool {
        self.pending.len() < self.pending_limit && self.pending_cost() < self.pending_bytes
    }

    /// A short frame held for more audio goes to the channel thread when
    /// its slot comes (when the audio queued before it ends), and at the
    /// earliest a frame's time after its first samples came: so a server
    /// that trickles tiny messages makes no more frames than real time
    /// needs, and one that pauses still has its tail played. When it is
    /// not due yet, how long until it is.
    fn partial_due(&mut self, now: Instant) -> Option<Duration> {
        if !self.input.holds_partial() {
            self.partial_since = None;
            return None;
        }
        let since = *self.partial_since.get_or_insert(now);
        let frame = self
            .config
            .rate
            .duration_of(self.config.rate.frame_samples());
        let due = (since + frame).max(self.stream_due.unwrap_or(now));
        if now >= due {
            self.input.flush_partial(&mut self.pending);
            self.partial_since = None;
            self.flush_pending();
            None
        } else {
            Some(due - now)
        }
    }

    fn exchange(&mut self, stream: &TcpStream) -> EndReason {
        let shared = self.shared.clone();
        let outbox = &shared.outbox;
        loop {
            if self.shared.stopped() {
                return EndReason::ChannelHangup;
            }
            // A message queued after this wakes the thread (Pushed::NowWaiting).
            let out_waiting = match outbox.flush() {
                Ok(waiting) => waiting,
                Err(e) => return EndReason::from_io(&e, true),
            };
            self.take_requests();
            self.flush_pending();
            let partial = self.partial_due(Instant::now());
            let reading = self.reading();
            // Whole messages read before and left for want of room: there
            // is room now, and the socket may have nothing more to say.
            if reading && self.input.holds_message() {
                if let Some(end) = self.process_input() {
                    return end;
                }
                continue;
            }
            let mut sock_events = 0;
            // Over a WebSocket in the Twilio dialect, what the bot sends is
            // taken while the playout is full, so that a clear is seen.
            let pulling = !reading && self.ws_in.as_ref().is_some_and(WsReader::reads_ahead);
            if reading || pulling {
                sock_events |= libc::POLLIN;
            }
            if out_waiting {
                sock_events |= libc::POLLOUT;
            }
            // Decrypted and not yet taken: no need to wait for the socket.
            let decrypted = reading
                && (self.tls_in.as_ref().is_some_and(TlsReader::has_plaintext)
                    || self.ws_in.as_ref().is_some_and(WsReader::has_ready));
            let timeout = if decrypted {
                Some(Duration::ZERO)
            } else {
                let idle = self
                    .config
                    .inactivity_timeout
                    .map(|t| (self.last_activity() + t).saturating_duration_since(Instant::now()));
                match (idle, partial) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            };
            let mut fds = [
                pollfd(self.shared.io_wake.as_raw_fd(), libc::POLLIN),
                pollfd(stream.as_raw_fd(), sock_events),
            ];
            if let Err(e) = poll(&mut fds, timeout) {
                return EndReason::Internal(format!("poll: {e}"));
            }
            if fds[0].revents != 0 {
                // The loop's top takes what the wake-up was for.
                self.shared.io_wake.clear();
            }
            let sock = fds[1].revents;
            if decrypted || reading && sock & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
                if let Some(end) = self.read_in(stream) {
                    return end;
                }
            } else if pulling && sock & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
                if let Err(e) = self.pull(stream) {
                    if e.kind() != io::ErrorKind::WouldBlock {
                        return EndReason::from_io(&e, false);
                    }
                }
            } else if sock & libc::POLLERR != 0 {
                return match stream.take_error() {
                    Ok(Some(e)) | Err(e) => EndReason::from_io(&e, out_waiting),
                    Ok(None) => EndReason::NetworkError("socket error".into()),
                };
            }
            if let Some(t) = self.config.inactivity_timeout {
                if self.last_activity().elapsed() >= t {
                    return EndReason::Timeout;
                }
            }
        }
    }

    /// When either side last sent something.
    fn last_activity(&self) -> Instant {
        self.last_heard.max(self.shared.last_sent())
    }

    /// Reads what the socket has, until it would block or enough waits for
    /// room in the queue. Returns how the call ends, if it does.
    fn read_in(&mut self, stream: &TcpStream) -> Option<EndReason> {
        loop {
            match self.read_some(stream) {
                Ok((0, _)) => return Some(self.closed()),
                Ok((n, drained)) => {
                    self.input.filled(n);
                    self.last_heard = Instant::now();
                    if let Some(end) = self.process_input() {
                        return Some(end);
                    }
                    if drained || !self.reading() {
                        // Drained, or enough waits for room in the queue and
                        // the rest stays in the socket; poll says when to
                        // read again.
                        return None;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.flush_pending();
                    return None;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.input.flush_partial(&mut self.pending);
                    return Some(EndReason::from_io(&e, false));
                }
            }
        }
    }

    /// Interprets the whole messages read so far, as far as there is room
    /// for what they make, and hands it on.
    fn process_input(&mut self) -> Option<EndReason> {
        let (log, label, server, stats) = (
            &self.log,
            &self.config.label,
            &self.config.server,
            &self.shared.stats,
        );
        let mut bad = |_: BadInput, first: bool, what: String| {
            Stats::add(&stats.protocol_errors, 1);
            if first {
                slog!(
                    log,
                    Level::Warning,
                    "{label}: AudioSocket server {server} sent {what}; skipped \
                     (further such messages on this call are not logged)"
                );
            }
        };
        let room = self.pending_bytes.saturating_sub(self.pending_cost());
        let end = self
            .input
            .process(&mut self.pending, room, Instant::now(), &mut bad);
        self.flush_pending();
        end
    }

    /// Takes what the socket has into the WebSocket reader, without
    /// handing it on (the playout is full); a clear among it acts at once.
    fn pull(&mut self, stream: &TcpStream) -> io::Result<()> {
        let (Some(ws), tls) = (&mut self.ws_in, &mut self.tls_in) else {
            return Ok(());
        };
        let outbox = &self.shared.outbox;
        let mut plain = |buf: &mut [u8]| plain_read(tls, stream, outbox, buf);
        let (log, label, server, stats, logged) = (
            &self.log,
            &self.config.label,
            &self.config.server,
            &self.shared.stats,
            &mut self.unheard_logged,
        );
        ws.pull(
            true,
            &mut plain,
            &mut |frames| {
                outbox.push_framed(frames);
            },
            &mut |u| report_unheard(u, (log, label, server, stats), logged),
        )?;
        self.clear_if_asked();
        Ok(())
    }

    /// A clear the WebSocket reader saw: what was read and queued goes
    /// now (marks stay, to be answered), as a server's flush does.
    fn clear_if_asked(&mut self) {
        if !self.ws_in.as_mut().is_some_and(WsReader::take_cleared) {
            return;
        }
        self.input.discard_audio(&mut self.pending);
        self.generation = self.shared.flush_generation.fetch_add(1, Ordering::AcqRel) + 1;
        self.stream_due = None;
        if self.shared.must_wake(true) {
            self.shared.chan_wake.wake();
        }
    }

    /// The server ended the connection (or, over a WebSocket, closed it).
    fn closed(&mut self) -> EndReason {
        let end = self.input.closed(&mut self.pending);
        let Some(ws) = &self.ws_in else {
            return end;
        };
        match (ws.end(), end) {
            (Some(WsEnd::Broken), _) => {
                EndReason::ProtocolError(ws.broken().unwrap_or("a broken WebSocket").to_string())
            }
            (Some(WsEnd::Closed(code)), EndReason::ServerHangup(_)) => {
                EndReason::ServerHangup(Hangup::WebSocketClose(code))
            }
            (_, end) => end,
        }
    }

    /// Reads into the input's spare room, decrypting with TLS and taking
    /// WebSocket messages apart; how much, and whether the socket is
    /// drained for now (so that a read need not be tried again just to
    /// hear "would block").
    fn read_some(&mut self, stream: &TcpStream) -> io::Result<(usize, bool)> {
        let spare = self.input.spare();
        let (log, label, server, stats, logged) = (
            &self.log,
            &self.config.label,
            &self.config.server,
            &self.shared.stats,
            &mut self.unheard_logged,
        );
        let read = read_from(
            (&mut self.ws_in, &mut self.tls_in),
            stream,
            &self.shared.outbox,
            spare,
            &mut |u| report_unheard(u, (log, label, server, stats), logged),
        );
        self.clear_if_asked();
        read
    }

    /// Reads what arrives after the session's end, into `sink`.
    fn read_raw(&mut self, stream: &TcpStream, sink: &mut [u8]) -> io::Result<(usize, bool)> {
        read_from(
            (&mut self.ws_in, &mut self.tls_in),
            stream,
            &self.shared.outbox,
            sink,
            &mut |_| {},
        )
    }

    /// Hands pending items to the channel thread while the queue has room,
    /// acts on a server's flush where it stands in them, and wakes the
    /// channel thread when it must be (see `shared.rs`).
    fn flush_pending(&mut self) {
        let mut sent = false;
        let mut urgent = false;
        let now = Instant::now();
        while let Some(item) = self.pending.pop_front() {
            let mut item = match item {
                Queued::Flush => {
                    // Everything queued before now is stale.
                    self.generation =
                        self.shared.flush_generation.fetch_add(1, Ordering::AcqRel) + 1;
                    self.stream_due = None;
                    urgent = true;
                    continue;
                }
                Queued::Audio(mut f) => {
                    f.generation = self.generation;
                    // Stamped once, when first offered to the queue (a
                    // frame a full queue refused keeps its stamp).
                    if f.due.is_none() {
                        let due = self.stream_due.map_or(now, |d| now.max(d));
                        f.due = Some(due);
                        self.stream_due = Some(due + self.config.rate.duration_of(f.samples()));
                    }
                    Queued::Audio(f)
                }
                Queued::Mark(mut m) => {
                    m.generation = self.generation;
                    Queued::Mark(m)
                }
                other => other,
            };
            let (audio, is_urgent) = (matches!(item, Queued::Audio(_)), item.is_urgent());
            // Counted before it is visible, so the channel thread's count
            // down never passes zero.
            if audio {
                self.shared.queued_frames.fetch_add(1, Ordering::Relaxed);
            }
            match self.queue.try_send(item) {
                Ok(()) => {}
                Err(TrySendError::Disconnected(_)) => {
                    self.pending.clear();
                    return;
                }
                Err(TrySendError::Full(back)) => {
                    #[cfg(feature = "fault-injection")]
                    crate::fault::at(crate::fault::PANIC_WHEN_QUEUE_FULL, &self.config.uuid);
                    self.shared.io_wants_room.store(true, Ordering::Release);
                    // The channel thread may have made room just before the
                    // flag was set: try once more so no wake-up is missed.
                    item = back;
                    match self.queue.try_send(item) {
                        Ok(()) => self.shared.io_wants_room.store(false, Ordering::Release),
                        Err(TrySendError::Full(back) | TrySendError::Disconnected(back)) => {
                            if audio {
                                self.shared.queued_frames.fetch_sub(1, Ordering::Relaxed);
                            }
                            self.pending.push_front(back);
                            break;
                        }
                    }
                }
            }
            sent = true;
            urgent |= is_urgent;
        }
        if (sent || urgent) && self.shared.must_wake(urgent) {
            self.shared.chan_wake.wake();
        }
    }

    /// After the call has ended from the server's side: hand over what is
    /// left (buffered audio plays out before the end), unless the channel
    /// goes first.
    fn deliver_all(&mut self) {
        loop {
            self.flush_pending();
            if self.pending.is_empty() || self.shared.stopped() {
                return;
            }
            let mut fds = [pollfd(self.shared.io_wake.as_raw_fd(), libc::POLLIN)];
            let _ = poll(&mut fds, Some(Duration::from_millis(500)));
            self.shared.io_wake.clear();
        }
    }
}

/// A dialect message skipped: counted, and logged once per kind a call.
fn report_unheard(
    unheard: Unheard,
    (log, label, server, stats): (&Arc<dyn Log>, &str, &crate::session::ServerAddr, &Stats),
    logged: &mut u8,
) {
    Stats::add(&stats.protocol_errors, 1);
    let kind = 1u8
        << match unheard {
            Unheard::BadJson(_) => 0,
            Unheard::UnknownEvent(_) => 1,
            Unheard::BadField(_) => 2,
        };
    if *logged & kind == 0 {
        *logged |= kind;
        slog!(
            log,
            Level::Warning,
            "{label}: server {server} sent {unheard}; skipped (further such messages on this \
             call are not logged)"
        );
    }
}

/// A read of the connection's plaintext: the socket, or what TLS
/// decrypted from it; and whether the socket is drained for now.
fn plain_read(
    tls: &mut Option<TlsReader>,
    mut stream: &TcpStream,
    outbox: &Outbox,
    buf: &mut [u8],
) -> io::Result<(usize, bool)> {
    match tls {
        None => {
            let room = buf.len();
            // A short read means the socket is drained.
            stream.read(buf).map(|n| (n, n < room))
        }
        Some(tls) => tls.read(stream, outbox, buf),
    }
}

/// One read, as far as the connection's layers go: the socket, TLS, the
/// WebSocket.
fn read_from(
    (ws, tls): (&mut Option<WsReader>, &mut Option<TlsReader>),
    stream: &TcpStream,
    outbox: &Outbox,
    buf: &mut [u8],
    unheard: &mut dyn FnMut(Unheard),
) -> io::Result<(usize, bool)> {
    match ws {
        None => plain_read(tls, stream, outbox, buf),
        Some(ws) => ws.read(
            buf,
            &mut |buf| plain_read(tls, stream, outbox, buf),
            &mut |frames| {
                outbox.push_framed(frames);
            },
            unheard,
        ),
    }
}
