//! Resuming a call's stream on another server when its server is lost, or
//! asks to be left (option `r`): what counts as a loss, how long and how
//! often a call tries, and what the new server is told. The I/O thread
//! (`io_thread.rs`) runs it.
//!
//! Only a loss resumes: an end the server meant (its hangup or error
//! message, a WebSocket closed with 1000) ends the call as it always did.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::end_reason::{EndReason, Hangup};
use crate::protocol::twilio::StreamInfo;
use crate::protocol::MAX_PAYLOAD;

/// How hard a call tries to resume.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResumePolicy {
    /// From the loss, the longest a call goes without a server before it
    /// ends.
    pub within: Duration,
    /// Connection attempts a call makes to resume, over its whole life.
    pub attempts: u32,
}

impl ResumePolicy {
    pub const DEFAULT_WITHIN: Duration = Duration::from_secs(5);
    pub const DEFAULT_ATTEMPTS: u32 = 20;
}

impl Default for ResumePolicy {
    fn default() -> Self {
        ResumePolicy {
            within: Self::DEFAULT_WITHIN,
            attempts: Self::DEFAULT_ATTEMPTS,
        }
    }
}

/// Why a stream stopped, when it may resume.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Loss {
    /// The connection failed: the words of the end it would have been.
    Lost(String),
    /// The server asked to be left (`0x26`, a WebSocket close 1001 or 1012).
    Left(String),
}

impl Loss {
    pub fn why(&self) -> &str {
        match self {
            Loss::Lost(why) | Loss::Left(why) => why,
        }
    }
}

/// Whether `end` is a loss a call with option `r` resumes from.
pub(crate) fn loss(end: &EndReason) -> Option<Loss> {
    let lost = || Some(Loss::Lost(end.to_string()));
    match end {
        EndReason::ServerHangup(Hangup::Moving)
        | EndReason::ServerHangup(Hangup::WebSocketClose(1001 | 1012)) => {
            Some(Loss::Left(end.to_string()))
        }
        EndReason::ServerHangup(Hangup::Message | Hangup::WebSocketClose(1000)) => None,
        EndReason::ServerHangup(
            Hangup::Closed | Hangup::Reset | Hangup::ClosedWhileWritten | Hangup::WebSocketClose(_),
        ) => lost(),
        EndReason::ProtocolError(_) | EndReason::NetworkError(_) | EndReason::Timeout => lost(),
        EndReason::ServerError(_)
        | EndReason::ChannelHangup
        | EndReason::Redirected
        | EndReason::ConnectFailed(_)
        | EndReason::ServerLost { .. }
        | EndReason::Internal(_) => None,
    }
}

/// A connection that lasted less than this before it was lost again did
/// not end the server's trouble: the next attempt waits its turn.
pub(crate) const SETTLED: Duration = Duration::from_secs(1);

/// The wait before an attempt, given how many attempts of this gap failed
/// before it (a connection lost before [`SETTLED`] counts as one): none
/// for the first, then 100 ms doubling up to a second.
pub(crate) fn backoff(failed: u32) -> Duration {
    match failed {
        0 => Duration::ZERO,
        n => Duration::from_millis(100u64 << (n - 1).min(4)).min(Duration::from_secs(1)),
    }
}

/// What a resume tells whoever listens (the AMI events), step by step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResumeStep {
    /// The stream stopped; attempts follow.
    Lost { why: String, asked: bool },
    /// Attempt `attempt` of this gap failed.
    Failed { attempt: u32, why: String },
    /// Attempt `attempt` reached `peer`: the stream goes on, after `gap`.
    Resumed {
        attempt: u32,
        resumes: u32,
        gap: Duration,
        peer: SocketAddr,
    },
    /// No attempt succeeded in time; the call ends.
    GaveUp { attempts: u32, gap: Duration },
}

/// Told each [`ResumeStep`] on the I/O thread, as it happens.
#[derive(Clone)]
pub struct ResumeListener(pub Arc<dyn Fn(&ResumeStep) + Send + Sync>);

impl std::fmt::Debug for ResumeListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResumeListener")
    }
}

/// The call context (`0x23`) for a resumed stream: the original object
/// with `"resumed"` (how many times the stream has resumed) and
/// `"gap_ms"` (how long this gap was). The original when that would not
/// fit one message.
pub(crate) fn resumed_context(json: &[u8], resumes: u32, gap: Duration) -> Vec<u8> {
    let Ok(serde_json::Value::Object(mut object)) = serde_json::from_slice(json) else {
        return json.to_vec();
    };
    object.insert("resumed".into(), resumes.into());
    object.insert("gap_ms".into(), (gap.as_millis() as u64).into());
    match serde_json::to_vec(&object) {
        Ok(v) if v.len() <= MAX_PAYLOAD => v,
        _ => json.to_vec(),
    }
}

/// The Twilio dialect's stream for a resumed connection: the same stream,
/// with `resumed` and `gap_ms` among its `customParameters` (strings, as
/// Twilio's are).
pub(crate) fn resumed_stream(info: &StreamInfo, resumes: u32, gap: Duration) -> StreamInfo {
    let mut info = info.clone();
    info.custom_parameters
        .retain(|(k, _)| k != "resumed" && k != "gap_ms");
    info.custom_parameters
        .push(("resumed".into(), resumes.to_string()));
    info.custom_parameters
        .push(("gap_ms".into(), gap.as_millis().to_string()));
    info
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::ErrorCode;

    #[test]
    fn only_a_loss_resumes_never_an_end_the_server_meant() {
        let lost = [
            EndReason::ServerHangup(Hangup::Closed),
            EndReason::ServerHangup(Hangup::Reset),
            EndReason::ServerHangup(Hangup::ClosedWhileWritten),
            EndReason::ServerHangup(Hangup::WebSocketClose(1011)),
            EndReason::ProtocolError("a broken WebSocket".into()),
            EndReason::NetworkError("reading from the server: timed out".into()),
            EndReason::Timeout,
        ];
        for end in lost {
            assert!(matches!(loss(&end), Some(Loss::Lost(_))), "{end:?}");
        }
        for end in [
            EndReason::ServerHangup(Hangup::Moving),
            EndReason::ServerHangup(Hangup::WebSocketClose(1001)),
            EndReason::ServerHangup(Hangup::WebSocketClose(1012)),
        ] {
            assert!(matches!(loss(&end), Some(Loss::Left(_))), "{end:?}");
        }
        for end in [
            EndReason::ServerHangup(Hangup::Message),
            EndReason::ServerHangup(Hangup::WebSocketClose(1000)),
            EndReason::ServerError(ErrorCode::from_payload(&[1])),
            EndReason::ChannelHangup,
            EndReason::Redirected,
            EndReason::ConnectFailed("refused".into()),
            EndReason::Internal("panic".into()),
            EndReason::ServerLost {
                attempts: 3,
                why: "refused".into(),
            },
        ] {
            assert_eq!(loss(&end), None, "{end:?}");
        }
    }

    #[test]
    fn attempts_back_off_from_none_to_a_second() {
        let waits: Vec<u64> = (0..8).map(|n| backoff(n).as_millis() as u64).collect();
        assert_eq!(waits, [0, 100, 200, 400, 800, 1000, 1000, 1000]);
    }

    #[test]
    fn the_new_server_learns_it_is_a_resume() {
        let json = br#"{"channel":"PJSIP/a-1","variables":{"X":"1"}}"#;
        let v: serde_json::Value =
            serde_json::from_slice(&resumed_context(json, 2, Duration::from_millis(850))).unwrap();
        assert_eq!(v["channel"], "PJSIP/a-1");
        assert_eq!(v["variables"]["X"], "1");
        assert_eq!(v["resumed"], 2);
        assert_eq!(v["gap_ms"], 850);
        // A second resume replaces the figures rather than adding more.
        let again = resumed_context(&serde_json::to_vec(&v).unwrap(), 3, Duration::ZERO);
        let v: serde_json::Value = serde_json::from_slice(&again).unwrap();
        assert_eq!(
            (v["resumed"].as_u64(), v["gap_ms"].as_u64()),
            (Some(3), Some(0))
        );

        let info = StreamInfo {
            stream_sid: "MZ1".into(),
            call_sid: "CA1".into(),
            account_sid: "AC1".into(),
            tracks: vec![],
            custom_parameters: vec![("from_number".into(), "100".into())],
        };
        let once = resumed_stream(&info, 1, Duration::from_millis(40));
        let twice = resumed_stream(&once, 2, Duration::from_millis(70));
        assert_eq!(twice.stream_sid, "MZ1");
        assert_eq!(
            twice.custom_parameters,
            [
                ("from_number".to_string(), "100".to_string()),
                ("resumed".to_string(), "2".to_string()),
                ("gap_ms".to_string(), "70".to_string()),
            ]
        );
    }
}
