//! Shared pieces of the integration tests: a private, real Asterisk with the
//! built module loaded, and a scripted AudioSocket server.
#![allow(dead_code, unused_imports)]

pub mod ami;
pub mod ari;
pub mod asterisk;
pub mod example;
pub mod far_end;
pub mod g711;
pub mod readme;
pub mod server;
pub mod sip;
pub mod tls;
pub mod tones;
pub mod ws_server;

pub use asterisk::Asterisk;
pub use server::{Conn, Msg, TestServer};

pub const UUID: &str = "4ac0f7c4-5d2a-4c8e-9a43-2f1f4e6c9b10";

/// The UUID's 16-byte wire form.
pub fn uuid_bytes() -> Vec<u8> {
    let hex: String = UUID.chars().filter(|c| *c != '-').collect();
    (0..16)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// Little-endian samples that never repeat within a few seconds, so a
/// reordered, repeated or dropped stretch shows.
pub fn ramp(samples: usize) -> Vec<u8> {
    (0..samples)
        .flat_map(|i| (((i * 7919) % 30011) as i16 - 15000).to_le_bytes())
        .collect()
}

/// The far ends the tests call: each context answers, then plays a tone,
/// echoes, stays silent, hangs up after a second, or sends "159#" and
/// reads three digits (logging "READ <digits>").
pub const FAR_ENDS: &str = "\
[tone]\nexten => _X!,1,Answer()\n same => n,Milliwatt()\n\
[echo]\nexten => _X!,1,Answer()\n same => n,Echo()\n\
[silent]\nexten => _X!,1,Answer()\n same => n,Wait(120)\n\
[hangup1]\nexten => _X!,1,Answer()\n same => n,Wait(1)\n same => n,Hangup()\n\
[dtmf]\nexten => _X!,1,Answer()\n same => n,Wait(0.5)\n same => n,SendDTMF(159#)\n \
same => n,Read(D,,3,,,10)\n same => n,Log(NOTICE,READ ${D})\n same => n,Wait(10)\n";

/// The `[app]` context: extension N runs AudioSocket() against port N on
/// loopback, then logs "RESULT N status=<AUDIOSOCKET_STATUS>".
pub fn app_context() -> String {
    format!(
        "[app]\nexten => _X.,1,Answer()\n same => n,AudioSocket({UUID},127.0.0.1:${{EXTEN}})\n \
         same => n,Log(NOTICE,RESULT ${{EXTEN}} status=${{AUDIOSOCKET_STATUS}})\n same => n,Hangup()\n"
    )
}

/// The loudest sample in little-endian PCM.
pub fn peak(pcm: &[u8]) -> u16 {
    pcm.chunks(2)
        .map(|s| i16::from_le_bytes([s[0], s[1]]).unsigned_abs())
        .max()
        .unwrap_or(0)
}

/// A listener whose backlog is full: connections to it never complete.
pub struct BlackHole {
    pub port: u16,
    _listener: std::net::TcpListener,
    _fill: Vec<std::net::TcpStream>,
}

impl BlackHole {
    pub fn new() -> BlackHole {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        // SAFETY: l's descriptor is open; listen(0) only shrinks its backlog.
        unsafe { libc::listen(std::os::fd::AsRawFd::as_raw_fd(&l), 0) };
        let fill = (0..8)
            .filter_map(|_| {
                std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(100))
                    .ok()
            })
            .collect();
        BlackHole {
            port: addr.port(),
            _listener: l,
            _fill: fill,
        }
    }
}

/// The samples of a 16-bit WAV file (its data chunk), once its writer has
/// closed it.
pub fn wav_samples(path: &std::path::Path) -> Vec<i16> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        if &bytes[at..at + 4] == b"data" {
            let end = (at + 8 + len).min(bytes.len());
            return bytes[at + 8..end]
                .chunks_exact(2)
                .map(|s| i16::from_le_bytes([s[0], s[1]]))
                .collect();
        }
        at += 8 + len + (len & 1);
    }
    panic!("{}: no data chunk", path.display());
}
