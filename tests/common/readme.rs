//! README's code blocks, which the tests follow as written.

/// The code blocks of README's section `heading` (up to the next `##`):
/// each block's language and text.
pub fn blocks(heading: &str) -> Vec<(String, String)> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find(heading)
        .unwrap_or_else(|| panic!("README lacks {heading}"));
    let section = &readme[start + heading.len()..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    let mut out = Vec::new();
    let mut rest = section;
    while let Some(open) = rest.find("```") {
        let after = &rest[open + 3..];
        let lang_end = after.find('\n').unwrap();
        let body = &after[lang_end + 1..];
        let close = body.find("```").unwrap();
        out.push((after[..lang_end].to_string(), body[..close].to_string()));
        rest = &body[close + 3..];
    }
    out
}
