//! AMI events as sessions start and end, so call-centre tooling can follow
//! AudioSocket sessions: `AudioSocketSessionStart` and `AudioSocketSessionEnd`
//! (for a live tap `AudioSocketTapStart` and `AudioSocketTapEnd`, with its
//! `Direction`); and as marks are played and the queue runs dry:
//! `AudioSocketMark` and `AudioSocketQueueDrained`.

use std::time::Instant;

use crate::asterisk::channel::Channel;
use crate::asterisk::manager::event;
use crate::call::args::CallArgs;
use crate::call::outcome::Outcome;
use crate::protocol::Rate;
use crate::session::{Mark, StatsSnapshot, TapDirection};

/// What the end event needs to remember from the start.
pub struct Started {
    at: Instant,
    /// A tap's events are AudioSocketTap*, a call's AudioSocketSession*.
    tap: bool,
    fields: Vec<(&'static str, String)>,
}

pub fn started(chan: Channel<'_>, args: &CallArgs, rate: Rate) -> Started {
    start(chan, args, rate, None)
}

/// A live tap started on `chan`, streaming `direction`.
pub fn tap_started(
    chan: Channel<'_>,
    args: &CallArgs,
    rate: Rate,
    direction: TapDirection,
) -> Started {
    start(chan, args, rate, Some(direction))
}

fn start(chan: Channel<'_>, args: &CallArgs, rate: Rate, tap: Option<TapDirection>) -> Started {
    let mut fields = vec![
        ("Channel", chan.name()),
        ("Uniqueid", chan.uniqueid()),
        ("UUID", args.uuid.to_string()),
        ("Server", args.server.to_string()),
        ("Rate", rate.hz().to_string()),
    ];
    if let Some(direction) = tap {
        fields.push(("Direction", direction.name().to_string()));
    }
    let name = if tap.is_some() {
        "AudioSocketTapStart"
    } else {
        "AudioSocketSessionStart"
    };
    event(name, &fields);
    Started {
        at: Instant::now(),
        tap: tap.is_some(),
        fields,
    }
}

/// The session's first fields (Channel, Uniqueid, UUID), which every
/// event of the session carries.
fn ids(started: &Started) -> Vec<(&'static str, String)> {
    started.fields[..3].to_vec()
}

/// The audio before `mark` has been played.
pub fn mark_played(started: &Started, mark: &Mark) {
    let mut fields = ids(started);
    fields.extend([
        ("Mark", mark.id_text()),
        (
            "Source",
            if mark.from_dialplan {
                "dialplan"
            } else {
                "server"
            }
            .to_string(),
        ),
    ]);
    event("AudioSocketMark", &fields);
}

/// Nothing is left to play, as `AUDIOSOCKET(report_drained)` asked.
pub fn drained(started: &Started) {
    event("AudioSocketQueueDrained", &ids(started));
}

pub fn ended(started: &Started, outcome: &Outcome, stats: StatsSnapshot) {
    let mut fields = started.fields.clone();
    fields.extend([
        ("Status", outcome.status.name().to_string()),
        ("ErrorCode", outcome.error_code.clone().unwrap_or_default()),
        ("Reason", outcome.reason.clone()),
        ("DurationMs", started.at.elapsed().as_millis().to_string()),
        ("FramesUp", stats.frames_up.to_string()),
        ("FramesDown", stats.frames_down.to_string()),
        ("BytesUp", stats.bytes_up.to_string()),
        ("BytesDown", stats.bytes_down.to_string()),
        ("DroppedUp", stats.dropped_up.to_string()),
        ("DroppedLate", stats.dropped_down.to_string()),
        ("DroppedDTMF", stats.dropped_dtmf.to_string()),
        ("DroppedMarks", stats.dropped_marks.to_string()),
        ("ProtocolErrors", stats.protocol_errors.to_string()),
    ]);
    let name = if started.tap {
        "AudioSocketTapEnd"
    } else {
        "AudioSocketSessionEnd"
    };
    event(name, &fields);
}
