//! The per-call session: one dedicated I/O thread connects to the
//! AudioSocket server, reads it, and keeps whatever the socket could not take
//! at once; the channel thread receives the server's events over a bounded
//! queue and two file descriptors it can wait on. Pure Rust with no
//! Asterisk types.
//!
//! - Up (`uplink.rs`, `outbox.rs`): the channel thread writes its audio
//!   straight into the non-blocking socket; what the kernel does not take
//!   waits, bounded, for the I/O thread.
//! - Down (`io_thread.rs`, `server_input.rs`, `assembler.rs`, then
//!   `playout.rs`, `pacer.rs`, `caller_clock.rs`): the I/O thread reads and
//!   decodes the server's bytes into events; the channel thread plays them
//!   at real-time pace, at the caller's own frames when they are a clock.
//!   When the queue is full the I/O thread stops reading, so TCP slows the
//!   server.
//! - Between the two threads (`shared.rs`): the state both touch and the
//!   wake-up protocol; `handle.rs` starts and stops a session.
//! - Reaching the server (`connect.rs`, and `fleet.rs` for a name with
//!   several addresses), over TLS when the call asks (`tls/`).
//! - Asterisk's side reaching a live session from another thread (flush,
//!   marks, drained reports): `remote.rs`.
//! - How a session ends (`end_reason.rs`), how it resumes on another
//!   server instead when its own is lost (`resume.rs`), and what the CLI
//!   sees of the live ones (`census.rs`, `stats.rs`).
//! - A live tap's audio (`tap.rs`): what a channel's party says and hears
//!   paired into the tap's frames, and a server's whisper mixed in.
//! - What a server may set on its call's channel (`variables.rs`), and how
//!   fast its digits and marks may come (`digits.rs`).

mod assembler;
mod caller_clock;
pub mod census;
mod connect;
mod digits;
mod end_reason;
mod events;
mod fd;
pub mod fleet;
mod handle;
mod io_thread;
mod outbox;
mod pacer;
mod playout;
mod remote;
mod resume;
mod server_addr;
mod server_input;
mod session_config;
mod shared;
mod stats;
mod tap;
pub mod threads;
pub mod tls;
mod uplink;
mod variables;
mod waiting;
pub mod websocket;

pub use digits::{DIGIT, DIGIT_GAP, MARKS_PER_SECOND, MAX_WAITING_DIGITS};
pub use end_reason::{EndReason, ErrorCode, Hangup};
pub use events::{AudioFrame, Event, Mark, Queued};
pub use fd::wait_ms;
pub use handle::Session;
pub use remote::Remote;
pub use resume::{Loss, ResumeListener, ResumePolicy, ResumeStep};
pub use server_addr::ServerAddr;
pub use server_input::{BadInput, InputOptions, ServerInput, MAX_MARK_ID};
pub use session_config::{EndListener, SessionConfig, TapDirection};
pub use stats::StatsSnapshot;
pub use tap::{Side, TapMixer, Whisper};
pub use variables::{VariablePolicy, MAX_VARIABLES, UPDATES_PER_SECOND};

#[cfg(test)]
mod tests;
