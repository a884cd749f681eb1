//! A scripted AudioSocket server for the tests. Its framing is written here
//! independently of the module's own codec, so each checks the other.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::{Duration, Instant};

pub struct TestServer {
    listener: TcpListener,
    pub port: u16,
}

impl TestServer {
    pub fn new() -> TestServer {
        Self::bind("127.0.0.1:0")
    }

    pub fn bind(addr: &str) -> TestServer {
        let listener = TcpListener::bind(addr).unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        TestServer { listener, port }
    }

    /// A server whose connections have a small, fixed receive buffer (no
    /// autotuning), so one that stops reading stalls the sender quickly.
    pub fn with_small_receive_buffer() -> TestServer {
        let srv = Self::new();
        let size: libc::c_int = 8192;
        // SAFETY: the listener's descriptor is open; accepted sockets
        // inherit the option; size outlives the call.
        unsafe {
            libc::setsockopt(
                std::os::fd::AsRawFd::as_raw_fd(&srv.listener),
                libc::SOL_SOCKET,
                libc::SO_RCVBUF,
                (&size as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        srv
    }

    /// Waits for a call's connection and checks that it opens with the
    /// UUID message; a missing call fails the test.
    pub fn accept_call(&self) -> Conn {
        let mut conn = self
            .accept(Duration::from_secs(5))
            .expect("the module connects");
        let first = conn
            .read_msg(Duration::from_secs(2))
            .expect("a first message");
        assert_eq!(first.kind, 0x01, "the UUID comes first");
        conn
    }

    /// Waits for one connection.
    pub fn accept(&self, timeout: Duration) -> Option<Conn> {
        let t0 = Instant::now();
        loop {
            match self.listener.accept() {
                Ok((s, _)) => {
                    s.set_nonblocking(false).unwrap();
                    s.set_nodelay(true).unwrap();
                    return Some(Conn { stream: s });
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if t0.elapsed() > timeout {
                        return None;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => panic!("accept: {e}"),
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg {
    pub kind: u8,
    pub payload: Vec<u8>,
}

pub struct Conn {
    pub stream: TcpStream,
}

impl Conn {
    /// The next message; None on close, or when `timeout` passes first.
    pub fn read_msg(&mut self, timeout: Duration) -> Option<Msg> {
        self.stream.set_read_timeout(Some(timeout)).unwrap();
        let mut h = [0u8; 3];
        self.stream.read_exact(&mut h).ok()?;
        let mut payload = vec![0u8; u16::from_be_bytes([h[1], h[2]]) as usize];
        self.stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        self.stream.read_exact(&mut payload).ok()?;
        Some(Msg {
            kind: h[0],
            payload,
        })
    }

    /// Messages until `until` passes or the connection closes; with the
    /// time each arrived.
    pub fn read_for(&mut self, d: Duration) -> Vec<(Instant, Msg)> {
        let end = Instant::now() + d;
        let mut out = Vec::new();
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.read_msg(left.max(Duration::from_millis(1))) {
                Some(m) => out.push((Instant::now(), m)),
                None => break,
            }
        }
        out
    }

    /// Reads until the peer closes (true) or `timeout` passes (false).
    pub fn wait_closed(&mut self, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        let mut buf = [0u8; 4096];
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            self.stream
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .unwrap();
            match self.stream.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {
                    return false
                }
                Err(_) => return true,
            }
        }
        false
    }

    /// DTMF digits received until `last` arrives or `timeout` passes.
    pub fn read_digits_until(&mut self, last: u8, timeout: Duration) -> Vec<u8> {
        let mut digits = Vec::new();
        let t0 = Instant::now();
        while digits.last() != Some(&last) && t0.elapsed() < timeout {
            if let Some(m) = self.read_msg(Duration::from_secs(1)) {
                if m.kind == 0x03 {
                    digits.extend(m.payload);
                }
            }
        }
        digits
    }

    pub fn send(&mut self, kind: u8, payload: &[u8]) {
        let mut m = vec![kind];
        m.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        m.extend_from_slice(payload);
        self.stream.write_all(&m).unwrap();
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// Audio of `kind` in payloads of `chunk` bytes.
    pub fn send_audio(&mut self, kind: u8, pcm: &[u8], chunk: usize) {
        let mut wire = Vec::new();
        for c in pcm.chunks(chunk) {
            wire.push(kind);
            wire.extend_from_slice(&(c.len() as u16).to_be_bytes());
            wire.extend_from_slice(c);
        }
        self.stream.write_all(&wire).unwrap();
    }

    pub fn hangup(&mut self) {
        let _ = self.stream.write_all(&[0, 0, 0]);
    }

    pub fn close(self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    /// Closes with a reset (SO_LINGER 0), as a process that exits with
    /// unread data does.
    pub fn reset(self) {
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: the descriptor is open; linger outlives the call.
        unsafe {
            libc::setsockopt(
                std::os::fd::AsRawFd::as_raw_fd(&self.stream),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&linger as *const libc::linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            )
        };
        drop(self.stream);
    }
}

/// Concatenated audio payloads of one kind.
pub fn audio_of(msgs: &[(Instant, Msg)], kind: u8) -> Vec<u8> {
    msgs.iter()
        .filter(|(_, m)| m.kind == kind)
        .flat_map(|(_, m)| m.payload.clone())
        .collect()
}
