//! Playout over loopback against a caller's own clock: a paced server's
//! frames play as they come, at any phase against the phone's and with
//! clocks that drift; a burst plays at the caller's frames; a caller that
//! only echoes ours, or stops, never stalls playout; a channel thread that
//! parks (the application) and one that does not (the driver).

use super::*;

const PERIOD: Duration = Duration::from_millis(20);

/// The far end of the call, as the channel thread sees it.
#[derive(Clone, Copy)]
enum Caller {
    /// A frame every 20 ms whatever the server does, for `for_` (then
    /// silence: a phone on hold, a bridge that stopped sending).
    Phone { for_: Duration },
    /// A frame this long after each frame played to it (`Echo()`, some
    /// hops away on a loaded machine).
    Echo(Duration),
}

struct Run {
    events: Vec<(Instant, Event)>,
    /// When the caller's frames went to the session.
    sent: Vec<Instant>,
    wake_ups: usize,
}

/// Runs the channel side for `limit` with `caller` at the far end:
/// parked as the application waits, or not, as the driver is read.
fn run(session: &mut Session, limit: Duration, caller: Caller, parked: bool) -> Run {
    let start = Instant::now();
    let deadline = start + limit;
    let mut run = Run {
        events: Vec::new(),
        sent: Vec::new(),
        wake_ups: 0,
    };
    let mut next_send = start;
    let mut echoes: std::collections::VecDeque<Instant> = Default::default();
    let frame = [0u8; 320];
    let mut readable = true;
    loop {
        let now = Instant::now();
        if now >= deadline {
            return run;
        }
        let send = match caller {
            Caller::Phone { for_ } if now >= next_send && now < start + for_ => {
                next_send += PERIOD;
                true
            }
            Caller::Echo(_) if echoes.front().is_some_and(|at| now >= *at) => {
                echoes.pop_front();
                true
            }
            _ => false,
        };
        if send && session.is_connected() {
            session.send_audio(&frame);
            run.sent.push(now);
        }
        // The application looks after every wake-up; the driver is read
        // one event at a time, only when a descriptor is readable.
        while readable || parked {
            readable = false;
            let ev = session.next_event(Instant::now());
            if !parked {
                session.park_until_readable();
            }
            let Some(ev) = ev else {
                break;
            };
            if let (Event::Audio(_), Caller::Echo(delay)) = (&ev, caller) {
                echoes.push_back(Instant::now() + delay);
            }
            run.events.push((Instant::now(), ev));
        }
        let now = Instant::now();
        let mut until = deadline;
        match caller {
            Caller::Phone { for_ } if next_send < start + for_ => until = until.min(next_send),
            Caller::Echo(_) => until = echoes.front().map_or(until, |at| until.min(*at)),
            _ => {}
        }
        let wait = until.saturating_duration_since(now);
        let fds = wait_for_the_session(session, now, wait, parked);
        if fds[0].revents != 0 {
            run.wake_ups += 1;
        }
        readable = fds.iter().any(|fd| fd.revents != 0);
    }
}

fn connected_session() -> (Session, TcpStream) {
    connected_session_with(true)
}

fn connected_session_with(low_latency: bool) -> (Session, TcpStream) {
    let (l, addr) = listener();
    let (mut s, _log) = start_with(addr, Rate::Hz8000, |c| c.low_latency = low_latency);
    let (mut peer, _) = l.accept().unwrap();
    read_msg(&mut peer).unwrap();
    let ev = pump(&mut s, Duration::from_millis(50));
    assert_eq!(ev.first().map(|e| &e.1), Some(&Event::Connected));
    // Drains what the module sends, as a server does.
    let mut reader = peer.try_clone().unwrap();
    std::thread::spawn(move || while read_msg(&mut reader).is_some() {});
    (s, peer)
}

/// Frames numbered 1..=n in their first byte.
fn numbered(n: usize) -> Vec<u8> {
    let mut wire = Vec::new();
    for i in 1..=n {
        encode_audio(&mut wire, Rate::Hz8000, &[i as u8; 320]);
    }
    wire
}

fn played(run: &Run) -> Vec<(Instant, u8)> {
    run.events
        .iter()
        .filter_map(|(t, e)| match e {
            Event::Audio(f) => Some((*t, f.pcm[0])),
            _ => None,
        })
        .collect()
}

/// How many of `played` played at one of the caller's frames (within 3 ms
/// after it).
fn at_a_caller_frame(played: &[(Instant, u8)], sent: &[Instant]) -> usize {
    played
        .iter()
        .filter(|(t, _)| {
            sent.iter()
                .any(|s| s <= t && *t - *s < Duration::from_millis(3))
        })
        .count()
}

/// Every frame once, in order, at real-time pace with no gap a listener
/// would hear as a stall.
fn assert_whole_and_paced(played: &[(Instant, u8)], n: usize) {
    let order: Vec<u8> = played.iter().map(|p| p.1).collect();
    assert_eq!(order, (1..=n as u8).collect::<Vec<_>>());
    let spread = played[n - 1].0 - played[0].0;
    let expected = PERIOD * (n as u32 - 1);
    assert!(
        spread + Duration::from_millis(60) >= expected && spread <= expected * 5 / 4,
        "{n} frames played over {spread:?}"
    );
    let gap = played.windows(2).map(|w| w[1].0 - w[0].0).max().unwrap();
    assert!(gap < Duration::from_millis(80), "a gap of {gap:?}");
}

/// A server sending frames 1 to 100 one `period` apart, half a phone
/// period out of step with the phone; returns when each was sent.
fn paced_server(
    mut peer: TcpStream,
    period: Duration,
) -> std::thread::JoinHandle<(TcpStream, Vec<Instant>)> {
    std::thread::spawn(move || {
        let wire = numbered(100);
        let t0 = Instant::now() + Duration::from_millis(210);
        let mut sent = Vec::new();
        for (i, frame) in wire.chunks(323).enumerate() {
            let at = t0 + period * i as u32;
            std::thread::sleep(at.saturating_duration_since(Instant::now()));
            sent.push(Instant::now());
            peer.write_all(frame).unwrap();
        }
        (peer, sent)
    })
}

/// A paced server's frames play as they arrive, parked or not, whatever
/// their phase against the phone's, and with a server clock 0.5 % faster
/// or slower than the phone's: nothing waits for the phone's next frame,
/// and nothing piles up.
#[test]
fn a_paced_servers_frames_play_as_they_arrive_at_any_phase_and_drift() {
    let phone = Caller::Phone {
        for_: Duration::from_secs(5),
    };
    for parked in [true, false] {
        for period in [PERIOD, PERIOD * 995 / 1000, PERIOD * 1005 / 1000] {
            let (mut s, peer) = connected_session();
            let server = paced_server(peer, period);
            let r = run(&mut s, Duration::from_millis(2600), phone, parked);
            let (_peer, sent) = server.join().unwrap();
            let p = played(&r);
            let order: Vec<u8> = p.iter().map(|x| x.1).collect();
            assert_eq!(
                order,
                (1..=100).collect::<Vec<u8>>(),
                "every frame, in order"
            );
            let mut waited: Vec<Duration> = p
                .iter()
                .map(|(t, n)| t.saturating_duration_since(sent[*n as usize - 1]))
                .collect();
            waited.sort();
            let (median, p95) = (waited[50], waited[95]);
            assert!(
                median < Duration::from_millis(4) && p95 < Duration::from_millis(12),
                "parked {parked}, period {period:?}: waited {median:?} (median), {p95:?} (p95)"
            );
        }
    }
}

/// With `low_latency = no`, a parked channel thread (the application)
/// lets a paced server's frame wait for the phone's next frame and plays
/// it there: the I/O thread does not wake it per frame, and each frame
/// waits up to a phone period (half of one on average). With it on, the
/// same frames play as they arrive, a wake-up each.
#[test]
fn without_low_latency_paced_frames_wait_for_the_phones_frames_and_save_wake_ups() {
    let phone = Caller::Phone {
        for_: Duration::from_secs(5),
    };
    let mut wake_ups = Vec::new();
    for low_latency in [false, true] {
        let (mut s, peer) = connected_session_with(low_latency);
        let server = paced_server(peer, PERIOD);
        let r = run(&mut s, Duration::from_millis(2600), phone, true);
        let (_peer, sent) = server.join().unwrap();
        let p = played(&r);
        assert_whole_and_paced(&p, 100);
        let mut waited: Vec<Duration> = p
            .iter()
            .map(|(t, n)| t.saturating_duration_since(sent[*n as usize - 1]))
            .collect();
        waited.sort();
        let median = waited[50];
        if low_latency {
            assert!(median < Duration::from_millis(4), "waited {median:?}");
        } else {
            assert!(
                median > Duration::from_millis(5) && waited[95] < Duration::from_millis(30),
                "waited {median:?} (median), {:?} (p95)",
                waited[95]
            );
            let at_phone = at_a_caller_frame(&p, &r.sent);
            assert!(at_phone >= 90, "{at_phone} of 100 at a phone frame");
        }
        wake_ups.push(r.wake_ups);
    }
    assert!(
        wake_ups[0] < 20 && wake_ups[1] >= 80,
        "the I/O thread woke the channel thread {} times waiting, {} at once",
        wake_ups[0],
        wake_ups[1]
    );
}

/// A burst plays at real-time pace at the phone's frames: a parked channel
/// thread is not woken by the I/O thread for each frame.
#[test]
fn a_burst_plays_at_the_phones_frames_without_a_wake_up_per_frame() {
    let (mut s, mut peer) = connected_session();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(210));
        peer.write_all(&numbered(100)).unwrap();
        peer
    });
    let phone = Caller::Phone {
        for_: Duration::from_secs(5),
    };
    let r = run(&mut s, Duration::from_millis(2600), phone, true);
    drop(writer.join().unwrap());
    let p = played(&r);
    assert_whole_and_paced(&p, 100);
    let clocked = at_a_caller_frame(&p, &r.sent);
    assert!(
        clocked >= 80,
        "{clocked} of 100 frames played at a phone frame"
    );
    assert!(r.wake_ups <= 25, "{} wake-ups for 100 frames", r.wake_ups);
}

/// A caller that only answers our frames cannot clock them: the session
/// finds out and plays on its own timer, parked or not.
#[test]
fn a_caller_that_echoes_our_frames_never_stalls_playout() {
    for delay in [1, 6, 12] {
        for parked in [true, false] {
            let (mut s, mut peer) = connected_session();
            peer.write_all(&numbered(150)).unwrap();
            let echo = Caller::Echo(Duration::from_millis(delay));
            let r = run(&mut s, Duration::from_millis(3500), echo, parked);
            assert_whole_and_paced(&played(&r), 150);
            assert!(
                r.sent.len() >= 140,
                "parked {parked}: {} echoes",
                r.sent.len()
            );
        }
    }
}

/// The driver's channel thread never parks: a caller frame wakes it for
/// the frame that waits on it, and when the caller stops the timer takes
/// over.
#[test]
fn a_driver_plays_at_its_callers_frames_and_on_when_they_stop() {
    let (mut s, mut peer) = connected_session();
    let phone = Caller::Phone {
        for_: Duration::from_millis(1200),
    };
    // The phone's clock settles before the burst arrives, half a period
    // out of step with it (the timer alone would play between its frames).
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(210));
        peer.write_all(&numbered(100)).unwrap();
        peer
    });
    let r = run(&mut s, Duration::from_millis(2800), phone, false);
    drop(writer.join().unwrap());
    let p = played(&r);
    assert_whole_and_paced(&p, 100);
    let last_sent = *r.sent.last().unwrap();
    let while_sending: Vec<_> = p.iter().filter(|(t, _)| *t <= last_sent).copied().collect();
    let clocked = at_a_caller_frame(&while_sending, &r.sent);
    assert!(
        clocked * 5 >= while_sending.len() * 4,
        "{clocked} of {} frames played at a caller frame",
        while_sending.len()
    );
    assert!(p.len() - while_sending.len() >= 40, "the rest played after");
}
