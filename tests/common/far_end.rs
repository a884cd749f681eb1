//! The far end of a call, as an AudioSocket server: it talks (a tone at
//! real-time pace, or audio a test gives it) and keeps what it hears with
//! the time each frame came, so a test can tell whether its party heard
//! every frame, and what.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::tones;

/// Audio frames heard, with when each came.
type Heard = Arc<Mutex<Vec<(Instant, Vec<u8>)>>>;

pub struct FarEnd {
    pub port: u16,
    pub heard: Heard,
    stop: Arc<AtomicBool>,
}

impl FarEnd {
    /// Accepts one call; talks `freq` Hz at 8 kHz, a frame every 20 ms.
    pub fn talking(freq: f64) -> FarEnd {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let heard = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, st) = (heard.clone(), stop.clone());
        thread::spawn(move || {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            stream.set_nodelay(true).unwrap();
            let mut writer = stream.try_clone().unwrap();
            let st2 = st.clone();
            thread::spawn(move || {
                let mut phase = 0.0;
                let t0 = Instant::now();
                let mut sent = 0u32;
                while !st2.load(Ordering::Relaxed) {
                    let mut m = vec![0x10, 0x01, 0x40];
                    m.extend(tones::tone(freq, 8000, 160, 8000.0, &mut phase));
                    if writer.write_all(&m).is_err() {
                        return;
                    }
                    sent += 1;
                    let next = t0 + Duration::from_millis(20) * sent;
                    thread::sleep(next.saturating_duration_since(Instant::now()));
                }
                let _ = writer.write_all(&[0, 0, 0]);
            });
            read_all(stream, &h, &st);
        });
        FarEnd { port, heard, stop }
    }

    /// The audio heard from `from` on, as samples, and the longest gap
    /// between two frames in that stretch.
    pub fn heard_since(&self, from: Instant) -> (Vec<i16>, Duration) {
        let heard = self.heard.lock().unwrap();
        let mut pcm = Vec::new();
        let mut gap = Duration::ZERO;
        let mut last: Option<Instant> = None;
        for (at, frame) in heard.iter().filter(|(at, _)| *at >= from) {
            if let Some(l) = last {
                gap = gap.max(*at - l);
            }
            last = Some(*at);
            pcm.extend(tones::samples(frame));
        }
        (pcm, gap)
    }
}

impl Drop for FarEnd {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn read_all(mut s: TcpStream, heard: &Mutex<Vec<(Instant, Vec<u8>)>>, stop: &AtomicBool) {
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    while !stop.load(Ordering::Relaxed) {
        match s.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                continue
            }
            Err(_) => return,
        }
        while buf.len() >= 3 {
            let len = u16::from_be_bytes([buf[1], buf[2]]) as usize;
            if buf.len() < 3 + len {
                break;
            }
            if buf[0] == 0x10 {
                heard
                    .lock()
                    .unwrap()
                    .push((Instant::now(), buf[3..3 + len].to_vec()));
            }
            buf.drain(..3 + len);
        }
    }
}
