//! The module's one way to take a lock.
//!
//! Every lock here is std's futex mutex, and threads are started with
//! pthread_create (see `session::threads`), never with parking_lot or
//! `std::thread::spawn`: both keep thread-local state with a destructor on
//! the *calling* thread. Called from an Asterisk thread, that destructor,
//! which lives in this module, makes glibc keep the module mapped after
//! `module unload`, and the next `module load` then fails because the
//! module never registers again.

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, recovering from poisoning: a panic is caught at the boundary
/// and ends one call, so the data behind every lock in this module is kept
/// consistent by plain assignments and must stay usable for the others.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
