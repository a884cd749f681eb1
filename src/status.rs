//! What the application and the channel driver tell the dialplan and the log
//! when a session ends.

use crate::asterisk::channel::Channel;
use crate::session::EndReason;

/// Set on the channel: how the AudioSocket session ended.
pub const STATUS_VAR: &str = "AUDIOSOCKET_STATUS";
/// Set on the channel when the server's error message carried a code.
pub const ERROR_CODE_VAR: &str = "AUDIOSOCKET_ERROR_CODE";
/// `AUDIOSOCKET_STATUS` when the dialplan arguments were wrong.
pub const INVALID_ARGUMENTS: &str = "INVALID_ARGUMENTS";

/// Sets `AUDIOSOCKET_STATUS` and `AUDIOSOCKET_ERROR_CODE` for how the session ended.
pub fn set_end_variables(chan: Channel, end: &EndReason) {
    chan.set_var(STATUS_VAR, end.status());
    chan.set_var(ERROR_CODE_VAR, end.error_code().as_deref().unwrap_or(""));
}
