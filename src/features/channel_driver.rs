//! The `AudioSocket/host:port/uuid[/options]` channel driver: a channel whose
//! far end is an AudioSocket server, dialled like any other endpoint (and
//! what ARI's `externalMedia` with `encapsulation=audiosocket` creates).

use std::ffi::CStr;
use std::sync::Arc;
use std::time::Instant;

use super::application::set_variable;
use super::call_context::{self, Caller};
use super::manager_events::{self, Started};
use super::{call_end, settings_file, slin};
use crate::asterisk::cause;
use crate::asterisk::channel::Channel;
use crate::asterisk::format::{Format, Requested};
use crate::asterisk::frame::{FrameKind, OutFrame};
use crate::asterisk::logger::{ast_log, AsteriskLog, Level};
use crate::asterisk::tech::{NewChannel, ReadResult, Technology};
use crate::call::args::{parse_dial_string, CallArgs, RequestedFormat};
use crate::call::outcome::{self, HangupCause};
use crate::call::resume_settings::HoldSound;
use crate::call::settings::Settings;
use crate::protocol::{mulaw, Rate};
use crate::session::websocket::Dialect;
use crate::session::{EndReason, Event, Session, DIGIT};

pub struct AudioSocketTech;

/// One AudioSocket channel's state.
pub struct Pvt {
    args: CallArgs,
    defaults: Settings,
    rate: Rate,
    /// The channel's native format: signed linear at `rate`, or µ-law.
    format: Format,
    /// The channel is µ-law (the Twilio dialect); the session plays 8 kHz
    /// signed linear, converted each way here.
    ulaw: bool,
    /// Reused for each frame's conversion.
    pcm: Vec<u8>,
    session: Option<Session>,
    /// Set while the end of the call is still to be told.
    started: Option<Started>,
    out: OutFrame,
    warned_format: bool,
    /// The other party was put on hold while the stream resumes.
    on_hold: bool,
}

fn asterisk_cause(cause: HangupCause) -> i32 {
    match cause {
        HangupCause::NormalClearing => cause::NORMAL_CLEARING,
        HangupCause::DestinationOutOfOrder => cause::DESTINATION_OUT_OF_ORDER,
        HangupCause::Failure => cause::FAILURE,
    }
}

impl Pvt {
    /// Tells how the session ended, once; the hangup cause it calls for.
    fn tell_end(&mut self, chan: Channel<'_>, end: &EndReason) -> i32 {
        let started = self.started.take();
        let stats = self
            .session
            .as_ref()
            .map(Session::stats)
            .unwrap_or_default();
        let outcome = call_end::tell(
            chan,
            &self.args.server,
            end,
            started.as_ref().map(|s| (s, stats)),
        );
        asterisk_cause(outcome.cause)
    }
}

impl Technology for AudioSocketTech {
    type Pvt = Pvt;
    const TYPE: &'static CStr = c"AudioSocket";
    // `core show channeltypes` prints 40 characters of this.
    const DESCRIPTION: &'static CStr = c"AudioSocket (host:port/uuid[/options])";

    fn capabilities() -> Vec<Format> {
        // Every slin rate, so that any c() choice is acceptable; µ-law for
        // the Twilio dialect.
        Rate::ALL
            .into_iter()
            .filter_map(slin)
            .chain(Format::ulaw())
            .collect()
    }

    fn request(addr: &str, requested: Requested<'_>) -> Result<NewChannel<Pvt>, (String, i32)> {
        // The settings in force when the call was requested apply to all of it.
        let defaults = settings_file::current();
        let args = parse_dial_string(addr)
            .and_then(|mut a| a.resolve(&defaults).map(|_| a))
            .map_err(|e| {
                (
                    format!(
                        "AudioSocket/{addr}: {e} (expected AudioSocket/host:port/uuid[/options] \
                         or AudioSocket/ws:profile/uuid[/options])"
                    ),
                    cause::INVALID_NUMBER_FORMAT,
                )
            })?;
        args.tls(&defaults)
            .map_err(|e| (format!("AudioSocket/{addr}: {e}"), cause::FAILURE))?;
        let requested: Vec<RequestedFormat> = requested
            .formats()
            .into_iter()
            .map(|f| RequestedFormat {
                name: f.name(),
                sample_rate: f.sample_rate(),
            })
            .collect();
        let rate = args.channel_rate(&defaults, &requested);
        // The Twilio dialect carries µ-law: a µ-law caller is bridged to
        // this channel without a translation.
        let ulaw = args.dialect() == Some(Dialect::Twilio);
        let format = if ulaw { Format::ulaw() } else { slin(rate) }.ok_or_else(|| {
            (
                format!(
                    "AudioSocket/{addr}: Asterisk has no {} format",
                    if ulaw { "ulaw" } else { rate.format_name() }
                ),
                cause::FAILURE,
            )
        })?;
        Ok(NewChannel {
            // As Asterisk's own driver names them, so that a call can be
            // found by its UUID in `core show channels`, AMI and ARI.
            name: format!("AudioSocket/{}-{}", args.server, args.uuid),
            format,
            pvt: Pvt {
                rate,
                format,
                ulaw,
                pcm: Vec::new(),
                args,
                defaults,
                session: None,
                started: None,
                out: OutFrame::default(),
                warned_format: false,
                on_hold: false,
            },
        })
    }

    fn created(chan: Channel<'_>, pvt: &mut Pvt) {
        #[cfg(feature = "fault-injection")]
        crate::fault::at(crate::fault::PANIC_IN_REQUEST, pvt.args.uuid.as_bytes());
        chan.set_var("AUDIOSOCKET_UUID", &pvt.args.uuid.to_string());
        chan.set_var("AUDIOSOCKET_SERVICE", &pvt.args.server.to_string());
    }

    fn call(chan: Channel<'_>, pvt: &mut Pvt) -> Result<(), String> {
        let name = chan.name();
        let mut config = pvt
            .args
            .session_config(&name, &chan.uniqueid(), &pvt.defaults)?;
        config.rate = pvt.rate;
        call_context::tell(chan, &pvt.args, &mut config, Caller::ConnectedLine, None);
        config.on_resume = Some(manager_events::resume_listener(chan, &pvt.args));
        let session = Session::start(config, Arc::new(AsteriskLog))
            .map_err(|e| format!("cannot start the AudioSocket session: {e}"))?;
        let [wake, timer] = session.wait_fds();
        chan.set_fd(0, wake);
        chan.set_fd(1, timer);
        pvt.started = Some(manager_events::started(chan, &pvt.args, session.rate()));
        pvt.session = Some(session);
        Ok(())
    }

    fn read<'p>(chan: Channel<'_>, pvt: &'p mut Pvt) -> ReadResult<'p> {
        let Some(session) = pvt.session.as_mut() else {
            return ReadResult::Nothing;
        };
        if chan.fdno() == 0 {
            session.take_wake_up();
        }
        let event = session.next_event(Instant::now());
        session.park_until_readable();
        match event {
            None => ReadResult::Nothing,
            Some(Event::Connected) => {
                #[cfg(feature = "fault-injection")]
                crate::fault::at(crate::fault::PANIC_IN_READ, pvt.args.uuid.as_bytes());
                let tls = session.encryption();
                let line = outcome::connected(&chan.name(), &pvt.args.server, tls.as_deref());
                ast_log!(Level::Verbose(3), "{line}");
                ReadResult::Frame(pvt.out.answer())
            }
            Some(Event::Audio(f)) if pvt.ulaw => {
                pvt.pcm.clear();
                mulaw::encode_pcm(&f.pcm, &mut pvt.pcm);
                ReadResult::Frame(pvt.out.voice(pvt.format, &pvt.pcm))
            }
            Some(Event::Audio(f)) => ReadResult::Frame(pvt.out.voice(pvt.format, &f.pcm)),
            Some(Event::Dtmf(d)) => {
                ReadResult::Frame(pvt.out.dtmf_end(d, DIGIT.as_millis() as u32))
            }
            Some(Event::SetVariable { name, value }) => {
                set_variable(chan, &name, &value);
                ReadResult::Nothing
            }
            Some(Event::MarkPlayed(m)) => {
                if let Some(started) = &pvt.started {
                    manager_events::mark_played(started, &m);
                }
                ReadResult::Nothing
            }
            Some(Event::Drained) => {
                if let Some(started) = &pvt.started {
                    manager_events::drained(started);
                }
                ReadResult::Nothing
            }
            // The bridge puts the other party on hold while the stream
            // resumes (music, with resume_hold = moh), and takes it off.
            Some(Event::ServerLost(_)) => match &pvt.defaults.resume.hold {
                HoldSound::Moh(class) => {
                    pvt.on_hold = true;
                    ReadResult::Frame(pvt.out.hold(class))
                }
                HoldSound::Silence => ReadResult::Nothing,
            },
            Some(Event::Resumed { .. }) if std::mem::take(&mut pvt.on_hold) => {
                ReadResult::Frame(pvt.out.unhold())
            }
            Some(Event::Resumed { .. }) => ReadResult::Nothing,
            Some(Event::Ended(end)) => ReadResult::Hangup(pvt.tell_end(chan, &end)),
        }
    }

    fn write(chan: Channel<'_>, pvt: &mut Pvt, frame: FrameKind<'_>) {
        let Some(session) = pvt.session.as_mut() else {
            return;
        };
        if let FrameKind::Voice { format, data } = frame {
            if format.is_some_and(|f| pvt.format.same_as(f)) {
                if pvt.ulaw {
                    pvt.pcm.clear();
                    mulaw::decode_to_pcm(data, &mut pvt.pcm);
                    session.send_audio(&pvt.pcm);
                } else {
                    session.send_audio(data);
                }
            } else if !pvt.warned_format {
                pvt.warned_format = true;
                ast_log!(
                    Level::Warning,
                    "{}: AudioSocket channel was given audio that is not {}; skipped",
                    chan.name(),
                    if pvt.ulaw {
                        "ulaw"
                    } else {
                        pvt.rate.format_name()
                    }
                );
            }
        }
    }

    fn digit_end(_chan: Channel<'_>, pvt: &mut Pvt, digit: u8) {
        if let Some(session) = pvt.session.as_mut() {
            session.send_dtmf(digit);
        }
    }

    fn hangup(chan: Channel<'_>, pvt: &mut Pvt) {
        chan.set_fd(0, -1);
        chan.set_fd(1, -1);
        if pvt.started.is_some() {
            // The caller's side hung up first.
            pvt.tell_end(chan, &EndReason::ChannelHangup);
        }
        // Dropping the session stops its I/O thread, which closes the socket.
        pvt.session = None;
    }
}
