//! Asterisk's logger, called with the real file, line and function, and the
//! message always passed as data behind a fixed format.

use std::ffi::CString;

use super::sys;
use crate::session::{Level, Log};

fn c_text(s: &str) -> CString {
    CString::new(s.replace('\0', "\\0")).unwrap_or_default()
}

/// Writes one log line. Callable from any thread.
pub fn log(level: Level, file: &str, line: u32, func: &str, msg: &str) {
    let (file, func, msg) = (c_text(file), c_text(func), c_text(msg));
    let line = line as i32;
    // SAFETY: all three strings are valid NUL-terminated C strings that live
    // across the call; the shim passes msg to ast_log behind a "%s" format.
    unsafe {
        match level {
            Level::Error => sys::ars_log(
                sys::__LOG_ERROR as i32,
                file.as_ptr(),
                line,
                func.as_ptr(),
                msg.as_ptr(),
            ),
            Level::Warning => sys::ars_log(
                sys::__LOG_WARNING as i32,
                file.as_ptr(),
                line,
                func.as_ptr(),
                msg.as_ptr(),
            ),
            Level::Notice => sys::ars_log(
                sys::__LOG_NOTICE as i32,
                file.as_ptr(),
                line,
                func.as_ptr(),
                msg.as_ptr(),
            ),
            Level::Verbose(v) => {
                sys::ars_verb(v.into(), file.as_ptr(), line, func.as_ptr(), msg.as_ptr())
            }
            Level::Debug(d) => {
                sys::ars_debug(d.into(), file.as_ptr(), line, func.as_ptr(), msg.as_ptr())
            }
        }
    }
}

/// The session layer's log sink, backed by Asterisk's logger.
pub struct AsteriskLog;

impl Log for AsteriskLog {
    fn log(&self, level: Level, file: &'static str, line: u32, func: &'static str, msg: &str) {
        log(level, file, line, func, msg);
    }
}

/// `ast_log!(Level::Error, "...", args)` from module code.
macro_rules! ast_log {
    ($level:expr, $($arg:tt)+) => {
        $crate::asterisk::logger::log($level, file!(), line!(), module_path!(), &format!($($arg)+))
    };
}
pub(crate) use ast_log;
