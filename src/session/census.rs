//! Every live session and totals since the module loaded, for the CLI.
//! Uses std's mutex (see registry.rs for why not parking_lot).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::config::ServerAddr;
use super::end::EndReason;
use super::handle::Shared;
use super::stats::StatsSnapshot;
use crate::protocol::Rate;

/// What the CLI shows of one live session.
#[derive(Clone, Debug)]
pub struct SessionView {
    pub channel: String,
    pub uuid: String,
    pub server: ServerAddr,
    pub rate: Rate,
    pub age: Duration,
    pub connected: bool,
    pub stats: StatsSnapshot,
    /// Server audio waiting to be played.
    pub buffered: Duration,
}

pub(crate) struct Entry {
    pub id: u64,
    pub channel: String,
    pub uuid: String,
    pub server: ServerAddr,
    pub rate: Rate,
    pub started: Instant,
    pub shared: Arc<Shared>,
    pub queued: crossbeam_channel::Receiver<super::handle::Event>,
}

/// Every status a session can end with, in the order the CLI lists them.
pub const STATUSES: [&str; 8] = [
    "SERVER_HANGUP",
    "CHANNEL_HANGUP",
    "CONNECT_FAILED",
    "SERVER_ERROR",
    "PROTOCOL_ERROR",
    "NETWORK_ERROR",
    "TIMEOUT",
    "INTERNAL_ERROR",
];

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub started: u64,
    /// Sessions ended, per entry of [`STATUSES`].
    pub ended: [u64; 8],
    pub protocol_errors: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub dropped_up: u64,
}

static LIVE: Mutex<Vec<Entry>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
static STARTED: AtomicU64 = AtomicU64::new(0);
static ENDED: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];
static PROTOCOL_ERRORS: AtomicU64 = AtomicU64::new(0);
static BYTES_UP: AtomicU64 = AtomicU64::new(0);
static BYTES_DOWN: AtomicU64 = AtomicU64::new(0);
static DROPPED_UP: AtomicU64 = AtomicU64::new(0);

fn live() -> std::sync::MutexGuard<'static, Vec<Entry>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn join(mut entry: Entry) -> u64 {
    entry.id = NEXT_ID.fetch_add(1, Relaxed);
    STARTED.fetch_add(1, Relaxed);
    let id = entry.id;
    live().push(entry);
    id
}

/// The session `id` ended with `end`; its counters go into the totals.
pub(crate) fn leave(id: u64, end: &EndReason) {
    let entry = {
        let mut live = live();
        let Some(i) = live.iter().position(|e| e.id == id) else {
            return;
        };
        live.swap_remove(i)
    };
    let s = entry.shared.stats.snapshot();
    PROTOCOL_ERRORS.fetch_add(s.protocol_errors, Relaxed);
    BYTES_UP.fetch_add(s.bytes_up, Relaxed);
    BYTES_DOWN.fetch_add(s.bytes_down, Relaxed);
    DROPPED_UP.fetch_add(s.dropped_up, Relaxed);
    if let Some(i) = STATUSES.iter().position(|s| *s == end.status()) {
        ENDED[i].fetch_add(1, Relaxed);
    }
}

fn view(e: &Entry, now: Instant) -> SessionView {
    SessionView {
        channel: e.channel.clone(),
        uuid: e.uuid.clone(),
        server: e.server.clone(),
        rate: e.rate,
        age: now - e.started,
        connected: e
            .shared
            .connected
            .load(std::sync::atomic::Ordering::Acquire),
        stats: e.shared.stats.snapshot(),
        buffered: super::handle::queued_audio(e.rate, e.queued.len()),
    }
}

/// The live sessions, oldest first.
pub fn sessions() -> Vec<SessionView> {
    let now = Instant::now();
    let mut v: Vec<SessionView> = live().iter().map(|e| view(e, now)).collect();
    v.sort_by_key(|s| std::cmp::Reverse(s.age));
    v
}

/// Totals since the module loaded, live sessions' counters included.
pub fn totals() -> Totals {
    let mut t = Totals {
        started: STARTED.load(Relaxed),
        ended: std::array::from_fn(|i| ENDED[i].load(Relaxed)),
        protocol_errors: PROTOCOL_ERRORS.load(Relaxed),
        bytes_up: BYTES_UP.load(Relaxed),
        bytes_down: BYTES_DOWN.load(Relaxed),
        dropped_up: DROPPED_UP.load(Relaxed),
    };
    for e in live().iter() {
        let s = e.shared.stats.snapshot();
        t.protocol_errors += s.protocol_errors;
        t.bytes_up += s.bytes_up;
        t.bytes_down += s.bytes_down;
        t.dropped_up += s.dropped_up;
    }
    t
}
