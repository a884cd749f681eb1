//! The Twilio dialect: Twilio's Media Streams messages (JSON text over a
//! WebSocket), translated to and from the AudioSocket messages the session
//! speaks, so that nothing past this file knows which dialect is on the
//! wire.
//!
//! To the bot ([`Speaker`]): `connected` and `start` for the UUID message,
//! `media` for audio (µ-law 8 kHz, base64; a two-channel tap frame as one
//! message per track), `dtmf`, `mark` for a played (or cleared) mark,
//! `stop` for the hangup. From the bot ([`Listener`]): `media` (any
//! length) becomes 8 kHz audio, `mark` a mark, `clear` a flush.

use std::time::Instant;

use data_encoding::BASE64;
use serde::Serialize;
use serde_json::Value;

use super::{mulaw, Rate, HEADER_LEN, MAX_PAYLOAD};
use super::{KIND_DTMF, KIND_FLUSH, KIND_HANGUP, KIND_MARK, KIND_STEREO, KIND_UUID};

/// Which way audio goes, in Twilio's words: `inbound` is what the caller
/// (the channel's party) says, `outbound` what it hears.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Track {
    Inbound,
    Outbound,
}

impl Track {
    pub fn name(self) -> &'static str {
        match self {
            Track::Inbound => "inbound",
            Track::Outbound => "outbound",
        }
    }
}

/// What `start` says of a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamInfo {
    pub stream_sid: String,
    pub call_sid: String,
    pub account_sid: String,
    /// The tracks that follow: one (a call, or a tap of one direction) or
    /// both (a tap of both, sent as two-channel frames).
    pub tracks: Vec<Track>,
    /// Strings by name, in order.
    pub custom_parameters: Vec<(String, String)>,
}

/// `prefix` and 32 hex digits, as Twilio's IDs are written.
pub fn sid(prefix: &str, bytes: &[u8; 16]) -> String {
    format!("{prefix}{}", data_encoding::HEXLOWER.encode(bytes))
}

#[derive(Serialize)]
struct MediaFormat {
    encoding: &'static str,
    #[serde(rename = "sampleRate")]
    sample_rate: u32,
    channels: u32,
}

/// Builds Twilio's messages, in Twilio's field names.
mod out {
    use serde::Serialize;

    #[derive(Serialize)]
    pub struct Connected {
        pub event: &'static str,
        pub protocol: &'static str,
        pub version: &'static str,
    }

    #[derive(Serialize)]
    pub struct Start<'a> {
        pub event: &'static str,
        #[serde(rename = "sequenceNumber")]
        pub sequence_number: String,
        pub start: StartBody<'a>,
        #[serde(rename = "streamSid")]
        pub stream_sid: &'a str,
    }

    #[derive(Serialize)]
    pub struct StartBody<'a> {
        #[serde(rename = "accountSid")]
        pub account_sid: &'a str,
        #[serde(rename = "streamSid")]
        pub stream_sid: &'a str,
        #[serde(rename = "callSid")]
        pub call_sid: &'a str,
        pub tracks: Vec<&'static str>,
        #[serde(rename = "customParameters")]
        pub custom_parameters: serde_json::Map<String, serde_json::Value>,
        #[serde(rename = "mediaFormat")]
        pub media_format: super::MediaFormat,
    }

    #[derive(Serialize)]
    pub struct Media<'a> {
        pub event: &'static str,
        #[serde(rename = "sequenceNumber")]
        pub sequence_number: String,
        pub media: MediaBody,
        #[serde(rename = "streamSid")]
        pub stream_sid: &'a str,
    }

    #[derive(Serialize)]
    pub struct MediaBody {
        pub track: &'static str,
        pub chunk: String,
        pub timestamp: String,
        pub payload: String,
    }

    #[derive(Serialize)]
    pub struct Dtmf<'a> {
        pub event: &'static str,
        #[serde(rename = "streamSid")]
        pub stream_sid: &'a str,
        #[serde(rename = "sequenceNumber")]
        pub sequence_number: String,
        pub dtmf: DtmfBody,
    }

    #[derive(Serialize)]
    pub struct DtmfBody {
        pub track: &'static str,
        pub digit: String,
    }

    #[derive(Serialize)]
    pub struct Mark<'a> {
        pub event: &'static str,
        #[serde(rename = "sequenceNumber")]
        pub sequence_number: String,
        #[serde(rename = "streamSid")]
        pub stream_sid: &'a str,
        pub mark: MarkBody,
    }

    #[derive(Serialize)]
    pub struct MarkBody {
        pub name: String,
    }

    #[derive(Serialize)]
    pub struct Stop<'a> {
        pub event: &'static str,
        #[serde(rename = "sequenceNumber")]
        pub sequence_number: String,
        #[serde(rename = "streamSid")]
        pub stream_sid: &'a str,
        pub stop: StopBody<'a>,
    }

    #[derive(Serialize)]
    pub struct StopBody<'a> {
        #[serde(rename = "accountSid")]
        pub account_sid: &'a str,
        #[serde(rename = "callSid")]
        pub call_sid: &'a str,
    }
}

/// What the module says to a Twilio bot.
pub struct Speaker {
    info: StreamInfo,
    /// The track a mono audio message belongs to.
    mono: Track,
    sequence: u64,
    /// Media chunks sent, per track.
    chunks: [u64; 2],
    started: Option<Instant>,
    scratch: Vec<u8>,
}

impl Speaker {
    pub fn new(info: StreamInfo) -> Speaker {
        let mono = if info.tracks == [Track::Outbound] {
            Track::Outbound
        } else {
            Track::Inbound
        };
        Speaker {
            info,
            mono,
            sequence: 0,
            chunks: [0; 2],
            started: None,
            scratch: Vec::new(),
        }
    }

    fn next(&mut self) -> String {
        self.sequence += 1;
        self.sequence.to_string()
    }

    /// Twilio's messages for `msgs`, whole AudioSocket messages as the
    /// session writes them (8 kHz audio), each appended to `out` as one
    /// JSON text.
    pub fn translate(&mut self, mut msgs: &[u8], out: &mut Vec<String>) {
        while msgs.len() >= HEADER_LEN {
            let len = usize::from(u16::from_be_bytes([msgs[1], msgs[2]]));
            let Some(payload) = msgs.get(HEADER_LEN..HEADER_LEN + len) else {
                return;
            };
            self.one(msgs[0], payload, out);
            msgs = &msgs[HEADER_LEN + len..];
        }
    }

    fn one(&mut self, kind: u8, payload: &[u8], out: &mut Vec<String>) {
        match kind {
            KIND_UUID => {
                self.started = Some(Instant::now());
                out.push(to_json(&out::Connected {
                    event: "connected",
                    protocol: "Call",
                    version: "1.0.0",
                }));
                let sequence_number = self.next();
                let info = &self.info;
                out.push(to_json(&out::Start {
                    event: "start",
                    sequence_number,
                    start: out::StartBody {
                        account_sid: &info.account_sid,
                        stream_sid: &info.stream_sid,
                        call_sid: &info.call_sid,
                        tracks: info.tracks.iter().map(|t| t.name()).collect(),
                        custom_parameters: info
                            .custom_parameters
                            .iter()
                            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                            .collect(),
                        media_format: MediaFormat {
                            encoding: "audio/x-mulaw",
                            sample_rate: 8000,
                            channels: 1,
                        },
                    },
                    stream_sid: &info.stream_sid,
                }));
            }
            k if k == Rate::Hz8000.kind() => self.media(self.mono, payload, out),
            KIND_STEREO => {
                // Left: what the party says; right: what it hears.
                let mut sides = [Vec::new(), Vec::new()];
                for (i, s) in payload.chunks_exact(2).enumerate() {
                    sides[i % 2].extend_from_slice(s);
                }
                let [left, right] = sides;
                self.media(Track::Inbound, &left, out);
                self.media(Track::Outbound, &right, out);
            }
            KIND_DTMF => {
                let sequence_number = self.next();
                out.push(to_json(&out::Dtmf {
                    event: "dtmf",
                    stream_sid: &self.info.stream_sid,
                    sequence_number,
                    dtmf: out::DtmfBody {
                        track: "inbound_track",
                        digit: String::from_utf8_lossy(payload).into_owned(),
                    },
                }));
            }
            KIND_MARK => {
                let sequence_number = self.next();
                out.push(to_json(&out::Mark {
                    event: "mark",
                    sequence_number,
                    stream_sid: &self.info.stream_sid,
                    mark: out::MarkBody {
                        name: String::from_utf8_lossy(payload).into_owned(),
                    },
                }));
            }
            KIND_HANGUP => {
                let sequence_number = self.next();
                out.push(to_json(&out::Stop {
                    event: "stop",
                    sequence_number,
                    stream_sid: &self.info.stream_sid,
                    stop: out::StopBody {
                        account_sid: &self.info.account_sid,
                        call_sid: &self.info.call_sid,
                    },
                }));
            }
            // The context goes into `start`; a drained report has no word
            // in this dialect.
            _ => {}
        }
    }

    fn media(&mut self, track: Track, pcm: &[u8], out: &mut Vec<String>) {
        if pcm.is_empty() {
            return;
        }
        self.scratch.clear();
        mulaw::encode_pcm(pcm, &mut self.scratch);
        let chunk = &mut self.chunks[track as usize];
        *chunk += 1;
        let chunk = chunk.to_string();
        let timestamp = self
            .started
            .map_or(0, |t| t.elapsed().as_millis())
            .to_string();
        let sequence_number = self.next();
        out.push(to_json(&out::Media {
            event: "media",
            sequence_number,
            media: out::MediaBody {
                track: track.name(),
                chunk,
                timestamp,
                payload: BASE64.encode(&self.scratch),
            },
            stream_sid: &self.info.stream_sid,
        }));
    }
}

/// One message as JSON text.
fn to_json(v: &impl Serialize) -> String {
    // Structs of strings and numbers always serialize.
    serde_json::to_string(v).unwrap_or_default()
}

/// Why a message from a Twilio bot was skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unheard {
    /// Not JSON, or not an object with an `event`.
    BadJson(String),
    /// An event this dialect does not take from a bot.
    UnknownEvent(String),
    /// A `media` whose payload is not base64, or a `mark` without a name.
    BadField(String),
}

impl std::fmt::Display for Unheard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unheard::BadJson(why) => write!(f, "a message that is not a Twilio event ({why})"),
            Unheard::UnknownEvent(e) => write!(f, "an event this call does not take ('{e}')"),
            Unheard::BadField(why) => write!(f, "{why}"),
        }
    }
}

/// What one of a Twilio bot's messages was: audio (dropped by a later
/// `clear` while it waits), or a mark or a `clear` (never dropped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Said {
    Audio,
    Mark,
    Clear,
}

/// What a Twilio bot says, as AudioSocket messages.
#[derive(Default)]
pub struct Listener {
    pcm: Vec<u8>,
}

impl Listener {
    /// Appends to `out` the AudioSocket messages for one text message;
    /// what it was.
    pub fn translate(&mut self, text: &str, out: &mut Vec<u8>) -> Result<Said, Unheard> {
        let v: Value = serde_json::from_str(text).map_err(|e| Unheard::BadJson(e.to_string()))?;
        let event = v
            .get("event")
            .and_then(Value::as_str)
            .ok_or_else(|| Unheard::BadJson("no \"event\"".into()))?;
        match event {
            "media" => {
                let payload = v
                    .pointer("/media/payload")
                    .and_then(Value::as_str)
                    .ok_or_else(|| Unheard::BadField("a media event without a payload".into()))?;
                let ulaw = BASE64.decode(payload.as_bytes()).map_err(|e| {
                    Unheard::BadField(format!("a media payload that is not base64 ({e})"))
                })?;
                self.pcm.clear();
                mulaw::decode_to_pcm(&ulaw, &mut self.pcm);
                // Whole samples, in messages a length field can announce.
                for part in self.pcm.chunks(MAX_PAYLOAD - 1) {
                    message(out, Rate::Hz8000.kind(), part);
                }
                Ok(Said::Audio)
            }
            "mark" => {
                let name = v
                    .pointer("/mark/name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| Unheard::BadField("a mark event without a name".into()))?;
                message(out, KIND_MARK, name.as_bytes());
                Ok(Said::Mark)
            }
            "clear" => {
                message(out, KIND_FLUSH, &[]);
                Ok(Said::Clear)
            }
            other => Err(Unheard::UnknownEvent(
                other.chars().take(32).collect::<String>(),
            )),
        }
    }
}

fn message(out: &mut Vec<u8>, kind: u8, payload: &[u8]) {
    let len = payload.len().min(MAX_PAYLOAD);
    out.push(kind);
    out.extend_from_slice(&(len as u16).to_be_bytes());
    out.extend_from_slice(&payload[..len]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{encode_audio, encode_dtmf, encode_hangup, encode_mark, encode_uuid};

    fn info(tracks: Vec<Track>) -> StreamInfo {
        StreamInfo {
            stream_sid: sid("MZ", &[0x11; 16]),
            call_sid: sid("CA", &[0x22; 16]),
            account_sid: sid("AC", &[0; 16]),
            tracks,
            custom_parameters: vec![
                ("caller_id_num".into(), "+4930123".into()),
                ("BOT_LANG".into(), "de".into()),
            ],
        }
    }

    fn parse(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn a_call_speaks_twilio_from_connected_to_stop() {
        let mut sp = Speaker::new(info(vec![Track::Inbound]));
        let mut wire = Vec::new();
        encode_uuid(&mut wire, &[7; 16]);
        let mut out = Vec::new();
        sp.translate(&wire, &mut out);
        assert_eq!(
            parse(&out[0]),
            serde_json::json!({"event":"connected","protocol":"Call","version":"1.0.0"})
        );
        let start = parse(&out[1]);
        assert_eq!(start["event"], "start");
        assert_eq!(start["sequenceNumber"], "1");
        assert_eq!(start["streamSid"], format!("MZ{}", "11".repeat(16)));
        assert_eq!(start["start"]["callSid"], format!("CA{}", "22".repeat(16)));
        assert_eq!(
            start["start"]["accountSid"],
            format!("AC{}", "00".repeat(16))
        );
        assert_eq!(start["start"]["tracks"], serde_json::json!(["inbound"]));
        assert_eq!(
            start["start"]["mediaFormat"],
            serde_json::json!({"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1})
        );
        assert_eq!(
            start["start"]["customParameters"],
            serde_json::json!({"caller_id_num":"+4930123","BOT_LANG":"de"})
        );

        let mut wire = Vec::new();
        let pcm: Vec<u8> = (0..160i16).flat_map(|i| (i * 100).to_le_bytes()).collect();
        encode_audio(&mut wire, Rate::Hz8000, &pcm);
        encode_audio(&mut wire, Rate::Hz8000, &pcm);
        encode_dtmf(&mut wire, b'5');
        encode_mark(&mut wire, b"turn-1");
        encode_hangup(&mut wire);
        out.clear();
        sp.translate(&wire, &mut out);
        let msgs: Vec<Value> = out.iter().map(|s| parse(s)).collect();
        assert_eq!(msgs.len(), 5);
        let media = &msgs[0];
        assert_eq!(media["event"], "media");
        assert_eq!(media["sequenceNumber"], "2");
        assert_eq!(media["media"]["track"], "inbound");
        assert_eq!(media["media"]["chunk"], "1");
        assert_eq!(msgs[1]["media"]["chunk"], "2");
        assert!(media["media"]["timestamp"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .is_ok());
        let ulaw = BASE64
            .decode(media["media"]["payload"].as_str().unwrap().as_bytes())
            .unwrap();
        assert_eq!(ulaw.len(), 160);
        assert_eq!(ulaw[10], mulaw::encode(1000));
        assert_eq!(msgs[2]["event"], "dtmf");
        assert_eq!(
            msgs[2]["dtmf"],
            serde_json::json!({"track":"inbound_track","digit":"5"})
        );
        assert_eq!(msgs[3]["event"], "mark");
        assert_eq!(msgs[3]["mark"]["name"], "turn-1");
        assert_eq!(msgs[4]["event"], "stop");
        assert_eq!(msgs[4]["sequenceNumber"], "6");
        assert_eq!(msgs[4]["stop"]["callSid"], format!("CA{}", "22".repeat(16)));
    }

    #[test]
    fn a_tap_of_both_sides_sends_each_track_in_its_own_messages() {
        let mut sp = Speaker::new(info(vec![Track::Inbound, Track::Outbound]));
        let mut wire = Vec::new();
        // Left 1000, right -1000, interleaved.
        let pcm: Vec<u8> = (0..320)
            .flat_map(|i| if i % 2 == 0 { 1000i16 } else { -1000 }.to_le_bytes())
            .collect();
        wire.push(KIND_STEREO);
        wire.extend_from_slice(&(pcm.len() as u16).to_be_bytes());
        wire.extend_from_slice(&pcm);
        let mut out = Vec::new();
        sp.translate(&wire, &mut out);
        let msgs: Vec<Value> = out.iter().map(|s| parse(s)).collect();
        assert_eq!(msgs.len(), 2);
        for (m, track, sample) in [(&msgs[0], "inbound", 1000), (&msgs[1], "outbound", -1000)] {
            assert_eq!(m["media"]["track"], track);
            let ulaw = BASE64
                .decode(m["media"]["payload"].as_str().unwrap().as_bytes())
                .unwrap();
            assert_eq!(ulaw, vec![mulaw::encode(sample); 160]);
        }
        let out_only = Speaker::new(info(vec![Track::Outbound]));
        assert_eq!(out_only.mono, Track::Outbound);
    }

    #[test]
    fn a_bots_media_marks_and_clear_become_audiosocket_messages() {
        let mut l = Listener::default();
        let ulaw = vec![mulaw::encode(1000); 4000];
        let text = format!(
            r#"{{"event":"media","streamSid":"MZx","media":{{"payload":"{}"}}}}"#,
            BASE64.encode(&ulaw)
        );
        let mut out = Vec::new();
        assert_eq!(l.translate(&text, &mut out), Ok(Said::Audio));
        assert_eq!(out[0], 0x10);
        assert_eq!(u16::from_be_bytes([out[1], out[2]]), 8000);
        let sample = i16::from_le_bytes([out[3], out[4]]);
        assert_eq!(sample, mulaw::decode(mulaw::encode(1000)));
        out.clear();
        let said = l.translate(
            r#"{"event":"mark","streamSid":"MZx","mark":{"name":"m1"}}"#,
            &mut out,
        );
        assert_eq!(said, Ok(Said::Mark));
        let said = l.translate(r#"{"event":"clear","streamSid":"MZx"}"#, &mut out);
        assert_eq!(said, Ok(Said::Clear));
        assert_eq!(out, [0x21, 0, 2, b'm', b'1', 0x20, 0, 0]);
        // Long media: whole samples in each message.
        let long = vec![0xffu8; 40_000];
        out.clear();
        l.translate(
            &format!(
                r#"{{"event":"media","media":{{"payload":"{}"}}}}"#,
                BASE64.encode(&long)
            ),
            &mut out,
        )
        .unwrap();
        let first = usize::from(u16::from_be_bytes([out[1], out[2]]));
        assert_eq!(first % 2, 0);
        assert_eq!(out.len(), 2 * HEADER_LEN + 80_000);
    }

    #[test]
    fn what_a_bot_gets_wrong_is_named() {
        let mut l = Listener::default();
        let mut out = Vec::new();
        for (text, want) in [
            ("not json", "not a Twilio event"),
            ("[1,2]", "no \"event\""),
            (r#"{"event":"dance"}"#, "'dance'"),
            (r#"{"event":"media","media":{}}"#, "without a payload"),
            (
                r#"{"event":"media","media":{"payload":"@@@"}}"#,
                "not base64",
            ),
            (r#"{"event":"mark","mark":{}}"#, "without a name"),
        ] {
            let e = l.translate(text, &mut out).unwrap_err();
            assert!(e.to_string().contains(want), "{text}: {e}");
        }
        assert!(out.is_empty());
    }
}
