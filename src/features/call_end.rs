//! Where the application and the channel driver tell how a call ended:
//! the channel variables, the log line, the AMI end event and the tally,
//! all from the one [`Outcome`] the call layer decides.

use super::manager_events::{self, Started};
use crate::asterisk::channel::Channel;
use crate::asterisk::logger::ast_log;
use crate::call::outcome::{self, Outcome, Status};
use crate::session::{EndReason, ServerAddr, StatsSnapshot};

/// Set on the channel: how the AudioSocket session ended.
pub const STATUS_VAR: &str = "AUDIOSOCKET_STATUS";
/// Set on the channel when the server's error message carried a code.
pub const ERROR_CODE_VAR: &str = "AUDIOSOCKET_ERROR_CODE";
/// Set on the channel: how many times the stream resumed (option `r`).
pub const RESUMES_VAR: &str = "AUDIOSOCKET_RESUMES";

/// Tells everyone how `chan`'s session with `server` ended; `started` is
/// the AMI start event's record, with the session's counters.
pub fn tell(
    chan: Channel<'_>,
    server: &ServerAddr,
    end: &EndReason,
    started: Option<(&Started, StatsSnapshot)>,
) -> Outcome {
    let outcome = Outcome::of(end);
    set_status(chan, outcome.status);
    chan.set_var(ERROR_CODE_VAR, outcome.error_code.as_deref().unwrap_or(""));
    ast_log!(outcome.level, "{}", outcome.log_line(&chan.name(), server));
    if let Some((started, stats)) = started {
        chan.set_var(RESUMES_VAR, &stats.resumes.to_string());
        manager_events::ended(started, &outcome, stats);
    }
    outcome
}

/// Sets `AUDIOSOCKET_STATUS` and counts it (alone: the arguments were
/// wrong, so there was no session).
pub fn set_status(chan: Channel<'_>, status: Status) {
    outcome::record(status);
    chan.set_var(STATUS_VAR, status.name());
}
