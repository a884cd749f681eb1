//! What a server may set on its call's channel (`0x24`, option `m`): a
//! plain variable the dialplan reads after the call, never a dialplan
//! function (`CDR()`, `CHANNEL()`), never one other channels inherit
//! (a leading underscore), and only so much of it.

/// The longest variable name a server may set.
pub const MAX_NAME: usize = 64;
/// The longest value, in bytes of UTF-8.
pub const MAX_VALUE: usize = 1024;
/// Variables one call's server may set; more are ignored.
pub const MAX_VARIABLES: usize = 64;

/// `NAME=value` from a `0x24` payload, or why it cannot be set (to follow
/// "a variable ...").
pub fn parse_set_variable(payload: &[u8]) -> Result<(String, String), String> {
    let text = std::str::from_utf8(payload).map_err(|_| "that is not UTF-8".to_string())?;
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| "without '=' (expected NAME=value)".to_string())?;
    let mut chars = name.chars();
    let well_formed = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !well_formed {
        return Err(format!(
            "named '{}' (a name is a letter, then letters, digits or '_')",
            printable(name)
        ));
    }
    if name.len() > MAX_NAME {
        return Err(format!(
            "named {}... ({} characters; at most {MAX_NAME})",
            &name[..16],
            name.len()
        ));
    }
    if value.len() > MAX_VALUE {
        return Err(format!(
            "{name} of {} bytes (at most {MAX_VALUE})",
            value.len()
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{name} whose value holds control characters"));
    }
    Ok((name.to_string(), value.to_string()))
}

/// A short, single-line rendering of a name the server sent, for the log.
fn printable(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(32)
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if s.chars().count() > 32 {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_with_plain_values_are_accepted() {
        assert_eq!(
            parse_set_variable(b"BOT_RESULT=transfer"),
            Ok(("BOT_RESULT".into(), "transfer".into()))
        );
        assert_eq!(
            parse_set_variable("greeting=Grüß Gott = hi".as_bytes()),
            Ok(("greeting".into(), "Grüß Gott = hi".into()))
        );
        assert_eq!(
            parse_set_variable(b"EMPTY="),
            Ok(("EMPTY".into(), "".into()))
        );
        let longest = format!("{}={}", "N".repeat(MAX_NAME), "v".repeat(MAX_VALUE));
        assert!(parse_set_variable(longest.as_bytes()).is_ok());
    }

    #[test]
    fn what_could_steer_the_channel_is_refused_with_a_reason() {
        let long_name = format!("{}=1", "N".repeat(MAX_NAME + 1));
        let long_value = format!("V={}", "v".repeat(MAX_VALUE + 1));
        let cases: [(&[u8], &str); 10] = [
            (b"_INHERITED=1", "named '_INHERITED'"),
            (b"__FOREVER=1", "named '__FOREVER'"),
            (b"CDR(userfield)=x", "named 'CDR(userfield)'"),
            (b"CHANNEL(language)=de", "named 'CHANNEL(language)'"),
            (b"TWO WORDS=x", "named 'TWO WORDS'"),
            (b"9LIVES=x", "named '9LIVES'"),
            (b"NOEQUALS", "without '='"),
            (
                b"BAD=line\r\nInjected: yes",
                "BAD whose value holds control characters",
            ),
            (b"BIN=\xff\xfe", "not UTF-8"),
            (long_name.as_bytes(), "characters; at most 64"),
        ];
        for (payload, why) in cases {
            let e = parse_set_variable(payload).unwrap_err();
            assert!(
                e.contains(why),
                "{:?}: {e:?}",
                String::from_utf8_lossy(payload)
            );
        }
        let e = parse_set_variable(long_value.as_bytes()).unwrap_err();
        assert!(e.contains("V of 1025 bytes (at most 1024)"), "{e}");
        let e = parse_set_variable(b"A\nB=1").unwrap_err();
        assert!(
            e.contains("named 'A\\nB'"),
            "a name is logged on one line: {e}"
        );
    }
}
