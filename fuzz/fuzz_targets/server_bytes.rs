//! Arbitrary bytes from a server, cut into arbitrary reads, through the
//! decoder and the session's interpretation of them: nothing may panic,
//! memory stays bounded, and every audio frame holds whole samples.
#![no_main]

use std::collections::VecDeque;

use chan_audiosocket_rs::protocol::{Rate, HEADER_LEN, MAX_PAYLOAD};
use chan_audiosocket_rs::session::{Event, ServerInput};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    // The first byte picks the call's rate and the read size.
    let rate = Rate::ALL[data[0] as usize % Rate::ALL.len()];
    let chunk = 1 + (data[1] as usize % 64) * 37;
    let mut rest = &data[2..];
    let mut input = ServerInput::new(rate);
    let mut events = VecDeque::new();
    let mut bad = 0usize;
    let mut ended = None;
    while !rest.is_empty() && ended.is_none() {
        let spare = input.spare();
        assert!(!spare.is_empty());
        let n = spare.len().min(chunk).min(rest.len());
        spare[..n].copy_from_slice(&rest[..n]);
        input.filled(n);
        rest = &rest[n..];
        ended = input.process(&mut events, &mut |_, _, _| bad += 1);
        assert!(input.buffered() < HEADER_LEN + MAX_PAYLOAD);
        if ended.is_none() && events.len() % 3 == 0 {
            input.pause(&mut events);
        }
        // The channel thread takes what it is given.
        while events.len() > 64 {
            check(events.pop_front().unwrap(), rate);
        }
    }
    if ended.is_none() {
        ended = Some(input.closed(&mut events));
    }
    for ev in events {
        check(ev, rate);
    }
    assert!(ended.is_some());
});

fn check(ev: Event, rate: Rate) {
    match ev {
        Event::Audio(f) => {
            assert!(!f.pcm.is_empty());
            assert_eq!(f.pcm.len() % 2, 0, "whole samples only");
            assert!(f.pcm.len() <= rate.frame_bytes());
        }
        Event::Dtmf(d) => assert!(b"0123456789*#ABCD".contains(&d)),
        Event::Connected | Event::Ended(_) => panic!("the input never makes these"),
    }
}
