//! `AUDIOSOCKET(...)`: the controls of a live session for whoever does not
//! own its socket (the dialplan, AMI's Setvar and Getvar, ARI's channel
//! variables), on the channel running `AudioSocket()` or on an
//! `AudioSocket/` channel.

use std::ffi::CStr;

use super::call_end::STATUS_VAR;
use crate::asterisk::channel::Channel;
use crate::asterisk::function::DialplanFunction;
use crate::session::{census, Remote};

pub struct AudioSocketFunction;

/// A mark's id, at most: it travels in AMI events.
const MAX_MARK: usize = 255;

fn live(chan: Option<Channel<'_>>) -> Result<(Channel<'_>, Option<Remote>), String> {
    let chan = chan.ok_or("needs a channel")?;
    Ok((chan, census::remote(&chan.uniqueid())))
}

impl DialplanFunction for AudioSocketFunction {
    const NAME: &'static CStr = c"AUDIOSOCKET";
    const SYNOPSIS: &'static CStr = c"Control or inspect the channel's live AudioSocket session.";
    const SYNTAX: &'static CStr = c"AUDIOSOCKET(item)";
    const DESCRIPTION: &'static CStr =
        c"On a channel running AudioSocket() or an AudioSocket/ channel:

Write (Set(AUDIOSOCKET(item)=value), AMI Setvar, ARI channel variables):
  flush           Discard the server's audio not yet played; the caller hears
                  at most the frame playing now. The value is ignored.
  mark            Place a mark with the value as its id after the audio
                  queued so far; an AudioSocketMark AMI event (Source:
                  dialplan) follows once that audio has been played.
  report_drained  Send one AudioSocketQueueDrained AMI event when nothing is
                  left to play (at once if nothing is). The value is ignored.

Read (${AUDIOSOCKET(item)}, AMI Getvar):
  status          CONNECTING, CONNECTED or RESUMING (the server was lost and
                  option r looks for another) while a session is live, else
                  the AUDIOSOCKET_STATUS it ended with (empty if none ran).
  buffered_ms     Server audio queued and not yet played, in ms.
  resumes         Times the live session's stream has resumed.
  uuid            The live session's UUID.
  server          The server as the dialplan named it.
  address         The address it reached, once connected.
  encryption      none, or the TLS version and cipher suite, with
                  \", unverified\" when its profile does not check the server.

Writing when no session is live, or an unknown item, fails with a warning.";

    fn read(chan: Option<Channel<'_>>, arg: &str) -> Result<String, String> {
        let (chan, remote) = live(chan)?;
        let item = arg.trim().to_ascii_lowercase();
        Ok(match (item.as_str(), remote) {
            ("status", Some(r)) => if r.is_resuming() {
                "RESUMING"
            } else if r.is_connected() {
                "CONNECTED"
            } else {
                "CONNECTING"
            }
            .to_string(),
            ("resumes", r) => r.map_or(0, |r| r.resumes()).to_string(),
            ("status", None) => chan.get_var(STATUS_VAR),
            ("buffered_ms", r) => r.map_or(0, |r| r.buffered().as_millis()).to_string(),
            ("uuid", r) => r.map(|r| r.uuid).unwrap_or_default(),
            ("server", r) => r.map(|r| r.server.to_string()).unwrap_or_default(),
            ("address", r) => r
                .and_then(|r| r.address())
                .map(|a| a.to_string())
                .unwrap_or_default(),
            ("encryption", r) => r
                .and_then(|r| r.encryption())
                .unwrap_or_else(|| "none".into()),
            _ => {
                return Err(format!(
                    "unknown item '{arg}' (status, buffered_ms, resumes, uuid, server, \
                     address or encryption)"
                ))
            }
        })
    }

    fn write(chan: Option<Channel<'_>>, arg: &str, value: &str) -> Result<(), String> {
        let (chan, remote) = live(chan)?;
        let item = arg.trim().to_ascii_lowercase();
        if !matches!(item.as_str(), "flush" | "mark" | "report_drained") {
            return Err(format!(
                "unknown item '{arg}' (flush, mark or report_drained)"
            ));
        }
        let remote =
            remote.ok_or_else(|| format!("{}: no live AudioSocket session", chan.name()))?;
        match item.as_str() {
            "flush" => remote.flush(),
            "mark" => {
                let id = value.trim();
                if id.is_empty() || id.len() > MAX_MARK {
                    return Err(format!("a mark needs an id of 1 to {MAX_MARK} characters"));
                }
                if !remote.mark(id.as_bytes()) {
                    return Err(format!("{}: too many marks waiting", chan.name()));
                }
            }
            _ => remote.report_drained(),
        }
        Ok(())
    }
}
