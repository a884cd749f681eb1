//! What the session sends, as WebSocket frames. It runs on whichever
//! thread sends (the channel's, for audio), under the outbox's lock, and
//! costs no system call but an occasional read of the system's random
//! generator for mask keys: tungstenite's own masking would use a
//! thread-local generator, whose destructor would keep the module mapped
//! (and run its code) on Asterisk's threads after `module unload`.

use ring::rand::{SecureRandom, SystemRandom};
use tungstenite::protocol::frame::coding::{Data, OpCode};
use tungstenite::protocol::frame::Frame;

use crate::protocol::twilio::{Speaker, StreamInfo};

/// Mask keys drawn at a time.
const KEYS: usize = 64;

pub(crate) struct Framer {
    /// The Twilio dialect's translator; None: AudioSocket in binary messages.
    twilio: Option<Speaker>,
    random: SystemRandom,
    keys: [u8; 4 * KEYS],
    next_key: usize,
    texts: Vec<String>,
}

impl Framer {
    /// With `twilio`, in the Twilio dialect for that stream; else AudioSocket.
    pub fn new(twilio: Option<StreamInfo>) -> Framer {
        Framer {
            twilio: twilio.map(Speaker::new),
            random: SystemRandom::new(),
            keys: [0; 4 * KEYS],
            next_key: KEYS,
            texts: Vec::new(),
        }
    }

    fn mask(&mut self) -> [u8; 4] {
        if self.next_key == KEYS {
            // The system's generator does not fail on Linux; were it to,
            // the keys last drawn serve again (masking is not secrecy).
            let _ = self.random.fill(&mut self.keys);
            self.next_key = 0;
        }
        let at = 4 * self.next_key;
        self.next_key += 1;
        [
            self.keys[at],
            self.keys[at + 1],
            self.keys[at + 2],
            self.keys[at + 3],
        ]
    }

    fn frame(&mut self, opcode: Data, payload: Vec<u8>, out: &mut Vec<u8>) {
        let mut frame = Frame::message(payload, OpCode::Data(opcode), true);
        frame.header_mut().mask = Some(self.mask());
        // Formatting into memory cannot fail.
        let _ = frame.format(out);
    }

    /// Appends to `out` the frames that carry `msg` (whole AudioSocket
    /// messages, as the session writes them).
    pub fn frame_messages(&mut self, msg: &[u8], out: &mut Vec<u8>) {
        let Some(speaker) = &mut self.twilio else {
            self.frame(Data::Binary, msg.to_vec(), out);
            return;
        };
        let mut texts = std::mem::take(&mut self.texts);
        texts.clear();
        speaker.translate(msg, &mut texts);
        for text in texts.drain(..) {
            self.frame(Data::Text, text.into_bytes(), out);
        }
        self.texts = texts;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use tungstenite::protocol::frame::FrameHeader;

    /// The frames in `wire`, unmasked: (opcode, payload).
    fn frames(wire: &[u8]) -> Vec<(OpCode, Vec<u8>)> {
        let mut c = Cursor::new(wire);
        let mut out = Vec::new();
        while (c.position() as usize) < wire.len() {
            let (header, len) = FrameHeader::parse(&mut c).unwrap().unwrap();
            let at = c.position() as usize;
            let mut payload = wire[at..at + len as usize].to_vec();
            let mask = header.mask.expect("a client's frames are masked");
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= mask[i % 4];
            }
            c.set_position((at + len as usize) as u64);
            out.push((header.opcode, payload));
        }
        out
    }

    #[test]
    fn audiosocket_goes_in_one_masked_binary_frame_per_write() {
        let mut f = Framer::new(None);
        let mut wire = Vec::new();
        f.frame_messages(&[0x10, 0, 2, 1, 2], &mut wire);
        f.frame_messages(&[0x03, 0, 1, b'5'], &mut wire);
        assert_eq!(
            frames(&wire),
            vec![
                (OpCode::Data(Data::Binary), vec![0x10, 0, 2, 1, 2]),
                (OpCode::Data(Data::Binary), vec![0x03, 0, 1, b'5']),
            ]
        );
        // Keys differ from frame to frame.
        let keys: Vec<[u8; 4]> = (0..200).map(|_| f.mask()).collect();
        assert!(keys.windows(2).filter(|w| w[0] == w[1]).count() < 2);
    }

    #[test]
    fn twilio_goes_as_text_frames() {
        let mut f = Framer::new(Some(StreamInfo {
            stream_sid: "MZ1".into(),
            call_sid: "CA1".into(),
            account_sid: "AC1".into(),
            tracks: vec![crate::protocol::twilio::Track::Inbound],
            custom_parameters: vec![],
        }));
        let mut wire = Vec::new();
        f.frame_messages(&[0x03, 0, 1, b'7'], &mut wire);
        let got = frames(&wire);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, OpCode::Data(Data::Text));
        let v: serde_json::Value = serde_json::from_slice(&got[0].1).unwrap();
        assert_eq!(v["event"], "dtmf");
        assert_eq!(v["dtmf"]["digit"], "7");
    }
}
