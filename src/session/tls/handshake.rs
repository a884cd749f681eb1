//! The TLS handshake, on the I/O thread, within what is left of the
//! connect timeout; a hangup aborts it. Each way of failing gets its own
//! sentence, for the one log line the call's failure gets.

use std::io;
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use rustls::{AlertDescription, CertificateError, ClientConnection, ProtocolVersion};

use super::channel::TlsChannel;
use super::client::{OurCertificate, TlsClient};
use crate::session::connect::ConnectError;
use crate::session::fd::{poll, pollfd};

/// With TLS 1.3 a server that asked for our certificate judges it after
/// the handshake has ended for us; its first records (session tickets, at
/// once from common servers) or its alert tell. This long at most.
const VERDICT_WAIT: Duration = Duration::from_millis(500);

/// Runs the handshake on the connected, non-blocking `stream` for a call
/// that dialled `host`.
pub(crate) fn handshake(
    stream: &TcpStream,
    host: &str,
    client: &TlsClient,
    deadline: Instant,
    stop_fd: &impl AsRawFd,
    is_stopped: &dyn Fn() -> bool,
) -> Result<TlsChannel, ConnectError> {
    let failed = |why: String| ConnectError::Failed(format!("TLS: {why}"));
    let name = client.server_name(host).map_err(failed)?;
    let shown_name = format!("{name:?}");
    let (config, ours) = client.connection_config();
    let mut conn = ClientConnection::new(config, name).map_err(|e| failed(e.to_string()))?;
    let wait = |conn: &ClientConnection, until: Instant| -> Result<bool, ConnectError> {
        let events = if conn.wants_write() {
            libc::POLLIN | libc::POLLOUT
        } else {
            libc::POLLIN
        };
        let mut fds = [
            pollfd(stop_fd.as_raw_fd(), libc::POLLIN),
            pollfd(stream.as_raw_fd(), events),
        ];
        let left = until.saturating_duration_since(Instant::now());
        poll(&mut fds, Some(left)).map_err(|e| failed(format!("poll: {e}")))?;
        if is_stopped() {
            return Err(ConnectError::Aborted);
        }
        Ok(fds[1].revents != 0)
    };
    let judge = |e: rustls::Error, ours: &OurCertificate| failed(describe(&e, ours, &shown_name));
    while conn.is_handshaking() {
        send(&mut conn, stream).map_err(|e| failed(format!("writing to the server: {e}")))?;
        if Instant::now() >= deadline {
            return Err(failed(
                "the server did not complete the handshake in time (a plain AudioSocket server, \
                 or not a TLS port?)"
                    .into(),
            ));
        }
        if !wait(&conn, deadline)? {
            continue;
        }
        match receive(&mut conn, stream) {
            Ok(true) => {}
            Ok(false) => {
                return Err(failed(
                    "the server closed the connection during the handshake (a plain AudioSocket \
                     server, or not a TLS port?)"
                        .into(),
                ))
            }
            Err(Received::Io(e)) => return Err(failed(format!("reading from the server: {e}"))),
            Err(Received::Tls(e)) => {
                let _ = send(&mut conn, stream);
                return Err(judge(e, &ours));
            }
        }
    }
    send(&mut conn, stream).map_err(|e| failed(format!("writing to the server: {e}")))?;
    let tls13 = conn.protocol_version() == Some(ProtocolVersion::TLSv1_3);
    if tls13 && ours.asked() {
        let until = deadline.min(Instant::now() + VERDICT_WAIT);
        // Its first word, or its verdict on ours; silence is taken as yes.
        if wait(&conn, until)? {
            match receive(&mut conn, stream) {
                Ok(true) => {}
                Ok(false) => {
                    return Err(failed(if ours.have() {
                        "the server closed the connection after the handshake: it did not accept \
                         our client certificate"
                            .into()
                    } else {
                        "the server closed the connection after the handshake: it wants a client \
                         certificate, and this profile gives none (cert_file, key_file)"
                            .into()
                    }))
                }
                Err(Received::Io(e)) => {
                    return Err(failed(format!("reading from the server: {e}")))
                }
                Err(Received::Tls(e)) => return Err(judge(e, &ours)),
            }
        }
    }
    Ok(TlsChannel::new(conn))
}

/// Writes what rustls has to send, as far as the socket takes it.
fn send(conn: &mut ClientConnection, mut stream: &TcpStream) -> io::Result<()> {
    while conn.wants_write() {
        match conn.write_tls(&mut stream) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

enum Received {
    Io(io::Error),
    Tls(rustls::Error),
}

/// Reads what the socket has and processes it; false when the server
/// closed the connection.
fn receive(conn: &mut ClientConnection, mut stream: &TcpStream) -> Result<bool, Received> {
    match conn.read_tls(&mut stream) {
        Ok(0) => return Ok(false),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(true),
        Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return Ok(false),
        Err(e) => return Err(Received::Io(e)),
    }
    conn.process_new_packets().map_err(Received::Tls)?;
    Ok(true)
}

/// One sentence for each way a handshake fails.
fn describe(e: &rustls::Error, ours: &OurCertificate, name: &str) -> String {
    use rustls::Error as E;
    use CertificateError as C;
    match e {
        E::InvalidCertificate(c) => match c {
            C::UnknownIssuer => "the server's certificate is not signed by a trusted CA \
                                 (unknown issuer; see the profile's ca_file)"
                .into(),
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                format!("the server's certificate is not valid for the name {name}")
            }
            C::Expired | C::ExpiredContext { .. } => "the server's certificate has expired".into(),
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "the server's certificate is not valid yet".into()
            }
            C::Revoked => "the server's certificate has been revoked".into(),
            other => format!("the server's certificate is not acceptable ({other:?})"),
        },
        E::AlertReceived(alert) => {
            let wants_ours = ours.asked() && !ours.have();
            match alert {
                AlertDescription::CertificateRequired => {
                    "the server wants a client certificate, and this profile gives none \
                     (cert_file, key_file)"
                        .into()
                }
                AlertDescription::HandshakeFailure if wants_ours => {
                    "the server wants a client certificate, and this profile gives none \
                     (cert_file, key_file)"
                        .into()
                }
                AlertDescription::BadCertificate
                | AlertDescription::UnknownCA
                | AlertDescription::CertificateUnknown
                | AlertDescription::UnsupportedCertificate
                | AlertDescription::CertificateExpired
                | AlertDescription::CertificateRevoked
                | AlertDescription::AccessDenied
                | AlertDescription::DecryptError
                    if ours.asked() && ours.have() =>
                {
                    format!("the server did not accept our client certificate ({alert:?})")
                }
                AlertDescription::ProtocolVersion => {
                    "the server speaks neither TLS 1.2 nor TLS 1.3".into()
                }
                other => format!("the server refused the handshake ({other:?})"),
            }
        }
        E::InvalidMessage(_) | E::InappropriateMessage { .. } => {
            "the server does not speak TLS (a plain AudioSocket server?)".into()
        }
        E::PeerIncompatible(why) => {
            format!("the server's TLS cannot work with ours (TLS 1.2 or 1.3): {why:?}")
        }
        other => format!("the handshake failed: {other}"),
    }
}
