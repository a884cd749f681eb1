//! Reading `audiosocket.conf` at load and on `module reload` (through
//! Asterisk's parser), and the settings in force.

use std::sync::Mutex;

use crate::asterisk::config::{self, Loaded};
use crate::asterisk::logger::{ast_log, Level};
use crate::call::config_file::{Entry, Section};
use crate::call::settings::{from_sections, Settings, FILE_NAME};
use crate::locks::lock;

static CURRENT: Mutex<Option<Settings>> = Mutex::new(None);

/// The settings new calls use.
pub fn current() -> Settings {
    lock(&CURRENT).clone().unwrap_or_default()
}

/// Reads the file (on a reload, only if it changed). Missing: the
/// defaults. Bad: every problem is logged and the settings in force stay.
/// Returns false only for a bad file.
pub fn load(reload: bool) -> bool {
    // TLS profiles name files of their own (certificates renewed in place):
    // with profiles in force, a reload reads everything again.
    let only_if_changed = reload && !current().tls.has_profiles();
    let categories = match config::load(FILE_NAME, only_if_changed) {
        Loaded::File(c) => c,
        Loaded::Unchanged => {
            ast_log!(
                Level::Verbose(3),
                "chan_audiosocket_rs: {FILE_NAME} unchanged; settings kept"
            );
            return true;
        }
        Loaded::Missing => {
            ast_log!(
                Level::Verbose(3),
                "chan_audiosocket_rs: no {FILE_NAME}; using the defaults"
            );
            *lock(&CURRENT) = Some(Settings::default());
            return true;
        }
        Loaded::Invalid => {
            ast_log!(
                Level::Error,
                "chan_audiosocket_rs: {FILE_NAME} cannot be parsed; the previous settings stay in force"
            );
            return false;
        }
    };
    let sections: Vec<Section> = categories
        .into_iter()
        .map(|c| Section {
            name: c.name,
            entries: c
                .variables
                .into_iter()
                .map(|v| Entry {
                    name: v.name,
                    value: v.value,
                    line: v.line,
                })
                .collect(),
        })
        .collect();
    match from_sections(&sections) {
        Ok(s) => {
            ast_log!(
                Level::Verbose(3),
                "chan_audiosocket_rs: settings from {FILE_NAME}: {s:?}"
            );
            for warning in s.tls.warnings() {
                ast_log!(
                    Level::Warning,
                    "chan_audiosocket_rs: {FILE_NAME}: {warning}"
                );
            }
            *lock(&CURRENT) = Some(s);
            true
        }
        Err(errors) => {
            for e in &errors {
                ast_log!(Level::Error, "chan_audiosocket_rs: {FILE_NAME}: {e}");
            }
            ast_log!(
                Level::Error,
                "chan_audiosocket_rs: {FILE_NAME} has {} error(s); the previous settings stay in force",
                errors.len()
            );
            false
        }
    }
}
