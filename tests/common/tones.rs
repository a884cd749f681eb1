//! Tones to tell the directions of a call apart: made at a chosen
//! frequency, and found again (Goertzel) in what a server received.

use std::f64::consts::TAU;

/// `samples` of a sine at `freq` Hz, little-endian, continuing `phase`.
pub fn tone(freq: f64, rate: u32, samples: usize, amplitude: f64, phase: &mut f64) -> Vec<u8> {
    let step = TAU * freq / f64::from(rate);
    let mut out = Vec::with_capacity(samples * 2);
    for _ in 0..samples {
        let v = (phase.sin() * amplitude) as i16;
        out.extend_from_slice(&v.to_le_bytes());
        *phase = (*phase + step) % TAU;
    }
    out
}

pub fn samples(pcm: &[u8]) -> Vec<i16> {
    pcm.chunks_exact(2)
        .map(|s| i16::from_le_bytes([s[0], s[1]]))
        .collect()
}

/// The share of the signal's energy at `freq` (0 to 1; 0 for silence).
pub fn share(samples: &[i16], rate: u32, freq: f64) -> f64 {
    let n = samples.len();
    if n == 0 {
        return 0.0;
    }
    let energy: f64 = samples.iter().map(|s| f64::from(*s).powi(2)).sum();
    if energy < 1e3 * n as f64 {
        return 0.0;
    }
    let coeff = 2.0 * (TAU * freq / f64::from(rate)).cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for x in samples {
        let s0 = f64::from(*x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    power / (energy * n as f64 / 2.0)
}

/// Whether `freq` is clearly there (a tenth of the energy or more).
pub fn has(samples: &[i16], rate: u32, freq: f64) -> bool {
    share(samples, rate, freq) > 0.1
}

/// Whether `freq` is clearly absent (under a hundredth of the energy).
pub fn lacks(samples: &[i16], rate: u32, freq: f64) -> bool {
    share(samples, rate, freq) < 0.01
}

/// The left and right channels of interleaved two-channel samples.
pub fn split_stereo(samples: &[i16]) -> (Vec<i16>, Vec<i16>) {
    (
        samples.iter().step_by(2).copied().collect(),
        samples.iter().skip(1).step_by(2).copied().collect(),
    )
}
