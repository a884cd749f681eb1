//! A live tap's session over loopback: it reads and drops its server's
//! audio unless it whispers, sends its frames as they come (two-channel
//! ones as `0x25`), and tells its end once, from its I/O thread, however
//! it ends.

use super::*;

type Ends = Arc<Mutex<Vec<EndReason>>>;

fn tap(addr: ServerAddr, whisper: bool, direction: TapDirection) -> (Session, Ends) {
    let ends: Ends = Arc::default();
    let told = ends.clone();
    let mut cfg = SessionConfig::new(UUID, addr, Rate::Hz8000, "Test/tapped");
    cfg.tap = Some(direction);
    cfg.play_server_audio = whisper;
    cfg.max_lateness = None;
    cfg.on_end = Some(EndListener(Arc::new(move |end, _| {
        told.lock().unwrap().push(end.clone())
    })));
    (
        Session::start(cfg, Arc::new(Captured::default())).unwrap(),
        ends,
    )
}

/// The session's events other than audio, until `until` holds or two
/// seconds pass, as the tap's audiohook takes them.
fn control_events(s: &mut Session, until: impl Fn(&[Event]) -> bool) -> Vec<Event> {
    let mut got = Vec::new();
    let t0 = Instant::now();
    while !until(&got) && t0.elapsed() < Duration::from_secs(2) {
        while let Some(e) = s.next_control_event(Instant::now()) {
            got.push(e);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    got
}

fn told_once(ends: &Ends, want: &EndReason) {
    let t0 = Instant::now();
    while ends.lock().unwrap().is_empty() && t0.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(*ends.lock().unwrap(), vec![want.clone()]);
}

#[test]
fn a_tap_without_whisper_drops_its_servers_audio_and_tells_its_end_once() {
    let (l, addr) = listener();
    let (mut s, ends) = tap(addr, false, TapDirection::Both);
    let (mut peer, _) = l.accept().unwrap();
    assert_eq!(read_msg(&mut peer), Some((0x01, UUID.to_vec())));
    let mut wire = Vec::new();
    encode_audio(&mut wire, Rate::Hz8000, &pattern(16_000));
    wire.extend_from_slice(&[0x03, 0, 1, b'5', 0, 0, 0]);
    peer.write_all(&wire).unwrap();
    let events = control_events(&mut s, |e| matches!(e.last(), Some(Event::Ended(_))));
    assert!(!events.iter().any(|e| matches!(e, Event::Audio(_))));
    assert_eq!(events.first(), Some(&Event::Connected));
    let end = EndReason::ServerHangup(Hangup::Message);
    assert_eq!(events.last(), Some(&Event::Ended(end.clone())));
    told_once(&ends, &end);
    assert_eq!(s.stats().frames_down, 0);
}

#[test]
fn a_stopped_tap_sends_the_hangup_then_closes_and_tells_its_end() {
    let (l, addr) = listener();
    let (mut s, ends) = tap(addr, false, TapDirection::Stereo);
    let (mut peer, _) = l.accept().unwrap();
    read_msg(&mut peer).unwrap();
    control_events(&mut s, |e| e.contains(&Event::Connected));
    s.send_stereo(&[1, 0, 2, 0, 3, 0, 4, 0]);
    assert_eq!(
        read_msg(&mut peer),
        Some((0x25, vec![1, 0, 2, 0, 3, 0, 4, 0]))
    );
    drop(s);
    assert_eq!(read_msg(&mut peer), Some((0x00, vec![])));
    assert_eq!(read_msg(&mut peer), None);
    told_once(&ends, &EndReason::ChannelHangup);
}

#[test]
fn a_tap_that_cannot_connect_tells_so_once() {
    let (l, addr) = listener();
    drop(l);
    let (_s, ends) = tap(addr, false, TapDirection::In);
    let t0 = Instant::now();
    while ends.lock().unwrap().is_empty() && t0.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let got = ends.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert!(
        matches!(&got[0], EndReason::ConnectFailed(why) if why.contains("refused")),
        "{got:?}"
    );
}

#[test]
fn a_whisper_takes_the_servers_audio_in_order_as_frames_make_room() {
    let (l, addr) = listener();
    let (mut s, _ends) = tap(addr, true, TapDirection::Both);
    let (mut peer, _) = l.accept().unwrap();
    read_msg(&mut peer).unwrap();
    control_events(&mut s, |e| e.contains(&Event::Connected));
    // Half a second at once, in odd sizes.
    let pcm = pattern(8_000);
    let mut wire = Vec::new();
    for chunk in pcm.chunks(333) {
        wire.push(0x10);
        wire.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
        wire.extend_from_slice(chunk);
    }
    peer.write_all(&wire).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    // Silent frames written to the channel, 30 ms each: each carries the
    // next 30 ms of the server's audio, nothing more.
    let mut whisper = Whisper::default();
    let mut heard = Vec::new();
    for _ in 0..20 {
        let mut frame = vec![0u8; 480];
        if !whisper.mix_into(&mut frame, &mut s, Instant::now(), |_| {}) {
            break;
        }
        heard.extend_from_slice(&frame);
    }
    let mut want = pcm.clone();
    want.resize(heard.len(), 0);
    assert_eq!(heard.len(), 17 * 480, "half a second, then silence");
    assert_eq!(heard, want);
    // Mixed, not replaced. (A short frame waits for its slot, after the
    // half second above would have played at real-time pace.)
    peer.write_all(&[0x10, 0, 4, 10, 0, 20, 0]).unwrap();
    std::thread::sleep(Duration::from_millis(600));
    let mut frame = vec![1, 0, 1, 0];
    assert!(whisper.mix_into(&mut frame, &mut s, Instant::now(), |_| {}));
    assert_eq!(frame, vec![11, 0, 21, 0]);
}

/// Frames a tap sends to a server that never reads, before the first is
/// dropped: what waits for it, in the kernel and the outbox.
fn frames_held_for_a_stalled_server(direction: TapDirection) -> u64 {
    let (l, addr) = listener();
    // The server's own buffer as small as Linux makes it, so that what
    // is measured is what the module holds.
    // SAFETY: a live listening socket; the option's value is a plain int
    // (inherited by the accepted socket).
    unsafe {
        let size: libc::c_int = 1;
        libc::setsockopt(
            std::os::fd::AsRawFd::as_raw_fd(&l),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&size as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
    let (mut s, _ends) = tap(addr, false, direction);
    let (mut peer, _) = l.accept().unwrap();
    read_msg(&mut peer).unwrap();
    control_events(&mut s, |e| e.contains(&Event::Connected));
    let frame = vec![7u8; Rate::Hz8000.frame_bytes()];
    let stereo = vec![7u8; 2 * Rate::Hz8000.frame_bytes()];
    for sent in 1..=2_000u64 {
        match direction {
            TapDirection::Stereo => s.send_stereo(&stereo),
            _ => s.send_audio(&frame),
        }
        if s.stats().dropped_up > 0 {
            return sent - 1;
        }
        // The I/O thread moves what waits into the kernel as it can.
        std::thread::sleep(Duration::from_micros(200));
    }
    panic!("nothing was dropped for a server that never reads");
}

#[test]
fn a_stereo_tap_holds_as_many_seconds_for_a_stalled_server_as_a_mono_one() {
    let mono = frames_held_for_a_stalled_server(TapDirection::Both);
    let stereo = frames_held_for_a_stalled_server(TapDirection::Stereo);
    // About uplink_buffer (a second: 50 frames) in the outbox, and as much
    // in the kernel; the same frames either way, give or take a few.
    assert!((60..=200).contains(&mono), "mono: {mono} frames");
    let ratio = stereo as f64 / mono as f64;
    assert!(
        (0.8..=1.25).contains(&ratio),
        "stereo {stereo} frames, mono {mono}"
    );
}
