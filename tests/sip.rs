//! Real SIP callers on a real Asterisk: sipp places calls through PJSIP
//! (and chan_sip where an Asterisk 20 has it), in µ-law and A-law with 20
//! and 30 ms packets, to `AudioSocket()` and to `Dial(AudioSocket/...)`;
//! the test plays the phone's RTP and the AudioSocket server.

mod common;

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::server::Conn;
use common::sip::{self, CallSpec, Codec, Ending, Phone, Sipp, Stack};
use common::tones::{self, has};
use common::{ami, TestServer, UUID};

const S: Duration = Duration::from_secs(1);
/// The caller's tone, and the server's.
const SAYS: f64 = 600.0;
const BOT: f64 = 1000.0;

const CODECS: [Codec; 4] = [
    Codec {
        payload_type: 0,
        ptime_ms: 20,
    },
    Codec {
        payload_type: 0,
        ptime_ms: 30,
    },
    Codec {
        payload_type: 8,
        ptime_ms: 20,
    },
    Codec {
        payload_type: 8,
        ptime_ms: 30,
    },
];

fn dialplan() -> String {
    format!(
        "[from-sipp]\n\
         exten => _X.,1,Answer()\n same => n,AudioSocket({UUID},127.0.0.1:${{EXTEN}})\n \
         same => n,Hangup()\n\
         exten => _9X.,1,Dial(AudioSocket/127.0.0.1:${{EXTEN:1}}/{UUID})\n same => n,Hangup()\n"
    )
}

/// What the AudioSocket server of one call heard and got.
struct Served {
    audio: Vec<i16>,
    digits: Vec<u8>,
    /// It saw the hangup message, then the close.
    hung_up: bool,
}

/// Serves one call: sends a second of its tone at once, then digit 7;
/// listens for `listen`, then for the end. `up` hears when the call is
/// connected (the phone talks from then on, so that all it says counts).
fn serve(
    srv: TestServer,
    listen: Duration,
    hang_up_after: Option<Duration>,
    up: mpsc::Sender<()>,
) -> thread::JoinHandle<Served> {
    thread::spawn(move || {
        let mut conn = srv.accept_call();
        // The module sends the caller's audio once it has seen the
        // connection up: a moment after the server has.
        thread::sleep(Duration::from_millis(100));
        let _ = up.send(());
        let mut phase = 0.0;
        conn.send_audio(0x10, &tones::tone(BOT, 8000, 8000, 8000.0, &mut phase), 320);
        conn.send(0x03, b"7");
        let mut served = Served {
            audio: Vec::new(),
            digits: Vec::new(),
            hung_up: false,
        };
        let t0 = Instant::now();
        let limit = hang_up_after.unwrap_or(listen);
        while let Some(left) = (t0 + limit).checked_duration_since(Instant::now()) {
            match conn.read_msg(left.max(Duration::from_millis(1))) {
                Some(m) if m.kind == 0x10 => served.audio.extend(tones::samples(&m.payload)),
                Some(m) if m.kind == 0x03 => served.digits.extend(m.payload),
                Some(m) if m.kind == 0x00 => {
                    served.hung_up = conn.wait_closed(2 * S);
                    return served;
                }
                Some(_) => {}
                None => break,
            }
        }
        if hang_up_after.is_some() {
            conn.hangup();
            return served;
        }
        served.hung_up = hangup_then_close(&mut conn, 10 * S);
        served
    })
}

fn hangup_then_close(conn: &mut Conn, d: Duration) -> bool {
    let deadline = Instant::now() + d;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match conn.read_msg(left) {
            Some(m) if m.kind == 0x00 => return conn.wait_closed(deadline - Instant::now()),
            Some(_) => {}
            None => return false,
        }
    }
    false
}

/// Calls `codecs` at once through `stack` to the application (`driver`:
/// false) or the channel driver, the caller hanging up: each way, audio
/// and a digit, then the BYE and the close.
fn calls_carry_audio_and_digits_both_ways(test: &str, stack: Stack, driver: bool) {
    let Some((ast, sip_port, caller_port)) = sip::asterisk(test, stack, &dialplan()) else {
        return;
    };
    let servers: Vec<TestServer> = CODECS.iter().map(|_| TestServer::new()).collect();
    let phones: Vec<Phone> = CODECS.iter().map(|c| Phone::new(*c)).collect();
    let calls: Vec<CallSpec> = servers
        .iter()
        .zip(&phones)
        .enumerate()
        .map(|(i, (srv, phone))| CallSpec {
            exten: format!("{}{}", if driver { "9" } else { "" }, srv.port),
            caller: format!("+4930{i}"),
            codec: phone.codec,
            media_port: phone.port,
        })
        .collect();
    let (served, up): (Vec<_>, Vec<_>) = servers
        .into_iter()
        .map(|s| {
            let (tx, rx) = mpsc::channel();
            (serve(s, 4 * S, None, tx), rx)
        })
        .unzip();
    let mut sipp = Sipp::call(
        sip_port,
        caller_port,
        &calls,
        Ending::CallerHangsUp(4500 * S / 1000),
    );
    thread::scope(|scope| {
        for (phone, up) in phones.iter().zip(up) {
            let to = sipp.asterisk_media(phone.port, 10 * S).unwrap_or_else(|| {
                panic!("{test}: the call with media on {} is answered", phone.port)
            });
            scope.spawn(move || {
                up.recv_timeout(5 * S).expect("the call connects");
                phone.talk(to, SAYS, 2 * S, Some(b'5'))
            });
        }
    });
    let ended = sipp.finished(20 * S);
    for ((served, phone), call) in served.into_iter().zip(&phones).zip(&calls) {
        let served = served.join().unwrap();
        let what = format!("{test} {} {} ms", phone.codec.name(), phone.codec.ptime_ms);
        // The caller's two seconds, whole: every packet it sent.
        let said = phone.samples_in(2 * S);
        assert!(
            served.audio.len() >= said,
            "{what}: the server heard {} samples of {said}",
            served.audio.len()
        );
        assert!(has(&served.audio, 8000, SAYS), "{what}: the caller's tone");
        assert_eq!(served.digits, b"5", "{what}: the caller's digit");
        assert!(
            served.hung_up,
            "{what}: the BYE reached the server as a hangup and a close"
        );
        let heard = phone.heard();
        let second = 1000 / phone.codec.ptime_ms as usize;
        assert!(
            heard.packets >= second * 9 / 10,
            "{what}: the caller got {} packets for the server's second",
            heard.packets
        );
        assert!(has(&heard.samples, 8000, BOT), "{what}: the server's tone");
        assert!(
            heard.digits.contains(&b'7'),
            "{what}: the server's digit: {:?}",
            heard.digits
        );
        let _ = call;
    }
    ended.unwrap_or_else(|e| panic!("{test}: {e}"));
    assert!(ast.wait_no_channels(10 * S), "{test}: no channel is left");
}

#[test]
fn pjsip_callers_reach_the_application_both_ways() {
    calls_carry_audio_and_digits_both_ways("sip_pjsip_app", Stack::Pjsip, false);
}

#[test]
fn pjsip_callers_reach_the_driver_both_ways() {
    calls_carry_audio_and_digits_both_ways("sip_pjsip_driver", Stack::Pjsip, true);
}

#[test]
fn chan_sip_callers_reach_the_application_and_the_driver() {
    calls_carry_audio_and_digits_both_ways("sip_chan_sip_app", Stack::ChanSip, false);
    calls_carry_audio_and_digits_both_ways("sip_chan_sip_driver", Stack::ChanSip, true);
}

/// The server hangs up: the caller gets a BYE, from the application's
/// dialplan and from the driver's channel alike.
#[test]
fn a_server_that_hangs_up_sends_the_caller_a_bye() {
    for stack in [Stack::Pjsip, Stack::ChanSip] {
        let test = format!("sip_server_hangs_up_{}", stack.name());
        let Some((ast, sip_port, caller_port)) = sip::asterisk(&test, stack, &dialplan()) else {
            continue;
        };
        for driver in [false, true] {
            let srv = TestServer::new();
            let phone = Phone::new(CODECS[0]);
            let call = CallSpec {
                exten: format!("{}{}", if driver { "9" } else { "" }, srv.port),
                caller: "100".into(),
                codec: phone.codec,
                media_port: phone.port,
            };
            let (tx, _up) = mpsc::channel();
            let served = serve(srv, S, Some(S), tx);
            let mut sipp = Sipp::call(sip_port, caller_port, &[call], Ending::AsteriskHangsUp);
            let to = sipp.asterisk_media(phone.port, 10 * S).expect("answered");
            phone.talk(to, SAYS, S, None);
            served.join().unwrap();
            sipp.finished(15 * S)
                .unwrap_or_else(|e| panic!("{test} driver {driver}: {e}"));
            assert!(ast.wait_no_channels(10 * S), "{test}: no channel is left");
        }
    }
}

/// Fifty callers at once through PJSIP: every call's audio whole.
#[test]
fn fifty_concurrent_pjsip_calls_each_carry_their_audio_whole() {
    let Some((ast, sip_port, caller_port)) = sip::asterisk("sip_fifty", Stack::Pjsip, &dialplan())
    else {
        return;
    };
    let servers: Vec<TestServer> = (0..50).map(|_| TestServer::new()).collect();
    let phones: Vec<Phone> = (0..50).map(|_| Phone::new(CODECS[0])).collect();
    let calls: Vec<CallSpec> = servers
        .iter()
        .zip(&phones)
        .map(|(srv, phone)| CallSpec {
            exten: srv.port.to_string(),
            caller: "100".into(),
            codec: phone.codec,
            media_port: phone.port,
        })
        .collect();
    let (served, up): (Vec<_>, Vec<_>) = servers
        .into_iter()
        .map(|s| {
            let (tx, rx) = mpsc::channel();
            (serve(s, 5 * S, None, tx), rx)
        })
        .unzip();
    let mut sipp = Sipp::call(sip_port, caller_port, &calls, Ending::CallerHangsUp(6 * S));
    thread::scope(|scope| {
        for (phone, up) in phones.iter().zip(up) {
            let to = sipp.asterisk_media(phone.port, 15 * S).expect("answered");
            scope.spawn(move || {
                up.recv_timeout(10 * S).expect("the call connects");
                phone.talk(to, SAYS, 2 * S, None)
            });
        }
    });
    sipp.finished(30 * S).unwrap_or_else(|e| panic!("{e}"));
    let said = phones[0].samples_in(2 * S);
    let short: Vec<usize> = served
        .into_iter()
        .map(|s| s.join().unwrap().audio.len())
        .filter(|n| *n < said)
        .collect();
    assert!(
        short.is_empty(),
        "calls that heard less than two seconds: {short:?}"
    );
    let heard_bot = phones
        .iter()
        .filter(|p| has(&p.heard().samples, 8000, BOT))
        .count();
    assert_eq!(heard_bot, 50, "every caller heard its server");
    assert!(ast.wait_no_channels(15 * S));
    let _ = ami::free_port;
}
