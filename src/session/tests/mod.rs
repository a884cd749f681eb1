//! Session tests over real loopback TCP: a small scripted server on one
//! side, the channel side driven from the test thread on the other.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod barge_in;
mod caller_clock;
mod context;
mod resume;
mod tap;
mod tls;
mod websocket;

use super::*;
use crate::logging::{Level, Log};
use crate::protocol::{encode_audio, Rate};

#[derive(Default)]
struct Captured(Mutex<Vec<(Level, String)>>);

impl Log for Captured {
    fn log(&self, level: Level, _f: &'static str, _l: u32, _fn: &'static str, msg: &str) {
        self.0.lock().unwrap().push((level, msg.to_string()));
    }
}

impl Captured {
    fn warnings(&self) -> Vec<String> {
        let v = self.0.lock().unwrap();
        v.iter()
            .filter(|(l, _)| *l == Level::Warning)
            .map(|(_, m)| m.clone())
            .collect()
    }
}

const UUID: [u8; 16] = *b"0123456789abcdef";

fn listener() -> (TcpListener, ServerAddr) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    (
        l,
        ServerAddr {
            host: "127.0.0.1".into(),
            port,
            shown: None,
        },
    )
}

fn start(server: ServerAddr, rate: Rate) -> (Session, Arc<Captured>) {
    start_with(server, rate, |_| {})
}

/// `start`, with the configuration changed by `edit` first.
fn start_with(
    server: ServerAddr,
    rate: Rate,
    edit: impl FnOnce(&mut SessionConfig),
) -> (Session, Arc<Captured>) {
    let log = Arc::new(Captured::default());
    let mut cfg = SessionConfig::new(UUID, server, rate, "Test/chan");
    cfg.connect_timeout = Duration::from_secs(2);
    // Tests that check every byte must not lose audio to a loaded machine
    // (the lateness bound has its own test).
    cfg.max_lateness = None;
    edit(&mut cfg);
    (Session::start(cfg, log.clone()).unwrap(), log)
}

/// Reads one message from the server's side of the socket.
fn read_msg(s: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let mut h = [0u8; 3];
    s.read_exact(&mut h).ok()?;
    let mut p = vec![0u8; u16::from_be_bytes([h[1], h[2]]) as usize];
    s.read_exact(&mut p).ok()?;
    Some((h[0], p))
}

/// Runs the channel side as the channel thread would: waits on the
/// session's descriptors and collects events with their arrival times,
/// until the session ends or `limit` passes. Woken for every event, as the
/// channel driver's thread is.
fn pump(session: &mut Session, limit: Duration) -> Vec<(Instant, Event)> {
    pump_with(session, limit, false).0
}

/// Like [`pump`], but waits as the application's channel thread does:
/// parked, so the I/O thread may leave it to find audio by itself.
fn pump_parked(session: &mut Session, limit: Duration) -> Vec<(Instant, Event)> {
    pump_with(session, limit, true).0
}

/// The events, and how many times the wake-up descriptor was readable.
fn pump_with(
    session: &mut Session,
    limit: Duration,
    parked: bool,
) -> (Vec<(Instant, Event)>, usize) {
    let deadline = Instant::now() + limit;
    let mut out = Vec::new();
    let mut wake_ups = 0;
    loop {
        while let Some(ev) = session.next_event(Instant::now()) {
            let ended = matches!(ev, Event::Ended(_));
            out.push((Instant::now(), ev));
            if ended {
                return (out, wake_ups);
            }
        }
        let now = Instant::now();
        if now >= deadline {
            return (out, wake_ups);
        }
        if wait_for_the_session(session, now, deadline - now, parked)[0].revents != 0 {
            wake_ups += 1;
        }
    }
}

/// Waits on the session's descriptors for at most `wait`, parked as the
/// application's channel thread is or not, and takes the wake-up only when
/// it is readable, as the application does. The descriptors, as polled.
fn wait_for_the_session(
    session: &mut Session,
    now: Instant,
    mut wait: Duration,
    parked: bool,
) -> [libc::pollfd; 2] {
    if parked {
        wait = session.park(now).map_or(wait, |d| d.min(wait));
    }
    let mut fds = session.wait_fds().map(|fd| fd::pollfd(fd, libc::POLLIN));
    fd::poll(&mut fds, Some(wait)).unwrap();
    if parked {
        session.unpark();
    }
    if fds[0].revents != 0 {
        session.take_wake_up();
    }
    fds
}

fn audio_bytes(events: &[(Instant, Event)]) -> Vec<u8> {
    events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Audio(f) => Some(f.pcm.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn ending(events: &[(Instant, Event)]) -> Option<&EndReason> {
    match events.last() {
        Some((_, Event::Ended(r))) => Some(r),
        _ => None,
    }
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn uuid_goes_first_then_channel_audio_and_dtmf() {
    let (l, addr) = listener();
    let (mut s, _log) = start(addr, Rate::Hz8000);
    let (mut peer, _) = l.accept().unwrap();
    assert_eq!(read_msg(&mut peer), Some((0x01, UUID.to_vec())));
    let ev = pump(&mut s, Duration::from_secs(2));
    assert!(matches!(ev.first(), Some((_, Event::Connected))));
    s.send_audio(&[1u8; 320]);
    s.send_dtmf(b'7');
    s.send_dtmf(b'x'); // not a digit: never sent
    s.send_audio(&[2u8; 320]);
    assert_eq!(read_msg(&mut peer), Some((0x10, vec![1; 320])));
    assert_eq!(read_msg(&mut peer), Some((0x03, b"7".to_vec())));
    assert_eq!(read_msg(&mut peer), Some((0x10, vec![2; 320])));
    drop(s);
    // The channel hung up: a hangup message, then the close.
    assert_eq!(read_msg(&mut peer), Some((0x00, vec![])));
    assert_eq!(read_msg(&mut peer), None);
}

#[test]
fn a_burst_is_played_whole_in_order_at_real_time_pace() {
    let (l, addr) = listener();
    let (mut s, _log) = start(addr, Rate::Hz8000);
    let (mut peer, _) = l.accept().unwrap();
    read_msg(&mut peer).unwrap();
    // Three seconds of audio at once in odd-sized payloads, then hang up.
    let pcm = pattern(48_000);
    let mut wire = Vec::new();
    for chunk in pcm.chunks(1001) {
        wire.push(0x10);
        wire.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
        wire.extend_from_slice(chunk);
    }
    wire.extend_from_slice(&[0, 0, 0]);
    let writer = std::thread::spawn(move || {
        peer.write_all(&wire).unwrap();
        peer
    });
    let ev = pump(&mut s, Duration::from_secs(10));
    let _peer = writer.join().unwrap();
    assert_eq!(ending(&ev), Some(&EndReason::ServerHangup(Hangup::Message)));
    assert_eq!(audio_bytes(&ev), pcm, "every byte, in order");
    let audio: Vec<Instant> = ev
        .iter()
        .filter(|(_, e)| matches!(e, Event::Audio(_)))
        .map(|(t, _)| *t)
        .collect();
    let spread = *audio.last().unwrap() - audio[0];
    // 150 frames of 20 ms: the last leaves 2.98 s after the first.
    assert!(
        spread >= Duration::from_millis(2900),
        "played in {spread:?}"
    );
    assert!(
        spread <= Duration::from_millis(3500),
        "played in {spread:?}"
    );
}

#[test]
fn a_full_playout_buffer_pushes_back_on_the_server_without_loss() {
    let (l, addr) = listener();
    let log = Arc::new(Captured::default());
    let mut cfg = SessionConfig::new(UUID, addr, Rate::Hz8000, "Test/chan");
    cfg.playout_buffer = Duration::from_millis(200);
    // The channel thread stands still for half a second below, which the
    // lateness bound would take for a starved machine (tested on its own).
    cfg.max_lateness = None;
    let mut s = Session::start(cfg, log).unwrap();
    let (mut peer, _) = l.accept().unwrap();
    read_msg(&mut peer).unwrap();
    // Far more than the socket buffers (loopback autotunes to megabytes)
    // and the 200 ms queue can hold: twenty minutes of audio.
    let pcm = pattern(8_000 * 2 * 60 * 20);
    let mut wire = Vec::new();
    encode_audio(&mut wire, Rate::Hz8000, &pcm);
    peer.set_nonblocking(true).unwrap();
    let mut written = 0;
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_millis(500) {
        match peer.write(&wire[written..]) {
            Ok(n) => written += n,
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    // The server could not push the minute through: TCP held it back.
    assert!(
        written < wire.len() / 2,
        "wrote {written} of {}",
        wire.len()
    );
    assert!(
        s.buffered() <= Duration::from_millis(400),
        "{:?}",
        s.buffered()
    );
    // Drain a second of playout; all of it is the start of the stream.
    let ev = pump(&mut s, Duration::from_millis(1000));
    let got = audio_bytes(&ev);
    assert!(got.len() >= 8_000, "{}", got.len());
    assert_eq!(&got[..], &pcm[..got.len()]);
}

/// Digits come after the audio the server sent before them, each in its
/// turn at a digit's pace; audio after a digit does not wait for its turn,
/// and the end waits for the digits.
#[test]
fn server_dtmf_is_delivered_in_order_with_audio() {
    let (l, addr) = listener();
    let (mut s, log) = start(addr, Rate::Hz8000);
    let (mut peer, _) = l.accept().unwrap();
    read_msg(&mut peer).unwrap();
    let mut wire = Vec::new();
    encode_audio(&mut wire, Rate::Hz8000, &[5u8; 320]);
    wire.extend_from_slice(&[0x03, 0, 1, b'4', 0x03, 0, 1, b'#']);
    wire.extend_from_slice(&[0x03, 0, 2, b'1', b'2']); // not one digit
    wire.extend_from_slice(&[0x03, 0, 1, b'Z']); // not a digit
    encode_audio(&mut wire, Rate::Hz8000, &[6u8; 320]);
    wire.extend_from_slice(&[0, 0, 0]);
    peer.write_all(&wire).unwrap();
    let timed = pump(&mut s, Duration::from_secs(3));
    let at = |want: &Event| timed.iter().find(|(_, e)| e == want).unwrap().0;
    let (four, hash) = (at(&Event::Dtmf(b'4')), at(&Event::Dtmf(b'#')));
    assert!(
        hash - four >= DIGIT + DIGIT_GAP,
        "{:?} between digits",
        hash - four
    );
    let ev: Vec<Event> = timed.into_iter().map(|(_, e)| e).collect();
    assert_eq!(
        ev,
        vec![
            Event::Connected,
            Event::Audio(AudioFrame::new(vec![5; 320])),
            Event::Dtmf(b'4'),
            Event::Audio(AudioFrame::new(vec![6; 320])),
            Event::Dtmf(b'#'),
            Event::Ended(EndReason::ServerHangup(Hangup::Message)),
        ]
    );
    let w = log.warnings();
    assert_eq!(w.len(), 1, "bad DTMF logged once per call: {w:?}");
    assert!(w[0].contains("DTMF"), "{w:?}");
}

/// A server that trickles one sample a message at real time makes the
/// channel see about a frame every 20 ms, not a frame a sample.
#[test]
fn a_trickle_of_tiny_messages_is_played_in_whole_frames() {
    let (l, addr) = listener();
    let (mut s, _log) = start(addr, Rate::Hz8000);
    let (mut peer, _) = l.accept().unwrap();
    read_msg(&mut peer).unwrap();
    let pcm = pattern(16_000);
    let sender = {
        let pcm = pcm.clone();
        std::thread::spawn(move || {
            let t0 = Instant::now();
            // Eight one-sample messages every millisecond: 8,000 a second.
            for (i, chunk) in pcm.chunks(16).enumerate() {
                let mut wire = Vec::new();
                for sample in chunk.chunks(2) {
                    wire.extend_from_slice(&[0x10, 0, 2, sample[0], sample[1]]);
                }
                std::thread::sleep(
                    (t0 + Duration::from_millis(i as u64))
                        .saturating_duration_since(Instant::now()),
                );
                peer.write_all(&wire).unwrap();
            }
            peer
        })
    };
    let ev = pump(&mut s, Duration::from_millis(1600));
    let _peer = sender.join().unwrap();
    let frames = ev
        .iter()
        .filter(|(_, e)| matches!(e, Event::Audio(_)))
        .count();
    assert_eq!(audio_bytes(&ev), pcm, "every sample, in order");
    assert!(
        (45..=70).contains(&frames),
        "{frames} frames for one second of audio"
    );
}

/// A server that floods digits makes no flood: they play one after
/// another, what does not fit waiting is dropped, counted and logged once.
#[test]
fn a_flood_of_digits_plays_at_a_digits_pace_and_the_rest_is_dropped() {
    let (l, addr) = listener();
    let (mut s, log) = start(addr, Rate::Hz8000);
    let (mut peer, _) = l.accept().unwrap();
    read_msg(&mut peer).unwrap();
    let mut wire = Vec::new();
    for i in 0..5000 {
        wire.extend_from_slice(&[0x03, 0, 1, b"0123456789"[i % 10]]);
    }
    peer.write_all(&wire).unwrap();
    let timed = pump(&mut s, Duration::from_secs(2));
    let digits: Vec<Instant> = timed
        .iter()
        .filter(|(_, e)| matches!(e, Event::Dtmf(_)))
        .map(|(t, _)| *t)
        .collect();
    // Two seconds hold at most 14 turns of 150 ms.
    assert!(
        (12..=14).contains(&digits.len()),
        "{} digits in 2 s",
        digits.len()
    );
    assert!(digits.windows(2).all(|w| w[1] - w[0] >= DIGIT + DIGIT_GAP));
    let dropped = s.stats().dropped_dtmf;
    assert!(
        dropped >= 5000 - MAX_WAITING_DIGITS as u64 - 20,
        "{dropped} dropped"
    );
    let w = log.warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("DTMF digits faster than a call plays them"),
        "{w:?}"
    );
}

#[test]
fn bad_input_is_skipped_and_logged_once_per_class() {
    let (l, addr) = listener();
    let (mut s, log) = start(addr, Rate::Hz16000);
    let (mut peer, _) = l.accept().unwrap();
    read_msg(&mut peer).unwrap();
    let mut wire = Vec::new();
    for _ in 0..3 {
        wire.extend_from_slice(&[0x42, 0, 2, 1, 2]); // unknown kind
        wire.extend_from_slice(&[0x01, 0, 16]); // UUID from the server
        wire.extend_from_slice(&[9; 16]);
        wire.extend_from_slice(&[0x12, 0, 0]); // empty audio
        wire.extend_from_slice(&[0x10, 0, 2, 1, 1]); // 8 kHz on a 16 kHz call
    }
    // Odd-length audio: 3 bytes then 1 byte make two whole samples.
    wire.extend_from_slice(&[0x12, 0, 3, 1, 2, 3, 0x12, 0, 1, 4]);
    wire.extend_from_slice(&[0xff, 0, 1, 0x02]);
    peer.write_all(&wire).unwrap();
    let ev = pump(&mut s, Duration::from_secs(3));
    assert_eq!(audio_bytes(&ev), vec![1, 2, 3, 4]);
    assert_eq!(
        ending(&ev),
        Some(&EndReason::ServerError(ErrorCode::from_payload(&[2])))
    );
    assert_eq!(ending(&ev).unwrap().error_code().as_deref(), Some("0x02"));
    let w = log.warnings();
    assert_eq!(w.len(), 4, "{w:?}");
    assert_eq!(s.stats().protocol_errors, 12);
}

#[test]
fn a_message_cut_off_by_a_close_is_a_protocol_error() {
    let (l, addr) = listener();
    let (mut s, _log) = start(addr, Rate::Hz8000);
    let (mut peer, _) = l.accept().unwrap();
    read_msg(&mut peer).unwrap();
    peer.write_all(&[0x10, 0x01, 0x40, 1, 2, 3, 4]).unwrap();
    drop(peer);
    let ev = pump(&mut s, Duration::from_secs(3));
    assert!(
        matches!(ending(&ev), Some(EndReason::ProtocolError(m)) if m.contains("middle of a message")),
        "{:?}",
        ending(&ev)
    );
}

#[test]
fn error_without_a_code_and_a_plain_close() {
    for (wire, want) in [
        (
            vec![0xff, 0, 0],
            EndReason::ServerError(ErrorCode::from_payload(&[])),
        ),
        (vec![0, 0, 0], EndReason::ServerHangup(Hangup::Message)),
        (vec![], EndReason::ServerHangup(Hangup::Closed)),
    ] {
        let (l, addr) = listener();
        let (mut s, _log) = start(addr, Rate::Hz8000);
        let (mut peer, _) = l.accept().unwrap();
        read_msg(&mut peer).unwrap();
        peer.write_all(&wire).unwrap();
        drop(peer);
        let ev = pump(&mut s, Duration::from_secs(3));
        assert_eq!(ending(&ev), Some(&want));
        assert_eq!(want.error_code(), None);
    }
}

#[test]
fn refused_connection_fails_fast() {
    let (l, addr) = listener();
    drop(l);
    let t0 = Instant::now();
    let (mut s, _log) = start(addr, Rate::Hz8000);
    let ev = pump(&mut s, Duration::from_secs(3));
    assert!(
        t0.elapsed() < Duration::from_millis(500),
        "{:?}",
        t0.elapsed()
    );
    assert!(
        matches!(ending(&ev), Some(EndReason::ConnectFailed(m)) if m.contains("refused")),
        "{ev:?}"
    );
}

#[test]
fn unresolvable_host_fails_with_its_name() {
    let addr = ServerAddr {
        host: "no-such-host.invalid".into(),
        port: 9,
        shown: None,
    };
    let (mut s, _log) = start(addr, Rate::Hz8000);
    let ev = pump(&mut s, Duration::from_secs(10));
    assert!(
        matches!(ending(&ev), Some(EndReason::ConnectFailed(m)) if m.contains("no-such-host.invalid")),
        "{ev:?}"
    );
}

#[test]
fn a_server_that_never_answers_times_out_and_a_hangup_aborts_the_connect() {
    // A listener whose backlog is full never completes a new handshake.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    // SAFETY: l's descriptor is open; listen(0) only shrinks its backlog.
    unsafe { libc::listen(std::os::fd::AsRawFd::as_raw_fd(&l), 0) };
    let mut fillers = Vec::new();
    for _ in 0..8 {
        if let Ok(c) =
            TcpStream::connect_timeout(&l.local_addr().unwrap(), Duration::from_millis(100))
        {
            fillers.push(c);
        }
    }
    let addr = ServerAddr {
        host: "127.0.0.1".into(),
        port,
        shown: None,
    };
    let log = Arc::new(Captured::default());
    let mut cfg = SessionConfig::new(UUID, addr.clone(), Rate::Hz8000, "Test/chan");
    cfg.connect_timeout = Duration::from_millis(300);
    let t0 = Instant::now();
    let mut s = Session::start(cfg.clone(), log.clone()).unwrap();
    let ev = pump(&mut s, Duration::from_secs(3));
    let took = t0.elapsed();
    assert!(
        matches!(ending(&ev), Some(EndReason::ConnectFailed(m)) if m.contains("timed out")),
        "{ev:?}"
    );
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_millis(1500),
        "{took:?}"
    );

    // A hangup during the connect ends the I/O thread at once.
    cfg.connect_timeout = Duration::from_secs(30);
    let s = Session::start(cfg, log).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let finished = s.io_finished.clone();
    assert!(!finished.get(), "still connecting");
    drop(s);
    let t0 = Instant::now();
    while !finished.get() && t0.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        t0.elapsed() < Duration::from_secs(1),
        "I/O thread lingered {:?}",
        t0.elapsed()
    );
}

#[test]
fn silence_both_ways_does_not_end_the_call_unless_asked() {
    let (l, addr) = listener();
    let (mut s, _log) = start(addr.clone(), Rate::Hz8000);
    let (mut peer, _) = l.accept().unwrap();
    read_msg(&mut peer).unwrap();
    let ev = pump(&mut s, Duration::from_millis(1500));
    assert!(ending(&ev).is_none(), "{ev:?}");

    let log = Arc::new(Captured::default());
    let mut cfg = SessionConfig::new(UUID, addr, Rate::Hz8000, "Test/chan");
    cfg.inactivity_timeout = Some(Duration::from_millis(300));
    let mut s = Session::start(cfg, log).unwrap();
    let (mut peer, _) = l.accept().unwrap();
    read_msg(&mut peer).unwrap();
    let t0 = Instant::now();
    let ev = pump(&mut s, Duration::from_secs(3));
    assert_eq!(ending(&ev), Some(&EndReason::Timeout));
    assert!(
        t0.elapsed() >= Duration::from_millis(250),
        "{:?}",
        t0.elapsed()
    );
}

#[test]
fn a_server_that_stops_reading_costs_dropped_frames_not_a_blocked_channel() {
    let (l, addr) = listener();
    let (mut s, log) = start(addr, Rate::Hz48000);
    let (peer, _) = l.accept().unwrap();
    let _ = pump(&mut s, Duration::from_millis(200));
    assert!(s.is_connected());
    // The peer never reads. Ten minutes of 48 kHz frames, sent as fast as possible.
    let frame = vec![0u8; Rate::Hz48000.frame_bytes()];
    let t0 = Instant::now();
    for _ in 0..30_000 {
        s.send_audio(&frame);
    }
    let took = t0.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "send_audio blocked: {took:?}"
    );
    let st = s.stats();
    assert!(st.dropped_up > 0, "{st:?}");
    assert_eq!(log.warnings().len(), 1, "{:?}", log.warnings());
    drop(peer);
}

#[test]
fn the_census_lists_live_sessions_and_counts_them() {
    let (l, addr) = listener();
    let log = Arc::new(Captured::default());
    let label = format!("Test/census-{}", addr.port);
    let before = census::totals();
    let mut s = Session::start(SessionConfig::new(UUID, addr, Rate::Hz8000, &label), log).unwrap();
    let (mut peer, _) = l.accept().unwrap();
    read_msg(&mut peer).unwrap();
    pump(&mut s, Duration::from_millis(100));
    let live = census::sessions();
    let me = live
        .iter()
        .find(|v| v.channel == label)
        .expect("listed while live");
    assert!(me.connected);
    assert_eq!(me.uuid, uuid::Uuid::from_bytes(UUID).to_string());
    drop(s);
    assert!(census::sessions().iter().all(|v| v.channel != label));
    let after = census::totals();
    assert!(after.started > before.started);
}

/// A parked channel thread is woken only for audio it would not look for by
/// itself; a lost wake-up would leave the last frame of a burst waiting
/// until the next burst. Bursts of one to five frames at uneven spacing,
/// each followed by a pause: every frame arrives, in order, and each
/// burst's last frame long before the pause ends.
#[test]
fn a_parked_channel_thread_misses_no_frame_of_an_uneven_server() {
    const BURSTS: usize = 30;
    const PAUSE: Duration = Duration::from_millis(250);
    let (l, addr) = listener();
    let (mut s, _log) = start(addr, Rate::Hz8000);
    let (mut peer, _) = l.accept().unwrap();
    read_msg(&mut peer).unwrap();
    let writer = std::thread::spawn(move || {
        let mut seed = 12345u32;
        let mut rand = move |n: u32| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16) % n
        };
        let mut last_of_burst = Vec::new();
        let mut index = 0u16;
        for _ in 0..BURSTS {
            for _ in 0..1 + rand(5) {
                std::thread::sleep(Duration::from_millis(rand(26).into()));
                let mut pcm = vec![0u8; 320];
                pcm[..2].copy_from_slice(&index.to_le_bytes());
                let mut m = Vec::new();
                encode_audio(&mut m, Rate::Hz8000, &pcm);
                peer.write_all(&m).unwrap();
                index += 1;
            }
            last_of_burst.push((index - 1, Instant::now()));
            std::thread::sleep(PAUSE);
        }
        peer.write_all(&[0, 0, 0]).unwrap();
        (peer, index, last_of_burst)
    });
    let ev = pump_parked(&mut s, Duration::from_secs(30));
    let (_peer, sent, last_of_burst) = writer.join().unwrap();
    assert_eq!(ending(&ev), Some(&EndReason::ServerHangup(Hangup::Message)));
    let played: Vec<(u16, Instant)> = ev
        .iter()
        .filter_map(|(t, e)| match e {
            Event::Audio(f) => Some((u16::from_le_bytes([f.pcm[0], f.pcm[1]]), *t)),
            _ => None,
        })
        .collect();
    let order: Vec<u16> = played.iter().map(|(i, _)| *i).collect();
    assert_eq!(
        order,
        (0..sent).collect::<Vec<_>>(),
        "every frame, in order"
    );
    for (index, sent_at) in last_of_burst {
        let (_, at) = played[index as usize];
        assert!(
            at.saturating_duration_since(sent_at) < PAUSE * 3 / 5,
            "frame {index} played {:?} after it was sent",
            at.saturating_duration_since(sent_at)
        );
    }
}

/// A server that sends a second of audio at once: the parked channel
/// thread plays it from the buffer on its timer, and the I/O thread's
/// wake-ups (or its own) do not come once per frame.
#[test]
fn buffered_playout_costs_no_wake_up_per_frame() {
    let (l, addr) = listener();
    let (mut s, _log) = start(addr, Rate::Hz8000);
    let (mut peer, _) = l.accept().unwrap();
    read_msg(&mut peer).unwrap();
    let mut wire = Vec::new();
    for _ in 0..50 {
        encode_audio(&mut wire, Rate::Hz8000, &[7u8; 320]);
    }
    wire.extend_from_slice(&[0, 0, 0]);
    peer.write_all(&wire).unwrap();
    let (ev, wake_ups) = pump_with(&mut s, Duration::from_secs(10), true);
    assert_eq!(ending(&ev), Some(&EndReason::ServerHangup(Hangup::Message)));
    assert_eq!(audio_bytes(&ev).len(), 50 * 320);
    // Connected, the burst, its end: a few, not fifty.
    assert!(wake_ups <= 10, "{wake_ups} wake-ups for 50 frames");
}

/// A streaming server that closes without reading what it was sent makes
/// Linux reset the connection: still an ordinary hangup, never a network
/// error, whether the reset is met by a read or by a write (or the write
/// took the reset's error first and the read then saw the close).
#[test]
fn a_server_closing_with_unread_audio_hangs_up_with_a_reset() {
    for rate in [Rate::Hz8000, Rate::Hz48000] {
        let (l, addr) = listener();
        let (mut s, _log) = start(addr, rate);
        let (mut peer, _) = l.accept().unwrap();
        read_msg(&mut peer).unwrap();
        let _ = pump(&mut s, Duration::from_millis(100));
        assert!(s.is_connected());
        let frame = vec![0u8; rate.frame_bytes()];
        for _ in 0..20 {
            s.send_audio(&frame);
        }
        // The peer never read the audio: closing it sends a reset.
        drop(peer);
        let mut ev = Vec::new();
        let t0 = Instant::now();
        while ending(&ev).is_none() && t0.elapsed() < Duration::from_secs(3) {
            s.send_audio(&frame);
            ev.extend(pump(&mut s, Duration::from_millis(20)));
        }
        assert!(
            matches!(
                ending(&ev),
                Some(EndReason::ServerHangup(
                    Hangup::Reset | Hangup::ClosedWhileWritten | Hangup::Closed
                ))
            ),
            "{rate:?}: {:?}",
            ending(&ev)
        );
    }
}

/// A channel thread that does not run for half a second (an overloaded
/// machine) drops the paced audio that fell more than `max_lateness`
/// behind, and plays the rest in order; a burst sent early is never late.
#[test]
fn audio_that_falls_too_far_behind_is_dropped_and_counted_but_a_burst_never() {
    let (l, addr) = listener();
    let mut cfg = SessionConfig::new(UUID, addr.clone(), Rate::Hz8000, "Test/chan");
    cfg.max_lateness = Some(Duration::from_millis(100));
    let log = Arc::new(Captured::default());
    let mut s = Session::start(cfg.clone(), log.clone()).unwrap();
    let (mut peer, _) = l.accept().unwrap();
    read_msg(&mut peer).unwrap();
    pump(&mut s, Duration::from_millis(50));
    let server = std::thread::spawn(move || {
        let t0 = Instant::now();
        for i in 0..60u32 {
            std::thread::sleep(
                (t0 + Duration::from_millis(20 * i as u64))
                    .saturating_duration_since(Instant::now()),
            );
            let mut m = Vec::new();
            encode_audio(&mut m, Rate::Hz8000, &[i as u8; 320]);
            peer.write_all(&m).unwrap();
        }
        peer
    });
    // Starved for half a second, then the channel thread runs again.
    std::thread::sleep(Duration::from_millis(500));
    let ev = pump(&mut s, Duration::from_millis(1100));
    let played: Vec<u8> = ev
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Audio(f) => Some(f.pcm[0]),
            _ => None,
        })
        .collect();
    let dropped = s.stats().dropped_down;
    assert!((15..=25).contains(&dropped), "{dropped} dropped");
    assert_eq!(played.len() as u64 + dropped, 60, "{played:?}");
    assert!(
        played.windows(2).all(|w| w[0] < w[1]),
        "in order: {played:?}"
    );
    assert_eq!(played[0] as u64, dropped, "only the oldest were dropped");
    assert_eq!(log.warnings().len(), 1, "{:?}", log.warnings());
    drop(server.join().unwrap());

    // Two seconds at once: paced out over two seconds, nothing late.
    let mut s = Session::start(cfg, log).unwrap();
    let (mut peer, _) = l.accept().unwrap();
    read_msg(&mut peer).unwrap();
    let mut burst = Vec::new();
    encode_audio(&mut burst, Rate::Hz8000, &pattern(32000));
    peer.write_all(&burst).unwrap();
    let ev = pump(&mut s, Duration::from_millis(2300));
    assert_eq!(audio_bytes(&ev), pattern(32000));
    assert_eq!(s.stats().dropped_down, 0);
}
