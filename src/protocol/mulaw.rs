//! G.711 µ-law, as the Twilio dialect carries audio: 8-bit samples at
//! 8 kHz, to and from the 16-bit signed linear samples the session plays.
//! The encoder is G.711's (bias 0x84, clipped at 32635), so that a byte
//! decoded and encoded again comes back unchanged.

const BIAS: i32 = 0x84;
const CLIP: i32 = 32635;

/// The 16-bit sample a µ-law byte stands for.
pub fn decode(byte: u8) -> i16 {
    let b = !byte;
    let exponent = (b >> 4) & 0x07;
    let mantissa = i32::from(b & 0x0f);
    let magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
    if b & 0x80 != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

/// The µ-law byte nearest to `sample`.
pub fn encode(sample: i16) -> u8 {
    let mut s = i32::from(sample);
    let sign = if s < 0 {
        s = -s;
        0x80
    } else {
        0
    };
    s = s.min(CLIP) + BIAS;
    // The segment: the position of the highest bit set above bit 7.
    let exponent = (31 - (s as u32).leading_zeros()).saturating_sub(7).min(7) as i32;
    let mantissa = (s >> (exponent + 3)) & 0x0f;
    !(sign | (exponent << 4) as u8 | mantissa as u8)
}

/// Little-endian 16-bit samples to µ-law bytes, appended to `out`.
pub fn encode_pcm(pcm: &[u8], out: &mut Vec<u8>) {
    out.extend(
        pcm.chunks_exact(2)
            .map(|s| encode(i16::from_le_bytes([s[0], s[1]]))),
    );
}

/// µ-law bytes to little-endian 16-bit samples, appended to `out`.
pub fn decode_to_pcm(ulaw: &[u8], out: &mut Vec<u8>) {
    out.reserve(ulaw.len() * 2);
    for b in ulaw {
        out.extend_from_slice(&decode(*b).to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_survives_a_round_trip() {
        for b in 0..=255u8 {
            let again = encode(decode(b));
            // 0x7f and 0xff both stand for zero.
            assert!(again == b || decode(again) == decode(b), "{b:#04x}");
        }
    }

    #[test]
    fn known_values_match_g711() {
        assert_eq!(decode(0xff), 0);
        assert_eq!(decode(0x7f), 0);
        assert_eq!(decode(0x00), -32124);
        assert_eq!(decode(0x80), 32124);
        assert_eq!(encode(0), 0xff);
        assert_eq!(encode(i16::MAX), 0x80);
        assert_eq!(encode(i16::MIN), 0x00);
        assert_eq!(encode(1000), 0xce);
        assert_eq!(encode(-1000), 0x4e);
    }

    #[test]
    fn the_error_stays_within_a_step() {
        for s in (-32000i32..32000).step_by(7) {
            let back = i32::from(decode(encode(s as i16)));
            // A segment's step is 2^(exponent+3); the largest is 1024.
            let step = s.abs() / 16 + 8;
            assert!((back - s).abs() <= step.max(8), "{s} -> {back}");
        }
    }
}
