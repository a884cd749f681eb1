//! What the server sends over the WebSocket, on the I/O thread: frames
//! reassembled into messages (one at most [`MAX_MESSAGE`] bytes), pings
//! answered, the server's close answered and its code kept; each
//! message's payload handed on as AudioSocket bytes, as a socket read
//! would hand them (a binary message as it is, a Twilio text translated).
//!
//! In the Twilio dialect the reader behaves as Twilio does with a bot that
//! sends ahead: it takes what the bot sent as soon as it arrives (up to
//! [`MAX_AHEAD`] bytes of it), so that a `clear` is seen at once however
//! much audio came before it, and drops the audio it still holds before
//! the `clear` (its marks stay, to be answered).

use std::collections::VecDeque;
use std::io;

use tungstenite::protocol::CloseFrame;
use tungstenite::{Message, WebSocket};

use super::mem::MemStream;
use super::MAX_MESSAGE;
use crate::protocol::twilio::{Listener, Said, Unheard};
use crate::protocol::HEADER_LEN;

/// A read of the connection's plaintext (the socket's, or what TLS
/// decrypted): how much, and whether the socket is drained for now.
pub(crate) type Source<'a> = dyn FnMut(&mut [u8]) -> io::Result<(usize, bool)> + 'a;

/// Bytes read from the socket at a time.
const READ_SIZE: usize = 4096;

/// What the Twilio dialect reads ahead of the playout, at most: about 65 s
/// of 8 kHz audio. Beyond it the socket is not read, and TCP holds the bot
/// back.
pub const MAX_AHEAD: usize = 1024 * 1024;

/// How the WebSocket ended, when it has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WsEnd {
    /// The server sent a close, with this code (1005: none given).
    Closed(u16),
    /// The message or frame broke the protocol, or was too long.
    Broken,
}

/// One message's AudioSocket bytes, waiting to be handed out.
struct Unit {
    bytes: Vec<u8>,
    /// Audio a later `clear` drops.
    audio: bool,
    /// How much of it was handed out.
    handed: usize,
}

pub(crate) struct WsReader {
    ws: WebSocket<MemStream>,
    /// The Twilio dialect's translator; None: binary AudioSocket.
    twilio: Option<Listener>,
    units: VecDeque<Unit>,
    /// Bytes the units hold, not yet handed out.
    held: usize,
    raw: Box<[u8]>,
    end: Option<WsEnd>,
    /// Why the protocol broke, when it did.
    broken: Option<String>,
    /// The last socket read took all the socket had.
    drained: bool,
    /// The connection ended under the WebSocket.
    eof: bool,
    /// A `clear` came since [`WsReader::take_cleared`] last looked.
    cleared: bool,
}

impl WsReader {
    pub fn new(ws: WebSocket<MemStream>, twilio: bool) -> WsReader {
        WsReader {
            ws,
            twilio: twilio.then(Listener::default),
            units: VecDeque::new(),
            held: 0,
            raw: vec![0; READ_SIZE].into_boxed_slice(),
            end: None,
            broken: None,
            drained: true,
            eof: false,
            cleared: false,
        }
    }

    /// Whether the reader takes more from the socket while the playout is
    /// full: the Twilio dialect's, until [`MAX_AHEAD`].
    pub fn reads_ahead(&self) -> bool {
        self.twilio.is_some() && self.held < MAX_AHEAD && self.end.is_none() && !self.eof
    }

    /// Whether a `clear` came since the last look: what the playout holds
    /// must go now, not once the audio before the `clear` has played.
    pub fn take_cleared(&mut self) -> bool {
        std::mem::take(&mut self.cleared)
    }

    /// How the WebSocket ended, once it has.
    pub fn end(&self) -> Option<WsEnd> {
        self.end
    }

    /// Why the protocol broke, once it has.
    pub fn broken(&self) -> Option<&str> {
        self.broken.as_deref()
    }

    /// Bytes waiting to be handed out: more to read whatever poll(2) says.
    pub fn has_ready(&self) -> bool {
        self.held > 0 || self.ws.get_ref().has_input()
    }

    /// Fills `buf` as a read of the socket would: Ok(0) once the
    /// WebSocket (or the connection) ended, WouldBlock when nothing is
    /// there; and whether nothing is left to read before poll. `source`
    /// reads the connection's plaintext; `send` sends frames of the
    /// WebSocket's own (pongs, the close's answer); `unheard` hears of a
    /// Twilio message skipped.
    pub fn read(
        &mut self,
        buf: &mut [u8],
        source: &mut Source<'_>,
        send: &mut dyn FnMut(&[u8]),
        unheard: &mut dyn FnMut(Unheard),
    ) -> io::Result<(usize, bool)> {
        self.pull(false, source, send, unheard)?;
        if self.held == 0 {
            return if self.end.is_some() || self.eof {
                Ok((0, true))
            } else {
                // A frame's start, or only control frames.
                Err(io::ErrorKind::WouldBlock.into())
            };
        }
        let mut n = 0;
        while n < buf.len() {
            let Some(unit) = self.units.front_mut() else {
                break;
            };
            let k = (buf.len() - n).min(unit.bytes.len() - unit.handed);
            buf[n..n + k].copy_from_slice(&unit.bytes[unit.handed..unit.handed + k]);
            unit.handed += k;
            n += k;
            if unit.handed == unit.bytes.len() {
                self.units.pop_front();
            }
        }
        self.held -= n;
        let nothing_left = self.held == 0 && self.drained && !self.ws.get_ref().has_input();
        Ok((n, nothing_left))
    }

    /// Takes what the socket has into held messages: the Twilio dialect
    /// while the bot has more to say (up to [`MAX_AHEAD`]; with `readable`,
    /// the socket is read at least once), AudioSocket only when nothing is
    /// held.
    pub fn pull(
        &mut self,
        mut readable: bool,
        source: &mut Source<'_>,
        send: &mut dyn FnMut(&[u8]),
        unheard: &mut dyn FnMut(Unheard),
    ) -> io::Result<()> {
        loop {
            self.take_messages(send, unheard);
            let read_on = if self.twilio.is_some() {
                self.held < MAX_AHEAD && (self.held == 0 || !self.drained || readable)
            } else {
                self.held == 0
            };
            readable = false;
            if !read_on || self.end.is_some() || self.eof {
                return Ok(());
            }
            match source(&mut self.raw) {
                Ok((0, _)) => self.eof = true,
                Ok((n, drained)) => {
                    self.drained = drained;
                    self.ws.get_mut().feed(&self.raw[..n]);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && self.held > 0 => {
                    self.drained = true;
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads the messages fed so far, up to one that needs more bytes.
    fn take_messages(&mut self, send: &mut dyn FnMut(&[u8]), unheard: &mut dyn FnMut(Unheard)) {
        while self.end.is_none() {
            match self.ws.read() {
                Ok(Message::Binary(payload)) => match &self.twilio {
                    // The Twilio dialect is text: a binary message says nothing.
                    Some(_) => unheard(Unheard::BadJson("a binary message".into())),
                    None => self.queue(payload.to_vec(), false),
                },
                Ok(Message::Text(text)) => {
                    let Some(listener) = &mut self.twilio else {
                        unheard(Unheard::BadJson(
                            "a text message, where AudioSocket is binary".into(),
                        ));
                        continue;
                    };
                    let mut bytes = Vec::new();
                    match listener.translate(text.as_str(), &mut bytes) {
                        Ok(Said::Clear) => {
                            self.clear();
                            self.cleared = true;
                            self.queue(bytes, false);
                        }
                        Ok(said) => self.queue(bytes, said == Said::Audio),
                        Err(why) => unheard(why),
                    }
                }
                Ok(Message::Close(frame)) => {
                    self.end = Some(WsEnd::Closed(close_code(frame.as_ref())));
                }
                Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => {}
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                    self.end = Some(WsEnd::Closed(1005));
                }
                Err(e) => {
                    self.broken = Some(match e {
                        tungstenite::Error::Capacity(_) => {
                            format!("a WebSocket message of more than {MAX_MESSAGE} bytes")
                        }
                        other => format!("the WebSocket protocol was broken ({other})"),
                    });
                    self.end = Some(WsEnd::Broken);
                }
            }
        }
        // What tungstenite answers by itself (a pong, the close's answer).
        let _ = self.ws.flush();
        let out = std::mem::take(&mut self.ws.get_mut().output);
        if !out.is_empty() {
            send(&out);
        }
    }

    fn queue(&mut self, bytes: Vec<u8>, audio: bool) {
        if bytes.is_empty() {
            return;
        }
        self.held += bytes.len();
        self.units.push_back(Unit {
            bytes,
            audio,
            handed: 0,
        });
    }

    /// A `clear`: the audio held and not yet handed out goes (a message
    /// partly handed out is cut after its message under way); marks stay.
    fn clear(&mut self) {
        let mut held = 0;
        self.units.retain_mut(|u| {
            if !u.audio {
                held += u.bytes.len() - u.handed;
                return true;
            }
            if u.handed == 0 {
                return false;
            }
            u.bytes.truncate(message_end(&u.bytes, u.handed));
            held += u.bytes.len() - u.handed;
            u.handed < u.bytes.len()
        });
        self.held = held;
    }

    /// Our side of the close handshake: the frame to send, when the
    /// server has not closed first.
    pub fn close(&mut self) -> Vec<u8> {
        let _ = self.ws.close(Some(CloseFrame {
            code: tungstenite::protocol::frame::coding::CloseCode::Normal,
            reason: "".into(),
        }));
        let _ = self.ws.flush();
        std::mem::take(&mut self.ws.get_mut().output)
    }
}

/// Where the AudioSocket message that byte `at` of `bytes` belongs to ends.
fn message_end(bytes: &[u8], at: usize) -> usize {
    let mut start = 0;
    while start < at && start + HEADER_LEN <= bytes.len() {
        start += HEADER_LEN + usize::from(u16::from_be_bytes([bytes[start + 1], bytes[start + 2]]));
    }
    start.min(bytes.len()).max(at)
}

fn close_code(frame: Option<&CloseFrame>) -> u16 {
    frame.map_or(1005, |f| u16::from(f.code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_ends_with_the_message_under_way() {
        let mut bytes = vec![0x10, 0, 4, 1, 1, 1, 1];
        bytes.extend([0x10, 0, 2, 2, 2]);
        assert_eq!(message_end(&bytes, 0), 0);
        assert_eq!(message_end(&bytes, 1), 7);
        assert_eq!(message_end(&bytes, 7), 7);
        assert_eq!(message_end(&bytes, 8), 12);
    }
}
