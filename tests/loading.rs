//! Loading, unloading and describing the module in a real Asterisk.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::asterisk::Options;
use common::{Asterisk, TestServer, UUID};

const S: Duration = Duration::from_secs(1);
const MODULE: &str = "chan_audiosocket_rs.so";

fn dialplan() -> String {
    format!(
        "{}[dial]\nexten => _X.,1,Dial(AudioSocket/127.0.0.1:${{EXTEN}}/{UUID},,g)\n \
         same => n,Log(NOTICE,DIALED ${{EXTEN}} status=${{DIALSTATUS}})\n same => n,Hangup()\n\
         {}",
        common::app_context(),
        common::FAR_ENDS
    )
}

/// One call through the application and one through the channel driver,
/// each ended by the server after a little audio.
fn make_calls(ast: &Asterisk) {
    for (ctx, done) in [("app", "RESULT"), ("dial", "DIALED")] {
        let srv = TestServer::new();
        ast.originate(&format!("{}@{ctx}", srv.port), "1@tone");
        let mut conn = srv
            .accept(5 * S)
            .unwrap_or_else(|| panic!("{ctx}: the module connects"));
        assert_eq!(conn.read_msg(2 * S).unwrap().kind, 0x01);
        let audio = conn.read_for(Duration::from_millis(300));
        assert!(!audio.is_empty(), "{ctx}: audio flows");
        conn.hangup();
        ast.expect_log(&[&format!("{done} {}", srv.port)], 5 * S);
    }
    assert!(ast.wait_no_channels(5 * S), "calls ended");
}

#[test]
fn load_unload_and_load_again_repeatedly_with_calls_between() {
    let Some(ast) = Asterisk::start("load_unload_load", &dialplan()) else {
        return;
    };
    let shown = ast.cli("module show like audiosocket");
    assert!(
        shown.contains(MODULE) && shown.contains("AudioSocket app & driver "),
        "{shown}"
    );
    for round in 0..3 {
        make_calls(&ast);
        let out = ast.cli(&format!("module unload {MODULE}"));
        assert!(out.contains("Unloaded"), "round {round}: {out}");
        assert!(!ast.cli("module show like audiosocket").contains(MODULE));
        assert!(!ast
            .cli("core show applications like AudioSocket")
            .contains("AudioSocket:"));
        let out = ast.cli(&format!("module load {MODULE}"));
        assert!(
            out.contains("Loaded"),
            "round {round}: {out}\n{}",
            ast.log_tail()
        );
        assert!(ast.cli("module show like audiosocket").contains(MODULE));
    }
    make_calls(&ast);
    let log = ast.log();
    assert!(
        !log.contains("could not be completely unloaded"),
        "{}",
        ast.log_tail()
    );
    assert!(
        !log.contains("did not register itself"),
        "{}",
        ast.log_tail()
    );
}

#[test]
fn builtin_modules_holding_the_names_make_loading_decline_with_advice() {
    let Some(ast) = Asterisk::start_with(
        "builtin_conflict",
        Options {
            dialplan: &dialplan(),
            load_module: false,
            builtin: true,
            ..Options::default()
        },
    ) else {
        return;
    };
    if !ast
        .cli("module show like audiosocket")
        .contains("app_audiosocket.so")
    {
        eprintln!("this Asterisk has no built-in app_audiosocket; nothing to conflict with");
        return;
    }
    let out = ast.cli(&format!("module load {MODULE}"));
    assert!(!out.contains("Loaded"), "{out}");
    let line = ast.expect_log(
        &[
            "ERROR",
            "chan_audiosocket_rs",
            "noload => app_audiosocket.so",
        ],
        5 * S,
    );
    assert!(line.contains("noload => chan_audiosocket.so"), "{line}");
    ast.cli("module unload chan_audiosocket.so");
    ast.cli("module unload app_audiosocket.so");
    let out = ast.cli(&format!("module load {MODULE}"));
    assert!(out.contains("Loaded"), "{out}\n{}", ast.log_tail());
    make_calls(&ast);
}

/// What `core show application` prints, without its colours.
fn page(ast: &Asterisk) -> String {
    let raw = ast.cli("core show application AudioSocket");
    let mut plain = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            chars.by_ref().find(|c| c.is_ascii_alphabetic());
        } else {
            plain.push(c);
        }
    }
    plain
}

/// The text under `[name]` up to the next heading.
fn section<'a>(page: &'a str, name: &str) -> &'a str {
    let head = format!("[{name}]");
    let Some(at) = page.find(&head) else {
        return "";
    };
    let rest = &page[at + head.len()..];
    rest[..rest.find("\n[").unwrap_or(rest.len())].trim()
}

#[test]
fn core_show_application_documents_syntax_options_and_variables() {
    let Some(ast) = Asterisk::start("show_application", "") else {
        return;
    };
    // From the module's own XML page, as Asterisk shows its own applications.
    let doc = page(&ast);
    assert_eq!(
        section(&doc, "Syntax"),
        "AudioSocket(uuid,host:port[,options])",
        "{doc}"
    );
    assert_eq!(section(&doc, "Provided By"), "chan_audiosocket_rs", "{doc}");
    let arguments = section(&doc, "Arguments");
    for want in [
        "uuid",
        "host:port",
        "[IPv6 address]",
        "ws://host[:port]/path?query",
        "c(codec)",
        "slin16",
        "t(seconds)",
        "i(seconds)",
        "b:",
        "m([V1^V2])",
        "p(dialect)",
        "v(N1^P*)",
        "s([profile])",
        "r([seconds])",
    ] {
        assert!(arguments.contains(want), "missing {want:?} in:\n{doc}");
    }
    let description = section(&doc, "Description");
    for want in [
        "${AUDIOSOCKET_STATUS}",
        "${AUDIOSOCKET_ERROR_CODE}",
        "${AUDIOSOCKET_RESUMES}",
        "SERVER_HANGUP",
        "CONNECT_FAILED",
        "SERVER_LOST",
        "INVALID_ARGUMENTS",
    ] {
        assert!(description.contains(want), "missing {want:?} in:\n{doc}");
    }
}

#[test]
fn without_its_xml_page_the_application_shows_its_own_text_not_the_built_ins() {
    let test = "show_application_without_docs";
    let Some(ast) = Asterisk::start_with(
        test,
        Options {
            docs: Some(PathBuf::from("/nonexistent/chan_audiosocket_rs-en_US.xml")),
            ..Options::default()
        },
    ) else {
        return;
    };
    // Registered without text, Asterisk would show app_audiosocket's page
    // (core-en_US.xml holds one for the same name).
    let doc = page(&ast);
    assert!(!doc.contains("Transmit and receive PCM audio"), "{doc}");
    assert!(
        section(&doc, "Synopsis").starts_with("Stream a call's audio and DTMF"),
        "{doc}"
    );
    let description = section(&doc, "Description");
    for want in [
        "AudioSocket(uuid,host:port[,options])",
        "c(codec)",
        "r(seconds)",
        "AUDIOSOCKET_STATUS",
    ] {
        assert!(description.contains(want), "missing {want:?} in:\n{doc}");
    }
}

#[test]
fn unload_with_a_live_call_is_refused_and_allowed_after() {
    let Some(ast) = Asterisk::start("unload_live_call", &dialplan()) else {
        return;
    };
    let srv = TestServer::new();
    ast.originate(&format!("{}@app", srv.port), "1@tone");
    let mut conn = srv.accept_call();
    let t0 = Instant::now();
    let out = ast.cli(&format!("module unload {MODULE}"));
    assert!(
        t0.elapsed() < S,
        "refused at once, never waiting for the call"
    );
    assert!(!out.contains("Unloaded"), "{out}");
    ast.expect_log(&["chan_audiosocket_rs", "use count"], 5 * S);
    assert!(ast.cli("module show like audiosocket").contains(MODULE));
    // The call still works, and so do new ones.
    assert!(!conn.read_for(Duration::from_millis(300)).is_empty());
    let second = TestServer::new();
    ast.originate(&format!("{}@app", second.port), "1@tone");
    let mut other = second.accept_call();
    other.hangup();
    conn.hangup();
    ast.expect_log(&[&format!("RESULT {}", srv.port)], 5 * S);
    assert!(ast.wait_no_channels(5 * S));
    let out = ast.cli(&format!("module unload {MODULE}"));
    assert!(out.contains("Unloaded"), "{out}");
}

const TAP: &str = "11111111-2222-4333-8444-5555555555aa";

/// A call whose `;2` half taps itself, then talks to a tone (frames pass
/// the tap's audiohook all the time), or waits in silence (none do, so an
/// ended tap's audiohook stays on the channel).
fn tap_dialplan() -> String {
    format!(
        "[tapped]\nexten => _X.,1,Answer()\n \
         same => n,Set(AUDIOSOCKET_TAP({TAP})=127.0.0.1:${{EXTEN}})\n \
         same => n,Dial(Local/1@tone/n)\n\
         [tapped-quiet]\nexten => _X.,1,Answer()\n \
         same => n,Set(AUDIOSOCKET_TAP({TAP})=127.0.0.1:${{EXTEN}})\n \
         same => n,Wait(120)\n{}",
        common::FAR_ENDS
    )
}

/// The tapped channel, once its tap streams.
fn tapped_call(ast: &Asterisk, ctx: &str) -> (common::Conn, String) {
    let srv = TestServer::new();
    ast.originate(&format!("{}@{ctx}", srv.port), "1@silent");
    let mut conn = srv.accept(5 * S).expect("the tap connects");
    assert_eq!(conn.read_msg(2 * S).unwrap().kind, 0x01);
    let t0 = Instant::now();
    let chan = loop {
        let found = ast
            .cli("core show channels concise")
            .lines()
            .find(|l| l.contains(&format!("@{ctx}-")) && l.contains(";2"))
            .and_then(|l| l.split('!').next().map(String::from));
        if let Some(c) = found {
            break c;
        }
        assert!(t0.elapsed() < 5 * S, "the tapped call is up");
        std::thread::sleep(S / 20);
    };
    (conn, chan)
}

/// What `module unload` printed; "refused" when the command failed.
fn unload(ast: &Asterisk, how: &str) -> String {
    ast.try_cli(&format!("module unload {how}{MODULE}"))
        .unwrap_or_else(|| "refused".into())
}

#[test]
fn unload_after_taps_takes_back_what_they_left_and_never_crashes() {
    let Some((mut ast, mut ami)) = common::ami::start_with(
        "unload_after_taps",
        Options {
            dialplan: &tap_dialplan(),
            ..Options::default()
        },
        "",
    ) else {
        return;
    };
    let var = format!("AUDIOSOCKET_TAP({TAP})");
    // A live tap refuses every unload, forced or not, saying why.
    let (mut conn, chan) = tapped_call(&ast, "tapped");
    for how in ["", "-f "] {
        let out = unload(&ast, how);
        assert!(!out.contains("Unloaded"), "{how}: {out}");
    }
    ast.expect_log(&["WARNING", "session(s) (calls and taps) still running"], S);
    // Stopped: a plain unload now succeeds while the call goes on.
    assert!(ami.setvar(&chan, &var, ""));
    assert!(conn.wait_closed(2 * S));
    std::thread::sleep(S / 5);
    let out = unload(&ast, "");
    assert!(out.contains("Unloaded"), "{out}\n{}", ast.log_tail());
    std::thread::sleep(S);
    assert!(
        ast.cli("core show channels").contains(&chan),
        "the call goes on"
    );
    ast.cli("channel request hangup all");
    assert!(ast.wait_no_channels(10 * S));
    assert!(ast.alive());

    // A tap its server ended, on a channel no frame passes (its audiohook
    // is still attached): `module unload -f` takes it off.
    assert!(ast.cli(&format!("module load {MODULE}")).contains("Loaded"));
    let (mut conn, chan) = tapped_call(&ast, "tapped-quiet");
    conn.hangup();
    assert!(conn.wait_closed(2 * S));
    ami.wait_for("AudioSocketTapEnd", 5 * S, |m| {
        m.get("Event") == Some("AudioSocketTapEnd")
    });
    let out = unload(&ast, "-f ");
    assert!(out.contains("Unloaded"), "{out}\n{}", ast.log_tail());
    ast.expect_log(&["took the ended taps off 1 channel(s)"], S);
    std::thread::sleep(S);
    assert!(ast.cli("core show channels").contains(&chan));
    ast.cli("channel request hangup all");
    assert!(ast.wait_no_channels(10 * S));

    // A stopped tap on a call that talks on, then -f.
    assert!(ast.cli(&format!("module load {MODULE}")).contains("Loaded"));
    let (mut conn, chan) = tapped_call(&ast, "tapped");
    assert!(ami.setvar(&chan, &var, ""));
    assert!(conn.wait_closed(2 * S));
    let out = unload(&ast, "-f ");
    assert!(out.contains("Unloaded"), "{out}");
    std::thread::sleep(S);
    ast.cli("channel request hangup all");
    assert!(ast.wait_no_channels(10 * S));
    std::thread::sleep(S / 2);
    assert!(ast.alive(), "Asterisk survived\n{}", ast.stderr());
    assert!(ast.cli(&format!("module load {MODULE}")).contains("Loaded"));
}
