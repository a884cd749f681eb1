//! The one guard every callback from Asterisk runs under: a panic in Rust
//! must never unwind into C. It is caught, logged with what was running, and
//! the callback returns the failure value its contract asks for.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::logger::{ast_log, Level};
use crate::logging::panic_text;

/// Runs `body`; on panic logs "`what`: ..." and returns `failure`.
pub fn guard<R>(what: impl FnOnce() -> String, failure: R, body: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(r) => r,
        Err(payload) => {
            let text = panic_text(&*payload).to_string();
            // Logging itself must not unwind either.
            let _ = catch_unwind(AssertUnwindSafe(|| {
                ast_log!(
                    Level::Error,
                    "{}: internal error in chan_audiosocket_rs ({text}); ending this call only",
                    what()
                )
            }));
            failure
        }
    }
}
