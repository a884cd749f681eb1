//! A small AudioSocket server to try the module with, using only std.
//!
//! ```text
//! cargo run --release --example audiosocket_server -- echo   127.0.0.1:9092
//! cargo run --release --example audiosocket_server -- record 127.0.0.1:9092 /tmp/calls
//! cargo run --release --example audiosocket_server -- play   127.0.0.1:9092 hello.wav
//! ```
//!
//! - `echo` sends every audio and DTMF message back: you hear yourself.
//! - `record DIR` writes each call's audio to `DIR/<uuid>.wav`.
//! - `play FILE` plays a 16-bit mono WAV file (8 to 192 kHz) at real-time
//!   pace, then hangs up.
//!
//! Each connection gets its own thread. The protocol: a 1-byte kind, a
//! big-endian 16-bit length, the payload; audio is little-endian 16-bit.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const RATES: [u32; 9] = [
    8000, 12000, 16000, 24000, 32000, 44100, 48000, 96000, 192000,
];

fn read_msg(s: &mut TcpStream) -> io::Result<Option<(u8, Vec<u8>)>> {
    let mut h = [0u8; 3];
    match s.read_exact(&mut h) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut p = vec![0u8; u16::from_be_bytes([h[1], h[2]]) as usize];
    s.read_exact(&mut p)?;
    Ok(Some((h[0], p)))
}

fn write_msg(s: &mut impl Write, kind: u8, payload: &[u8]) -> io::Result<()> {
    let mut m = Vec::with_capacity(payload.len() + 3);
    m.push(kind);
    m.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    m.extend_from_slice(payload);
    s.write_all(&m)
}

fn uuid_text(p: &[u8]) -> String {
    let h: String = p.iter().map(|b| format!("{b:02x}")).collect();
    if h.len() != 32 {
        return h;
    }
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn echo(mut s: TcpStream) -> io::Result<()> {
    let mut out = s.try_clone()?;
    while let Some((kind, p)) = read_msg(&mut s)? {
        match kind {
            0x00 => break,
            0x01 => eprintln!("call {}", uuid_text(&p)),
            0x03 | 0x10..=0x18 => write_msg(&mut out, kind, &p)?,
            _ => {}
        }
    }
    Ok(())
}

fn wav_header(w: &mut impl Write, rate: u32, data_len: u32) -> io::Result<()> {
    w.write_all(b"RIFF")?;
    w.write_all(&(36 + data_len).to_le_bytes())?;
    w.write_all(b"WAVEfmt ")?;
    w.write_all(&16u32.to_le_bytes())?;
    w.write_all(&1u16.to_le_bytes())?; // PCM
    w.write_all(&1u16.to_le_bytes())?; // mono
    w.write_all(&rate.to_le_bytes())?;
    w.write_all(&(rate * 2).to_le_bytes())?;
    w.write_all(&2u16.to_le_bytes())?;
    w.write_all(&16u16.to_le_bytes())?;
    w.write_all(b"data")?;
    w.write_all(&data_len.to_le_bytes())
}

fn record(mut s: TcpStream, dir: &Path) -> io::Result<()> {
    let mut name = String::from("unknown");
    let mut data = Vec::new();
    let mut rate = 8000;
    while let Some((kind, p)) = read_msg(&mut s)? {
        match kind {
            0x00 => break,
            0x01 => name = uuid_text(&p),
            0x10..=0x18 => {
                rate = RATES[(kind - 0x10) as usize];
                data.extend_from_slice(&p);
            }
            _ => {}
        }
    }
    let path = dir.join(format!("{name}.wav"));
    let mut w = BufWriter::new(File::create(&path)?);
    wav_header(&mut w, rate, data.len() as u32)?;
    w.write_all(&data)?;
    eprintln!(
        "recorded {} s to {}",
        data.len() as f64 / 2.0 / rate as f64,
        path.display()
    );
    Ok(())
}

/// The samples and rate of a 16-bit mono PCM WAV file.
fn read_wav(path: &Path) -> io::Result<(Vec<u8>, u32)> {
    let bad = |why: &str| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {why}", path.display()),
        )
    };
    let mut f = File::open(path)?;
    let mut riff = [0u8; 12];
    f.read_exact(&mut riff)?;
    if &riff[..4] != b"RIFF" || &riff[8..] != b"WAVE" {
        return Err(bad("not a WAV file"));
    }
    let mut rate = None;
    loop {
        let mut chunk = [0u8; 8];
        f.read_exact(&mut chunk)?;
        let len = u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]) as usize;
        match &chunk[..4] {
            b"fmt " => {
                let mut fmt = vec![0u8; len];
                f.read_exact(&mut fmt)?;
                let (format, channels) = (
                    u16::from_le_bytes([fmt[0], fmt[1]]),
                    u16::from_le_bytes([fmt[2], fmt[3]]),
                );
                let bits = u16::from_le_bytes([fmt[14], fmt[15]]);
                if format != 1 || channels != 1 || bits != 16 {
                    return Err(bad("need 16-bit mono PCM"));
                }
                rate = Some(u32::from_le_bytes([fmt[4], fmt[5], fmt[6], fmt[7]]));
            }
            b"data" => {
                let rate = rate.ok_or_else(|| bad("data before fmt"))?;
                if !RATES.contains(&rate) {
                    return Err(bad("sample rate is not one AudioSocket carries"));
                }
                let mut data = vec![0u8; len];
                f.read_exact(&mut data)?;
                return Ok((data, rate));
            }
            _ => {
                f.seek(SeekFrom::Current(len as i64 + (len as i64 & 1)))?;
            }
        }
    }
}

fn play(mut s: TcpStream, file: &Path) -> io::Result<()> {
    let (pcm, rate) = read_wav(file)?;
    let kind = 0x10 + RATES.iter().position(|r| *r == rate).unwrap() as u8;
    if let Some((0x01, p)) = read_msg(&mut s)? {
        eprintln!("call {}: playing {}", uuid_text(&p), file.display());
    }
    // Keep reading (and discarding) what the caller says.
    let mut reader = s.try_clone()?;
    std::thread::spawn(move || while let Ok(Some(_)) = read_msg(&mut reader) {});
    let frame = rate as usize / 50 * 2;
    let t0 = Instant::now();
    for (i, chunk) in pcm.chunks(frame).enumerate() {
        let due = t0 + Duration::from_millis(20 * i as u64);
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        write_msg(&mut s, kind, chunk)?;
    }
    write_msg(&mut s, 0x00, &[])
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: audiosocket_server echo ADDR | record ADDR DIR | play ADDR FILE.wav";
    let (Some(mode), Some(addr)) = (args.get(1), args.get(2)) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let extra = args.get(3).map(PathBuf::from);
    if mode != "echo" && extra.is_none() {
        eprintln!("{usage}");
        std::process::exit(2);
    }
    let listener = TcpListener::bind(addr).unwrap_or_else(|e| {
        eprintln!("cannot listen on {addr}: {e}");
        std::process::exit(1);
    });
    eprintln!("AudioSocket {mode} server on {addr}");
    for conn in listener.incoming() {
        let Ok(s) = conn else { continue };
        let _ = s.set_nodelay(true);
        let (mode, extra) = (mode.clone(), extra.clone());
        std::thread::spawn(move || {
            let result = match mode.as_str() {
                "echo" => echo(s),
                "record" => record(s, extra.as_deref().unwrap()),
                "play" => play(s, extra.as_deref().unwrap()),
                _ => Err(io::Error::new(io::ErrorKind::InvalidInput, usage)),
            };
            if let Err(e) = result {
                eprintln!("{e}");
            }
        });
    }
}
