//! Every live session and byte totals since the module loaded, for the CLI.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::remote::Remote;
use super::server_addr::ServerAddr;
use super::session_config::TapDirection;
use super::shared::Shared;
use super::stats::StatsSnapshot;
use crate::locks::lock;
use crate::protocol::Rate;

/// What the CLI shows of one live session.
#[derive(Clone, Debug)]
pub struct SessionView {
    pub channel: String,
    pub uuid: String,
    pub server: ServerAddr,
    /// The address reached, once connected (a name may have several).
    pub address: Option<SocketAddr>,
    /// With TLS, once connected: "TLS 1.3, <cipher suite>".
    pub encryption: Option<String>,
    pub rate: Rate,
    /// A live tap, and what it streams; None for a call.
    pub tap: Option<TapDirection>,
    pub age: Duration,
    pub connected: bool,
    /// The server was lost and the stream is resuming.
    pub resuming: bool,
    pub stats: StatsSnapshot,
    /// Server audio waiting to be played.
    pub buffered: Duration,
}

pub(crate) struct Entry {
    pub channel: String,
    /// The channel's unique id.
    pub channel_id: String,
    pub uuid: String,
    pub server: ServerAddr,
    pub rate: Rate,
    pub tap: Option<TapDirection>,
    pub started: Instant,
    pub shared: Arc<Shared>,
}

/// Counters summed over every session since the module loaded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub started: u64,
    pub protocol_errors: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub dropped_up: u64,
    pub dropped_down: u64,
    /// Times streams resumed on a new connection (option `r`).
    pub resumes: u64,
}

static LIVE: Mutex<Vec<(u64, Entry)>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
/// Ended sessions' counters (live ones are added when asked).
static ENDED: Mutex<Totals> = Mutex::new(Totals {
    started: 0,
    protocol_errors: 0,
    bytes_up: 0,
    bytes_down: 0,
    dropped_up: 0,
    dropped_down: 0,
    resumes: 0,
});

fn add(t: &mut Totals, s: &StatsSnapshot) {
    t.protocol_errors += s.protocol_errors;
    t.bytes_up += s.bytes_up;
    t.bytes_down += s.bytes_down;
    t.dropped_up += s.dropped_up;
    t.dropped_down += s.dropped_down;
    t.resumes += s.resumes;
}

/// A session starts; the id it gets is what it leaves with.
pub(crate) fn join(entry: Entry) -> u64 {
    let id = NEXT_ID.fetch_add(1, Relaxed);
    lock(&ENDED).started += 1;
    lock(&LIVE).push((id, entry));
    id
}

/// The session `id` ended; its counters go into the totals.
pub(crate) fn leave(id: u64) {
    let entry = {
        let mut live = lock(&LIVE);
        let Some(i) = live.iter().position(|(e, _)| *e == id) else {
            return;
        };
        live.swap_remove(i).1
    };
    add(&mut lock(&ENDED), &entry.shared.stats.snapshot());
}

fn view(e: &Entry, now: Instant) -> SessionView {
    SessionView {
        channel: e.channel.clone(),
        uuid: e.uuid.clone(),
        server: e.server.clone(),
        address: e.shared.peer(),
        encryption: e.shared.encryption(),
        rate: e.rate,
        tap: e.tap,
        age: now - e.started,
        connected: e
            .shared
            .connected
            .load(std::sync::atomic::Ordering::Acquire),
        resuming: e.shared.resuming.load(std::sync::atomic::Ordering::Acquire),
        stats: e.shared.stats.snapshot(),
        buffered: e.shared.buffered(e.rate),
    }
}

/// The live session of the channel whose unique id is `channel_id` (a
/// call's, not a tap's).
pub fn remote(channel_id: &str) -> Option<Remote> {
    if channel_id.is_empty() {
        return None;
    }
    lock(&LIVE)
        .iter()
        .find(|(_, e)| e.channel_id == channel_id && e.tap.is_none())
        .map(|(_, e)| Remote::new(e.shared.clone(), e.rate, e.uuid.clone(), e.server.clone()))
}

/// The live sessions, oldest first.
pub fn sessions() -> Vec<SessionView> {
    let now = Instant::now();
    let mut v: Vec<SessionView> = lock(&LIVE).iter().map(|(_, e)| view(e, now)).collect();
    v.sort_by_key(|s| std::cmp::Reverse(s.age));
    v
}

/// How many sessions are live: calls and taps.
pub fn live() -> usize {
    lock(&LIVE).len()
}

/// Totals since the module loaded, live sessions' counters included.
pub fn totals() -> Totals {
    let mut t = lock(&ENDED).clone();
    for (_, e) in lock(&LIVE).iter() {
        add(&mut t, &e.shared.stats.snapshot());
    }
    t
}
