//! Where the built module runs: read from the binary, not assumed. The
//! highest glibc symbol version it needs is the floor README states (and
//! the package's dependency), and it needs no shared library beyond glibc
//! and libgcc_s, which every Debian and Ubuntu has.

mod common;

use std::process::Command;

use common::asterisk::{module_path, skip};

fn objdump(args: &[&str]) -> Option<String> {
    let module = module_path();
    let out = Command::new("objdump")
        .args(args)
        .arg(&module)
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// "2.34" → (2, 34).
fn version(v: &str) -> (u32, u32) {
    let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

#[test]
fn the_glibc_floor_is_the_one_readme_states() {
    let Some(symbols) = objdump(&["-T"]) else {
        skip(
            "glibc_floor",
            "objdump is not installed (Debian's binutils)",
        );
        return;
    };
    let floor = symbols
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter_map(|w| w.strip_prefix("GLIBC_"))
        .filter(|v| v.starts_with(|c: char| c.is_ascii_digit()))
        .max_by_key(|v| version(v))
        .expect("the module uses glibc")
        .to_string();
    let newest: Vec<&str> = symbols
        .lines()
        .filter(|l| l.contains(&format!("(GLIBC_{floor})")))
        .filter_map(|l| l.split_whitespace().last())
        .collect();
    eprintln!("glibc_floor: {floor}, for {}", newest.join(" "));
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(
        readme.contains(&format!("glibc {floor} or newer")),
        "README must say \"glibc {floor} or newer\": the module needs GLIBC_{floor} for {newest:?}"
    );
}

#[test]
fn it_needs_no_library_beyond_glibc_and_libgcc() {
    let Some(headers) = objdump(&["-p"]) else {
        skip("libraries", "objdump is not installed (Debian's binutils)");
        return;
    };
    let needed: Vec<&str> = headers
        .lines()
        .filter_map(|l| l.trim().strip_prefix("NEEDED"))
        .map(str::trim)
        .collect();
    for lib in &needed {
        assert!(
            [
                "libc.so.6",
                "libgcc_s.so.1",
                "ld-linux-x86-64.so.2",
                "ld-linux-aarch64.so.1"
            ]
            .contains(lib),
            "the module needs {lib} (all: {needed:?})"
        );
    }
}
