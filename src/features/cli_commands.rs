//! The `audiosocket show ...` CLI commands.

use std::ffi::CStr;

use crate::asterisk::cli::{CliCommand, CliOutcome};
use crate::call::cli_text as report;
use crate::call::outcome;
use crate::session::{census, fleet};

pub struct ShowSessions;

impl CliCommand for ShowSessions {
    const COMMAND: &'static CStr = c"audiosocket show sessions";
    const SUMMARY: &'static CStr = c"List live AudioSocket sessions";
    const USAGE: &'static CStr = c"Usage: audiosocket show sessions
       One line per live AudioSocket session: channel, UUID, server, rate,
       age, frames and bytes each way, server audio buffered, dropped frames.
";

    fn run(argv: &[String], out: &mut dyn FnMut(&str)) -> CliOutcome {
        if argv.len() != 3 {
            return CliOutcome::ShowUsage;
        }
        out(&report::sessions(&census::sessions()));
        CliOutcome::Success
    }
}

pub struct ShowSession;

impl CliCommand for ShowSession {
    const COMMAND: &'static CStr = c"audiosocket show session";
    const SUMMARY: &'static CStr = c"Show one AudioSocket session in detail";
    const USAGE: &'static CStr = c"Usage: audiosocket show session <uuid|channel>
       Shows one live AudioSocket session, found by its UUID or channel name.
";

    fn run(argv: &[String], out: &mut dyn FnMut(&str)) -> CliOutcome {
        let [_, _, _, key] = argv else {
            return CliOutcome::ShowUsage;
        };
        let list = census::sessions();
        match report::find(&list, key) {
            Some(s) => out(&report::session(s)),
            None => out(&format!(
                "No AudioSocket session with UUID or channel '{key}'\n"
            )),
        }
        CliOutcome::Success
    }

    fn complete(pos: usize) -> Vec<String> {
        if pos != 3 {
            return Vec::new();
        }
        census::sessions()
            .into_iter()
            .flat_map(|s| [s.channel, s.uuid])
            .collect()
    }
}

pub struct ShowStats;

impl CliCommand for ShowStats {
    const COMMAND: &'static CStr = c"audiosocket show stats";
    const SUMMARY: &'static CStr = c"Show AudioSocket totals since the module loaded";
    const USAGE: &'static CStr = c"Usage: audiosocket show stats
       Sessions started and ended by each end reason, connect failures,
       protocol errors and bytes each way since the module loaded, and each
       server address calls have tried: calls connected, failed attempts,
       and whether it is tried last for now after a failure.
";

    fn run(argv: &[String], out: &mut dyn FnMut(&str)) -> CliOutcome {
        if argv.len() != 3 {
            return CliOutcome::ShowUsage;
        }
        let live = census::sessions().len();
        out(&report::stats(
            &census::totals(),
            outcome::ended_with,
            live,
            &fleet::addresses(),
        ));
        CliOutcome::Success
    }
}
