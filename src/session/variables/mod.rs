//! What a server may set on its call's channel (`0x24`): a plain variable
//! the dialplan reads after the call, never a dialplan function (`CDR()`,
//! `CHANNEL()`), never one other channels inherit (a leading underscore),
//! never one Asterisk acts on (`reserved.rs`), only names the dialplan or
//! audiosocket.conf allowed (a [`VariablePolicy`]), and only so much of it.

mod reserved;

pub use reserved::reserved;

/// The longest variable name a server may set.
pub const MAX_NAME: usize = 64;
/// The longest value, in bytes of UTF-8.
pub const MAX_VALUE: usize = 1024;
/// Distinct variables one call's server may set; a name set before may be
/// set again (within [`UPDATES_PER_SECOND`]).
pub const MAX_VARIABLES: usize = 64;
/// Sets a second a server may make, on average, in bursts of
/// [`MAX_VARIABLES`]; more are dropped.
pub const UPDATES_PER_SECOND: u32 = 10;
/// Names and globs one allowlist may hold.
pub const MAX_PATTERNS: usize = 32;

/// The names a server may set: exact names and globs (`BOT_*`), never one
/// [`reserved`] names, whatever a glob says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VariablePolicy {
    patterns: Vec<String>,
}

impl VariablePolicy {
    /// Nothing may be set.
    pub fn none() -> VariablePolicy {
        VariablePolicy::default()
    }

    /// The allowlist `list`, its entries separated by `sep` (`^` in a
    /// dialplan option, `,` in audiosocket.conf); Err says which entry is
    /// wrong and why.
    pub fn parse(list: &str, sep: char) -> Result<VariablePolicy, String> {
        let patterns: Vec<String> = list
            .split(sep)
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(String::from)
            .collect();
        if patterns.len() > MAX_PATTERNS {
            return Err(format!("at most {MAX_PATTERNS} names or patterns"));
        }
        for p in &patterns {
            let mut chars = p.chars();
            let well_formed = chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '*')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '*')
                && p.len() <= MAX_NAME;
            if !well_formed {
                return Err(format!(
                    "'{}' is not a variable name or pattern (a letter, then letters, digits, \
                     '_', and '*' for any characters)",
                    printable(p)
                ));
            }
            if !p.contains('*') {
                if let Some(source) = reserved(p) {
                    return Err(format!(
                        "{p} is a variable Asterisk acts on ({source}); a server may never set it"
                    ));
                }
            }
        }
        Ok(VariablePolicy { patterns })
    }

    /// The allowlist as given, for the log.
    pub fn describe(&self) -> String {
        if self.patterns.is_empty() {
            "nothing".into()
        } else {
            self.patterns.join(", ")
        }
    }

    /// Whether `name` (a well-formed name) may be set; Err says why not.
    pub fn allows(&self, name: &str) -> Result<(), String> {
        if let Some(source) = reserved(name) {
            return Err(format!(
                "named {name}, which Asterisk acts on ({source}): never settable"
            ));
        }
        if self.patterns.iter().any(|p| glob(p, name)) {
            return Ok(());
        }
        Err(format!(
            "named {name}, which the call does not allow (it allows {})",
            self.describe()
        ))
    }
}

/// Whether `name` matches `pattern`, where `*` stands for any characters.
fn glob(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

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
    fn globs_match_as_shells_do() {
        for (pattern, name, want) in [
            ("BOT_*", "BOT_RESULT", true),
            ("BOT_*", "BOT_", true),
            ("BOT_*", "ROBOT_X", false),
            ("*_RESULT", "BOT_RESULT", true),
            ("*", "ANYTHING", true),
            ("A*B*C", "AxxBxxC", true),
            ("A*B*C", "AxxCxxB", false),
            ("A*A", "A", false),
            ("EXACT", "EXACT", true),
            ("EXACT", "EXACTLY", false),
        ] {
            assert_eq!(glob(pattern, name), want, "{pattern} {name}");
        }
    }

    #[test]
    fn a_policy_allows_its_names_and_never_what_asterisk_acts_on() {
        let p = VariablePolicy::parse("BOT_*^RESULT", '^').unwrap();
        assert_eq!(p.allows("BOT_TARGET"), Ok(()));
        assert_eq!(p.allows("RESULT"), Ok(()));
        let e = p.allows("TRANSFER_CONTEXT").unwrap_err();
        assert!(
            e.contains("TRANSFER_CONTEXT, which Asterisk acts on (main/bridge_basic.c"),
            "{e}"
        );
        let e = p.allows("GREETING").unwrap_err();
        assert!(
            e.contains("GREETING, which the call does not allow (it allows BOT_*, RESULT)"),
            "{e}"
        );
        // Everything, as far as a glob goes: the reserved names stay out.
        let all = VariablePolicy::parse("*", ',').unwrap();
        for name in [
            "BRIDGE_FEATURES",
            "TRANSFER_CONTEXT",
            "DYNAMIC_FEATURES",
            "FORWARD_CONTEXT",
            "OUTBOUND_GROUP",
            "DIALSTATUS",
            "GOSUB_RETVAL",
            "AUDIOSOCKET_STATUS",
            "AUDIOSOCKET_ERROR_CODE",
            "dialstatus",
            "ARG1",
            "MACRO_EXTEN",
        ] {
            assert!(all.allows(name).is_err(), "{name}");
        }
        for name in ["BOT_RESULT", "ARGUMENT", "MY_DIALSTATUS", "TRANSFER_TARGET"] {
            assert_eq!(all.allows(name), Ok(()), "{name}");
        }
        assert!(VariablePolicy::none().allows("BOT_RESULT").is_err());
    }

    #[test]
    fn an_allowlist_that_names_a_reserved_variable_or_no_name_is_refused() {
        let e = VariablePolicy::parse("BOT_*^DIALSTATUS", '^').unwrap_err();
        assert!(
            e.contains("DIALSTATUS is a variable Asterisk acts on (apps/app_dial.c"),
            "{e}"
        );
        let e = VariablePolicy::parse("BOT-X", ',').unwrap_err();
        assert!(
            e.contains("'BOT-X' is not a variable name or pattern"),
            "{e}"
        );
        let e = VariablePolicy::parse("CDR(x)", ',').unwrap_err();
        assert!(e.contains("'CDR(x)'"), "{e}");
        let many = (0..=MAX_PATTERNS)
            .map(|i| format!("V{i}"))
            .collect::<Vec<_>>()
            .join(",");
        assert!(VariablePolicy::parse(&many, ',').is_err());
        assert_eq!(
            VariablePolicy::parse(" , ", ','),
            Ok(VariablePolicy::none())
        );
    }

    #[test]
    fn the_reserved_list_has_no_name_twice_and_only_names() {
        let mut seen = std::collections::HashSet::new();
        for (name, source) in reserved::NAMES {
            assert!(seen.insert(*name), "{name} twice");
            assert!(name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'));
            assert!(!source.is_empty());
        }
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
