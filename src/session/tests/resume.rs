//! Resuming over loopback (option `r`): a lost server's stream goes on on
//! a new connection with the same UUID and a context that says so, the
//! lost server's audio and marks are dropped, the call's audio in the gap
//! is not replayed; ends the server meant never resume; a server that
//! keeps dying ends the call within the limits; `0x26` moves at once.

use std::sync::atomic::{AtomicUsize, Ordering};

use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::CloseFrame;
use tungstenite::Message;

use super::*;
use crate::protocol::twilio::{StreamInfo, Track};
use crate::session::websocket::{Dialect, WebSocketTarget};

fn resuming(
    addr: ServerAddr,
    within: Duration,
    edit: impl FnOnce(&mut SessionConfig),
) -> (Session, Arc<Captured>, Arc<Mutex<Vec<ResumeStep>>>) {
    let steps: Arc<Mutex<Vec<ResumeStep>>> = Arc::default();
    let told = steps.clone();
    let (s, log) = start_with(addr, Rate::Hz8000, |c| {
        c.resume = Some(ResumePolicy {
            within,
            attempts: 20,
        });
        c.on_resume = Some(ResumeListener(Arc::new(move |step| {
            told.lock().unwrap().push(step.clone())
        })));
        edit(c);
    });
    (s, log, steps)
}

fn context(payload: &[u8]) -> serde_json::Value {
    serde_json::from_slice(payload).unwrap()
}

/// The server is killed mid-call (a reset: it had unread data): the call
/// goes on on a new connection that gets the same UUID and a context
/// saying it resumes; what the lost server sent and was not played is
/// dropped, its mark never answered, and the caller's audio in the gap
/// never reaches the new server.
#[test]
fn a_lost_server_is_resumed_with_the_same_uuid_and_a_context_that_says_so() {
    let (l, addr) = listener();
    let (mut s, log, steps) = resuming(addr, Duration::from_secs(3), |c| {
        c.context = Some(br#"{"channel":"Test/chan"}"#.to_vec());
        c.barge_in = true;
    });
    let (mut first, _) = l.accept().unwrap();
    assert_eq!(read_msg(&mut first), Some((0x01, UUID.to_vec())));
    assert_eq!(read_msg(&mut first).map(|m| m.0), Some(0x23));
    assert!(matches!(
        pump(&mut s, Duration::from_millis(100)).first(),
        Some((_, Event::Connected))
    ));
    // Two seconds of audio and a mark behind it, then the server dies
    // with the caller's audio unread: the kernel resets the connection.
    let mut wire = Vec::new();
    encode_audio(&mut wire, Rate::Hz8000, &[7; 32_000]);
    wire.extend_from_slice(&[0x21, 0, 2, b'm', b'1']);
    first.write_all(&wire).unwrap();
    let played = pump(&mut s, Duration::from_millis(200));
    assert!(!audio_bytes(&played).is_empty());
    s.send_audio(&[1; 320]);
    std::thread::sleep(Duration::from_millis(50));
    let t0 = Instant::now();
    drop(first);
    let (mut second, _) = l.accept().unwrap();
    let gap_to_accept = t0.elapsed();
    assert_eq!(read_msg(&mut second), Some((0x01, UUID.to_vec())));
    let (kind, payload) = read_msg(&mut second).unwrap();
    assert_eq!(kind, 0x23);
    let ctx = context(&payload);
    assert_eq!(ctx["channel"], "Test/chan");
    assert_eq!(ctx["resumed"], 1);
    assert!(ctx["gap_ms"].as_u64().unwrap() < 1000, "{ctx}");
    let ev = pump(&mut s, Duration::from_millis(200));
    let kinds: Vec<&Event> = ev.iter().map(|(_, e)| e).collect();
    assert!(
        matches!(
            kinds[..],
            [Event::ServerLost(_), Event::Resumed { resumes: 1, .. }]
        ),
        "{kinds:?}"
    );
    // The new server's audio plays; the lost one's does not come back.
    s.send_audio(&[2; 320]);
    assert_eq!(read_msg(&mut second), Some((0x10, vec![2; 320])));
    let mut wire = Vec::new();
    encode_audio(&mut wire, Rate::Hz8000, &[9; 640]);
    wire.extend_from_slice(&[0, 0, 0]);
    second.write_all(&wire).unwrap();
    let ev = pump(&mut s, Duration::from_secs(2));
    assert_eq!(audio_bytes(&ev), vec![9; 640]);
    assert!(
        !ev.iter().any(|(_, e)| matches!(e, Event::MarkPlayed(_))),
        "the lost server's mark was answered: {ev:?}"
    );
    assert_eq!(ending(&ev), Some(&EndReason::ServerHangup(Hangup::Message)));
    assert_eq!(s.stats().resumes, 1);
    assert!(
        gap_to_accept < Duration::from_millis(500),
        "{gap_to_accept:?}"
    );
    let steps = steps.lock().unwrap().clone();
    assert!(
        matches!(
            &steps[..],
            [
                ResumeStep::Lost { asked: false, .. },
                ResumeStep::Resumed {
                    attempt: 1,
                    resumes: 1,
                    ..
                }
            ]
        ),
        "{steps:?}"
    );
    let w = log.warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with("Test/chan: lost AudioSocket server 127.0.0.1:")
            && w[0].contains("resuming the stream"),
        "{w:?}"
    );
}

/// The server's hangup and error messages, and a close without option
/// `r`, end the call as they always did.
#[test]
fn an_end_the_server_meant_never_resumes() {
    for (wire, want) in [
        (vec![0, 0, 0], EndReason::ServerHangup(Hangup::Message)),
        (
            vec![0xff, 0, 1, 7],
            EndReason::ServerError(ErrorCode::from_payload(&[7])),
        ),
    ] {
        let (l, addr) = listener();
        let (mut s, _log, steps) = resuming(addr, Duration::from_secs(3), |_| {});
        let (mut peer, _) = l.accept().unwrap();
        read_msg(&mut peer).unwrap();
        peer.write_all(&wire).unwrap();
        let ev = pump(&mut s, Duration::from_secs(2));
        assert_eq!(ending(&ev), Some(&want));
        l.set_nonblocking(true).unwrap();
        assert!(l.accept().is_err(), "reconnected after {want:?}");
        assert!(steps.lock().unwrap().is_empty());
    }
    // Without r a close ends the call; 0x26 is a kind it does not know.
    let (l, addr) = listener();
    let (mut s, log) = start(addr, Rate::Hz8000);
    let (mut peer, _) = l.accept().unwrap();
    read_msg(&mut peer).unwrap();
    peer.write_all(&[0x26, 0, 0]).unwrap();
    pump(&mut s, Duration::from_millis(200));
    drop(peer);
    let ev = pump(&mut s, Duration::from_secs(2));
    assert_eq!(ending(&ev), Some(&EndReason::ServerHangup(Hangup::Closed)));
    let w = log.warnings();
    assert!(w.iter().any(|w| w.contains("message kind 0x26")), "{w:?}");
}

/// A server that accepts and dies at once, again and again, and one that
/// is gone: the call ends as SERVER_LOST within its time, with backoff
/// between attempts rather than a busy loop.
#[test]
fn a_server_that_keeps_dying_ends_the_call_within_the_limit() {
    let (l, addr) = listener();
    let within = Duration::from_millis(1500);
    let (mut s, _log, steps) = resuming(addr, within, |_| {});
    let (peer, _) = l.accept().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    // Every later connection is closed as soon as it is made.
    std::thread::spawn(move || {
        for stream in l.incoming() {
            counter.fetch_add(1, Ordering::Relaxed);
            drop(stream);
        }
    });
    pump(&mut s, Duration::from_millis(100));
    let t0 = Instant::now();
    drop(peer);
    let ev = pump(&mut s, Duration::from_secs(5));
    let took = t0.elapsed();
    assert!(
        matches!(ending(&ev), Some(EndReason::ServerLost { .. })),
        "{:?}",
        ending(&ev)
    );
    assert!(
        took >= Duration::from_millis(500) && took < within + Duration::from_millis(700),
        "{took:?}"
    );
    // 100, 200, 400, 800 ms apart at most: a handful, not a flood.
    let n = accepted.load(Ordering::Relaxed);
    assert!((2..=8).contains(&n), "{n} connections");
    let steps = steps.lock().unwrap();
    assert!(
        matches!(steps.last(), Some(ResumeStep::GaveUp { .. })),
        "{steps:?}"
    );
    // Connections lost before they settled were no resumes.
    assert_eq!(s.stats().resumes, 0);

    // Nobody listens any more: every attempt is refused.
    let (l, addr) = listener();
    let (mut s, log, steps) = resuming(addr, within, |_| {});
    let (peer, _) = l.accept().unwrap();
    pump(&mut s, Duration::from_millis(100));
    drop(l);
    let t0 = Instant::now();
    drop(peer);
    let ev = pump(&mut s, Duration::from_secs(5));
    let took = t0.elapsed();
    let Some(EndReason::ServerLost { attempts, why }) = ending(&ev) else {
        panic!("{ev:?}");
    };
    assert!((3..=6).contains(attempts), "{attempts} attempts");
    assert!(why.contains("the server hung up"), "{why}");
    assert!(took < within + Duration::from_millis(300), "{took:?}");
    let failed = steps
        .lock()
        .unwrap()
        .iter()
        .filter(|s| matches!(s, ResumeStep::Failed { .. }))
        .count();
    assert_eq!(failed as u32, *attempts);
    // One line per attempt, and the loss.
    assert_eq!(log.warnings().len(), failed + 1, "{:?}", log.warnings());
}

/// `0x26`: the server asks to be left while it still answers. The module
/// closes that connection without a hangup message and is on the next at
/// once; what it had queued is dropped.
#[test]
fn a_server_that_asks_to_be_left_is_left_at_once() {
    let (l, addr) = listener();
    let (mut s, _log, steps) = resuming(addr, Duration::from_secs(3), |_| {});
    let (mut first, _) = l.accept().unwrap();
    read_msg(&mut first).unwrap();
    pump(&mut s, Duration::from_millis(100));
    let t0 = Instant::now();
    first.write_all(&[0x26, 0, 0]).unwrap();
    let (mut second, _) = l.accept().unwrap();
    let moved = t0.elapsed();
    assert_eq!(read_msg(&mut second), Some((0x01, UUID.to_vec())));
    assert!(moved < Duration::from_millis(100), "{moved:?}");
    // The old connection is closed, with no hangup message on it.
    first
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    assert_eq!(read_msg(&mut first), None);
    let ev = pump(&mut s, Duration::from_millis(100));
    assert!(
        ev.iter().any(|(_, e)| matches!(e, Event::Resumed { .. })),
        "{ev:?}"
    );
    assert!(matches!(
        steps.lock().unwrap()[0],
        ResumeStep::Lost { asked: true, .. }
    ));
}

/// Over a WebSocket in the Twilio dialect: a close with 1001 moves the
/// stream, whose new `start` says it resumes; a close with 1000 ends it.
#[test]
fn a_twilio_bot_going_away_moves_the_stream_and_a_normal_close_ends_it() {
    let (l, addr) = listener();
    let (mut s, _log, _steps) = resuming(addr, Duration::from_secs(3), |c| {
        c.websocket = Some(WebSocketTarget {
            secure: false,
            resource: "/media".into(),
            headers: vec![],
            dialect: Dialect::Twilio,
            twilio_auth_token: None,
            twilio_account_sid: None,
        });
        c.twilio = Some(StreamInfo {
            stream_sid: "MZ0".into(),
            call_sid: "CA0".into(),
            account_sid: "AC0".into(),
            tracks: vec![Track::Inbound],
            custom_parameters: vec![],
        });
        c.barge_in = true;
        c.answer_flushed_marks = true;
    });
    let start_of = |ws: &mut tungstenite::WebSocket<TcpStream>| loop {
        if let Message::Text(t) = ws.read().unwrap() {
            let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
            if v["event"] == "start" {
                return v;
            }
        }
    };
    let accept = || {
        let (stream, _) = l.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        tungstenite::accept(stream).unwrap()
    };
    let mut first = accept();
    let start = start_of(&mut first);
    assert_eq!(start["start"]["customParameters"], serde_json::json!({}));
    pump(&mut s, Duration::from_millis(100));
    first
        .close(Some(CloseFrame {
            code: CloseCode::Away,
            reason: "deploy".into(),
        }))
        .unwrap();
    let _ = first.flush();
    let mut second = accept();
    let start = start_of(&mut second);
    assert_eq!(start["start"]["streamSid"], "MZ0");
    assert_eq!(start["start"]["customParameters"]["resumed"], "1");
    assert!(start["start"]["customParameters"]["gap_ms"].is_string());
    pump(&mut s, Duration::from_millis(100));
    second
        .close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        }))
        .unwrap();
    let _ = second.flush();
    let ev = pump(&mut s, Duration::from_secs(2));
    assert_eq!(
        ending(&ev),
        Some(&EndReason::ServerHangup(Hangup::WebSocketClose(1000)))
    );
    l.set_nonblocking(true).unwrap();
    assert!(l.accept().is_err(), "reconnected after a normal close");
}

/// A server that says nothing past the `i()` timeout is lost too.
#[test]
fn a_silent_server_past_the_inactivity_timeout_is_resumed() {
    let (l, addr) = listener();
    let (mut s, _log, _steps) = resuming(addr, Duration::from_secs(3), |c| {
        c.inactivity_timeout = Some(Duration::from_millis(300));
        c.context = Some(b"{}".to_vec());
    });
    let (mut first, _) = l.accept().unwrap();
    read_msg(&mut first).unwrap();
    let t0 = Instant::now();
    let (mut second, _) = l.accept().unwrap();
    assert!(
        t0.elapsed() >= Duration::from_millis(250),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(read_msg(&mut second), Some((0x01, UUID.to_vec())));
    let (kind, payload) = read_msg(&mut second).unwrap();
    assert_eq!(
        (kind, context(&payload)["resumed"].as_u64()),
        (0x23, Some(1))
    );
    let ev = pump(&mut s, Duration::from_millis(100));
    assert!(
        ev.iter()
            .any(|(_, e)| matches!(e, Event::ServerLost(w) if w.contains("inactivity"))),
        "{ev:?}"
    );
}
