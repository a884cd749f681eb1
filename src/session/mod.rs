//! The per-call session: one dedicated I/O thread connects to the
//! AudioSocket server, reads it, and keeps whatever the socket could not take
//! at once; the channel thread receives the server's events over a bounded
//! crossbeam channel and two file descriptors it can wait on. Pure Rust with
//! no Asterisk types.
//!
//! The channel side never waits on the network: sending is a non-blocking
//! write, or a copy into the outbox when the socket is full (beyond its bound
//! a message is dropped and counted); receiving is `try_recv`, and server
//! audio leaves the playout queue at real-time pace under a timer. When the
//! playout queue is full the I/O thread stops reading the socket, so TCP
//! slows the server.

mod assembler;
pub mod census;
mod config;
mod connect;
mod end;
mod fd;
mod handle;
mod io_thread;
mod log;
mod outbox;
mod pacer;
pub mod registry;
mod server_input;
mod stats;

pub use config::{ServerAddr, SessionConfig};
pub use end::EndReason;
pub use fd::wait_ms;
pub use handle::{AudioFrame, Event, Session};
pub use log::{Level, Log};
pub use server_input::{BadInput, ServerInput};
pub use stats::StatsSnapshot;

#[cfg(test)]
mod tests;
