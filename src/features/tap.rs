//! `AUDIOSOCKET_TAP(uuid)`: a live tap streams a channel the module does
//! not own (a call between people, in any application or bridge) to an
//! AudioSocket server, for transcription and agent assist, while the call
//! goes on untouched.
//!
//! `Set(AUDIOSOCKET_TAP(uuid)=host:port[,options])` starts it,
//! `Set(AUDIOSOCKET_TAP(uuid)=)` stops it, `${AUDIOSOCKET_TAP(uuid)}` says
//! how it is. It is the same session as a call's (connect, TLS, fleets,
//! the outbox, pacing), fed by an audiohook: each frame the channel reads
//! or writes passes through on the thread moving it, which hands it to
//! the socket without waiting, as a call's channel thread does. Only the
//! session's own I/O thread is added.

use std::ffi::CStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use super::application::set_variable;
use super::call_context::{self, Caller};
use super::manager_events::{self, Started};
use super::settings_file;
use crate::asterisk::audiohook::{
    self, AttachFailed, Attachment, AudioHook, HookDirection, HookFrame, Hooked,
};
use crate::asterisk::channel::Channel;
use crate::asterisk::datastore::ChannelData;
use crate::asterisk::function::DialplanFunction;
use crate::asterisk::logger::{ast_log, AsteriskLog, Level};
use crate::asterisk::translate::Resampler;
use crate::call::args::{parse_tap_args, parse_tap_uuid, CallArgs};
use crate::call::outcome::{self, Outcome, Status};
use crate::locks::lock;
use crate::protocol::Rate;
use crate::session::websocket::Dialect;
use crate::session::{
    EndListener, EndReason, Event, Remote, Session, Side, StatsSnapshot, TapDirection, TapMixer,
    Whisper,
};

/// Live taps one channel may have at once (each has its own thread).
const MAX_LIVE_TAPS: usize = 8;
/// Ended taps whose status a channel keeps for `${AUDIOSOCKET_TAP()}`.
const MAX_ENDED_TAPS: usize = 32;

/// What Asterisk lists the tap's audiohook as.
const SOURCE: &CStr = c"AudioSocketTap";

/// A channel's taps, live and ended, kept on the channel.
#[derive(Default)]
struct Taps(Mutex<TapList>);

#[derive(Default)]
struct TapList {
    taps: Vec<Arc<Tap>>,
    /// UUIDs of taps being started: they count as live, so that two
    /// starts at once (the dialplan and AMI) cannot pass the limit or
    /// share a UUID.
    starting: Vec<String>,
}

impl TapList {
    fn live(&self) -> impl Iterator<Item = &str> {
        self.taps
            .iter()
            .filter(|t| t.live())
            .map(|t| t.uuid.as_str())
            .chain(self.starting.iter().map(String::as_str))
    }
}

static TAPS: ChannelData<Taps> = ChannelData::new(c"audiosocket_tap");

/// How a tap ended, told once, by its I/O thread.
struct Told {
    channel: String,
    uuid: String,
    args: CallArgs,
    started: Started,
    /// Why a tap its server did not end ended: stopped, or its channel hung up.
    how: Mutex<Option<&'static str>>,
    /// The tap's audiohook failed (a bug): the tap ends as an internal error.
    failure: Mutex<Option<String>>,
    status: Mutex<Option<Status>>,
}

impl Told {
    fn tell(&self, end: &EndReason, stats: StatsSnapshot) {
        let failed = lock(&self.failure).clone().map(EndReason::Internal);
        let end = failed.as_ref().unwrap_or(end);
        let outcome = Outcome::of(end);
        outcome::record(outcome.status);
        *lock(&self.status) = Some(outcome.status);
        let how = if *end == EndReason::ChannelHangup {
            *lock(&self.how)
        } else {
            None
        };
        let line = outcome.tap_log_line(&self.channel, &self.uuid, &self.args.server, how);
        ast_log!(outcome.level, "{line}");
        let mut outcome = outcome;
        if let Some(how) = how {
            outcome.reason = how.to_string();
        }
        manager_events::ended(&self.started, &outcome, stats);
    }
}

/// What the audiohook's callback works with, one thread at a time.
struct Stream {
    session: Option<Session>,
    rate: Rate,
    mixer: TapMixer,
    whisper: Option<Whisper>,
    /// A frame of another rate is converted to the tap's first, one
    /// converter per direction, for the rate last seen.
    to_tap: [Option<(u32, Resampler)>; 2],
    from_tap: Option<(u32, Resampler)>,
    converted: Vec<u8>,
    whispered: Vec<u8>,
    stereo: bool,
}

struct Tap {
    uuid: String,
    told: Arc<Told>,
    remote: Remote,
    /// Stopped (from the dialplan, or as its channel went): no longer
    /// live, whatever its I/O thread has yet to report; the hook leaves
    /// the channel at its next frame.
    stopped: AtomicBool,
    stream: Mutex<Stream>,
    /// The audiohook, to take off the channel at unload.
    hook: OnceLock<Attachment>,
}

impl Tap {
    fn live(&self) -> bool {
        !self.stopped.load(Ordering::Acquire) && lock(&self.told.status).is_none()
    }

    fn status(&self) -> &'static str {
        match *lock(&self.told.status) {
            Some(status) => status.name(),
            None if self.stopped.load(Ordering::Acquire) => Status::ChannelHangup.name(),
            None if self.remote.is_resuming() => "RESUMING",
            None if self.remote.is_connected() => "ACTIVE",
            None => "CONNECTING",
        }
    }

    /// Ends the session now (the server gets the hangup message, then the
    /// close); the audiohook leaves the channel at its next frame.
    fn stop(&self, how: &'static str) {
        lock(&self.told.how).get_or_insert(how);
        self.stopped.store(true, Ordering::Release);
        let session = lock(&self.stream).session.take();
        drop(session);
    }
}

/// `pcm` at `from` Hz, converted to `to` Hz by the converter in `slot`
/// (made for `from` when it is for another rate) into `out`.
fn convert<'a>(
    slot: &mut Option<(u32, Resampler)>,
    out: &'a mut Vec<u8>,
    from: u32,
    to: u32,
    pcm: &[u8],
) -> Option<&'a [u8]> {
    if slot.as_ref().map(|(r, _)| *r) != Some(from) {
        *slot = Resampler::new(from, to).map(|r| (from, r));
    }
    let (_, resampler) = slot.as_mut()?;
    out.clear();
    resampler.convert(pcm, out);
    Some(out)
}

/// The session's events other than audio, which a tap has no other use
/// for; `ended` once the session has ended.
fn take_event(chan: Channel<'_>, event: Event, ended: &mut bool) {
    match event {
        Event::SetVariable { name, value } => set_variable(chan, &name, &value),
        Event::Ended(_) => *ended = true,
        // A tap's resume disturbs nothing on the channel; the AMI events
        // and the log tell of it.
        Event::Connected
        | Event::Audio(_)
        | Event::Dtmf(_)
        | Event::MarkPlayed(_)
        | Event::Drained
        | Event::ServerLost(_)
        | Event::Resumed { .. } => {}
    }
}

impl Stream {
    fn frame(&mut self, chan: Channel<'_>, side: Side, frame: &mut HookFrame<'_>) -> Hooked {
        let now = Instant::now();
        let mut ended = false;
        let Some(session) = self.session.as_mut() else {
            return Hooked::Detach;
        };
        while let Some(event) = session.next_control_event(now) {
            take_event(chan, event, &mut ended);
        }
        let (rate, tap_hz) = (frame.rate(), self.rate.hz());
        let pcm = match rate == tap_hz {
            true => Some(&*frame.pcm()),
            false => convert(
                &mut self.to_tap[side as usize],
                &mut self.converted,
                rate,
                tap_hz,
                frame.pcm(),
            ),
        };
        if let Some(pcm) = pcm {
            let stereo = self.stereo;
            self.mixer.push(side, pcm, now, |f| {
                if stereo {
                    session.send_stereo(f)
                } else {
                    session.send_audio(f)
                }
            });
        }
        let mut changed = false;
        if let (Side::Out, Some(whisper)) = (side, self.whisper.as_mut()) {
            let mut other = |event| take_event(chan, event, &mut ended);
            changed = if rate == tap_hz {
                whisper.mix_into(frame.pcm(), session, now, &mut other)
            } else {
                // Another rate: the whisper for this frame's length, converted.
                let pcm = frame.pcm();
                let samples = (pcm.len() / 2) as u64 * u64::from(tap_hz) / u64::from(rate.max(1));
                self.whispered.clear();
                self.whispered.resize(samples as usize * 2, 0);
                whisper.mix_into(&mut self.whispered, session, now, &mut other)
                    && match convert(
                        &mut self.from_tap,
                        &mut self.converted,
                        tap_hz,
                        rate,
                        &self.whispered,
                    ) {
                        Some(whispered) => {
                            add(pcm, whispered);
                            true
                        }
                        None => false,
                    }
            };
        }
        if ended {
            self.session = None;
            return Hooked::Detach;
        }
        if changed {
            Hooked::Changed
        } else {
            Hooked::Unchanged
        }
    }
}

/// Adds `other`'s samples to `pcm`'s, saturating.
fn add(pcm: &mut [u8], other: &[u8]) {
    for (s, w) in pcm.chunks_exact_mut(2).zip(other.chunks_exact(2)) {
        let mixed =
            i16::from_le_bytes([s[0], s[1]]).saturating_add(i16::from_le_bytes([w[0], w[1]]));
        s.copy_from_slice(&mixed.to_le_bytes());
    }
}

impl AudioHook for Tap {
    fn frame(
        &self,
        chan: Channel<'_>,
        direction: HookDirection,
        frame: &mut HookFrame<'_>,
    ) -> Hooked {
        if self.stopped.load(Ordering::Acquire) {
            return Hooked::Detach;
        }
        #[cfg(feature = "fault-injection")]
        crate::fault::at(
            crate::fault::PANIC_IN_TAP_HOOK,
            self.told.args.uuid.as_bytes(),
        );
        let side = match direction {
            HookDirection::Read => Side::In,
            HookDirection::Write => Side::Out,
        };
        lock(&self.stream).frame(chan, side, frame)
    }

    fn detached(&self) {
        self.stop("the tapped channel hung up");
    }

    fn failed(&self) {
        lock(&self.told.failure)
            .get_or_insert_with(|| "a panic in the tap's audiohook".to_string());
        self.stop("the tap failed");
    }
}

/// Starts a tap with `uuid` on `chan`, as `value` (`host:port[,options]`) says.
fn start(chan: Channel<'_>, uuid: &str, value: &str) -> Result<(), String> {
    let name = chan.name();
    let defaults = settings_file::current();
    let args = parse_tap_args(uuid, value)
        .and_then(|mut a| a.resolve(&defaults).map(|_| a))
        .map_err(|e| format!("{name}: {e}"))?;
    let uuid = args.uuid.to_string();
    let taps = TAPS
        .get_or_insert(chan, Taps::default)
        .ok_or_else(|| format!("{name}: cannot keep the channel's taps"))?;
    {
        let mut list = lock(&taps.0);
        if list.live().any(|live| live == uuid) {
            return Err(format!("{name}: a tap with UUID {uuid} is already active"));
        }
        if list.live().count() >= MAX_LIVE_TAPS {
            return Err(format!(
                "{name}: {MAX_LIVE_TAPS} taps are active already; not starting {uuid}"
            ));
        }
        list.starting.push(uuid.clone());
    }
    let started = start_reserved(chan, &args);
    let mut list = lock(&taps.0);
    if let Some(at) = list.starting.iter().position(|u| *u == uuid) {
        list.starting.remove(at);
    }
    let tap = started?;
    list.taps.push(tap);
    let ended = list.taps.iter().filter(|t| !t.live()).count();
    if ended > MAX_ENDED_TAPS {
        let mut drop_ended = ended - MAX_ENDED_TAPS;
        list.taps.retain(|t| {
            let keep = t.live() || drop_ended == 0;
            if !keep {
                drop_ended -= 1;
            }
            keep
        });
    }
    Ok(())
}

/// Starts the session and the audiohook of a tap whose UUID is reserved.
fn start_reserved(chan: Channel<'_>, args: &CallArgs) -> Result<Arc<Tap>, String> {
    let name = chan.name();
    let uuid = args.uuid.to_string();
    let defaults = settings_file::current();
    let mut config = args
        .session_config(&name, &chan.uniqueid(), &defaults)
        .map_err(|e| format!("{name}: {e}"))?;
    let asked = args.options.direction.unwrap_or(TapDirection::Both);
    // The Twilio dialect sends each side in messages of its own: both
    // sides travel as a two-channel frame to the framer, which splits it.
    let direction = match (args.dialect(), asked) {
        (Some(Dialect::Twilio), TapDirection::Both) => TapDirection::Stereo,
        _ => asked,
    };
    let rate = config.rate;
    config.tap = Some(direction);
    config.play_server_audio = args.options.whisper;
    call_context::tell(
        chan,
        args,
        &mut config,
        Caller::CallerId,
        Some(asked.name()),
    );
    let told = Arc::new(Told {
        channel: name.clone(),
        uuid: uuid.clone(),
        started: manager_events::tap_started(chan, args, rate, direction),
        args: args.clone(),
        how: Mutex::new(None),
        failure: Mutex::new(None),
        status: Mutex::new(None),
    });
    config.on_resume = Some(manager_events::resume_listener(chan, args));
    let listener = told.clone();
    config.on_end = Some(EndListener(Arc::new(move |end, stats| {
        listener.tell(end, stats)
    })));
    let session = match Session::start(config, Arc::new(AsteriskLog)) {
        Ok(session) => session,
        Err(e) => {
            // AudioSocketTapStart went out: its end follows.
            told.tell(
                &EndReason::Internal(format!("cannot start the tap's session: {e}")),
                StatsSnapshot::default(),
            );
            return Err(format!("{name}: cannot start the tap's session: {e}"));
        }
    };
    let tap = Arc::new(Tap {
        uuid: uuid.clone(),
        remote: session.remote(&uuid, &args.server),
        told,
        stopped: AtomicBool::new(false),
        stream: Mutex::new(Stream {
            session: Some(session),
            rate,
            mixer: TapMixer::new(direction, rate),
            whisper: args.options.whisper.then(Whisper::default),
            to_tap: [None, None],
            from_tap: None,
            converted: Vec::new(),
            whispered: Vec::new(),
            stereo: direction == TapDirection::Stereo,
        }),
        hook: OnceLock::new(),
    });
    match audiohook::attach(chan, SOURCE, tap.clone()) {
        Ok(hook) => {
            let _ = tap.hook.set(hook);
        }
        Err(AttachFailed) => {
            // The session's end (and AudioSocketTapEnd) follows.
            tap.stop("the tapped channel hung up before the tap started");
            return Err(format!("{name}: the channel is hanging up; no tap started"));
        }
    }
    ast_log!(
        Level::Verbose(3),
        "{name}: AudioSocket tap {uuid} started: {} to {}{}",
        match direction {
            TapDirection::In => "what the channel's party says",
            TapDirection::Out => "what the channel's party hears",
            TapDirection::Both => "both directions, mixed",
            TapDirection::Stereo => "both directions, in stereo",
        },
        args.server,
        if args.options.whisper {
            ", whispering back"
        } else {
            ""
        }
    );
    Ok(tap)
}

/// Before the module's code goes: takes every ended tap's audiohook and
/// the taps' datastore off every channel (unload refuses while a tap is
/// live, so none is). Returns how many channels had taps.
pub fn release_all() -> usize {
    TAPS.take_from_all_channels(|chan, taps| {
        for tap in &lock(&taps.0).taps {
            if let Some(hook) = tap.hook.get() {
                hook.remove(chan);
            }
        }
    })
}

/// The channel's tap with `uuid`, the latest if several ran.
fn find(chan: Channel<'_>, uuid: &str) -> Option<Arc<Tap>> {
    let taps = TAPS.get(chan)?;
    let list = lock(&taps.0);
    list.taps.iter().rev().find(|t| t.uuid == uuid).cloned()
}

pub struct TapFunction;

impl DialplanFunction for TapFunction {
    const NAME: &'static CStr = c"AUDIOSOCKET_TAP";
    const SYNOPSIS: &'static CStr =
        c"Stream a live call the module does not own to an AudioSocket server.";
    const SYNTAX: &'static CStr = c"AUDIOSOCKET_TAP(uuid)";
    const DESCRIPTION: &'static CStr = c"On the channel to tap:

Set(AUDIOSOCKET_TAP(uuid)=host:port[,options]) starts a tap: the server gets
the UUID message, then the channel's audio as 20 ms frames, while the call
goes on (Dial, Queue, bridges, transfers). The dialplan continues at once.
A second tap with a UUID already active on the channel is refused, and so
is a ninth live tap on one channel.
Set(AUDIOSOCKET_TAP(uuid)=) stops it: the server gets the hangup message,
then the connection closes. AMI Setvar, ARI's channel variables and CLI
'dialplan set chanvar' reach the function the same way.

${AUDIOSOCKET_TAP(uuid)} reads CONNECTING, then ACTIVE while it streams
(RESUMING while it looks for a server after losing its own), then how it
ended (the words of AUDIOSOCKET_STATUS: SERVER_HANGUP,
CHANNEL_HANGUP for a tap stopped or whose channel hung up, CONNECT_FAILED,
...); empty for a UUID the channel never tapped.

Options:
  d(in)       What the channel's party says (frames read from the channel).
  d(out)      What the party hears (frames written to the channel).
  d(both)     Both, mixed into one mono stream (the default).
  d(stereo)   Both, time-aligned, as one two-channel stream of kind 0x25
              (16-bit little-endian samples interleaved, left = in, right =
              out).
  c(codec)    The rate: slin (8 kHz, the default) ... slin192.
  t(seconds)  Connect timeout (default 2).
  s, s(name)  TLS to the server, as for AudioSocket().
  m, m(V1^V2) Call context (0x23) to the server, with \"direction\".
  v(N1^P*)    The variables the server may set on the tapped channel
              (0x24): names, and patterns with *. Without it a tap's
              server sets nothing.
  w           Whisper: audio the server sends is mixed into what the party
              hears, at real-time pace, while frames are written to the
              channel. Without w, the server's audio is read and dropped.
  r(0)        Never resume. Without it a tap whose server is lost connects
              again (same UUID; with m the context says resumed and
              gap_ms) within resume_time (5 s), unless resume_taps = no;
              r(seconds) sets that time for this tap.

A tap ends when its channel hangs up, when it is stopped, or when its server
hangs up, fails or cannot be reached (or, lost, cannot be resumed); the call
itself is never touched. Each
end is logged once and sent as the AMI event AudioSocketTapEnd.";

    fn read(chan: Option<Channel<'_>>, arg: &str) -> Result<String, String> {
        let chan = chan.ok_or("needs a channel")?;
        let uuid = parse_tap_uuid(arg).map_err(|e| format!("{}: {e}", chan.name()))?;
        Ok(find(chan, &uuid.to_string()).map_or(String::new(), |t| t.status().to_string()))
    }

    fn write(chan: Option<Channel<'_>>, arg: &str, value: &str) -> Result<(), String> {
        let chan = chan.ok_or("needs a channel")?;
        if !value.trim().is_empty() {
            return start(chan, arg, value);
        }
        let uuid = parse_tap_uuid(arg).map_err(|e| format!("{}: {e}", chan.name()))?;
        match find(chan, &uuid.to_string()) {
            Some(tap) if tap.live() => {
                tap.stop("stopped");
                Ok(())
            }
            Some(_) => Ok(()),
            None => Err(format!("{}: no tap with UUID {uuid}", chan.name())),
        }
    }
}
