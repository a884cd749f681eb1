//! A small AMI client for the tests: logs in, reads events, sends actions.

use std::io::{BufRead, BufReader, Write};

use super::asterisk::{Asterisk, Options};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A `manager.conf` that listens on loopback `port` for user test/test,
/// adding `channelvars` to every channel event.
pub fn manager_conf(port: u16, channelvars: &str) -> String {
    format!(
        "[general]\nenabled = yes\nport = {port}\nbindaddr = 127.0.0.1\n\
         channelvars = {channelvars}\n\n\
         [test]\nsecret = test\nread = all\nwrite = all\n"
    )
}

/// Starts an Asterisk with `dialplan` and `files` whose AMI adds
/// `channelvars` to channel events, and logs in to it.
pub fn start(
    test: &str,
    dialplan: &str,
    channelvars: &str,
    files: &[(&str, &str)],
) -> Option<(Asterisk, Ami)> {
    start_with(
        test,
        Options {
            dialplan,
            files,
            ..Options::default()
        },
        channelvars,
    )
}

/// As [`start`], with more of the instance's options.
pub fn start_with(test: &str, opts: Options<'_>, channelvars: &str) -> Option<(Asterisk, Ami)> {
    let port = free_port();
    let manager = manager_conf(port, channelvars);
    let mut all = opts.files.to_vec();
    all.push(("manager.conf", &manager));
    let ast = Asterisk::start_with(
        test,
        Options {
            files: &all,
            ..opts
        },
    )?;
    Some((ast, Ami::connect(port)))
}

/// A free TCP port on loopback (for AMI, HTTP and the like).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One AMI event or response: its `Key: Value` lines in order.
#[derive(Clone, Debug)]
pub struct Message(pub Vec<(String, String)>);

impl Message {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key`; a missing key fails the test.
    pub fn field(&self, key: &str) -> &str {
        self.get(key)
            .unwrap_or_else(|| panic!("no {key} in {:?}", self.0))
    }

    /// Every value of `key` (ChanVariable appears once per variable).
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

pub struct Ami {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    /// Where AMI listens: another connection may be made to it.
    pub port: u16,
}

impl Ami {
    /// Connects to `port` and logs in as test/test.
    pub fn connect(port: u16) -> Ami {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("AMI listens");
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let writer = stream.try_clone().unwrap();
        let mut ami = Ami {
            reader: BufReader::new(stream),
            writer,
            port,
        };
        ami.send("Action: Login\r\nUsername: test\r\nSecret: test\r\n");
        ami
    }

    /// Sends an action (lines without the final blank line).
    pub fn send(&mut self, action: &str) {
        self.writer
            .write_all(format!("{action}\r\n").as_bytes())
            .unwrap();
    }

    /// The next message for which `pick` holds; fails the test after `timeout`.
    pub fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        pick: impl Fn(&Message) -> bool,
    ) -> Message {
        let deadline = Instant::now() + timeout;
        let mut fields = Vec::new();
        loop {
            assert!(
                Instant::now() < deadline,
                "no AMI {what} within {timeout:?}"
            );
            let mut line = String::new();
            match self.reader.read_line(&mut line) {
                Ok(0) => panic!("AMI closed"),
                Ok(_) => {}
                Err(_) => continue,
            }
            let line = line.trim_end();
            if line.is_empty() {
                let msg = Message(std::mem::take(&mut fields));
                if pick(&msg) {
                    return msg;
                }
            } else if let Some((k, v)) = line.split_once(": ") {
                fields.push((k.to_string(), v.to_string()));
            }
        }
    }

    /// Sends `action` (lines without the final blank line) and returns its
    /// response.
    pub fn action(&mut self, action: &str) -> Message {
        static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let id = format!(
            "t{}",
            SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        self.send(&format!("{}\r\nActionID: {id}\r\n", action.trim_end()));
        self.wait_for(
            &format!("response to {action:?}"),
            Duration::from_secs(5),
            |m| m.get("ActionID") == Some(id.as_str()) && m.get("Response").is_some(),
        )
    }

    /// `Setvar` on `channel`; whether Asterisk accepted it.
    pub fn setvar(&mut self, channel: &str, variable: &str, value: &str) -> bool {
        let r = self.action(&format!(
            "Action: Setvar\r\nChannel: {channel}\r\nVariable: {variable}\r\nValue: {value}\r\n"
        ));
        r.field("Response") == "Success"
    }

    /// `Getvar` on `channel`: the value, or None if Asterisk refused.
    pub fn getvar(&mut self, channel: &str, variable: &str) -> Option<String> {
        let r = self.action(&format!(
            "Action: Getvar\r\nChannel: {channel}\r\nVariable: {variable}\r\n"
        ));
        (r.field("Response") == "Success").then(|| r.get("Value").unwrap_or("").to_string())
    }

    /// The next event named `name`.
    pub fn event(&mut self, name: &str, timeout: Duration) -> Message {
        self.wait_for(name, timeout, |m| m.get("Event") == Some(name))
    }
}
