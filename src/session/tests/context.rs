//! The call-context extension over loopback: the context right after the
//! UUID and only with `m`; variables from the server by the rules (the
//! names allowed, distinct names up to the limit, updates at a bounded
//! rate), and nothing new without `m`.

use super::*;
use crate::session::{VariablePolicy, MAX_VARIABLES, UPDATES_PER_SECOND};

fn with_context(addr: ServerAddr, context: Option<&[u8]>) -> (Session, Arc<Captured>) {
    with_policy(addr, context, context.map(|_| "BOT_*^GREETING^V*"))
}

fn with_policy(
    addr: ServerAddr,
    context: Option<&[u8]>,
    allowed: Option<&str>,
) -> (Session, Arc<Captured>) {
    let log = Arc::new(Captured::default());
    let mut cfg = SessionConfig::new(UUID, addr, Rate::Hz8000, "Test/chan");
    cfg.context = context.map(<[u8]>::to_vec);
    cfg.variables = allowed.map(|a| VariablePolicy::parse(a, '^').unwrap());
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
    // Well formed, but not the call's to set.
    set_variable(&mut wire, b"NOTALLOWED=1");
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
    assert_eq!(s.stats().protocol_errors, 8 + 438);
}

#[test]
fn names_asterisk_acts_on_are_refused_even_when_everything_is_allowed() {
    let (l, addr) = listener();
    let (mut s, log) = with_policy(addr, Some(b"{}"), Some("*"));
    let (mut peer, _) = l.accept().unwrap();
    read_msg(&mut peer).unwrap();
    let mut wire = Vec::new();
    for steer in [
        &b"BRIDGE_FEATURES=T"[..],
        b"TRANSFER_CONTEXT=from-internal",
        b"DYNAMIC_FEATURES=evil",
        b"FORWARD_CONTEXT=trunk",
        b"OUTBOUND_GROUP=x",
        b"DIALSTATUS=ANSWER",
        b"GOSUB_RETVAL=1",
        b"AUDIOSOCKET_STATUS=SERVER_HANGUP",
        b"AUDIOSOCKET_ERROR_CODE=",
    ] {
        set_variable(&mut wire, steer);
    }
    set_variable(&mut wire, b"ANY_NAME=ok");
    wire.extend_from_slice(&[0, 0, 0]);
    peer.write_all(&wire).unwrap();
    let ev = pump(&mut s, Duration::from_secs(2));
    assert_eq!(variables(&ev), [("ANY_NAME".to_string(), "ok".to_string())]);
    let w = log.warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("named BRIDGE_FEATURES, which Asterisk acts on (main/features.c)"),
        "names the variable and why: {w:?}"
    );
    assert_eq!(s.stats().protocol_errors, 9);
}

#[test]
fn a_name_may_be_updated_all_call_long_at_a_bounded_rate() {
    let (l, addr) = listener();
    let (mut s, log) = with_policy(addr, None, Some("BOT_*"));
    let (mut peer, _) = l.accept().unwrap();
    read_msg(&mut peer).unwrap();
    // A burst far beyond the rate: the first MAX_VARIABLES pass.
    let mut wire = Vec::new();
    for i in 0..200 {
        set_variable(&mut wire, format!("BOT_STATUS={i}").as_bytes());
    }
    peer.write_all(&wire).unwrap();
    let burst = variables(&pump(&mut s, Duration::from_millis(300)));
    assert_eq!(burst.len(), MAX_VARIABLES);
    assert_eq!(burst.last().unwrap().1, (MAX_VARIABLES - 1).to_string());
    let w = log.warnings();
    assert!(
        w.len() == 1
            && w[0].contains(&format!(
                "more variables than {UPDATES_PER_SECOND} a second"
            )),
        "{w:?}"
    );
    // Then a bot that updates its status a few times a second, for longer
    // than any count would allow: every update is set.
    let mut set = Vec::new();
    for i in 0..12 {
        std::thread::sleep(Duration::from_millis(200));
        let mut wire = Vec::new();
        set_variable(&mut wire, format!("BOT_STATUS=late{i}").as_bytes());
        peer.write_all(&wire).unwrap();
        set.extend(variables(&pump(&mut s, Duration::from_millis(20))));
    }
    set.extend(variables(&pump(&mut s, Duration::from_millis(200))));
    let values: Vec<String> = set.into_iter().map(|(_, v)| v).collect();
    let want: Vec<String> = (0..12).map(|i| format!("late{i}")).collect();
    assert_eq!(values, want);
    // Updates count one name: a second name is still welcome.
    peer.write_all(&{
        let mut w = Vec::new();
        set_variable(&mut w, b"BOT_RESULT=done");
        w.extend_from_slice(&[0, 0, 0]);
        w
    })
    .unwrap();
    let ev = pump(&mut s, Duration::from_secs(1));
    assert_eq!(
        variables(&ev),
        [("BOT_RESULT".to_string(), "done".to_string())]
    );
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
