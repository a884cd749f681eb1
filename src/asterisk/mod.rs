//! The Asterisk boundary: the raw bindings (private to this folder) and the
//! thin safe wrappers that the application and channel driver use instead.

pub mod application;
pub mod audiohook;
pub mod channel;
pub mod cli;
pub mod config;
pub mod datastore;
pub mod format;
pub mod frame;
pub mod function;
pub mod guard;
pub mod holdings;
pub mod logger;
pub mod manager;
pub mod module;
mod strings;
mod sys;
pub mod tech;
pub mod translate;

/// Hangup causes (Q.850) the features report.
pub mod cause {
    use super::sys;
    pub const NORMAL_CLEARING: i32 = sys::AST_CAUSE_NORMAL_CLEARING as i32;
    pub const FAILURE: i32 = sys::AST_CAUSE_FAILURE as i32;
    pub const DESTINATION_OUT_OF_ORDER: i32 = sys::AST_CAUSE_DESTINATION_OUT_OF_ORDER as i32;
    pub const INVALID_NUMBER_FORMAT: i32 = sys::AST_CAUSE_INVALID_NUMBER_FORMAT as i32;
}
