//! The project's own Asterisk declarations must describe the same ABI as an
//! installed Asterisk's headers: every struct the module touches has the
//! same size and field offsets, and every constant the same value.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn real_headers() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("ASTERISK_INCLUDE_DIR") {
        return Some(PathBuf::from(dir));
    }
    let installed = common::asterisk::installed("header_layout")?;
    let dir = installed.prefix.join("include");
    if dir.join("asterisk.h").is_file() {
        Some(dir)
    } else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED header_layout: {} has no headers (make install-headers, or set ASTERISK_INCLUDE_DIR)",
            installed.prefix.display()
        );
        None
    }
}

fn layout(headers: &Path, out: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(cc)
        .args([
            "-D_GNU_SOURCE",
            "-DAST_MODULE_SELF_SYM=__internal_layout_self",
            "-I",
        ])
        .arg(headers)
        .arg("-o")
        .arg(out)
        .arg(root.join("tests/layout/layout.c"))
        .status()
        .expect("run the C compiler");
    assert!(
        status.success(),
        "layout.c does not compile against {}",
        headers.display()
    );
    let run = Command::new(out).output().unwrap();
    assert!(run.status.success());
    String::from_utf8(run.stdout).unwrap()
}

#[test]
fn own_declarations_match_the_installed_headers() {
    let Some(real) = real_headers() else { return };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = std::env::temp_dir().join(format!("ars-layout-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let ours = layout(&root.join("asterisk-headers"), &tmp.join("ours"));
    let theirs = layout(&real, &tmp.join("theirs"));
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(ours.lines().count() > 90, "{ours}");
    let diff: Vec<String> = ours
        .lines()
        .zip(theirs.lines())
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("ours: {a}\nreal: {b}"))
        .collect();
    assert!(
        diff.is_empty(),
        "declarations drifted from {}:\n{}",
        real.display(),
        diff.join("\n")
    );
    assert_eq!(ours.lines().count(), theirs.lines().count());
}
