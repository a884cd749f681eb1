//! What a server's bytes mean for the call: whole messages decoded, audio
//! cut into playout frames, the barge-in extension's controls placed in
//! order, bad input skipped and reported. Pure, so the fuzz target drives
//! exactly what the I/O thread runs.

use std::collections::VecDeque;

use super::assembler::Assembler;
use super::end_reason::{EndReason, Hangup};
use super::events::{AudioFrame, Mark, Queued};
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
    /// The barge-in extension's kinds mean something on this call.
    barge_in: bool,
    reported: u32,
}

impl ServerInput {
    pub fn new(rate: Rate, barge_in: bool) -> Self {
        ServerInput {
            decoder: Decoder::new(),
            assembler: Assembler::new(rate.frame_bytes()),
            rate,
            barge_in,
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

    /// Interprets every whole message received so far, appending to `out`.
    /// `bad` hears of each skipped message: its kind, whether it is the
    /// first of that kind on this call, and a description. Returns how the
    /// call ends when a message ends it.
    pub fn process(
        &mut self,
        out: &mut VecDeque<Queued>,
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
                            out.push_back(Queued::Audio(AudioFrame::new(pcm)))
                        });
                    }
                }
                Message::Audio(rate, _) => report(
                    BadInput::WrongRate,
                    format!("{} Hz audio on a {} Hz call", rate.hz(), self.rate.hz()),
                ),
                Message::Dtmf(&[d]) if is_dtmf_digit(d.to_ascii_uppercase()) => {
                    flush(&mut self.assembler, out);
                    out.push_back(Queued::Dtmf(d.to_ascii_uppercase()));
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
                Message::Flush(_) if self.barge_in => {
                    // Everything read before it is gone, whatever its state.
                    discard_audio(&mut self.assembler, out);
                    out.push_back(Queued::Flush);
                }
                Message::Mark(id) if self.barge_in => {
                    flush(&mut self.assembler, out);
                    out.push_back(Queued::Mark(Mark::new(id.to_vec(), false)));
                }
                Message::Drained(_) if self.barge_in => {
                    flush(&mut self.assembler, out);
                    out.push_back(Queued::ReportDrained);
                }
                Message::Flush(_) | Message::Mark(_) | Message::Drained(_) => report(
                    BadInput::UnknownKind,
                    format!(
                        "message kind 0x{:02x} of the barge-in extension, which this call \
                         did not turn on (option b)",
                        msg_kind(&msg)
                    ),
                ),
                Message::Unknown(kind, _) => report(
                    BadInput::UnknownKind,
                    format!("unknown message kind 0x{kind:02x}"),
                ),
            }
        }
        None
    }

    /// Nothing more is arriving for now: let the tail of a burst play.
    pub fn pause(&mut self, out: &mut VecDeque<Queued>) {
        flush(&mut self.assembler, out);
    }

    /// A flush from Asterisk: the audio and marks read but not yet queued
    /// are gone, and so is a partial frame.
    pub fn discard_audio(&mut self, out: &mut VecDeque<Queued>) {
        discard_audio(&mut self.assembler, out);
    }

    /// The server closed the connection.
    pub fn closed(&mut self, out: &mut VecDeque<Queued>) -> EndReason {
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

fn msg_kind(m: &Message<'_>) -> u8 {
    match m {
        Message::Flush(_) => crate::protocol::KIND_FLUSH,
        Message::Mark(_) => crate::protocol::KIND_MARK,
        _ => crate::protocol::KIND_DRAINED,
    }
}

fn flush(assembler: &mut Assembler, out: &mut VecDeque<Queued>) {
    if let Some(pcm) = assembler.flush() {
        out.push_back(Queued::Audio(AudioFrame::new(pcm)));
    }
}

fn discard_audio(assembler: &mut Assembler, out: &mut VecDeque<Queued>) {
    assembler.clear();
    out.retain(|q| !matches!(q, Queued::Audio(_) | Queued::Mark(_)));
}
