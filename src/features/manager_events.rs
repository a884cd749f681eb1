//! AMI events as sessions start and end, so call-centre tooling can follow
//! AudioSocket sessions: `AudioSocketSessionStart` and `AudioSocketSessionEnd`
//! (for a live tap `AudioSocketTapStart` and `AudioSocketTapEnd`, with its
//! `Direction`); as marks are played and the queue runs dry:
//! `AudioSocketMark` and `AudioSocketQueueDrained`; and at each step of a
//! resume (option `r`): `AudioSocketResume`.

use std::sync::Arc;
use std::time::Instant;

use crate::asterisk::channel::Channel;
use crate::asterisk::manager::event;
use crate::call::args::CallArgs;
use crate::call::outcome::Outcome;
use crate::protocol::Rate;
use crate::session::{Mark, ResumeListener, ResumeStep, StatsSnapshot, TapDirection};

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
        ("Resumes", stats.resumes.to_string()),
    ]);
    let name = if started.tap {
        "AudioSocketTapEnd"
    } else {
        "AudioSocketSessionEnd"
    };
    event(name, &fields);
}

/// `AudioSocketResume` at each step of `chan`'s resumes, from the
/// session's I/O thread: `Result` is `Lost` (or `Left`: the server asked
/// to be left), then `Failed` per failed attempt, then `Resumed` or
/// `GaveUp`.
pub fn resume_listener(chan: Channel<'_>, args: &CallArgs) -> ResumeListener {
    let ids = vec![
        ("Channel", chan.name()),
        ("Uniqueid", chan.uniqueid()),
        ("UUID", args.uuid.to_string()),
        ("Server", args.server.to_string()),
    ];
    ResumeListener(Arc::new(move |step: &ResumeStep| {
        let mut fields = ids.clone();
        let ms = |d: std::time::Duration| d.as_millis().to_string();
        match step {
            ResumeStep::Lost { why, asked } => fields.extend([
                ("Result", if *asked { "Left" } else { "Lost" }.to_string()),
                ("Reason", why.clone()),
            ]),
            ResumeStep::Failed { attempt, why } => fields.extend([
                ("Result", "Failed".to_string()),
                ("Attempt", attempt.to_string()),
                ("Reason", why.clone()),
            ]),
            ResumeStep::Resumed {
                attempt,
                resumes,
                gap,
                peer,
            } => fields.extend([
                ("Result", "Resumed".to_string()),
                ("Attempt", attempt.to_string()),
                ("Address", peer.to_string()),
                ("GapMs", ms(*gap)),
                ("Resumes", resumes.to_string()),
            ]),
            ResumeStep::GaveUp { attempts, gap } => fields.extend([
                ("Result", "GaveUp".to_string()),
                ("Attempt", attempts.to_string()),
                ("GapMs", ms(*gap)),
            ]),
        }
        event("AudioSocketResume", &fields);
    }))
}
