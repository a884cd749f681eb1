//! G.711 µ-law and A-law, as the reference implementation does them: the
//! tests' phones, and the benchmark's frames, which carry their sequence
//! number in samples µ-law leaves as they are.

/// The first segment whose end `v` does not pass.
fn segment(v: i32, ends: &[i32; 8]) -> usize {
    ends.iter().position(|e| v <= *e).unwrap_or(8)
}

/// G.711 µ-law, as the reference implementation does it.
pub fn ulaw_encode(s: i16) -> u8 {
    const ENDS: [i32; 8] = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];
    let mut v = i32::from(s) >> 2;
    let mask = if v < 0 {
        v = -v;
        0x7F
    } else {
        0xFF
    };
    v = v.min(8159) + (0x84 >> 2);
    let seg = segment(v, &ENDS);
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    (((seg << 4) as i32 | ((v >> (seg + 1)) & 0x0F)) as u8) ^ mask
}

pub fn ulaw_decode(b: u8) -> i16 {
    let u = !b;
    let t = ((i32::from(u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4);
    (if u & 0x80 != 0 { 0x84 - t } else { t - 0x84 }) as i16
}

/// G.711 A-law, as the reference implementation does it.
pub fn alaw_encode(s: i16) -> u8 {
    const ENDS: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];
    let mut v = i32::from(s) >> 3;
    let mask = if v >= 0 {
        0xD5
    } else {
        v = -v - 1;
        0x55
    };
    let seg = segment(v, &ENDS);
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    let quant = if seg < 2 {
        (v >> 1) & 0x0F
    } else {
        (v >> seg) & 0x0F
    };
    (((seg << 4) as i32 | quant) as u8) ^ mask
}

pub fn alaw_decode(b: u8) -> i16 {
    let a = b ^ 0x55;
    let mut t = i32::from(a & 0x0F) << 4;
    match (a & 0x70) >> 4 {
        0 => t += 8,
        1 => t += 0x108,
        seg => t = (t + 0x108) << (seg - 1),
    }
    (if a & 0x80 != 0 { t } else { -t }) as i16
}
