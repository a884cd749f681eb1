//! A configuration file as Asterisk's parser hands it over (sections of
//! `name = value` lines, templates applied), and the words its values use.

/// One `name = value` line as the parser found it.
pub struct Entry {
    pub name: String,
    pub value: String,
    pub line: u32,
}

/// One `[section]` as the parser found it, templates applied.
pub struct Section {
    pub name: String,
    pub entries: Vec<Entry>,
}

/// Asterisk's booleans (ast_true and ast_false).
pub fn yes_no(v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "y" | "t" | "1" | "on" => Ok(true),
        "no" | "false" | "n" | "f" | "0" | "off" => Ok(false),
        _ => Err(format!("'{v}' is neither yes nor no")),
    }
}

/// A section whose entries are on consecutive lines from `first`.
#[cfg(test)]
pub(crate) fn test_section(name: &str, first: u32, entries: &[(&str, &str)]) -> Section {
    Section {
        name: name.into(),
        entries: entries
            .iter()
            .enumerate()
            .map(|(i, (n, v))| Entry {
                name: n.to_string(),
                value: v.to_string(),
                line: first + i as u32,
            })
            .collect(),
    }
}
