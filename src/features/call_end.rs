//! What the application and the channel driver tell the dialplan when a
//! session ends, and the tally of how calls ended.

use crate::asterisk::channel::Channel;
use crate::call::outcome::{self, Status};
use crate::session::EndReason;

/// Set on the channel: how the AudioSocket session ended.
pub const STATUS_VAR: &str = "AUDIOSOCKET_STATUS";
/// Set on the channel when the server's error message carried a code.
pub const ERROR_CODE_VAR: &str = "AUDIOSOCKET_ERROR_CODE";

/// Sets `AUDIOSOCKET_STATUS` and `AUDIOSOCKET_ERROR_CODE` for how the
/// session ended, and counts it.
pub fn set_end_variables(chan: Channel<'_>, end: &EndReason) {
    set_status(chan, Status::of(end));
    chan.set_var(ERROR_CODE_VAR, end.error_code().as_deref().unwrap_or(""));
}

/// Sets `AUDIOSOCKET_STATUS` alone (the arguments were wrong: no session).
pub fn set_status(chan: Channel<'_>, status: Status) {
    outcome::record(status);
    chan.set_var(STATUS_VAR, status.name());
}
