//! The per-call session: one dedicated I/O thread talks to the AudioSocket
//! server; the channel thread exchanges frames with it over bounded crossbeam
//! channels and two file descriptors it can wait on. Pure Rust with no
//! Asterisk types.
//!
//! The channel side never waits on the network: sending is `try_send` (a full
//! queue drops and counts), receiving is `try_recv`, and server audio leaves
//! the playout queue at real-time pace under a timer. When the playout queue
//! is full the I/O thread stops reading the socket, so TCP slows the server.

mod assembler;
pub mod census;
mod config;
mod connect;
mod end;
mod fd;
mod handle;
mod io_thread;
mod log;
mod pacer;
pub mod registry;
mod server_input;
mod stats;

pub use config::{ServerAddr, SessionConfig};
pub use end::EndReason;
pub use handle::{AudioFrame, Event, Session};
pub use log::{Level, Log};
pub use server_input::{BadInput, ServerInput};
pub use stats::StatsSnapshot;

#[cfg(test)]
mod tests;
