//! What the module leaves inside Asterisk that calls back into its code
//! after the call that put it there: a datastore's destroy function, an
//! audiohook's callback, a channel of its technology. `unload` must not
//! agree while any remains (a `module unload -f` would have Asterisk jump
//! into unmapped memory), and it says which remain, and on which channel.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::locks::lock;

struct Holding {
    what: &'static str,
    channel: String,
}

static HELD: Mutex<BTreeMap<u64, Holding>> = Mutex::new(BTreeMap::new());
static NEXT: AtomicU64 = AtomicU64::new(1);

/// One thing held inside Asterisk, for as long as this lives.
pub struct Held(u64);

impl Held {
    /// `what` (the words before the channel's name: "an audiohook on",
    /// "the channel") on `channel`.
    pub fn new(what: &'static str, channel: &str) -> Held {
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        lock(&HELD).insert(
            id,
            Holding {
                what,
                channel: channel.to_string(),
            },
        );
        Held(id)
    }

    /// The thing moved to another channel (a masquerade).
    pub fn moved_to(&self, channel: &str) {
        if let Some(h) = lock(&HELD).get_mut(&self.0) {
            h.channel = channel.to_string();
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        lock(&HELD).remove(&self.0);
    }
}

/// What is held now, one item each ("an audiohook on PJSIP/alice-00000001").
pub fn remaining() -> Vec<String> {
    lock(&HELD)
        .values()
        .map(|h| format!("{} {}", h.what, h.channel))
        .collect()
}
