//! The layers a newcomer reads from the tree stay what README says: the
//! Asterisk boundary depends on nothing above it, the pure layers never
//! touch Asterisk, feature code writes no `unsafe`, and the files of the
//! session import each other one way only.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every .rs file under `dir`, with its text.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push((path.clone(), std::fs::read_to_string(&path).unwrap()));
        }
    }
    out
}

/// Lines that are code, not comments.
fn code(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim_start)
        .filter(|l| !l.starts_with("//"))
}

#[test]
fn the_asterisk_boundary_depends_on_nothing_above_it() {
    for (path, text) in sources(&src().join("asterisk")) {
        for layer in ["session", "call", "features", "protocol"] {
            let needle = format!("crate::{layer}");
            assert!(
                !code(&text).any(|l| l.contains(&needle)),
                "{} uses {needle}",
                path.display()
            );
        }
    }
}

#[test]
fn the_pure_layers_never_touch_asterisk() {
    for layer in ["protocol", "session", "call"] {
        for (path, text) in sources(&src().join(layer)) {
            for above in ["crate::asterisk", "crate::features"] {
                assert!(
                    !code(&text).any(|l| l.contains(above)),
                    "{} uses {above}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn feature_code_writes_no_unsafe() {
    for layer in ["features", "call", "protocol"] {
        for (path, text) in sources(&src().join(layer)) {
            assert!(
                !code(&text).any(|l| l.contains("unsafe")),
                "{} has unsafe code",
                path.display()
            );
        }
    }
}

#[test]
fn the_session_files_import_each_other_one_way() {
    let dir = src().join("session");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // What `prefix` names in `text`: the session files it imports.
    fn named_after(text: &str, prefix: &str) -> Vec<String> {
        code(text)
            .flat_map(|l| {
                l.split(prefix)
                    .skip(1)
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .map(|rest| {
                rest.chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect::<String>()
            })
            .collect()
    }
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let path = entry.path();
        let Some(name) = path.file_stem().and_then(|n| n.to_str()) else {
            continue;
        };
        // A folder (tls/) is one node: what its files import from the
        // session's other files.
        let (texts, up): (Vec<String>, &str) = if path.is_dir() {
            let files = std::fs::read_dir(&path).unwrap().flatten();
            let texts = files
                .map(|f| f.path())
                .filter(|f| f.extension().is_some_and(|e| e == "rs"))
                .map(|f| std::fs::read_to_string(f).unwrap())
                .collect();
            (texts, "super::super::")
        } else if path.extension().is_some_and(|e| e == "rs") && name != "mod" {
            (vec![std::fs::read_to_string(&path).unwrap()], "super::")
        } else {
            continue;
        };
        if name == "tests" {
            continue;
        }
        let deps = texts
            .iter()
            .flat_map(|t| {
                let mut d = named_after(t, up);
                d.extend(named_after(t, "crate::session::"));
                d
            })
            .filter(|d| !d.is_empty() && d != "super" && d != name)
            .collect();
        graph.insert(name.to_string(), deps);
    }
    assert!(graph.len() > 10, "{graph:?}");
    // Depth-first search for a circle.
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if done.contains(n) {
            return;
        }
        if let Some(at) = path.iter().position(|p| p == n) {
            panic!("import circle: {} -> {n}", path[at..].join(" -> "));
        }
        path.push(n.to_string());
        for d in graph.get(n).into_iter().flatten() {
            visit(d, graph, path, done);
        }
        path.pop();
        done.insert(n.to_string());
    }
    let mut done = BTreeSet::new();
    for n in graph.keys() {
        visit(n, &graph, &mut Vec::new(), &mut done);
    }
}
