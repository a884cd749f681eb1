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
use crate::call::args::{parse_app_args, CallArgs};
use crate::call::outcome::{self, Status};
use crate::call::resume_settings::HoldSound;
use crate::session::{wait_ms, EndReason, Event, Session, DIGIT};

use super::version::{c_text, version};

pub struct AudioSocketApp;

impl Application for AudioSocketApp {
    const NAME: &'static CStr = c"AudioSocket";
    const SYNOPSIS: &'static CStr =
        c"Stream a call's audio and DTMF to an AudioSocket server over TCP.";
    const DESCRIPTION: &'static CStr = c_text!(
        "AudioSocket(uuid,host:port[,options])

Connects to an AudioSocket server, sends the UUID message, then streams the
channel's audio (signed linear) and DTMF to the server while playing the
server's audio and DTMF to the channel, at real-time pace, until either side
hangs up. Answer the channel first if it is not up.

Arguments:
  uuid       Identifies the stream to the server: any standard UUID form.
  host:port  The server: a host name, an IPv4 address or [IPv6 address],
             then the port. Calls to a name take its addresses in turns;
             one that just failed is tried last for 15 s. Or over a
             WebSocket: ws://host[:port]/path?query, wss://..., or ws:NAME,
             a [NAME] profile of audiosocket.conf with type = websocket.
  options    Letters, some with a value in parentheses:
    c(codec)    Signed linear rate for both directions: slin (8 kHz, the
                default), slin12, slin16, slin24, slin32, slin44, slin48,
                slin96 or slin192. The channel's formats are restored after.
    t(seconds)  Connect timeout, fractions allowed (default 2).
    i(seconds)  End the call when neither side sent anything for this long
                (default: no inactivity timeout).
    b           Barge-in: the server may flush the audio not yet played
                (0x20), place marks (0x21) and ask when nothing is left to
                play (0x22); the module bounds what the server can write
                ahead. See AUDIOSOCKET() for the same controls from Asterisk.
    m           Call context: right after the UUID the server gets one JSON
                object (0x23) with the channel, uniqueid, linkedid, caller
                ID number and name, extension, context, language and
                rate; and it may set channel variables (0x24, NAME=value)
                that server_variables allows (BOT_* by default).
    m(V1^V2)    The same, with these channel variables in the JSON.
    p(dialect)  What the messages on a WebSocket say: audiosocket, or
                twilio (Twilio's Media Streams: the bot gets connected,
                start, media, dtmf, mark and stop; it may send media, mark
                and clear; audio is mulaw at 8 kHz).
    v(N1^P*)    The variables the server may set (names, and patterns with
                *), instead of server_variables in audiosocket.conf (BOT_*
                by default); turns 0x24 on without m. Never a variable
                Asterisk acts on (TRANSFER_CONTEXT, DIALSTATUS, ...).
    s           TLS (1.2 or 1.3) to the server, whose certificate must be
                valid for host and signed by a CA the system trusts
                (/etc/ssl/certs); or by the [general] tls profile of
                audiosocket.conf when it names one.
    s(profile)  TLS with the profile [profile] of audiosocket.conf: its own
                CA file, a client certificate for mutual TLS, a name to
                check instead of host.
    r           Resume: when the server is lost mid-call (reset, closed
                without a hangup message, silent past i()) or asks to be
                left (0x26, WebSocket close 1001 or 1012), connect again
                with the same UUID (the context says resumed and gap_ms)
                within resume_time (5 s); the caller hears resume_hold.
    r(seconds)  The same, within this long; r(0): never.

Channel variables set on return:
  AUDIOSOCKET_STATUS      How the session ended:
    SERVER_HANGUP      The server sent a hangup or closed the connection
                       (also with a reset).
    CHANNEL_HANGUP     The channel hung up.
    REDIRECTED         The channel was redirected elsewhere in the dialplan
                       (AMI Redirect, 'channel redirect').
    CONNECT_FAILED     No connection within the connect timeout, or the
                       TLS handshake failed (the log says why).
    SERVER_ERROR       The server sent an error message.
    PROTOCOL_ERROR     The server broke the framing.
    NETWORK_ERROR      The connection failed (timed out, unreachable).
    TIMEOUT            The i() inactivity timeout expired.
    SERVER_LOST        With r: the server was lost and no new connection
                       was made within resume_time or resume_attempts.
    INVALID_ARGUMENTS  The arguments above were wrong, or s() named no TLS
                       profile (nothing connected).
    INTERNAL_ERROR     The module failed; see the log.
  AUDIOSOCKET_ERROR_CODE  The code in the server's error message, as hex.
  AUDIOSOCKET_RESUMES     How many times the stream resumed (option r).

Returns 0, and the dialplan continues, unless the channel hung up or the
arguments were invalid (then -1). After a redirect the dialplan goes on
where the redirect pointed.

This is chan_audiosocket_rs ",
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
