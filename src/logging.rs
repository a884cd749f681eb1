//! The words every layer logs with: a level, a sink, and the `slog!` macro.
//! The pure layers (protocol, session) write through a [`Log`] they are
//! handed; the Asterisk boundary implements it with Asterisk's logger.

use std::any::Any;
use std::borrow::Cow;

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

/// `s` with its control characters escaped (`\n`, `\r`, `\t`, `\x1b`
/// ...), so that text from the dialplan or a server (a host name, a dial
/// string, a channel name) cannot forge a second log line or steer a
/// terminal.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_nothing_else() {
        assert!(matches!(
            escape_controls("PJSIP/alice-0001"),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            escape_controls("bad host\r\n[Dec  2] NOTICE: forged\t\x1b[31m\0Ünal"),
            "bad host\\r\\n[Dec  2] NOTICE: forged\\t\\x1b[31m\\x00Ünal"
        );
    }
}
