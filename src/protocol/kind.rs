use std::time::Duration;

pub const KIND_HANGUP: u8 = 0x00;
pub const KIND_UUID: u8 = 0x01;
pub const KIND_DTMF: u8 = 0x03;
pub const KIND_ERROR: u8 = 0xff;

// The barge-in extension: only on a call that turns it on (option `b`).
// Asterisk's own modules use 0x00, 0x01, 0x03, 0x10-0x18 and 0xff; known
// third-party ones 0x02 (silence) and 0x11 (a heartbeat): none uses these.

/// Server to module: discard all audio not yet played.
pub const KIND_FLUSH: u8 = 0x20;
/// Server to module: a mark with an id; module to server: that mark's
/// audio has been played.
pub const KIND_MARK: u8 = 0x21;
/// Server to module: say when nothing is left to play; module to server:
/// nothing is left to play.
pub const KIND_DRAINED: u8 = 0x22;

// The call-context extension: only on a call that turns it on (option `m`).

/// Module to server, once, right after the UUID: the call's context as one
/// UTF-8 JSON object.
pub const KIND_CONTEXT: u8 = 0x23;
/// Server to module: set a channel variable, UTF-8 `NAME=value`.
pub const KIND_SET_VARIABLE: u8 = 0x24;

// The live tap's two-channel stream (option `d(stereo)`).

/// Module to server: 16-bit little-endian samples, two channels
/// interleaved (left: what the tapped party says, right: what it hears),
/// at the tap's rate.
pub const KIND_STEREO: u8 = 0x25;

// Resuming a call on another server (option `r`).

/// Server to module: this server is going away (a rolling deploy): move
/// the call to another server now. Payload: none (ignored).
pub const KIND_MOVE: u8 = 0x26;

/// Whether `b` is a DTMF digit the protocol allows: `0-9`, `*`, `#`, `A-D`.
pub fn is_dtmf_digit(b: u8) -> bool {
    matches!(b, b'0'..=b'9' | b'*' | b'#' | b'A'..=b'D')
}

/// The sample rates of signed linear audio, one message kind each (0x10..0x18).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rate {
    Hz8000,
    Hz12000,
    Hz16000,
    Hz24000,
    Hz32000,
    Hz44100,
    Hz48000,
    Hz96000,
    Hz192000,
}

impl Rate {
    pub const ALL: [Rate; 9] = [
        Rate::Hz8000,
        Rate::Hz12000,
        Rate::Hz16000,
        Rate::Hz24000,
        Rate::Hz32000,
        Rate::Hz44100,
        Rate::Hz48000,
        Rate::Hz96000,
        Rate::Hz192000,
    ];

    fn index(self) -> usize {
        self as usize
    }

    pub fn hz(self) -> u32 {
        [
            8000, 12000, 16000, 24000, 32000, 44100, 48000, 96000, 192000,
        ][self.index()]
    }

    /// The message kind that carries audio at this rate.
    pub fn kind(self) -> u8 {
        0x10 + self.index() as u8
    }

    pub fn from_kind(kind: u8) -> Option<Rate> {
        Rate::ALL.get(kind.checked_sub(0x10)? as usize).copied()
    }

    /// Asterisk's name for the signed linear format at this rate.
    pub fn format_name(self) -> &'static str {
        [
            "slin", "slin12", "slin16", "slin24", "slin32", "slin44", "slin48", "slin96", "slin192",
        ][self.index()]
    }

    pub fn from_format_name(name: &str) -> Option<Rate> {
        let name = name.trim();
        if name.eq_ignore_ascii_case("slin8") {
            return Some(Rate::Hz8000);
        }
        Rate::ALL
            .into_iter()
            .find(|r| r.format_name().eq_ignore_ascii_case(name))
    }

    pub fn from_hz(hz: u32) -> Option<Rate> {
        Rate::ALL.into_iter().find(|r| r.hz() == hz)
    }

    /// The lowest rate that carries `hz` without loss (the highest there is
    /// for anything above it).
    pub fn at_least(hz: u32) -> Rate {
        Rate::ALL
            .into_iter()
            .find(|r| r.hz() >= hz)
            .unwrap_or(Rate::Hz192000)
    }

    /// Samples in one 20 ms frame.
    pub fn frame_samples(self) -> usize {
        self.hz() as usize / 50
    }

    /// Payload bytes in one 20 ms frame.
    pub fn frame_bytes(self) -> usize {
        self.frame_samples() * 2
    }

    /// How long `samples` samples play at this rate.
    pub fn duration_of(self, samples: usize) -> Duration {
        Duration::from_nanos(samples as u64 * 1_000_000_000 / self.hz() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_names_round_trip() {
        for (i, r) in Rate::ALL.into_iter().enumerate() {
            assert_eq!(r.kind(), 0x10 + i as u8);
            assert_eq!(Rate::from_kind(r.kind()), Some(r));
            assert_eq!(Rate::from_format_name(r.format_name()), Some(r));
            assert_eq!(Rate::from_hz(r.hz()), Some(r));
        }
        assert_eq!(Rate::from_kind(0x0f), None);
        assert_eq!(Rate::from_kind(0x19), None);
        assert_eq!(Rate::from_kind(0x00), None);
        assert_eq!(Rate::from_format_name("ulaw"), None);
        assert_eq!(Rate::from_format_name("SLIN16"), Some(Rate::Hz16000));
        assert_eq!(Rate::at_least(8000), Rate::Hz8000);
        assert_eq!(Rate::at_least(11025), Rate::Hz12000);
        assert_eq!(Rate::at_least(22050), Rate::Hz24000);
        assert_eq!(Rate::at_least(48000), Rate::Hz48000);
        assert_eq!(Rate::at_least(384000), Rate::Hz192000);
    }

    #[test]
    fn frame_sizes_match_the_protocol_text() {
        assert_eq!(Rate::Hz8000.frame_bytes(), 320);
        assert_eq!(Rate::Hz16000.frame_bytes(), 640);
        assert_eq!(Rate::Hz48000.frame_bytes(), 1920);
        assert_eq!(Rate::Hz44100.frame_samples(), 882);
        assert_eq!(Rate::Hz8000.duration_of(160), Duration::from_millis(20));
    }

    #[test]
    fn dtmf_digits() {
        for b in b"0123456789*#ABCD" {
            assert!(is_dtmf_digit(*b));
        }
        for b in b"abcdE ,\0\xff" {
            assert!(!is_dtmf_digit(*b));
        }
    }
}
