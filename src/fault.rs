//! Test builds only (feature "fault-injection"): a call whose UUID names a
//! place makes the module panic there, so the tests can prove the guards.

/// The application panics before it connects.
pub const PANIC_IN_APP: &str = "00000000-0000-0000-0000-0000000000a1";
/// The channel driver panics in its read callback, once connected.
pub const PANIC_IN_READ: &str = "00000000-0000-0000-0000-0000000000a2";
/// The I/O thread panics once connected.
pub const PANIC_IN_IO_THREAD: &str = "00000000-0000-0000-0000-0000000000a3";
/// The channel driver panics as its channel is being created.
pub const PANIC_IN_REQUEST: &str = "00000000-0000-0000-0000-0000000000a5";
/// The I/O thread panics when the queue to the channel thread is full (a
/// burst of audio waits there).
pub const PANIC_WHEN_QUEUE_FULL: &str = "00000000-0000-0000-0000-0000000000a4";

/// A live tap's audiohook panics on the first frame it sees.
pub const PANIC_IN_TAP_HOOK: &str = "00000000-0000-0000-0000-0000000000a6";

/// A session cannot be started (as if its thread could not be made).
pub const SESSION_START_FAILS: &str = "00000000-0000-0000-0000-0000000000a7";

/// Whether the session with `uuid` is the one told to fail at `site`.
pub fn fails(site: &str, uuid: &[u8; 16]) -> bool {
    uuid::Uuid::from_bytes(*uuid).to_string() == site
}

pub fn at(site: &str, uuid: &[u8; 16]) {
    if uuid::Uuid::from_bytes(*uuid).to_string() == site {
        panic!("fault injection: {site}");
    }
}
