//! AudioSocket for Asterisk: the `AudioSocket()` dialplan application and the
//! `AudioSocket/` channel driver, bridging a call's signed linear audio and
//! DTMF to a TCP server with one I/O thread per call.
//!
//! Layers, from the wire up:
//! - [`protocol`]: the AudioSocket wire format (pure Rust);
//! - [`session`]: one call's I/O thread, queues and pacing (pure Rust);
//! - [`call`]: what the two features share: arguments, settings, how a
//!   call's end is told, the CLI's text (pure Rust);
//! - `asterisk`: the raw bindings and thin safe wrappers over Asterisk,
//!   the only code that touches it;
//! - `features`: the application, the channel driver and the module's
//!   entry points, on top.
//!
//! [`logging`] and [`locks`] are the vocabulary every layer shares.
//!
//! Unit tests, fuzz targets and benchmarks build the pure layers only: the
//! Asterisk layers (feature "module") need symbols that exist only inside a
//! running Asterisk.

pub mod call;
#[cfg(feature = "fault-injection")]
pub mod fault;
pub mod locks;
pub mod logging;
pub mod protocol;
pub mod session;

#[cfg(all(feature = "module", not(test)))]
mod asterisk;
#[cfg(all(feature = "module", not(test)))]
mod features;

/// Certificates made at test time and a TLS front, shared with the
/// integration tests.
#[cfg(test)]
#[path = "../tests/common/tls.rs"]
mod test_pki;
