//! The module's entry points: what `module load` and `module unload` do.

use super::application::AudioSocketApp;
use super::channel_driver::AudioSocketTech;
use super::cli_commands::{ShowSession, ShowSessions, ShowStats};
use super::dialplan_function::AudioSocketFunction;
use super::settings_file;
use super::tap::TapFunction;
use crate::asterisk::application::{self, Application};
use crate::asterisk::cli as ast_cli;
use crate::asterisk::function;
use crate::asterisk::logger::{ast_log, Level};
use crate::asterisk::module::asterisk_module;
use crate::asterisk::tech::{self, Technology};
use crate::session::threads;

asterisk_module!(
    name: c"chan_audiosocket_rs",
    description: c"AudioSocket application & channel driver",
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
    if !application::register::<AudioSocketApp>() {
        ast_log!(
            Level::Error,
            "chan_audiosocket_rs: cannot register the AudioSocket application"
        );
        return false;
    }
    if !tech::register::<AudioSocketTech>() {
        application::unregister::<AudioSocketApp>();
        ast_log!(
            Level::Error,
            "chan_audiosocket_rs: cannot register the AudioSocket channel type"
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
    if !function::register::<AudioSocketFunction>() {
        // The calls still work; only Asterisk's side of barge-in is missing.
        ast_log!(
            Level::Warning,
            "chan_audiosocket_rs: cannot register the AUDIOSOCKET() dialplan function"
        );
    }
    if !function::register::<TapFunction>() {
        ast_log!(
            Level::Warning,
            "chan_audiosocket_rs: cannot register the AUDIOSOCKET_TAP() dialplan function"
        );
    }
    true
}

/// `module reload`: re-reads audiosocket.conf; a bad file keeps the settings.
fn reload() -> bool {
    settings_file::load(true)
}

fn unload() -> bool {
    let live = threads::live();
    if live > 0 {
        ast_log!(
            Level::Warning,
            "chan_audiosocket_rs: {live} AudioSocket session(s) still running; not unloading"
        );
        return false;
    }
    ast_cli::unregister();
    function::unregister_all();
    application::unregister::<AudioSocketApp>();
    tech::unregister();
    // Every I/O thread has finished its work; join them so none is still
    // returning through this module's code when Asterisk unmaps it.
    while !threads::join_all_if_idle() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    true
}
