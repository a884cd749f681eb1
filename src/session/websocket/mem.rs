//! The stream tungstenite reads and writes: bytes in memory. The session
//! moves them between it and the socket (through TLS when the call has
//! it), so tungstenite never touches a descriptor, never blocks, and the
//! session keeps its own threads, sockets and bounds.

use std::io::{self, Read, Write};

#[derive(Default)]
pub(crate) struct MemStream {
    /// Read from the server, not yet taken by tungstenite.
    input: Vec<u8>,
    taken: usize,
    /// Written by tungstenite, not yet sent.
    pub output: Vec<u8>,
}

impl MemStream {
    /// Bytes the server sent.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.taken == self.input.len() {
            self.input.clear();
            self.taken = 0;
        }
        self.input.extend_from_slice(bytes);
    }

    /// Whether fed bytes wait to be read.
    pub fn has_input(&self) -> bool {
        self.taken < self.input.len()
    }
}

impl Read for MemStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.has_input() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(self.input.len() - self.taken);
        buf[..n].copy_from_slice(&self.input[self.taken..self.taken + n]);
        self.taken += n;
        Ok(n)
    }
}

impl Write for MemStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
