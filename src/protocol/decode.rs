use super::{
    Rate, HEADER_LEN, KIND_CONTEXT, KIND_DRAINED, KIND_DTMF, KIND_ERROR, KIND_FLUSH, KIND_HANGUP,
    KIND_MARK, KIND_MOVE, KIND_SET_VARIABLE, KIND_STEREO, KIND_UUID, MAX_PAYLOAD,
};

/// One decoded message; payloads borrow the decoder's buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Message<'a> {
    Hangup,
    Uuid(&'a [u8]),
    Dtmf(&'a [u8]),
    Audio(Rate, &'a [u8]),
    /// `0xff`: the payload is the optional application-specific code.
    Error(&'a [u8]),
    /// `0x20` (barge-in extension): discard what is not yet played.
    Flush(&'a [u8]),
    /// `0x21` (barge-in extension): a mark and its id.
    Mark(&'a [u8]),
    /// `0x22` (barge-in extension): say when the queue runs dry.
    Drained(&'a [u8]),
    /// `0x23` (call-context extension): the call's context, module to server.
    Context(&'a [u8]),
    /// `0x24` (call-context extension): `NAME=value`, server to module.
    SetVariable(&'a [u8]),
    /// `0x25` (the tap's two-channel audio), module to server.
    Stereo(&'a [u8]),
    /// `0x26` (resuming): the server is going away; move the call.
    Move(&'a [u8]),
    /// A kind the protocol does not define; the payload was consumed.
    Unknown(u8, &'a [u8]),
}

const INITIAL_CAPACITY: usize = 4096;

/// A streaming decoder: bytes go in as they arrive from the socket, whole
/// messages come out. Its buffer grows only as far as one maximal message
/// (3 + 65,535 bytes), whatever the peer announces.
pub struct Decoder {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    pub fn new() -> Self {
        Decoder {
            buf: vec![0; INITIAL_CAPACITY],
            start: 0,
            end: 0,
        }
    }

    /// Free space to read into; call [`Decoder::filled`] with what was read.
    /// Never empty: there is always room for at least the rest of the
    /// message being assembled.
    pub fn spare(&mut self) -> &mut [u8] {
        if self.end == self.buf.len() {
            self.compact();
            if self.end == self.buf.len() {
                let grown = (self.buf.len() * 2).min(HEADER_LEN + MAX_PAYLOAD);
                self.buf.resize(grown, 0);
            }
        }
        &mut self.buf[self.end..]
    }

    pub fn filled(&mut self, n: usize) {
        assert!(self.end + n <= self.buf.len());
        self.end += n;
    }

    /// Copies in as much of `bytes` as fits now; returns how much it took.
    pub fn feed(&mut self, bytes: &[u8]) -> usize {
        let spare = self.spare();
        let n = spare.len().min(bytes.len());
        spare[..n].copy_from_slice(&bytes[..n]);
        self.filled(n);
        n
    }

    /// Bytes received that do not yet form a whole message.
    pub fn buffered(&self) -> usize {
        self.end - self.start
    }

    fn compact(&mut self) {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
    }

    /// Whether a whole message has arrived and waits to be taken.
    pub fn holds_message(&self) -> bool {
        let avail = self.end - self.start;
        avail >= HEADER_LEN
            && avail
                >= HEADER_LEN
                    + u16::from_be_bytes([self.buf[self.start + 1], self.buf[self.start + 2]])
                        as usize
    }

    /// The next whole message, if one has arrived.
    pub fn next_message(&mut self) -> Option<Message<'_>> {
        let avail = self.end - self.start;
        if avail < HEADER_LEN {
            return None;
        }
        let h = &self.buf[self.start..self.start + HEADER_LEN];
        let kind = h[0];
        let len = u16::from_be_bytes([h[1], h[2]]) as usize;
        if avail < HEADER_LEN + len {
            if self.start + HEADER_LEN + len > self.buf.len() {
                // Make room for the whole message so the next read can complete it.
                self.compact();
                if HEADER_LEN + len > self.buf.len() {
                    self.buf.resize(HEADER_LEN + len, 0);
                }
            }
            return None;
        }
        let from = self.start + HEADER_LEN;
        self.start = from + len;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        let payload = &self.buf[from..from + len];
        Some(match kind {
            KIND_HANGUP => Message::Hangup,
            KIND_UUID => Message::Uuid(payload),
            KIND_DTMF => Message::Dtmf(payload),
            KIND_ERROR => Message::Error(payload),
            KIND_FLUSH => Message::Flush(payload),
            KIND_MARK => Message::Mark(payload),
            KIND_DRAINED => Message::Drained(payload),
            KIND_CONTEXT => Message::Context(payload),
            KIND_SET_VARIABLE => Message::SetVariable(payload),
            KIND_STEREO => Message::Stereo(payload),
            KIND_MOVE => Message::Move(payload),
            k => match Rate::from_kind(k) {
                Some(rate) => Message::Audio(rate, payload),
                None => Message::Unknown(k, payload),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{
        encode_audio, encode_context, encode_drained, encode_dtmf, encode_hangup, encode_mark,
        encode_set_variable, encode_stereo, encode_uuid,
    };

    fn owned(m: Message<'_>) -> (u8, Vec<u8>) {
        match m {
            Message::Hangup => (0, vec![]),
            Message::Uuid(p) => (1, p.to_vec()),
            Message::Dtmf(p) => (3, p.to_vec()),
            Message::Audio(r, p) => (r.kind(), p.to_vec()),
            Message::Error(p) => (0xff, p.to_vec()),
            Message::Flush(p) => (0x20, p.to_vec()),
            Message::Mark(p) => (0x21, p.to_vec()),
            Message::Drained(p) => (0x22, p.to_vec()),
            Message::Context(p) => (0x23, p.to_vec()),
            Message::SetVariable(p) => (0x24, p.to_vec()),
            Message::Stereo(p) => (0x25, p.to_vec()),
            Message::Move(p) => (0x26, p.to_vec()),
            Message::Unknown(k, p) => (k, p.to_vec()),
        }
    }

    fn decode_in_chunks(bytes: &[u8], chunk: usize) -> Vec<(u8, Vec<u8>)> {
        let mut d = Decoder::new();
        let mut out = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let take = chunk.min(rest.len());
            let n = d.feed(&rest[..take]);
            rest = &rest[n..];
            while let Some(m) = d.next_message() {
                out.push(owned(m));
            }
        }
        assert_eq!(d.buffered(), 0);
        out
    }

    #[test]
    fn decodes_every_kind_whatever_the_read_sizes() {
        let mut wire = Vec::new();
        encode_uuid(&mut wire, &[9; 16]);
        encode_audio(&mut wire, Rate::Hz16000, &[1; 640]);
        encode_dtmf(&mut wire, b'5');
        wire.extend_from_slice(&[0x42, 0x00, 0x02, 0xaa, 0xbb]);
        wire.extend_from_slice(&[0xff, 0x00, 0x01, 0x02]);
        wire.extend_from_slice(&[0xff, 0x00, 0x00]);
        wire.extend_from_slice(&[0x20, 0x00, 0x00]);
        encode_mark(&mut wire, b"intro");
        encode_drained(&mut wire);
        encode_context(&mut wire, br#"{"a":1}"#);
        encode_set_variable(&mut wire, b"BOT_RESULT", b"done");
        encode_stereo(&mut wire, &[7; 8]);
        encode_hangup(&mut wire);
        let expected = vec![
            (1, vec![9; 16]),
            (0x12, vec![1; 640]),
            (3, b"5".to_vec()),
            (0x42, vec![0xaa, 0xbb]),
            (0xff, vec![2]),
            (0xff, vec![]),
            (0x20, vec![]),
            (0x21, b"intro".to_vec()),
            (0x22, vec![]),
            (0x23, br#"{"a":1}"#.to_vec()),
            (0x24, b"BOT_RESULT=done".to_vec()),
            (0x25, vec![7; 8]),
            (0, vec![]),
        ];
        for chunk in [1, 2, 3, 7, 100, 4096, 1 << 20] {
            assert_eq!(decode_in_chunks(&wire, chunk), expected, "chunk {chunk}");
        }
    }

    #[test]
    fn maximum_length_payloads_decode_and_bound_the_buffer() {
        let mut wire = Vec::new();
        for k in [0x10u8, 0x77] {
            wire.push(k);
            wire.extend_from_slice(&[0xff, 0xff]);
            wire.extend((0..MAX_PAYLOAD).map(|i| (i % 251) as u8));
        }
        let got = decode_in_chunks(&wire, 1000);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].1.len(), MAX_PAYLOAD);
        assert_eq!(got[1].0, 0x77);
        let mut d = Decoder::new();
        d.feed(&wire);
        assert!(d.buf.len() <= HEADER_LEN + MAX_PAYLOAD);
    }

    #[test]
    fn a_partial_message_waits_for_the_rest() {
        let mut d = Decoder::new();
        d.feed(&[0x10, 0x00]);
        assert!(!d.holds_message());
        assert_eq!(d.next_message(), None);
        d.feed(&[0x04, 1, 2, 3]);
        assert_eq!(d.next_message(), None);
        assert_eq!(d.buffered(), 6);
        assert!(!d.holds_message());
        d.feed(&[4]);
        assert!(d.holds_message());
        assert_eq!(
            d.next_message(),
            Some(Message::Audio(Rate::Hz8000, &[1, 2, 3, 4]))
        );
        assert_eq!(d.buffered(), 0);
    }
}
