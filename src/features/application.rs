//! `AudioSocket(uuid,host:port[,options])`: streams the channel's audio and
//! DTMF to a server and plays back what the server sends, until either ends.

use std::ffi::CStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::call_context::{self, Caller};
use super::call_end::{self, set_status};
use super::hold::Hold;
use super::manager_events::{self, Started};
use super::{settings_file, slin};
use crate::asterisk::application::Application;
use crate::asterisk::channel::{Channel, Woken};
use crate::asterisk::format::Format;
use crate::asterisk::frame::{FrameKind, OutFrame};
use crate::asterisk::logger::{ast_log, AsteriskLog, Level};
use crate::call::app_help::{app_description, app_synopsis};
use crate::call::args::{parse_app_args, CallArgs};
use crate::call::outcome::{self, Status};
use crate::call::resume_settings::HoldSound;
use crate::session::{wait_ms, EndReason, Event, Session, DIGIT};

use super::version::{c_text, version};

pub struct AudioSocketApp;

impl Application for AudioSocketApp {
    const NAME: &'static CStr = c"AudioSocket";
    const SYNOPSIS: &'static CStr = c_text!(app_synopsis!());
    const DESCRIPTION: &'static CStr = c_text!(
        app_description!(),
        "This is chan_audiosocket_rs ",
        version!(),
        "."
    );

    fn exec(chan: Channel<'_>, data: &str) -> i32 {
        run(chan, data)
    }
}

fn run(chan: Channel<'_>, data: &str) -> i32 {
    let name = chan.name();
    let defaults = settings_file::current();
    let args = match parse_app_args(data).and_then(|mut a| a.resolve(&defaults).map(|_| a)) {
        Ok(a) => a,
        Err(e) => {
            ast_log!(Level::Error, "{name}: AudioSocket({data}): {e}");
            set_status(chan, Status::InvalidArguments);
            return -1;
        }
    };
    #[cfg(feature = "fault-injection")]
    crate::fault::at(crate::fault::PANIC_IN_APP, args.uuid.as_bytes());
    let mut config = match args.session_config(&name, &chan.uniqueid(), &defaults) {
        Ok(c) => c,
        Err(e) => {
            ast_log!(Level::Error, "{name}: AudioSocket({data}): {e}");
            set_status(chan, Status::InvalidArguments);
            return -1;
        }
    };
    let rate = config.rate;
    call_context::tell(chan, &args, &mut config, Caller::CallerId, None);
    config.on_resume = Some(manager_events::resume_listener(chan, &args));
    let end = match slin(rate).and_then(|format| Some((format, chan.switch_formats(format)?))) {
        None => {
            let end =
                EndReason::Internal(format!("cannot set the channel to {}", rate.format_name()));
            call_end::tell(chan, &args.server, &end, None);
            end
        }
        Some((format, formats)) => {
            let end = match Session::start(config, Arc::new(AsteriskLog)) {
                Ok(mut session) => {
                    let started = manager_events::started(chan, &args, session.rate());
                    let hold = &defaults.resume.hold;
                    let end = drive(chan, &mut session, format, (&args, hold), &started);
                    call_end::tell(chan, &args.server, &end, Some((&started, session.stats())));
                    end
                }
                Err(e) => {
                    let end = EndReason::Internal(format!("cannot start the session: {e}"));
                    call_end::tell(chan, &args.server, &end, None);
                    end
                }
            };
            if !formats.restore() {
                ast_log!(
                    Level::Warning,
                    "{name}: could not restore the channel's audio formats"
                );
            }
            end
        }
    };
    // Only a hangup ends the dialplan; after a redirect it goes on where
    // the redirect pointed.
    if end == EndReason::ChannelHangup {
        -1
    } else {
        0
    }
}

/// A DTMF digit from the server being played on the channel: begun when its
/// turn comes, ended after [`DIGIT`].
#[derive(Default)]
struct ServerDigit(Option<(u8, Instant)>);

impl ServerDigit {
    fn begin(&mut self, chan: Channel<'_>, digit: u8, now: Instant) {
        self.end(chan);
        chan.digit_begin(digit);
        self.0 = Some((digit, now + DIGIT));
    }

    fn end(&mut self, chan: Channel<'_>) {
        if let Some((digit, _)) = self.0.take() {
            chan.digit_end(digit, DIGIT.as_millis() as u32);
        }
    }

    fn end_if_due(&mut self, chan: Channel<'_>, now: Instant) {
        if self.0.is_some_and(|(_, until)| now >= until) {
            self.end(chan);
        }
    }

    /// How long until the digit must end, if one is playing.
    fn time_left(&self, now: Instant) -> Option<Duration> {
        self.0
            .map(|(_, until)| until.saturating_duration_since(now))
    }
}

/// The server set a variable on the call's channel (option `m`).
pub fn set_variable(chan: Channel<'_>, name: &str, value: &str) {
    chan.set_var(name, value);
    ast_log!(
        Level::Verbose(4),
        "{}: AudioSocket server set {name}",
        chan.name()
    );
}

/// Why the channel stopped giving frames: it hung up, or it was redirected
/// (AMI Redirect, `channel redirect`) and the call goes on elsewhere.
fn channel_left(chan: Channel<'_>) -> EndReason {
    if chan.is_redirected() {
        EndReason::Redirected
    } else {
        EndReason::ChannelHangup
    }
}

/// The channel thread's loop: waits on the channel and the session's
/// descriptors, never on the network.
fn drive(
    chan: Channel<'_>,
    session: &mut Session,
    format: Format,
    call: (&CallArgs, &HoldSound),
    started: &Started,
) -> EndReason {
    let mut digit = ServerDigit::default();
    let mut hold = Hold::default();
    let end = play(
        chan,
        session,
        format,
        call,
        started,
        (&mut digit, &mut hold),
    );
    digit.end(chan);
    hold.stop(chan);
    end
}

fn play(
    chan: Channel<'_>,
    session: &mut Session,
    format: Format,
    (args, hold_sound): (&CallArgs, &HoldSound),
    started: &Started,
    (digit, hold): (&mut ServerDigit, &mut Hold),
) -> EndReason {
    let name = chan.name();
    let fds = session.wait_fds();
    let mut out = OutFrame::default();
    let mut warned_format = false;
    loop {
        let now = Instant::now();
        let wait = match (session.park(now), digit.time_left(now)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let woken = chan.wait(fds, wait_ms(wait));
        session.unpark();
        match woken {
            Woken::Fd(fd) if fd == fds[0] => session.take_wake_up(),
            Woken::Channel => {
                let Some(frame) = chan.read() else {
                    return channel_left(chan);
                };
                match frame.kind() {
                    FrameKind::Voice { format: f, data } => {
                        if f.is_some_and(|f| format.same_as(f)) {
                            session.send_audio(data);
                        } else if !warned_format {
                            warned_format = true;
                            ast_log!(
                                Level::Warning,
                                "{name}: AudioSocket got audio that is not {}; skipped",
                                session.rate().format_name()
                            );
                        }
                    }
                    FrameKind::DtmfEnd(d) => session.send_dtmf(d),
                    k if k.is_hangup() => return channel_left(chan),
                    _ => {}
                }
            }
            _ => {}
        }
        digit.end_if_due(chan, Instant::now());
        while let Some(ev) = session.next_event(Instant::now()) {
            match ev {
                Event::Connected => {
                    let tls = session.encryption();
                    let line = outcome::connected(&name, &args.server, tls.as_deref());
                    ast_log!(Level::Verbose(3), "{line}")
                }
                Event::Audio(f) => {
                    chan.write(out.voice(format, &f.pcm));
                }
                Event::Dtmf(d) => digit.begin(chan, d, Instant::now()),
                Event::SetVariable { name: var, value } => set_variable(chan, &var, &value),
                Event::MarkPlayed(m) => manager_events::mark_played(started, &m),
                Event::Drained => manager_events::drained(started),
                Event::ServerLost(_) => hold.start(chan, hold_sound),
                // Before the new server's audio, which a hold would drop.
                Event::Resumed { .. } => hold.stop(chan),
                Event::Ended(end) => return end,
            }
        }
    }
}
