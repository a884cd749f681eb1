//! README's "Step by step" for TLS, followed as written: its openssl
//! commands make the keys, the example server listens with them, the
//! profile it shows goes into audiosocket.conf, and a call connects with a
//! verified server certificate, then with mutual TLS; without the client
//! certificate the same server refuses the call.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::asterisk::{skip, Options};
use common::readme::blocks;
use common::Asterisk;

const S: Duration = Duration::from_secs(1);
const KEYS: &str = "/etc/asterisk/keys";

struct Example(Child);

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn example_server(port: u16, keys: &Path, client_ca: bool) -> Example {
    let mut cmd = Command::new(common::example::binary());
    cmd.arg("echo")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--tls")
        .arg(keys.join("bot.pem"))
        .arg(keys.join("bot.key"));
    if client_ca {
        cmd.arg("--client-ca").arg(keys.join("bot-ca.pem"));
    }
    let child = cmd.stderr(Stdio::null()).spawn().unwrap();
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t0.elapsed() < 20 * S, "the example server did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    Example(child)
}

#[test]
fn the_readme_steps_lead_to_a_verified_call_then_to_mutual_tls() {
    let test = "the_readme_steps_lead_to_a_verified_call_then_to_mutual_tls";
    if Command::new("openssl").arg("version").output().is_err() {
        skip(test, "openssl is not installed (apt-get install openssl)");
        return;
    }
    let blocks = blocks("### Step by step: a verified server, then mutual TLS");
    let keys = std::env::temp_dir().join(format!("ars-readme-keys-{}", std::process::id()));
    std::fs::create_dir_all(&keys).unwrap();
    let dir = keys.display().to_string();

    // The shell steps, with the keys in a scratch folder.
    let (_, steps) = blocks
        .iter()
        .find(|(lang, b)| lang == "sh" && b.contains("openssl req"))
        .unwrap();
    let made = Command::new("bash")
        .arg("-ec")
        .arg(steps.replace(KEYS, &dir))
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    for file in ["bot-ca.pem", "bot.pem", "bot.key", "pbx1.pem", "pbx1.key"] {
        assert!(keys.join(file).is_file(), "the steps make {file}");
    }

    // The profile the README shows.
    let (_, profile) = blocks
        .iter()
        .find(|(lang, b)| lang == "ini" && b.contains("type = tls"))
        .unwrap();
    let conf = profile.replace(KEYS, &dir);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dialplan = format!(
        "[tls]\nexten => _X.,1,Answer()\n \
         same => n,AudioSocket({},localhost:{port},s(bot))\n \
         same => n,Log(NOTICE,RESULT status=${{AUDIOSOCKET_STATUS}})\n\
         {}",
        common::UUID,
        common::FAR_ENDS
    );
    let Some(ast) = Asterisk::start_with(
        "readme_tls",
        Options {
            dialplan: &dialplan,
            files: &[("audiosocket.conf", &conf)],
            ..Options::default()
        },
    ) else {
        let _ = std::fs::remove_dir_all(&keys);
        return;
    };

    for client_ca in [false, true] {
        let server = example_server(port, &keys, client_ca);
        ast.originate("11@tls", "1@tone");
        ast.expect_log(
            &[&format!(
                "AudioSocket connected to localhost:{port} (TLS 1.3"
            )],
            5 * S,
        );
        ast.cli("channel request hangup all");
        assert!(ast.wait_no_channels(5 * S));
        drop(server);
    }

    // The same profile without the client certificate: refused.
    let plain: String = conf
        .lines()
        .filter(|l| !l.starts_with("cert_file") && !l.starts_with("key_file"))
        .map(|l| format!("{l}\n"))
        .collect();
    ast.write_config("audiosocket.conf", &plain);
    ast.cli("module reload chan_audiosocket_rs.so");
    let _server = example_server(port, &keys, true);
    ast.originate("12@tls", "1@tone");
    ast.expect_log(&["the server wants a client certificate"], 5 * S);
    ast.expect_log(&["RESULT status=CONNECT_FAILED"], 5 * S);
    let _ = std::fs::remove_dir_all(&keys);
}
