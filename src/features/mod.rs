//! On top of the Asterisk boundary: the `AudioSocket()` application, the
//! `AudioSocket/` channel driver, the live tap `AUDIOSOCKET_TAP()`, and
//! what they show Asterisk (how a call
//! ended, CLI commands, AMI events, the settings file), with the module's
//! entry points. Written in safe Rust only.

mod application;
mod call_context;
mod call_end;
mod channel_driver;
mod cli_commands;
mod dialplan_function;
mod hold;
mod manager_events;
mod module;
mod settings_file;
mod tap;
mod version;

/// Asterisk's signed linear format at `rate` (all nine rates exist in the
/// Asterisk versions this module loads in).
fn slin(rate: crate::protocol::Rate) -> Option<crate::asterisk::format::Format> {
    crate::asterisk::format::Format::slin(rate.hz())
}
