//! Resolving and connecting on the I/O thread, within one overall deadline.
//!
//! A name may stand for several servers: the addresses are tried in the
//! order `fleet.rs` gives. Each attempt is given a share of the timeout
//! before the next one starts alongside it (the first to answer wins), so
//! a refused address costs nothing and a silent one only its share. A
//! hangup (the stop signal) aborts everything at once.

use std::collections::HashMap;
use std::io;
use std::mem;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::fd::{poll, pollfd, EventFd};
use super::fleet;
use super::server_addr::ServerAddr;
use super::threads;
use crate::locks::lock;

/// Set on the socket before connecting, to bound what a server can write
/// ahead of the caller's ear and what the kernel holds for it. Left alone,
/// Linux grows a receive buffer to megabytes (minutes of audio a call, and
/// memory pressure on every TCP connection of the machine across hundreds
/// of calls), and sizes the server's own send buffer from the segment size
/// we announce (on loopback, 64 KiB segments).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Our receive buffer (Linux doubles it for its own bookkeeping).
    pub receive_buffer: usize,
    /// The segment size we announce, when it is bounded too: Linux sizes a
    /// sender's initial send buffer at twenty segments, so 536 bytes keep
    /// it near 46 KB.
    pub segment: Option<usize>,
}

impl Limits {
    /// Every call: about one playout buffer of audio in the kernel, which
    /// with the module's own buffer lets a server send twice that ahead.
    pub fn for_call(rate: crate::protocol::Rate, playout_buffer: Duration) -> Limits {
        let bytes = rate.hz() as u128 * 2 * playout_buffer.as_millis() / 1000;
        Limits {
            receive_buffer: (bytes as usize).max(4096),
            segment: None,
        }
    }

    /// Barge-in: a quarter second of audio (at least 4 KiB), so that a
    /// server up to 250 ms away can still stream at real time, and small
    /// segments, so that a flush is seen soon after it is sent.
    pub fn for_barge_in(rate: crate::protocol::Rate) -> Limits {
        Limits {
            receive_buffer: (rate.hz() as usize * 2 / 4).max(4096),
            segment: Some(536),
        }
    }
}

pub(crate) enum ConnectError {
    /// The stop signal arrived while connecting.
    Aborted,
    Failed(String),
}

/// The longest an attempt has to itself before the next address is tried
/// alongside it.
const MAX_STAGGER: Duration = Duration::from_millis(500);

/// Connects to `server`; returns the stream and the address it reached.
/// `stop_fd` is polled alongside the sockets: when it becomes readable,
/// `is_stopped` decides whether to give up.
pub(crate) fn connect(
    server: &ServerAddr,
    timeout: Duration,
    limits: Limits,
    stop_fd: &impl AsRawFd,
    is_stopped: &dyn Fn() -> bool,
) -> Result<(TcpStream, SocketAddr), ConnectError> {
    let deadline = Instant::now() + timeout;
    let addrs = resolve(
        server,
        (deadline, timeout),
        stop_fd,
        is_stopped,
        system_lookup,
    )?;
    if addrs.is_empty() {
        return Err(ConnectError::Failed(format!(
            "host '{}' has no address",
            server.host
        )));
    }
    let order = fleet::order(&server.to_string(), addrs, Instant::now());
    connect_any(
        &order,
        (deadline, timeout),
        Some(limits),
        stop_fd,
        is_stopped,
    )
}

/// Name lookups under way at once, at most, each on a thread of its own:
/// a resolver that does not answer holds one until the system's own
/// timeout, and a flood of calls must not turn that into thousands.
const MAX_LOOKUPS: usize = 64;

/// How a name becomes addresses (the system's resolver; tests give their own).
pub(crate) type Lookup = fn(&str, u16) -> io::Result<Vec<SocketAddr>>;

fn system_lookup(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    (host, port).to_socket_addrs().map(Iterator::collect)
}

/// One lookup under way: its answer (or why there is none), and the
/// signal that it came, left set for every call waiting on it.
struct Flight {
    answered: EventFd,
    answer: Mutex<Option<Result<Vec<SocketAddr>, String>>>,
}

/// Lookups under way by name and port, one thread each, at most
/// [`MAX_LOOKUPS`]. A call asking for one already under way waits for the
/// same answer: a fleet's calls resuming at once ask for the same name by
/// the hundred, and would otherwise each take a lookup of their own (the
/// answer is not kept after it comes).
static FLIGHTS: Mutex<Option<Flights>> = Mutex::new(None);
type Flights = HashMap<(String, u16), Arc<Flight>>;

/// The lookup of `host:port` under way, or a new one started.
fn flight(host: &str, port: u16, lookup: Lookup) -> Result<Arc<Flight>, String> {
    let mut flights = lock(&FLIGHTS);
    let flights = flights.get_or_insert_with(HashMap::new);
    let key = (host.to_string(), port);
    if let Some(f) = flights.get(&key) {
        return Ok(f.clone());
    }
    if flights.len() >= MAX_LOOKUPS {
        return Err(format!(
            "{MAX_LOOKUPS} name lookups are waiting already (the resolver does not answer)"
        ));
    }
    let f = Arc::new(Flight {
        answered: EventFd::new().map_err(|e| e.to_string())?,
        answer: Mutex::new(None),
    });
    let (put, done) = (f.clone(), key.clone());
    threads::spawn("audiosock dns", move || {
        let found = lookup(&done.0, done.1).map_err(|e| e.to_string());
        // Gone from the table first: a call that asks from now on starts
        // a fresh lookup rather than taking this answer.
        if let Some(flights) = lock(&FLIGHTS).as_mut() {
            flights.remove(&done);
        }
        *lock(&put.answer) = Some(found);
        put.answered.signal();
    })
    .map_err(|e| e.to_string())?;
    flights.insert(key, f.clone());
    Ok(f)
}

/// The addresses `server` stands for, within the deadline. The system's
/// resolver blocks, so it runs on a thread of its own, which the call
/// stops waiting for at the deadline or on a hangup (the thread finishes
/// by itself, later, and its answer is dropped).
pub(crate) fn resolve(
    server: &ServerAddr,
    (deadline, timeout): (Instant, Duration),
    stop_fd: &impl AsRawFd,
    is_stopped: &dyn Fn() -> bool,
    lookup: Lookup,
) -> Result<Vec<SocketAddr>, ConnectError> {
    if let Ok(ip) = server.host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, server.port)]);
    }
    let cannot =
        |why: String| ConnectError::Failed(format!("cannot resolve host '{}': {why}", server.host));
    let flight = flight(&server.host, server.port, lookup).map_err(cannot)?;
    loop {
        if let Some(found) = lock(&flight.answer).as_ref() {
            return found.clone().map_err(cannot);
        }
        if is_stopped() {
            return Err(ConnectError::Aborted);
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(cannot(format!(
                "no answer from the resolver within {} ms",
                timeout.as_millis()
            )));
        }
        let mut fds = [
            pollfd(flight.answered.as_raw_fd(), libc::POLLIN),
            pollfd(stop_fd.as_raw_fd(), libc::POLLIN),
        ];
        poll(&mut fds, Some(deadline - now)).map_err(|e| cannot(format!("poll: {e}")))?;
    }
}

/// One attempt under way.
struct Attempt {
    addr: SocketAddr,
    sock: OwnedFd,
    started: Instant,
}

/// Tries `order` with staggered, racing attempts until one connects or
/// the deadline passes (errors name the whole `timeout` it ends).
pub(crate) fn connect_any(
    order: &[SocketAddr],
    (deadline, timeout): (Instant, Duration),
    limits: Option<Limits>,
    stop_fd: &impl AsRawFd,
    is_stopped: &dyn Fn() -> bool,
) -> Result<(TcpStream, SocketAddr), ConnectError> {
    let t0 = Instant::now();
    let stagger =
        (deadline.saturating_duration_since(t0) / order.len().max(1) as u32).min(MAX_STAGGER);
    let mut pending: Vec<Attempt> = Vec::new();
    let mut errors = Vec::new();
    let mut next = 0;
    let mut next_start = t0;
    loop {
        if is_stopped() {
            return Err(ConnectError::Aborted);
        }
        let now = Instant::now();
        if now >= deadline {
            for a in &pending {
                fleet::failed(a.addr, now);
                errors.push(format!(
                    "{}: timed out after {} ms",
                    a.addr,
                    timeout.as_millis()
                ));
            }
            if pending.is_empty() && next < order.len() {
                errors.push(format!("timed out after {} ms", timeout.as_millis()));
            }
            return Err(ConnectError::Failed(errors.join("; ")));
        }
        while next < order.len() && (pending.is_empty() || now >= next_start) {
            let addr = order[next];
            next += 1;
            next_start = now + stagger;
            match start(addr, limits) {
                Ok(Started::Connected(sock)) => return Ok(won(sock, addr, &pending, stagger, now)),
                Ok(Started::Pending(sock)) => pending.push(Attempt {
                    addr,
                    sock,
                    started: now,
                }),
                Err(e) => {
                    fleet::failed(addr, now);
                    errors.push(format!("{addr}: {e}"));
                }
            }
        }
        if pending.is_empty() {
            return Err(ConnectError::Failed(errors.join("; ")));
        }
        let wake = if next < order.len() {
            deadline.min(next_start)
        } else {
            deadline
        };
        let mut fds: Vec<libc::pollfd> = pending
            .iter()
            .map(|a| pollfd(a.sock.as_raw_fd(), libc::POLLOUT))
            .collect();
        fds.push(pollfd(stop_fd.as_raw_fd(), libc::POLLIN));
        poll(&mut fds, Some(wake.saturating_duration_since(now)))
            .map_err(|e| ConnectError::Failed(format!("poll: {e}")))?;
        let now = Instant::now();
        let mut i = 0;
        for f in &fds[..pending.len()] {
            if f.revents == 0 {
                i += 1;
                continue;
            }
            let a = pending.remove(i);
            match socket_error(&a.sock) {
                Ok(()) => return Ok(won(a.sock, a.addr, &pending, stagger, now)),
                Err(e) => {
                    fleet::failed(a.addr, now);
                    errors.push(format!("{}: {e}", a.addr));
                }
            }
        }
    }
}

/// `sock` reached `addr`: the attempts still silent after their share of
/// the timeout count as failed, and the winner as connected.
fn won(
    sock: OwnedFd,
    addr: SocketAddr,
    others: &[Attempt],
    stagger: Duration,
    now: Instant,
) -> (TcpStream, SocketAddr) {
    for a in others {
        if now.saturating_duration_since(a.started) >= stagger {
            fleet::failed(a.addr, now);
        }
    }
    fleet::connected(addr);
    let stream = TcpStream::from(sock);
    // Small frames every 20 ms: send each at once rather than coalescing.
    let _ = stream.set_nodelay(true);
    (stream, addr)
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

enum Started {
    Connected(OwnedFd),
    Pending(OwnedFd),
}

fn set_int(sock: &impl AsRawFd, level: libc::c_int, name: libc::c_int, value: usize) {
    let value = value.min(i32::MAX as usize) as libc::c_int;
    // SAFETY: the descriptor is an open socket; value is a valid c_int that
    // outlives the call. A refusal leaves the default, which is safe.
    unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
}

/// Starts a non-blocking connect to `addr`.
fn start(addr: SocketAddr, limits: Option<Limits>) -> io::Result<Started> {
    let family = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
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
        return Err(io::Error::last_os_error());
    }
    // SAFETY: raw is a fresh descriptor owned by nothing else.
    let sock = unsafe { OwnedFd::from_raw_fd(raw) };
    if let Some(l) = limits {
        // Before the handshake: the window and segment size are announced in it.
        set_int(&sock, libc::SOL_SOCKET, libc::SO_RCVBUF, l.receive_buffer);
        if let Some(segment) = l.segment {
            set_int(&sock, libc::IPPROTO_TCP, libc::TCP_MAXSEG, segment);
        }
    }
    let (storage, len) = sockaddr(&addr);
    // SAFETY: storage holds a valid sockaddr of `len` bytes for this family,
    // and sock is an open socket.
    let ret = unsafe {
        libc::connect(
            sock.as_raw_fd(),
            (&storage as *const libc::sockaddr_storage).cast(),
            len,
        )
    };
    if ret == 0 {
        return Ok(Started::Connected(sock));
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EINPROGRESS) {
        Ok(Started::Pending(sock))
    } else {
        Err(e)
    }
}

/// How a non-blocking connect ended, once the socket is writable.
fn socket_error(sock: &OwnedFd) -> io::Result<()> {
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
        Err(io::Error::last_os_error())
    } else if err != 0 {
        Err(io::Error::from_raw_os_error(err))
    } else {
        Ok(())
    }
}

/// Caps the kernel's send buffer. Left to autotune it grows to megabytes:
/// minutes of audio for a server that stopped reading, all of it stale by
/// the time the server reads again. Capped, the module's own bounded queue
/// fills after a few seconds and further channel audio is dropped and counted.
pub(crate) fn cap_send_buffer(stream: &TcpStream, bytes: usize) {
    set_int(stream, libc::SOL_SOCKET, libc::SO_SNDBUF, bytes);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    struct NoStop(super::super::fd::EventFd);

    fn no_stop() -> NoStop {
        NoStop(super::super::fd::EventFd::new().unwrap())
    }

    /// Listeners on several loopback addresses sharing one port.
    fn listeners(octets: &[u8]) -> (Vec<TcpListener>, u16) {
        'again: loop {
            let first = TcpListener::bind(("127.0.0.1", 0)).unwrap();
            let port = first.local_addr().unwrap().port();
            drop(first);
            let mut all = Vec::new();
            for o in octets {
                match TcpListener::bind(SocketAddr::from(([127, 0, 0, *o], port))) {
                    Ok(l) => all.push(l),
                    Err(_) => continue 'again,
                }
            }
            for l in &all {
                l.set_nonblocking(true).unwrap();
            }
            return (all, port);
        }
    }

    fn call(name: &str, addrs: &[SocketAddr], timeout: Duration) -> (SocketAddr, Duration) {
        let stop = no_stop();
        let t0 = Instant::now();
        let order = fleet::order(name, addrs.to_vec(), t0);
        match connect_any(&order, (t0 + timeout, timeout), None, &stop.0, &|| false) {
            Ok((_, addr)) => (addr, t0.elapsed()),
            Err(ConnectError::Failed(e)) => panic!("{name}: {e}"),
            Err(ConnectError::Aborted) => panic!("aborted"),
        }
    }

    #[test]
    fn calls_spread_evenly_over_every_address_of_a_name() {
        let (ls, port) = listeners(&[2, 3, 4]);
        let addrs: Vec<SocketAddr> = ls.iter().map(|l| l.local_addr().unwrap()).collect();
        let name = format!("spread.test:{port}");
        let mut reached = Vec::new();
        for _ in 0..30 {
            reached.push(call(&name, &addrs, Duration::from_secs(2)).0);
        }
        for (l, a) in ls.iter().zip(&addrs) {
            assert_eq!(
                reached.iter().filter(|r| *r == a).count(),
                10,
                "{reached:?}"
            );
            let accepted = std::iter::from_fn(|| l.accept().ok()).count();
            assert_eq!(accepted, 10, "{a}");
        }
    }

    /// One address refuses, one never answers (a full backlog), one works:
    /// every call connects within its timeout, and once the dead ones have
    /// failed, at once.
    #[test]
    fn dead_addresses_cost_a_call_little_and_the_next_calls_nothing() {
        let (ls, port) = listeners(&[6, 7]);
        let (hole, good) = (&ls[0], ls[1].local_addr().unwrap());
        // SAFETY: the descriptor is open; listen(0) only shrinks its backlog.
        unsafe { libc::listen(hole.as_raw_fd(), 0) };
        let hole_addr = hole.local_addr().unwrap();
        let _fill: Vec<TcpStream> = (0..8)
            .filter_map(|_| TcpStream::connect_timeout(&hole_addr, Duration::from_millis(100)).ok())
            .collect();
        let refused = SocketAddr::from(([127, 0, 0, 5], port));
        let addrs = [refused, hole_addr, good];
        let name = format!("dead.test:{port}");
        let timeout = Duration::from_secs(2);
        let mut took = Vec::new();
        for _ in 0..12 {
            let (addr, t) = call(&name, &addrs, timeout);
            assert_eq!(addr, good);
            took.push(t);
        }
        // At worst the silent address's share of the timeout (2 s / 3).
        assert!(took[0] < Duration::from_millis(800), "{took:?}");
        // Then both dead addresses are tried last: no wait at all.
        assert!(
            took[2..].iter().all(|t| *t < Duration::from_millis(100)),
            "{took:?}"
        );
        let views = fleet::addresses();
        let failed = |a: SocketAddr| views.iter().find(|v| v.addr == a).unwrap().avoided_for;
        assert!(failed(refused).is_some() && failed(hole_addr).is_some());
    }

    fn slow_lookup(_: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        std::thread::sleep(Duration::from_secs(3));
        Ok(vec![SocketAddr::from(([127, 0, 0, 1], port))])
    }

    fn quick_lookup(_: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        Ok(vec![SocketAddr::from(([127, 0, 0, 9], port))])
    }

    fn server(host: &str) -> ServerAddr {
        ServerAddr {
            host: host.into(),
            port: 9092,
            shown: None,
        }
    }

    /// A resolver that does not answer costs a call its connect timeout and
    /// no more, and a hangup ends the wait at once.
    #[test]
    fn a_silent_resolver_is_given_the_timeout_and_a_hangup_ends_the_wait() {
        let stop = no_stop();
        let t0 = Instant::now();
        let timeout = Duration::from_millis(300);
        let r = resolve(
            &server("slow.test"),
            (t0 + timeout, timeout),
            &stop.0,
            &|| false,
            slow_lookup,
        );
        let took = t0.elapsed();
        let Err(ConnectError::Failed(why)) = r else {
            panic!("resolved?");
        };
        assert!(
            why.contains("no answer from the resolver within 300 ms"),
            "{why}"
        );
        assert!(
            took >= timeout && took < Duration::from_millis(600),
            "{took:?}"
        );

        let stop = no_stop();
        stop.0.signal();
        let t0 = Instant::now();
        let r = resolve(
            &server("slow.test"),
            (t0 + Duration::from_secs(5), Duration::from_secs(5)),
            &stop.0,
            &|| true,
            slow_lookup,
        );
        assert!(matches!(r, Err(ConnectError::Aborted)));
        assert!(t0.elapsed() < Duration::from_millis(100));

        let t0 = Instant::now();
        let r = resolve(
            &server("quick.test"),
            (t0 + timeout, timeout),
            &no_stop().0,
            &|| false,
            quick_lookup,
        );
        assert_eq!(r.ok(), Some(vec![SocketAddr::from(([127, 0, 0, 9], 9092))]));
        // An address needs no lookup at all.
        let r = resolve(
            &server("::1"),
            (t0 + timeout, timeout),
            &no_stop().0,
            &|| false,
            slow_lookup,
        );
        assert_eq!(r.ok(), Some(vec!["[::1]:9092".parse().unwrap()]));
    }

    use std::sync::atomic::{AtomicUsize, Ordering};

    static COUNTED: AtomicUsize = AtomicUsize::new(0);

    fn counted_lookup(_: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        COUNTED.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(300));
        Ok(vec![SocketAddr::from(([127, 0, 0, 7], port))])
    }

    /// A hundred calls resuming at once on one fleet's name: one lookup,
    /// every call its answer, none refused for the lookups' limit; a call
    /// after the answer looks again.
    #[test]
    fn calls_asking_for_a_name_under_lookup_share_its_answer() {
        let timeout = Duration::from_secs(5);
        let calls: Vec<_> = (0..100)
            .map(|_| {
                std::thread::spawn(move || {
                    let t0 = Instant::now();
                    resolve(
                        &server("shared.test"),
                        (t0 + timeout, timeout),
                        &no_stop().0,
                        &|| false,
                        counted_lookup,
                    )
                    .ok()
                })
            })
            .collect();
        let want = Some(vec![SocketAddr::from(([127, 0, 0, 7], 9092))]);
        for call in calls {
            assert_eq!(call.join().unwrap(), want);
        }
        assert_eq!(COUNTED.load(Ordering::SeqCst), 1);
        let t0 = Instant::now();
        let again = resolve(
            &server("shared.test"),
            (t0 + timeout, timeout),
            &no_stop().0,
            &|| false,
            counted_lookup,
        );
        assert_eq!(again.ok(), want);
        assert_eq!(COUNTED.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn every_address_failing_names_each_reason_within_the_timeout() {
        let (ls, port) = listeners(&[9]);
        let hole = &ls[0];
        // SAFETY: as above.
        unsafe { libc::listen(hole.as_raw_fd(), 0) };
        let hole_addr = hole.local_addr().unwrap();
        let _fill: Vec<TcpStream> = (0..8)
            .filter_map(|_| TcpStream::connect_timeout(&hole_addr, Duration::from_millis(100)).ok())
            .collect();
        let refused = SocketAddr::from(([127, 0, 0, 8], port));
        let stop = no_stop();
        let t0 = Instant::now();
        let timeout = Duration::from_millis(600);
        let r = connect_any(
            &[refused, hole_addr],
            (t0 + timeout, timeout),
            None,
            &stop.0,
            &|| false,
        );
        let took = t0.elapsed();
        let Err(ConnectError::Failed(why)) = r else {
            panic!("connected to nothing?");
        };
        assert!(
            why.contains(&format!("{refused}: Connection refused")),
            "{why}"
        );
        assert!(
            why.contains(&format!("{hole_addr}: timed out after 600 ms")),
            "{why}"
        );
        assert!(
            took >= Duration::from_millis(600) && took < Duration::from_millis(1000),
            "{took:?}"
        );
    }
}
