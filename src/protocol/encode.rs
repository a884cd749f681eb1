use super::{
    Rate, HEADER_LEN, KIND_CONTEXT, KIND_DRAINED, KIND_DTMF, KIND_HANGUP, KIND_MARK,
    KIND_SET_VARIABLE, KIND_STEREO, KIND_UUID, MAX_PAYLOAD,
};

fn push_header(out: &mut Vec<u8>, kind: u8, len: usize) {
    debug_assert!(len <= MAX_PAYLOAD);
    out.push(kind);
    out.extend_from_slice(&(len as u16).to_be_bytes());
}

/// The first message of every stream: the call's UUID in its 16-byte form.
pub fn encode_uuid(out: &mut Vec<u8>, uuid: &[u8; 16]) {
    push_header(out, KIND_UUID, 16);
    out.extend_from_slice(uuid);
}

pub fn encode_dtmf(out: &mut Vec<u8>, digit: u8) {
    push_header(out, KIND_DTMF, 1);
    out.push(digit);
}

pub fn encode_hangup(out: &mut Vec<u8>) {
    push_header(out, KIND_HANGUP, 0);
}

/// A mark's id, back to the server once the audio before it was played
/// (barge-in extension). An id is at most a payload long.
pub fn encode_mark(out: &mut Vec<u8>, id: &[u8]) {
    let id = &id[..id.len().min(MAX_PAYLOAD)];
    push_header(out, KIND_MARK, id.len());
    out.extend_from_slice(id);
}

/// Nothing is left to play (barge-in extension).
pub fn encode_drained(out: &mut Vec<u8>) {
    push_header(out, KIND_DRAINED, 0);
}

/// The call's context (call-context extension): one JSON object, which
/// the caller keeps within a payload.
pub fn encode_context(out: &mut Vec<u8>, json: &[u8]) {
    let json = &json[..json.len().min(MAX_PAYLOAD)];
    push_header(out, KIND_CONTEXT, json.len());
    out.extend_from_slice(json);
}

/// `NAME=value` (call-context extension; what a server sends, encoded
/// here for the tests and the example server).
pub fn encode_set_variable(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    let len = (name.len() + 1 + value.len()).min(MAX_PAYLOAD);
    push_header(out, KIND_SET_VARIABLE, len);
    let start = out.len();
    out.extend_from_slice(name);
    out.push(b'=');
    out.extend_from_slice(value);
    out.truncate(start + len);
}

/// Appends interleaved two-channel samples (left, right, left, ...) as
/// `0x25` messages, split where a payload would pass the 16-bit length,
/// always on a whole sample pair.
pub fn encode_stereo(out: &mut Vec<u8>, pcm: &[u8]) {
    const MAX_WHOLE: usize = MAX_PAYLOAD & !3;
    for chunk in pcm.chunks(MAX_WHOLE) {
        push_header(out, KIND_STEREO, chunk.len());
        out.extend_from_slice(chunk);
    }
}

/// Appends `pcm` (little-endian samples) as audio messages of `rate`'s kind,
/// split where a payload would pass the 16-bit length, always on a sample.
pub fn encode_audio(out: &mut Vec<u8>, rate: Rate, pcm: &[u8]) {
    const MAX_WHOLE: usize = MAX_PAYLOAD & !1;
    out.reserve(pcm.len() + HEADER_LEN * (1 + pcm.len() / MAX_WHOLE));
    for chunk in pcm.chunks(MAX_WHOLE) {
        push_header(out, rate.kind(), chunk.len());
        out.extend_from_slice(chunk);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_big_endian() {
        let mut out = Vec::new();
        encode_audio(&mut out, Rate::Hz8000, &[0u8; 320]);
        assert_eq!(&out[..3], &[0x10, 0x01, 0x40]);
        assert_eq!(out.len(), 323);

        let mut out = Vec::new();
        encode_uuid(&mut out, &[7; 16]);
        assert_eq!(&out[..3], &[0x01, 0x00, 0x10]);
        assert_eq!(&out[3..], &[7; 16]);

        let mut out = Vec::new();
        encode_dtmf(&mut out, b'#');
        encode_hangup(&mut out);
        assert_eq!(out, [0x03, 0x00, 0x01, b'#', 0x00, 0x00, 0x00]);

        let mut out = Vec::new();
        encode_mark(&mut out, b"q7");
        encode_drained(&mut out);
        assert_eq!(out, [0x21, 0x00, 0x02, b'q', b'7', 0x22, 0x00, 0x00]);

        let mut out = Vec::new();
        encode_context(&mut out, b"{}");
        encode_set_variable(&mut out, b"A", b"b");
        encode_stereo(&mut out, &[1, 0, 2, 0]);
        assert_eq!(
            out,
            [
                0x23, 0x00, 0x02, b'{', b'}', 0x24, 0x00, 0x03, b'A', b'=', b'b', 0x25, 0x00, 0x04,
                1, 0, 2, 0
            ]
        );
    }

    #[test]
    fn long_stereo_splits_on_whole_sample_pairs() {
        let pcm: Vec<u8> = (0..150_000u32).map(|i| i as u8).collect();
        let mut out = Vec::new();
        encode_stereo(&mut out, &pcm);
        let mut at = 0;
        let mut payload = Vec::new();
        while at < out.len() {
            assert_eq!(out[at], 0x25);
            let len = u16::from_be_bytes([out[at + 1], out[at + 2]]) as usize;
            assert_eq!(len % 4, 0);
            payload.extend_from_slice(&out[at + 3..at + 3 + len]);
            at += 3 + len;
        }
        assert_eq!(payload, pcm);
    }

    #[test]
    fn long_audio_splits_on_sample_boundaries() {
        let pcm: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let mut out = Vec::new();
        encode_audio(&mut out, Rate::Hz48000, &pcm);
        let mut at = 0;
        let mut payload = Vec::new();
        while at < out.len() {
            assert_eq!(out[at], 0x16);
            let len = u16::from_be_bytes([out[at + 1], out[at + 2]]) as usize;
            assert_eq!(len % 2, 0);
            payload.extend_from_slice(&out[at + 3..at + 3 + len]);
            at += 3 + len;
        }
        assert_eq!(payload, pcm);
    }
}
