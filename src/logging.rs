//! The words every layer logs with: a level, a sink, and the `slog!` macro.
//! The pure layers (protocol, session) write through a [`Log`] they are
//! handed; the Asterisk boundary implements it with Asterisk's logger.

use std::any::Any;

/// How loud a message is; mapped onto Asterisk's logger at the boundary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Notice,
    /// `ast_verb` at this verbosity.
    Verbose(u8),
    /// `ast_debug` at this debug level.
    Debug(u8),
}

/// Where a layer writes what it has to say. The I/O thread logs through it
/// too, so an implementation must be callable from any thread.
pub trait Log: Send + Sync {
    /// Whether a message at `level` would go anywhere; `slog!` asks first,
    /// so a message nobody listens to is never formatted.
    fn enabled(&self, _level: Level) -> bool {
        true
    }

    fn log(&self, level: Level, file: &'static str, line: u32, func: &'static str, msg: &str);
}

/// `slog!(logger, Level::Warning, "format {}", args)`: logs with this call's
/// file, line and module, formatting only when someone listens.
#[macro_export]
macro_rules! slog {
    ($log:expr, $level:expr, $($arg:tt)+) => {{
        let (log, level) = (&$log, $level);
        if log.enabled(level) {
            log.log(level, file!(), line!(), module_path!(), &format!($($arg)+));
        }
    }};
}

/// What a caught panic said, for the log line that reports it.
pub fn panic_text(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "unknown panic"
    }
}
