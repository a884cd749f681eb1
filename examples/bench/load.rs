//! The load: for every call a bot (an AudioSocket or a WebSocket server)
//! and, in the phone workloads, a phone (an RTP endpoint that Asterisk's
//! UnicastRTP channel talks to). One ticker thread sends for every call,
//! one epoll thread receives for every call, so that the load itself costs
//! little of the machine it shares with Asterisk.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use data_encoding::BASE64;

use super::g711;

/// What the far end does and what the bot sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// The far end echoes; the bot sends paced frames and times their echo.
    Echo,
    /// A phone sends a frame every 20 ms; the bot sends paced frames.
    Paced,
    /// A phone sends a frame every 20 ms; the bot listens 3 s, then sends
    /// 2 s of audio at once, again and again.
    Talking,
    /// A call between a phone and a talking party, tapped: the bot is the
    /// tap's server and only listens.
    Tap,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::Echo => "echo",
            Workload::Paced => "phone+paced",
            Workload::Talking => "phone+talking",
            Workload::Tap => "tapped",
        }
    }

    pub fn has_phone(self) -> bool {
        self != Workload::Echo
    }
}

/// How the bot is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    AudioSocket,
    /// chan_websocket's: raw audio in binary messages.
    WebSocket,
    /// This module's AudioSocket in binary WebSocket messages.
    AudioSocketWs,
    /// This module's Twilio dialect: Twilio's JSON, µ-law in base64.
    Twilio,
}

impl Transport {
    fn websocket(self) -> bool {
        self != Transport::AudioSocket
    }
}

const FRAME: usize = 320;
const TALK_CYCLE: u64 = 250; // ticks: 5 s
const TALK_AT: u64 = 150; // the burst, 3 s into each cycle
const BURST: u64 = 100; // frames: 2 s

/// The µ-law bytes a frame's first samples carry: a magic pair, then the
/// sequence number, six bits a byte (never 0x7f or 0xff, which µ-law
/// decodes alike).
const MAGIC: [u8; 2] = [0x9a, 0xa9];
/// The phone's frames carry their own magic pair.
const PHONE_MAGIC: [u8; 2] = [0x9b, 0xab];
const ID_BYTES: usize = 6;

fn id_bytes(magic: [u8; 2], seq: u32) -> [u8; ID_BYTES] {
    let six = |shift: u32| 0x80 | ((seq >> shift) & 0x3f) as u8;
    [magic[0], magic[1], six(18), six(12), six(6), six(0)]
}

/// A 20 ms frame at 8 kHz, as samples, whose first samples carry `magic`
/// and `seq` and whose rest is a 1 kHz tone: samples µ-law represents
/// exactly, so the frame is still recognised after any number of µ-law
/// conversions.
fn tagged_samples(magic: [u8; 2], seq: u32) -> [i16; FRAME / 2] {
    let id = id_bytes(magic, seq);
    std::array::from_fn(|i| match i {
        i if i < ID_BYTES => g711::ulaw_decode(id[i]),
        _ => g711::ulaw_decode(g711::ulaw_encode(
            [0, 5657, 8000, 5657, 0, -5657, -8000, -5657][i % 8],
        )),
    })
}

/// A bot's frame `seq`, little-endian.
fn bot_frame(seq: u32) -> [u8; FRAME] {
    let mut pcm = [0u8; FRAME];
    for (i, v) in tagged_samples(MAGIC, seq).iter().enumerate() {
        pcm[2 * i..2 * i + 2].copy_from_slice(&v.to_le_bytes());
    }
    pcm
}

/// The sequence number of a bot frame, from its first samples in the given
/// byte order.
fn seq_of(p: &[u8], big_endian: bool) -> Option<u32> {
    tagged_seq(p, big_endian, MAGIC)
}

/// The sequence number of a frame tagged with `magic`.
fn tagged_seq(p: &[u8], big_endian: bool, magic: [u8; 2]) -> Option<u32> {
    if p.len() < 2 * ID_BYTES {
        return None;
    }
    let id: Vec<u8> = (0..ID_BYTES)
        .map(|i| {
            let b = [p[2 * i], p[2 * i + 1]];
            g711::ulaw_encode(if big_endian {
                i16::from_be_bytes(b)
            } else {
                i16::from_le_bytes(b)
            })
        })
        .collect();
    (id[..2] == magic).then(|| {
        id[2..]
            .iter()
            .fold(0u32, |seq, b| seq << 6 | u32::from(b & 0x3f))
    })
}

/// What one call measured.
#[derive(Default)]
pub struct CallStats {
    /// Bot frames sent while measuring.
    pub bot_sent: u64,
    /// Audio frames the bot received from Asterisk while measuring.
    pub uplink: u64,
    /// Phone frames sent while measuring, and the first and last of them.
    pub phone_sent: u64,
    phone_window: Option<(u32, u32)>,
    /// Of those, the ones the bot received (each once).
    pub phone_heard: u64,
    last_heard: u32,
    pub uplink_gaps_us: Vec<u64>,
    /// Echo: bot frames that came back, and their round trips.
    pub echoed: u64,
    pub rtt_us: Vec<u64>,
    /// Phone: bot frames that reached it, the gaps between packets while
    /// the bot talked, and how long each took from the bot.
    pub delivered: u64,
    pub downlink_gaps_us: Vec<u64>,
    pub latency_us: Vec<u64>,
    /// Talking: per burst, the frames that reached the phone and how long
    /// from its first frame to its last there.
    pub bursts: Vec<(u64, u64)>,
}

struct Bot {
    stream: TcpStream,
    transport: Transport,
    inbox: Vec<u8>,
    outbox: VecDeque<u8>,
    last_uplink: Option<Instant>,
}

struct Phone {
    socket: UdpSocket,
    asterisk: Option<SocketAddr>,
    payload_type: u8,
    seq: u16,
    /// The number the next frame carries in its samples.
    frame: u32,
    timestamp: u32,
    last_packet: Option<Instant>,
    /// The burst being heard: its first frame's arrival, the last's, frames.
    burst: Option<(Instant, Instant, u64)>,
}

struct Call {
    bot: Option<Bot>,
    phone: Option<Phone>,
    seq: u32,
    /// 20 ms ticks since the bot connected.
    ticks: u64,
    /// When each bot frame was sent, for latency (oldest first).
    sent: VecDeque<(u32, Instant)>,
    stats: CallStats,
    ended: bool,
}

pub struct Load {
    pub audiosocket_port: u16,
    pub websocket_port: u16,
    /// This module's WebSocket transport: AudioSocket, and Twilio's dialect.
    pub audiosocket_ws_port: u16,
    pub twilio_port: u16,
    calls: Arc<Vec<Mutex<Call>>>,
    /// RTP port of each call's phone.
    pub phone_ports: Vec<u16>,
    /// Bot frames sent while this is set are counted.
    measuring: Arc<AtomicBool>,
    /// What arrives while this is set is counted (it stays set a little
    /// longer, so the last counted frames can arrive).
    counting: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    pub connected: Arc<AtomicUsize>,
    threads: Vec<thread::JoinHandle<()>>,
}

fn epoll_add(epfd: RawFd, fd: RawFd, token: u64) {
    let mut ev = libc::epoll_event {
        events: libc::EPOLLIN as u32,
        u64: token,
    };
    // SAFETY: both descriptors are open; ev is a valid event for the call.
    unsafe { libc::epoll_ctl(epfd, libc::EPOLL_CTL_ADD, fd, &mut ev) };
}

impl Load {
    /// Listens for `calls` calls of `workload`.
    pub fn start(workload: Workload, calls: usize) -> Load {
        let as_listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let ws_listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let aws_listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let twilio_listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut phone_ports = Vec::new();
        let table: Vec<Mutex<Call>> = (0..calls)
            .map(|_| {
                let phone = workload.has_phone().then(|| {
                    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
                    socket.set_nonblocking(true).unwrap();
                    phone_ports.push(socket.local_addr().unwrap().port());
                    Phone {
                        socket,
                        asterisk: None,
                        payload_type: 11,
                        seq: 0,
                        frame: 0,
                        timestamp: 0,
                        last_packet: None,
                        burst: None,
                    }
                });
                Mutex::new(Call {
                    bot: None,
                    phone,
                    seq: 0,
                    ticks: 0,
                    sent: VecDeque::new(),
                    stats: CallStats::default(),
                    ended: false,
                })
            })
            .collect();
        let mut load = Load {
            audiosocket_port: as_listener.local_addr().unwrap().port(),
            websocket_port: ws_listener.local_addr().unwrap().port(),
            audiosocket_ws_port: aws_listener.local_addr().unwrap().port(),
            twilio_port: twilio_listener.local_addr().unwrap().port(),
            calls: Arc::new(table),
            phone_ports,
            measuring: Arc::default(),
            counting: Arc::default(),
            stop: Arc::default(),
            connected: Arc::default(),
            threads: Vec::new(),
        };
        // SAFETY: epoll_create1 takes no pointers.
        let epfd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        assert!(epfd >= 0);
        for (i, c) in load.calls.iter().enumerate() {
            if let Some(p) = &c.lock().unwrap().phone {
                epoll_add(epfd, p.socket.as_raw_fd(), (i as u64) << 1 | 1);
            }
        }
        for (listener, transport) in [
            (as_listener, Transport::AudioSocket),
            (ws_listener, Transport::WebSocket),
            (aws_listener, Transport::AudioSocketWs),
            (twilio_listener, Transport::Twilio),
        ] {
            let (calls, stop, connected) = (
                load.calls.clone(),
                load.stop.clone(),
                load.connected.clone(),
            );
            load.threads.push(thread::spawn(move || {
                accept(listener, transport, calls, epfd, stop, connected)
            }));
        }
        let flags = (load.measuring.clone(), load.counting.clone());
        let (calls, stop) = (load.calls.clone(), load.stop.clone());
        load.threads.push(thread::spawn(move || {
            receive(epfd, calls, stop, flags, workload)
        }));
        let (calls, stop, measuring) = (
            load.calls.clone(),
            load.stop.clone(),
            load.measuring.clone(),
        );
        load.threads.push(thread::spawn(move || {
            tick(calls, stop, measuring, workload)
        }));
        load
    }

    /// Phones that have heard from Asterisk (so know where to send).
    pub fn phones_heard(&self) -> usize {
        self.calls
            .iter()
            .filter(|c| {
                c.lock()
                    .unwrap()
                    .phone
                    .as_ref()
                    .is_some_and(|p| p.asterisk.is_some())
            })
            .count()
    }

    /// Starts counting, both ways.
    pub fn start_measuring(&self) {
        self.counting.store(true, Ordering::Relaxed);
        self.measuring.store(true, Ordering::Relaxed);
    }

    /// Stops counting what is sent and what the bots receive, then, once
    /// the last counted frames had time to arrive (a burst takes 2 s to
    /// play), what reaches the far end.
    pub fn stop_measuring(&self) {
        self.measuring.store(false, Ordering::Relaxed);
        thread::sleep(Duration::from_millis(2500));
        self.counting.store(false, Ordering::Relaxed);
    }

    /// Hangs up every bot, stops, and returns each call's figures.
    pub fn finish(mut self) -> Vec<CallStats> {
        for c in self.calls.iter() {
            let mut c = c.lock().unwrap();
            if let Some(b) = &mut c.bot {
                let bye: &[u8] = if b.transport.websocket() {
                    &[0x88, 0x00]
                } else {
                    &[0, 0, 0]
                };
                let _ = b.stream.set_nonblocking(false);
                let _ = b.stream.write_all(bye);
            }
            c.ended = true;
        }
        thread::sleep(Duration::from_millis(500));
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        self.calls
            .iter()
            .map(|c| std::mem::take(&mut c.lock().unwrap().stats))
            .collect()
    }
}

/// Reads an HTTP request's head (the WebSocket upgrade) byte by byte, so
/// that nothing after it is taken from the stream.
fn read_head(s: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut b).ok()?;
        head.push(b[0]);
        if head.len() > 8192 {
            return None;
        }
    }
    String::from_utf8(head).ok()
}

/// Accepts a WebSocket upgrade (with the `media` subprotocol and no
/// extensions, as chan_websocket wants, when `media`); returns the call's
/// index from the `call` URI parameter, if it has one.
fn websocket_handshake(s: &mut TcpStream, media: bool) -> Option<Option<usize>> {
    let head = read_head(s)?;
    let path = head.split_whitespace().nth(1)?;
    let index = path
        .split(['?', '&'])
        .find_map(|kv| kv.strip_prefix("call="))
        .and_then(|i| i.parse().ok());
    let key = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("sec-websocket-key")
            .then(|| v.trim())
    })?;
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let protocol = if media {
        "Sec-WebSocket-Protocol: media\r\n"
    } else {
        ""
    };
    write!(
        s,
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n{protocol}\r\n"
    )
    .ok()?;
    Some(index)
}

/// A client's next WebSocket message (unmasked), read as it comes.
fn read_ws_message(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut h = [0u8; 2];
    s.read_exact(&mut h).ok()?;
    let mut len = u64::from(h[1] & 0x7f);
    if len == 126 {
        let mut l = [0u8; 2];
        s.read_exact(&mut l).ok()?;
        len = u64::from(u16::from_be_bytes(l));
    } else if len == 127 {
        let mut l = [0u8; 8];
        s.read_exact(&mut l).ok()?;
        len = u64::from_be_bytes(l);
    }
    let mut key = [0u8; 4];
    if h[1] & 0x80 != 0 {
        s.read_exact(&mut key).ok()?;
    }
    let mut p = vec![0u8; usize::try_from(len).ok().filter(|l| *l < 1 << 20)?];
    s.read_exact(&mut p).ok()?;
    for (i, b) in p.iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
    Some(p)
}

/// The call's index from a Twilio stream's `start`: the UUID's last
/// eight hex digits, in `streamSid`, are its decimal digits.
fn twilio_start(s: &mut TcpStream) -> Option<usize> {
    for _ in 0..4 {
        let text = read_ws_message(s)?;
        let v: serde_json::Value = serde_json::from_slice(&text).ok()?;
        if v["event"] == "start" {
            let sid = v["start"]["streamSid"].as_str()?;
            return sid.get(sid.len().checked_sub(8)?..)?.parse().ok();
        }
    }
    None
}

fn accept(
    listener: TcpListener,
    transport: Transport,
    calls: Arc<Vec<Mutex<Call>>>,
    epfd: RawFd,
    stop: Arc<AtomicBool>,
    connected: Arc<AtomicUsize>,
) {
    listener.set_nonblocking(true).unwrap();
    while !stop.load(Ordering::Relaxed) {
        let Ok((mut s, _)) = listener.accept() else {
            thread::sleep(Duration::from_millis(2));
            continue;
        };
        s.set_nonblocking(false).unwrap();
        let _ = s.set_nodelay(true);
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let index = match transport {
            Transport::AudioSocket => {
                let mut head = [0u8; 19];
                if s.read_exact(&mut head).is_err() {
                    continue;
                }
                // The UUID's last eight hex digits are the call's index in
                // decimal digits.
                let digits = format!(
                    "{:08x}",
                    u32::from_be_bytes(head[15..19].try_into().unwrap())
                );
                let Ok(index) = digits.parse::<usize>() else {
                    continue;
                };
                index
            }
            ws => match websocket_handshake(&mut s, ws == Transport::WebSocket) {
                Some(Some(i)) => i,
                Some(None) if ws == Transport::Twilio => match twilio_start(&mut s) {
                    Some(i) => i,
                    None => continue,
                },
                _ => continue,
            },
        };
        let Some(call) = calls.get(index) else {
            continue;
        };
        s.set_nonblocking(true).unwrap();
        epoll_add(epfd, s.as_raw_fd(), (index as u64) << 1);
        call.lock().unwrap().bot = Some(Bot {
            stream: s,
            transport,
            inbox: Vec::new(),
            outbox: VecDeque::new(),
            last_uplink: None,
        });
        connected.fetch_add(1, Ordering::Relaxed);
    }
}

/// A server's WebSocket frame (unmasked) holding `payload`.
fn ws_frame(out: &mut VecDeque<u8>, opcode: u8, payload: &[u8]) {
    out.push_back(0x80 | opcode);
    if payload.len() < 126 {
        out.push_back(payload.len() as u8);
    } else {
        out.push_back(126);
        out.extend((payload.len() as u16).to_be_bytes());
    }
    out.extend(payload);
}

/// Sends what a bot has for Asterisk, keeping what the socket does not take.
fn send_bot(bot: &mut Bot, pcm: &[u8]) {
    match bot.transport {
        Transport::AudioSocket => {
            bot.outbox.push_back(0x10);
            bot.outbox.extend((pcm.len() as u16).to_be_bytes());
            bot.outbox.extend(pcm);
        }
        Transport::WebSocket => ws_frame(&mut bot.outbox, 2, pcm),
        Transport::AudioSocketWs => {
            let mut m = vec![0x10];
            m.extend((pcm.len() as u16).to_be_bytes());
            m.extend_from_slice(pcm);
            ws_frame(&mut bot.outbox, 2, &m);
        }
        Transport::Twilio => {
            let ulaw: Vec<u8> = pcm
                .chunks_exact(2)
                .map(|s| g711::ulaw_encode(i16::from_le_bytes([s[0], s[1]])))
                .collect();
            let text = format!(
                r#"{{"event":"media","streamSid":"MZ","media":{{"payload":"{}"}}}}"#,
                BASE64.encode(&ulaw)
            );
            ws_frame(&mut bot.outbox, 1, text.as_bytes());
        }
    }
    flush_bot(bot);
}

fn flush_bot(bot: &mut Bot) {
    while !bot.outbox.is_empty() {
        // One write per message, as a server's own write would be.
        let a = bot.outbox.make_contiguous();
        match bot.stream.write(a) {
            Ok(n) if n > 0 => {
                bot.outbox.drain(..n);
            }
            _ => return,
        }
    }
}

/// Sends one 20 ms RTP packet from the phone (big-endian samples, or
/// µ-law when Asterisk sends µ-law: payload type 0), tagged with its
/// number, which it returns.
fn send_phone(p: &mut Phone) -> Option<u32> {
    let to = p.asterisk?;
    p.frame += 1;
    let samples = tagged_samples(PHONE_MAGIC, p.frame);
    let mut pkt = Vec::with_capacity(12 + FRAME);
    pkt.extend([0x80, p.payload_type]);
    pkt.extend(p.seq.to_be_bytes());
    pkt.extend(p.timestamp.to_be_bytes());
    pkt.extend(0x5eed_u32.to_be_bytes());
    for v in samples {
        if p.payload_type == 0 {
            pkt.push(g711::ulaw_encode(v));
        } else {
            pkt.extend(v.to_be_bytes());
        }
    }
    let _ = p.socket.send_to(&pkt, to);
    p.seq = p.seq.wrapping_add(1);
    p.timestamp = p.timestamp.wrapping_add((FRAME / 2) as u32);
    Some(p.frame)
}

/// Every 20 ms: each bot sends what its workload says, each phone a frame.
/// Calls are spread over the 20 ms, and each call's phone and bot tick at
/// different moments, as two independent clocks do.
fn tick(
    calls: Arc<Vec<Mutex<Call>>>,
    stop: Arc<AtomicBool>,
    measuring: Arc<AtomicBool>,
    workload: Workload,
) {
    const SLOTS: usize = 10; // of 2 ms each
    let t0 = Instant::now();
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let due = t0 + Duration::from_millis(2 * n);
        thread::sleep(due.saturating_duration_since(Instant::now()));
        let slot = n as usize % SLOTS;
        n += 1;
        let measure = measuring.load(Ordering::Relaxed);
        for (i, c) in calls.iter().enumerate() {
            let (phone_slot, bot_slot) = (i % SLOTS, (i * 3 + 5) % SLOTS);
            if slot != phone_slot && slot != bot_slot {
                continue;
            }
            let mut c = c.lock().unwrap();
            let c = &mut *c;
            if c.ended {
                continue;
            }
            if slot == phone_slot {
                let sent = c.phone.as_mut().and_then(send_phone);
                if let (Some(frame), true) = (sent, measure) {
                    let st = &mut c.stats;
                    st.phone_sent += 1;
                    let (first, _) = *st.phone_window.get_or_insert((frame, frame));
                    st.phone_window = Some((first, frame));
                }
            }
            if slot != bot_slot {
                continue;
            }
            let Some(bot) = &mut c.bot else { continue };
            // Each call's own clock: its bursts start when it connected.
            let frames = match workload {
                Workload::Echo | Workload::Paced => 1,
                Workload::Tap => 0,
                // A first frame at once lets the phone learn its peer.
                Workload::Talking if c.ticks == 0 => 1,
                Workload::Talking if c.ticks % TALK_CYCLE == TALK_AT => BURST,
                Workload::Talking => 0,
            };
            c.ticks += 1;
            let now = Instant::now();
            for _ in 0..frames {
                c.seq += 1;
                let seq = c.seq;
                send_bot(bot, &bot_frame(seq));
                if measure {
                    c.stats.bot_sent += 1;
                    c.sent.push_back((seq, now));
                }
            }
            flush_bot(bot);
        }
    }
}

fn take_latency(sent: &mut VecDeque<(u32, Instant)>, seq: u32, now: Instant) -> Option<u64> {
    while let Some(&(s, t)) = sent.front() {
        if s > seq {
            return None;
        }
        sent.pop_front();
        if s == seq {
            return Some((now - t).as_micros() as u64);
        }
    }
    None
}

/// The audio payloads of whole messages in `inbox`, taken out of it.
fn messages(bot: &mut Bot) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = 0;
    let buf = &bot.inbox;
    loop {
        match bot.transport {
            Transport::AudioSocket => {
                if buf.len() < at + 3 {
                    break;
                }
                let len = u16::from_be_bytes([buf[at + 1], buf[at + 2]]) as usize;
                if buf.len() < at + 3 + len {
                    break;
                }
                // Audio, or a tap's two-channel frame.
                if buf[at] == 0x10 || buf[at] == 0x25 {
                    out.push(buf[at + 3..at + 3 + len].to_vec());
                }
                at += 3 + len;
            }
            ws => {
                if buf.len() < at + 2 {
                    break;
                }
                let opcode = buf[at] & 0x0f;
                let masked = buf[at + 1] & 0x80 != 0;
                let mut len = (buf[at + 1] & 0x7f) as usize;
                let mut head = 2;
                if len == 126 {
                    if buf.len() < at + 4 {
                        break;
                    }
                    len = u16::from_be_bytes([buf[at + 2], buf[at + 3]]) as usize;
                    head = 4;
                } else if len == 127 {
                    if buf.len() < at + 10 {
                        break;
                    }
                    len = u64::from_be_bytes(buf[at + 2..at + 10].try_into().unwrap()) as usize;
                    head = 10;
                }
                let key_at = at + head;
                if masked {
                    head += 4;
                }
                if buf.len() < at + head + len {
                    break;
                }
                if opcode <= 2 {
                    let mut p = buf[at + head..at + head + len].to_vec();
                    if masked {
                        let key = &buf[key_at..key_at + 4];
                        for (i, b) in p.iter_mut().enumerate() {
                            *b ^= key[i % 4];
                        }
                    }
                    match ws {
                        Transport::AudioSocketWs => out.extend(audio_messages(&p)),
                        Transport::Twilio => out.extend(twilio_media(&p)),
                        _ => out.push(p),
                    }
                }
                at += head + len;
            }
        }
    }
    bot.inbox.drain(..at);
    out
}

/// The audio payloads of the AudioSocket messages in `p`.
fn audio_messages(mut p: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while p.len() >= 3 {
        let len = u16::from_be_bytes([p[1], p[2]]) as usize;
        let Some(payload) = p.get(3..3 + len) else {
            break;
        };
        if p[0] == 0x10 || p[0] == 0x25 {
            out.push(payload.to_vec());
        }
        p = &p[3 + len..];
    }
    out
}

/// A Twilio `media` message's audio (its inbound track only, one frame a
/// 20 ms as AudioSocket's mono tap), as little-endian samples.
fn twilio_media(text: &[u8]) -> Option<Vec<u8>> {
    let v: serde_json::Value = serde_json::from_slice(text).ok()?;
    if v["event"] != "media" || v["media"]["track"] == "outbound" {
        return None;
    }
    let ulaw = BASE64
        .decode(v["media"]["payload"].as_str()?.as_bytes())
        .ok()?;
    Some(
        ulaw.iter()
            .flat_map(|b| g711::ulaw_decode(*b).to_le_bytes())
            .collect(),
    )
}

fn receive(
    epfd: RawFd,
    calls: Arc<Vec<Mutex<Call>>>,
    stop: Arc<AtomicBool>,
    (measuring, counting): (Arc<AtomicBool>, Arc<AtomicBool>),
    workload: Workload,
) {
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
    let mut buf = vec![0u8; 65536];
    while !stop.load(Ordering::Relaxed) {
        // SAFETY: events holds events.len() entries for the kernel to fill.
        let n = unsafe { libc::epoll_wait(epfd, events.as_mut_ptr(), events.len() as i32, 100) };
        let now = Instant::now();
        let (measure, count) = (
            measuring.load(Ordering::Relaxed),
            counting.load(Ordering::Relaxed),
        );
        for ev in events.iter().take(n.max(0) as usize) {
            let (index, phone) = ((ev.u64 >> 1) as usize, ev.u64 & 1 == 1);
            let Some(call) = calls.get(index) else {
                continue;
            };
            let mut c = call.lock().unwrap();
            let c = &mut *c;
            if phone {
                let Some(p) = &mut c.phone else { continue };
                while let Ok((n, from)) = p.socket.recv_from(&mut buf) {
                    if n < 12 {
                        continue;
                    }
                    if p.asterisk.is_none() {
                        p.asterisk = Some(from);
                        p.payload_type = buf[1] & 0x7f;
                    }
                    let payload: std::borrow::Cow<[u8]> = if p.payload_type == 0 {
                        buf[12..n]
                            .iter()
                            .flat_map(|b| g711::ulaw_decode(*b).to_be_bytes())
                            .collect::<Vec<u8>>()
                            .into()
                    } else {
                        (&buf[12..n]).into()
                    };
                    let Some(seq) = seq_of(&payload, true) else {
                        // Not the bot's audio (silence between bursts).
                        p.last_packet = None;
                        continue;
                    };
                    // Only frames sent in the window count, until the
                    // last of them had time to arrive.
                    let sent_at = count.then(|| take_latency(&mut c.sent, seq, now)).flatten();
                    if let Some(latency) = sent_at {
                        c.stats.delivered += 1;
                        if workload == Workload::Paced {
                            c.stats.latency_us.push(latency);
                        }
                        if let Some(last) = p.last_packet {
                            let gap = now - last;
                            // Between two bursts is not a gap in the audio.
                            if workload != Workload::Talking || gap < Duration::from_millis(500) {
                                c.stats.downlink_gaps_us.push(gap.as_micros() as u64);
                            }
                        }
                        if workload == Workload::Talking {
                            // A pause of half a second ends a burst.
                            match &mut p.burst {
                                Some((_, last, frames))
                                    if now - *last < Duration::from_millis(500) =>
                                {
                                    *last = now;
                                    *frames += 1;
                                }
                                open => {
                                    if let Some((first, last, frames)) = open.take() {
                                        c.stats
                                            .bursts
                                            .push((frames, (last - first).as_micros() as u64));
                                    }
                                    *open = Some((now, now, 1));
                                }
                            }
                        }
                    }
                    p.last_packet = Some(now);
                }
                continue;
            }
            let Some(bot) = &mut c.bot else { continue };
            loop {
                match bot.stream.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => bot.inbox.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(_) => break,
                }
            }
            for payload in messages(bot) {
                // The phone's frames sent in the window, each counted once,
                // until the last of them had time to arrive.
                if let (true, Some(seq), Some((first, last))) = (
                    count,
                    tagged_seq(&payload, false, PHONE_MAGIC),
                    c.stats.phone_window,
                ) {
                    if (first..=last).contains(&seq) && seq > c.stats.last_heard {
                        c.stats.phone_heard += 1;
                        c.stats.last_heard = seq;
                    }
                }
                if workload == Workload::Echo && count {
                    if let Some(seq) = seq_of(&payload, false) {
                        if let Some(rtt) = take_latency(&mut c.sent, seq, now) {
                            c.stats.echoed += 1;
                            c.stats.rtt_us.push(rtt);
                        }
                    }
                }
                if !measure {
                    bot.last_uplink = None;
                    continue;
                }
                c.stats.uplink += 1;
                if let Some(last) = bot.last_uplink {
                    c.stats.uplink_gaps_us.push((now - last).as_micros() as u64);
                }
                bot.last_uplink = Some(now);
            }
            flush_bot(bot);
        }
    }
    // SAFETY: epfd is ours and closed once.
    unsafe { libc::close(epfd) };
}
