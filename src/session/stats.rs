use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counters both threads update; read at any time for the CLI and logs.
#[derive(Default)]
pub(crate) struct Stats {
    pub frames_up: AtomicU64,
    pub bytes_up: AtomicU64,
    pub dropped_up: AtomicU64,
    pub frames_down: AtomicU64,
    pub bytes_down: AtomicU64,
    /// Server frames dropped because they fell too far behind (an
    /// overloaded machine).
    pub dropped_down: AtomicU64,
    /// Server digits and marks beyond what a call plays (see `digits.rs`).
    pub dropped_dtmf: AtomicU64,
    pub dropped_marks: AtomicU64,
    pub protocol_errors: AtomicU64,
    /// Times the stream resumed on a new connection (option `r`).
    pub resumes: AtomicU64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub frames_up: u64,
    pub bytes_up: u64,
    pub dropped_up: u64,
    pub frames_down: u64,
    pub bytes_down: u64,
    pub dropped_down: u64,
    pub dropped_dtmf: u64,
    pub dropped_marks: u64,
    pub protocol_errors: u64,
    pub resumes: u64,
}

impl Stats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            frames_up: self.frames_up.load(Relaxed),
            bytes_up: self.bytes_up.load(Relaxed),
            dropped_up: self.dropped_up.load(Relaxed),
            frames_down: self.frames_down.load(Relaxed),
            bytes_down: self.bytes_down.load(Relaxed),
            dropped_down: self.dropped_down.load(Relaxed),
            dropped_dtmf: self.dropped_dtmf.load(Relaxed),
            dropped_marks: self.dropped_marks.load(Relaxed),
            protocol_errors: self.protocol_errors.load(Relaxed),
            resumes: self.resumes.load(Relaxed),
        }
    }
}
