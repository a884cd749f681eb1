//! The example server (examples/audiosocket_server/) as a process of its
//! own: built once, started on an address, and killed the way a crashed
//! bot dies (the kernel closes its sockets).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The example server's binary, built (release) on first use.
pub fn binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let root = Path::new(env!("CARGO_MANIFEST_DIR"));
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let ok = Command::new(cargo)
                .args(["build", "--release", "--example", "audiosocket_server"])
                .current_dir(root)
                .status()
                .unwrap()
                .success();
            assert!(ok, "the example server does not build");
            let target = std::env::var("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|_| root.join("target"));
            target.join("release/examples/audiosocket_server")
        })
        .clone()
}

/// A running example server; killed when dropped.
pub struct Example {
    child: Child,
    /// What it printed on stderr (UUIDs, contexts), line by line.
    said: Arc<Mutex<Vec<String>>>,
}

impl Example {
    /// Runs `audiosocket_server MODE ADDR [REST...]` and waits until it
    /// listens on `addr` (host:port).
    pub fn start(mode: &str, addr: &str, rest: &[&str]) -> Example {
        let mut child = Command::new(binary())
            .arg(mode)
            .arg(addr)
            .args(rest)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let said = Arc::new(Mutex::new(Vec::new()));
        let (lines, stderr) = (said.clone(), child.stderr.take().unwrap());
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        let t0 = Instant::now();
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "the example server did not listen on {addr}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Example { child, said }
    }

    /// Kills the process (SIGKILL): no goodbye on any connection.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The lines it printed so far.
    pub fn said(&self) -> Vec<String> {
        self.said.lock().unwrap().clone()
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Writes a 16-bit mono WAV of `freq` Hz at `rate` for `seconds`.
pub fn tone_wav(path: &Path, freq: f64, rate: u32, seconds: u32) {
    let mut phase = 0.0;
    let pcm = super::tones::tone(freq, rate, (rate * seconds) as usize, 8000.0, &mut phase);
    let mut wav = Vec::with_capacity(pcm.len() + 44);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + pcm.len() as u32).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&rate.to_le_bytes());
    wav.extend_from_slice(&(rate * 2).to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&(pcm.len() as u32).to_le_bytes());
    wav.extend_from_slice(&pcm);
    std::fs::write(path, wav).unwrap();
}
