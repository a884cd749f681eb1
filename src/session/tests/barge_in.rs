//! The barge-in extension over loopback: flushes, marks, drained reports,
//! the same controls from Asterisk's side, the bound on what a server can
//! write ahead, and a plain server that never uses any of it.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use super::*;

/// What the module sent, with arrival times: (when, kind, payload).
type Received = Arc<Mutex<Vec<(Instant, u8, Vec<u8>)>>>;

/// A bot: writes with its own stream, and a thread collects what the
/// module sends it, with arrival times.
struct Bot {
    stream: TcpStream,
    got: Received,
}

impl Bot {
    fn accept(l: &TcpListener) -> Bot {
        let (mut stream, _) = l.accept().unwrap();
        assert_eq!(read_msg(&mut stream).map(|m| m.0), Some(0x01));
        let got: Received = Arc::default();
        let (mut reader, sink) = (stream.try_clone().unwrap(), got.clone());
        std::thread::spawn(move || {
            while let Some((kind, payload)) = read_msg(&mut reader) {
                sink.lock().unwrap().push((Instant::now(), kind, payload));
            }
        });
        Bot { stream, got }
    }

    fn send(&mut self, kind: u8, payload: &[u8]) {
        let mut m = vec![kind];
        m.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        m.extend_from_slice(payload);
        self.stream.write_all(&m).unwrap();
    }

    fn audio(&mut self, pcm: &[u8]) {
        for chunk in pcm.chunks(320) {
            self.send(0x10, chunk);
        }
    }

    /// What the module sent of `kind`, with arrival times.
    fn received(&self, kind: u8) -> Vec<(Instant, Vec<u8>)> {
        let got = self.got.lock().unwrap();
        got.iter()
            .filter(|(_, k, _)| *k == kind)
            .map(|(t, _, p)| (*t, p.clone()))
            .collect()
    }
}

static NEXT_ID: AtomicUsize = AtomicUsize::new(0);

fn start_barge_in(addr: ServerAddr, playout: Duration) -> (Session, String) {
    let id = format!("barge-in-{}", NEXT_ID.fetch_add(1, Ordering::Relaxed));
    let mut cfg = SessionConfig::new(UUID, addr, Rate::Hz8000, "Test/chan");
    cfg.barge_in = true;
    cfg.playout_buffer = playout;
    cfg.channel_id = id.clone();
    // Every byte counts here, however loaded the machine.
    cfg.max_lateness = None;
    let s = Session::start(cfg, Arc::new(Captured::default())).unwrap();
    (s, id)
}

fn audio_frames(events: &[(Instant, Event)]) -> Vec<(Instant, Vec<u8>)> {
    events
        .iter()
        .filter_map(|(t, e)| match e {
            Event::Audio(f) => Some((*t, f.pcm.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_flush_stops_the_audio_within_a_frame_and_new_audio_plays_after() {
    let (l, addr) = listener();
    let (mut s, _) = start_barge_in(addr, Duration::from_secs(6));
    let mut bot = Bot::accept(&l);
    // Five seconds at once: the module holds all of it.
    let old = pattern(5 * 16000);
    bot.audio(&old);
    let before = pump_parked(&mut s, Duration::from_secs(1));
    let played = audio_frames(&before).len();
    assert!(
        (48..=52).contains(&played),
        "{played} frames in the first second"
    );
    let flushed_at = Instant::now();
    bot.send(0x20, &[]);
    let after = pump_parked(&mut s, Duration::from_millis(500));
    let late = audio_frames(&after)
        .into_iter()
        .filter(|(t, _)| *t > flushed_at)
        .count();
    assert!(late <= 1, "{late} frames played after the flush");
    assert_eq!(s.buffered(), Duration::ZERO);
    // What comes after the flush is new audio, and plays whole.
    let new: Vec<u8> = pattern(8000).into_iter().map(|b| b ^ 0x5a).collect();
    bot.audio(&new);
    let ev = pump_parked(&mut s, Duration::from_millis(800));
    assert_eq!(audio_bytes(&ev), new);
}

#[test]
fn marks_come_back_in_order_once_the_audio_before_them_has_played() {
    let (l, addr) = listener();
    let (mut s, _) = start_barge_in(addr, Duration::from_secs(2));
    let mut bot = Bot::accept(&l);
    bot.audio(&pattern(8000));
    bot.send(0x21, b"first");
    bot.audio(&pattern(8000));
    bot.send(0x21, b"second");
    let ev = pump_parked(&mut s, Duration::from_millis(1500));
    let start = audio_frames(&ev)[0].0;
    let order: Vec<String> = ev
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Audio(_) => Some("audio".to_string()),
            Event::MarkPlayed(m) => Some(m.id_text()),
            _ => None,
        })
        .collect();
    let at = |id: &str| order.iter().position(|o| o == id).unwrap();
    assert_eq!(at("first"), 25, "{order:?}");
    assert_eq!(at("second"), 51, "{order:?}");
    std::thread::sleep(Duration::from_millis(50));
    let back = bot.received(0x21);
    assert_eq!(
        back.iter().map(|(_, p)| p.as_slice()).collect::<Vec<_>>(),
        [&b"first"[..], &b"second"[..]]
    );
    // Each only once its audio has played: half a second, then a second.
    assert!(
        back[0].0 - start >= Duration::from_millis(480),
        "{:?}",
        back[0].0 - start
    );
    assert!(
        back[1].0 - start >= Duration::from_millis(980),
        "{:?}",
        back[1].0 - start
    );
}

#[test]
fn a_drained_report_comes_once_the_queue_has_run_dry() {
    let (l, addr) = listener();
    let (mut s, _) = start_barge_in(addr, Duration::from_secs(2));
    let mut bot = Bot::accept(&l);
    bot.audio(&pattern(4800));
    bot.send(0x22, &[]);
    let ev = pump_parked(&mut s, Duration::from_millis(600));
    let start = audio_frames(&ev)[0].0;
    std::thread::sleep(Duration::from_millis(50));
    let drained = bot.received(0x22);
    assert_eq!(drained.len(), 1, "one report");
    assert!(
        drained[0].0 - start >= Duration::from_millis(280),
        "{:?}",
        drained[0].0 - start
    );
    // Asked while nothing plays: at once.
    let asked = Instant::now();
    bot.send(0x22, &[]);
    pump_parked(&mut s, Duration::from_millis(200));
    let drained = bot.received(0x22);
    assert_eq!(drained.len(), 2);
    assert!(drained[1].0 - asked < Duration::from_millis(100));
}

#[test]
fn asterisks_side_flushes_marks_and_hears_when_drained() {
    let (l, addr) = listener();
    let (mut s, id) = start_barge_in(addr, Duration::from_secs(3));
    let mut bot = Bot::accept(&l);
    bot.audio(&pattern(16000));
    let mut ev = pump_parked(&mut s, Duration::from_millis(100));
    let remote = census::remote(&id).expect("found by channel id");
    assert!(remote.is_connected());
    assert!(
        remote.buffered() >= Duration::from_millis(800),
        "{:?}",
        remote.buffered()
    );
    assert!(remote.mark(b"greeting"));
    remote.report_drained();
    ev.extend(pump_parked(&mut s, Duration::from_millis(1200)));
    let tail: Vec<&Event> = ev
        .iter()
        .map(|(_, e)| e)
        .filter(|e| !matches!(e, Event::Audio(_)))
        .collect();
    assert!(
        matches!(
            tail.as_slice(),
            [Event::Connected, Event::MarkPlayed(m), Event::Drained]
                if m.from_dialplan && m.id == b"greeting"
        ),
        "{tail:?}"
    );
    let kinds: Vec<bool> = ev
        .iter()
        .map(|(_, e)| matches!(e, Event::Audio(_)))
        .collect();
    let mark_at = ev
        .iter()
        .position(|(_, e)| matches!(e, Event::MarkPlayed(_)))
        .unwrap();
    assert_eq!(
        kinds[..mark_at].iter().filter(|a| **a).count(),
        50,
        "the mark came after all the audio"
    );
    assert!(
        bot.received(0x21).is_empty(),
        "the dialplan's marks stay in Asterisk"
    );

    bot.audio(&pattern(32000));
    pump_parked(&mut s, Duration::from_millis(300));
    let flushed_at = Instant::now();
    remote.flush();
    let ev = pump_parked(&mut s, Duration::from_millis(300));
    let late = audio_frames(&ev)
        .iter()
        .filter(|(t, _)| *t > flushed_at)
        .count();
    assert!(late <= 1, "{late} frames after the flush");
    assert_eq!(remote.buffered(), Duration::ZERO);
    drop(s);
    assert!(census::remote(&id).is_none(), "gone with the session");
}

#[test]
fn a_plain_server_sees_the_extension_as_unknown_kinds() {
    let (l, addr) = listener();
    let (mut s, log) = start(addr, Rate::Hz8000);
    let (mut peer, _) = l.accept().unwrap();
    read_msg(&mut peer).unwrap();
    let mut wire = Vec::new();
    wire.extend_from_slice(&[0x20, 0, 0, 0x21, 0, 1, b'm', 0x22, 0, 0]);
    encode_audio(&mut wire, Rate::Hz8000, &pattern(3200));
    peer.write_all(&wire).unwrap();
    let ev = pump(&mut s, Duration::from_millis(500));
    assert_eq!(audio_bytes(&ev), pattern(3200), "the audio plays");
    let warnings = log.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("0x20") && warnings[0].contains("option b"),
        "{warnings:?}"
    );
    peer.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    assert_eq!(read_msg(&mut peer), None, "nothing comes back");
}

/// How many seconds of 8 kHz audio a server writing as fast as TCP takes
/// has had accepted beyond what the channel played in `play`. The server
/// sets `notsent_lowat` (0: its stack's default send buffer).
fn written_ahead(barge_in: bool, notsent_lowat: i32, play: Duration) -> f64 {
    let (l, addr) = listener();
    let mut cfg = SessionConfig::new(UUID, addr, Rate::Hz8000, "Test/chan");
    cfg.barge_in = barge_in;
    let mut s = Session::start(cfg, Arc::new(Captured::default())).unwrap();
    let (mut server, _) = l.accept().unwrap();
    read_msg(&mut server).unwrap();
    if notsent_lowat > 0 {
        // SAFETY: the descriptor is open; the value outlives the call.
        unsafe {
            libc::setsockopt(
                std::os::fd::AsRawFd::as_raw_fd(&server),
                libc::IPPROTO_TCP,
                libc::TCP_NOTSENT_LOWAT,
                (&notsent_lowat as *const i32).cast(),
                4,
            )
        };
    }
    let written = Arc::new(AtomicU64::new(0));
    let count = written.clone();
    std::thread::spawn(move || {
        let mut msg = Vec::new();
        encode_audio(&mut msg, Rate::Hz8000, &[0u8; 320]);
        while server.write_all(&msg).is_ok() {
            count.fetch_add(msg.len() as u64, Ordering::Relaxed);
        }
    });
    let ev = pump_parked(&mut s, play);
    let played = audio_frames(&ev).len() as f64 * 0.02;
    let ahead = written.load(Ordering::Relaxed) as f64 / (323.0 * 50.0) - played;
    drop(s);
    ahead
}

/// The module holds the playout buffer (2 s); with barge-in, what a server
/// can write beyond it is what the kernels hold on both sides: ours is
/// capped, and so is the server's when it limits its unsent data
/// (TCP_NOTSENT_LOWAT). A server that does not is held back by its own
/// stack's send buffer: the segment size the module announces keeps it
/// small at first, but Linux grows it while the module reads, so that
/// figure is reported rather than bounded here.
#[test]
fn with_barge_in_a_flooding_server_is_held_back_after_the_playout_buffer() {
    let play = Duration::from_millis(1500);
    let plain = written_ahead(false, 0, play);
    let untuned = written_ahead(true, 0, play);
    let tuned = written_ahead(true, 4096, play);
    eprintln!(
        "written ahead of the ear, 8 kHz: plain {plain:.1} s, barge-in {untuned:.1} s, \
         barge-in with a server's TCP_NOTSENT_LOWAT of 4096 {tuned:.1} s"
    );
    assert!(tuned <= 2.0 + 1.0, "{tuned:.1} s");
    assert!(
        untuned >= 2.0 && tuned >= 1.5,
        "the module holds its buffer: {untuned:.1}, {tuned:.1} s"
    );
    assert!(plain > untuned, "without the bound: {plain:.1} s");
}

/// Bytes the kernel holds unread for the TCP socket bound to local `port`.
fn receive_queue(port: u16) -> Option<usize> {
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().find_map(|f| {
        let text = std::fs::read_to_string(f).ok()?;
        text.lines().skip(1).find_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let local = u16::from_str_radix(cols.get(1)?.rsplit(':').next()?, 16).ok()?;
            let rx = cols.get(4)?.split(':').nth(1)?;
            (local == port).then(|| usize::from_str_radix(rx, 16).ok())?
        })
    })
}

/// A plain call (no barge-in) flooded by its server: the kernel holds
/// about one playout buffer of its audio, not the megabytes Linux would
/// let a receive buffer grow to.
#[test]
fn a_flooded_plain_call_holds_about_one_playout_buffer_in_the_kernel() {
    let (l, addr) = listener();
    let cfg = SessionConfig::new(UUID, addr, Rate::Hz8000, "Test/chan");
    let playout = cfg.playout_buffer;
    let mut s = Session::start(cfg, Arc::new(Captured::default())).unwrap();
    let (mut server, ours) = l.accept().unwrap();
    read_msg(&mut server).unwrap();
    std::thread::spawn(move || {
        let mut msg = Vec::new();
        encode_audio(&mut msg, Rate::Hz8000, &[0u8; 320]);
        while server.write_all(&msg).is_ok() {}
    });
    pump_parked(&mut s, Duration::from_millis(1500));
    let held = receive_queue(ours.port()).expect("the module's socket in /proc/net/tcp");
    let one_buffer = 16_000 * playout.as_millis() as usize / 1000;
    eprintln!("a flooded plain call: {held} bytes in the kernel ({one_buffer} a playout buffer)");
    // Linux doubles the size asked for, for its own bookkeeping.
    assert!(held <= 2 * one_buffer + 4096, "{held} bytes held");
    drop(s);
}

/// Marks a server sends with ids longer than `AUDIOSOCKET(mark)` allows
/// are refused and counted; and however many come at once, a call reports
/// at most its budget a second, dropping and counting the rest.
#[test]
fn marks_are_bounded_in_size_and_in_number_a_second() {
    let (l, addr) = listener();
    let (mut s, _id) = start_barge_in(addr, Duration::from_secs(2));
    let mut bot = Bot::accept(&l);
    bot.send(0x21, &[b'x'; MAX_MARK_ID + 1]);
    bot.send(0x21, &[b'y'; MAX_MARK_ID]);
    for i in 0..500u32 {
        bot.send(0x21, &i.to_be_bytes());
    }
    let ev = pump_parked(&mut s, Duration::from_millis(500));
    let marks: Vec<&Mark> = ev
        .iter()
        .filter_map(|(_, e)| match e {
            Event::MarkPlayed(m) => Some(m),
            _ => None,
        })
        .collect();
    assert_eq!(
        marks[0].id,
        vec![b'y'; MAX_MARK_ID],
        "the longest allowed id"
    );
    // The burst allowance at once, then about one a frame.
    let n = marks.len();
    assert!(
        (50..=80).contains(&n),
        "{n} marks reported in half a second"
    );
    let stats = s.stats();
    assert_eq!(stats.protocol_errors, 1, "the long id");
    assert_eq!(stats.dropped_marks, 501 - n as u64);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(bot.received(0x21).len(), n, "each one reported came back");
}

/// Marks placed from Asterisk while the server's audio fills the queue
/// wait in a bounded hand-off: no more than it holds is ever accepted,
/// however many are placed.
#[test]
fn marks_from_asterisk_are_bounded_while_the_queue_is_full() {
    let (l, addr) = listener();
    let (mut s, id) = start_barge_in(addr, Duration::from_millis(500));
    let mut bot = Bot::accept(&l);
    pump_parked(&mut s, Duration::from_millis(50));
    // Far more than the buffer holds: the queue and the read-ahead fill.
    bot.stream.set_nonblocking(true).unwrap();
    let mut wire = Vec::new();
    encode_audio(&mut wire, Rate::Hz8000, &pattern(160_000));
    let _ = bot.stream.write(&wire);
    std::thread::sleep(Duration::from_millis(200));
    let remote = census::remote(&id).unwrap();
    let accepted = (0..10_000)
        .filter(|i| remote.mark(format!("m{i}").as_bytes()))
        .count();
    // The hand-off (256), and what the read-ahead had room for.
    assert!(accepted <= 256 + 30, "{accepted} marks accepted");
    assert!(accepted >= 256, "{accepted} marks accepted");
    drop(s);
}
