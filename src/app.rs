//! `AudioSocket(uuid,host:port[,options])`: streams the channel's audio and
//! DTMF to a server and plays back what the server sends, until either ends.

use std::ffi::CStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::args::{parse_app_args, CallArgs};
use crate::asterisk::application::Application;
use crate::asterisk::channel::{Channel, Woken};
use crate::asterisk::format::Format;
use crate::asterisk::frame::{FrameKind, OutFrame};
use crate::asterisk::logger::{ast_log, AsteriskLog};
use crate::session::{wait_ms, EndReason, Event, Level, Session};
use crate::session_events;
use crate::status::{set_end_variables, INVALID_ARGUMENTS, STATUS_VAR};

/// How long a DTMF digit from the server is played on the channel.
const DIGIT_MS: u32 = 100;

pub struct AudioSocketApp;

impl Application for AudioSocketApp {
    const NAME: &'static CStr = c"AudioSocket";
    const SYNOPSIS: &'static CStr =
        c"Stream a call's audio and DTMF to an AudioSocket server over TCP.";
    const DESCRIPTION: &'static CStr = c"AudioSocket(uuid,host:port[,options])

Connects to an AudioSocket server, sends the UUID message, then streams the
channel's audio (signed linear) and DTMF to the server while playing the
server's audio and DTMF to the channel, at real-time pace, until either side
hangs up. Answer the channel first if it is not up.

Arguments:
  uuid       Identifies the stream to the server: any standard UUID form.
  host:port  The server: a host name, an IPv4 address or [IPv6 address],
             then the port. Every address a name resolves to is tried.
  options    Letters, each with a value in parentheses:
    c(codec)    Signed linear rate for both directions: slin (8 kHz, the
                default), slin12, slin16, slin24, slin32, slin44, slin48,
                slin96 or slin192. The channel's formats are restored after.
    t(seconds)  Connect timeout, fractions allowed (default 2).
    i(seconds)  End the call when neither side sent anything for this long
                (default: no inactivity timeout).

Channel variables set on return:
  AUDIOSOCKET_STATUS      How the session ended:
    SERVER_HANGUP      The server sent a hangup or closed the connection.
    CHANNEL_HANGUP     The channel hung up.
    CONNECT_FAILED     No connection within the connect timeout.
    SERVER_ERROR       The server sent an error message.
    PROTOCOL_ERROR     The server broke the framing.
    NETWORK_ERROR      Reading or writing the connection failed.
    TIMEOUT            The i() inactivity timeout expired.
    INVALID_ARGUMENTS  The arguments above were wrong (nothing connected).
    INTERNAL_ERROR     The module failed; see the log.
  AUDIOSOCKET_ERROR_CODE  The code in the server's error message, as hex.

Returns 0, and the dialplan continues, unless the channel hung up or the
arguments were invalid (then -1).";

    fn exec(chan: Channel, data: &str) -> i32 {
        run(chan, data)
    }
}

fn run(chan: Channel, data: &str) -> i32 {
    let name = chan.name();
    let args = match parse_app_args(data) {
        Ok(a) => a,
        Err(e) => {
            ast_log!(Level::Error, "{name}: AudioSocket({data}): {e}");
            chan.set_var(STATUS_VAR, INVALID_ARGUMENTS);
            return -1;
        }
    };
    #[cfg(feature = "fault-injection")]
    crate::fault::at(crate::fault::PANIC_IN_APP, args.uuid.as_bytes());
    let defaults = crate::config_file::current();
    let rate = args.rate(&defaults);
    let format = Format::slin(rate);
    // Held for the whole call so the originals can be restored.
    let (read_before, write_before) = (chan.read_format(), chan.write_format());
    let end = if !chan.set_read_format(format.as_ptr()) || !chan.set_write_format(format.as_ptr()) {
        EndReason::Internal(format!("cannot set the channel to {}", rate.format_name()))
    } else {
        match Session::start(args.session_config(&name, &defaults), Arc::new(AsteriskLog)) {
            Ok(mut session) => {
                let started = session_events::started(chan, &args, session.rate());
                let end = drive(chan, &mut session, format, &args);
                session_events::ended(&started, &end, session.stats());
                end
            }
            Err(e) => EndReason::Internal(format!("cannot start the session: {e}")),
        }
    };
    if !chan.set_read_format(read_before.as_ptr()) || !chan.set_write_format(write_before.as_ptr())
    {
        ast_log!(
            Level::Warning,
            "{name}: could not restore the channel's audio formats"
        );
    }
    report(chan, &name, &args, &end);
    if end == EndReason::ChannelHangup {
        -1
    } else {
        0
    }
}

fn report(chan: Channel, name: &str, args: &CallArgs, end: &EndReason) {
    set_end_variables(chan, end);
    let server = &args.server;
    match end {
        EndReason::ServerHangup | EndReason::ChannelHangup => {
            ast_log!(
                Level::Verbose(3),
                "{name}: AudioSocket session with {server} ended: {end}"
            )
        }
        EndReason::Timeout => ast_log!(
            Level::Notice,
            "{name}: AudioSocket session with {server} ended: {end}"
        ),
        _ => ast_log!(Level::Error, "{name}: AudioSocket server {server}: {end}"),
    }
}

/// The channel thread's loop: waits on the channel and the session's
/// descriptors, never on the network.
fn drive(chan: Channel, session: &mut Session, format: Format, args: &CallArgs) -> EndReason {
    let name = chan.name();
    let fds = session.wait_fds();
    let mut out = OutFrame::default();
    let mut digit: Option<(u8, Instant)> = None;
    let mut warned_format = false;
    loop {
        let now = Instant::now();
        let until_digit = digit.map(|(_, until)| until.saturating_duration_since(now));
        let wait = match (session.park(now), until_digit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let woken = chan.wait(fds, wait_ms(wait));
        session.unpark();
        if let Woken::Fd(fd) = woken {
            if fd == fds[0] {
                session.take_wake_up();
            }
        }
        if let Woken::Channel = woken {
            let Some(frame) = chan.read() else {
                if let Some((d, _)) = digit.take() {
                    chan.digit_end(d, DIGIT_MS);
                }
                return EndReason::ChannelHangup;
            };
            match frame.kind() {
                FrameKind::Voice { format: f, data } => {
                    if format.same_as(f) {
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
                k if k.is_hangup() => return EndReason::ChannelHangup,
                _ => {}
            }
        }
        let now = Instant::now();
        if let Some((d, until)) = digit {
            if now >= until {
                chan.digit_end(d, DIGIT_MS);
                digit = None;
            }
        }
        while let Some(ev) = session.next_event(Instant::now()) {
            match ev {
                Event::Connected => {
                    ast_log!(
                        Level::Verbose(3),
                        "{name}: AudioSocket connected to {}",
                        args.server
                    )
                }
                Event::Audio(f) => {
                    chan.write(out.voice(format, &f.pcm));
                }
                Event::Dtmf(d) => {
                    if let Some((prev, _)) = digit.take() {
                        chan.digit_end(prev, DIGIT_MS);
                    }
                    chan.digit_begin(d);
                    digit = Some((d, Instant::now() + Duration::from_millis(DIGIT_MS.into())));
                }
                Event::Ended(end) => {
                    if let Some((d, _)) = digit.take() {
                        chan.digit_end(d, DIGIT_MS);
                    }
                    return end;
                }
            }
        }
    }
}
