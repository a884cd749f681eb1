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
//! - `tapped`: the phone in a call with a talking party (`Milliwatt()`),
//!   tapped to the bot: untapped, with `AUDIOSOCKET_TAP()` in `d(both)`
//!   and `d(stereo)`, and the way ARI users do it today (a snoop channel
//!   and an `externalMedia` channel of Asterisk's own AudioSocket in a
//!   mixing bridge, per call, set up by a small ARI client here).
//!
//! The built-in and this module run `AudioSocket()` (this module also with
//! `low_latency = no`, with TLS, `s`, to a TLS front before the load server
//! whose CPU is not counted, and as the channel driver,
//! `Dial(AudioSocket/...)`, the way ARI `externalMedia` users run it);
//! chan_websocket runs
//! `Dial(WebSocket/bench/c(slin))`, which is how it is used.
//!
//! A module a column needs that does not load ends the run with
//! Asterisk's reason: no column reports figures it did not measure.
//!
//! ```text
//! cargo run --release --example bench -- [--calls 100,300,500] [--seconds 20]
//!     [--rounds 3] [--workloads echo,paced,talking,tapped]
//!     [--only this,this-wait,this-drv,this+tls,this-ws,twilio,twilio-drv,this-drv-ulaw,
//!             built-in,websocket,untapped,tap,tap-stereo,tap-twilio,ari-snoop]
//! ```

#[path = "../../tests/common/ari.rs"]
#[allow(dead_code)]
mod ari;
#[path = "../../tests/common/asterisk.rs"]
#[allow(dead_code)]
mod asterisk;
#[path = "../../tests/common/g711.rs"]
#[allow(dead_code)]
mod g711;
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
    /// Asterisk's own channel driver, `Dial(AudioSocket/...)`.
    BuiltinDriver,
    This,
    /// This module's application with `low_latency = no`: a paced frame
    /// waits for the caller's next frame, saving a wake-up.
    ThisWaiting,
    /// This module's channel driver, `Dial(AudioSocket/...)`.
    ThisDriver,
    /// This module with TLS (option s) to a TLS front before the load server.
    ThisTls,
    WebSocket,
    /// This module over WebSocket: AudioSocket in binary messages.
    ThisWs,
    /// This module's Twilio dialect: the application (a channel at 8 kHz
    /// signed linear), and the driver (a µ-law channel) with a µ-law phone.
    Twilio,
    TwilioDriver,
    /// This module's AudioSocket driver with the same µ-law phone, for
    /// what the Twilio driver's µ-law channel saves.
    ThisDriverUlaw,
    /// The tapped workload's call, without a tap.
    Untapped,
    /// `AUDIOSOCKET_TAP()` with `d(both)`, and with `d(stereo)`.
    Tap,
    TapStereo,
    /// A tap of both sides in the Twilio dialect (a track each).
    TapTwilio,
    /// ARI's snoop channel and an externalMedia channel in a bridge.
    AriSnoop,
}

impl Impl {
    fn name(self) -> &'static str {
        match self {
            Impl::Builtin => "built-in",
            Impl::BuiltinDriver => "built-in-drv",
            Impl::This => "this",
            Impl::ThisWaiting => "this-wait",
            Impl::ThisDriver => "this-drv",
            Impl::ThisTls => "this+tls",
            Impl::WebSocket => "websocket",
            Impl::ThisWs => "this-ws",
            Impl::Twilio => "twilio",
            Impl::TwilioDriver => "twilio-drv",
            Impl::ThisDriverUlaw => "this-drv-ulaw",
            Impl::TapTwilio => "tap-twilio",
            Impl::Untapped => "untapped",
            Impl::Tap => "tap",
            Impl::TapStereo => "tap-stereo",
            Impl::AriSnoop => "ari-snoop",
        }
    }

    /// The columns of a workload.
    fn columns(workload: Workload) -> Vec<Impl> {
        match workload {
            Workload::Tap => vec![
                Impl::Untapped,
                Impl::Tap,
                Impl::TapStereo,
                Impl::TapTwilio,
                Impl::AriSnoop,
            ],
            _ => vec![
                Impl::Builtin,
                Impl::BuiltinDriver,
                Impl::This,
                Impl::ThisWaiting,
                Impl::ThisDriver,
                Impl::ThisTls,
                Impl::ThisWs,
                Impl::Twilio,
                Impl::TwilioDriver,
                Impl::ThisDriverUlaw,
                Impl::WebSocket,
            ],
        }
    }

    /// The modules it cannot run without, beside this module.
    fn needs(self, workload: Workload) -> Vec<&'static str> {
        let mut need: Vec<&str> = match self {
            Impl::Builtin => vec!["app_audiosocket.so", "res_audiosocket.so"],
            Impl::BuiltinDriver => vec!["chan_audiosocket.so", "res_audiosocket.so"],
            Impl::WebSocket => vec![
                "chan_websocket.so",
                "res_websocket_client.so",
                "res_http_websocket.so",
                "res_sorcery_config.so",
            ],
            // Its externalMedia channels are this module's: with Asterisk's
            // own chan_audiosocket, a server that only listens wedges the
            // run (its read waits for a header holding the channel's lock,
            // and every ARI request that looks a channel up waits behind
            // it; seen on 23.4.1).
            Impl::AriSnoop => ari::MODULES.to_vec(),
            _ => vec![],
        };
        if workload.has_phone() {
            need.extend(["chan_rtp.so", "res_rtp_asterisk.so", "res_rtp_multicast.so"]);
        }
        if self.phone() == "phone-ulaw" {
            need.push("codec_ulaw.so");
        }
        need
    }

    /// Why this Asterisk cannot run it, if it cannot.
    fn missing(self, installed: &Installed, workload: Workload) -> Option<String> {
        let lacking: Vec<&str> = self
            .needs(workload)
            .into_iter()
            .filter(|m| !installed.modules.join(m).exists())
            .collect();
        (!lacking.is_empty()).then(|| format!("this Asterisk lacks {lacking:?}"))
    }

    /// The far end's context: a phone of signed linear, or of µ-law.
    fn phone(self) -> &'static str {
        match self {
            Impl::TwilioDriver | Impl::ThisDriverUlaw => "phone-ulaw",
            _ => "phone",
        }
    }

    /// Whether it runs this module, or Asterisk's built-in AudioSocket.
    fn loads_this(self) -> bool {
        !matches!(self, Impl::Builtin | Impl::BuiltinDriver | Impl::WebSocket)
    }
}

/// One run's figures.
struct Outcome {
    cpu_per_call_s: f64,
    switches_per_call_s: f64,
    rss_kib_per_call: f64,
    /// Frames from the channel the bot got, against those the far end
    /// sent (see `run`).
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

/// One context per column, `bench-<column>`, and the far ends'.
fn dialplan(load: &Load, tls_port: u16) -> String {
    let port = load.audiosocket_port;
    let (aws, twilio) = (load.audiosocket_ws_port, load.twilio_port);
    // The extension is the call's index; the UUID's last digits carry it.
    let uuid = "00000000-0000-0000-0000-0000${EXTEN}";
    let app = |server: String| {
        format!(
            "exten => _X.,1,Answer()\n same => n,AudioSocket({uuid},{server})\n \
             same => n,Hangup()\n"
        )
    };
    let driver =
        format!("exten => _X.,1,Dial(AudioSocket/127.0.0.1:{port}/{uuid})\n same => n,Hangup()\n");
    let talking = |first: String| {
        format!("exten => _X.,1,Answer()\n{first} same => n,Dial(Local/1@talker/n)\n")
    };
    let tap_at = |server: &str, options: &str| {
        talking(format!(
            " same => n,Set(AUDIOSOCKET_TAP({uuid})={server}{options})\n"
        ))
    };
    let local = format!("127.0.0.1:{port}");
    let tap = |options: &str| tap_at(&local, options);
    let columns = [
        (
            Impl::ThisWs,
            app(format!("ws://127.0.0.1:{aws}/bench?call=${{EXTEN}}")),
        ),
        (
            Impl::Twilio,
            app(format!("ws://127.0.0.1:{twilio}/bench,p(twilio)")),
        ),
        (
            Impl::TwilioDriver,
            format!("exten => _X.,1,Dial(AudioSocket/ws:twilio/{uuid})\n same => n,Hangup()\n"),
        ),
        (Impl::ThisDriverUlaw, driver.clone()),
        (
            Impl::TapTwilio,
            tap_at(&format!("ws://127.0.0.1:{twilio}/bench"), ",p(twilio)"),
        ),
        (Impl::Builtin, app(format!("127.0.0.1:{port}"))),
        (Impl::This, app(format!("127.0.0.1:{port}"))),
        (Impl::ThisWaiting, app(format!("127.0.0.1:{port}"))),
        (Impl::ThisTls, app(format!("127.0.0.1:{tls_port},s(bench)"))),
        (Impl::BuiltinDriver, driver.clone()),
        (Impl::ThisDriver, driver),
        (
            Impl::WebSocket,
            "exten => _X.,1,Dial(WebSocket/bench/c(slin)v(call=${EXTEN}))\n same => n,Hangup()\n"
                .to_string(),
        ),
        (Impl::Untapped, talking(String::new())),
        (Impl::AriSnoop, talking(String::new())),
        (Impl::Tap, tap("")),
        (Impl::TapStereo, tap(",d(stereo)")),
    ];
    let mut plan: String = columns
        .iter()
        .map(|(imp, body)| format!("[bench-{}]\n{body}", imp.name()))
        .collect();
    plan.push_str(
        "[talker]\nexten => _X!,1,Answer()\n same => n,Milliwatt()\n\
         [echo]\nexten => _X!,1,Answer()\n same => n,Echo()\n\
         [phone]\nexten => _X.,1,Dial(UnicastRTP/127.0.0.1:${EXTEN}/c(slin))\n\
         [phone-ulaw]\nexten => _X.,1,Dial(UnicastRTP/127.0.0.1:${EXTEN}/c(ulaw))\n",
    );
    plan
}

fn run(imp: Impl, workload: Workload, calls: usize, seconds: u64) -> Option<Outcome> {
    let load = Load::start(workload, calls);
    let websocket_client = format!(
        "[bench]\ntype = websocket_client\nconnection_type = per_call_config\n\
         uri = ws://127.0.0.1:{}\nprotocols = media\n",
        load.websocket_port
    );
    let needs = imp.needs(workload);
    let http_port = ami_free_port();
    let ari_files = ari::files(http_port);
    // TLS: certificates made here, and a TLS front before the load server
    // (its CPU is not Asterisk's, so it is not counted).
    let pki = tls::Pki::new("bench");
    let cert = pki.issue("server", &["127.0.0.1"], tls::Role::Server, false);
    let front = (imp == Impl::ThisTls).then(|| {
        let config = tls::server_config(&cert, tls::ClientAuth::None, &[&rustls::version::TLS13]);
        tls::TlsFront::start(config, load.audiosocket_port)
    });
    let profile = format!(
        "[general]\nlow_latency = {}\n[bench]\ntype = tls\nca_file = {}\n\
         [twilio]\ntype = websocket\nurl = ws://127.0.0.1:{}/bench\ndialect = twilio\n",
        if imp == Impl::ThisWaiting {
            "no"
        } else {
            "yes"
        },
        pki.ca_file().display(),
        load.twilio_port
    );
    let ast = Asterisk::start_with(
        "bench",
        Options {
            dialplan: &dialplan(&load, front.as_ref().map_or(0, |f| f.port)),
            load_module: imp.loads_this(),
            builtin: matches!(imp, Impl::Builtin | Impl::BuiltinDriver),
            needs: &needs,
            files: &[
                ("websocket_client.conf", &websocket_client),
                ("audiosocket.conf", &profile),
                ("http.conf", &ari_files[0].1),
                ("ari.conf", &ari_files[1].1),
            ],
            ..Options::default()
        },
    )?;
    let snoop = (imp == Impl::AriSnoop).then(|| ari::Ari::connect(http_port, "benchtap"));
    let (_, _, rss_before) = ast.resources();
    for i in 0..calls {
        let far = match workload {
            Workload::Echo => "1@echo".to_string(),
            _ => format!("{}@{}", load.phone_ports[i], imp.phone()),
        };
        ast.originate(&format!("{i:08}@bench-{}", imp.name()), &far);
    }
    if let Some(ari) = &snoop {
        snoop_every_call(ari, calls, load.audiosocket_port);
    }
    let t0 = Instant::now();
    // A call is up when its bot is connected; an untapped call has no bot,
    // and is up when its phone hears it.
    let up = || {
        if imp == Impl::Untapped {
            load.phones_heard()
        } else {
            load.connected.load(std::sync::atomic::Ordering::Relaxed)
        }
    };
    while up() < calls && t0.elapsed() < Duration::from_secs(60) {
        thread::sleep(Duration::from_millis(50));
    }
    let connected = up();
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
    // A tapped call goes on when its tap ends.
    ast.cli("channel request hangup all");
    ast.wait_no_channels(Duration::from_secs(30));
    if connected < calls {
        eprintln!("  only {connected} of {calls} calls connected");
    }
    if window > seconds as f64 * 1.1 {
        eprintln!("  the {seconds} s window lasted {window:.1} s (machine saturated)");
    }

    let call_seconds = connected.max(1) as f64 * window;
    let (mut sent, mut up, mut arrived) = (0u64, 0u64, 0u64);
    let (mut phone_sent, mut phone_heard) = (0u64, 0u64);
    let (mut up_gaps, mut down_gaps, mut lat) = (Vec::new(), Vec::new(), Vec::new());
    let mut bursts = Vec::new();
    for s in stats {
        sent += s.bot_sent;
        up += s.uplink;
        phone_sent += s.phone_sent;
        phone_heard += s.phone_heard;
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
        // Nothing to deliver (no server on an untapped call, nothing sent
        // to a tap's phone): no figure rather than a zero.
        // Frames, not time: the phone's frames the bot got, each once,
        // against those the phone sent; a tap's are mixed with the other
        // party's (no frame keeps its number), so its frames received
        // against the phone's sent; echo's are the bot's own frames back.
        up_pct: match workload {
            _ if imp == Impl::Untapped => f64::NAN,
            Workload::Echo => 100.0 * arrived as f64 / sent.max(1) as f64,
            Workload::Tap => 100.0 * up as f64 / phone_sent.max(1) as f64,
            _ => 100.0 * phone_heard as f64 / phone_sent.max(1) as f64,
        },
        down_pct: if sent == 0 {
            f64::NAN
        } else {
            100.0 * arrived as f64 / sent as f64
        },
        up_gap: spread(&mut up_gaps),
        down_gap: spread(&mut down_gaps),
        latency: (pct(&mut lat, 0.5), pct(&mut lat, 0.99)),
        bursts: burst_figures,
    })
}

/// A free TCP port on loopback, for ARI's HTTP server.
fn ami_free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The way ARI users tap a call today: for each call, a snoop channel on
/// its tapped channel (both directions) and an externalMedia channel of
/// Asterisk's own AudioSocket to the load, in a mixing bridge.
fn snoop_every_call(ari: &ari::Ari, calls: usize, port: u16) {
    let t0 = Instant::now();
    let tapped = loop {
        let list = ari.ok("GET", "channels");
        // Each channel object opens with its id, then its name.
        let found: Vec<(usize, String)> = list
            .split("{\"id\":\"")
            .skip(1)
            .filter_map(|o| {
                let id = &o[..o.find('"')?];
                let name = ari::string_field(o, "name")?;
                let rest = name.strip_prefix("Local/")?;
                let index = rest.split('@').next()?.parse().ok()?;
                (rest.contains("@bench-ari-snoop") && name.ends_with(";2"))
                    .then(|| (index, id.to_string()))
            })
            .collect();
        if found.len() >= calls || t0.elapsed() > Duration::from_secs(60) {
            break found;
        }
        thread::sleep(Duration::from_millis(200));
    };
    for (i, id) in tapped {
        let snoop = ari.ok(
            "POST",
            &format!("channels/{id}/snoop?spy=both&app=benchtap"),
        );
        let snoop = ari::string_field(&snoop, "id").expect("a snoop channel");
        let media = ari.ok(
            "POST",
            &format!(
                "channels/externalMedia?app=benchtap&external_host=127.0.0.1:{port}&format=slin\
                 &encapsulation=audiosocket&transport=tcp\
                 &data=00000000-0000-0000-0000-0000{i:08}"
            ),
        );
        let media = ari::string_field(&media, "id").expect("an externalMedia channel");
        ari.wait_stasis_start(&snoop, Duration::from_secs(10));
        ari.wait_stasis_start(&media, Duration::from_secs(10));
        let bridge = ari.ok("POST", "bridges?type=mixing");
        let bridge = ari::string_field(&bridge, "id").expect("a bridge");
        ari.ok(
            "POST",
            &format!("bridges/{bridge}/addChannel?channel={snoop},{media}"),
        );
    }
}

fn print_header() {
    println!(
        "{:>5} {:<13} {:<12} {:>9} {:>9} {:>8} {:>7} {:>7} {:>20} {:>20} {:>14} {:>20}",
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
    let gap = |g: (f64, f64, f64)| or_dash(g.0, || format!("{:.1}/{:.1}/{:.1}", g.0, g.1, g.2));
    let bursts = r.bursts.map_or("-".to_string(), |(whole, p50, max)| {
        format!("{whole:.0}% {p50:.0}/{max:.0} ms")
    });
    let share = |p: f64| or_dash(p, || format!("{p:.2}"));
    println!(
        "{:>5} {:<13} {:<12} {:>9.3} {:>9.1} {:>8.1} {:>7} {:>7} {:>20} {:>20} {:>14} {:>20}",
        n,
        w.name(),
        imp.name(),
        r.cpu_per_call_s,
        r.switches_per_call_s,
        r.rss_kib_per_call,
        share(r.up_pct),
        share(r.down_pct),
        gap(r.up_gap),
        gap(r.down_gap),
        or_dash(r.latency.0, || format!(
            "{:.1}/{:.1}",
            r.latency.0, r.latency.1
        )),
        bursts,
    );
}

/// "-" for a figure the run does not have (NaN), else `text()`.
fn or_dash(figure: f64, text: impl FnOnce() -> String) -> String {
    if figure.is_nan() {
        "-".to_string()
    } else {
        text()
    }
}

/// How one outcome compares with another.
type Figure = fn(&Outcome, &Outcome) -> f64;

/// One round's ratios, by label, for a workload and N.
fn ratios(workload: Workload, got: &[(Impl, Outcome)]) -> Vec<(&'static str, f64)> {
    let find = |i: Impl| got.iter().find(|(x, _)| *x == i).map(|(_, r)| r);
    let mut out = Vec::new();
    let mut put = |label, a: Option<&Outcome>, b: Option<&Outcome>, f: Figure| {
        // A figure the workload does not have (no latency without a
        // paced server) is left out, not printed as NaN.
        if let Some(v) = a.zip(b).map(|(a, b)| f(a, b)).filter(|v| !v.is_nan()) {
            out.push((label, v));
        }
    };
    let cpu = |a: &Outcome, b: &Outcome| a.cpu_per_call_s / b.cpu_per_call_s;
    if workload == Workload::Tap {
        let untapped = find(Impl::Untapped);
        let added = |a: &Outcome, b: &Outcome| a.cpu_per_call_s - b.cpu_per_call_s;
        let rss = |a: &Outcome, b: &Outcome| a.rss_kib_per_call - b.rss_kib_per_call;
        put("CPU ms/cs added by a tap", find(Impl::Tap), untapped, added);
        put("by a stereo tap", find(Impl::TapStereo), untapped, added);
        put("by a Twilio tap", find(Impl::TapTwilio), untapped, added);
        put("by ARI's snoop", find(Impl::AriSnoop), untapped, added);
        put("RSS KiB a tap", find(Impl::Tap), untapped, rss);
        put("a stereo tap", find(Impl::TapStereo), untapped, rss);
        put("ARI's snoop", find(Impl::AriSnoop), untapped, rss);
        if let (Some(u), Some(a)) = (untapped, find(Impl::AriSnoop)) {
            let ari = a.cpu_per_call_s - u.cpu_per_call_s;
            for (label, imp) in [
                ("tap / ARI added CPU", Impl::Tap),
                ("stereo / ARI", Impl::TapStereo),
            ] {
                if let Some(t) = find(imp) {
                    out.push((label, (t.cpu_per_call_s - u.cpu_per_call_s) / ari));
                }
            }
        }
        return out;
    }
    let p50 = |a: &Outcome, b: &Outcome| a.latency.0 - b.latency.0;
    let p99 = |a: &Outcome, b: &Outcome| a.latency.1 - b.latency.1;
    let switches = |a: &Outcome, b: &Outcome| a.switches_per_call_s / b.switches_per_call_s;
    use Impl::{
        Builtin, BuiltinDriver, This, ThisDriver, ThisDriverUlaw, ThisTls, ThisWaiting, ThisWs,
        Twilio, TwilioDriver, WebSocket,
    };
    // (label, this, against, how)
    let figures: [(&str, Impl, Impl, Figure); 24] = [
        ("CPU ws/this", ThisWs, This, cpu),
        ("twilio/this", Twilio, This, cpu),
        ("twilio/websocket", Twilio, WebSocket, cpu),
        (
            "twilio-drv/this-drv-ulaw",
            TwilioDriver,
            ThisDriverUlaw,
            cpu,
        ),
        ("latency p50 ws-this ms", ThisWs, This, p50),
        ("p99", ThisWs, This, p99),
        ("twilio-this p50", Twilio, This, p50),
        ("twilio-this p99", Twilio, This, p99),
        ("twilio-drv-this-drv p50", TwilioDriver, ThisDriver, p50),
        ("CPU this/built-in", This, Builtin, cpu),
        ("wait/built-in", ThisWaiting, Builtin, cpu),
        ("driver/built-in", ThisDriver, Builtin, cpu),
        ("driver/built-in-drv", ThisDriver, BuiltinDriver, cpu),
        ("this/websocket", This, WebSocket, cpu),
        ("tls/this", ThisTls, This, cpu),
        ("cswitch this/built-in", This, Builtin, switches),
        ("latency p50 this-built-in ms", This, Builtin, p50),
        ("p99", This, Builtin, p99),
        ("wait p50", ThisWaiting, Builtin, p50),
        ("wait p99", ThisWaiting, Builtin, p99),
        ("driver p50", ThisDriver, Builtin, p50),
        ("driver p99", ThisDriver, Builtin, p99),
        ("driver-built-in-drv p50", ThisDriver, BuiltinDriver, p50),
        ("driver-built-in-drv p99", ThisDriver, BuiltinDriver, p99),
    ];
    for (label, a, b, f) in figures {
        put(label, find(a), find(b), f);
    }
    out
}

fn print_ratios(n: usize, w: Workload, label: &str, all: &[Vec<(&'static str, f64)>]) {
    let mut names: Vec<&str> = Vec::new();
    for (name, _) in all.iter().flatten() {
        if !names.contains(name) {
            names.push(name);
        }
    }
    let parts: Vec<String> = names
        .iter()
        .map(|name| {
            let values: Vec<f64> = all
                .iter()
                .flatten()
                .filter(|(n, _)| n == name)
                .map(|(_, v)| *v)
                .collect();
            let each: Vec<String> = values.iter().map(|v| format!("{v:.2}")).collect();
            format!("{name} {:.2} ({})", median(values), each.join(", "))
        })
        .collect();
    println!("{:>5} {:<13} {label}: {}", n, w.name(), parts.join("; "));
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
        .unwrap_or_else(|| "echo,paced,talking,tapped".into())
        .split(',')
        .map(|w| match w.trim() {
            "echo" => Workload::Echo,
            "paced" => Workload::Paced,
            "talking" => Workload::Talking,
            "tapped" => Workload::Tap,
            other => panic!("unknown workload {other} (echo, paced, talking, tapped)"),
        })
        .collect();
    let only: Option<Vec<String>> =
        value("--only").map(|o| o.split(',').map(|s| s.trim().to_string()).collect());
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
        let mut impls: Vec<Impl> = Impl::columns(workload)
            .into_iter()
            .filter(|i| {
                only.as_ref()
                    .map_or(true, |o| o.iter().any(|n| n == i.name()))
            })
            .collect();
        impls.retain(|i| match i.missing(installed, workload) {
            Some(why) => {
                println!("  {} skipped for {}: {why}", i.name(), workload.name());
                false
            }
            None => true,
        });
        for &n in &counts {
            let mut all = Vec::new();
            for round in 0..rounds.max(1) {
                let mut order = impls.clone();
                let turn = round % order.len().max(1);
                order.rotate_left(turn);
                let mut got: Vec<(Impl, Outcome)> = Vec::new();
                for imp in order {
                    let Some(r) = run(imp, workload, n, seconds) else {
                        eprintln!(
                            "bench: {} could not run {} (see the line above); stopping",
                            imp.name(),
                            workload.name()
                        );
                        std::process::exit(1);
                    };
                    print_row(n, workload, imp, &r);
                    got.push((imp, r));
                }
                all.push(ratios(workload, &got));
            }
            let label = if rounds > 1 {
                "median (each round)"
            } else {
                "ratio"
            };
            print_ratios(n, workload, label, &all);
        }
    }
}
