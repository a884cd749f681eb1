//! Side-by-side benchmark: Asterisk's built-in AudioSocket modules against
//! this module, on the same installed Asterisk and the same workload, in
//! one run (`make bench`; needs ASTERISK_PREFIX or asterisk on the PATH).
//!
//! Workload: N concurrent Local-channel calls; one half runs AudioSocket(),
//! the other Echo(). A load server (here, compiled) sends each call a paced
//! 20 ms tone frame carrying a sequence number, and times the echo of each
//! frame coming back through the module's uplink.
//!
//! ```text
//! cargo run --release --example bench -- [--calls 100,300,500] [--seconds 20] [--rounds 3] [--only this|built-in]
//! ```
//!
//! With several rounds the two modules alternate (which goes first swaps
//! each round) and the last line for each N gives the median of the
//! rounds' ratios: on a shared machine one pair of runs can be off by 20 %.

#[path = "../tests/common/asterisk.rs"]
#[allow(dead_code)]
mod asterisk;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use asterisk::{Asterisk, Options};

const MAGIC: u16 = 0xA55A;

#[derive(Default)]
struct CallStats {
    sent: u64,
    /// Frames that came back with their sequence number intact.
    echoed: u64,
    /// All audio frames that arrived from the module.
    uplink: u64,
    rtt_us: Vec<u64>,
    gaps_us: Vec<u64>,
}

struct Shared {
    /// Frames sent while this is set are counted and timed.
    measuring: AtomicBool,
    /// Stays set a second longer, so the last counted frames can come back.
    receiving: AtomicBool,
    stop: AtomicBool,
    connected: AtomicUsize,
    /// Calls the module did not end within 10 s of the server's hangup.
    stuck: AtomicUsize,
    stats: Mutex<Vec<CallStats>>,
}

fn frame(seq: u32) -> Vec<u8> {
    let mut pcm = Vec::with_capacity(320);
    for i in 0..160u32 {
        let v: i16 = match i {
            0 => MAGIC as i16,
            1 => (seq >> 16) as i16,
            2 => seq as u16 as i16,
            // 1 kHz at 8 kHz: eight samples a cycle.
            _ => [0, 5657, 8000, 5657, 0, -5657, -8000, -5657][(i % 8) as usize],
        };
        pcm.extend_from_slice(&v.to_le_bytes());
    }
    let mut m = vec![0x10, 0x01, 0x40];
    m.extend_from_slice(&pcm);
    m
}

fn seq_of(p: &[u8]) -> Option<u32> {
    if p.len() < 6 || u16::from_le_bytes([p[0], p[1]]) != MAGIC {
        return None;
    }
    Some((u16::from_le_bytes([p[2], p[3]]) as u32) << 16 | u16::from_le_bytes([p[4], p[5]]) as u32)
}

fn serve_call(mut s: TcpStream, shared: Arc<Shared>) {
    let mut head = [0u8; 19];
    if s.read_exact(&mut head).is_err() {
        return;
    }
    shared.connected.fetch_add(1, Ordering::Relaxed);
    let sent_at: Arc<Mutex<HashMap<u32, Instant>>> = Arc::default();
    let mut writer = s.try_clone().unwrap();
    let (w_shared, w_sent) = (shared.clone(), sent_at.clone());
    let sent = Arc::new(AtomicUsize::new(0));
    let w_count = sent.clone();
    let w = thread::spawn(move || {
        let t0 = Instant::now();
        let mut seq = 0u32;
        while !w_shared.stop.load(Ordering::Relaxed) {
            let due = t0 + Duration::from_millis(20 * seq as u64);
            thread::sleep(due.saturating_duration_since(Instant::now()));
            if w_shared.measuring.load(Ordering::Relaxed) {
                w_sent.lock().unwrap().insert(seq, Instant::now());
                w_count.fetch_add(1, Ordering::Relaxed);
            }
            if writer.write_all(&frame(seq)).is_err() {
                return;
            }
            seq += 1;
        }
        let _ = writer.write_all(&[0, 0, 0]);
    });
    let mut st = CallStats::default();
    let mut last: Option<Instant> = None;
    let mut h = [0u8; 3];
    // A call the module never ends would hold the run forever: after the
    // server hangs up, give each call 10 s to close, and count the rest.
    s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let mut idle_since_stop = 0;
    loop {
        if let Err(e) = s.read_exact(&mut h) {
            let timed_out = matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            );
            if timed_out && shared.stop.load(Ordering::Relaxed) {
                idle_since_stop += 1;
                if idle_since_stop >= 10 {
                    shared.stuck.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                continue;
            }
            if timed_out {
                continue;
            }
            break;
        }
        let mut p = vec![0u8; u16::from_be_bytes([h[1], h[2]]) as usize];
        if s.read_exact(&mut p).is_err() {
            break;
        }
        let now = Instant::now();
        if h[0] != 0x10 || !shared.receiving.load(Ordering::Relaxed) {
            last = None;
            continue;
        }
        if shared.measuring.load(Ordering::Relaxed) {
            st.uplink += 1;
            if let Some(l) = last {
                st.gaps_us.push((now - l).as_micros() as u64);
            }
            last = Some(now);
        }
        if let Some(seq) = seq_of(&p) {
            if let Some(t) = sent_at.lock().unwrap().remove(&seq) {
                st.echoed += 1;
                st.rtt_us.push((now - t).as_micros() as u64);
            }
        }
    }
    let _ = w.join();
    st.sent = sent.load(Ordering::Relaxed) as u64;
    shared.stats.lock().unwrap().push(st);
}

fn pct(v: &mut [u64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_unstable();
    v[((v.len() - 1) as f64 * p).round() as usize] as f64 / 1000.0
}

/// CPU time of a process in milliseconds (user + system).
fn cpu_ms(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |x| x.1);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // SAFETY: sysconf has no pointer arguments.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    (ticks(11) + ticks(12)) * 1000.0 / hz
}

/// Context switches so far of every thread of a process.
fn switches(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("status")).ok())
        .flat_map(|status| {
            status
                .lines()
                .filter(|l| l.contains("ctxt_switches:"))
                .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .collect::<Vec<_>>()
        })
        .sum()
}

struct Result {
    cpu_per_call_s: f64,
    /// Context switches per call-second.
    switches_per_call_s: f64,
    rss_kib_per_call: f64,
    echoed_pct: f64,
    uplink_pct: f64,
    gap: (f64, f64, f64),
    rtt: (f64, f64),
}

fn run(builtin: bool, calls: usize, seconds: u64) -> Option<Result> {
    let dialplan = "[bench]\nexten => _X.,1,Answer()\n \
                    same => n,AudioSocket(00000000-0000-0000-0000-${EXTEN},127.0.0.1:${PORT})\n \
                    same => n,Hangup()\n\
                    [echo]\nexten => _X!,1,Answer()\n same => n,Echo()\n";
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let dialplan = format!("[globals]\nPORT={port}\n{dialplan}");
    let ast = Asterisk::start_with(
        "bench",
        Options {
            dialplan: &dialplan,
            load_module: !builtin,
            builtin,
            ..Options::default()
        },
    )?;
    let shared = Arc::new(Shared {
        measuring: AtomicBool::new(false),
        receiving: AtomicBool::new(false),
        stop: AtomicBool::new(false),
        connected: AtomicUsize::new(0),
        stuck: AtomicUsize::new(0),
        stats: Mutex::new(Vec::new()),
    });
    let acceptor = {
        let shared = shared.clone();
        listener.set_nonblocking(true).unwrap();
        thread::spawn(move || {
            let mut calls = Vec::new();
            while !shared.stop.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((s, _)) => {
                        s.set_nonblocking(false).unwrap();
                        let _ = s.set_nodelay(true);
                        let shared = shared.clone();
                        calls.push(
                            thread::Builder::new()
                                .stack_size(128 * 1024)
                                .spawn(move || serve_call(s, shared))
                                .unwrap(),
                        );
                    }
                    Err(_) => thread::sleep(Duration::from_millis(2)),
                }
            }
            for c in calls {
                let _ = c.join();
            }
        })
    };
    let (_, _, rss_before) = ast.resources();
    for i in 0..calls {
        ast.originate(&format!("{:012}@bench", 100_000 + i), "1@echo");
    }
    let t0 = Instant::now();
    while shared.connected.load(Ordering::Relaxed) < calls && t0.elapsed() < Duration::from_secs(60)
    {
        thread::sleep(Duration::from_millis(50));
    }
    let connected = shared.connected.load(Ordering::Relaxed);
    thread::sleep(Duration::from_secs(2));
    shared.receiving.store(true, Ordering::Relaxed);
    shared.measuring.store(true, Ordering::Relaxed);
    let cpu0 = cpu_ms(ast.pid());
    let sw0 = switches(ast.pid());
    let window = Instant::now();
    thread::sleep(Duration::from_secs(seconds / 2));
    let (_, _, rss_during) = ast.resources();
    thread::sleep(Duration::from_secs(seconds - seconds / 2));
    let cpu1 = cpu_ms(ast.pid());
    let sw1 = switches(ast.pid());
    // On a saturated machine this thread may wake late: normalise by the
    // window as it was, not as asked.
    let window = window.elapsed().as_secs_f64();
    shared.measuring.store(false, Ordering::Relaxed);
    thread::sleep(Duration::from_secs(1));
    shared.receiving.store(false, Ordering::Relaxed);
    shared.stop.store(true, Ordering::Relaxed);
    acceptor.join().unwrap();
    ast.wait_no_channels(Duration::from_secs(30));

    let stats = std::mem::take(&mut *shared.stats.lock().unwrap());
    let (mut sent, mut echoed, mut uplink) = (0u64, 0u64, 0u64);
    let (mut gaps, mut rtts) = (Vec::new(), Vec::new());
    for s in stats {
        sent += s.sent;
        echoed += s.echoed;
        uplink += s.uplink;
        gaps.extend(s.gaps_us);
        rtts.extend(s.rtt_us);
    }
    if connected < calls {
        eprintln!("  only {connected} of {calls} calls connected");
    }
    let stuck = shared.stuck.load(Ordering::Relaxed);
    if stuck > 0 {
        eprintln!("  {stuck} calls did not end within 10 s of the server's hangup");
    }
    if window > seconds as f64 * 1.1 {
        eprintln!("  the {seconds} s window lasted {window:.1} s (machine saturated)");
    }
    let call_seconds = connected.max(1) as f64 * window;
    let expected_uplink = call_seconds * 50.0;
    Some(Result {
        cpu_per_call_s: (cpu1 - cpu0) / call_seconds,
        switches_per_call_s: sw1.saturating_sub(sw0) as f64 / call_seconds,
        rss_kib_per_call: (rss_during as f64 - rss_before as f64) / connected.max(1) as f64,
        echoed_pct: 100.0 * echoed as f64 / sent.max(1) as f64,
        uplink_pct: 100.0 * uplink as f64 / expected_uplink.max(1.0),
        gap: (
            pct(&mut gaps, 0.5),
            pct(&mut gaps, 0.99),
            pct(&mut gaps, 1.0),
        ),
        rtt: (pct(&mut rtts, 0.5), pct(&mut rtts, 0.99)),
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let counts: Vec<usize> = value("--calls")
        .unwrap_or_else(|| "100,300,500".into())
        .split(',')
        .map(|n| n.trim().parse().expect("--calls takes numbers"))
        .collect();
    let seconds: u64 =
        value("--seconds").map_or(20, |s| s.parse().expect("--seconds takes a number"));
    let rounds: usize =
        value("--rounds").map_or(1, |s| s.parse().expect("--rounds takes a number"));
    // --only built-in|this: one side, e.g. to profile it.
    let only = value("--only");
    let Some(installed) = asterisk::installed("bench") else {
        return;
    };
    println!(
        "Asterisk: {}; {} s per run; workload: AudioSocket() with a far-end Echo()",
        installed.version, seconds
    );
    println!(
        "{:>5} {:<8} {:>10} {:>10} {:>12} {:>9} {:>9} {:>22} {:>16}",
        "calls",
        "module",
        "CPU ms/cs",
        "cswitch/cs",
        "RSS KiB/call",
        "echoed %",
        "uplink %",
        "uplink gap p50/p99/max",
        "echo RTT p50/p99"
    );
    for n in counts {
        let mut ratios: Vec<[f64; 4]> = Vec::new();
        for round in 0..rounds.max(1) {
            let mut sides = [(true, "built-in"), (false, "this")];
            if round % 2 == 1 {
                sides.reverse();
            }
            let (mut b, mut t) = (None, None);
            for (builtin, name) in sides {
                if only.as_deref().is_some_and(|o| o != name) {
                    continue;
                }
                let Some(r) = run(builtin, n, seconds) else {
                    return;
                };
                println!(
                    "{:>5} {:<8} {:>10.3} {:>10.1} {:>12.1} {:>9.2} {:>9.2} {:>8.1}/{:>5.1}/{:>6.1} ms {:>7.1}/{:>6.1} ms",
                    n,
                    name,
                    r.cpu_per_call_s,
                    r.switches_per_call_s,
                    r.rss_kib_per_call,
                    r.echoed_pct,
                    r.uplink_pct,
                    r.gap.0,
                    r.gap.1,
                    r.gap.2,
                    r.rtt.0,
                    r.rtt.1
                );
                if builtin {
                    b = Some(r);
                } else {
                    t = Some(r);
                }
            }
            let (Some(b), Some(t)) = (b, t) else { continue };
            let r = [
                t.cpu_per_call_s / b.cpu_per_call_s,
                t.switches_per_call_s / b.switches_per_call_s,
                t.gap.1 / b.gap.1,
                t.rtt.0 - b.rtt.0,
            ];
            print_ratios(n, "ratio", &r);
            ratios.push(r);
        }
        if ratios.len() > 1 {
            let median = |i: usize| {
                let mut v: Vec<f64> = ratios.iter().map(|r| r[i]).collect();
                v.sort_by(f64::total_cmp);
                let m = v.len() / 2;
                if v.len() % 2 == 0 {
                    (v[m - 1] + v[m]) / 2.0
                } else {
                    v[m]
                }
            };
            print_ratios(n, "median", &[median(0), median(1), median(2), median(3)]);
        }
    }
}

/// this / built-in: CPU, context switches, uplink gap p99; RTT p50 difference.
fn print_ratios(n: usize, label: &str, r: &[f64; 4]) {
    println!(
        "{:>5} {:<8} {:>10.2} {:>10.2} {:>12} {:>9} {:>9} {:>22} {:>16}",
        n,
        label,
        r[0],
        r[1],
        "",
        "",
        "",
        format!("p99 {:.2}x", r[2]),
        format!("p50 {:+.1} ms", r[3])
    );
}
