//! Side-by-side benchmark on one installed Asterisk (`make bench`; needs
//! ASTERISK_PREFIX or asterisk on the PATH): Asterisk's built-in
//! AudioSocket, this module, and Asterisk's chan_websocket, on the same
//! workloads, alternating which goes first, with medians over rounds.
//!
//! Workloads, each with N concurrent calls made with Local channels whose
//! one half runs the transport under test and whose other half is:
//! - `echo`: `Echo()`; the bot sends paced frames and times their echo;
//! - `phone+paced`: a phone (a UnicastRTP channel to the load generator,
//!   sending a frame every 20 ms); the bot sends paced frames;
//! - `phone+talking`: the same phone; the bot listens 3 s, then sends 2 s
//!   of audio at once, again and again.
//!
//! The built-in and this module run `AudioSocket()` (this module also with
//! TLS, `s`, to a TLS front before the load server whose CPU is not
//! counted); chan_websocket runs `Dial(WebSocket/bench/c(slin))`, which is
//! how it is used.
//!
//! ```text
//! cargo run --release --example bench -- [--calls 100,300,500] [--seconds 20]
//!     [--rounds 3] [--workloads echo,paced,talking] [--only this|this+tls|built-in|websocket]
//! ```

#[path = "../../tests/common/asterisk.rs"]
#[allow(dead_code)]
mod asterisk;
mod load;
mod measure;
#[path = "../../tests/common/tls.rs"]
mod tls;

use std::thread;
use std::time::{Duration, Instant};

use asterisk::{Asterisk, Installed, Options};
use load::{Load, Workload};
use measure::{cpu_ms, median, pct, spread, switches};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Impl {
    Builtin,
    This,
    /// This module with TLS (option s) to a TLS front before the load server.
    ThisTls,
    WebSocket,
}

impl Impl {
    fn name(self) -> &'static str {
        match self {
            Impl::Builtin => "built-in",
            Impl::This => "this",
            Impl::ThisTls => "this+tls",
            Impl::WebSocket => "websocket",
        }
    }

    /// Why this Asterisk cannot run it, if it cannot.
    fn missing(self, installed: &Installed, workload: Workload) -> Option<String> {
        let need: &[&str] = match self {
            Impl::Builtin => &["app_audiosocket.so", "res_audiosocket.so"],
            Impl::This | Impl::ThisTls => &[],
            Impl::WebSocket => &[
                "chan_websocket.so",
                "res_websocket_client.so",
                "res_http_websocket.so",
                "res_sorcery_config.so",
            ],
        };
        let phone: &[&str] = if workload.has_phone() {
            &["chan_rtp.so", "res_rtp_asterisk.so", "res_rtp_multicast.so"]
        } else {
            &[]
        };
        let lacking: Vec<&&str> = need
            .iter()
            .chain(phone)
            .filter(|m| !installed.modules.join(m).exists())
            .collect();
        (!lacking.is_empty()).then(|| format!("this Asterisk lacks {lacking:?}"))
    }
}

/// One run's figures.
struct Outcome {
    cpu_per_call_s: f64,
    switches_per_call_s: f64,
    rss_kib_per_call: f64,
    /// Frames from the channel the bot got, against 50 per call-second.
    up_pct: f64,
    /// Bot frames that reached the far end (echoed back, or at the phone).
    down_pct: f64,
    up_gap: (f64, f64, f64),
    down_gap: (f64, f64, f64),
    /// Echo round trip, or bot-to-phone time, p50 and p99 (ms).
    latency: (f64, f64),
    /// Talking: bursts heard whole (%), and the span of a burst at the
    /// phone, p50 and max (ms).
    bursts: Option<(f64, f64, f64)>,
}

fn dialplan(load: &Load, tls_port: u16) -> String {
    let port = load.audiosocket_port;
    // The extension is the call's index; the UUID's last digits carry it.
    format!(
        "[bench-this]\nexten => _X.,1,Answer()\n \
         same => n,AudioSocket(00000000-0000-0000-0000-0000${{EXTEN}},127.0.0.1:{port})\n \
         same => n,Hangup()\n\
         [bench-this+tls]\nexten => _X.,1,Answer()\n \
         same => n,AudioSocket(00000000-0000-0000-0000-0000${{EXTEN}},127.0.0.1:{tls_port},s(bench))\n \
         same => n,Hangup()\n\
         [bench-built-in]\nexten => _X.,1,Answer()\n \
         same => n,AudioSocket(00000000-0000-0000-0000-0000${{EXTEN}},127.0.0.1:{port})\n \
         same => n,Hangup()\n\
         [bench-websocket]\nexten => _X.,1,Dial(WebSocket/bench/c(slin)v(call=${{EXTEN}}))\n \
         same => n,Hangup()\n\
         [echo]\nexten => _X!,1,Answer()\n same => n,Echo()\n\
         [phone]\nexten => _X.,1,Dial(UnicastRTP/127.0.0.1:${{EXTEN}}/c(slin))\n"
    )
}

fn run(imp: Impl, workload: Workload, calls: usize, seconds: u64) -> Option<Outcome> {
    let load = Load::start(workload, calls);
    let websocket_client = format!(
        "[bench]\ntype = websocket_client\nconnection_type = per_call_config\n\
         uri = ws://127.0.0.1:{}\nprotocols = media\n",
        load.websocket_port
    );
    let modules: &[&str] = &[
        "chan_websocket.so",
        "res_websocket_client.so",
        "res_http_websocket.so",
        "res_sorcery_config.so",
        "res_sorcery_memory.so",
        "res_rtp_asterisk.so",
        "res_rtp_multicast.so",
        "chan_rtp.so",
    ];
    // TLS: certificates made here, and a TLS front before the load server
    // (its CPU is not Asterisk's, so it is not counted).
    let pki = tls::Pki::new("bench");
    let cert = pki.issue("server", &["127.0.0.1"], tls::Role::Server, false);
    let front = (imp == Impl::ThisTls).then(|| {
        let config = tls::server_config(&cert, tls::ClientAuth::None, &[&rustls::version::TLS13]);
        tls::TlsFront::start(config, load.audiosocket_port)
    });
    let profile = format!(
        "[bench]\ntype = tls\nca_file = {}\n",
        pki.ca_file().display()
    );
    let ast = Asterisk::start_with(
        "bench",
        Options {
            dialplan: &dialplan(&load, front.as_ref().map_or(0, |f| f.port)),
            load_module: matches!(imp, Impl::This | Impl::ThisTls),
            builtin: imp == Impl::Builtin,
            extra_modules: modules,
            files: &[
                ("websocket_client.conf", &websocket_client),
                ("audiosocket.conf", &profile),
            ],
            ..Options::default()
        },
    )?;
    let (_, _, rss_before) = ast.resources();
    for i in 0..calls {
        let far = match workload {
            Workload::Echo => "1@echo".to_string(),
            _ => format!("{}@phone", load.phone_ports[i]),
        };
        ast.originate(&format!("{i:08}@bench-{}", imp.name()), &far);
    }
    let t0 = Instant::now();
    while load.connected.load(std::sync::atomic::Ordering::Relaxed) < calls
        && t0.elapsed() < Duration::from_secs(60)
    {
        thread::sleep(Duration::from_millis(50));
    }
    let connected = load.connected.load(std::sync::atomic::Ordering::Relaxed);
    thread::sleep(Duration::from_secs(2));
    load.start_measuring();
    let (cpu0, sw0) = (cpu_ms(ast.pid()), switches(ast.pid()));
    let window = Instant::now();
    thread::sleep(Duration::from_secs(seconds / 2));
    let (_, _, rss_during) = ast.resources();
    thread::sleep(Duration::from_secs(seconds - seconds / 2));
    let (cpu1, sw1) = (cpu_ms(ast.pid()), switches(ast.pid()));
    if std::env::var_os("BENCH_DEBUG").is_some() {
        eprintln!("{}", ast.log_tail());
        eprintln!("{}", ast.cli("core show channels"));
    }
    // On a saturated machine this thread may wake late: normalise by the
    // window as it was, not as asked.
    let window = window.elapsed().as_secs_f64();
    load.stop_measuring();
    let stats = load.finish();
    ast.wait_no_channels(Duration::from_secs(30));
    if connected < calls {
        eprintln!("  only {connected} of {calls} calls connected");
    }
    if window > seconds as f64 * 1.1 {
        eprintln!("  the {seconds} s window lasted {window:.1} s (machine saturated)");
    }

    let call_seconds = connected.max(1) as f64 * window;
    let (mut sent, mut up, mut arrived) = (0u64, 0u64, 0u64);
    let (mut up_gaps, mut down_gaps, mut lat) = (Vec::new(), Vec::new(), Vec::new());
    let mut bursts = Vec::new();
    for s in stats {
        sent += s.bot_sent;
        up += s.uplink;
        arrived += s.echoed + s.delivered;
        up_gaps.extend(s.uplink_gaps_us);
        down_gaps.extend(s.downlink_gaps_us);
        lat.extend(s.rtt_us);
        lat.extend(s.latency_us);
        bursts.extend(s.bursts);
    }
    let burst_figures = (workload == Workload::Talking).then(|| {
        let whole = bursts.iter().filter(|(frames, _)| *frames >= 100).count();
        let mut spans: Vec<u64> = bursts.iter().map(|(_, span)| *span).collect();
        (
            100.0 * whole as f64 / bursts.len().max(1) as f64,
            pct(&mut spans, 0.5),
            pct(&mut spans, 1.0),
        )
    });
    Some(Outcome {
        cpu_per_call_s: (cpu1 - cpu0) / call_seconds,
        switches_per_call_s: sw1.saturating_sub(sw0) as f64 / call_seconds,
        rss_kib_per_call: (rss_during as f64 - rss_before as f64) / connected.max(1) as f64,
        up_pct: 100.0 * up as f64 / (call_seconds * 50.0).max(1.0),
        down_pct: 100.0 * arrived as f64 / sent.max(1) as f64,
        up_gap: spread(&mut up_gaps),
        down_gap: spread(&mut down_gaps),
        latency: (pct(&mut lat, 0.5), pct(&mut lat, 0.99)),
        bursts: burst_figures,
    })
}

fn print_header() {
    println!(
        "{:>5} {:<13} {:<9} {:>9} {:>9} {:>8} {:>7} {:>7} {:>20} {:>20} {:>14} {:>20}",
        "calls",
        "workload",
        "impl",
        "CPU ms/cs",
        "cswitch/cs",
        "RSS KiB/c",
        "up %",
        "down %",
        "up gap p50/p99/max",
        "down gap p50/p99/max",
        "latency p50/p99",
        "bursts whole/span"
    );
}

fn print_row(n: usize, w: Workload, imp: Impl, r: &Outcome) {
    let gap = |g: (f64, f64, f64)| {
        if g.0.is_nan() {
            "-".to_string()
        } else {
            format!("{:.1}/{:.1}/{:.1}", g.0, g.1, g.2)
        }
    };
    let bursts = r.bursts.map_or("-".to_string(), |(whole, p50, max)| {
        format!("{whole:.0}% {p50:.0}/{max:.0} ms")
    });
    println!(
        "{:>5} {:<13} {:<9} {:>9.3} {:>9.1} {:>8.1} {:>7.2} {:>7.2} {:>20} {:>20} {:>14} {:>20}",
        n,
        w.name(),
        imp.name(),
        r.cpu_per_call_s,
        r.switches_per_call_s,
        r.rss_kib_per_call,
        r.up_pct,
        r.down_pct,
        gap(r.up_gap),
        gap(r.down_gap),
        format!("{:.1}/{:.1}", r.latency.0, r.latency.1),
        bursts,
    );
}

/// this / built-in and this / chan_websocket: CPU and context switches;
/// latency p50 this minus built-in; this with TLS / this: CPU.
#[derive(Default)]
struct Ratios {
    cpu_builtin: Vec<f64>,
    cpu_websocket: Vec<f64>,
    cs_builtin: Vec<f64>,
    latency_builtin: Vec<f64>,
    /// this+tls / this.
    cpu_tls: Vec<f64>,
}

fn print_ratios(n: usize, w: Workload, label: &str, r: &Ratios, one: impl Fn(&[f64]) -> f64) {
    println!(
        "{:>5} {:<13} {:<9} CPU {:.2}x the built-in, {:.2}x chan_websocket; cswitch {:.2}x the built-in; latency p50 {:+.1} ms; with TLS, CPU {:.2}x",
        n,
        w.name(),
        label,
        one(&r.cpu_builtin),
        one(&r.cpu_websocket),
        one(&r.cs_builtin),
        one(&r.latency_builtin),
        one(&r.cpu_tls),
    );
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
    let workloads: Vec<Workload> = value("--workloads")
        .unwrap_or_else(|| "echo,paced,talking".into())
        .split(',')
        .map(|w| match w.trim() {
            "echo" => Workload::Echo,
            "paced" => Workload::Paced,
            "talking" => Workload::Talking,
            other => panic!("unknown workload {other} (echo, paced, talking)"),
        })
        .collect();
    let only = value("--only");
    let Some(installed) = asterisk::installed("bench") else {
        return;
    };
    println!(
        "Asterisk {}; {} s per run, {} round(s); machine: {} CPUs",
        installed.version,
        seconds,
        rounds,
        thread::available_parallelism().map_or(0, |n| n.get())
    );
    print_header();
    for &workload in &workloads {
        let mut impls: Vec<Impl> = [Impl::Builtin, Impl::This, Impl::ThisTls, Impl::WebSocket]
            .into_iter()
            .filter(|i| only.as_deref().map_or(true, |o| o == i.name()))
            .collect();
        impls.retain(|i| match i.missing(installed, workload) {
            Some(why) => {
                println!("  {} skipped for {}: {why}", i.name(), workload.name());
                false
            }
            None => true,
        });
        for &n in &counts {
            let mut ratios = Ratios::default();
            for round in 0..rounds.max(1) {
                let mut order = impls.clone();
                let turn = round % order.len().max(1);
                order.rotate_left(turn);
                let mut got: Vec<(Impl, Outcome)> = Vec::new();
                for imp in order {
                    let Some(r) = run(imp, workload, n, seconds) else {
                        return;
                    };
                    print_row(n, workload, imp, &r);
                    got.push((imp, r));
                }
                let find = |i: Impl| got.iter().find(|(x, _)| *x == i).map(|(_, r)| r);
                if let Some(t) = find(Impl::This) {
                    if let Some(b) = find(Impl::Builtin) {
                        ratios.cpu_builtin.push(t.cpu_per_call_s / b.cpu_per_call_s);
                        ratios
                            .cs_builtin
                            .push(t.switches_per_call_s / b.switches_per_call_s);
                        ratios.latency_builtin.push(t.latency.0 - b.latency.0);
                    }
                    if let Some(w) = find(Impl::WebSocket) {
                        ratios
                            .cpu_websocket
                            .push(t.cpu_per_call_s / w.cpu_per_call_s);
                    }
                    if let Some(tls) = find(Impl::ThisTls) {
                        ratios.cpu_tls.push(tls.cpu_per_call_s / t.cpu_per_call_s);
                    }
                }
            }
            let last = |v: &[f64]| v.last().copied().unwrap_or(f64::NAN);
            if rounds > 1 {
                print_ratios(n, workload, "median", &ratios, |v| median(v.to_vec()));
            } else {
                print_ratios(n, workload, "ratio", &ratios, last);
            }
        }
    }
}
