//! Test builds only (feature "fault-injection"): a call whose UUID names a
//! place makes the module panic there, so the tests can prove the guards.

/// The application panics before it connects.
pub const PANIC_IN_APP: &str = "00000000-0000-0000-0000-0000000000a1";
/// The channel driver panics in its read callback, once connected.
pub const PANIC_IN_READ: &str = "00000000-0000-0000-0000-0000000000a2";
/// The I/O thread panics once connected.
pub const PANIC_IN_IO_THREAD: &str = "00000000-0000-0000-0000-0000000000a3";

pub fn at(site: &str, uuid: &[u8; 16]) {
    if uuid::Uuid::from_bytes(*uuid).to_string() == site {
        panic!("fault injection: {site}");
    }
}
