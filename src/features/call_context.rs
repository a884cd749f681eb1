//! What the server learns of the call, read from the channel when the
//! session starts: option `m`'s context, and in the Twilio dialect the
//! stream `start` describes.

use crate::asterisk::channel::Channel;
use crate::asterisk::logger::{ast_log, Level};
use crate::call::args::CallArgs;
use crate::call::context::CallContext;
use crate::protocol::twilio::{sid, StreamInfo};
use crate::protocol::Rate;
use crate::session::websocket::Dialect;
use crate::session::SessionConfig;

/// Whose caller ID the server hears as the caller's.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// The channel's own caller ID: a call the dialplan runs on.
    CallerId,
    /// The channel's connected line: a channel `Dial()` placed, on which
    /// Asterisk put the calling party's identity there.
    ConnectedLine,
}

/// Fills in what `config` tells the server of the call: the context
/// (`0x23`) when the call asked for it (option `m`), and in the Twilio
/// dialect the stream's description, with the context as its
/// `customParameters`.
pub fn tell(
    chan: Channel<'_>,
    args: &CallArgs,
    config: &mut SessionConfig,
    caller: Caller,
    direction: Option<&'static str>,
) {
    let context = context(chan, args, config.rate, caller, direction);
    if args.dialect() == Some(Dialect::Twilio) {
        let mut parameters = Vec::new();
        if let Some(c) = &context {
            // Where bots written for Twilio look for the parties.
            parameters.push(("from_number".to_string(), c.caller_id_num.clone()));
            parameters.push(("to_number".to_string(), c.exten.clone()));
            parameters.extend(c.as_strings());
        }
        let digest = ring::digest::digest(&ring::digest::SHA256, chan.uniqueid().as_bytes());
        let mut call = [0u8; 16];
        call.copy_from_slice(&digest.as_ref()[..16]);
        config.twilio = Some(StreamInfo {
            stream_sid: sid("MZ", args.uuid.as_bytes()),
            call_sid: sid("CA", &call),
            account_sid: args
                .websocket
                .as_ref()
                .and_then(|w| w.twilio_account_sid.clone())
                .unwrap_or_else(|| sid("AC", &[0; 16])),
            tracks: args.twilio_tracks(),
            custom_parameters: parameters,
        });
    }
    config.context = context.map(|c| {
        let (json, dropped) = c.to_json();
        if !dropped.is_empty() {
            ast_log!(
                Level::Warning,
                "{}: the AudioSocket call context is too large for one message; sent without \
                 the values of {}",
                chan.name(),
                dropped.join(", ")
            );
        }
        json
    });
}

/// The call's context, when the call asked for it.
fn context(
    chan: Channel<'_>,
    args: &CallArgs,
    rate: Rate,
    caller: Caller,
    direction: Option<&'static str>,
) -> Option<CallContext> {
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
    Some(CallContext {
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
    })
}
