//! The call's context for the server (`0x23`, option `m`): one JSON
//! object, written here by hand (the module has no JSON library) and
//! escaped as RFC 8259 asks, whatever the dialplan put in the values.

use crate::protocol::MAX_PAYLOAD;

/// What the server learns of the call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
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
    /// Each variable `m(...)` named, with its value (None: not set).
    pub variables: Vec<(String, Option<String>)>,
    /// A tap: what it streams.
    pub direction: Option<&'static str>,
}

impl CallContext {
    /// The JSON object, and the variables whose values were left out
    /// (null) so that it fits one message.
    pub fn to_json(&self) -> (Vec<u8>, Vec<String>) {
        let mut variables = self.variables.clone();
        let mut dropped = Vec::new();
        loop {
            let json = self.render(&variables);
            if json.len() <= MAX_PAYLOAD {
                return (json.into_bytes(), dropped);
            }
            // The longest value goes first.
            let Some(longest) = variables
                .iter_mut()
                .filter(|(_, v)| v.is_some())
                .max_by_key(|(_, v)| v.as_ref().map_or(0, String::len))
            else {
                return (json.into_bytes(), dropped);
            };
            dropped.push(longest.0.clone());
            longest.1 = None;
        }
    }

    fn render(&self, variables: &[(String, Option<String>)]) -> String {
        let mut o = String::from("{");
        let fields = [
            ("channel", &self.channel),
            ("uniqueid", &self.uniqueid),
            ("linkedid", &self.linkedid),
            ("caller_id_num", &self.caller_id_num),
            ("caller_id_name", &self.caller_id_name),
            ("exten", &self.exten),
            ("context", &self.context),
            ("language", &self.language),
        ];
        for (name, value) in fields {
            member(&mut o, name);
            string(&mut o, value);
        }
        member(&mut o, "rate");
        o.push_str(&self.rate.to_string());
        if let Some(direction) = self.direction {
            member(&mut o, "direction");
            string(&mut o, direction);
        }
        member(&mut o, "variables");
        o.push('{');
        for (i, (name, value)) in variables.iter().enumerate() {
            if i > 0 {
                o.push(',');
            }
            string(&mut o, name);
            o.push(':');
            match value {
                Some(v) => string(&mut o, v),
                None => o.push_str("null"),
            }
        }
        o.push_str("}}");
        o
    }
}

fn member(o: &mut String, name: &str) {
    if !o.ends_with('{') {
        o.push(',');
    }
    string(o, name);
    o.push(':');
}

/// A JSON string: quotes, backslashes and control characters escaped;
/// everything else as UTF-8.
fn string(o: &mut String, s: &str) {
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{2028}' || c == '\u{2029}' => {
                o.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => o.push(c),
        }
    }
    o.push('"');
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
            json.contains(r#""caller_id_name":"O\"Brien \\ Ünal\n\r\t\u0001\u007f\u2028😀""#),
            "{json}"
        );
        assert!(json.contains(r#""Q":"\",\"rate\":1}""#), "{json}");
        assert!(!json.chars().any(|c| (c as u32) < 0x20), "{json:?}");
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
