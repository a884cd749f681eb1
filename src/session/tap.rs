//! A live tap's audio: what a channel's party says and hears, aligned in
//! time and turned into the 20 ms frames the tap's server gets, and the
//! server's whisper mixed into what the party hears.
//!
//! The channel hands each frame over as it passes (read: what its party
//! says; written: what it hears), on whatever thread moves the channel's
//! audio. The two directions come at their own times, so the mixer keeps
//! a little of each and pairs them up: a frame goes out when both sides
//! have one; or when one side has one and the other has gone quiet (no
//! frame for [`QUIET`]: silence suppression, a one-way stream, a call not
//! yet bridged); or when one side runs [`MAX_LEAD`] ahead of the other
//! (two clocks that drift apart), in which case the other side gets
//! silence for that frame and the two line up again. So the sides stay
//! within about a frame of each other and nothing either side said is
//! lost.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::events::Event;
use super::handle::Session;
use super::session_config::TapDirection;
use crate::protocol::Rate;

/// Which way a frame passed the channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Read from the channel: its party speaking.
    In,
    /// Written to the channel: what its party hears.
    Out,
}

/// A side that has sent nothing for this long is quiet: the other side's
/// frames go out without waiting for it.
const QUIET: Duration = Duration::from_millis(40);
/// Frames one side may hold beyond the other before the other is given
/// silence to line up.
const MAX_LEAD: usize = 3;
/// Frames a side may hold at most (a bound on memory; never reached while
/// the rules above hold).
const MAX_HELD: usize = 10;

#[derive(Default)]
struct Held {
    samples: VecDeque<i16>,
    last: Option<Instant>,
}

impl Held {
    /// Quiet since `QUIET`: since its last frame, or since the tap's first
    /// frame for a side that has sent none yet.
    fn quiet(&self, first: Instant, now: Instant) -> bool {
        now.saturating_duration_since(self.last.unwrap_or(first)) >= QUIET
    }

    /// Up to `n` samples, oldest first, into `out` (the rest stays zero).
    fn take(&mut self, n: usize, out: &mut [i16]) {
        let n = n.min(self.samples.len());
        for (o, s) in out.iter_mut().zip(self.samples.drain(..n)) {
            *o = s;
        }
    }
}

/// Turns the frames that pass a channel into the tap's 20 ms frames.
pub struct TapMixer {
    direction: TapDirection,
    frame: usize,
    sides: [Held; 2],
    /// When the first frame passed.
    first: Option<Instant>,
    left: Vec<i16>,
    right: Vec<i16>,
    out: Vec<u8>,
}

impl TapMixer {
    pub fn new(direction: TapDirection, rate: Rate) -> TapMixer {
        let frame = rate.frame_samples();
        TapMixer {
            direction,
            frame,
            sides: [Held::default(), Held::default()],
            first: None,
            left: vec![0; frame],
            right: vec![0; frame],
            out: Vec::with_capacity(frame * 4),
        }
    }

    fn wants(&self, side: Side) -> bool {
        !matches!(
            (self.direction, side),
            (TapDirection::In, Side::Out) | (TapDirection::Out, Side::In)
        )
    }

    /// A frame of little-endian samples at the tap's rate passed the
    /// channel on `side` at `now`; `emit` gets each frame now complete
    /// (mono, or interleaved left = in, right = out for stereo).
    pub fn push(&mut self, side: Side, pcm: &[u8], now: Instant, mut emit: impl FnMut(&[u8])) {
        if !self.wants(side) {
            return;
        }
        self.first.get_or_insert(now);
        let held = &mut self.sides[side as usize];
        held.samples.extend(
            pcm.chunks_exact(2)
                .map(|s| i16::from_le_bytes([s[0], s[1]])),
        );
        held.last = Some(now);
        let max = self.frame * MAX_HELD;
        if held.samples.len() > max {
            let excess = held.samples.len() - max;
            held.samples.drain(..excess);
        }
        while let Some(frame) = self.next_frame(now) {
            emit(frame);
        }
    }

    fn next_frame(&mut self, now: Instant) -> Option<&[u8]> {
        let f = self.frame;
        let first = self.first.unwrap_or(now);
        let [read, written] = &self.sides;
        let (has_in, has_out) = (read.samples.len() >= f, written.samples.len() >= f);
        let ready = match self.direction {
            TapDirection::In => has_in,
            TapDirection::Out => has_out,
            TapDirection::Both | TapDirection::Stereo => {
                let lead = |held: &Held| held.samples.len() >= f * MAX_LEAD;
                let in_ready = has_in && (has_out || written.quiet(first, now) || lead(read));
                let out_ready = has_out && (read.quiet(first, now) || lead(written));
                in_ready || out_ready
            }
        };
        if !ready {
            return None;
        }
        self.left.iter_mut().for_each(|s| *s = 0);
        self.right.iter_mut().for_each(|s| *s = 0);
        // A side short of a frame gives what it has, then silence.
        if self.direction != TapDirection::Out {
            self.sides[0].take(f, &mut self.left);
        }
        if self.direction != TapDirection::In {
            self.sides[1].take(f, &mut self.right);
        }
        self.out.clear();
        match self.direction {
            TapDirection::In => extend_le(&mut self.out, &self.left),
            TapDirection::Out => extend_le(&mut self.out, &self.right),
            TapDirection::Both => {
                for (l, r) in self.left.iter().zip(&self.right) {
                    self.out
                        .extend_from_slice(&l.saturating_add(*r).to_le_bytes());
                }
            }
            TapDirection::Stereo => {
                for (l, r) in self.left.iter().zip(&self.right) {
                    self.out.extend_from_slice(&l.to_le_bytes());
                    self.out.extend_from_slice(&r.to_le_bytes());
                }
            }
        }
        Some(&self.out)
    }
}

fn extend_le(out: &mut Vec<u8>, samples: &[i16]) {
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
}

/// The server's audio on its way into what the tapped party hears: each
/// frame written to the channel carries as many of its samples as it has
/// room for, so the channel's own frames pace it. What the session has not
/// handed over yet stays queued there (bounded by `playout_buffer`, and TCP
/// slows the server); audio that waited longer than `max_lateness` because
/// nothing was written to the channel is dropped and counted.
#[derive(Default)]
pub struct Whisper {
    samples: VecDeque<i16>,
}

impl Whisper {
    /// Adds the server's audio to `pcm` (little-endian samples at the
    /// session's rate), taking what it needs from `session`; whether any
    /// was added. `other` gets the session's events other than audio.
    pub fn mix_into(
        &mut self,
        pcm: &mut [u8],
        session: &mut Session,
        now: Instant,
        mut other: impl FnMut(Event),
    ) -> bool {
        let need = pcm.len() / 2;
        while self.samples.len() < need {
            match session.next_event_unpaced(now) {
                Some(Event::Audio(f)) => self.samples.extend(
                    f.pcm
                        .chunks_exact(2)
                        .map(|s| i16::from_le_bytes([s[0], s[1]])),
                ),
                Some(event) => other(event),
                None => break,
            }
        }
        if self.samples.is_empty() {
            return false;
        }
        let n = need.min(self.samples.len());
        for (s, w) in pcm.chunks_exact_mut(2).zip(self.samples.drain(..n)) {
            let mixed = i16::from_le_bytes([s[0], s[1]]).saturating_add(w);
            s.copy_from_slice(&mixed.to_le_bytes());
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: Duration = Duration::from_millis(20);

    fn frame(value: i16, samples: usize) -> Vec<u8> {
        (0..samples).flat_map(|_| value.to_le_bytes()).collect()
    }

    fn samples(pcm: &[u8]) -> Vec<i16> {
        pcm.chunks_exact(2)
            .map(|s| i16::from_le_bytes([s[0], s[1]]))
            .collect()
    }

    fn run(mixer: &mut TapMixer, pushes: &[(Side, i16, usize, Duration)]) -> Vec<Vec<u8>> {
        let t0 = Instant::now();
        let mut out = Vec::new();
        for (side, value, n, at) in pushes {
            mixer.push(*side, &frame(*value, *n), t0 + *at, |f| {
                out.push(f.to_vec())
            });
        }
        out
    }

    #[test]
    fn both_sides_are_paired_frame_by_frame_and_mixed() {
        let mut m = TapMixer::new(TapDirection::Both, Rate::Hz8000);
        let mut pushes = Vec::new();
        for i in 0..10u32 {
            pushes.push((Side::In, 100, 160, F * i));
            pushes.push((Side::Out, 7, 160, F * i + Duration::from_millis(9)));
        }
        let out = run(&mut m, &pushes);
        assert_eq!(out.len(), 10);
        assert!(out
            .iter()
            .all(|f| f.len() == 320 && samples(f).iter().all(|s| *s == 107)));
    }

    #[test]
    fn stereo_keeps_each_side_in_its_own_channel_whatever_the_packet_sizes() {
        let mut m = TapMixer::new(TapDirection::Stereo, Rate::Hz8000);
        let mut pushes = Vec::new();
        // 30 ms packets in, 20 ms out, over 120 ms.
        for i in 0..4u32 {
            pushes.push((Side::In, 1, 240, Duration::from_millis(30) * i));
        }
        for i in 0..6u32 {
            pushes.push((Side::Out, -2, 160, F * i + Duration::from_millis(3)));
        }
        pushes.sort_by_key(|p| p.3);
        let out = run(&mut m, &pushes);
        assert_eq!(out.len(), 6, "120 ms of each");
        for f in &out {
            assert_eq!(f.len(), 640);
            let s = samples(f);
            assert!(s.chunks(2).all(|p| p == [1, -2]), "{s:?}");
        }
    }

    #[test]
    fn a_quiet_side_does_not_hold_the_other_back() {
        let mut m = TapMixer::new(TapDirection::Stereo, Rate::Hz8000);
        // Only the caller speaks: once the other side has said nothing for
        // QUIET, the frames go out as they come, with silence beside them.
        let out = run(
            &mut m,
            &[
                (Side::In, 5, 160, Duration::ZERO),
                (Side::In, 5, 160, F),
                (Side::In, 5, 160, F * 2),
                (Side::In, 5, 160, F * 3),
            ],
        );
        assert_eq!(out.len(), 4);
        assert!(out
            .iter()
            .all(|f| samples(f).chunks(2).all(|p| p == [5, 0])));
        let mut m = TapMixer::new(TapDirection::Stereo, Rate::Hz8000);
        let out = run(
            &mut m,
            &[
                (Side::In, 5, 160, Duration::ZERO),
                (Side::In, 5, 160, F * 3),
            ],
        );
        assert_eq!(out.len(), 2, "a late frame goes out at once");
    }

    #[test]
    fn a_side_that_runs_ahead_is_lined_up_with_silence_and_nothing_is_lost() {
        let mut m = TapMixer::new(TapDirection::Stereo, Rate::Hz8000);
        // The out side delivers every 20 ms but its clock is slow: the in
        // side sends 11 frames in the time the out side sends 10.
        let mut pushes = Vec::new();
        for i in 0..110u32 {
            pushes.push((Side::In, 1, 160, Duration::from_micros(18_182) * i));
        }
        for i in 0..100u32 {
            pushes.push((Side::Out, 2, 160, F * i + Duration::from_millis(1)));
        }
        pushes.sort_by_key(|p| p.3);
        let out = run(&mut m, &pushes);
        let all: Vec<i16> = out.iter().flat_map(|f| samples(f)).collect();
        let left = all.iter().step_by(2).filter(|s| **s == 1).count();
        let right = all.iter().skip(1).step_by(2).filter(|s| **s == 2).count();
        let held = |side: usize| m.sides[side].samples.len();
        // Every sample either went out or still waits, and what waits is
        // less than the lead that lines the sides up.
        assert_eq!(left + held(0), 110 * 160);
        assert_eq!(right + held(1), 100 * 160);
        assert!(held(0) < MAX_LEAD * 160 && held(1) < MAX_LEAD * 160);
        // The in side ran ahead by ten frames: it got about that much silence.
        let silent = all.iter().skip(1).step_by(2).filter(|s| **s == 0).count();
        assert!((8 * 160..=12 * 160).contains(&silent), "{silent}");
    }

    #[test]
    fn one_direction_streams_only_its_side() {
        for (direction, value) in [(TapDirection::In, 3), (TapDirection::Out, 4)] {
            let mut m = TapMixer::new(direction, Rate::Hz16000);
            let out = run(
                &mut m,
                &[
                    (Side::In, 3, 320, Duration::ZERO),
                    (Side::Out, 4, 320, Duration::ZERO),
                    (Side::In, 3, 480, F),
                    (Side::Out, 4, 160, F),
                ],
            );
            let got: Vec<i16> = out.iter().flat_map(|f| samples(f)).collect();
            assert!(out.iter().all(|f| f.len() == 640));
            assert!(
                !got.is_empty() && got.iter().all(|s| *s == value),
                "{direction:?}"
            );
        }
    }
}
