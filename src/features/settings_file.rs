//! Reading `audiosocket.conf` from Asterisk's configuration folder at load
//! and on `module reload`, and the settings in force.

use std::sync::Mutex;

use crate::asterisk::logger::{ast_log, Level};
use crate::asterisk::paths::config_dir;
use crate::call::settings::{parse, Settings, FILE_NAME};
use crate::locks::lock;

static CURRENT: Mutex<Option<Settings>> = Mutex::new(None);

/// The settings new calls use.
pub fn current() -> Settings {
    lock(&CURRENT).clone().unwrap_or_default()
}

/// Reads the file. Missing: the defaults. Bad: every problem is logged and
/// the settings in force stay. Returns false only for a bad file.
pub fn load() -> bool {
    let path = config_dir().join(FILE_NAME);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            ast_log!(
                Level::Verbose(3),
                "chan_audiosocket_rs: no {}; using the defaults",
                path.display()
            );
            *lock(&CURRENT) = Some(Settings::default());
            return true;
        }
        Err(e) => {
            ast_log!(
                Level::Error,
                "chan_audiosocket_rs: cannot read {}: {e}; settings unchanged",
                path.display()
            );
            return false;
        }
    };
    match parse(&text) {
        Ok(s) => {
            ast_log!(
                Level::Verbose(3),
                "chan_audiosocket_rs: settings from {}: {s:?}",
                path.display()
            );
            *lock(&CURRENT) = Some(s);
            true
        }
        Err(errors) => {
            for e in &errors {
                ast_log!(Level::Error, "chan_audiosocket_rs: {}: {e}", path.display());
            }
            ast_log!(
                Level::Error,
                "chan_audiosocket_rs: {} has {} error(s); the previous settings stay in force",
                path.display(),
                errors.len()
            );
            false
        }
    }
}
