//! The call-context extension over loopback: the context right after the
//! UUID and only with `m`; variables from the server by the rules, up to
//! the limit, and nothing new without `m`.

use super::*;

fn with_context(addr: ServerAddr, context: Option<&[u8]>) -> (Session, Arc<Captured>) {
    let log = Arc::new(Captured::default());
    let mut cfg = SessionConfig::new(UUID, addr, Rate::Hz8000, "Test/chan");
    cfg.context = context.map(<[u8]>::to_vec);
    (Session::start(cfg, log.clone()).unwrap(), log)
}

fn set_variable(wire: &mut Vec<u8>, payload: &[u8]) {
    wire.push(0x24);
    wire.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    wire.extend_from_slice(payload);
}

fn variables(events: &[(Instant, Event)]) -> Vec<(String, String)> {
    events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::SetVariable { name, value } => Some((name.clone(), value.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn the_context_comes_right_after_the_uuid_and_only_with_m() {
    for context in [Some(&br#"{"channel":"Test/chan","rate":8000}"#[..]), None] {
        let (l, addr) = listener();
        let (mut s, _log) = with_context(addr, context);
        let (mut peer, _) = l.accept().unwrap();
        assert_eq!(read_msg(&mut peer), Some((0x01, UUID.to_vec())));
        pump(&mut s, Duration::from_millis(200));
        s.send_audio(&[3; 320]);
        if let Some(json) = context {
            assert_eq!(read_msg(&mut peer), Some((0x23, json.to_vec())));
        }
        assert_eq!(read_msg(&mut peer), Some((0x10, vec![3; 320])));
    }
}

#[test]
fn a_servers_variables_are_set_by_the_rules_and_bad_ones_logged_once() {
    let (l, addr) = listener();
    let (mut s, log) = with_context(addr, Some(b"{}"));
    let (mut peer, _) = l.accept().unwrap();
    read_msg(&mut peer).unwrap();
    let mut wire = Vec::new();
    for bad in [
        &b"_INHERITED=1"[..],
        b"CDR(userfield)=x",
        b"TWO WORDS=x",
        b"BAD=line\r\nInjected: yes",
        b"BIN=\xff\xfe",
        b"NOEQUALS",
    ] {
        set_variable(&mut wire, bad);
    }
    set_variable(&mut wire, format!("{}=1", "N".repeat(65)).as_bytes());
    set_variable(&mut wire, b"BOT_RESULT=transfer");
    encode_audio(&mut wire, Rate::Hz8000, &[1; 320]);
    set_variable(&mut wire, "GREETING=Grüß \"Gott\"".as_bytes());
    // 500 more: 62 fit in the call's 64.
    for i in 0..500 {
        set_variable(&mut wire, format!("V{i}={i}").as_bytes());
    }
    wire.extend_from_slice(&[0, 0, 0]);
    peer.write_all(&wire).unwrap();
    let ev = pump(&mut s, Duration::from_secs(3));
    let set = variables(&ev);
    assert_eq!(set.len(), 64);
    assert_eq!(set[0], ("BOT_RESULT".into(), "transfer".into()));
    assert_eq!(set[1], ("GREETING".into(), "Grüß \"Gott\"".into()));
    assert_eq!(set[63], ("V61".into(), "61".into()));
    // In order with the audio around them.
    let kinds: Vec<&str> = ev
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Audio(_) => Some("audio"),
            Event::SetVariable { name, .. } if name != "BOT_RESULT" && name != "GREETING" => None,
            Event::SetVariable { .. } => Some("var"),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, ["var", "audio", "var"]);
    let w = log.warnings();
    assert_eq!(w.len(), 1, "one warning a call: {w:?}");
    assert!(
        w[0].contains("Test/chan")
            && w[0].contains("127.0.0.1")
            && w[0].contains("named '_INHERITED'"),
        "{w:?}"
    );
    assert_eq!(s.stats().protocol_errors, 7 + 438);
}

#[test]
fn without_m_a_variable_from_the_server_is_an_unknown_kind() {
    let (l, addr) = listener();
    let (mut s, log) = with_context(addr, None);
    let (mut peer, _) = l.accept().unwrap();
    read_msg(&mut peer).unwrap();
    let mut wire = Vec::new();
    set_variable(&mut wire, b"BOT_RESULT=transfer");
    wire.extend_from_slice(&[0, 0, 0]);
    peer.write_all(&wire).unwrap();
    let ev = pump(&mut s, Duration::from_secs(2));
    assert!(variables(&ev).is_empty());
    let w = log.warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("0x24") && w[0].contains("option m"), "{w:?}");
}
