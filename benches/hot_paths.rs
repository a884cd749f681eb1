//! Microbenchmarks of the hot paths; they print figures, nothing asserts.
//! `make bench` runs them (without the "module" feature: no Asterisk needed).
//!
//! - protocol encode and decode throughput, 20 ms frames and maximal payloads;
//! - the CPU one frame costs the session, channel frame to socket and back,
//!   with 50 real-time calls against a loopback echo server.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chan_audiosocket_rs::logging::{Level, Log};
use chan_audiosocket_rs::protocol::{encode_audio, Decoder, Rate};
use chan_audiosocket_rs::session::{Event, ServerAddr, Session, SessionConfig};

fn throughput(label: &str, bytes: usize, mut f: impl FnMut()) {
    f(); // warm up
    let t0 = Instant::now();
    let mut rounds = 0;
    while t0.elapsed() < Duration::from_secs(1) {
        f();
        rounds += 1;
    }
    let gbs = (bytes * rounds) as f64 / t0.elapsed().as_secs_f64() / 1e9;
    println!("{label:<44} {gbs:>8.2} GB/s");
}

fn protocol() {
    for (label, payload, count) in [
        ("20 ms frames at 8 kHz (320 B)", 320, 20_000),
        ("maximal payloads (65,534 B)", 65_534, 100),
    ] {
        let pcm = vec![7u8; payload];
        let mut wire = Vec::with_capacity((payload + 3) * count);
        throughput(&format!("encode, {label}"), payload * count, || {
            wire.clear();
            for _ in 0..count {
                encode_audio(&mut wire, Rate::Hz8000, &pcm);
            }
            std::hint::black_box(&wire);
        });
        let wire = wire.clone();
        throughput(&format!("decode, {label}"), payload * count, || {
            let mut d = Decoder::new();
            let mut rest = &wire[..];
            let mut got = 0;
            while !rest.is_empty() {
                let n = d.feed(rest);
                rest = &rest[n..];
                while let Some(m) = d.next_message() {
                    if let chan_audiosocket_rs::protocol::Message::Audio(_, p) = m {
                        got += p.len();
                    }
                }
            }
            assert_eq!(got, payload * count);
        });
    }
}

struct Quiet;
impl Log for Quiet {
    fn log(&self, _: Level, _: &'static str, _: u32, _: &'static str, _: &str) {}
}

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct we pass; all-zero is a valid start.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: ru is a valid, writable rusage.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(ru.ru_utime) + t(ru.ru_stime)
}

fn echo_server(mut s: TcpStream) {
    let mut buf = [0u8; 4096];
    let mut head = [0u8; 19];
    if s.read_exact(&mut head).is_err() {
        return;
    }
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if s.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
        }
    }
}

fn per_frame() {
    const CALLS: usize = 50;
    const SECONDS: u64 = 5;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            std::thread::spawn(move || echo_server(s));
        }
    });
    let server = ServerAddr {
        host: "127.0.0.1".into(),
        port,
    };
    let mut sessions: Vec<Session> = (0..CALLS)
        .map(|i| {
            let cfg = SessionConfig::new([i as u8; 16], server.clone(), Rate::Hz8000, "bench");
            Session::start(cfg, Arc::new(Quiet)).unwrap()
        })
        .collect();
    let frame = vec![1u8; 320];
    let t0 = Instant::now();
    while sessions.iter().any(|s| !s.is_connected()) && t0.elapsed() < Duration::from_secs(5) {
        for s in &mut sessions {
            while s.next_event(Instant::now()).is_some() {}
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let cpu0 = cpu_seconds();
    let start = Instant::now();
    let (mut up, mut down) = (0u64, 0u64);
    let mut tick = 0u64;
    // The channel side of every call, as a real-time loop: a frame out every
    // 20 ms, and whatever the server sent back taken in.
    while start.elapsed() < Duration::from_secs(SECONDS) {
        let due = start + Duration::from_millis(20 * tick);
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        for s in &mut sessions {
            s.send_audio(&frame);
            up += 1;
            s.take_wake_up();
            while let Some(ev) = s.next_event(Instant::now()) {
                if let Event::Audio(_) = ev {
                    down += 1;
                }
            }
        }
        tick += 1;
    }
    let cpu = cpu_seconds() - cpu0;
    println!(
        "session, {CALLS} calls x {SECONDS} s: {up} frames up, {down} down; {:.1} us CPU per frame each way (both threads and the echo server)",
        cpu * 1e6 / (up + down) as f64
    );
}

fn main() {
    protocol();
    per_frame();
}
