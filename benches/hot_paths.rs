//! Microbenchmarks of the hot paths; they print figures, nothing asserts.
//! `make bench` runs them (without the "module" feature: no Asterisk needed).
//!
//! - protocol encode and decode throughput, 20 ms frames and maximal payloads;
//! - the CPU one frame costs the session's threads, channel frame to socket
//!   and back, with 50 real-time calls against a loopback echo server (in a
//!   process of its own, counted apart), as the application's channel
//!   thread runs it and as the driver's does.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chan_audiosocket_rs::logging::{Level, Log};
use chan_audiosocket_rs::protocol::{encode_audio, Decoder, Rate};
use chan_audiosocket_rs::session::{wait_ms, Event, ServerAddr, Session, SessionConfig};

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

/// CPU time (from the scheduler, to the nanosecond) and context switches
/// of this process's threads, by role: the sessions' I/O threads and the
/// calls' channel threads.
#[derive(Clone, Copy, Default)]
struct Threads {
    io_ns: u64,
    io_switches: u64,
    channel_ns: u64,
    channel_switches: u64,
}

fn threads() -> Threads {
    let mut t = Threads::default();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let path = task.path();
        let read = |f: &str| std::fs::read_to_string(path.join(f)).unwrap_or_default();
        let ns: u64 = read("schedstat")
            .split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let switches: u64 = read("status")
            .lines()
            .filter(|l| l.contains("ctxt_switches"))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum();
        let comm = read("comm");
        if comm.starts_with("audiosock") {
            t.io_ns += ns;
            t.io_switches += switches;
        } else if comm.starts_with(CHANNEL_THREAD) {
            t.channel_ns += ns;
            t.channel_switches += switches;
        }
    }
    t
}

const CHANNEL_THREAD: &str = "channel";

/// The echo server runs in a process of its own, so that the figures for
/// the module's threads are theirs alone.
const ECHO_SERVER: &str = "HOT_PATHS_ECHO_SERVER";

fn echo_server() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    println!("{}", listener.local_addr().unwrap().port());
    std::io::stdout().flush().unwrap();
    for s in listener.incoming().flatten() {
        std::thread::spawn(move || echo(s));
    }
}

fn echo(mut s: TcpStream) {
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

/// How the channel thread waits, as in the module.
#[derive(Clone, Copy)]
enum ChannelThread {
    /// `AudioSocket()`: parks, and looks after every wake-up.
    Application,
    /// The channel driver: read one event at a time when a descriptor is
    /// readable; never parks.
    Driver,
}

/// One call's channel thread: the caller's frame every 20 ms (as a phone
/// sends them), whatever the server sent played as the session gives it.
fn call(mut s: Session, kind: ChannelThread, until: Instant, counts: &Counts) {
    let frame = vec![1u8; 320];
    let mut next = Instant::now();
    let mut readable = true;
    loop {
        let now = Instant::now();
        if now >= until {
            break;
        }
        if now >= next {
            s.send_audio(&frame);
            counts.up.fetch_add(1, Ordering::Relaxed);
            next += Duration::from_millis(20);
        }
        match kind {
            ChannelThread::Application => {
                while let Some(ev) = s.next_event(Instant::now()) {
                    counts.played(&ev);
                }
            }
            ChannelThread::Driver if readable => {
                let ev = s.next_event(Instant::now());
                s.park_until_readable();
                if let Some(ev) = ev {
                    counts.played(&ev);
                }
            }
            ChannelThread::Driver => {}
        }
        let now = Instant::now();
        let mut wait = next.saturating_duration_since(now);
        if let ChannelThread::Application = kind {
            wait = s.park(now).map_or(wait, |d| d.min(wait));
        }
        let [wake, timer] = s.wait_fds();
        let mut fds = [wake, timer].map(|fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        });
        // SAFETY: fds is a valid array of two pollfd for the call.
        unsafe { libc::poll(fds.as_mut_ptr(), 2, wait_ms(Some(wait))) };
        if let ChannelThread::Application = kind {
            s.unpark();
        }
        if fds[0].revents != 0 {
            s.take_wake_up();
        }
        readable = fds.iter().any(|f| f.revents != 0);
    }
}

/// Frames each way, so far, over all calls.
#[derive(Default)]
struct Counts {
    up: AtomicU64,
    down: AtomicU64,
}

impl Counts {
    fn played(&self, ev: &Event) {
        if let Event::Audio(_) = ev {
            self.down.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn total(&self) -> u64 {
        self.up.load(Ordering::Relaxed) + self.down.load(Ordering::Relaxed)
    }
}

fn per_frame(kind: ChannelThread, label: &str) {
    const CALLS: usize = 50;
    const SECONDS: u64 = 5;
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(ECHO_SERVER, "1")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut port = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut port)
        .unwrap();
    let server = ServerAddr {
        host: "127.0.0.1".into(),
        port: port.trim().parse().unwrap(),
        shown: None,
    };
    let mut sessions: Vec<Session> = (0..CALLS)
        .map(|i| {
            let cfg = SessionConfig::new([i as u8; 16], server.clone(), Rate::Hz8000, "bench");
            Session::start(cfg, Arc::new(Quiet)).unwrap()
        })
        .collect();
    let t0 = Instant::now();
    while sessions.iter().any(|s| !s.is_connected()) && t0.elapsed() < Duration::from_secs(5) {
        for s in &mut sessions {
            while s.next_event(Instant::now()).is_some() {}
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let counts = Arc::new(Counts::default());
    let until = Instant::now() + Duration::from_secs(SECONDS + 2);
    let calls: Vec<_> = sessions
        .into_iter()
        .map(|s| {
            let counts = counts.clone();
            std::thread::Builder::new()
                .name(CHANNEL_THREAD.into())
                .spawn(move || call(s, kind, until, &counts))
                .unwrap()
        })
        .collect();
    // A second to settle, then the measured window.
    std::thread::sleep(Duration::from_secs(1));
    let (before, frames_before) = (threads(), counts.total());
    std::thread::sleep(Duration::from_secs(SECONDS));
    let (after, frames) = (threads(), counts.total() - frames_before);
    for c in calls {
        c.join().unwrap();
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let us = |ns: u64| ns as f64 / 1e3 / frames as f64;
    let per = |n: u64| n as f64 / frames as f64;
    let (io, channel) = (
        after.io_ns - before.io_ns,
        after.channel_ns - before.channel_ns,
    );
    println!(
        "{label}, {CALLS} calls x {SECONDS} s, {frames} frames: per frame each way, {:.1} us CPU \
         (I/O thread {:.1}, channel thread {:.1} with its waits), {:.2} context switches \
         (I/O {:.2}, channel {:.2})",
        us(io + channel),
        us(io),
        us(channel),
        per(after.io_switches + after.channel_switches
            - before.io_switches
            - before.channel_switches),
        per(after.io_switches - before.io_switches),
        per(after.channel_switches - before.channel_switches),
    );
}

fn main() {
    if std::env::var_os(ECHO_SERVER).is_some() {
        return echo_server();
    }
    // `cargo bench --bench hot_paths -- driver` runs only that part.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let run = |part: &str| only.is_empty() || only.iter().any(|o| o == part);
    if run("protocol") {
        protocol();
    }
    if run("application") {
        per_frame(
            ChannelThread::Application,
            "session, as AudioSocket() runs it",
        );
    }
    if run("driver") {
        per_frame(
            ChannelThread::Driver,
            "session, as the channel driver runs it",
        );
    }
}
