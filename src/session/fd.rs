//! The two kinds of file descriptor a session waits on: an eventfd that one
//! thread signals to wake the other, and a timerfd that paces playout.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Reads and discards whatever count the descriptor holds; true if it held one.
fn drain(fd: RawFd) -> bool {
    let mut buf = [0u8; 8];
    // SAFETY: fd is an open non-blocking eventfd or timerfd owned by the
    // caller, and buf is a valid 8-byte buffer, the size both kinds return.
    unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) == 8 }
}

/// A non-blocking eventfd: `signal` makes it readable until `drain`.
pub(crate) struct EventFd(OwnedFd);

impl EventFd {
    pub fn new() -> io::Result<EventFd> {
        // SAFETY: eventfd has no pointer arguments; a non-negative result is
        // a new descriptor that nothing else owns.
        let fd = check(unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) })?;
        // SAFETY: fd was just returned by eventfd and is owned by no one else.
        Ok(EventFd(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    pub fn signal(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a valid u64 to our own open eventfd.
        // A full counter (EAGAIN) already means "readable", so the result
        // needs no handling.
        unsafe { libc::write(self.0.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }

    pub fn drain(&self) {
        drain(self.0.as_raw_fd());
    }
}

impl AsRawFd for EventFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

/// An eventfd that is written at most once per wake-up, however many
/// messages the waker posts before the sleeper looks: the sleeper calls
/// [`Waker::clear`] and then looks at its queue.
pub(crate) struct Waker {
    fd: EventFd,
    pending: std::sync::atomic::AtomicBool,
}

impl Waker {
    pub fn new() -> io::Result<Waker> {
        Ok(Waker {
            fd: EventFd::new()?,
            pending: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Makes the descriptor readable, unless it already is.
    pub fn wake(&self) {
        if !self.pending.swap(true, std::sync::atomic::Ordering::AcqRel) {
            self.fd.signal();
        }
    }

    /// Consumes a wake-up, if there is one; look at the queue after this.
    ///
    /// Always drains, then drops the flag. Draining only when the flag was
    /// set loses wake-ups both ways: a `wake` between the flag test and the
    /// drain has its write erased (the flag stays set, so no later `wake`
    /// writes again), and a write landing after the flag dropped leaves a
    /// readable descriptor nobody drains (the sleeper spins). Here a `wake`
    /// that finds the flag still set does not write, and what it announced
    /// is found when the sleeper then looks at its queue (the swap makes the
    /// waker's queue push visible); any later write stays until the next
    /// clear drains it.
    pub fn clear(&self) {
        self.fd.drain();
        self.pending
            .swap(false, std::sync::atomic::Ordering::AcqRel);
    }
}

impl AsRawFd for Waker {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// A non-blocking monotonic timerfd, armed for one expiry at a time.
pub(crate) struct TimerFd(OwnedFd);

impl TimerFd {
    pub fn new() -> io::Result<TimerFd> {
        // SAFETY: timerfd_create has no pointer arguments; a non-negative
        // result is a new descriptor that nothing else owns.
        let fd = check(unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        })?;
        // SAFETY: fd was just returned by timerfd_create and is owned by no one else.
        Ok(TimerFd(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    fn set(&self, after: Option<Duration>) {
        let value = match after {
            // A zero it_value disarms, so "now" is one nanosecond.
            Some(d) => libc::timespec {
                tv_sec: d.as_secs() as libc::time_t,
                tv_nsec: d.subsec_nanos().max(u32::from(d.as_secs() == 0)) as libc::c_long,
            },
            None => libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
        };
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: value,
        };
        // SAFETY: spec is a valid itimerspec, the old-value pointer may be
        // null, and the descriptor is our own open timerfd.
        unsafe { libc::timerfd_settime(self.0.as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
    }

    /// Expire once, `after` from now; re-arming replaces the previous expiry.
    pub fn arm(&self, after: Duration) {
        self.set(Some(after));
    }

    pub fn disarm(&self) {
        self.set(None);
    }

    /// Consumes an expiry; true if the timer had expired.
    pub fn drain(&self) -> bool {
        drain(self.0.as_raw_fd())
    }
}

impl AsRawFd for TimerFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

/// A timeout in the milliseconds poll(2) and Asterisk's waits take: -1
/// (forever) for None, else rounded up, so a wait never ends just before
/// what it waits for.
pub fn wait_ms(timeout: Option<Duration>) -> i32 {
    timeout.map_or(-1, |d| {
        d.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32
    })
}

/// poll(2) on a few descriptors; `timeout` None waits forever. Returns the
/// revents of each, in order. EINTR counts as "nothing ready".
pub(crate) fn poll(fds: &mut [libc::pollfd], timeout: Option<Duration>) -> io::Result<()> {
    let ms = wait_ms(timeout);
    // SAFETY: fds is a valid mutable slice of pollfd for the whole call and
    // its length is passed alongside.
    let ret = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    if ret < 0 {
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
        for f in fds.iter_mut() {
            f.revents = 0;
        }
    }
    Ok(())
}

pub(crate) fn pollfd(fd: RawFd, events: libc::c_short) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Instant;

    /// A producer posts messages and wakes; the sleeper polls, clears and
    /// drains. Every message must arrive without the sleeper ever waiting
    /// out its poll with messages left unannounced.
    #[test]
    fn no_wake_up_is_lost() {
        const N: usize = 300_000;
        let waker = Arc::new(Waker::new().unwrap());
        let (tx, rx) = crossbeam_channel::unbounded::<usize>();
        let w = waker.clone();
        let producer = std::thread::spawn(move || {
            for i in 0..N {
                tx.send(i).unwrap();
                w.wake();
                if i % 64 == 0 {
                    std::thread::yield_now();
                }
            }
        });
        let mut got = 0;
        let t0 = Instant::now();
        while got < N {
            let mut fds = [pollfd(waker.as_raw_fd(), libc::POLLIN)];
            poll(&mut fds, Some(Duration::from_secs(2))).unwrap();
            if fds[0].revents == 0 {
                // Timed out: fine only if nothing is waiting.
                assert!(
                    rx.is_empty(),
                    "a wake-up was lost with {} messages waiting",
                    rx.len()
                );
            }
            waker.clear();
            while rx.try_recv().is_ok() {
                got += 1;
            }
            assert!(t0.elapsed() < Duration::from_secs(60));
        }
        producer.join().unwrap();
    }
}
