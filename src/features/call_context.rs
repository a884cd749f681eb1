//! Option `m`: what the server learns of the call, read from the channel
//! when the session starts.

use crate::asterisk::channel::Channel;
use crate::asterisk::logger::{ast_log, Level};
use crate::call::args::CallArgs;
use crate::call::context::CallContext;
use crate::protocol::Rate;

/// Whose caller ID the server hears as the caller's.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// The channel's own caller ID: a call the dialplan runs on.
    CallerId,
    /// The channel's connected line: a channel `Dial()` placed, on which
    /// Asterisk put the calling party's identity there.
    ConnectedLine,
}

/// The JSON the session sends after the UUID, when the call asked for it.
pub fn json(
    chan: Channel<'_>,
    args: &CallArgs,
    rate: Rate,
    caller: Caller,
    direction: Option<&'static str>,
) -> Option<Vec<u8>> {
    let names = args.options.context.as_ref()?;
    let party = match caller {
        Caller::CallerId => chan.caller_id(),
        Caller::ConnectedLine => {
            let line = chan.connected_line();
            if line.number.is_some() || line.name.is_some() {
                line
            } else {
                chan.caller_id()
            }
        }
    };
    let place = chan.place();
    let context = CallContext {
        channel: chan.name(),
        uniqueid: chan.uniqueid(),
        linkedid: chan.linkedid(),
        caller_id_num: party.number.unwrap_or_default(),
        caller_id_name: party.name.unwrap_or_default(),
        exten: place.exten,
        context: place.context,
        language: place.language,
        rate: rate.hz(),
        variables: names.iter().map(|n| (n.clone(), chan.var(n))).collect(),
        direction,
    };
    let (json, dropped) = context.to_json();
    if !dropped.is_empty() {
        ast_log!(
            Level::Warning,
            "{}: the AudioSocket call context is too large for one message; sent without \
             the values of {}",
            chan.name(),
            dropped.join(", ")
        );
    }
    Some(json)
}
