//! The Debian packages (`make deb`) as an administrator meets them:
//! lintian has nothing to say; dpkg installs them into a scratch root
//! (dependencies checked against this machine's libc), prints how to load
//! the module and writes nothing under /etc; the module from the package,
//! stripped, loads in this Asterisk, says its version and carries a call
//! both ways; gdb attached to that Asterisk resolves the module's frames
//! through the -dbgsym package; and removing both leaves nothing behind
//! but the administrator's own audiosocket.conf.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::asterisk::{skip, Options};
use common::server::audio_of;
use common::{ramp, Asterisk, TestServer};

const S: Duration = Duration::from_secs(1);
const VERSION: &str = env!("CARGO_PKG_VERSION");
const MODULE: &str = "usr/lib/asterisk/modules/chan_audiosocket_rs.so";
const DOCS: &str = "var/lib/asterisk/documentation/thirdparty/chan_audiosocket_rs-en_US.xml";

/// The two packages `make test` built, or None (and a SKIPPED line).
fn packages(test: &str) -> Option<(PathBuf, PathBuf)> {
    let found = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_file())
    };
    match (found("AUDIOSOCKET_DEB"), found("AUDIOSOCKET_DEB_DBGSYM")) {
        (Some(main), Some(dbgsym)) => Some((main, dbgsym)),
        _ => {
            skip(
                test,
                "no package to test: `make test` builds them (`make deb`) and names them in \
                 AUDIOSOCKET_DEB and AUDIOSOCKET_DEB_DBGSYM",
            );
            None
        }
    }
}

fn has(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"))
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The section names of an ELF file.
fn sections(file: &Path) -> String {
    text(&run("readelf", &["-SW", &file.to_string_lossy()]))
}

fn build_id(file: &Path) -> String {
    let notes = text(&run("readelf", &["-n", &file.to_string_lossy()]));
    notes
        .lines()
        .find_map(|l| l.trim().strip_prefix("Build ID: "))
        .unwrap_or_else(|| panic!("{} has no build id:\n{notes}", file.display()))
        .to_string()
}

/// Every file (not directory) under `root`, relative to it.
fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() && !path.is_symlink() {
                dirs.push(path);
            } else {
                out.push(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// A root dpkg can install into: its database knows this machine's libc
/// and libgcc, so the packages' dependencies are checked for real.
fn scratch_root(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = fs::remove_dir_all(&root);
    let db = root.join("var/lib/dpkg");
    for dir in ["info", "updates", "triggers"] {
        fs::create_dir_all(db.join(dir)).unwrap();
    }
    let host = run("dpkg-query", &["-s", "libc6", "libgcc-s1"]);
    assert!(host.status.success(), "dpkg-query: {}", text(&host));
    fs::write(db.join("status"), &host.stdout).unwrap();
    fs::write(db.join("available"), "").unwrap();
    root
}

fn dpkg(root: &Path, args: &[&str]) -> Output {
    let root = format!("--root={}", root.display());
    let mut all = vec![
        root.as_str(),
        // The maintainer scripts run here, told the root in DPKG_ROOT.
        "--force-script-chrootless",
        "--force-not-root",
        "--log=/dev/null",
    ];
    all.extend(args);
    run("dpkg", &all)
}

#[test]
fn lintian_has_nothing_to_say_of_the_packages() {
    let Some((main, dbgsym)) = packages("lintian") else {
        return;
    };
    if !has("lintian") {
        skip("lintian", "lintian is not installed (Debian's lintian)");
        return;
    }
    let out = run(
        "lintian",
        &[
            "--pedantic",
            "--display-info",
            "--fail-on",
            "error,warning,info,pedantic",
            &main.to_string_lossy(),
            &dbgsym.to_string_lossy(),
        ],
    );
    let said: Vec<String> = text(&out)
        .lines()
        .filter(|l| !l.contains("running with root privileges"))
        .map(String::from)
        .collect();
    assert!(
        out.status.success() && said.is_empty(),
        "lintian: {}",
        said.join("\n")
    );
}

#[test]
fn installed_from_the_package_the_module_loads_and_carries_a_call() {
    let test = "from_the_package";
    let Some((main, dbgsym)) = packages(test) else {
        return;
    };
    if !has("dpkg") {
        skip(test, "dpkg is not installed: not a Debian system");
        return;
    }
    let root = scratch_root(&format!("package-root-{}", std::process::id()));
    // The administrator's own settings, there before the package.
    let own = root.join("etc/asterisk/audiosocket.conf");
    let mine = "; mine\n[general]\nconnect_timeout = 3\n";
    fs::create_dir_all(own.parent().unwrap()).unwrap();
    fs::write(&own, mine).unwrap();

    let out = dpkg(
        &root,
        &["-i", &main.to_string_lossy(), &dbgsym.to_string_lossy()],
    );
    let said = text(&out);
    assert!(out.status.success(), "dpkg -i: {said}");
    for line in [
        "noload => app_audiosocket.so",
        "noload => chan_audiosocket.so",
        "load => chan_audiosocket_rs.so",
        "module load chan_audiosocket_rs.so",
    ] {
        assert!(
            said.contains(line),
            "the post-install note lacks {line:?}:\n{said}"
        );
    }
    assert_eq!(fs::read_to_string(&own).unwrap(), mine);
    let etc: Vec<PathBuf> = files_under(&root.join("etc"));
    assert_eq!(etc, [PathBuf::from("asterisk/audiosocket.conf")]);
    assert!(root
        .join("usr/share/doc/chan-audiosocket-rs/examples/audiosocket.conf")
        .is_file());

    // Stripped, its debug information where gdb looks for it.
    let module = root.join(MODULE);
    assert!(!sections(&module).contains(".debug_info"), "not stripped");
    let id = build_id(&module);
    let debug = root.join(format!(
        "usr/lib/debug/.build-id/{}/{}.debug",
        &id[..2],
        &id[2..]
    ));
    assert!(
        sections(&debug).contains(".debug_info"),
        "{}",
        debug.display()
    );
    let size = |p: &Path| fs::metadata(p).unwrap().len() / 1024;
    eprintln!(
        "{test}: packages {} KiB and {} KiB (-dbgsym); the module installed {} KiB, its debug \
         file {} KiB",
        size(&main),
        size(&dbgsym),
        size(&module),
        size(&debug)
    );

    // The application's page, where Asterisk reads third parties' pages.
    let docs = root.join(DOCS);
    assert!(docs.is_file(), "{}", docs.display());

    let dialplan = format!("{}\n{}", common::app_context(), common::FAR_ENDS);
    let Some(ast) = Asterisk::start_with(
        test,
        Options {
            dialplan: &dialplan,
            module: Some(module.clone()),
            docs: Some(docs),
            ..Options::default()
        },
    ) else {
        return;
    };

    // Its version, where an administrator looks.
    let shown = ast.cli("module show like audiosocket");
    assert!(
        shown.contains(&format!("AudioSocket app & driver {VERSION} (")),
        "{shown}"
    );
    let app = ast.cli("core show application AudioSocket");
    assert!(
        app.contains("AudioSocket(uuid,host:port[,options])") && app.contains("r([seconds])"),
        "{app}"
    );
    let named = format!("chan_audiosocket_rs {VERSION} (");
    let loaded = ast.expect_log(&[&named, "loaded"], S);
    let commit = run(
        "git",
        &[
            "-C",
            env!("CARGO_MANIFEST_DIR"),
            "rev-parse",
            "--short=7",
            "HEAD",
        ],
    );
    if commit.status.success() {
        let commit = String::from_utf8_lossy(&commit.stdout).trim().to_string();
        assert!(loaded.contains(&format!("({commit}")), "{loaded}");
    }

    // A call both ways.
    let srv = TestServer::new();
    ast.originate(&format!("{}@app", srv.port), "1@echo");
    let mut conn = srv.accept_call();
    let pcm = ramp(16_000);
    conn.send_audio(0x10, &pcm, 320);
    let back = audio_of(&conn.read_for(3 * S), 0x10);
    assert!(back == pcm, "two seconds out and back unchanged");

    // A backtrace of the running Asterisk names the module's frames.
    if has("gdb") {
        let out = run(
            "gdb",
            &[
                "-batch",
                "-nx",
                "-iex",
                &format!("set debug-file-directory {}/usr/lib/debug", root.display()),
                "-p",
                &ast.pid().to_string(),
                "-ex",
                "thread apply all bt",
            ],
        );
        let bt = text(&out);
        let frame = bt
            .lines()
            .find(|l| l.contains("chan_audiosocket_rs::") && l.contains(" at src/"));
        let frame =
            frame.unwrap_or_else(|| panic!("no frame of the module with its source line:\n{bt}"));
        eprintln!("{test}: a frame of the module in gdb: {}", frame.trim());
    } else {
        skip(test, "gdb is not installed: the backtrace is not checked");
    }
    conn.hangup();
    ast.expect_log(&[&format!("RESULT {}", srv.port), "SERVER_HANGUP"], 5 * S);
    drop(ast);

    // Removed, nothing is left but the administrator's file.
    let out = dpkg(
        &root,
        &[
            "--purge",
            "chan-audiosocket-rs-dbgsym",
            "chan-audiosocket-rs",
        ],
    );
    assert!(out.status.success(), "dpkg --purge: {}", text(&out));
    let left: Vec<PathBuf> = files_under(&root)
        .into_iter()
        .filter(|p| !p.starts_with("var/lib/dpkg"))
        .collect();
    assert_eq!(left, [PathBuf::from("etc/asterisk/audiosocket.conf")]);
    assert_eq!(fs::read_to_string(&own).unwrap(), mine);
    let _ = fs::remove_dir_all(&root);
}
