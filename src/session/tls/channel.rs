//! A TLS connection once its handshake is done: what the outbox encrypts
//! before writing, and what the I/O thread's reads are decrypted by. No
//! system call happens here; the socket is read and written by the
//! callers, so the lock this lives under is never held across one that
//! could wait.

use std::io::{self, Read, Write};

use rustls::{ClientConnection, ProtocolVersion};

pub(crate) struct TlsChannel {
    conn: ClientConnection,
}

impl TlsChannel {
    pub fn new(conn: ClientConnection) -> TlsChannel {
        TlsChannel { conn }
    }

    /// "TLS 1.3, TLS13_AES_256_GCM_SHA384", for the CLI and the log.
    pub fn describe(&self) -> String {
        let version = match self.conn.protocol_version() {
            Some(ProtocolVersion::TLSv1_3) => "TLS 1.3".to_string(),
            Some(ProtocolVersion::TLSv1_2) => "TLS 1.2".to_string(),
            Some(other) => format!("{other:?}"),
            None => "TLS".to_string(),
        };
        match self.conn.negotiated_cipher_suite() {
            Some(suite) => format!("{version}, {:?}", suite.suite()),
            None => version,
        }
    }

    /// Encrypts `plain` and appends the records to `out`.
    pub fn seal(&mut self, plain: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        self.conn.writer().write_all(plain)?;
        self.take_records(out)
    }

    /// Appends to `out` what rustls has to send of its own accord (a key
    /// update's answer, an alert, the closing notice).
    pub fn take_records(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        while self.conn.wants_write() {
            self.conn.write_tls(out)?;
        }
        Ok(())
    }

    /// Decrypts the bytes `cipher` read from the socket, appending the
    /// plaintext to `plain`; true once the server has closed its side
    /// (close_notify).
    /// With nothing read, it hands out what rustls read already (along with
    /// the handshake's last messages).
    pub fn open(&mut self, mut cipher: &[u8], plain: &mut Vec<u8>) -> io::Result<bool> {
        let mut closed = false;
        loop {
            if !cipher.is_empty() {
                self.conn.read_tls(&mut cipher)?;
            }
            let state = self
                .conn
                .process_new_packets()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("TLS: {e}")))?;
            let n = state.plaintext_bytes_to_read();
            if n > 0 {
                let start = plain.len();
                plain.resize(start + n, 0);
                self.conn.reader().read_exact(&mut plain[start..])?;
            }
            closed |= state.peer_has_closed();
            if cipher.is_empty() {
                return Ok(closed);
            }
        }
    }

    /// Our side is done: the closing notice goes out with `take_records`.
    pub fn close(&mut self) {
        self.conn.send_close_notify();
    }
}
