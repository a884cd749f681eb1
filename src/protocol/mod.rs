//! The AudioSocket wire protocol: message kinds, encoding and a streaming
//! decoder. Pure Rust with no Asterisk types, so it is tested and fuzzed alone.
//!
//! Every message is a one-byte kind, a big-endian 16-bit payload length and
//! the payload. Audio payloads are little-endian signed 16-bit samples.

mod decode;
mod encode;
mod kind;
pub mod mulaw;
pub mod twilio;

pub use decode::{Decoder, Message};
pub use encode::{
    encode_audio, encode_context, encode_drained, encode_dtmf, encode_hangup, encode_mark,
    encode_set_variable, encode_stereo, encode_uuid,
};
pub use kind::{
    is_dtmf_digit, Rate, KIND_CONTEXT, KIND_DRAINED, KIND_DTMF, KIND_ERROR, KIND_FLUSH,
    KIND_HANGUP, KIND_MARK, KIND_MOVE, KIND_SET_VARIABLE, KIND_STEREO, KIND_UUID,
};

/// Bytes in a message header: kind and payload length.
pub const HEADER_LEN: usize = 3;
/// The largest payload a length field can announce.
pub const MAX_PAYLOAD: usize = u16::MAX as usize;
