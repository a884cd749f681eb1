//! The HTTP upgrade, on the I/O thread, over the connected socket (and
//! its TLS, for `wss`), within what is left of the connect timeout; a
//! hangup aborts it. A server that refuses is named by its HTTP status.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::Instant;

use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::client::ClientHandshake;
use tungstenite::handshake::HandshakeError;
use tungstenite::http::{HeaderName, HeaderValue};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::WebSocket;

use super::mem::MemStream;
use super::{twilio_signature, WebSocketTarget, MAX_MESSAGE};
use crate::session::connect::ConnectError;
use crate::session::fd::{poll, pollfd};
use crate::session::tls::TlsChannel;

/// How tungstenite reads and keeps messages: small reads (the session
/// reads the socket 4 KiB at a time), one message bounded.
pub(crate) fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE))
}

/// Upgrades the connection to `url` (the target's URL on the host the
/// call dialled); with `tls`, through it. Returns the WebSocket, which
/// holds whatever the server sent right after its answer.
pub(crate) fn upgrade(
    stream: &TcpStream,
    mut tls: Option<&mut TlsChannel>,
    target: &WebSocketTarget,
    url: &str,
    deadline: Instant,
    stop_fd: &impl AsRawFd,
    is_stopped: &dyn Fn() -> bool,
) -> Result<WebSocket<MemStream>, ConnectError> {
    let failed = |why: String| ConnectError::Failed(format!("WebSocket: {why}"));
    let mut request = url
        .into_client_request()
        .map_err(|e| failed(format!("'{url}' is not a WebSocket URL ({e})")))?;
    for (name, value) in &target.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| failed(format!("'{name}' is not a header name")))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| failed(format!("the value of header {name} is not a header value")))?;
        request.headers_mut().append(name, value);
    }
    if let Some(token) = &target.twilio_auth_token {
        let signature = HeaderValue::from_str(&twilio_signature(token, url))
            .map_err(|_| failed("the signature is not a header value".into()))?;
        request
            .headers_mut()
            .insert("X-Twilio-Signature", signature);
    }
    let mut mid = ClientHandshake::start(MemStream::default(), request, Some(config()))
        .map_err(|e| failed(e.to_string()))?;
    let mut cipher = vec![0u8; 4096];
    let mut plain = Vec::new();
    loop {
        match mid.handshake() {
            Ok((ws, _response)) => return Ok(ws),
            Err(HandshakeError::Failure(tungstenite::Error::Http(response))) => {
                let status = response.status();
                return Err(failed(format!(
                    "the server refused the upgrade: HTTP {} {}",
                    status.as_u16(),
                    status.canonical_reason().unwrap_or("")
                )));
            }
            Err(HandshakeError::Failure(e)) => {
                return Err(failed(format!("the upgrade failed: {e}")))
            }
            Err(HandshakeError::Interrupted(m)) => mid = m,
        }
        let machine = mid.get_mut().get_mut();
        let out = std::mem::take(&mut machine.output);
        send(stream, tls.as_deref_mut(), &out)
            .map_err(|e| failed(format!("writing to the server: {e}")))?;
        // Wait for the answer.
        if Instant::now() >= deadline {
            return Err(failed(
                "the server did not answer the upgrade in time (not an HTTP server?)".into(),
            ));
        }
        let mut fds = [
            pollfd(stop_fd.as_raw_fd(), libc::POLLIN),
            pollfd(stream.as_raw_fd(), libc::POLLIN),
        ];
        poll(
            &mut fds,
            Some(deadline.saturating_duration_since(Instant::now())),
        )
        .map_err(|e| failed(format!("poll: {e}")))?;
        if is_stopped() {
            return Err(ConnectError::Aborted);
        }
        if fds[1].revents == 0 {
            continue;
        }
        let n = match (&*stream).read(&mut cipher) {
            Ok(0) => {
                return Err(failed(
                    "the server closed the connection during the upgrade".into(),
                ))
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(failed(format!("reading from the server: {e}"))),
        };
        match tls.as_deref_mut() {
            None => machine.feed(&cipher[..n]),
            Some(tls) => {
                plain.clear();
                tls.open(&cipher[..n], &mut plain)
                    .map_err(|e| failed(format!("reading from the server: {e}")))?;
                machine.feed(&plain);
            }
        }
    }
}

/// Writes `bytes` (through TLS if given) to the socket, waiting for room:
/// the upgrade request is small, and the socket fresh.
fn send(stream: &TcpStream, tls: Option<&mut TlsChannel>, bytes: &[u8]) -> io::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    let sealed;
    let bytes = match tls {
        None => bytes,
        Some(tls) => {
            let mut out = Vec::new();
            tls.seal(bytes, &mut out)?;
            sealed = out;
            &sealed
        }
    };
    let mut done = 0;
    while done < bytes.len() {
        match (&*stream).write(&bytes[done..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let mut fds = [pollfd(stream.as_raw_fd(), libc::POLLOUT)];
                poll(&mut fds, Some(std::time::Duration::from_millis(100)))?;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
