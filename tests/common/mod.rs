//! Shared pieces of the integration tests: a private, real Asterisk with the
//! built module loaded, and a scripted AudioSocket server.
#![allow(dead_code, unused_imports)]

pub mod asterisk;
pub mod server;

pub use asterisk::Asterisk;
pub use server::{Conn, Msg, TestServer};

pub const UUID: &str = "4ac0f7c4-5d2a-4c8e-9a43-2f1f4e6c9b10";

/// The UUID's 16-byte wire form.
pub fn uuid_bytes() -> Vec<u8> {
    let hex: String = UUID.chars().filter(|c| *c != '-').collect();
    (0..16)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// Little-endian samples that never repeat within a few seconds, so a
/// reordered, repeated or dropped stretch shows.
pub fn ramp(samples: usize) -> Vec<u8> {
    (0..samples)
        .flat_map(|i| (((i * 7919) % 30011) as i16 - 15000).to_le_bytes())
        .collect()
}
