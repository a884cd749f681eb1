//! What a server's bytes mean for the call: whole messages decoded, audio
//! cut into playout frames, bad input skipped and reported. Pure, so the
//! fuzz target drives exactly what the I/O thread runs.

use std::collections::VecDeque;

use super::assembler::Assembler;
use super::end_reason::{EndReason, Hangup};
use super::events::{AudioFrame, Event};
use crate::protocol::{is_dtmf_digit, Decoder, Message, Rate};

/// Kinds of bad input, each reported as "first of its kind" once per call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadInput {
    UnknownKind = 1,
    UuidFromServer = 2,
    EmptyAudio = 4,
    WrongRate = 8,
    BadDtmf = 16,
}

pub struct ServerInput {
    decoder: Decoder,
    assembler: Assembler,
    rate: Rate,
    reported: u32,
}

impl ServerInput {
    pub fn new(rate: Rate) -> Self {
        ServerInput {
            decoder: Decoder::new(),
            assembler: Assembler::new(rate.frame_bytes()),
            rate,
            reported: 0,
        }
    }

    /// Where the next socket read should land.
    pub fn spare(&mut self) -> &mut [u8] {
        self.decoder.spare()
    }

    pub fn filled(&mut self, n: usize) {
        self.decoder.filled(n);
    }

    /// Bytes held: a message not yet complete.
    pub fn buffered(&self) -> usize {
        self.decoder.buffered()
    }

    /// Interprets every whole message received so far, appending events to
    /// `out`. `bad` hears of each skipped message: its kind, whether it is
    /// the first of that kind on this call, and a description. Returns how
    /// the call ends when a message ends it.
    pub fn process(
        &mut self,
        out: &mut VecDeque<Event>,
        bad: &mut dyn FnMut(BadInput, bool, String),
    ) -> Option<EndReason> {
        while let Some(msg) = self.decoder.next_message() {
            let mut report = |what: BadInput, text: String| {
                let first = self.reported & what as u32 == 0;
                self.reported |= what as u32;
                bad(what, first, text);
            };
            match msg {
                Message::Hangup => {
                    flush(&mut self.assembler, out);
                    return Some(EndReason::ServerHangup(Hangup::Message));
                }
                Message::Audio(rate, payload) if rate == self.rate => {
                    if payload.is_empty() {
                        report(BadInput::EmptyAudio, "an empty audio message".into());
                    } else {
                        self.assembler.push(payload, |pcm| {
                            out.push_back(Event::Audio(AudioFrame { pcm }))
                        });
                    }
                }
                Message::Audio(rate, _) => report(
                    BadInput::WrongRate,
                    format!("{} Hz audio on a {} Hz call", rate.hz(), self.rate.hz()),
                ),
                Message::Dtmf(&[d]) if is_dtmf_digit(d.to_ascii_uppercase()) => {
                    flush(&mut self.assembler, out);
                    out.push_back(Event::Dtmf(d.to_ascii_uppercase()));
                }
                Message::Dtmf(p) => report(
                    BadInput::BadDtmf,
                    format!("a DTMF message that is not one digit ({p:02x?})"),
                ),
                Message::Uuid(_) => report(BadInput::UuidFromServer, "a UUID message".into()),
                Message::Error(code) => {
                    let code = code.to_vec();
                    flush(&mut self.assembler, out);
                    return Some(EndReason::ServerError(code));
                }
                Message::Unknown(kind, _) => report(
                    BadInput::UnknownKind,
                    format!("unknown message kind 0x{kind:02x}"),
                ),
            }
        }
        None
    }

    /// Nothing more is arriving for now: let the tail of a burst play.
    pub fn pause(&mut self, out: &mut VecDeque<Event>) {
        flush(&mut self.assembler, out);
    }

    /// The server closed the connection.
    pub fn closed(&mut self, out: &mut VecDeque<Event>) -> EndReason {
        flush(&mut self.assembler, out);
        if self.decoder.buffered() > 0 {
            EndReason::ProtocolError(format!(
                "the server closed the connection in the middle of a message \
                 ({} bytes of it received)",
                self.decoder.buffered()
            ))
        } else {
            EndReason::ServerHangup(Hangup::Closed)
        }
    }
}

fn flush(assembler: &mut Assembler, out: &mut VecDeque<Event>) {
    if let Some(pcm) = assembler.flush() {
        out.push_back(Event::Audio(AudioFrame { pcm }));
    }
}
