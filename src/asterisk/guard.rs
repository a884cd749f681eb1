//! The one guard every callback from Asterisk runs under: a panic in Rust
//! must never unwind into C. It is caught, logged with what was running, and
//! the callback returns the failure value its contract asks for.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::logger::{ast_log, Level};
use crate::logging::panic_text;

/// Callbacks running now, the module's own load and unload aside: what
/// `unload` must not pull the module from under.
static BUSY: AtomicUsize = AtomicUsize::new(0);

/// How many of Asterisk's calls into the module are running now.
pub fn busy() -> usize {
    BUSY.load(Ordering::Acquire)
}

struct Busy;

impl Busy {
    fn enter() -> Busy {
        BUSY.fetch_add(1, Ordering::AcqRel);
        Busy
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        BUSY.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Runs `body`; on panic logs "`what`: ..." and returns `failure`.
pub fn guard<R>(what: impl FnOnce() -> String, failure: R, body: impl FnOnce() -> R) -> R {
    let _busy = Busy::enter();
    guard_uncounted(what, failure, body)
}

/// [`guard`] for the module's own entry points (load, reload, unload),
/// which `busy` does not count.
pub fn guard_uncounted<R>(
    what: impl FnOnce() -> String,
    failure: R,
    body: impl FnOnce() -> R,
) -> R {
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
