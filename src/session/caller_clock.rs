//! The caller's own frames as the clock for playout.
//!
//! A phone sends a frame every 20 ms (or 30) whatever the server does, and
//! the channel thread wakes for each. When the caller's frames arrive that
//! regularly, the channel thread plays the server's queued audio at those
//! wake-ups and neither the I/O thread nor a timer need wake it in
//! between: playout costs no wake-up of its own, and a frame waits at most
//! one caller period (20 ms, which no listener hears).
//!
//! Frames that only answer ours (an `Echo()`, a far end that loops audio
//! back) cannot clock anything: waiting for them would wait for ever. Their
//! timing alone looks like a phone's whose frames happen to come just after
//! the server's, so the clock is tried, and what happens tells: when the
//! caller's frame failed to come while a frame waited for it, and then came
//! right after that frame was played, the caller answers us. The clock is
//! then left alone for a while (the I/O thread wakes the channel thread as
//! soon as audio arrives), and tried again after.

use std::time::{Duration, Instant};

/// How far apart two caller periods may be and still count as regular (a
/// loaded machine wakes threads a few milliseconds late).
const JITTER: Duration = Duration::from_millis(6);
/// The periods a caller's frames may have (10 to 60 ms).
const SHORTEST: Duration = Duration::from_millis(10);
const LONGEST: Duration = Duration::from_millis(60);
/// Regular intervals in a row before the clock is trusted.
const TRUSTED_AFTER: u8 = 4;
/// A caller frame this soon after one of our plays answers it.
const ANSWER: Duration = Duration::from_millis(4);
/// How long a caller found to answer us is not used as a clock.
const ANSWERING_FOR: Duration = Duration::from_secs(2);
/// How long after the caller's expected frame the channel thread looks by
/// itself (a late frame; or none, and the clock stops being trusted).
pub(crate) const MARGIN: Duration = Duration::from_millis(8);

#[derive(Default)]
pub(crate) struct CallerClock {
    last: Option<Instant>,
    period: Option<Duration>,
    /// Regular intervals in a row (capped).
    regular: u8,
    last_play: Option<Instant>,
    /// A frame was played since the caller's last frame.
    played_since: bool,
    /// The caller's frame failed to come when expected.
    missed: bool,
    /// Until when the caller is known to answer our frames.
    answering_until: Option<Instant>,
}

impl CallerClock {
    /// A caller frame arrived at `now`.
    pub fn caller_frame(&mut self, now: Instant) {
        if let Some(last) = self.last {
            let interval = now.saturating_duration_since(last);
            let steady = (SHORTEST..=LONGEST).contains(&interval)
                && self
                    .period
                    .is_some_and(|p| p.max(interval) - p.min(interval) <= JITTER);
            self.regular = if steady {
                self.regular.saturating_add(1).min(TRUSTED_AFTER)
            } else {
                0
            };
            self.period = Some(interval);
        }
        let answered = self
            .last_play
            .is_some_and(|p| self.played_since && now.saturating_duration_since(p) < ANSWER);
        if self.missed && answered {
            self.answering_until = Some(now + ANSWERING_FOR);
        }
        self.missed = false;
        self.last = Some(now);
        self.played_since = false;
    }

    /// We played a frame at `now`.
    pub fn played(&mut self, now: Instant) {
        self.last_play = Some(now);
        self.played_since = true;
    }

    /// When the caller's next frame is due, if its frames are regular and
    /// do not answer ours. `None` too once it is overdue: then it is noted
    /// as missed (see the module's comment).
    pub fn next_frame(&mut self, now: Instant) -> Option<Instant> {
        if self.regular < TRUSTED_AFTER || self.answering_until.is_some_and(|u| now < u) {
            return None;
        }
        let next = self.last? + self.period?;
        if next + MARGIN > now {
            Some(next)
        } else {
            self.missed = true;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Duration = Duration::from_millis(20);

    #[test]
    fn a_phone_is_trusted_after_a_few_regular_frames() {
        let t0 = Instant::now();
        let mut c = CallerClock::default();
        // The first interval sets the period; TRUSTED_AFTER more confirm it.
        let frames = TRUSTED_AFTER as u32 + 2;
        let at = |i: u32| t0 + P * i + Duration::from_micros(300 * (i % 3) as u64);
        for i in 0..frames {
            assert_eq!(c.next_frame(at(i)), None, "frame {i}");
            c.caller_frame(at(i));
        }
        let last = at(frames - 1);
        let next = c.next_frame(last).expect("trusted");
        let ahead = next - last;
        assert!(ahead.abs_diff(P) <= JITTER, "{ahead:?}");
    }

    #[test]
    fn a_missed_frame_or_an_irregular_caller_stops_the_clock() {
        let t0 = Instant::now();
        let mut c = CallerClock::default();
        for i in 0..8 {
            c.caller_frame(t0 + P * i);
        }
        assert!(c.next_frame(t0 + P * 7).is_some());
        // Overdue by the margin: no longer a time to wait for.
        assert_eq!(c.next_frame(t0 + P * 8 + MARGIN), None);
        // A long silence, then frames again: trusted only after a few.
        c.caller_frame(t0 + P * 20);
        assert_eq!(c.next_frame(t0 + P * 20), None);
    }

    /// A phone whose frames come just after the server's stays a clock; an
    /// echo, which stops when we wait for it, does not.
    #[test]
    fn an_echo_is_told_from_a_phone_by_waiting_for_it() {
        let t0 = Instant::now();
        let mut phone = CallerClock::default();
        for i in 0..20 {
            phone.played(t0 + P * i);
            phone.caller_frame(t0 + P * i + Duration::from_micros(1400));
        }
        assert!(phone
            .next_frame(t0 + P * 19 + Duration::from_millis(2))
            .is_some());

        let mut echo = CallerClock::default();
        let mut now = t0;
        for _ in 0..8 {
            echo.played(now);
            now += Duration::from_micros(400);
            echo.caller_frame(now);
            now += P - Duration::from_micros(400);
        }
        // Clocked now: the next frame waits for the echo, which never comes.
        let expected = echo.next_frame(now).expect("tried as a clock");
        let gave_up = expected + MARGIN;
        assert_eq!(echo.next_frame(gave_up), None);
        echo.played(gave_up);
        echo.caller_frame(gave_up + Duration::from_micros(400));
        assert_eq!(
            echo.next_frame(gave_up + Duration::from_millis(1)),
            None,
            "an echo"
        );
        // Tried again later.
        let later = gave_up + ANSWERING_FOR + Duration::from_millis(1);
        for i in 0..6 {
            echo.caller_frame(later + P * i);
        }
        assert!(echo.next_frame(later + P * 5).is_some());
    }
}
