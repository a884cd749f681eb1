//! A private Asterisk for one test: its own configuration, modules folder
//! and control socket under /tmp, stopped (and its log printed, if the test
//! failed) on drop.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Modules every test instance loads, when the installed Asterisk has them.
const BASE_MODULES: &[&str] = &[
    "res_timing_timerfd.so",
    "pbx_config.so",
    "res_clioriginate.so",
    "app_dial.so",
    "app_echo.so",
    "app_milliwatt.so",
    "app_verbose.so",
    "app_senddtmf.so",
    "app_read.so",
    "app_record.so",
    "format_wav.so",
    "format_sln.so",
    "codec_resample.so",
    "func_channel.so",
    "func_logic.so",
    "res_speech.so",
    "res_agi.so",
    "app_stack.so",
    "bridge_simple.so",
    "bridge_native_rtp.so",
    "bridge_builtin_features.so",
];

/// What modules require, as Asterisk declares it (its loader does not
/// load a requirement by itself when modules are listed one by one): each
/// is loaded with what it requires where that is installed. With pjproject
/// built in, for one, `res_rtp_asterisk` requires `res_pjproject`.
const REQUIRES: &[(&str, &[&str])] = &[
    ("res_rtp_asterisk.so", &["res_pjproject.so"]),
    ("res_pjproject.so", &["res_sorcery_config.so"]),
    (
        "chan_rtp.so",
        &["res_rtp_asterisk.so", "res_rtp_multicast.so"],
    ),
    (
        "res_pjsip.so",
        &[
            "res_pjproject.so",
            "res_sorcery_config.so",
            "res_sorcery_memory.so",
            "res_sorcery_astdb.so",
        ],
    ),
    ("res_pjsip_session.so", &["res_pjsip.so"]),
    ("res_pjsip_pubsub.so", &["res_pjsip.so"]),
    (
        "chan_pjsip.so",
        &[
            "res_pjsip.so",
            "res_pjsip_session.so",
            "res_pjsip_pubsub.so",
        ],
    ),
    (
        "res_pjsip_sdp_rtp.so",
        &[
            "res_pjsip.so",
            "res_pjsip_session.so",
            "res_rtp_asterisk.so",
        ],
    ),
    ("res_pjsip_endpoint_identifier_ip.so", &["res_pjsip.so"]),
    (
        "res_pjsip_caller_id.so",
        &["res_pjsip.so", "res_pjsip_session.so"],
    ),
    (
        "res_pjsip_dtmf_info.so",
        &["res_pjsip.so", "res_pjsip_session.so"],
    ),
    ("chan_sip.so", &["res_rtp_asterisk.so"]),
    (
        "chan_websocket.so",
        &["res_websocket_client.so", "res_http_websocket.so"],
    ),
    (
        "res_websocket_client.so",
        &[
            "res_http_websocket.so",
            "res_sorcery_config.so",
            "res_sorcery_memory.so",
        ],
    ),
    (
        "res_ari.so",
        &[
            "res_http_websocket.so",
            "res_stasis.so",
            "res_websocket_client.so",
        ],
    ),
    // Needs res_stasis_broadcast's symbols where it exists, without saying so.
    (
        "res_ari_events.so",
        &["res_ari.so", "res_stasis_broadcast.so"],
    ),
    ("res_stasis_broadcast.so", &["res_stasis.so"]),
    ("app_stasis.so", &["res_stasis.so"]),
];

/// `wanted` with what each requires, requirements first, each once; only
/// modules `modules` (a modules folder) holds.
pub fn with_requirements(wanted: &[&str], modules: &Path) -> Vec<String> {
    fn visit(m: &str, modules: &Path, out: &mut Vec<String>) {
        if out.iter().any(|o| o == m) || !modules.join(m).exists() {
            return;
        }
        if let Some((_, reqs)) = REQUIRES.iter().find(|(name, _)| *name == m) {
            for r in *reqs {
                visit(r, modules, out);
            }
        }
        out.push(m.to_string());
    }
    let mut out = Vec::new();
    for m in wanted {
        visit(m, modules, &mut out);
    }
    out
}

pub struct Installed {
    pub prefix: PathBuf,
    pub bin: PathBuf,
    pub modules: PathBuf,
    pub data: PathBuf,
    pub version: String,
}

/// The installed Asterisk to test against: `ASTERISK_PREFIX`, else the
/// `asterisk` on the PATH. None (after printing one SKIPPED line) if none.
pub fn installed(test: &str) -> Option<&'static Installed> {
    static FOUND: OnceLock<Option<Installed>> = OnceLock::new();
    let found = FOUND.get_or_init(|| {
        let prefix = match std::env::var("ASTERISK_PREFIX") {
            Ok(p) if !p.is_empty() => PathBuf::from(p),
            _ => {
                let path = std::env::var("PATH").unwrap_or_default();
                let bin = std::env::split_paths(&path)
                    .map(|d| d.join("asterisk"))
                    .find(|p| p.is_file())?;
                let bin = fs::canonicalize(bin).ok()?;
                bin.parent()?.parent()?.to_path_buf()
            }
        };
        let bin = prefix.join("sbin/asterisk");
        let modules = [
            prefix.join("lib/asterisk/modules"),
            prefix.join("lib64/asterisk/modules"),
        ]
        .into_iter()
        .find(|p| p.is_dir())?;
        let data = [
            prefix.join("var/lib/asterisk"),
            PathBuf::from("/var/lib/asterisk"),
        ]
        .into_iter()
        .find(|p| p.join("documentation").is_dir())
        .unwrap_or_else(|| prefix.join("var/lib/asterisk"));
        let out = Command::new(&bin).arg("-V").output().ok()?;
        let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
        Some(Installed {
            prefix,
            bin,
            modules,
            data,
            version,
        })
    });
    if found.is_none() {
        // Once per test binary, and past the test harness's output capture.
        static SAID: OnceLock<()> = OnceLock::new();
        SAID.get_or_init(|| {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {}: no Asterisk installed (set ASTERISK_PREFIX or put asterisk on the PATH); \
                 first skipped test: {test}",
                env!("CARGO_CRATE_NAME")
            );
        });
    }
    found.as_ref()
}

/// Debian's libnss-wrapper, which lets a test give Asterisk its own hosts
/// file, if installed.
pub fn nss_wrapper() -> Option<PathBuf> {
    [
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/usr/lib64",
        "/usr/lib",
    ]
    .iter()
    .map(|d| Path::new(d).join("libnss_wrapper.so"))
    .find(|p| p.is_file())
}

/// Whether a test Asterisk can be given a resolv.conf of its own (a mount
/// namespace: root, or the capability, is needed).
pub fn private_resolv_conf() -> bool {
    Command::new("unshare")
        .args(["--mount", "--", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Why a test may skip where an Asterisk is installed: what a supported
/// Asterisk lacks by design, or what this machine cannot give any test.
/// Nothing else: a module that does not load, a tool or a package that
/// cannot be installed fails the run, so that a green run means the module
/// was tested.
pub const ALLOWED_SKIPS: &[&str] = &[
    // Removed from Asterisk in 21; the SIP tests run through PJSIP there.
    "lacks [\"chan_sip.so\"]",
    // A private resolv.conf needs a mount namespace: root.
    "unshare --mount needs root",
];

/// Prints one SKIPPED line for `test`, which needs what `why` says; where
/// an Asterisk is installed, fails the test instead unless `why` is one of
/// [`ALLOWED_SKIPS`].
pub fn skip(test: &str, why: &str) {
    use std::io::Write;
    let asterisk =
        std::env::var_os("ASTERISK_PREFIX").is_some_and(|p| !p.is_empty()) || installed_quietly();
    if asterisk && !ALLOWED_SKIPS.iter().any(|a| why.contains(a)) {
        panic!(
            "{test} cannot run here, where an Asterisk is installed: {why} \
             (tests/common/asterisk.rs lists the only reasons a test may skip)"
        );
    }
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {}::{test}: {why}",
        env!("CARGO_CRATE_NAME")
    );
}

/// Whether an Asterisk is on the PATH (without a SKIPPED line).
fn installed_quietly() -> bool {
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&path).any(|d| d.join("asterisk").is_file())
}

/// The module under test: `AUDIOSOCKET_MODULE`, else built here in release mode.
pub fn module_path() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            if let Ok(p) = std::env::var("AUDIOSOCKET_MODULE") {
                return PathBuf::from(p);
            }
            let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let status = Command::new(cargo)
                .args(["build", "--release", "--lib"])
                .current_dir(&root)
                .status()
                .expect("run cargo build");
            assert!(status.success(), "building the module failed");
            let target = std::env::var("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|_| root.join("target"));
            target.join("release/libchan_audiosocket_rs.so")
        })
        .clone()
}

/// The module built with the "fault-injection" feature, in its own target folder.
pub fn fault_injection_module() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
            let target = root.join("target/fault-injection");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let status = Command::new(cargo)
                .args([
                    "build",
                    "--release",
                    "--lib",
                    "--features",
                    "fault-injection",
                    "--target-dir",
                ])
                .arg(&target)
                .current_dir(&root)
                .status()
                .expect("run cargo build");
            assert!(
                status.success(),
                "building the fault-injection module failed"
            );
            target.join("release/libchan_audiosocket_rs.so")
        })
        .clone()
}

pub struct Options<'a> {
    pub dialplan: &'a str,
    /// The module to load instead of the one under test.
    pub module: Option<PathBuf>,
    /// Load this project's module at start-up.
    pub load_module: bool,
    /// Also load Asterisk's built-in AudioSocket modules first.
    pub builtin: bool,
    pub extra_modules: &'a [&'a str],
    /// Modules the test cannot run without: when one is not installed or
    /// does not load, the test prints one SKIPPED line saying which and
    /// why (Asterisk's own words) and gets no Asterisk.
    pub needs: &'a [&'a str],
    /// More configuration files: (name, text).
    pub files: &'a [(&'a str, &'a str)],
    /// Host names the Asterisk process resolves (through nss_wrapper):
    /// (address, name) lines, as in /etc/hosts.
    pub hosts: &'a [(&'a str, &'a str)],
    /// The name server the Asterisk process asks (its own resolv.conf, in
    /// a mount namespace: see [`private_resolv_conf`]).
    pub nameserver: Option<&'a str>,
    /// The module's XML documentation Asterisk reads at start (what
    /// `make install` puts in documentation/thirdparty): this file instead
    /// of the repository's doc/; none when it does not exist.
    pub docs: Option<PathBuf>,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            dialplan: "",
            module: None,
            load_module: true,
            builtin: false,
            extra_modules: &[],
            needs: &[],
            files: &[],
            hosts: &[],
            nameserver: None,
            docs: None,
        }
    }
}

pub struct Asterisk {
    pub installed: &'static Installed,
    dir: PathBuf,
    conf: PathBuf,
    child: Option<Child>,
    /// Stopped because a module it needs did not load (no log dump).
    skipped: bool,
}

fn write(path: &Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

impl Asterisk {
    /// Starts an Asterisk with `dialplan` as extensions.conf; None if no
    /// Asterisk is installed (a SKIPPED line has been printed).
    pub fn start(test: &str, dialplan: &str) -> Option<Asterisk> {
        Self::start_with(
            test,
            Options {
                dialplan,
                ..Options::default()
            },
        )
    }

    pub fn start_with(test: &str, opts: Options<'_>) -> Option<Asterisk> {
        let installed = installed(test)?;
        let absent: Vec<&str> = opts
            .needs
            .iter()
            .copied()
            .filter(|m| !installed.modules.join(m).exists())
            .collect();
        if !absent.is_empty() {
            let major: u32 = installed
                .version
                .split_whitespace()
                .last()
                .and_then(|v| v.split('.').next()?.parse().ok())
                .unwrap_or(0);
            let why = format!("this Asterisk ({}) lacks {absent:?}", installed.version);
            if absent == ["chan_sip.so"] && major > 0 && major < 21 {
                panic!("{test}: {why}, which every Asterisk before 21 has: build it with chan_sip");
            }
            skip(test, &why);
            return None;
        }
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let dir = PathBuf::from(format!(
            "/tmp/ars-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        for sub in ["etc", "mod", "run", "log", "lib", "spool", "db", "rec"] {
            fs::create_dir_all(dir.join(sub)).unwrap();
        }
        for entry in fs::read_dir(&installed.modules).unwrap().flatten() {
            let _ =
                std::os::unix::fs::symlink(entry.path(), dir.join("mod").join(entry.file_name()));
        }
        let data = with_our_docs(&installed.data, &dir, opts.docs.as_deref());
        let module = opts.module.clone().unwrap_or_else(module_path);
        std::os::unix::fs::symlink(module, dir.join("mod/chan_audiosocket_rs.so")).unwrap();
        let d = dir.display();
        write(
            &dir.join("etc/asterisk.conf"),
            &format!(
                "[directories]\nastetcdir => {d}/etc\nastmoddir => {d}/mod\nastvarlibdir => {d}/lib\n\
                 astdbdir => {d}/db\nastkeydir => {d}/lib\nastdatadir => {}\nastagidir => {d}/lib\n\
                 astspooldir => {d}/spool\nastrundir => {d}/run\nastlogdir => {d}/log\n\
                 [options]\nverbose = 3\ndebug = 0\nnofork = yes\n",
                data.display()
            ),
        );
        let mut modules = String::from("[modules]\nautoload = no\n");
        let mut wanted: Vec<&str> = BASE_MODULES.to_vec();
        if opts.builtin {
            wanted.extend([
                "res_audiosocket.so",
                "app_audiosocket.so",
                "chan_audiosocket.so",
            ]);
        }
        wanted.extend(opts.extra_modules);
        wanted.extend(opts.needs);
        for m in with_requirements(&wanted, &installed.modules) {
            modules.push_str(&format!("load => {m}\n"));
        }
        if opts.load_module {
            modules.push_str("load => chan_audiosocket_rs.so\n");
        }
        write(&dir.join("etc/modules.conf"), &modules);
        write(
            &dir.join("etc/logger.conf"),
            "[general]\n[logfiles]\nfull => notice,warning,error,verbose,dtmf,debug\n",
        );
        write(&dir.join("etc/extensions.conf"), opts.dialplan);
        for (name, text) in opts.files {
            write(&dir.join("etc").join(name), text);
        }
        let conf = dir.join("etc/asterisk.conf");
        // ASTERISK_WRAPPER runs Asterisk under a tool, e.g. "valgrind --log-file=/tmp/vg-%p.log".
        let wrapper: Vec<String> = std::env::var("ASTERISK_WRAPPER")
            .map(|w| w.split_whitespace().map(String::from).collect())
            .unwrap_or_default();
        let mut command = match (opts.nameserver, wrapper.split_first()) {
            (Some(server), _) => {
                // Its own resolv.conf, bound over the system's in a mount
                // namespace of its own: nothing outside it changes.
                let file = dir.join("resolv.conf");
                write(
                    &file,
                    &format!("nameserver {server}\noptions timeout:3 attempts:2\n"),
                );
                let mut c = Command::new("unshare");
                c.args(["--mount", "--", "sh", "-c"])
                    .arg("mount --bind \"$0\" /etc/resolv.conf && exec \"$@\"")
                    .arg(&file)
                    .arg(&installed.bin);
                c
            }
            (None, Some((tool, args))) => {
                let mut c = Command::new(tool);
                c.args(args).arg(&installed.bin);
                c
            }
            (None, None) => Command::new(&installed.bin),
        };
        if !opts.hosts.is_empty() {
            let lib = nss_wrapper().expect("nss_wrapper (check with nss_wrapper() first)");
            let file = dir.join("hosts");
            let lines: String = opts
                .hosts
                .iter()
                .map(|(a, n)| format!("{a} {n}\n"))
                .collect();
            write(&file, &lines);
            command
                .env("LD_PRELOAD", lib)
                .env("NSS_WRAPPER_HOSTS", &file);
        }
        let child = command
            .args(["-f", "-C"])
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(fs::File::create(dir.join("stdout")).unwrap())
            .stderr(fs::File::create(dir.join("stderr")).unwrap())
            .spawn()
            .expect("start asterisk");
        let mut ast = Asterisk {
            installed,
            dir,
            conf,
            child: Some(child),
            skipped: false,
        };
        let t0 = Instant::now();
        loop {
            let out = ast.try_cli("core waitfullybooted");
            if out.as_deref().is_some_and(|o| o.contains("fully booted")) {
                break;
            }
            let limit = if std::env::var_os("ASTERISK_WRAPPER").is_some() {
                180
            } else {
                30
            };
            assert!(
                t0.elapsed() < Duration::from_secs(limit),
                "Asterisk did not start:\n{}",
                ast.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        for m in opts.needs {
            if let Some(why) = ast.not_running(m) {
                skip(
                    test,
                    &format!("{m} did not load in {}: {why}", installed.version),
                );
                ast.skipped = true;
                return None;
            }
        }
        Some(ast)
    }

    /// Why `module` is not running, if it is not: Asterisk's log line about
    /// it, or what `module show` says.
    pub fn not_running(&self, module: &str) -> Option<String> {
        let name = module.trim_end_matches(".so");
        let shown = self.cli(&format!("module show like {name}"));
        let running = shown
            .lines()
            .any(|l| l.split_whitespace().next() == Some(module) && l.contains("Running"));
        if running {
            return None;
        }
        Some(
            self.log()
                .lines()
                .find(|l| l.contains(&format!("'{module}'")) || l.contains(&format!("{name}:")))
                .map_or_else(|| shown.trim().to_string(), |l| l.trim().to_string()),
        )
    }

    /// Runs a CLI command; None when it failed (Asterisk says so by its exit status).
    pub fn try_cli(&self, cmd: &str) -> Option<String> {
        let out = Command::new(&self.installed.bin)
            .arg("-C")
            .arg(&self.conf)
            .arg("-rx")
            .arg(cmd)
            .stdin(Stdio::null())
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        Some(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Runs a CLI command and returns what it printed.
    pub fn cli(&self, cmd: &str) -> String {
        self.try_cli(cmd)
            .unwrap_or_else(|| panic!("CLI '{cmd}' failed; log:\n{}", self.log()))
    }

    /// `channel originate Local/EXT@ctx/n extension FAR`.
    pub fn originate(&self, local: &str, far: &str) {
        self.cli(&format!(
            "channel originate Local/{local}/n extension {far}"
        ));
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("log/full")).unwrap_or_default()
    }

    /// Waits until the log holds a line containing every one of `needles`.
    pub fn wait_log(&self, needles: &[&str], timeout: Duration) -> Option<String> {
        let t0 = Instant::now();
        loop {
            if let Some(line) = self
                .log()
                .lines()
                .find(|l| needles.iter().all(|n| l.contains(n)))
            {
                return Some(line.to_string());
            }
            if t0.elapsed() > timeout {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Like wait_log, but a missing line fails the test with the log.
    pub fn expect_log(&self, needles: &[&str], timeout: Duration) -> String {
        self.wait_log(needles, timeout)
            .unwrap_or_else(|| panic!("no log line with {needles:?}; log:\n{}", self.log_tail()))
    }

    pub fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(80)..].join("\n")
    }

    /// Replaces (or creates) one of this instance's configuration files.
    pub fn write_config(&self, name: &str, text: &str) {
        write(&self.dir.join("etc").join(name), text);
    }

    /// A folder this instance may write recordings into.
    pub fn scratch(&self) -> PathBuf {
        self.dir.join("rec")
    }

    /// Live channels, as `core show channels count` reports them.
    pub fn channel_count(&self) -> usize {
        let out = self.cli("core show channels count");
        out.lines()
            .find(|l| l.contains("active channel"))
            .and_then(|l| l.split_whitespace().next()?.parse().ok())
            .unwrap_or(usize::MAX)
    }

    pub fn wait_no_channels(&self, timeout: Duration) -> bool {
        let t0 = Instant::now();
        while t0.elapsed() < timeout {
            if self.channel_count() == 0 {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// The channel now running dialplan application `app`.
    pub fn channel_in(&self, app: &str) -> Option<String> {
        self.cli("core show channels concise")
            .lines()
            .find(|l| l.split('!').nth(5) == Some(app))
            .and_then(|l| l.split('!').next())
            .map(String::from)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, |c| c.id())
    }

    /// Open descriptors, threads and resident KiB of the Asterisk process.
    pub fn resources(&self) -> (usize, usize, usize) {
        let pid = self.pid();
        let fds = fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count());
        let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
                .unwrap_or(0)
        };
        (fds, field("Threads:"), field("VmRSS:"))
    }

    /// Stops Asterisk with `cmd` and returns how the process ended.
    pub fn stop_with(&mut self, cmd: &str) -> std::process::ExitStatus {
        let _ = self.try_cli(cmd);
        let mut child = self.child.take().expect("running");
        let t0 = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return status;
            }
            if t0.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                panic!("Asterisk did not stop after '{cmd}'");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn stderr(&self) -> String {
        fs::read_to_string(self.dir.join("stderr")).unwrap_or_default()
    }

    /// Whether the Asterisk process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }
}

impl Drop for Asterisk {
    fn drop(&mut self) {
        if std::thread::panicking() && !self.skipped {
            eprintln!(
                "---- Asterisk {} log (last lines) ----\n{}\n---- stderr ----\n{}",
                self.installed.version,
                self.log_tail(),
                fs::read_to_string(self.dir.join("stderr")).unwrap_or_default()
            );
        }
        let _ = self.try_cli("core stop now");
        if let Some(mut child) = self.child.take() {
            let t0 = Instant::now();
            while t0.elapsed() < Duration::from_secs(5) {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        if !std::thread::panicking() || self.skipped {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Asterisk's data folder as `make install` leaves it: the installed one's
/// contents, linked, with this module's XML documentation in
/// documentation/thirdparty (read when Asterisk starts).
fn with_our_docs(installed: &Path, dir: &Path, docs: Option<&Path>) -> PathBuf {
    let link_all = |from: &Path, to: &Path, except: &str| {
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).into_iter().flatten().flatten() {
            if entry.file_name() != except {
                let _ = std::os::unix::fs::symlink(entry.path(), to.join(entry.file_name()));
            }
        }
    };
    let data = dir.join("data");
    link_all(installed, &data, "documentation");
    let documentation = data.join("documentation");
    link_all(
        &installed.join("documentation"),
        &documentation,
        "thirdparty",
    );
    let thirdparty = documentation.join("thirdparty");
    link_all(&installed.join("documentation/thirdparty"), &thirdparty, "");
    let ours = docs.map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("doc/chan_audiosocket_rs-en_US.xml"),
        Path::to_path_buf,
    );
    if ours.is_file() {
        let _ = std::os::unix::fs::symlink(ours, thirdparty.join("chan_audiosocket_rs-en_US.xml"));
    }
    data
}
