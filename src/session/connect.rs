//! Resolving and connecting on the I/O thread: every resolved address is
//! tried in turn within one overall deadline, and a hangup (the stop signal)
//! aborts the attempt at once.

use std::io;
use std::mem;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use super::fd::{poll, pollfd};
use super::server_addr::ServerAddr;

pub(crate) enum ConnectError {
    /// The stop signal arrived while connecting.
    Aborted,
    Failed(String),
}

/// Connects to `server`. `stopped` is polled alongside the socket: when it
/// becomes readable, `is_stopped` decides whether to give up.
pub(crate) fn connect(
    server: &ServerAddr,
    timeout: Duration,
    stop_fd: &impl AsRawFd,
    is_stopped: &dyn Fn() -> bool,
) -> Result<TcpStream, ConnectError> {
    let deadline = Instant::now() + timeout;
    let addrs: Vec<SocketAddr> = match (server.host.as_str(), server.port).to_socket_addrs() {
        Ok(a) => a.collect(),
        Err(e) => {
            return Err(ConnectError::Failed(format!(
                "cannot resolve host '{}': {e}",
                server.host
            )))
        }
    };
    if addrs.is_empty() {
        return Err(ConnectError::Failed(format!(
            "host '{}' has no address",
            server.host
        )));
    }
    let mut errors = Vec::new();
    for addr in &addrs {
        if is_stopped() {
            return Err(ConnectError::Aborted);
        }
        // The whole budget is named, whichever address used it up.
        let timed_out = || format!("{addr}: timed out after {} ms", timeout.as_millis());
        let now = Instant::now();
        if now >= deadline {
            errors.push(timed_out());
            break;
        }
        match connect_one(addr, deadline - now, stop_fd, is_stopped) {
            Ok(s) => return Ok(s),
            Err(Attempt::Aborted) => return Err(ConnectError::Aborted),
            Err(Attempt::TimedOut) => errors.push(timed_out()),
            Err(Attempt::Failed(e)) => errors.push(format!("{addr}: {e}")),
        }
    }
    Err(ConnectError::Failed(errors.join("; ")))
}

fn sockaddr(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for
            // sockaddr_in; we write one whole sockaddr_in at its start.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin) };
            mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: as above, for sockaddr_in6.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin6) };
            mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

/// How one address's attempt failed.
enum Attempt {
    Aborted,
    TimedOut,
    Failed(String),
}

fn connect_one(
    addr: &SocketAddr,
    timeout: Duration,
    stop_fd: &impl AsRawFd,
    is_stopped: &dyn Fn() -> bool,
) -> Result<TcpStream, Attempt> {
    let family = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    let os_err = |what: &str| Attempt::Failed(format!("{what}: {}", io::Error::last_os_error()));
    // SAFETY: socket() takes no pointers; a non-negative result is a new
    // descriptor that we take ownership of just below.
    let raw = unsafe {
        libc::socket(
            family,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if raw < 0 {
        return Err(os_err("socket"));
    }
    // SAFETY: raw is a fresh descriptor owned by nothing else.
    let sock = unsafe { OwnedFd::from_raw_fd(raw) };
    let (storage, len) = sockaddr(addr);
    // SAFETY: storage holds a valid sockaddr of `len` bytes for this family,
    // and sock is an open socket.
    let ret = unsafe {
        libc::connect(
            sock.as_raw_fd(),
            (&storage as *const libc::sockaddr_storage).cast(),
            len,
        )
    };
    if ret < 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINPROGRESS) {
            return Err(Attempt::Failed(e.to_string()));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Err(Attempt::TimedOut);
            }
            let mut fds = [
                pollfd(sock.as_raw_fd(), libc::POLLOUT),
                pollfd(stop_fd.as_raw_fd(), libc::POLLIN),
            ];
            poll(&mut fds, Some(deadline - now)).map_err(|e| Attempt::Failed(e.to_string()))?;
            if fds[1].revents != 0 && is_stopped() {
                return Err(Attempt::Aborted);
            }
            if fds[0].revents != 0 {
                break;
            }
        }
        let mut err: libc::c_int = 0;
        let mut err_len = mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: err and err_len are valid for writes of the sizes given.
        let ret = unsafe {
            libc::getsockopt(
                sock.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_ERROR,
                (&mut err as *mut libc::c_int).cast(),
                &mut err_len,
            )
        };
        if ret < 0 {
            return Err(os_err("getsockopt"));
        }
        if err != 0 {
            return Err(Attempt::Failed(
                io::Error::from_raw_os_error(err).to_string(),
            ));
        }
    }
    let stream = TcpStream::from(sock);
    // Small frames every 20 ms: send each at once rather than coalescing.
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// Caps the kernel's send buffer. Left to autotune it grows to megabytes:
/// minutes of audio for a server that stopped reading, all of it stale by
/// the time the server reads again. Capped, the module's own bounded queue
/// fills after a few seconds and further channel audio is dropped and counted.
pub(crate) fn cap_send_buffer(stream: &TcpStream, bytes: usize) {
    let size = bytes.min(i32::MAX as usize) as libc::c_int;
    // SAFETY: the descriptor is an open socket; size is a valid c_int that
    // outlives the call.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            (&size as *const libc::c_int).cast(),
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
}
