//! The call's context for the server (`0x23`, option `m`): one JSON
//! object, written by serde_json, so that whatever the dialplan put in the
//! values comes out escaped as RFC 8259 asks.

use serde::ser::{SerializeMap, Serializer};

use crate::protocol::MAX_PAYLOAD;

/// What the server learns of the call.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CallContext {
    pub channel: String,
    pub uniqueid: String,
    pub linkedid: String,
    pub caller_id_num: String,
    pub caller_id_name: String,
    pub exten: String,
    pub context: String,
    pub language: String,
    /// Hz of the audio that follows.
    pub rate: u32,
    /// A tap: what it streams.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<&'static str>,
    /// Each variable `m(...)` named, with its value (None: not set), in
    /// the order named.
    #[serde(serialize_with = "in_order")]
    pub variables: Vec<(String, Option<String>)>,
}

/// A JSON object of the pairs, in their order.
fn in_order<S: Serializer>(pairs: &[(String, Option<String>)], s: S) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(pairs.len()))?;
    for (name, value) in pairs {
        map.serialize_entry(name, value)?;
    }
    map.end()
}

impl CallContext {
    /// The JSON object, and the variables whose values were left out
    /// (null) so that it fits one message.
    pub fn to_json(&self) -> (Vec<u8>, Vec<String>) {
        let mut ctx = self.clone();
        let mut dropped = Vec::new();
        loop {
            let json = ctx.render();
            if json.len() <= MAX_PAYLOAD {
                return (json, dropped);
            }
            // The longest value goes first.
            let Some(longest) = ctx
                .variables
                .iter_mut()
                .filter(|(_, v)| v.is_some())
                .max_by_key(|(_, v)| v.as_ref().map_or(0, String::len))
            else {
                return (json, dropped);
            };
            dropped.push(longest.0.clone());
            longest.1 = None;
        }
    }

    /// Its members as strings, in order (the variables set, by their
    /// names), for a dialect whose context is a set of named strings.
    pub fn as_strings(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = [
            ("channel", &self.channel),
            ("uniqueid", &self.uniqueid),
            ("linkedid", &self.linkedid),
            ("caller_id_num", &self.caller_id_num),
            ("caller_id_name", &self.caller_id_name),
            ("exten", &self.exten),
            ("context", &self.context),
            ("language", &self.language),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
        out.push(("rate".into(), self.rate.to_string()));
        if let Some(d) = self.direction {
            out.push(("direction".into(), d.to_string()));
        }
        out.extend(
            self.variables
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.clone()?))),
        );
        out
    }

    fn render(&self) -> Vec<u8> {
        // Strings, numbers and maps of strings always serialize.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CallContext {
        CallContext {
            channel: "PJSIP/alice-00000001".into(),
            uniqueid: "1700000000.1".into(),
            linkedid: "1700000000.0".into(),
            caller_id_num: "+4930123".into(),
            caller_id_name: "Alice".into(),
            exten: "200".into(),
            context: "bot".into(),
            language: "en".into(),
            rate: 16000,
            variables: vec![
                ("ACCOUNT".into(), Some("42".into())),
                ("MISSING".into(), None),
            ],
            direction: None,
        }
    }

    #[test]
    fn the_context_is_one_json_object_in_a_fixed_order() {
        let (json, dropped) = sample().to_json();
        assert!(dropped.is_empty());
        assert_eq!(
            String::from_utf8(json).unwrap(),
            r#"{"channel":"PJSIP/alice-00000001","uniqueid":"1700000000.1","linkedid":"1700000000.0","caller_id_num":"+4930123","caller_id_name":"Alice","exten":"200","context":"bot","language":"en","rate":16000,"variables":{"ACCOUNT":"42","MISSING":null}}"#
        );
        let tap = CallContext {
            direction: Some("stereo"),
            variables: vec![],
            ..sample()
        };
        let json = String::from_utf8(tap.to_json().0).unwrap();
        assert!(
            json.ends_with(r#""rate":16000,"direction":"stereo","variables":{}}"#),
            "{json}"
        );
    }

    #[test]
    fn hostile_values_are_escaped_and_never_break_the_object() {
        let c = CallContext {
            caller_id_name: "O\"Brien \\ Ünal\n\r\t\u{1}\u{7f}\u{2028}😀".into(),
            variables: vec![("Q".into(), Some("\",\"rate\":1}".into()))],
            ..sample()
        };
        let json = String::from_utf8(c.to_json().0).unwrap();
        assert!(
            json.contains(r#""caller_id_name":"O\"Brien \\ Ünal\n\r\t\u0001"#),
            "{json}"
        );
        assert!(json.contains(r#""Q":"\",\"rate\":1}""#), "{json}");
        assert!(!json.chars().any(|c| (c as u32) < 0x20), "{json:?}");
        // Whatever was in them, the values come back as they were.
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["caller_id_name"], c.caller_id_name.as_str());
        assert_eq!(v["variables"]["Q"], "\",\"rate\":1}");
        assert_eq!(v["rate"], 16000);
    }

    #[test]
    fn values_too_long_for_one_message_are_left_out_longest_first() {
        let c = CallContext {
            variables: vec![
                ("BIG".into(), Some("x".repeat(50_000))),
                ("BIGGER".into(), Some("y".repeat(60_000))),
                ("SMALL".into(), Some("z".into())),
            ],
            ..sample()
        };
        let (json, dropped) = c.to_json();
        assert!(json.len() <= MAX_PAYLOAD);
        assert_eq!(dropped, vec!["BIGGER".to_string()]);
        let json = String::from_utf8(json).unwrap();
        assert!(json.contains(r#""BIGGER":null"#) && json.contains(r#""SMALL":"z""#));
    }
}
