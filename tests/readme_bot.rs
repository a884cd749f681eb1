//! README's worked example, as written: its Python bot (standard library
//! only) greets a caller whose name the dialplan looked up, and hands back
//! a transfer whose target the dialplan checks before it dials.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::ami;
use common::asterisk::Options;
use common::readme::blocks;
use common::Asterisk;

const S: Duration = Duration::from_secs(1);

struct Bot(Child);

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_worked_examples_bot_and_dialplan_run_as_written() {
    let blocks = blocks("### A worked example");
    let find = |lang: &str| {
        blocks
            .iter()
            .find(|(l, _)| l == lang)
            .map(|(_, b)| b.clone())
            .unwrap_or_else(|| panic!("no {lang} block"))
    };
    let (ini, python) = (find("ini"), find("python"));
    let port = ami::free_port();
    // The README's dialplan, with the bot on loopback and the agents'
    // phones a context of the test's.
    let bot_context = ini
        .replace("bot.internal:9092", &format!("127.0.0.1:{port}"))
        .replace(
            "Dial(PJSIP/${TARGET},30)",
            "Dial(Local/${TARGET}@agents,30)",
        )
        .replace("Playback(sorry)", "Log(NOTICE,REFUSED ${BOT_TARGET})");
    let dialplan = format!(
        "{bot_context}\n[caller]\nexten => _X!,1,Set(CALLERID(num)=+4930123)\n \
         same => n,Goto(bot,200,1)\n\
         [agents]\nexten => _X.,1,Log(NOTICE,AGENT ${{EXTEN}} answers)\n same => n,Answer()\n \
         same => n,Wait(1)\n{}",
        common::FAR_ENDS
    );
    let Some(ast) = Asterisk::start_with(
        "readme_bot",
        Options {
            dialplan: &dialplan,
            needs: &[
                "func_callerid.so",
                "func_strings.so",
                "func_uuid.so",
                "func_db.so",
            ],
            ..Options::default()
        },
    ) else {
        return;
    };
    let script = ast.scratch().join("bot.py");
    std::fs::write(&script, python).unwrap();
    let out = ast.scratch().join("bot.out");
    let bot = Bot(Command::new("python3")
        .arg(&script)
        .arg(port.to_string())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 runs the bot"));
    let t0 = Instant::now();
    while !std::fs::read_to_string(&out)
        .unwrap_or_default()
        .contains("listening on port")
    {
        assert!(t0.elapsed() < 10 * S, "the bot listens");
        std::thread::sleep(S / 20);
    }
    ast.cli("database put customer/+4930123 name Zoe");
    ast.cli("database put customer/+4930123 account 881-204");
    ast.originate("1@caller", "1@silent");
    ast.expect_log(&["Ext.", "AGENT 6001 answers"], 10 * S);
    let said = std::fs::read_to_string(&out).unwrap();
    assert!(
        said.contains("saying: Hello Zoe, how can I help?"),
        "{said}"
    );
    ast.cli("channel request hangup all");
    assert!(ast.wait_no_channels(10 * S));
    drop(bot);
}
