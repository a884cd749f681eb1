//! What the application and the channel driver tell the dialplan and the log
//! when a session ends.

/// Set on the channel: how the AudioSocket session ended.
pub const STATUS_VAR: &str = "AUDIOSOCKET_STATUS";
/// Set on the channel when the server's error message carried a code.
pub const ERROR_CODE_VAR: &str = "AUDIOSOCKET_ERROR_CODE";
/// `AUDIOSOCKET_STATUS` when the dialplan arguments were wrong.
pub const INVALID_ARGUMENTS: &str = "INVALID_ARGUMENTS";
