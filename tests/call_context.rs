//! Option `m` on a real Asterisk: the call's context to the server as
//! JSON before any audio (parsed here by an independent JSON parser), and
//! variables from the server back to the dialplan, within the rules.

mod common;

use std::time::Duration;

use common::ami;
use common::ari::{self, string_field, Ari};
use common::asterisk::Options;
use common::server::Conn;
use common::{Asterisk, TestServer, UUID};
use serde_json::Value;

const S: Duration = Duration::from_secs(1);

/// What the dialplan gives the caller, quotes and all.
const NAME: &str = r#"Zoë "Q" O'Brien Ünal"#;

fn dialplan() -> String {
    let app = |ctx: &str, opts: &str| {
        format!(
            "[{ctx}]\nexten => _X.,1,Answer()\n \
             same => n,Set(CALLERID(num)=+4930123)\n \
             same => n,Set(CALLERID(name)={NAME})\n \
             same => n,Set(FOO=bar \\\\ baz)\n \
             same => n,Set(CHANNEL(language)=de)\n \
             same => n,AudioSocket({UUID},127.0.0.1:${{EXTEN}}{opts})\n \
             same => n,Log(NOTICE,RESULT ${{EXTEN}} status=${{AUDIOSOCKET_STATUS}} \
             result=${{BOT_RESULT}} target=${{BOT_TARGET}} inherited=${{INHERITED}} \
             lang=${{CHANNEL(language)}} v0=${{V0}} v61=${{V61}} v62=${{V62}})\n"
        )
    };
    [
        app("ctx-app", ",m(FOO^MISSING)v(BOT_*^V*)"),
        app("ctx-plain", ""),
        app("ctx-default", ",m"),
        format!(
            "[ctx-steer]\nexten => _X.,1,Answer()\n \
             same => n,AudioSocket({UUID},127.0.0.1:${{EXTEN}},m)\n \
             same => n,Log(NOTICE,STEER ${{EXTEN}} bf=${{BRIDGE_FEATURES}} tc=${{TRANSFER_CONTEXT}} \
             df=${{DYNAMIC_FEATURES}} fc=${{FORWARD_CONTEXT}} og=${{OUTBOUND_GROUP}} \
             ds=${{DIALSTATUS}} gr=${{GOSUB_RETVAL}} st=${{AUDIOSOCKET_STATUS}} \
             greeting=${{GREETING}} result=${{BOT_RESULT}})\n"
        ),
        // README's worked example, its Dial() to a Local channel.
        format!(
            "[ctx-worked]\nexten => _X.,1,Answer()\n \
             same => n,AudioSocket({UUID},127.0.0.1:${{EXTEN}},m)\n \
             same => n,GotoIf($[\"${{BOT_RESULT}}\" = \"transfer\"]?transfer)\n \
             same => n,Hangup()\n \
             same => n(transfer),Set(TARGET=${{FILTER(0-9,${{BOT_TARGET}})}})\n \
             same => n,GotoIf($[${{REGEX(\"^6[0-9]{{3}}$\" ${{TARGET}})}}]?:refused)\n \
             same => n,Dial(Local/${{TARGET}}@agents,30)\n \
             same => n,Hangup()\n \
             same => n(refused),Log(NOTICE,REFUSED ${{EXTEN}})\n \
             same => n,Hangup()\n\
             [agents]\nexten => _X.,1,Log(NOTICE,AGENT ${{EXTEN}} ${{CALLERID(num)}})\n same => n,Answer()\n same => n,Hangup()\n"
        ),
        format!(
            "[ctx-dial]\nexten => _X.,1,Set(CALLERID(num)=+4930999)\n \
             same => n,Set(CALLERID(name)=Bob Caller)\n \
             same => n,Set(__TICKET=T-42)\n \
             same => n,Dial(AudioSocket/127.0.0.1:${{EXTEN}}/{UUID}/m(TICKET^NONE),,g)\n \
             same => n,Log(NOTICE,DIALED ${{EXTEN}} dialstatus=${{DIALSTATUS}})\n"
        ),
        common::FAR_ENDS.into(),
    ]
    .join("\n")
}

/// The context a server got right after the UUID, parsed.
fn context_of(conn: &mut Conn) -> Value {
    let first = conn.read_msg(2 * S).expect("the UUID");
    assert_eq!(first.kind, 0x01);
    let ctx = conn.read_msg(2 * S).expect("the context");
    assert_eq!(ctx.kind, 0x23, "the context comes second");
    serde_json::from_slice(&ctx.payload)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&ctx.payload)))
}

fn set(conn: &mut Conn, payload: &[u8]) {
    conn.send(0x24, payload);
}

#[test]
fn the_application_sends_the_callers_context_and_reads_the_bots_results() {
    let Some(ast) = Asterisk::start_with(
        "context_app",
        Options {
            dialplan: &dialplan(),
            needs: &["func_callerid.so"],
            ..Options::default()
        },
    ) else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@ctx-app", srv.port), "1@tone");
    let mut conn = srv.accept(5 * S).expect("the module connects");
    let ctx = context_of(&mut conn);
    let chan = ctx["channel"].as_str().unwrap().to_string();
    assert!(
        chan.starts_with(&format!("Local/{}@ctx-app-", srv.port)),
        "{ctx}"
    );
    assert!(chan.ends_with(";2"), "{ctx}");
    assert_eq!(ctx["caller_id_num"], "+4930123");
    assert_eq!(ctx["caller_id_name"], NAME);
    assert_eq!(ctx["exten"], srv.port.to_string());
    assert_eq!(ctx["context"], "ctx-app");
    assert_eq!(ctx["language"], "de");
    assert_eq!(ctx["rate"], 8000);
    assert!(ctx["uniqueid"].as_str().is_some_and(|u| !u.is_empty()));
    assert!(ctx["linkedid"].as_str().is_some_and(|u| !u.is_empty()));
    assert_eq!(ctx["variables"]["FOO"], r"bar \\ baz");
    assert!(ctx["variables"]["MISSING"].is_null(), "{ctx}");
    assert!(ctx.get("direction").is_none());
    // Audio follows.
    assert_eq!(conn.read_msg(2 * S).unwrap().kind, 0x10);

    // A good variable among bad ones, then more than a call may set.
    for bad in [
        &b"_INHERITED=1"[..],
        b"CHANNEL(language)=fr",
        b"TWO WORDS=x",
        b"BAD=line\r\nInjected: yes",
        b"BIN=\xff\xfe",
    ] {
        set(&mut conn, bad);
    }
    set(&mut conn, format!("{}=x", "L".repeat(65)).as_bytes());
    set(&mut conn, b"BOT_RESULT=transfer");
    set(&mut conn, b"BOT_TARGET=6001");
    for i in 0..500 {
        set(&mut conn, format!("V{i}={i}").as_bytes());
    }
    conn.hangup();
    // The NOTICE Log() writes, not the line that says it runs.
    let line = ast.expect_log(&[&format!("RESULT {}", srv.port), "Ext."], 5 * S);
    for want in [
        "status=SERVER_HANGUP",
        "result=transfer",
        "target=6001",
        "inherited= ",
        "lang=de",
    ] {
        assert!(line.contains(want), "{want} in {line}");
    }
    // 64 a call: BOT_RESULT, BOT_TARGET, then V0 to V61.
    assert!(line.ends_with("v0=0 v61=61 v62="), "{line}");
    let warnings: Vec<String> = ast
        .log()
        .lines()
        .filter(|l| l.contains("WARNING") && l.contains("a variable"))
        .map(String::from)
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains(&chan) && warnings[0].contains(&format!("127.0.0.1:{}", srv.port)),
        "names the channel and the server: {}",
        warnings[0]
    );
    assert!(
        warnings[0].contains("named '_INHERITED'"),
        "{}",
        warnings[0]
    );
}

#[test]
fn without_m_a_server_sees_no_context_and_sets_nothing() {
    let Some(ast) = Asterisk::start_with(
        "context_plain",
        Options {
            dialplan: &dialplan(),
            needs: &["func_callerid.so"],
            ..Options::default()
        },
    ) else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@ctx-plain", srv.port), "1@tone");
    let mut conn = srv.accept_call();
    assert_eq!(
        conn.read_msg(2 * S).unwrap().kind,
        0x10,
        "audio right after the UUID"
    );
    set(&mut conn, b"BOT_RESULT=transfer");
    conn.hangup();
    let line = ast.expect_log(&[&format!("RESULT {}", srv.port)], 5 * S);
    assert!(line.contains("result= "), "{line}");
    ast.expect_log(&["WARNING", "0x24", "option m"], S);
}

#[test]
fn the_driver_sends_the_calling_party_and_inherited_variables_and_ari_sees_results() {
    let Some((ast, mut ami)) = ami::start_with(
        "context_driver",
        Options {
            dialplan: &dialplan(),
            needs: &["func_callerid.so"],
            ..Options::default()
        },
        "",
    ) else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@ctx-dial", srv.port), "1@tone");
    let mut conn = srv.accept(5 * S).expect("the module connects");
    let ctx = context_of(&mut conn);
    let chan = ctx["channel"].as_str().unwrap().to_string();
    assert_eq!(chan, format!("AudioSocket/127.0.0.1:{}-{UUID}", srv.port));
    assert_eq!(ctx["caller_id_num"], "+4930999", "{ctx}");
    assert_eq!(ctx["caller_id_name"], "Bob Caller", "{ctx}");
    assert_eq!(ctx["variables"]["TICKET"], "T-42", "{ctx}");
    assert!(ctx["variables"]["NONE"].is_null());
    set(&mut conn, b"BOT_RESULT=done");
    let varset = ami.wait_for("VarSet BOT_RESULT", 5 * S, |m| {
        m.get("Event") == Some("VarSet") && m.get("Variable") == Some("BOT_RESULT")
    });
    assert_eq!(varset.field("Channel"), chan);
    assert_eq!(varset.field("Value"), "done");
    conn.hangup();
    ast.expect_log(&[&format!("DIALED {}", srv.port)], 5 * S);
}

#[test]
fn ari_external_media_carries_m_in_its_data() {
    let port = ami::free_port();
    let files = ari::files(port);
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let Some(ast) = Asterisk::start_with(
        "context_ari",
        Options {
            dialplan: common::FAR_ENDS,
            needs: ari::MODULES,
            files: &files,
            ..Options::default()
        },
    ) else {
        return;
    };
    let ari = Ari::connect(port, "bot");
    let srv = TestServer::new();
    let media = ari.ok(
        "POST",
        &format!(
            "channels/externalMedia?app=bot&external_host=127.0.0.1:{}&format=slin16\
             &encapsulation=audiosocket&transport=tcp&data={UUID}/m",
            srv.port
        ),
    );
    let id = string_field(&media, "id").unwrap();
    let mut conn = srv.accept(5 * S).expect("the module connects");
    let ctx = context_of(&mut conn);
    assert_eq!(
        ctx["channel"],
        format!("AudioSocket/127.0.0.1:{}-{UUID}", srv.port)
    );
    assert_eq!(ctx["uniqueid"], id.as_str());
    assert_eq!(ctx["rate"], 16000);
    assert_eq!(ctx["variables"], serde_json::json!({}));
    set(&mut conn, b"BOT_RESULT=from-ari");
    let t0 = std::time::Instant::now();
    loop {
        // 404 until the variable is set.
        let (_, body) = ari.request(
            "GET",
            &format!("channels/{id}/variable?variable=BOT_RESULT"),
        );
        if string_field(&body, "value").as_deref() == Some("from-ari") {
            break;
        }
        assert!(t0.elapsed() < 5 * S, "{body}");
        std::thread::sleep(S / 20);
    }
    ari.ok("DELETE", &format!("channels/{id}"));
    assert!(conn.wait_closed(5 * S));
    assert!(ast.wait_no_channels(10 * S));
}

/// A server sets what `server_variables` allows (BOT_* by default), and
/// never what Asterisk acts on: transfers, feature codes, routing, results.
#[test]
fn a_server_cannot_set_what_asterisk_acts_on() {
    let Some(ast) = Asterisk::start_with(
        "context_steer",
        Options {
            dialplan: &dialplan(),
            needs: &["func_callerid.so"],
            ..Options::default()
        },
    ) else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@ctx-steer", srv.port), "1@tone");
    let mut conn = srv.accept(5 * S).expect("the module connects");
    context_of(&mut conn);
    for steer in [
        &b"BRIDGE_FEATURES=T"[..],
        b"TRANSFER_CONTEXT=from-internal",
        b"DYNAMIC_FEATURES=evil",
        b"FORWARD_CONTEXT=trunk",
        b"OUTBOUND_GROUP=x",
        b"DIALSTATUS=ANSWER",
        b"GOSUB_RETVAL=1",
        b"AUDIOSOCKET_STATUS=TIMEOUT",
        b"GREETING=hello",
        b"BOT_RESULT=ok",
    ] {
        set(&mut conn, steer);
    }
    conn.hangup();
    let line = ast.expect_log(&[&format!("STEER {}", srv.port), "Ext."], 5 * S);
    assert!(
        line.ends_with("bf= tc= df= fc= og= ds= gr= st=SERVER_HANGUP greeting= result=ok"),
        "{line}"
    );
    ast.expect_log(
        &[
            "WARNING",
            "named BRIDGE_FEATURES, which Asterisk acts on (main/features.c)",
        ],
        S,
    );
}

/// `server_variables` in audiosocket.conf replaces the default list.
#[test]
fn server_variables_in_audiosocket_conf_say_what_a_call_may_set() {
    let Some(ast) = Asterisk::start_with(
        "context_conf",
        Options {
            dialplan: &dialplan(),
            needs: &["func_callerid.so"],
            files: &[(
                "audiosocket.conf",
                "[general]\nserver_variables = GREETING, LEAD_*\n",
            )],
            ..Options::default()
        },
    ) else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@ctx-steer", srv.port), "1@tone");
    let mut conn = srv.accept(5 * S).expect("the module connects");
    context_of(&mut conn);
    set(&mut conn, b"GREETING=hello");
    set(&mut conn, b"BOT_RESULT=ok");
    conn.hangup();
    let line = ast.expect_log(&[&format!("STEER {}", srv.port), "Ext."], 5 * S);
    assert!(line.ends_with("greeting=hello result="), "{line}");
    ast.expect_log(
        &[
            "WARNING",
            "named BOT_RESULT, which the call does not allow (it allows GREETING, LEAD_*)",
        ],
        S,
    );
}

/// README's worked example: the target a bot chose reaches Dial() only
/// as four digits; anything else is refused.
#[test]
fn the_worked_example_dials_only_a_target_of_the_right_form() {
    let Some(ast) = Asterisk::start_with(
        "context_worked",
        Options {
            dialplan: &dialplan(),
            needs: &["func_callerid.so", "func_strings.so"],
            ..Options::default()
        },
    ) else {
        return;
    };
    for (target, dialled) in [
        ("6001", true),
        ("6001&Local/900@trunk", false),
        ("", false),
        ("1234", false),
    ] {
        let srv = TestServer::new();
        ast.originate(&format!("{}@ctx-worked", srv.port), "1@tone");
        let mut conn = srv.accept(5 * S).expect("the module connects");
        context_of(&mut conn);
        set(&mut conn, b"BOT_RESULT=transfer");
        set(&mut conn, format!("BOT_TARGET={target}").as_bytes());
        conn.hangup();
        let want = if dialled {
            "AGENT 6001".to_string()
        } else {
            format!("REFUSED {}", srv.port)
        };
        ast.expect_log(&["Ext.", &want], 5 * S);
        assert!(ast.wait_no_channels(5 * S));
    }
    assert!(ast
        .log()
        .lines()
        .all(|l| !l.contains("AGENT 900") && !l.contains("@trunk-")));
}
