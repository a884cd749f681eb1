//! Every I/O thread the module started, so that unloading can wait for them:
//! Asterisk must not unmap the module while one of its threads still runs.
//! Started with pthread_create, not std::thread::spawn (see `locks.rs`).

use std::ffi::c_void;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::locks::lock;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static THREADS: Mutex<Vec<libc::pthread_t>> = Mutex::new(Vec::new());

/// Says whether one thread has finished its work.
#[derive(Clone, Default)]
pub(crate) struct Finished(Arc<AtomicBool>);

impl Finished {
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn get(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

struct Start {
    body: Box<dyn FnOnce() + Send + 'static>,
    finished: Finished,
}

extern "C" fn trampoline(arg: *mut c_void) -> *mut c_void {
    // SAFETY: arg is the Box<Start> leaked by spawn for this thread alone.
    let start = unsafe { Box::from_raw(arg as *mut Start) };
    let Start { body, finished } = *start;
    // A panic must not unwind out of an extern "C" function.
    let _ = catch_unwind(AssertUnwindSafe(body));
    finished.0.store(true, Ordering::Release);
    LIVE.fetch_sub(1, Ordering::AcqRel);
    // Threads that finished before this one give their stacks back now,
    // not when the next call starts. Never waiting for the lock: `unload`
    // may hold it while it joins this very thread.
    if let Ok(mut threads) = THREADS.try_lock() {
        reap(&mut threads);
    }
    std::ptr::null_mut()
}

/// Starts a registered thread named `name` (cut to the kernel's 15 bytes).
pub(crate) fn spawn(name: &str, body: impl FnOnce() + Send + 'static) -> io::Result<Finished> {
    let finished = Finished::default();
    let start = Box::new(Start {
        body: Box::new(body),
        finished: finished.clone(),
    });
    let arg = Box::into_raw(start) as *mut c_void;
    LIVE.fetch_add(1, Ordering::AcqRel);
    let mut threads = lock(&THREADS);
    reap(&mut threads);
    // SAFETY: pthread_attr_t and pthread_t are plain data initialised by
    // the calls below before use.
    let mut attr: libc::pthread_attr_t = unsafe { std::mem::zeroed() };
    let mut tid: libc::pthread_t = 0;
    // SAFETY: attr is valid for init/setstacksize/destroy; trampoline has
    // the signature pthread expects and takes ownership of arg.
    let rc = unsafe {
        libc::pthread_attr_init(&mut attr);
        libc::pthread_attr_setstacksize(&mut attr, 256 * 1024);
        let rc = libc::pthread_create(&mut tid, &attr, trampoline, arg);
        libc::pthread_attr_destroy(&mut attr);
        rc
    };
    if rc != 0 {
        LIVE.fetch_sub(1, Ordering::AcqRel);
        // SAFETY: the thread was not created, so arg is still ours alone.
        drop(unsafe { Box::from_raw(arg as *mut Start) });
        return Err(io::Error::from_raw_os_error(rc));
    }
    let mut short = name.as_bytes().to_vec();
    short.truncate(15);
    short.retain(|b| *b != 0);
    short.push(0);
    // SAFETY: tid is a live thread we created; short is NUL-terminated.
    unsafe { libc::pthread_setname_np(tid, short.as_ptr().cast()) };
    threads.push(tid);
    Ok(finished)
}

/// Joins threads that have finished, so their handles and stacks do not
/// pile up.
fn reap(threads: &mut Vec<libc::pthread_t>) {
    // SAFETY: pthread_self has no preconditions.
    let me = unsafe { libc::pthread_self() };
    threads.retain(|tid| {
        // SAFETY: both are thread ids; a thread never joins itself.
        if unsafe { libc::pthread_equal(*tid, me) } != 0 {
            return true;
        }
        // SAFETY: tid is a joinable thread we created and have not joined;
        // a non-blocking join either reaps it (0) or leaves it (EBUSY).
        let rc = unsafe { libc::pthread_tryjoin_np(*tid, std::ptr::null_mut()) };
        rc != 0
    });
}

/// Threads started and not joined yet, finished or not.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn unjoined() -> usize {
    lock(&THREADS).len()
}

/// Threads that have not finished their work yet.
pub fn live() -> usize {
    LIVE.load(Ordering::Acquire)
}

/// When no thread is live, joins them all (so none is still returning
/// through module code) and returns true; otherwise returns false at once.
pub fn join_all_if_idle() -> bool {
    let mut threads = lock(&THREADS);
    if live() > 0 {
        return false;
    }
    for tid in threads.drain(..) {
        // SAFETY: tid is a joinable thread we created and have not joined;
        // it has finished its body, so the join returns promptly.
        unsafe { libc::pthread_join(tid, std::ptr::null_mut()) };
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// However many threads finish, their stacks are given back as they
    /// do: only the last few can be waiting to be joined.
    #[test]
    fn finished_threads_are_joined_as_others_finish() {
        for _ in 0..40 {
            spawn("reap-test", || {
                std::thread::sleep(std::time::Duration::from_millis(2))
            })
            .unwrap();
        }
        let t0 = std::time::Instant::now();
        while live() > 0 && t0.elapsed() < std::time::Duration::from_secs(5) {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        // Other tests' sessions run alongside: count the threads that
        // finished and wait to be joined.
        let waiting = (0..20)
            .map(|_| {
                std::thread::sleep(std::time::Duration::from_millis(10));
                unjoined().saturating_sub(live())
            })
            .min()
            .unwrap();
        assert!(waiting <= 2, "{waiting} finished threads not joined");
    }
}
