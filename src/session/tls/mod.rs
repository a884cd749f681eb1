//! TLS to the server: the same AudioSocket byte stream inside TLS 1.2 or
//! 1.3, with rustls and ring's cryptography.
//!
//! - `client.rs`: a profile made ready once, at load (the certificates the
//!   server's must chain to, our own certificate for mutual TLS), and what
//!   each connection takes from it.
//! - `handshake.rs`: the handshake on the I/O thread, within the connect
//!   timeout, and the one sentence each way of failing gets.
//! - `channel.rs`: the connection once up. It lives under the outbox's lock:
//!   the channel thread encrypts what it sends and writes it without
//!   waiting, as without TLS; the I/O thread reads the socket with no lock
//!   held (`reader.rs`) and only decrypts under it.

mod channel;
mod client;
mod handshake;
mod reader;

pub(crate) use channel::TlsChannel;
pub use client::{ProfileError, TlsClient, TlsProfile, SYSTEM_CA_FILE, SYSTEM_CA_PATH};
pub(crate) use handshake::handshake;
pub(crate) use reader::{Decrypt, TlsReader};
