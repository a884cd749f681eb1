//! What the caller hears while a call's stream resumes on another server
//! (`resume_hold`): silence, sent as audio so the line does not look dead,
//! or music on hold.

use crate::asterisk::channel::{Channel, Silence};
use crate::asterisk::logger::{ast_log, Level};
use crate::call::resume_settings::HoldSound;

/// Started when the server is lost, stopped when the stream resumes or
/// the call ends; the application's channel thread owns it.
#[derive(Default)]
pub struct Hold(Option<Playing>);

enum Playing {
    Moh,
    Silence(Silence),
}

impl Hold {
    pub fn start(&mut self, chan: Channel<'_>, sound: &HoldSound) {
        if self.0.is_some() {
            return;
        }
        if let HoldSound::Moh(class) = sound {
            if chan.start_moh(class) {
                self.0 = Some(Playing::Moh);
                return;
            }
            ast_log!(
                Level::Warning,
                "{}: no music on hold{} for the AudioSocket resume (is res_musiconhold \
                 loaded?); the caller hears silence",
                chan.name(),
                if class.is_empty() {
                    String::new()
                } else {
                    format!(" class '{class}'")
                }
            );
        }
        self.0 = chan.start_silence().map(Playing::Silence);
    }

    pub fn stop(&mut self, chan: Channel<'_>) {
        match self.0.take() {
            Some(Playing::Moh) => chan.stop_moh(),
            Some(Playing::Silence(s)) => chan.stop_silence(s),
            None => {}
        }
    }
}
