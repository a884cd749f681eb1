//! AudioSocket for Asterisk: the `AudioSocket()` dialplan application and the
//! `AudioSocket/` channel driver, bridging a call's signed linear audio and
//! DTMF to a TCP server with one I/O thread per call.
//!
//! Layers, from the wire up:
//! - [`protocol`]: the AudioSocket wire format (pure Rust);
//! - [`session`]: one call's I/O thread, queues and pacing (pure Rust);
//! - `asterisk`: the raw bindings and thin safe wrappers over Asterisk;
//! - `app` and `channel_driver`: the two features, on top;
//! - `module`: the entry points Asterisk's loader calls.
//!
//! Unit tests, fuzz targets and benchmarks build the pure layers only: the
//! Asterisk layers (feature "module") need symbols that exist only inside a
//! running Asterisk.

pub mod args;
#[cfg(feature = "fault-injection")]
pub mod fault;
pub mod protocol;
pub mod report;
pub mod session;
pub mod settings;

#[cfg(all(feature = "module", not(test)))]
mod app;
#[cfg(all(feature = "module", not(test)))]
mod asterisk;
#[cfg(all(feature = "module", not(test)))]
mod channel_driver;
#[cfg(all(feature = "module", not(test)))]
mod cli;
#[cfg(all(feature = "module", not(test)))]
mod config_file;
#[cfg(all(feature = "module", not(test)))]
mod module;
#[cfg(all(feature = "module", not(test)))]
mod session_events;
#[cfg(all(feature = "module", not(test)))]
mod status;
