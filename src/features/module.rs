//! The module's entry points: what `module load`, `reload` and `unload` do.

use std::ffi::CStr;
use std::time::Duration;

use super::application::AudioSocketApp;
use super::channel_driver::AudioSocketTech;
use super::cli_commands::{ShowSession, ShowSessions, ShowStats};
use super::dialplan_function::AudioSocketFunction;
use super::settings_file;
use super::tap::{self, TapFunction};
use super::version::{c_text, version};
use crate::asterisk::application::{self, Application};
use crate::asterisk::cli as ast_cli;
use crate::asterisk::function;
use crate::asterisk::guard;
use crate::asterisk::holdings;
use crate::asterisk::logger::{ast_log, Level};
use crate::asterisk::module::asterisk_module;
use crate::asterisk::tech::{self, Technology};
use crate::session::{census, threads};

// `module show` prints 40 characters of it.
const DESCRIPTION: &CStr = c_text!("AudioSocket app & driver ", version!());

asterisk_module!(
    name: c"chan_audiosocket_rs",
    description: DESCRIPTION,
    load: load,
    reload: reload,
    unload: unload,
);

fn load() -> bool {
    let app_taken = application::exists(AudioSocketApp::NAME);
    let tech_taken = tech::exists(AudioSocketTech::TYPE);
    if app_taken || tech_taken {
        ast_log!(
            Level::Error,
            "chan_audiosocket_rs: the AudioSocket {} already registered, most likely by Asterisk's \
             built-in modules; add 'noload => app_audiosocket.so' and 'noload => chan_audiosocket.so' \
             to modules.conf (or unload them) and load chan_audiosocket_rs.so again",
            match (app_taken, tech_taken) {
                (true, true) => "application and channel type are",
                (true, false) => "application is",
                _ => "channel type is",
            }
        );
        return false;
    }
    // A bad file is logged; the defaults apply until it is fixed and reloaded.
    settings_file::load(false);
    if !tech::register::<AudioSocketTech>() {
        ast_log!(
            Level::Error,
            "chan_audiosocket_rs: cannot register the AudioSocket channel type"
        );
        return false;
    }
    if !register_the_rest() {
        unregister_all();
        tech::release();
        return false;
    }
    ast_log!(
        Level::Verbose(1),
        "chan_audiosocket_rs {} loaded: AudioSocket(), AudioSocket/, AUDIOSOCKET() and \
         AUDIOSOCKET_TAP()",
        version!()
    );
    true
}

/// Everything but the channel technology (which `unload` keeps, in case it
/// must register it again); false when the application cannot be.
fn register_the_rest() -> bool {
    if !application::register::<AudioSocketApp>() {
        ast_log!(
            Level::Error,
            "chan_audiosocket_rs: cannot register the AudioSocket application"
        );
        return false;
    }
    let commands = vec![
        ast_cli::entry::<ShowSessions>(),
        ast_cli::entry::<ShowSession>(),
        ast_cli::entry::<ShowStats>(),
    ];
    if !ast_cli::register(commands) {
        // The calls still work; only the commands are missing.
        ast_log!(
            Level::Warning,
            "chan_audiosocket_rs: cannot register the audiosocket CLI commands"
        );
    }
    for (registered, name) in [
        (function::register::<AudioSocketFunction>(), "AUDIOSOCKET()"),
        (function::register::<TapFunction>(), "AUDIOSOCKET_TAP()"),
    ] {
        if !registered {
            ast_log!(
                Level::Warning,
                "chan_audiosocket_rs: cannot register the {name} dialplan function"
            );
        }
    }
    true
}

fn unregister_all() {
    ast_cli::unregister();
    function::unregister_all();
    application::unregister::<AudioSocketApp>();
    tech::unregister();
}

/// `module reload`: re-reads audiosocket.conf; a bad file keeps the settings.
fn reload() -> bool {
    settings_file::load(true)
}

/// Nothing new can start once the module's names are gone; then whatever
/// still runs (a call, a tap, a callback that began just before) makes the
/// unload fail, the names come back, and Asterisk keeps the module. Ended
/// taps leave their audiohooks and datastore on channels that are still up:
/// the module takes those back itself. Whatever else still points into the
/// module's code (a channel of its technology, or a channel hanging up
/// right now with a tap's remains) refuses the unload too, even a forced
/// one, naming it. It never waits for a call to end.
fn unload() -> bool {
    unregister_all();
    // Let a callback that looked the application up an instant before
    // reach the module's counters.
    std::thread::sleep(Duration::from_millis(5));
    let (sessions, threads, busy) = (census::live(), threads::live(), guard::busy());
    if sessions > 0 || threads > 0 || busy > 0 {
        ast_log!(
            Level::Warning,
            "chan_audiosocket_rs: {sessions} AudioSocket session(s) (calls and taps) still \
             running; not unloading"
        );
        return refused();
    }
    let released = tap::release_all();
    if released > 0 {
        ast_log!(
            Level::Verbose(3),
            "chan_audiosocket_rs: took the ended taps off {released} channel(s)"
        );
    }
    let held = holdings::remaining();
    if !held.is_empty() {
        ast_log!(
            Level::Warning,
            "chan_audiosocket_rs: not unloading: the module's code is still used by {}",
            held.join(", ")
        );
        return refused();
    }
    // Every thread has finished its work: joining them (so none is still
    // returning through the module's code when Asterisk unmaps it) takes
    // no time.
    threads::join_all_if_idle();
    tech::release();
    true
}

/// Gives the names back after a refused unload; false (refused).
fn refused() -> bool {
    if !tech::register_again() || !register_the_rest() {
        ast_log!(
            Level::Error,
            "chan_audiosocket_rs: could not register the AudioSocket names again after a \
             refused unload; load the module again once its calls have ended"
        );
    }
    false
}
