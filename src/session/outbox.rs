//! Channel audio and DTMF on their way to the server.
//!
//! The channel thread writes straight into the non-blocking socket when
//! nothing is waiting ahead of the message: a send that the kernel takes
//! at once costs the call no thread hand-off. What the socket does not take
//! waits here, and the I/O thread writes it when poll(2) says there is
//! room. Either way the channel thread never waits on the network: the lock
//! is only ever held around non-blocking writes and copies.
//!
//! With TLS the connection lives here too, under the same lock: a message
//! is encrypted as it is pushed and its records take the same way as plain
//! bytes, and the I/O thread decrypts what it read (see `tls/channel.rs`).
//! Over a WebSocket, a message is framed (and translated, in the Twilio
//! dialect) first, then encrypted (see `websocket/framer.rs`).

use std::io::{self, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex, MutexGuard};

use super::tls::{Decrypt, TlsChannel};
use super::websocket::Framer;
use crate::locks::lock;

/// What became of a message handed to [`Outbox::push`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// The kernel took all of it.
    Sent,
    /// Some or all of it waits, and nothing did before: the I/O thread must
    /// be woken to watch for room (or to report a failed write).
    NowWaiting,
    /// It waits behind earlier bytes the I/O thread already watches.
    Queued,
    /// No room left within the bound: dropped whole.
    Dropped,
    /// No connection (not yet, or no longer).
    Closed,
}

struct Inner {
    stream: Option<Arc<TcpStream>>,
    tls: Option<TlsChannel>,
    /// Over a WebSocket, what frames each message.
    framer: Option<Framer>,
    /// Reused for each message's frames.
    framed: Vec<u8>,
    /// Reused for each message's records.
    sealed: Vec<u8>,
    buf: Vec<u8>,
    pos: usize,
    /// A write made by the channel thread failed; the I/O thread ends the
    /// call with it.
    failed: Option<io::Error>,
}

impl Inner {
    fn waiting(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Writes `bytes` to the socket, or keeps them behind what waits.
    fn send(&mut self, stream: &TcpStream, bytes: &[u8]) -> Pushed {
        if self.waiting() > 0 {
            self.keep(bytes);
            return Pushed::Queued;
        }
        match write_some(stream, bytes) {
            Ok(n) if n == bytes.len() => Pushed::Sent,
            Ok(n) => {
                self.keep(&bytes[n..]);
                Pushed::NowWaiting
            }
            Err(e) => {
                self.failed = Some(e);
                Pushed::NowWaiting
            }
        }
    }

    fn keep(&mut self, rest: &[u8]) {
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos > self.buf.len() / 2 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(rest);
    }
}

/// Writes `data` until done or the socket is full; how much it took.
fn write_some(stream: &TcpStream, data: &[u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < data.len() {
        match (&*stream).write(&data[done..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

pub(crate) struct Outbox {
    inner: Mutex<Inner>,
    /// Most bytes that may wait here (beyond what the kernel holds).
    limit: usize,
}

impl Outbox {
    pub fn new(limit: usize) -> Outbox {
        Outbox {
            inner: Mutex::new(Inner {
                stream: None,
                tls: None,
                framer: None,
                framed: Vec::new(),
                sealed: Vec::new(),
                buf: Vec::new(),
                pos: 0,
                failed: None,
            }),
            limit,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        lock(&self.inner)
    }

    /// The I/O thread hands over the connected socket (non-blocking), the
    /// TLS connection over it, and the WebSocket framing, if the call has
    /// them.
    pub fn open(&self, stream: Arc<TcpStream>, tls: Option<TlsChannel>, framer: Option<Framer>) {
        let mut g = self.lock();
        g.stream = Some(stream);
        g.tls = tls;
        g.framer = framer;
    }

    /// With TLS, the closing notice goes after what waits (then `flush`).
    pub fn end_tls(&self) {
        let mut g = self.lock();
        let g = &mut *g;
        if let Some(tls) = &mut g.tls {
            tls.close();
            let mut records = Vec::new();
            if tls.take_records(&mut records).is_ok() {
                g.keep(&records);
            }
        }
    }

    /// Takes the socket back: after this no write reaches it, so the I/O
    /// thread may close it (and open another, when the call resumes).
    pub fn close(&self) {
        let mut g = self.lock();
        g.stream = None;
        g.failed = None;
        g.tls = None;
        g.framer = None;
        g.framed = Vec::new();
        g.sealed = Vec::new();
        g.buf = Vec::new();
        g.pos = 0;
    }

    /// Sends one or more whole messages, or keeps what the socket does not
    /// take.
    pub fn push(&self, msg: &[u8]) -> Pushed {
        self.send(msg, true)
    }

    /// Sends bytes already framed (a WebSocket's own control frames).
    pub fn push_framed(&self, bytes: &[u8]) -> Pushed {
        self.send(bytes, false)
    }

    fn send(&self, msg: &[u8], frame: bool) -> Pushed {
        let mut g = self.lock();
        let g = &mut *g;
        let Some(stream) = &g.stream else {
            return Pushed::Closed;
        };
        if g.failed.is_some() {
            return Pushed::Closed;
        }
        let mut framed = std::mem::take(&mut g.framed);
        let msg = match (&mut g.framer, frame) {
            (Some(framer), true) => {
                framed.clear();
                framer.frame_messages(msg, &mut framed);
                &framed[..]
            }
            _ => msg,
        };
        let pushed = if g.waiting() > 0 && g.waiting() + msg.len() > self.limit {
            Pushed::Dropped
        } else if msg.is_empty() {
            Pushed::Sent
        } else {
            let stream = stream.clone();
            let mut sealed = std::mem::take(&mut g.sealed);
            let pushed = match &mut g.tls {
                None => g.send(&stream, msg),
                Some(tls) => {
                    sealed.clear();
                    match tls.seal(msg, &mut sealed) {
                        Ok(()) => g.send(&stream, &sealed),
                        Err(e) => {
                            g.failed = Some(e);
                            Pushed::NowWaiting
                        }
                    }
                }
            };
            g.sealed = sealed;
            pushed
        };
        g.framed = framed;
        pushed
    }

    /// The I/O thread writes what waits, as far as the socket takes it, and
    /// learns whether bytes still wait (then it watches for room). An error
    /// is the call's end, whichever thread's write met it.
    pub fn flush(&self) -> io::Result<bool> {
        let mut g = self.lock();
        let g = &mut *g;
        if let Some(e) = g.failed.take() {
            return Err(e);
        }
        let Some(stream) = &g.stream else {
            return Ok(false);
        };
        if g.waiting() > 0 {
            g.pos += write_some(stream, &g.buf[g.pos..])?;
            if g.pos == g.buf.len() {
                g.buf.clear();
                g.pos = 0;
            }
        }
        Ok(g.waiting() > 0)
    }
}

impl Decrypt for Outbox {
    /// The I/O thread, with TLS: decrypts bytes it read from the socket,
    /// appending the plaintext to `plain`; true once the server closed its
    /// side. What rustls must answer (a key update, an alert) waits for
    /// the next `flush`. Without TLS the bytes are the plaintext.
    fn decrypt(&self, cipher: &[u8], plain: &mut Vec<u8>) -> io::Result<bool> {
        let mut g = self.lock();
        let g = &mut *g;
        let Some(tls) = &mut g.tls else {
            plain.extend_from_slice(cipher);
            return Ok(false);
        };
        let opened = tls.open(cipher, plain);
        let mut records = std::mem::take(&mut g.sealed);
        records.clear();
        let answered = tls.take_records(&mut records);
        g.keep(&records);
        g.sealed = records;
        answered?;
        opened
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    fn pair() -> (Arc<TcpStream>, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (b, _) = l.accept().unwrap();
        a.set_nonblocking(true).unwrap();
        (Arc::new(a), b)
    }

    #[test]
    fn nothing_goes_out_before_open_or_after_close() {
        let (a, _b) = pair();
        let out = Outbox::new(1000);
        assert_eq!(out.push(b"abc"), Pushed::Closed);
        out.open(a, None, None);
        assert_eq!(out.push(b"abc"), Pushed::Sent);
        out.close();
        assert_eq!(out.push(b"abc"), Pushed::Closed);
    }

    /// A peer that stops reading: the kernel fills, then the outbox up to
    /// its bound, then whole messages are dropped; once the peer reads
    /// again, every byte that was not dropped arrives, in order and with no
    /// message cut.
    #[test]
    fn a_full_socket_queues_then_drops_whole_messages_and_loses_no_framing() {
        let (a, mut b) = pair();
        let out = Outbox::new(64 * 1024);
        out.open(a, None, None);
        let mut results = Vec::new();
        let mut kept = Vec::new();
        for i in 0..20_000u32 {
            let msg: Vec<u8> = (0..333).map(|j| (i as usize * 7 + j) as u8).collect();
            let r = out.push(&msg);
            if r != Pushed::Dropped {
                kept.extend_from_slice(&msg);
            }
            results.push(r);
        }
        assert_eq!(
            results.iter().filter(|r| **r == Pushed::NowWaiting).count(),
            1
        );
        assert!(results.contains(&Pushed::Queued));
        assert!(results.contains(&Pushed::Dropped));
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            let mut buf = [0u8; 65536];
            b.set_read_timeout(Some(std::time::Duration::from_secs(2)))
                .unwrap();
            while let Ok(n) = b.read(&mut buf) {
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            got
        });
        let t0 = std::time::Instant::now();
        while out.flush().unwrap() {
            std::thread::sleep(std::time::Duration::from_millis(1));
            assert!(t0.elapsed() < std::time::Duration::from_secs(10));
        }
        out.close();
        let got = reader.join().unwrap();
        assert_eq!(got.len(), kept.len());
        assert!(got == kept);
    }

    #[test]
    fn a_failed_write_is_reported_by_the_next_flush() {
        let (a, b) = pair();
        drop(b);
        let out = Outbox::new(1000);
        out.open(a, None, None);
        let mut first_failure = None;
        for i in 0..100 {
            match out.push(&[0u8; 1000]) {
                Pushed::NowWaiting => {
                    first_failure = Some(i);
                    break;
                }
                Pushed::Sent => std::thread::sleep(std::time::Duration::from_millis(5)),
                other => panic!("{other:?}"),
            }
        }
        assert!(
            first_failure.is_some(),
            "writes to a closed peer kept working"
        );
        assert!(out.flush().is_err());
    }
}
