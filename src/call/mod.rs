//! What the application and the channel driver share, in pure Rust: the
//! dialplan's arguments, the settings of audiosocket.conf, how a call's end
//! is told, and the text of the CLI commands.

pub mod args;
pub mod cli_text;
pub mod outcome;
pub mod settings;
pub mod tls_settings;
