//! What the application, the channel driver and the live tap share, in
//! pure Rust: the dialplan's arguments, the settings of audiosocket.conf,
//! the call's context for the server, how a call's end is told, and the
//! text of the CLI commands and of the application's help.

pub mod app_help;
pub mod args;
pub mod cli_text;
pub mod config_file;
pub mod context;
pub mod outcome;
pub mod resume_settings;
pub mod settings;
pub mod tls_settings;
pub mod websocket_settings;
