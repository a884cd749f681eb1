//! A bot's audio without the wait, on a real Asterisk with a SIP phone
//! (sipp through PJSIP; the test plays the phone's RTP): a paced server's
//! frames reach the phone within a few milliseconds of their send, at a
//! phase of their own against the phone's and with clocks 0.5 % apart; a
//! burst is still heard whole at real-time speed; a phone that sends
//! nothing still hears a paced server. Through `AudioSocket()` and
//! `Dial(AudioSocket/...)` alike.
//!
//! Each server frame carries one level (a constant sample value) of
//! twenty, far enough apart to survive µ-law, so the phone knows which
//! frame each packet is.

mod common;

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::sip::{self, CallSpec, Codec, Ending, Phone, Sipp, Stack};
use common::{TestServer, UUID};

const S: Duration = Duration::from_secs(1);
const FRAME: Duration = Duration::from_millis(20);
const PCMU: Codec = Codec {
    payload_type: 0,
    ptime_ms: 20,
};

const LEVELS: usize = 20;

/// The level of frame `k`.
fn level(k: usize) -> i16 {
    200 + 200 * (k % LEVELS) as i16
}

/// Which of the levels a packet's mean is, if it is one.
fn frame_of(mean: i32) -> Option<usize> {
    // The nearest level: µ-law's steps near the top are 256 wide.
    let k = ((mean - 200) as f64 / 200.0).round();
    (0.0..LEVELS as f64).contains(&k).then_some(k as usize)
}

fn dialplan() -> String {
    format!(
        "[from-sipp]\n\
         exten => _X.,1,Answer()\n same => n,AudioSocket({UUID},127.0.0.1:${{EXTEN}})\n \
         same => n,Hangup()\n\
         exten => _9X.,1,Dial(AudioSocket/127.0.0.1:${{EXTEN:1}}/{UUID})\n same => n,Hangup()\n"
    )
}

/// How the server sends its frames.
#[derive(Clone, Copy)]
enum Sending {
    /// One every `period`, as a paced bot does.
    Paced(Duration),
    /// All at once.
    Burst,
}

/// What a call measured: for each frame the phone got, how long after
/// its send; the frames it never got; how many frames the module dropped
/// on that call as too late to play (a starved machine), by its own count;
/// and the span from the first frame heard to the last.
struct Measured {
    waited: Vec<Duration>,
    missing: Vec<usize>,
    dropped_late: u64,
    span: Duration,
}

impl Measured {
    /// Every frame heard; on a machine too loaded to run the call in time,
    /// all but those the module counted as dropped late on this call (a
    /// few at most).
    fn assert_whole(&self, what: &str) {
        if self.missing.is_empty() {
            return;
        }
        assert!(
            self.missing.len() as u64 <= self.dropped_late && self.missing.len() <= 5,
            "{what}: frames {:?} were not heard, and the module counted {} dropped as late",
            self.missing,
            self.dropped_late
        );
        eprintln!(
            "{what}: {} frame(s) dropped as late: the machine was too loaded",
            self.missing.len()
        );
    }
}

/// One call from a phone through PJSIP to the application (or, with
/// `driver`, to the channel driver): the phone sends a frame every 20 ms
/// at a 10 ms phase against the server's first frame (or nothing, when
/// `silent`), the server sends `frames` frames as `sending` says.
fn measure(
    test: &str,
    driver: bool,
    sending: Sending,
    frames: usize,
    silent: bool,
) -> Option<Measured> {
    let (ast, sip_port, caller_port) = sip::asterisk(test, Stack::Pjsip, &dialplan())?;
    let srv = TestServer::new();
    let phone = Phone::new(PCMU);
    let call = CallSpec {
        exten: format!("{}{}", if driver { "9" } else { "" }, srv.port),
        caller: "100".into(),
        codec: PCMU,
        media_port: phone.port,
    };
    let length = match sending {
        Sending::Paced(p) => p * frames as u32,
        Sending::Burst => FRAME * frames as u32,
    };
    let mut sipp = Sipp::call(
        sip_port,
        caller_port,
        &[call],
        Ending::CallerHangsUp(length + 4 * S),
    );
    let (start_tx, start_rx) = mpsc::channel::<Instant>();
    let server = thread::spawn(move || {
        let mut conn = srv.accept_call();
        // Let the call settle (the phone's clock, the bridge), then send.
        let t0 = Instant::now() + S;
        let _ = start_tx.send(t0);
        let mut sent = Vec::with_capacity(frames);
        for k in 0..frames {
            if let Sending::Paced(period) = sending {
                thread::sleep((t0 + period * k as u32).saturating_duration_since(Instant::now()));
            }
            let pcm: Vec<u8> = std::iter::repeat(level(k).to_le_bytes())
                .take(160)
                .flatten()
                .collect();
            sent.push(Instant::now());
            conn.send(0x10, &pcm);
        }
        // The call goes on until the phone hangs up.
        conn.wait_closed(length + 10 * S);
        sent
    });
    let to = sipp.asterisk_media(phone.port, 10 * S).expect("answered");
    let t0 = start_rx.recv_timeout(10 * S).expect("the server's call");
    if !silent {
        // Half a frame out of step with the server.
        phone.talk_from(t0 - S / 2 + FRAME / 2, to, 600.0, length + 2 * S, None);
    }
    let sent = server.join().unwrap();
    sipp.finished(20 * S)
        .unwrap_or_else(|e| panic!("{test}: {e}"));
    assert!(ast.wait_no_channels(10 * S));
    let log = ast.log();
    // This Asterisk ran this one call: its totals are the call's.
    let stats = ast.cli("audiosocket show stats");
    let dropped_late = stats
        .lines()
        .find_map(|l| l.strip_prefix("Dropped late:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no 'Dropped late' in:\n{stats}"));
    let heard = phone.heard();
    // Frames come in order: a packet of level L is the first frame from
    // `next` on with that level (a lost frame costs only itself).
    let mut waited = Vec::new();
    let mut missing = Vec::new();
    let mut next = 0;
    let (mut first, mut last) = (None, None);
    for (at, mean) in &heard.arrivals {
        let Some(level) = frame_of(*mean) else {
            continue;
        };
        let k = next + (level + LEVELS - next % LEVELS) % LEVELS;
        if k >= frames {
            continue;
        }
        missing.extend(next..k);
        waited.push(at.saturating_duration_since(sent[k]));
        first.get_or_insert(*at);
        last = Some(*at);
        next = k + 1;
    }
    missing.extend(next..frames);
    if !missing.is_empty() {
        // Where they went: the first packets the phone got, when (from the
        // server's first send), their level and RTP sequence number.
        let first: Vec<String> = heard
            .arrivals
            .iter()
            .zip(&heard.sequence)
            .take(6)
            .map(|((at, mean), seq)| {
                let ms = at.saturating_duration_since(sent[0]).as_secs_f64() * 1e3;
                format!("{ms:.1} ms: mean {mean}, seq {seq}")
            })
            .collect();
        eprintln!(
            "{test}: frames not heard: {missing:?}; the first packets heard: {first:?}; \
             the module said:\n{}",
            log.lines()
                .filter(|l| l.contains("AudioSocket") || l.contains("audiosocket"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    Some(Measured {
        dropped_late,
        missing,
        span: last.zip(first).map_or(Duration::ZERO, |(l, f)| l - f),
        waited,
    })
}

fn percentile(v: &[Duration], p: f64) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v[((v.len() - 1) as f64 * p) as usize]
}

fn paced_frames_arrive_at_once(test: &str, driver: bool) {
    for (period, what) in [
        (FRAME, "in step"),
        (FRAME * 995 / 1000, "0.5 % fast"),
        (FRAME * 1005 / 1000, "0.5 % slow"),
    ] {
        let Some(m) = measure(test, driver, Sending::Paced(period), 250, false) else {
            return;
        };
        m.assert_whole(&format!("{test} {what}"));
        let (median, p95) = (percentile(&m.waited, 0.5), percentile(&m.waited, 0.95));
        eprintln!(
            "{test} {what}: from the server's send to the phone, median {median:?}, p95 {p95:?}"
        );
        assert!(
            median < Duration::from_millis(5),
            "{test} {what}: the median frame waited {median:?}"
        );
        // Over five seconds a drifting clock gains a frame: it must not
        // pile up.
        let late = &m.waited[200..];
        assert!(
            percentile(late, 0.5) < Duration::from_millis(5),
            "{test} {what}: the last second's median {:?}",
            percentile(late, 0.5)
        );
    }
}

#[test]
fn paced_frames_reach_the_phone_at_once_through_the_application() {
    paced_frames_arrive_at_once("latency_app", false);
}

#[test]
fn paced_frames_reach_the_phone_at_once_through_the_driver() {
    paced_frames_arrive_at_once("latency_driver", true);
}

#[test]
fn a_burst_is_heard_whole_at_real_time_speed_both_ways() {
    for (test, driver) in [("burst_app", false), ("burst_driver", true)] {
        let Some(m) = measure(test, driver, Sending::Burst, 100, false) else {
            return;
        };
        m.assert_whole(test);
        assert!(
            m.span >= Duration::from_millis(1900) && m.span <= Duration::from_millis(2300),
            "{test}: two seconds took {:?} to hear",
            m.span
        );
    }
}

#[test]
fn a_phone_that_sends_nothing_still_hears_a_paced_server() {
    for (test, driver) in [("silent_phone_app", false), ("silent_phone_driver", true)] {
        let Some(m) = measure(test, driver, Sending::Paced(FRAME), 100, true) else {
            return;
        };
        m.assert_whole(test);
        let median = percentile(&m.waited, 0.5);
        assert!(
            median < Duration::from_millis(5),
            "{test}: median {median:?}"
        );
    }
}
