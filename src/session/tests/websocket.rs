//! The WebSocket transport over loopback, against tungstenite's own server
//! side: AudioSocket in binary messages (fragmented too) both ways, pings
//! answered, the close handshake either way, a refused upgrade named by
//! its status, a message too long, a flood of tiny messages; and the
//! Twilio dialect: `connected` and `start`, media both ways, marks
//! answered as played or as cleared.
// tungstenite's accept callback returns its own (large) error response.
#![allow(clippy::result_large_err)]

use std::net::TcpStream;

use data_encoding::BASE64;
use serde_json::Value;
use tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tungstenite::protocol::frame::Frame;
use tungstenite::protocol::CloseFrame;
use tungstenite::{Message, WebSocket};

use super::*;
use crate::protocol::mulaw;
use crate::protocol::twilio::{StreamInfo, Track};
use crate::session::websocket::{Dialect, WebSocketTarget};

fn target(dialect: Dialect) -> WebSocketTarget {
    WebSocketTarget {
        secure: false,
        resource: "/media?call=1".into(),
        headers: vec![("Authorization".into(), "Bearer t0ken".into())],
        dialect,
        twilio_auth_token: Some("s3cret".into()),
        twilio_account_sid: None,
    }
}

fn ws_session(dialect: Dialect) -> (TcpListener, Session, Arc<Captured>) {
    let (l, addr) = listener();
    let (s, log) = start_with(addr, Rate::Hz8000, |c| {
        c.websocket = Some(target(dialect));
        if dialect == Dialect::Twilio {
            c.twilio = Some(StreamInfo {
                stream_sid: "MZ0".into(),
                call_sid: "CA0".into(),
                account_sid: "AC0".into(),
                tracks: vec![Track::Inbound],
                custom_parameters: vec![("from_number".into(), "+4930123".into())],
            });
            c.barge_in = true;
            c.answer_flushed_marks = true;
        }
    });
    (l, s, log)
}

/// Accepts the upgrade, keeping the request's headers.
fn accept(l: &TcpListener) -> (WebSocket<TcpStream>, Vec<(String, String)>) {
    let (stream, _) = l.accept().unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let mut headers = Vec::new();
    let ws = tungstenite::accept_hdr(stream, |req: &Request, resp: Response| {
        headers = req
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        headers.push(("path".into(), req.uri().to_string()));
        Ok::<Response, ErrorResponse>(resp)
    })
    .unwrap();
    (ws, headers)
}

fn binary(ws: &mut WebSocket<TcpStream>) -> Vec<u8> {
    loop {
        match ws.read().unwrap() {
            Message::Binary(b) => return b.to_vec(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("{other:?}"),
        }
    }
}

fn text(ws: &mut WebSocket<TcpStream>) -> Value {
    loop {
        match ws.read().unwrap() {
            Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn audiosocket_over_websocket_both_ways_with_pings_and_the_servers_close() {
    let (l, mut s, _log) = ws_session(Dialect::AudioSocket);
    let (mut ws, headers) = accept(&l);
    let header = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(header("path").as_deref(), Some("/media?call=1"));
    assert_eq!(header("authorization").as_deref(), Some("Bearer t0ken"));
    // The UUID, alone in the first message.
    assert_eq!(binary(&mut ws), [&[0x01, 0, 16][..], &UUID].concat());
    pump(&mut s, Duration::from_millis(100));
    s.send_audio(&[5; 320]);
    assert_eq!(binary(&mut ws), [&[0x10, 1, 0x40][..], &[5; 320]].concat());
    // A ping is answered; audio in a message fragmented into three frames.
    ws.send(Message::Ping(vec![1, 2, 3].into())).unwrap();
    let mut wire = Vec::new();
    encode_audio(&mut wire, Rate::Hz8000, &pattern(640));
    let thirds = wire.len() / 3;
    for (i, part) in [
        &wire[..thirds],
        &wire[thirds..2 * thirds],
        &wire[2 * thirds..],
    ]
    .into_iter()
    .enumerate()
    {
        let opcode = if i == 0 {
            OpCode::Data(Data::Binary)
        } else {
            OpCode::Data(Data::Continue)
        };
        ws.write(Message::Frame(Frame::message(
            part.to_vec(),
            opcode,
            i == 2,
        )))
        .unwrap();
    }
    ws.flush().unwrap();
    let ev = pump(&mut s, Duration::from_millis(300));
    assert_eq!(audio_bytes(&ev), pattern(640));
    loop {
        match ws.read().unwrap() {
            Message::Pong(p) => {
                assert_eq!(&p[..], [1, 2, 3]);
                break;
            }
            Message::Binary(_) => {}
            other => panic!("{other:?}"),
        }
    }
    // The server closes normally: the call ends as a hangup.
    ws.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "bye".into(),
    }))
    .unwrap();
    let ev = pump(&mut s, Duration::from_secs(2));
    assert_eq!(
        ending(&ev),
        Some(&EndReason::ServerHangup(Hangup::WebSocketClose(1000)))
    );
    // It got our answer to its close.
    loop {
        match ws.read() {
            Ok(Message::Close(_)) | Err(tungstenite::Error::ConnectionClosed) => break,
            Ok(_) => {}
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn our_hangup_sends_the_hangup_message_then_a_close() {
    let (l, mut s, _log) = ws_session(Dialect::AudioSocket);
    let (mut ws, _) = accept(&l);
    binary(&mut ws);
    pump(&mut s, Duration::from_millis(100));
    drop(s);
    assert_eq!(binary(&mut ws), [0, 0, 0]);
    match ws.read().unwrap() {
        Message::Close(Some(f)) => assert_eq!(f.code, CloseCode::Normal),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_refused_upgrade_is_named_by_its_status() {
    for status in [401u16, 404, 503] {
        let (l, addr) = listener();
        let (mut s, _log) = start_with(addr, Rate::Hz8000, |c| {
            c.websocket = Some(target(Dialect::AudioSocket));
        });
        let (stream, _) = l.accept().unwrap();
        let refused = tungstenite::accept_hdr(stream, |_: &Request, _: Response| {
            Err::<Response, ErrorResponse>(
                tungstenite::http::Response::builder()
                    .status(status)
                    .body(None)
                    .unwrap(),
            )
        });
        assert!(refused.is_err());
        let ev = pump(&mut s, Duration::from_secs(3));
        match ending(&ev) {
            Some(EndReason::ConnectFailed(why)) => assert!(
                why.contains(&format!("the server refused the upgrade: HTTP {status}")),
                "{why}"
            ),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_message_too_long_ends_the_call_as_a_protocol_error() {
    let (l, mut s, _log) = ws_session(Dialect::AudioSocket);
    let (mut ws, _) = accept(&l);
    binary(&mut ws);
    let big = vec![0u8; crate::session::websocket::MAX_MESSAGE + 1];
    let _ = ws.send(Message::Binary(big.into()));
    let ev = pump(&mut s, Duration::from_secs(3));
    match ending(&ev) {
        Some(EndReason::ProtocolError(why)) => assert!(why.contains("more than"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_flood_of_tiny_messages_is_bounded_like_audiosocket() {
    let (l, mut s, _log) = ws_session(Dialect::AudioSocket);
    let (mut ws, _) = accept(&l);
    binary(&mut ws);
    // Ten seconds of audio, four bytes a message, as fast as TCP takes it.
    let writer = std::thread::spawn(move || {
        let pcm = pattern(160_000);
        for chunk in pcm.chunks(4) {
            let mut m = vec![0x10, 0, chunk.len() as u8];
            m.extend_from_slice(chunk);
            if ws.write(Message::Binary(m.into())).is_err() {
                break;
            }
        }
        let _ = ws.flush();
        ws
    });
    std::thread::sleep(Duration::from_millis(500));
    // The server is held back: about the playout buffer queued, no more.
    let queued = s
        .shared
        .queued_frames
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(queued <= 110, "{queued} frames queued");
    let ev = pump(&mut s, Duration::from_millis(600));
    assert!(!audio_bytes(&ev).is_empty(), "and it plays");
    drop(s);
    let _ = writer.join();
}

#[test]
fn twilio_dialect_start_media_marks_and_clear() {
    let (l, mut s, _log) = ws_session(Dialect::Twilio);
    let (mut ws, headers) = accept(&l);
    let signature = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("x-twilio-signature"))
        .map(|(_, v)| v.clone())
        .expect("signed");
    let url = target(Dialect::Twilio).url("127.0.0.1", l.local_addr().unwrap().port());
    assert_eq!(
        signature,
        crate::session::websocket::twilio_signature("s3cret", &url)
    );
    assert_eq!(text(&mut ws)["event"], "connected");
    let start = text(&mut ws);
    assert_eq!(start["event"], "start");
    assert_eq!(
        start["start"]["customParameters"]["from_number"],
        "+4930123"
    );
    pump(&mut s, Duration::from_millis(100));
    // The caller's audio, as µ-law.
    let pcm: Vec<u8> = [1000i16; 160]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    s.send_audio(&pcm);
    let media = text(&mut ws);
    assert_eq!(media["event"], "media");
    assert_eq!(media["media"]["track"], "inbound");
    let ulaw = BASE64
        .decode(media["media"]["payload"].as_str().unwrap().as_bytes())
        .unwrap();
    assert_eq!(ulaw, vec![mulaw::encode(1000); 160]);
    // A bot's second of audio, then a mark: played at real time, the mark
    // answered after it.
    let second = vec![mulaw::encode(2000); 8000];
    let media = |payload: &[u8]| {
        format!(
            r#"{{"event":"media","streamSid":"MZ0","media":{{"payload":"{}"}}}}"#,
            BASE64.encode(payload)
        )
    };
    ws.send(Message::Text(media(&second).into())).unwrap();
    ws.send(Message::Text(
        r#"{"event":"mark","streamSid":"MZ0","mark":{"name":"first"}}"#.into(),
    ))
    .unwrap();
    let t0 = Instant::now();
    let ev = pump(&mut s, Duration::from_millis(1300));
    let heard = audio_bytes(&ev);
    assert_eq!(heard.len(), 16000);
    assert_eq!(
        i16::from_le_bytes([heard[0], heard[1]]),
        mulaw::decode(mulaw::encode(2000))
    );
    let mark = text(&mut ws);
    assert_eq!(mark["event"], "mark");
    assert_eq!(mark["mark"]["name"], "first");
    assert!(t0.elapsed() >= Duration::from_millis(900));
    // Five seconds and a mark, then clear: the audio stops, and the mark
    // comes back at once.
    ws.send(Message::Text(
        media(&vec![mulaw::encode(3000); 40_000]).into(),
    ))
    .unwrap();
    ws.send(Message::Text(
        r#"{"event":"mark","streamSid":"MZ0","mark":{"name":"second"}}"#.into(),
    ))
    .unwrap();
    pump(&mut s, Duration::from_millis(300));
    ws.send(Message::Text(
        r#"{"event":"clear","streamSid":"MZ0"}"#.into(),
    ))
    .unwrap();
    let cleared = Instant::now();
    let ev = pump(&mut s, Duration::from_millis(400));
    let after: Vec<&(Instant, Event)> = ev
        .iter()
        .filter(|(at, e)| matches!(e, Event::Audio(_)) && *at > cleared + Duration::from_millis(60))
        .collect();
    assert!(after.is_empty(), "{} frames after the clear", after.len());
    let mark = text(&mut ws);
    assert_eq!(mark["mark"]["name"], "second");
    // Our hangup: stop, then the close.
    drop(s);
    loop {
        let m = text(&mut ws);
        if m["event"] == "stop" {
            assert_eq!(m["stop"]["callSid"], "CA0");
            break;
        }
    }
    assert!(matches!(ws.read().unwrap(), Message::Close(_)));
}

#[test]
fn a_twilio_bots_bad_messages_are_skipped_and_logged_once_each() {
    let (l, mut s, log) = ws_session(Dialect::Twilio);
    let (mut ws, _) = accept(&l);
    text(&mut ws);
    text(&mut ws);
    for bad in [
        "nonsense",
        "{}",
        r#"{"event":"dance"}"#,
        r#"{"event":"dance"}"#,
        r#"{"event":"media","media":{"payload":"!!"}}"#,
    ] {
        ws.send(Message::Text(bad.into())).unwrap();
    }
    ws.send(Message::Binary(vec![1, 2].into())).unwrap();
    ws.close(None).unwrap();
    let ev = pump(&mut s, Duration::from_secs(2));
    assert!(matches!(ending(&ev), Some(EndReason::ServerHangup(_))));
    let w = log.warnings();
    assert_eq!(w.len(), 3, "{w:?}");
    assert!(w[0].contains("not a Twilio event"), "{w:?}");
    assert!(w.iter().any(|l| l.contains("'dance'")), "{w:?}");
    assert!(w.iter().any(|l| l.contains("not base64")), "{w:?}");
    assert_eq!(s.stats().protocol_errors, 6);
}
