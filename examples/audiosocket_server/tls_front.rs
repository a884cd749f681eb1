//! A TLS front: terminates TLS on a listening address and passes the
//! plaintext both ways to a plain AudioSocket server, one thread per
//! connection, as stunnel or a proxy would. The example server listens
//! with TLS through it, and the tests put it before their scripted server.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::{ServerConfig, ServerConnection};

/// Terminates TLS and passes the plaintext both ways to a plain server on
/// `backend` (a port on loopback). What went wrong on its side of a
/// handshake (a client's certificate refused, say) is kept in `errors`.
pub struct TlsFront {
    pub port: u16,
    pub errors: Arc<Mutex<Vec<String>>>,
}

impl TlsFront {
    /// On a free loopback port (for the tests).
    pub fn start(config: Arc<ServerConfig>, backend: u16) -> TlsFront {
        Self::listen("127.0.0.1:0", config, backend).unwrap()
    }

    pub fn listen(addr: &str, config: Arc<ServerConfig>, backend: u16) -> io::Result<TlsFront> {
        Self::serve(TcpListener::bind(addr)?, config, backend)
    }

    /// On a listener already bound (so that the address is taken before
    /// the backend's port is chosen).
    pub fn serve(
        listener: TcpListener,
        config: Arc<ServerConfig>,
        backend: u16,
    ) -> io::Result<TlsFront> {
        let port = listener.local_addr()?.port();
        let errors: Arc<Mutex<Vec<String>>> = Arc::default();
        let errs = errors.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (config, errs) = (config.clone(), errs.clone());
                std::thread::spawn(move || {
                    if let Err(e) = pipe(client, config, backend) {
                        errs.lock().unwrap().push(e);
                    }
                });
            }
        });
        Ok(TlsFront { port, errors })
    }
}

fn pipe(mut tls_sock: TcpStream, config: Arc<ServerConfig>, backend: u16) -> Result<(), String> {
    let mut conn = ServerConnection::new(config).map_err(|e| e.to_string())?;
    // The handshake first: a plain server behind sees nothing of a failed one.
    while conn.is_handshaking() {
        conn.complete_io(&mut tls_sock).map_err(|e| e.to_string())?;
    }
    let text = |e: io::Error| e.to_string();
    tls_sock.set_nodelay(true).map_err(text)?;
    let mut plain = TcpStream::connect(("127.0.0.1", backend)).map_err(text)?;
    plain.set_nodelay(true).map_err(text)?;
    tls_sock.set_nonblocking(true).map_err(text)?;
    plain.set_nonblocking(true).map_err(text)?;
    let mut buf = vec![0u8; 65536];
    loop {
        // Plaintext rustls holds already (read along with the handshake).
        match conn.reader().read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => write_all(&mut plain, &buf[..n])?,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => return Err(e.to_string()),
        }
        while conn.wants_write() {
            match conn.write_tls(&mut tls_sock) {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(_) => return Ok(()),
            }
        }
        let mut fds = [
            libc::pollfd {
                fd: tls_sock.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: plain.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: fds is a valid array of two pollfd for the call.
        unsafe { libc::poll(fds.as_mut_ptr(), 2, 1000) };
        if fds[0].revents != 0 {
            match conn.read_tls(&mut tls_sock) {
                Ok(0) => return Ok(()),
                Ok(_) => {
                    conn.process_new_packets().map_err(|e| e.to_string())?;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => return Ok(()),
            }
        }
        if fds[1].revents != 0 {
            match plain.read(&mut buf) {
                Ok(0) => {
                    conn.send_close_notify();
                    let _ = conn.write_tls(&mut tls_sock);
                    return Ok(());
                }
                Ok(n) => conn.writer().write_all(&buf[..n]).map_err(text)?,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => return Ok(()),
            }
        }
    }
}

/// A blocking-style write on a non-blocking socket.
fn write_all(sock: &mut TcpStream, mut data: &[u8]) -> Result<(), String> {
    while !data.is_empty() {
        match sock.write(data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(())
}
