//! Many calls on a real Asterisk: 200 at once ending at random moments on
//! either side, and 1,000 in a row, with no leaked channel, thread or
//! descriptor afterwards.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::{ramp, Asterisk, UUID};

const S: Duration = Duration::from_secs(1);

fn dialplan() -> String {
    format!(
        "[app]\nexten => _X.,1,Answer()\n same => n,AudioSocket({UUID},127.0.0.1:${{EXTEN}},t(2))\n same => n,Hangup()\n\
         [dial]\nexten => _X.,1,Dial(AudioSocket/127.0.0.1:${{EXTEN}}/{UUID}/t(2),,g)\n same => n,Hangup()\n\
         [rndhang]\nexten => _X!,1,Answer()\n same => n,Wait(${{RAND(0,3)}}.${{RAND(0,9)}})\n same => n,Hangup()\n\
         {}",
        common::FAR_ENDS
    )
}

/// A small deterministic generator, so a failing run can be repeated.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Reads and discards until the peer closes or `limit` passes.
fn drain_until_closed(s: &mut TcpStream, limit: Duration) {
    let end = Instant::now() + limit;
    let mut buf = [0u8; 4096];
    while Instant::now() < end {
        s.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        match s.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return,
        }
    }
}

/// One connection of the misbehaving server, doing what `seed` picks.
fn misbehave(mut s: TcpStream, seed: u64) {
    let mut rng = Rng(seed | 1);
    let mut head = [0u8; 19];
    if s.read_exact(&mut head).is_err() {
        return;
    }
    let wait = Duration::from_millis(rng.below(3000));
    let frame = ramp(160);
    let msg = |kind: u8, p: &[u8]| {
        let mut m = vec![kind];
        m.extend_from_slice(&(p.len() as u16).to_be_bytes());
        m.extend_from_slice(p);
        m
    };
    let _ = match rng.below(6) {
        // Stream paced audio for a while, then hang up.
        0 => {
            let end = Instant::now() + wait;
            while Instant::now() < end {
                if s.write_all(&msg(0x10, &frame)).is_err() {
                    return;
                }
                thread::sleep(Duration::from_millis(20));
            }
            s.write_all(&msg(0x00, &[]))
        }
        // Close in the middle of a message.
        1 => {
            thread::sleep(wait);
            let m = msg(0x10, &frame);
            s.write_all(&m[..100])
        }
        // Report an error.
        2 => {
            thread::sleep(wait);
            s.write_all(&msg(0xff, &[rng.below(256) as u8]))
        }
        // Random bytes.
        3 => {
            let junk: Vec<u8> = (0..rng.below(5000)).map(|_| rng.next() as u8).collect();
            s.write_all(&junk)
        }
        // A burst, then silence until the caller goes.
        4 => s.write_all(&msg(0x10, &ramp(16_000))),
        // Nothing at all until the caller goes.
        _ => Ok(()),
    };
    drain_until_closed(&mut s, 15 * S);
}

struct LoadServer {
    port: u16,
    stop: Arc<AtomicBool>,
    handled: Arc<AtomicUsize>,
    thread: thread::JoinHandle<()>,
}

impl LoadServer {
    /// Listens on a loopback port and runs `per_conn` on a thread per
    /// connection, with a seed that differs per connection.
    fn start(per_conn: fn(TcpStream, u64)) -> LoadServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let handled = Arc::new(AtomicUsize::new(0));
        let (stop2, handled2) = (stop.clone(), handled.clone());
        let thread = thread::spawn(move || {
            let mut n = 0u64;
            let mut workers = Vec::new();
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((s, _)) => {
                        s.set_nonblocking(false).unwrap();
                        n += 1;
                        let handled = handled2.clone();
                        workers.push(thread::spawn(move || {
                            per_conn(s, n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
                            handled.fetch_add(1, Ordering::Relaxed);
                        }));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(2)),
                }
            }
            for w in workers {
                let _ = w.join();
            }
        });
        LoadServer {
            port,
            stop,
            handled,
            thread,
        }
    }

    /// Connections whose handler has finished.
    fn handled(&self) -> usize {
        self.handled.load(Ordering::Relaxed)
    }

    /// Stops accepting, waits for every handler, and says how many ran.
    fn finish(self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap();
        self.handled.load(Ordering::Relaxed)
    }
}

fn settle(ast: &Asterisk, base: (usize, usize, usize)) -> (usize, usize, usize) {
    let t0 = Instant::now();
    loop {
        let now = ast.resources();
        if (now.0 <= base.0 + 2 && now.1 <= base.1 + 2) || t0.elapsed() > 15 * S {
            return now;
        }
        thread::sleep(Duration::from_millis(200));
    }
}

/// A couple of descriptors or threads of slack: Asterisk's own come and go.
fn assert_no_descriptor_or_thread_leaked(
    base: (usize, usize, usize),
    after: (usize, usize, usize),
) {
    assert!(
        after.0 <= base.0 + 2,
        "descriptors leaked: {base:?} -> {after:?}"
    );
    assert!(
        after.1 <= base.1 + 2,
        "threads leaked: {base:?} -> {after:?}"
    );
}

#[test]
fn two_hundred_concurrent_calls_ending_at_random_times() {
    let Some(mut ast) = Asterisk::start("two_hundred_concurrent", &dialplan()) else {
        return;
    };
    let server = LoadServer::start(misbehave);
    let port = server.port;
    // Connections to this one never complete; to that one they are refused.
    let hole = common::BlackHole::new();
    let hole_port = hole.port;
    let refused = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();

    let base = ast.resources();
    let mut rng = Rng(0x5eed);
    for i in 0..200 {
        let target = match i % 8 {
            6 => hole_port,
            7 => refused,
            _ => port,
        };
        let ctx = if i % 2 == 0 { "app" } else { "dial" };
        let far = if rng.below(2) == 0 {
            "1@rndhang"
        } else {
            "1@tone"
        };
        ast.originate(&format!("{target}@{ctx}"), far);
    }
    let peak = ast.resources();
    // Servers end their calls within a few seconds; the tone calls with a
    // quiet server are ended by the server side's drain limit.
    assert!(
        ast.wait_no_channels(60 * S),
        "calls left over:\n{}",
        ast.cli("core show channels")
    );
    let served = server.finish();
    assert!(ast.alive(), "Asterisk is still running");
    let after = settle(&ast, base);
    eprintln!("fds/threads/RSS KiB: before {base:?}, at peak {peak:?}, after {after:?}; {served} connections served");
    assert_no_descriptor_or_thread_leaked(base, after);
    let log = ast.log();
    assert!(!log.contains("internal error"), "{}", ast.log_tail());
    assert!(
        !log.contains("may not have been hung up properly"),
        "{}",
        ast.log_tail()
    );
}

/// Sends a tenth of a second of audio, hangs up, and waits for the close.
fn short_call(mut s: TcpStream, _seed: u64) {
    let mut head = [0u8; 19];
    if s.read_exact(&mut head).is_err() {
        return;
    }
    let mut m = vec![0x10, 0x03, 0x20];
    m.extend_from_slice(&ramp(400));
    let _ = s.write_all(&m);
    let _ = s.write_all(&[0, 0, 0]);
    drain_until_closed(&mut s, 5 * S);
}

#[test]
fn a_thousand_calls_in_a_row_leave_no_trace() {
    let Some(ast) = Asterisk::start("thousand_calls", &dialplan()) else {
        return;
    };
    let server = LoadServer::start(short_call);
    let port = server.port;
    let run = |n: usize| {
        let start = server.handled();
        let mut started = 0;
        let t0 = Instant::now();
        while server.handled() < start + n {
            assert!(
                t0.elapsed() < 300 * S,
                "calls stalled at {}",
                server.handled() - start
            );
            // At most ten at a time: each call is short, so this is a row.
            if started < n && started - (server.handled() - start) < 10 {
                let ctx = if started % 2 == 0 { "app" } else { "dial" };
                ast.originate(&format!("{port}@{ctx}"), "1@tone");
                started += 1;
            } else {
                thread::sleep(Duration::from_millis(5));
            }
        }
        assert!(ast.wait_no_channels(10 * S));
    };
    run(50);
    thread::sleep(S);
    let base = ast.resources();
    run(1000);
    let after = settle(&ast, base);
    server.finish();
    eprintln!("fds/threads/RSS KiB after 50 calls {base:?}, after 1,050 {after:?}");
    assert_no_descriptor_or_thread_leaked(base, after);
    // 1,000 calls: a leak of even 8 KiB a call would show as 8 MiB.
    assert!(
        after.2 <= base.2 + 8 * 1024,
        "memory grew: {base:?} -> {after:?}"
    );
}
