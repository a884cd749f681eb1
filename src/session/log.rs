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

/// Where the session writes what it has to say. The I/O thread logs through
/// it too, so an implementation must be callable from any thread.
pub trait Log: Send + Sync {
    fn log(&self, level: Level, file: &'static str, line: u32, func: &'static str, msg: &str);
}

/// `slog!(logger, Level::Warning, "format {}", args)`: logs with this call's
/// file, line and module.
#[macro_export]
macro_rules! slog {
    ($log:expr, $level:expr, $($arg:tt)+) => {
        $log.log($level, file!(), line!(), module_path!(), &format!($($arg)+))
    };
}
