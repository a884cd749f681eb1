//! The text of the `audiosocket show ...` CLI commands. Pure, so the
//! layout is tested without Asterisk.

use std::fmt::Write;
use std::time::Duration;

use super::outcome::Status;
use crate::logging::escape_controls;
use crate::session::census::{SessionView, Totals};
use crate::session::fleet::AddressView;

/// The address a session reached, or "-" while it connects.
fn address(s: &SessionView) -> String {
    s.address.map_or("-".into(), |a| a.to_string())
}

/// Text from the dialplan or Asterisk, on one line of the console.
fn shown(text: &str) -> String {
    escape_controls(text).into_owned()
}

fn age(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// "call", or what a live tap streams ("tap both").
fn kind(s: &SessionView) -> String {
    s.tap.map_or("call".into(), |d| format!("tap {}", d.name()))
}

/// `audiosocket show sessions`: one line per live session.
pub fn sessions(list: &[SessionView]) -> String {
    let mut out = format!(
        "{:<32} {:<10} {:<36} {:<22} {:<22} {:>6} {:>8} {:>15} {:>21} {:>8} {:>13}\n",
        "Channel",
        "Kind",
        "UUID",
        "Server",
        "Address",
        "Rate",
        "Age",
        "Frames up/down",
        "Bytes up/down",
        "Buffer",
        "Drops up/down"
    );
    for s in list {
        let _ = writeln!(
            out,
            "{:<32} {:<10} {:<36} {:<22} {:<22} {:>6} {:>8} {:>15} {:>21} {:>5} ms {:>13}",
            shown(&s.channel),
            kind(s),
            s.uuid,
            shown(&s.server.to_string()),
            address(s),
            s.rate.hz(),
            age(s.age),
            format!("{}/{}", s.stats.frames_up, s.stats.frames_down),
            format!("{}/{}", s.stats.bytes_up, s.stats.bytes_down),
            s.buffered.as_millis(),
            format!("{}/{}", s.stats.dropped_up, s.stats.dropped_down),
        );
    }
    let _ = writeln!(
        out,
        "{} AudioSocket session{}",
        list.len(),
        if list.len() == 1 { "" } else { "s" }
    );
    out
}

/// The session whose channel name or UUID is `key`.
pub fn find<'a>(list: &'a [SessionView], key: &str) -> Option<&'a SessionView> {
    list.iter()
        .find(|s| s.channel == key || s.uuid.eq_ignore_ascii_case(key))
}

/// `audiosocket show session <uuid|channel>`.
pub fn session(s: &SessionView) -> String {
    let st = &s.stats;
    format!(
        "Channel:          {}\n\
         Kind:             {}\n\
         UUID:             {}\n\
         Server:           {}\n\
         Address:          {}\n\
         Encryption:       {}\n\
         State:            {}\n\
         Rate:             {} Hz ({})\n\
         Age:              {}\n\
         Frames up/down:   {}/{}\n\
         Bytes up/down:    {}/{}\n\
         Playout buffer:   {} ms\n\
         Dropped up/down:  {}/{}\n\
         Dropped digits:   {}\n\
         Dropped marks:    {}\n\
         Protocol errors:  {}\n\
         Resumes:          {}\n",
        shown(&s.channel),
        kind(s),
        s.uuid,
        shown(&s.server.to_string()),
        address(s),
        s.encryption.as_deref().unwrap_or("none"),
        if s.resuming {
            "resuming"
        } else if s.connected {
            "connected"
        } else {
            "connecting"
        },
        s.rate.hz(),
        s.rate.format_name(),
        age(s.age),
        st.frames_up,
        st.frames_down,
        st.bytes_up,
        st.bytes_down,
        s.buffered.as_millis(),
        st.dropped_up,
        st.dropped_down,
        st.dropped_dtmf,
        st.dropped_marks,
        st.protocol_errors,
        st.resumes,
    )
}

/// `audiosocket show stats`: `t` and `ended_with` since the module
/// loaded, and each server address calls have tried.
pub fn stats(
    t: &Totals,
    ended_with: impl Fn(Status) -> u64,
    live: usize,
    addresses: &[AddressView],
) -> String {
    let mut out = format!(
        "Sessions started:   {}\nSessions live:      {live}\nSessions ended by:\n",
        t.started
    );
    for status in Status::ALL {
        let _ = writeln!(out, "  {:<18}{}", status.name(), ended_with(status));
    }
    let _ = writeln!(
        out,
        "Connect failures:   {}\nProtocol errors:    {}\nBytes up:           {}\nBytes down:         {}\nDropped up:         {}\nDropped late:       {}\nResumes:            {}",
        ended_with(Status::ConnectFailed),
        t.protocol_errors,
        t.bytes_up,
        t.bytes_down,
        t.dropped_up,
        t.dropped_down,
        t.resumes
    );
    if !addresses.is_empty() {
        let _ = writeln!(
            out,
            "Server addresses (most recently used first):\n  {:<40} {:>9} {:>7}  Tried last",
            "Address", "Connected", "Failed"
        );
        for a in addresses.iter().take(SHOWN_ADDRESSES) {
            let _ = writeln!(
                out,
                "  {:<40} {:>9} {:>7}  {}",
                a.addr.to_string(),
                a.connected,
                a.failed,
                a.avoided_for.map_or("-".to_string(), |d| format!(
                    "{} s more",
                    d.as_secs().max(1)
                ))
            );
        }
        if addresses.len() > SHOWN_ADDRESSES {
            let _ = writeln!(
                out,
                "  ... and {} more, used less recently",
                addresses.len() - SHOWN_ADDRESSES
            );
        }
    }
    out
}

/// Addresses `audiosocket show stats` lists, at most.
const SHOWN_ADDRESSES: usize = 32;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Rate;
    use crate::session::{ServerAddr, StatsSnapshot, TapDirection};

    fn view() -> SessionView {
        SessionView {
            channel: "Local/100@bot-00000001;2".into(),
            uuid: "4ac0f7c4-5d2a-4c8e-9a43-2f1f4e6c9b10".into(),
            server: ServerAddr {
                host: "bots.internal".into(),
                port: 9092,
                shown: None,
            },
            address: Some("[::1]:9092".parse().unwrap()),
            encryption: Some("TLS 1.3, TLS13_AES_256_GCM_SHA384".into()),
            rate: Rate::Hz16000,
            tap: None,
            age: Duration::from_secs(3725),
            connected: true,
            resuming: false,
            stats: StatsSnapshot {
                frames_up: 10,
                bytes_up: 6430,
                dropped_up: 2,
                dropped_down: 3,
                dropped_dtmf: 4,
                dropped_marks: 5,
                frames_down: 9,
                bytes_down: 5760,
                protocol_errors: 1,
                resumes: 6,
            },
            buffered: Duration::from_millis(40),
        }
    }

    #[test]
    fn sessions_table_has_one_line_each_and_a_count() {
        let text = sessions(&[view()]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("Channel"));
        for want in [
            "Local/100@bot-00000001;2",
            "bots.internal:9092",
            "[::1]:9092",
            "16000",
            "1:02:05",
            "10/9",
            "6430/5760",
            "40 ms",
            " 2/3",
        ] {
            assert!(lines[1].contains(want), "{want} in {}", lines[1]);
        }
        assert_eq!(lines[2], "1 AudioSocket session");
        assert!(sessions(&[]).ends_with("0 AudioSocket sessions\n"));
        assert!(lines[1].contains(" call "), "{}", lines[1]);
    }

    #[test]
    fn a_tap_says_so_and_what_it_streams() {
        let tap = SessionView {
            tap: Some(TapDirection::Stereo),
            ..view()
        };
        let text = sessions(&[view(), tap.clone()]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[2].contains(" tap stereo "), "{text}");
        assert!(session(&tap).contains("Kind:             tap stereo\n"));
        assert!(session(&view()).contains("Kind:             call\n"));
    }

    #[test]
    fn one_session_is_found_by_channel_or_uuid() {
        let list = [view()];
        assert!(find(&list, "Local/100@bot-00000001;2").is_some());
        assert!(find(&list, "4AC0F7C4-5D2A-4C8E-9A43-2F1F4E6C9B10").is_some());
        assert!(find(&list, "Local/101").is_none());
        let text = session(&list[0]);
        assert!(text.contains("State:            connected"), "{text}");
        assert!(text.contains("Address:          [::1]:9092"), "{text}");
        let connecting = SessionView {
            address: None,
            connected: false,
            ..list[0].clone()
        };
        assert!(session(&connecting).contains("Address:          -\n"));
        let resuming = SessionView {
            resuming: true,
            ..list[0].clone()
        };
        assert!(session(&resuming).contains("State:            resuming\n"));
        assert!(text.contains("Encryption:       TLS 1.3, TLS13_AES_256_GCM_SHA384\n"));
        let plain = SessionView {
            encryption: None,
            ..list[0].clone()
        };
        assert!(session(&plain).contains("Encryption:       none\n"));
        assert!(
            text.contains("Rate:             16000 Hz (slin16)"),
            "{text}"
        );
        assert!(text.contains("Protocol errors:  1"), "{text}");
        assert!(text.contains("Resumes:          6"), "{text}");
        assert!(
            text.contains("Dropped digits:   4\nDropped marks:    5\n"),
            "{text}"
        );
        let odd = SessionView {
            channel: "Local/1@x\r\nforged-00000001;2".into(),
            ..list[0].clone()
        };
        assert!(session(&odd).contains("Channel:          Local/1@x\\r\\nforged-00000001;2\n"));
        assert_eq!(sessions(&[odd]).lines().count(), 3, "one line a session");
    }

    #[test]
    fn stats_list_every_end_reason() {
        let t = Totals {
            started: 7,
            ..Totals::default()
        };
        let ended = |s: Status| match s {
            Status::ServerHangup => 4,
            Status::ConnectFailed => 1,
            _ => 0,
        };
        let addresses = [
            AddressView {
                addr: "127.0.0.2:9092".parse().unwrap(),
                connected: 5,
                failed: 0,
                avoided_for: None,
            },
            AddressView {
                addr: "127.0.0.3:9092".parse().unwrap(),
                connected: 1,
                failed: 2,
                avoided_for: Some(Duration::from_millis(7400)),
            },
        ];
        let text = stats(&t, ended, 2, &addresses);
        for status in Status::ALL {
            assert!(text.contains(status.name()), "{status:?}: {text}");
        }
        assert!(text.contains("Sessions started:   7"));
        assert!(text.contains("Sessions live:      2"));
        assert!(text.contains("  SERVER_HANGUP     4\n"));
        assert!(text.contains("  CHANNEL_HANGUP    0\n"));
        assert!(text.contains("Connect failures:   1"));
        let rows: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with("Server addresses"))
            .collect();
        assert_eq!(rows.len(), 4, "{text}");
        assert!(
            rows[2].contains("127.0.0.2:9092") && rows[2].ends_with("5       0  -"),
            "{}",
            rows[2]
        );
        assert!(
            rows[3].contains("127.0.0.3:9092") && rows[3].ends_with("1       2  7 s more"),
            "{}",
            rows[3]
        );
        assert!(!stats(&t, ended, 0, &[]).contains("Server addresses"));
    }

    #[test]
    fn stats_stay_readable_however_many_addresses_were_tried() {
        let many: Vec<AddressView> = (0..300u32)
            .map(|i| AddressView {
                addr: std::net::SocketAddr::from((std::net::Ipv4Addr::from(0x0a00_0000 + i), 9092)),
                connected: 1,
                failed: 0,
                avoided_for: None,
            })
            .collect();
        let text = stats(&Totals::default(), |_| 0, 0, &many);
        let rows: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with("Server addresses"))
            .collect();
        assert_eq!(rows.len(), 2 + SHOWN_ADDRESSES + 1, "{text}");
        assert_eq!(
            rows.last().unwrap(),
            &"  ... and 268 more, used less recently"
        );
    }
}
