//! A small AudioSocket server to try the module with, using only std.
//!
//! ```text
//! cargo run --release --example audiosocket_server -- echo   127.0.0.1:9092
//! cargo run --release --example audiosocket_server -- record 127.0.0.1:9092 /tmp/calls
//! cargo run --release --example audiosocket_server -- play   127.0.0.1:9092 hello.wav
//! cargo run --release --example audiosocket_server -- echo 0.0.0.0:9093 \
//!     --tls server.pem server.key [--client-ca pbx-ca.pem]
//! ```
//!
//! - `echo` sends every audio and DTMF message back: you hear yourself.
//! - `record DIR` writes each call's audio to `DIR/<uuid>.wav` (a live
//!   tap's two-channel stream, `0x25`, as a stereo file).
//! - `play FILE` plays a 16-bit mono WAV file (8 to 192 kHz) at real-time
//!   pace, then hangs up. It takes the call's rate from the call's first
//!   audio message (or its context) and converts a file of another rate.
//!
//! Each prints the call's UUID and, when the call sends one (option `m`),
//! its context (`0x23`, a JSON object).
//!
//! With `--tls`, it listens with TLS 1.2 and 1.3 (the certificate chain
//! and its key, PEM), and with `--client-ca` admits only clients whose
//! certificate that CA signed (mutual TLS). A TLS front (`tls_front.rs`)
//! terminates TLS and hands the plaintext to the same plain server, as
//! stunnel would.
//!
//! Each connection gets its own thread. The protocol: a 1-byte kind, a
//! big-endian 16-bit length, the payload; audio is little-endian 16-bit.

// The tests put the same front before their scripted server.
#[allow(dead_code)]
mod tls_front;

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

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

/// Says what a call's first messages told: its UUID, its context.
fn announce(kind: u8, p: &[u8]) {
    match kind {
        0x01 => eprintln!("call {}", uuid_text(p)),
        0x23 => eprintln!("context {}", String::from_utf8_lossy(p)),
        _ => {}
    }
}

fn echo(mut s: TcpStream) -> io::Result<()> {
    let mut out = s.try_clone()?;
    while let Some((kind, p)) = read_msg(&mut s)? {
        match kind {
            0x00 => break,
            0x01 | 0x23 => announce(kind, &p),
            0x03 | 0x10..=0x18 => write_msg(&mut out, kind, &p)?,
            _ => {}
        }
    }
    Ok(())
}

fn wav_header(w: &mut impl Write, rate: u32, channels: u16, data_len: u32) -> io::Result<()> {
    w.write_all(b"RIFF")?;
    w.write_all(&(36 + data_len).to_le_bytes())?;
    w.write_all(b"WAVEfmt ")?;
    w.write_all(&16u32.to_le_bytes())?;
    w.write_all(&1u16.to_le_bytes())?; // PCM
    w.write_all(&channels.to_le_bytes())?;
    w.write_all(&rate.to_le_bytes())?;
    w.write_all(&(rate * 2 * u32::from(channels)).to_le_bytes())?;
    w.write_all(&(2 * channels).to_le_bytes())?;
    w.write_all(&16u16.to_le_bytes())?;
    w.write_all(b"data")?;
    w.write_all(&data_len.to_le_bytes())
}

/// The `"rate"` a call's context gives, if it gives one.
fn context_rate(json: &[u8]) -> Option<u32> {
    let text = String::from_utf8_lossy(json);
    let at = text.find("\"rate\":")? + 7;
    let digits: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn record(mut s: TcpStream, dir: &Path) -> io::Result<()> {
    let mut name = String::from("unknown");
    let mut data = Vec::new();
    let mut rate = 8000;
    let mut channels = 1;
    while let Some((kind, p)) = read_msg(&mut s)? {
        match kind {
            0x00 => break,
            0x01 => {
                announce(kind, &p);
                name = uuid_text(&p);
            }
            0x23 => {
                announce(kind, &p);
                rate = context_rate(&p).unwrap_or(rate);
            }
            0x10..=0x18 => {
                rate = RATES[(kind - 0x10) as usize];
                data.extend_from_slice(&p);
            }
            // A live tap in stereo: at the tap's rate, which the context
            // (option m) says; 8 kHz unless told.
            0x25 => {
                channels = 2;
                data.extend_from_slice(&p);
            }
            _ => {}
        }
    }
    let path = dir.join(format!("{name}.wav"));
    let mut w = BufWriter::new(File::create(&path)?);
    wav_header(&mut w, rate, channels, data.len() as u32)?;
    w.write_all(&data)?;
    eprintln!(
        "recorded {} s to {}",
        data.len() as f64 / 2.0 / f64::from(channels) / rate as f64,
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

/// The call's rate: the rate of its first audio message, or the context's
/// `"rate"`, whichever comes first within a second; None if neither does.
fn call_rate(s: &mut TcpStream) -> io::Result<Option<u32>> {
    s.set_read_timeout(Some(Duration::from_secs(1)))?;
    let rate = loop {
        match read_msg(s) {
            Ok(Some((kind @ 0x10..=0x18, _))) => break Some(RATES[(kind - 0x10) as usize]),
            Ok(Some((0x23, p))) => {
                announce(0x23, &p);
                if let Some(rate) = context_rate(&p) {
                    break Some(rate);
                }
            }
            Ok(Some((kind, p))) => announce(kind, &p),
            Ok(None) => break None,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                break None
            }
            Err(e) => return Err(e),
        }
    };
    s.set_read_timeout(None)?;
    Ok(rate)
}

/// `pcm` (16-bit samples at `from` Hz) at `to` Hz, by linear interpolation.
fn resample(pcm: &[u8], from: u32, to: u32) -> Vec<u8> {
    let samples: Vec<f64> = pcm
        .chunks_exact(2)
        .map(|s| f64::from(i16::from_le_bytes([s[0], s[1]])))
        .collect();
    let n = (samples.len() as u64 * u64::from(to) / u64::from(from)) as usize;
    (0..n)
        .flat_map(|i| {
            let at = i as f64 * f64::from(from) / f64::from(to);
            let (k, frac) = (at.floor() as usize, at.fract());
            let a = samples.get(k).copied().unwrap_or(0.0);
            let b = samples.get(k + 1).copied().unwrap_or(a);
            ((a + (b - a) * frac).round() as i16).to_le_bytes()
        })
        .collect()
}

fn play(mut s: TcpStream, file: &Path) -> io::Result<()> {
    let (mut pcm, mut rate) = read_wav(file)?;
    if let Some((0x01, p)) = read_msg(&mut s)? {
        eprintln!("call {}: playing {}", uuid_text(&p), file.display());
    }
    match call_rate(&mut s)? {
        Some(call) if call != rate => {
            eprintln!(
                "{}: {rate} Hz, the call {call} Hz: converting",
                file.display()
            );
            pcm = resample(&pcm, rate, call);
            rate = call;
        }
        Some(_) => {}
        None => eprintln!("the call said nothing of its rate: playing at the file's, {rate} Hz"),
    }
    let kind = 0x10 + RATES.iter().position(|r| *r == rate).unwrap() as u8;
    // Keep reading (and discarding) what the caller says.
    let mut reader = s.try_clone()?;
    std::thread::spawn(move || {
        while let Ok(Some((kind, p))) = read_msg(&mut reader) {
            announce(kind, &p);
        }
    });
    let frame = rate as usize / 50 * 2;
    let t0 = Instant::now();
    for (i, chunk) in pcm.chunks(frame).enumerate() {
        let due = t0 + Duration::from_millis(20 * i as u64);
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        write_msg(&mut s, kind, chunk)?;
    }
    write_msg(&mut s, 0x00, &[])
}

/// A TLS server configuration from PEM files; with `client_ca`, clients
/// must show a certificate that CA signed.
fn tls_config(cert: &str, key: &str, client_ca: Option<&str>) -> Result<ServerConfig, String> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{cert}: {e}"))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{key}: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| e.to_string())?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for c in CertificateDer::pem_file_iter(ca).map_err(|e| format!("{ca}: {e}"))? {
                roots
                    .add(c.map_err(|e| format!("{ca}: {e}"))?)
                    .map_err(|e| format!("{ca}: {e}"))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| e.to_string())?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    builder
        .with_single_cert(chain, key)
        .map_err(|e| e.to_string())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: audiosocket_server echo ADDR | record ADDR DIR | play ADDR FILE.wav\n\
                 \x20      then optionally: --tls CERT.pem KEY.pem [--client-ca CA.pem]";
    let fail = |why: &str| -> ! {
        eprintln!("{why}");
        std::process::exit(2);
    };
    let (Some(mode), Some(addr)) = (args.get(1), args.get(2)) else {
        fail(usage);
    };
    let rest: Vec<&str> = args[3..].iter().map(String::as_str).collect();
    let flag = rest
        .iter()
        .position(|a| a.starts_with("--"))
        .unwrap_or(rest.len());
    let extra = rest.first().filter(|_| flag > 0).map(PathBuf::from);
    if mode != "echo" && extra.is_none() {
        fail(usage);
    }
    let tls = match rest[flag..] {
        [] => None,
        ["--tls", cert, key] => Some(tls_config(cert, key, None)),
        ["--tls", cert, key, "--client-ca", ca] => Some(tls_config(cert, key, Some(ca))),
        _ => fail(usage),
    };
    let tls = tls.map(|t| t.unwrap_or_else(|e| fail(&e)));
    let bind = |at: &str| {
        TcpListener::bind(at).unwrap_or_else(|e| {
            eprintln!("cannot listen on {at}: {e}");
            std::process::exit(1);
        })
    };
    // The public address is taken first, so that a port of 0 (any free
    // one) or a port just freed cannot go to the plain backend instead.
    let public = bind(addr);
    let bound = public.local_addr().map_or(addr.clone(), |a| a.to_string());
    // With TLS the plain server listens on loopback only, behind the front.
    let (listener, _front) = match tls {
        None => (public, None),
        Some(config) => {
            let plain = bind("127.0.0.1:0");
            let backend = plain.local_addr().unwrap().port();
            let front = tls_front::TlsFront::serve(public, Arc::new(config), backend)
                .unwrap_or_else(|e| fail(&format!("cannot listen on {addr}: {e}")));
            (plain, Some(front))
        }
    };
    let secure = if _front.is_some() { " with TLS" } else { "" };
    eprintln!("AudioSocket {mode} server on {bound}{secure}");
    for conn in listener.incoming() {
        let Ok(s) = conn else { continue };
        let _ = s.set_nodelay(true);
        let (mode, extra) = (mode.clone(), extra.clone());
        std::thread::spawn(move || {
            let result = match mode.as_str() {
                "echo" => echo(s),
                "record" => record(s, extra.as_deref().unwrap()),
                "play" => play(s, extra.as_deref().unwrap()),
                _ => Err(io::Error::new(io::ErrorKind::InvalidInput, "unknown mode")),
            };
            if let Err(e) = result {
                eprintln!("{e}");
            }
        });
    }
}
