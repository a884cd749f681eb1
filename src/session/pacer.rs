//! When the next playout frame is due. Frames leave at real-time pace; after
//! an underrun (nothing to play) the clock restarts, so a paced server's
//! audio is played the moment it arrives and the buffer adds no latency.

use std::time::{Duration, Instant};

/// How late the channel thread may be before the schedule restarts instead
/// of catching up with a quick run of frames.
const SLACK: Duration = Duration::from_millis(60);

#[derive(Default)]
pub(crate) struct Pacer {
    next: Option<Instant>,
}

impl Pacer {
    /// `None` when a frame may play now, else the instant it may.
    pub fn wait_until(&self, now: Instant) -> Option<Instant> {
        self.next.filter(|n| *n > now)
    }

    /// Records that a frame of `length` played at `now`.
    pub fn played(&mut self, now: Instant, length: Duration) {
        let start = match self.next {
            Some(n) if n + SLACK >= now => n,
            _ => now,
        };
        self.next = Some(start + length);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: Duration = Duration::from_millis(20);

    #[test]
    fn a_burst_plays_one_frame_per_frame_time() {
        let t0 = Instant::now();
        let mut p = Pacer::default();
        let mut now = t0;
        let mut played = Vec::new();
        // 50 frames queued at once; the channel thread wakes whenever told.
        for _ in 0..50 {
            if let Some(at) = p.wait_until(now) {
                now = at;
            }
            played.push(now - t0);
            p.played(now, F);
        }
        for (i, at) in played.iter().enumerate() {
            assert_eq!(*at, F * i as u32);
        }
    }

    #[test]
    fn after_an_underrun_a_frame_plays_at_once() {
        let t0 = Instant::now();
        let mut p = Pacer::default();
        p.played(t0, F);
        let later = t0 + Duration::from_millis(500);
        assert_eq!(p.wait_until(later), None);
        p.played(later, F);
        assert_eq!(p.wait_until(later), Some(later + F));
    }

    #[test]
    fn a_slightly_late_wakeup_keeps_the_cadence() {
        let t0 = Instant::now();
        let mut p = Pacer::default();
        p.played(t0, F);
        let late = t0 + Duration::from_millis(25);
        assert_eq!(p.wait_until(late), None);
        p.played(late, F);
        assert_eq!(p.wait_until(late), Some(t0 + 2 * F));
    }
}
