//! A real SIP caller for the tests: sipp (Debian's sip-tester) places the
//! calls through Asterisk's PJSIP (or chan_sip), and the test plays the
//! phone's media itself: RTP in G.711 (µ-law or A-law, 20 or 30 ms
//! packets) and RFC 4733 digits, sent and heard on a socket whose port
//! the call's SDP gives.

use std::fmt::Write as _;
use std::fs;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::asterisk::{skip, Options};
pub use super::g711::{alaw_decode, alaw_encode, ulaw_decode, ulaw_encode};
use super::{tones, Asterisk};

/// The SIP stacks a caller can come through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stack {
    Pjsip,
    ChanSip,
}

impl Stack {
    pub fn name(self) -> &'static str {
        match self {
            Stack::Pjsip => "PJSIP",
            Stack::ChanSip => "chan_sip",
        }
    }

    /// The modules it needs (what they require comes with them).
    pub fn modules(self) -> &'static [&'static str] {
        match self {
            Stack::Pjsip => &[
                "chan_pjsip.so",
                "res_pjsip.so",
                "res_pjsip_session.so",
                "res_pjsip_pubsub.so",
                "res_pjsip_sdp_rtp.so",
                "res_pjsip_endpoint_identifier_ip.so",
                "res_pjsip_caller_id.so",
                "res_rtp_asterisk.so",
                "codec_ulaw.so",
                "codec_alaw.so",
            ],
            Stack::ChanSip => &[
                "chan_sip.so",
                "res_rtp_asterisk.so",
                "codec_ulaw.so",
                "codec_alaw.so",
            ],
        }
    }

    /// The configuration files for a stack listening on loopback `port`,
    /// taking calls from sipp on `caller_port` into context `context`.
    pub fn files(self, port: u16, caller_port: u16, context: &str) -> Vec<(&'static str, String)> {
        let rtp = "[general]\nrtpstart = 20000\nrtpend = 40000\nstrictrtp = no\n".to_string();
        let conf = match self {
            Stack::Pjsip => (
                "pjsip.conf",
                format!(
                    "[udp]\ntype = transport\nprotocol = udp\nbind = 127.0.0.1:{port}\n\n\
                     [sipp]\ntype = endpoint\ntransport = udp\ncontext = {context}\n\
                     disallow = all\nallow = ulaw,alaw\ndirect_media = no\n\
                     dtmf_mode = rfc4733\nrtp_symmetric = no\naors = sipp\n\n\
                     [sipp]\ntype = aor\ncontact = sip:sipp@127.0.0.1:{caller_port}\n\n\
                     [sipp]\ntype = identify\nendpoint = sipp\nmatch = 127.0.0.1\n"
                ),
            ),
            Stack::ChanSip => (
                "sip.conf",
                format!(
                    "[general]\nbindaddr = 127.0.0.1\nbindport = {port}\ncontext = {context}\n\
                     disallow = all\nallow = ulaw,alaw\ndtmfmode = rfc2833\n\
                     directmedia = no\n\n\
                     [sipp]\ntype = friend\nhost = 127.0.0.1\nport = {caller_port}\n\
                     insecure = port,invite\ncontext = {context}\n\
                     disallow = all\nallow = ulaw,alaw\ndtmfmode = rfc2833\n"
                ),
            ),
        };
        vec![("rtp.conf", rtp), (conf.0, conf.1)]
    }
}

/// Where the sipp binary is, if installed.
pub fn sipp() -> Option<PathBuf> {
    ["/usr/bin/sipp", "/usr/local/bin/sipp"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// A G.711 codec and packet length, as the caller offers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Codec {
    /// 0: µ-law (PCMU), 8: A-law (PCMA).
    pub payload_type: u8,
    pub ptime_ms: u32,
}

impl Codec {
    pub fn name(self) -> &'static str {
        if self.payload_type == 8 {
            "PCMA"
        } else {
            "PCMU"
        }
    }

    fn samples(self) -> usize {
        8 * self.ptime_ms as usize
    }

    fn encode(self, s: i16) -> u8 {
        if self.payload_type == 8 {
            alaw_encode(s)
        } else {
            ulaw_encode(s)
        }
    }

    fn decode(self, b: u8) -> i16 {
        if self.payload_type == 8 {
            alaw_decode(b)
        } else {
            ulaw_decode(b)
        }
    }
}

/// One call sipp places: the extension it dials, the caller's number,
/// what it offers, and the port its media is on (the test's phone).
pub struct CallSpec {
    pub exten: String,
    pub caller: String,
    pub codec: Codec,
    pub media_port: u16,
}

/// How sipp's calls end.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The caller sends BYE after this long.
    CallerHangsUp(Duration),
    /// The caller waits for Asterisk's BYE (the server hung up).
    AsteriskHangsUp,
}

/// A sipp run: its calls, and where it says which port Asterisk answered
/// each with.
pub struct Sipp {
    child: Option<Child>,
    dir: PathBuf,
    ports: PathBuf,
}

impl Sipp {
    /// Places `calls` (all at once) to the stack on `sip_port`, from
    /// `caller_port`, ending as `ending` says.
    pub fn call(sip_port: u16, caller_port: u16, calls: &[CallSpec], ending: Ending) -> Sipp {
        let dir = std::env::temp_dir().join(format!("sipp-{}-{caller_port}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let ports = dir.join("ports");
        let mut csv = String::from("SEQUENTIAL\n");
        for c in calls {
            let _ = writeln!(
                csv,
                "{};{};{};{};{};{}",
                c.exten,
                c.media_port,
                c.caller,
                c.codec.payload_type,
                c.codec.name(),
                c.codec.ptime_ms
            );
        }
        fs::write(dir.join("calls.csv"), csv).unwrap();
        fs::write(dir.join("scenario.xml"), scenario(&ports, ending)).unwrap();
        let child = Command::new(sipp().expect("sipp"))
            .arg(format!("127.0.0.1:{sip_port}"))
            .args([
                "-sf",
                "scenario.xml",
                "-inf",
                "calls.csv",
                "-i",
                "127.0.0.1",
                "-p",
            ])
            .arg(caller_port.to_string())
            .args([
                "-m",
                &calls.len().to_string(),
                "-l",
                &calls.len().to_string(),
            ])
            .args(["-r", "50", "-timeout", "60", "-nostdin", "-trace_err"])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sipp");
        Sipp {
            child: Some(child),
            dir,
            ports,
        }
    }

    /// Where Asterisk sends the call's media from, once answered: the port
    /// of its SDP answer to the call whose media is on `media_port`.
    pub fn asterisk_media(&self, media_port: u16, timeout: Duration) -> Option<SocketAddr> {
        let t0 = Instant::now();
        while t0.elapsed() < timeout {
            let text = fs::read_to_string(&self.ports).unwrap_or_default();
            for line in text.lines() {
                let mut w = line.split_whitespace();
                if w.next().and_then(|p| p.parse().ok()) == Some(media_port) {
                    let port = w.next()?.parse().ok()?;
                    return Some(SocketAddr::from(([127, 0, 0, 1], port)));
                }
            }
            thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Waits for sipp to finish; whether every call went as scripted.
    pub fn finished(&mut self, timeout: Duration) -> Result<(), String> {
        let mut child = self.child.take().expect("running");
        let t0 = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                if status.success() {
                    return Ok(());
                }
                let errors = fs::read_dir(&self.dir)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .filter(|e| e.file_name().to_string_lossy().ends_with("_errors.log"))
                    .map(|e| fs::read_to_string(e.path()).unwrap_or_default())
                    .collect::<String>();
                return Err(format!("sipp ended with {status}: {errors}"));
            }
            if t0.elapsed() > timeout {
                let _ = child.kill();
                return Err("sipp did not finish".into());
            }
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The caller's scenario: an INVITE offering the call's codec, packet
/// length and RFC 4733 events with the test's phone as its media, then a
/// BYE from the caller or from Asterisk.
fn scenario(ports: &Path, ending: Ending) -> String {
    let headers = "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n\
      From: \"Test Caller\" <sip:[field2]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]\n\
      To: <sip:[field0]@[remote_ip]:[remote_port]>[peer_tag_param]\n\
      Call-ID: [call_id]\n\
      Contact: sip:[field2]@[local_ip]:[local_port]\n\
      Max-Forwards: 70";
    let end = match ending {
        Ending::CallerHangsUp(after) => format!(
            "<pause milliseconds=\"{}\"/>\n\
             <send retrans=\"500\"><![CDATA[\n\
             BYE sip:[field0]@[remote_ip]:[remote_port] SIP/2.0\n{headers}\n\
             CSeq: 2 BYE\nContent-Length: 0\n\n]]></send>\n\
             <recv response=\"200\" crlf=\"true\"/>\n",
            after.as_millis()
        ),
        Ending::AsteriskHangsUp => "<recv request=\"BYE\" timeout=\"30000\"/>\n\
             <send><![CDATA[\nSIP/2.0 200 OK\n[last_Via:]\n[last_From:]\n[last_To:]\n\
             [last_Call-ID:]\n[last_CSeq:]\nContent-Length: 0\n\n]]></send>\n"
            .to_string(),
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?>\n\
         <scenario name=\"audiosocket caller\">\n\
         <send retrans=\"500\"><![CDATA[\n\
         INVITE sip:[field0]@[remote_ip]:[remote_port] SIP/2.0\n{headers}\n\
         CSeq: 1 INVITE\nContent-Type: application/sdp\nContent-Length: [len]\n\n\
         v=0\n\
         o=caller 1 1 IN IP4 127.0.0.1\n\
         s=-\n\
         c=IN IP4 127.0.0.1\n\
         t=0 0\n\
         m=audio [field1] RTP/AVP [field3] 101\n\
         a=rtpmap:[field3] [field4]/8000\n\
         a=rtpmap:101 telephone-event/8000\n\
         a=fmtp:101 0-16\n\
         a=ptime:[field5]\n\
         a=sendrecv\n\
         ]]></send>\n\
         <recv response=\"100\" optional=\"true\"/>\n\
         <recv response=\"180\" optional=\"true\"/>\n\
         <recv response=\"183\" optional=\"true\"/>\n\
         <recv response=\"200\" rtd=\"true\">\n\
         <action>\n\
         <ereg regexp=\"m=audio ([0-9]+)\" search_in=\"body\" check_it=\"true\" assign_to=\"m,port\"/>\n\
         <exec command=\"echo [field1] [$port] >> {}\"/>\n\
         </action>\n\
         </recv>\n\
         <send><![CDATA[\n\
         ACK sip:[field0]@[remote_ip]:[remote_port] SIP/2.0\n{headers}\n\
         CSeq: 1 ACK\nContent-Length: 0\n\n]]></send>\n\
         {end}\
         <Reference variables=\"m\"/>\n\
         </scenario>\n",
        ports.display()
    )
}

/// What the phone heard of a call.
#[derive(Default)]
pub struct Heard {
    /// Audio packets of the call's codec, and their samples.
    pub packets: usize,
    pub samples: Vec<i16>,
    /// When each audio packet came, and the mean of its samples.
    pub arrivals: Vec<(Instant, i32)>,
    /// Each audio packet's RTP sequence number, as `arrivals`: a gap is a
    /// packet lost on the way, no gap a frame Asterisk never sent.
    pub sequence: Vec<u16>,
    /// RFC 4733 events, one per digit (the event code, `0`-`9`, `*`, `#`).
    pub digits: Vec<u8>,
}

/// The test's side of a call's media: an RTP endpoint on loopback.
pub struct Phone {
    socket: UdpSocket,
    pub port: u16,
    pub codec: Codec,
    heard: Arc<Mutex<Heard>>,
    stop: Arc<AtomicBool>,
    listener: Option<JoinHandle<()>>,
}

impl Phone {
    /// A phone that hears from the moment it exists.
    pub fn new(codec: Codec) -> Phone {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = socket.local_addr().unwrap().port();
        let heard: Arc<Mutex<Heard>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (rx, h, st) = (socket.try_clone().unwrap(), heard.clone(), stop.clone());
        rx.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let listener = thread::spawn(move || {
            let mut buf = [0u8; 2048];
            let mut last_event: Option<u32> = None;
            while !st.load(Ordering::Relaxed) {
                let Ok(n) = rx.recv(&mut buf) else { continue };
                if n < 12 {
                    continue;
                }
                let pt = buf[1] & 0x7f;
                let timestamp = u32::from_be_bytes(buf[4..8].try_into().unwrap());
                let mut h = h.lock().unwrap();
                if pt == codec.payload_type {
                    h.packets += 1;
                    let at = Instant::now();
                    let start = h.samples.len();
                    h.samples
                        .extend(buf[12..n].iter().map(|b| codec.decode(*b)));
                    let got = &h.samples[start..];
                    let mean =
                        got.iter().map(|s| i32::from(*s)).sum::<i32>() / got.len().max(1) as i32;
                    h.arrivals.push((at, mean));
                    h.sequence.push(u16::from_be_bytes([buf[2], buf[3]]));
                } else if pt == 101 && n >= 16 && last_event != Some(timestamp) {
                    // One digit: many packets, one timestamp.
                    last_event = Some(timestamp);
                    h.digits.push(event_digit(buf[12]));
                }
            }
        });
        Phone {
            socket,
            port,
            codec,
            heard,
            stop,
            listener: Some(listener),
        }
    }

    /// The samples [`Phone::talk`] sends in `duration`: whole packets.
    pub fn samples_in(&self, duration: Duration) -> usize {
        (duration.as_millis() / u128::from(self.codec.ptime_ms)) as usize * self.codec.samples()
    }

    /// Talks to `to`: `duration` of a `freq` Hz tone at the codec's packet
    /// pace (whole packets), then, if given, one RFC 4733 digit. Returns
    /// when done.
    pub fn talk(&self, to: SocketAddr, freq: f64, duration: Duration, digit: Option<u8>) {
        self.talk_from(Instant::now(), to, freq, duration, digit)
    }

    /// As [`Phone::talk`], its first packet at `t0` (a phase of its own).
    pub fn talk_from(
        &self,
        t0: Instant,
        to: SocketAddr,
        freq: f64,
        duration: Duration,
        digit: Option<u8>,
    ) {
        let codec = self.codec;
        let period = Duration::from_millis(codec.ptime_ms.into());
        let packets = (duration.as_millis() / period.as_millis()) as u32;
        let (mut seq, mut ts, mut phase) = (1u16, 0u32, 0.0);
        thread::sleep(t0.saturating_duration_since(Instant::now()));
        for i in 0..packets {
            let pcm = tones::samples(&tones::tone(
                freq,
                8000,
                codec.samples(),
                8000.0,
                &mut phase,
            ));
            let mut pkt = rtp_header(codec.payload_type, false, seq, ts);
            pkt.extend(pcm.iter().map(|s| codec.encode(*s)));
            let _ = self.socket.send_to(&pkt, to);
            seq = seq.wrapping_add(1);
            ts = ts.wrapping_add(codec.samples() as u32);
            thread::sleep((t0 + period * (i + 1)).saturating_duration_since(Instant::now()));
        }
        if let Some(d) = digit {
            // RFC 4733: the event's packets share one timestamp; the last
            // three say it ended.
            let code = digit_event(d);
            for (n, end) in [
                (1u16, false),
                (2, false),
                (3, false),
                (4, true),
                (4, true),
                (4, true),
            ] {
                let mut pkt = rtp_header(101, n == 1, seq, ts);
                pkt.extend([code, if end { 0x80 | 10 } else { 10 }]);
                pkt.extend((n * 160).to_be_bytes());
                let _ = self.socket.send_to(&pkt, to);
                seq = seq.wrapping_add(1);
                thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// What it has heard so far.
    pub fn heard(&self) -> std::sync::MutexGuard<'_, Heard> {
        self.heard.lock().unwrap()
    }
}

impl Drop for Phone {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(l) = self.listener.take() {
            let _ = l.join();
        }
    }
}

fn rtp_header(payload_type: u8, marker: bool, seq: u16, ts: u32) -> Vec<u8> {
    let mut pkt = vec![0x80, payload_type | if marker { 0x80 } else { 0 }];
    pkt.extend(seq.to_be_bytes());
    pkt.extend(ts.to_be_bytes());
    pkt.extend(0x7e57_c411_u32.to_be_bytes());
    pkt
}

/// RFC 4733's event code for a digit.
fn digit_event(d: u8) -> u8 {
    match d {
        b'0'..=b'9' => d - b'0',
        b'*' => 10,
        b'#' => 11,
        b'A'..=b'D' => 12 + d - b'A',
        _ => 0,
    }
}

fn event_digit(code: u8) -> u8 {
    match code {
        0..=9 => b'0' + code,
        10 => b'*',
        11 => b'#',
        12..=15 => b'A' + code - 12,
        _ => b'?',
    }
}

/// An Asterisk taking SIP calls through `stack` into the `from-sipp`
/// context of `dialplan`, and its SIP port and the caller's; None (with a
/// SKIPPED line) without sipp or the stack.
pub fn asterisk(test: &str, stack: Stack, dialplan: &str) -> Option<(Asterisk, u16, u16)> {
    asterisk_with(test, stack, dialplan, &[])
}

/// As [`asterisk`], with more configuration files: (name, text).
pub fn asterisk_with(
    test: &str,
    stack: Stack,
    dialplan: &str,
    more: &[(&str, &str)],
) -> Option<(Asterisk, u16, u16)> {
    if sipp().is_none() {
        skip(test, "sipp is not installed (Debian's sip-tester)");
        return None;
    }
    let (sip_port, caller_port) = (free_udp_port(), free_udp_port());
    let files = stack.files(sip_port, caller_port, "from-sipp");
    let mut files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    files.extend_from_slice(more);
    let ast = Asterisk::start_with(
        test,
        Options {
            dialplan,
            needs: stack.modules(),
            files: &files,
            ..Options::default()
        },
    )?;
    Some((ast, sip_port, caller_port))
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
