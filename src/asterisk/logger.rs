//! Asterisk's logger, called with the real file, line and function, and the
//! message always passed as data behind a fixed format, its control
//! characters escaped (one line a message, whatever the text in it). A message at a
//! verbosity or debug level nobody listens to is never formatted.

use std::ffi::CString;

use super::sys;
pub use crate::logging::Level;
use crate::logging::{escape_controls, Log};

fn c_text(s: &str) -> CString {
    CString::new(escape_controls(s).into_owned()).unwrap_or_default()
}

/// Whether a message at `level` would reach any console or log file.
pub fn enabled(level: Level) -> bool {
    match level {
        Level::Error | Level::Warning | Level::Notice => true,
        // SAFETY: both read the logger's current levels; no arguments to check.
        Level::Verbose(v) => unsafe { sys::ars_verb_enabled(v.into()) != 0 },
        // SAFETY: as above.
        Level::Debug(d) => unsafe { sys::ars_debug_enabled(d.into()) != 0 },
    }
}

/// Writes one log line. Callable from any thread.
pub fn log(level: Level, file: &str, line: u32, func: &str, msg: &str) {
    let (file, func, msg) = (c_text(file), c_text(func), c_text(msg));
    let (file, line, func, msg) = (file.as_ptr(), line as i32, func.as_ptr(), msg.as_ptr());
    let at = |l: u32| l as i32;
    // SAFETY: all three strings are valid NUL-terminated C strings that live
    // across the call; the shim passes msg to Asterisk behind a "%s" format.
    unsafe {
        match level {
            Level::Error => sys::ars_log(at(sys::__LOG_ERROR), file, line, func, msg),
            Level::Warning => sys::ars_log(at(sys::__LOG_WARNING), file, line, func, msg),
            Level::Notice => sys::ars_log(at(sys::__LOG_NOTICE), file, line, func, msg),
            Level::Verbose(v) => sys::ars_verb(v.into(), file, line, func, msg),
            Level::Debug(_) => sys::ars_log(at(sys::__LOG_DEBUG), file, line, func, msg),
        }
    }
}

/// The pure layers' log sink, backed by Asterisk's logger.
pub struct AsteriskLog;

impl Log for AsteriskLog {
    fn enabled(&self, level: Level) -> bool {
        enabled(level)
    }

    fn log(&self, level: Level, file: &'static str, line: u32, func: &'static str, msg: &str) {
        log(level, file, line, func, msg);
    }
}

/// `ast_log!(Level::Error, "...", args)` from module code.
macro_rules! ast_log {
    ($level:expr, $($arg:tt)+) => {{
        let level = $level;
        if $crate::asterisk::logger::enabled(level) {
            $crate::asterisk::logger::log(level, file!(), line!(), module_path!(), &format!($($arg)+));
        }
    }};
}
pub(crate) use ast_log;
