//! The I/O thread's side of a TLS connection: the socket is read with no
//! lock held, the records are decrypted under the outbox's lock (where the
//! connection lives: `decrypt` is `Outbox::decrypt`), and the plaintext is
//! handed out as a plain socket read would hand it out.

use std::io::{self, Read};
use std::net::TcpStream;

/// Decrypts ciphertext, appending the plaintext; true once the server
/// closed its side.
pub(crate) trait Decrypt {
    fn decrypt(&self, cipher: &[u8], plain: &mut Vec<u8>) -> io::Result<bool>;
}

/// Ciphertext read at a time: a few 20 ms frames' records. A larger record
/// (a burst) takes several reads; rustls gathers it.
const READ_SIZE: usize = 4096;

pub(crate) struct TlsReader {
    cipher: Box<[u8]>,
    plain: Vec<u8>,
    /// How much of `plain` was handed out.
    taken: usize,
    /// The last socket read took all the socket had.
    socket_drained: bool,
    /// The server closed its side (close_notify).
    closed: bool,
}

impl TlsReader {
    pub fn new() -> TlsReader {
        TlsReader {
            cipher: vec![0; READ_SIZE].into_boxed_slice(),
            plain: Vec::new(),
            taken: 0,
            socket_drained: true,
            closed: false,
        }
    }

    /// Takes what rustls read along with the handshake: a server may send
    /// right after it, in the same packets.
    pub fn start(&mut self, outbox: &impl Decrypt) -> io::Result<()> {
        self.closed = outbox.decrypt(&[], &mut self.plain)?;
        Ok(())
    }

    /// Plaintext decrypted and not yet handed out: there is more to read
    /// whatever poll(2) says of the socket.
    pub fn has_plaintext(&self) -> bool {
        self.taken < self.plain.len()
    }

    /// Fills `buf` as a read of the socket would: Ok(0) at the end of the
    /// stream, WouldBlock when nothing is there. Also says whether the
    /// socket is drained for now (nothing left to read before poll).
    pub fn read(
        &mut self,
        mut stream: &TcpStream,
        outbox: &impl Decrypt,
        buf: &mut [u8],
    ) -> io::Result<(usize, bool)> {
        loop {
            if self.has_plaintext() {
                let n = buf.len().min(self.plain.len() - self.taken);
                buf[..n].copy_from_slice(&self.plain[self.taken..self.taken + n]);
                self.taken += n;
                if self.taken == self.plain.len() {
                    self.plain.clear();
                    self.taken = 0;
                }
                return Ok((n, !self.has_plaintext() && self.socket_drained));
            }
            if self.closed {
                return Ok((0, true));
            }
            let n = match stream.read(&mut self.cipher) {
                Ok(0) => return Ok((0, true)),
                Ok(n) => n,
                Err(e) => return Err(e),
            };
            self.socket_drained = n < self.cipher.len();
            self.closed = outbox.decrypt(&self.cipher[..n], &mut self.plain)?;
            if !self.has_plaintext() && !self.closed && self.socket_drained {
                // A record's start, or only TLS's own messages.
                return Err(io::ErrorKind::WouldBlock.into());
            }
        }
    }
}
