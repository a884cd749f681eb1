//! When the next playout frame is due. Frames leave at real-time pace; after
//! an underrun (nothing to play) the clock restarts, so a paced server's
//! audio is played the moment it arrives and the buffer adds no latency.
//!
//! Each frame has a slot on the schedule. It may play up to one frame
//! before its slot when the channel thread is awake anyway (for the
//! caller's own frame, say): that saves the thread a wake-up per frame, and
//! since the schedule itself does not move, the pace over time stays exact
//! and the audio is never more than a frame ahead.

use std::time::{Duration, Instant};

/// How late the channel thread may be before the schedule restarts instead
/// of catching up with a quick run of frames.
const SLACK: Duration = Duration::from_millis(60);

/// How far before its slot a frame may play.
const EARLY: Duration = Duration::from_millis(20);

/// A paced server's clock may run 1 / FOLLOW faster than real time and
/// still be followed (1 %: real clocks differ by tens of ppm).
const FOLLOW: u32 = 100;

#[derive(Default)]
pub(crate) struct Pacer {
    next: Option<Instant>,
}

impl Pacer {
    /// `None` when a frame may play now, else the instant it may.
    pub fn wait_until(&self, now: Instant) -> Option<Instant> {
        self.next
            .and_then(|n| n.checked_sub(EARLY))
            .filter(|at| *at > now)
    }

    /// While the audio played so far still sounds: when it ends.
    pub fn busy_until(&self, now: Instant) -> Option<Instant> {
        self.next.filter(|n| *n > now)
    }

    /// Records that a frame of `length` played at `now`; `alone` when
    /// nothing waited behind it (it came as the audio before it ended, as a
    /// paced server's frames do): then the schedule may move back by up to
    /// [`FOLLOW`] of the frame towards now, so that it follows a paced
    /// server whose clock runs that much faster than real time instead of
    /// falling behind it, and the server's frames never wait. A burst
    /// (frames waiting behind this one) keeps the schedule as it is.
    pub fn played(&mut self, now: Instant, length: Duration, alone: bool) {
        let start = match self.next {
            Some(n) if n + SLACK >= now => n,
            _ => now,
        };
        let start = if alone && start > now {
            now.max(start - length / FOLLOW)
        } else {
            start
        };
        self.next = Some(start + length);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: Duration = Duration::from_millis(20);

    #[test]
    fn a_burst_plays_one_frame_per_frame_time_at_most_one_ahead() {
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
            p.played(now, F, false);
        }
        assert_eq!(played[0], Duration::ZERO);
        for (i, at) in played.iter().enumerate().skip(1) {
            assert_eq!(*at, F * (i as u32 - 1));
        }
    }

    #[test]
    fn an_early_play_keeps_the_schedule() {
        let t0 = Instant::now();
        let mut p = Pacer::default();
        p.played(t0, F, false);
        // Awake 5 ms into the frame: the next one may go now...
        let early = t0 + Duration::from_millis(5);
        assert_eq!(p.wait_until(early), None);
        p.played(early, F, false);
        // ...but the one after waits for its own slot's frame before.
        assert_eq!(p.wait_until(early), Some(t0 + F));
    }

    #[test]
    fn after_an_underrun_a_frame_plays_at_once() {
        let t0 = Instant::now();
        let mut p = Pacer::default();
        p.played(t0, F, false);
        let later = t0 + Duration::from_millis(500);
        assert_eq!(p.wait_until(later), None);
        p.played(later, F, false);
        assert_eq!(p.wait_until(later), None);
        p.played(later, F, false);
        assert_eq!(p.wait_until(later), Some(later + F));
    }

    #[test]
    fn the_audio_played_so_far_ends_on_its_schedule() {
        let t0 = Instant::now();
        let mut p = Pacer::default();
        assert_eq!(p.busy_until(t0), None);
        p.played(t0, F, false);
        p.played(t0, F, false);
        assert_eq!(p.busy_until(t0 + F), Some(t0 + 2 * F));
        assert_eq!(p.busy_until(t0 + 2 * F), None);
    }

    /// A server whose clock runs 0.5 % fast, each frame alone in the
    /// queue: played as it comes for a whole hour, never waiting.
    #[test]
    fn a_paced_server_slightly_fast_is_followed_and_never_waits() {
        let t0 = Instant::now();
        let mut p = Pacer::default();
        let period = F * 995 / 1000;
        for i in 0..180_000u32 {
            let now = t0 + period * i;
            assert_eq!(p.wait_until(now), None, "frame {i} waited");
            p.played(now, F, true);
        }
        // A burst gets no such leeway: it plays at real time.
        let now = t0 + period * 180_000;
        for _ in 0..5 {
            p.played(now, F, false);
        }
        assert!(p.wait_until(now).is_some());
    }

    /// Frames trickled much faster than real time, each alone, are still
    /// paced: following a clock does not mean following a burst.
    #[test]
    fn a_trickled_burst_is_still_paced() {
        let t0 = Instant::now();
        let mut p = Pacer::default();
        let mut now = t0;
        let mut played = 0;
        while now < t0 + Duration::from_secs(1) {
            if p.wait_until(now).is_none() {
                p.played(now, F, true);
                played += 1;
            }
            now += Duration::from_millis(1);
        }
        assert!((50..=52).contains(&played), "{played} frames in a second");
    }

    #[test]
    fn a_slightly_late_wakeup_keeps_the_cadence() {
        let t0 = Instant::now();
        let mut p = Pacer::default();
        p.played(t0, F, false);
        let late = t0 + Duration::from_millis(25);
        assert_eq!(p.wait_until(late), None);
        p.played(late, F, false);
        // The schedule holds: what played so far ends at t0 + 2F.
        assert_eq!(p.busy_until(late), Some(t0 + 2 * F));
    }
}
