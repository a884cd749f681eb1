//! Arbitrary bytes from a server, cut into arbitrary reads, through the
//! decoder and the session's interpretation of them, with the barge-in and
//! call-context extensions off or on, the server's audio played or
//! dropped (a tap), and resuming on (`0x26`, and a new connection between
//! two reads): nothing may panic, memory stays bounded, every audio
//! frame holds whole samples, a flush leaves no audio or mark read before
//! it, and a variable the server sets is one the rules allow.
#![no_main]

use std::collections::VecDeque;

use chan_audiosocket_rs::protocol::{Rate, HEADER_LEN, MAX_PAYLOAD};
use chan_audiosocket_rs::session::{
    InputOptions, Queued, ServerInput, VariablePolicy, MAX_MARK_ID,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    // The first byte picks the call's rate and its options; the second
    // the read size.
    let rate = Rate::ALL[data[0] as usize % Rate::ALL.len()];
    let options = InputOptions {
        rate,
        barge_in: data[0] & 0x80 != 0,
        variables: (data[0] & 0x40 != 0).then(|| VariablePolicy::parse("*", ',').unwrap()),
        play_audio: data[0] & 0x20 == 0,
        keep_flushed_marks: data[0] & 0x10 != 0,
        resume: data[0] & 0x08 != 0,
    };
    let chunk = 1 + (data[1] as usize % 64) * 37;
    let room = if data[1] & 0x40 != 0 { 4096 } else { usize::MAX };
    let mut rest = &data[2..];
    let mut input = ServerInput::new(options.clone());
    let mut events = VecDeque::new();
    let mut bad = 0usize;
    let mut ended = None;
    let now = std::time::Instant::now();
    while !rest.is_empty() && ended.is_none() {
        let spare = input.spare();
        assert!(!spare.is_empty());
        let n = spare.len().min(chunk).min(rest.len());
        spare[..n].copy_from_slice(&rest[..n]);
        input.filled(n);
        rest = &rest[n..];
        ended = input.process(&mut events, room, now, &mut |_, _, _| bad += 1);
        assert!(input.buffered() < HEADER_LEN + MAX_PAYLOAD);
        flushed_in_order(&events, options.keep_flushed_marks);
        if ended.is_none() && events.len() % 3 == 0 {
            input.flush_partial(&mut events);
        }
        if ended.is_none() && data[1] & 0x80 != 0 && events.len() % 5 == 0 {
            // A flush from Asterisk's side, between two reads.
            input.discard_audio(&mut events);
            assert!(!events.iter().any(|e| match e {
                Queued::Audio(_) => true,
                Queued::Mark(_) => !options.keep_flushed_marks,
                _ => false,
            }));
        }
        if ended.is_none() && options.resume && events.len() % 7 == 0 {
            // The stream resumes on a new connection: nothing of the old
            // one's bytes is left.
            input.restart();
            assert_eq!(input.buffered(), 0);
        }
        // The I/O thread hands on what it is given.
        while events.len() > 64 {
            check(events.pop_front().unwrap(), &options);
        }
    }
    if ended.is_none() {
        ended = Some(input.closed(&mut events));
    }
    for ev in events {
        check(ev, &options);
    }
    assert!(ended.is_some());
});

/// No audio (nor a mark, unless flushed marks are kept to be answered)
/// stands before a flush in what waits to be queued.
fn flushed_in_order(events: &VecDeque<Queued>, keep_marks: bool) {
    if let Some(last_flush) = events.iter().rposition(|e| matches!(e, Queued::Flush)) {
        assert!(!events.iter().take(last_flush).any(|e| match e {
            Queued::Audio(_) => true,
            Queued::Mark(_) => !keep_marks,
            _ => false,
        }));
    }
}

fn check(ev: Queued, options: &InputOptions) {
    match ev {
        Queued::Audio(f) => {
            assert!(options.play_audio);
            assert!(!f.pcm.is_empty());
            assert_eq!(f.pcm.len() % 2, 0, "whole samples only");
            assert!(f.pcm.len() <= options.rate.frame_bytes());
        }
        Queued::Dtmf(d) => assert!(b"0123456789*#ABCD".contains(&d)),
        Queued::Mark(m) => {
            assert!(options.barge_in && !m.from_dialplan);
            assert!(m.id.len() <= MAX_MARK_ID);
        }
        Queued::SetVariable { name, value } => {
            let policy = options.variables.as_ref().expect("0x24 is known");
            assert_eq!(policy.allows(&name), Ok(()));
            assert!(name.len() <= 64 && value.len() <= 1024);
            assert!(name.starts_with(|c: char| c.is_ascii_alphabetic()));
            assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
            assert!(!value.chars().any(char::is_control));
        }
        Queued::ReportDrained | Queued::Flush => assert!(options.barge_in),
        Queued::Connected | Queued::Ended(_) | Queued::Lost(_) | Queued::Resumed { .. } => {
            panic!("the input never makes these")
        }
    }
}
