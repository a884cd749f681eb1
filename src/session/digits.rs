//! A server's DTMF digits, played one after another at a real digit's
//! pace (the digit, then a gap), however fast the server sends them: a
//! server that floods `0x03` makes no flood of digits (RTP events, tones,
//! AMI events and log lines), and what does not fit the short queue is
//! dropped and counted. And a token bucket for what a server may do only
//! so often: marks (each an AMI event and a message back) and variables
//! set on the channel.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How long a server's digit lasts on the channel.
pub const DIGIT: Duration = Duration::from_millis(100);
/// The silence between two digits.
pub const DIGIT_GAP: Duration = Duration::from_millis(50);
/// Digits that may wait their turn; more are dropped.
pub const MAX_WAITING_DIGITS: usize = 32;

#[derive(Default)]
pub(crate) struct Digits {
    waiting: VecDeque<u8>,
    /// When the next digit may start.
    free_at: Option<Instant>,
}

impl Digits {
    /// Queues `digit`; false (dropped) when too many wait.
    pub fn push(&mut self, digit: u8) -> bool {
        if self.waiting.len() >= MAX_WAITING_DIGITS {
            return false;
        }
        self.waiting.push_back(digit);
        true
    }

    /// The next digit, when its turn has come.
    pub fn take(&mut self, now: Instant) -> Option<u8> {
        if self.free_at.is_some_and(|t| now < t) {
            return None;
        }
        let d = self.waiting.pop_front()?;
        self.free_at = Some(now + DIGIT + DIGIT_GAP);
        Some(d)
    }

    /// When a waiting digit's turn comes, if one waits.
    pub fn due(&self) -> Option<Instant> {
        (!self.waiting.is_empty()).then(|| self.free_at.unwrap_or_else(Instant::now))
    }
}

/// Mark events a call may emit a second, and at once.
pub const MARKS_PER_SECOND: u32 = 50;

/// A token bucket: so many a second on average, in bursts of so many.
pub(crate) struct Budget {
    per_second: f64,
    burst: f64,
    tokens: f64,
    last: Option<Instant>,
}

impl Budget {
    pub fn new(per_second: u32, burst: u32) -> Budget {
        Budget {
            per_second: f64::from(per_second),
            burst: f64::from(burst),
            tokens: f64::from(burst),
            last: None,
        }
    }

    /// Marks: [`MARKS_PER_SECOND`] a second, as many at once.
    pub fn marks() -> Budget {
        Budget::new(MARKS_PER_SECOND, MARKS_PER_SECOND)
    }

    /// Whether one more may go now.
    pub fn take(&mut self, now: Instant) -> bool {
        if let Some(last) = self.last {
            let refill = now.saturating_duration_since(last).as_secs_f64() * self.per_second;
            self.tokens = (self.tokens + refill).min(self.burst);
        }
        self.last = Some(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_take_turns_at_a_digits_pace_and_too_many_are_dropped() {
        let t0 = Instant::now();
        let mut d = Digits::default();
        for i in 0..40u8 {
            assert_eq!(d.push(b'0' + i % 10), i < MAX_WAITING_DIGITS as u8);
        }
        assert_eq!(d.take(t0), Some(b'0'));
        assert_eq!(d.take(t0 + DIGIT), None, "the gap follows the digit");
        assert_eq!(d.due(), Some(t0 + DIGIT + DIGIT_GAP));
        assert_eq!(d.take(t0 + DIGIT + DIGIT_GAP), Some(b'1'));
        let mut at = t0 + DIGIT + DIGIT_GAP;
        let mut taken = 2;
        while let Some(due) = d.due() {
            at = at.max(due);
            assert!(d.take(at).is_some());
            taken += 1;
        }
        assert_eq!(taken, MAX_WAITING_DIGITS);
        // 32 digits take 32 turns: under seven a second.
        assert_eq!(
            at - t0,
            (DIGIT + DIGIT_GAP) * (MAX_WAITING_DIGITS as u32 - 1)
        );
    }

    #[test]
    fn marks_are_bounded_per_second_with_a_burst_allowed() {
        let t0 = Instant::now();
        let mut b = Budget::marks();
        let at_once = (0..200).filter(|_| b.take(t0)).count();
        assert_eq!(at_once, MARKS_PER_SECOND as usize);
        let second_later = (0..200)
            .filter(|_| b.take(t0 + Duration::from_secs(1)))
            .count();
        assert_eq!(second_later, MARKS_PER_SECOND as usize);
        // A mark every 20 ms (one a frame) is never refused.
        let mut b = Budget::marks();
        assert!((0..500u32).all(|i| b.take(t0 + Duration::from_millis(20) * i)));
    }
}
