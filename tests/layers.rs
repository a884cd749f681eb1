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

/// Every .rs file of `layer`, which must have some: a check over none
/// would pass for nothing.
fn layer_sources(layer: &str) -> Vec<(PathBuf, String)> {
    let files = sources(&src().join(layer));
    assert!(files.len() >= 3, "src/{layer} has {} files", files.len());
    files
}

#[test]
fn the_asterisk_boundary_depends_on_nothing_above_it() {
    for (path, text) in layer_sources("asterisk") {
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
        for (path, text) in layer_sources(layer) {
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
        for (path, text) in layer_sources(layer) {
            assert!(
                !code(&text).any(|l| l.contains("unsafe")),
                "{} has unsafe code",
                path.display()
            );
        }
    }
    // The same reading finds the boundary's unsafe code, which exists.
    assert!(layer_sources("asterisk")
        .iter()
        .any(|(_, text)| code(text).any(|l| l.contains("unsafe"))));
}

/// The sibling files (or folders) named in `text` after `prefix`:
/// `super::name`, `super::{a, b::c}`.
fn named_after(text: &str, prefix: &str) -> Vec<String> {
    let ident = |s: &str| {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect::<String>()
    };
    // A file's own tests may use what it serves.
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or(text);
    let code: String = code(text).collect::<Vec<_>>().join("\n");
    code.split(prefix)
        .skip(1)
        .flat_map(|rest| match rest.strip_prefix('{') {
            Some(inner) => inner[..inner.find('}').unwrap_or(inner.len())]
                .split(',')
                .map(ident)
                .collect(),
            None => vec![ident(rest)],
        })
        .collect()
}

type Graph = BTreeMap<String, BTreeSet<String>>;

/// Which files of the folder `dir` (a subfolder counts as one node)
/// import which.
fn graph_of(dir: &Path, layer: &str) -> Graph {
    let mut texts: BTreeMap<String, Vec<(String, &str)>> = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let Some(name) = path.file_stem().and_then(|n| n.to_str()) else {
            continue;
        };
        if name == "tests" || name == "mod" {
            continue;
        }
        // A folder's files name their siblings' with one more super::.
        let files: Vec<(String, &str)> = if path.is_dir() {
            std::fs::read_dir(&path)
                .unwrap()
                .flatten()
                .map(|f| f.path())
                .filter(|f| f.extension().is_some_and(|e| e == "rs"))
                .map(|f| (std::fs::read_to_string(f).unwrap(), "super::super::"))
                .collect()
        } else if path.extension().is_some_and(|e| e == "rs") {
            vec![(std::fs::read_to_string(&path).unwrap(), "super::")]
        } else {
            continue;
        };
        texts.insert(name.to_string(), files);
    }
    let nodes: BTreeSet<String> = texts.keys().cloned().collect();
    let within = format!("crate::{layer}::");
    texts
        .iter()
        .map(|(name, files)| {
            let deps = files
                .iter()
                .flat_map(|(t, up)| {
                    let mut d = named_after(t, up);
                    d.extend(named_after(t, &within));
                    d
                })
                .filter(|d| nodes.contains(d) && d != name)
                .collect();
            (name.clone(), deps)
        })
        .collect()
}

/// A circle among the graph's imports, if there is one.
fn circle_in(graph: &Graph) -> Option<String> {
    // Depth-first search for a circle.
    fn visit(
        n: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<String> {
        if done.contains(n) {
            return None;
        }
        if let Some(at) = path.iter().position(|p| p == n) {
            return Some(format!("{} -> {n}", path[at..].join(" -> ")));
        }
        path.push(n.to_string());
        for d in graph.get(n).into_iter().flatten() {
            if let Some(circle) = visit(d, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_files_of_every_layer_import_each_other_one_way() {
    // Each layer, some of the files README names in it, and an import the
    // graph must show (so that a reading that finds none fails; the
    // protocol's files import through its mod.rs).
    type Layer<'a> = (&'a str, &'a [&'a str], Option<(&'a str, &'a str)>);
    let layers: [Layer; 5] = [
        ("protocol", &["decode", "encode", "kind"], None),
        (
            "session",
            &[
                "io_thread",
                "outbox",
                "playout",
                "connect",
                "tls",
                "variables",
                "tap",
            ],
            Some(("io_thread", "outbox")),
        ),
        (
            "call",
            &["args", "settings", "context", "outcome"],
            Some(("args", "settings")),
        ),
        (
            "asterisk",
            &[
                "channel",
                "audiohook",
                "datastore",
                "holdings",
                "tech",
                "guard",
            ],
            Some(("audiohook", "holdings")),
        ),
        (
            "features",
            &["application", "channel_driver", "tap", "module"],
            Some(("module", "tap")),
        ),
    ];
    for (layer, files, edge) in layers {
        let graph = graph_of(&src().join(layer), layer);
        for f in files {
            assert!(graph.contains_key(*f), "src/{layer} has {f}: {graph:?}");
        }
        if let Some((from, to)) = edge {
            assert!(
                graph.get(from).is_some_and(|d| d.contains(to)),
                "src/{layer}: {from} imports {to}: {graph:?}"
            );
        }
        if let Some(circle) = circle_in(&graph) {
            panic!("src/{layer}: import circle {circle}");
        }
    }
}

#[test]
fn a_circle_is_found_where_there_is_one() {
    let dir = std::env::temp_dir().join(format!("layers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.rs"), "use super::{b, c::X};\n").unwrap();
    std::fs::write(
        dir.join("b.rs"),
        "// use super::a;\nuse crate::demo::c::Y;\n",
    )
    .unwrap();
    std::fs::write(dir.join("c.rs"), "use super::a::Z;\n").unwrap();
    let circle = circle_in(&graph_of(&dir, "demo"));
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(circle.as_deref(), Some("a -> b -> c -> a"));
}
