//! What a server's bytes mean for the call: whole messages decoded, audio
//! cut into playout frames, the barge-in extension's controls placed in
//! order, bad input skipped and reported. Pure, so the fuzz target drives
//! exactly what the I/O thread runs.

use std::collections::{HashSet, VecDeque};
use std::time::Instant;

use super::assembler::Assembler;
use super::digits::Budget;
use super::end_reason::{EndReason, ErrorCode, Hangup};
use super::events::{AudioFrame, Mark, Queued};
use super::variables::{parse_set_variable, VariablePolicy, MAX_VARIABLES, UPDATES_PER_SECOND};
use crate::protocol::{is_dtmf_digit, Decoder, Message, Rate};

/// Kinds of bad input, each reported as "first of its kind" once per call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadInput {
    UnknownKind = 1,
    UuidFromServer = 2,
    EmptyAudio = 4,
    WrongRate = 8,
    BadDtmf = 16,
    /// A mark id longer than [`MAX_MARK_ID`].
    LongMark = 32,
    /// A `0x24` the call cannot take (see `variables.rs`).
    BadVariable = 64,
    /// A kind only the module sends (`0x23`, `0x25`).
    WrongWay = 128,
    /// Variables set faster than the call allows.
    VariableFlood = 256,
}

/// The longest mark id a server may use: what `AUDIOSOCKET(mark)` allows,
/// so that every mark fits an AMI event and a log line.
pub const MAX_MARK_ID: usize = 255;

/// What a call accepts from its server besides audio and DTMF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputOptions {
    pub rate: Rate,
    /// The barge-in extension's kinds mean something (option `b`).
    pub barge_in: bool,
    /// `0x24` means something (options `m`, `v()`), and the names the
    /// server may set; None: an unknown kind.
    pub variables: Option<VariablePolicy>,
    /// The server's audio is played; otherwise it is read and dropped (a
    /// tap without `w`).
    pub play_audio: bool,
    /// A flush keeps the marks it passes (they are answered at once)
    /// instead of dropping them.
    pub keep_flushed_marks: bool,
    /// `0x26` means something: the call resumes elsewhere (option `r`).
    pub resume: bool,
}

impl InputOptions {
    pub fn new(rate: Rate) -> InputOptions {
        InputOptions {
            rate,
            barge_in: false,
            variables: None,
            play_audio: true,
            keep_flushed_marks: false,
            resume: false,
        }
    }
}

pub struct ServerInput {
    decoder: Decoder,
    assembler: Assembler,
    options: InputOptions,
    /// The variables the server has set on this call.
    variables_set: HashSet<String>,
    variable_budget: Budget,
    reported: u32,
}

impl ServerInput {
    pub fn new(options: InputOptions) -> Self {
        ServerInput {
            decoder: Decoder::new(),
            assembler: Assembler::new(options.rate.frame_bytes()),
            options,
            variables_set: HashSet::new(),
            variable_budget: Budget::new(UPDATES_PER_SECOND, MAX_VARIABLES as u32),
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

    /// Interprets the whole messages received so far, appending to `out`,
    /// until what it appended holds `room` bytes (the rest waits in the
    /// decoder, which never holds more than one maximal message). `bad`
    /// hears of each skipped message: its kind, whether it is the first of
    /// that kind on this call, and a description. `now` is when the bytes
    /// were read. Returns how the call ends when a message ends it.
    pub fn process(
        &mut self,
        out: &mut VecDeque<Queued>,
        room: usize,
        now: Instant,
        bad: &mut dyn FnMut(BadInput, bool, String),
    ) -> Option<EndReason> {
        let (mut seen, mut added) = (out.len(), 0);
        while added < room {
            // What the last message added (a flush may have taken some away).
            if out.len() > seen {
                added += out.range(seen..).map(Queued::cost).sum::<usize>();
            }
            seen = out.len();
            let Some(msg) = self.decoder.next_message() else {
                break;
            };
            let mut report = |what: BadInput, text: String| {
                let first = self.reported & what as u32 == 0;
                self.reported |= what as u32;
                bad(what, first, text);
            };
            let options = &self.options;
            match msg {
                Message::Hangup => {
                    flush(&mut self.assembler, out);
                    return Some(EndReason::ServerHangup(Hangup::Message));
                }
                Message::Audio(_, []) => {
                    report(BadInput::EmptyAudio, "an empty audio message".into())
                }
                Message::Audio(rate, _) if rate == options.rate && !options.play_audio => {}
                Message::Audio(rate, payload) if rate == options.rate => {
                    self.assembler.push(payload, |pcm| {
                        out.push_back(Queued::Audio(AudioFrame::new(pcm)))
                    });
                }
                Message::Audio(rate, _) => report(
                    BadInput::WrongRate,
                    format!(
                        "{} Hz audio on a call at {} Hz",
                        rate.hz(),
                        options.rate.hz()
                    ),
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
                    flush(&mut self.assembler, out);
                    return Some(EndReason::ServerError(ErrorCode::from_payload(code)));
                }
                Message::Flush(_) if options.barge_in => {
                    // Everything read before it is gone, whatever its state.
                    discard_audio(&mut self.assembler, out, options.keep_flushed_marks);
                    out.push_back(Queued::Flush);
                }
                Message::Mark(id) if options.barge_in && id.len() > MAX_MARK_ID => report(
                    BadInput::LongMark,
                    format!(
                        "a mark whose id is {} bytes long (at most {MAX_MARK_ID})",
                        id.len()
                    ),
                ),
                Message::Mark(id) if options.barge_in => {
                    flush(&mut self.assembler, out);
                    out.push_back(Queued::Mark(Mark::new(id.to_vec(), false)));
                }
                Message::Drained(_) if options.barge_in => {
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
                Message::SetVariable(payload) => {
                    let Some(policy) = &options.variables else {
                        report(
                            BadInput::UnknownKind,
                            "message kind 0x24 of the call-context extension, which this call \
                             did not turn on (option m)"
                                .into(),
                        );
                        continue;
                    };
                    let (name, value) = match parse_set_variable(payload) {
                        Ok(set) => set,
                        Err(why) => {
                            report(BadInput::BadVariable, format!("a variable {why}"));
                            continue;
                        }
                    };
                    if let Err(why) = policy.allows(&name) {
                        report(BadInput::BadVariable, format!("a variable {why}"));
                        continue;
                    }
                    if !self.variables_set.contains(&name)
                        && self.variables_set.len() >= MAX_VARIABLES
                    {
                        report(
                            BadInput::BadVariable,
                            format!(
                                "a variable named {name}, beyond the {MAX_VARIABLES} distinct \
                                 names one call may set"
                            ),
                        );
                        continue;
                    }
                    if !self.variable_budget.take(now) {
                        report(
                            BadInput::VariableFlood,
                            format!(
                                "more variables than {UPDATES_PER_SECOND} a second (in bursts \
                                 of {MAX_VARIABLES}): {name} dropped"
                            ),
                        );
                        continue;
                    }
                    self.variables_set.insert(name.clone());
                    flush(&mut self.assembler, out);
                    out.push_back(Queued::SetVariable { name, value });
                }
                Message::Move(_) if options.resume => {
                    return Some(EndReason::ServerHangup(Hangup::Moving));
                }
                Message::Move(_) => report(
                    BadInput::UnknownKind,
                    "message kind 0x26 of the resume extension, which this call did not turn \
                     on (option r)"
                        .into(),
                ),
                Message::Context(_) | Message::Stereo(_) => report(
                    BadInput::WrongWay,
                    format!(
                        "message kind 0x{:02x}, which only the module sends",
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

    /// Whether a whole message waits to be interpreted.
    pub fn holds_message(&self) -> bool {
        self.decoder.holds_message()
    }

    /// Whether a short frame is being held for more audio.
    pub fn holds_partial(&self) -> bool {
        self.assembler.holds_samples()
    }

    /// Hands over a held short frame now (whole samples only): its time
    /// to play has come, or nothing more is coming.
    pub fn flush_partial(&mut self, out: &mut VecDeque<Queued>) {
        flush(&mut self.assembler, out);
    }

    /// A flush from Asterisk: the audio and marks read but not yet queued
    /// are gone, and so is a partial frame.
    pub fn discard_audio(&mut self, out: &mut VecDeque<Queued>) {
        discard_audio(&mut self.assembler, out, self.options.keep_flushed_marks);
    }

    /// A new connection after a lost one: nothing of the old one's
    /// messages is left, while what bounds a call's server (the variables
    /// it set, their budget, what was reported) stays with the call.
    pub fn restart(&mut self) {
        self.decoder = Decoder::new();
        self.assembler.clear();
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
        Message::Context(_) => crate::protocol::KIND_CONTEXT,
        Message::Stereo(_) => crate::protocol::KIND_STEREO,
        _ => crate::protocol::KIND_DRAINED,
    }
}

fn flush(assembler: &mut Assembler, out: &mut VecDeque<Queued>) {
    if let Some(pcm) = assembler.flush() {
        out.push_back(Queued::Audio(AudioFrame::new(pcm)));
    }
}

fn discard_audio(assembler: &mut Assembler, out: &mut VecDeque<Queued>, keep_marks: bool) {
    assembler.clear();
    out.retain(|q| match q {
        Queued::Audio(_) => false,
        Queued::Mark(_) => keep_marks,
        _ => true,
    });
}
