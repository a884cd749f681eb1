//! Audiohooks: a Rust [`AudioHook`] sees every audio frame read from and
//! written to a channel it does not own (what MixMonitor and ChanSpy use),
//! and may change what the channel's party hears.
//!
//! The hook is a manipulate hook: Asterisk calls it on the thread that
//! reads or writes the channel, with the channel locked, and converts the
//! frame to signed linear for it. Its memory is ours: allocated at attach,
//! freed when Asterisk calls it one last time without a frame (the hook
//! left the channel: the channel hung up, or the hook asked to leave).

use std::ffi::{c_int, CStr};
use std::sync::Arc;

use super::channel::Channel;
use super::format::FormatView;
use super::guard::guard;
use super::module::ModuleRef;
use super::sys;

/// Which way a frame passes the channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookDirection {
    /// Read from the channel: what its party says.
    Read,
    /// Written to the channel: what its party hears.
    Write,
}

/// What the hook did with a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hooked {
    Unchanged,
    /// The samples were changed: Asterisk passes them on.
    Changed,
    /// Leave the channel: no further frames (then [`AudioHook::detached`]).
    Detach,
}

/// A voice frame passing the channel, in signed linear.
pub struct HookFrame<'a>(&'a mut sys::ast_frame);

impl HookFrame<'_> {
    /// Samples a second.
    pub fn rate(&self) -> u32 {
        // SAFETY: a voice frame's subclass is its format, which the frame
        // holds for as long as we borrow it.
        unsafe { FormatView::from_ptr(self.0.subclass.__bindgen_anon_1.format) }
            .map_or(0, |f| f.sample_rate())
    }

    /// The samples, little-endian (the host's order on every platform
    /// Asterisk runs this module on).
    pub fn pcm(&mut self) -> &mut [u8] {
        let len = self.0.datalen.max(0) as usize;
        // SAFETY: Asterisk calls the hook only with frames whose data holds
        // datalen bytes, and we borrow the frame mutably for the slice's life.
        let ptr = unsafe { self.0.data.ptr } as *mut u8;
        if ptr.is_null() || len == 0 {
            return &mut [];
        }
        // SAFETY: see above.
        unsafe { std::slice::from_raw_parts_mut(ptr, len) }
    }
}

pub trait AudioHook: Send + Sync + 'static {
    /// A voice frame passes the channel. Runs on the thread moving the
    /// channel's audio, with the channel locked: it must not wait.
    fn frame(
        &self,
        chan: Channel<'_>,
        direction: HookDirection,
        frame: &mut HookFrame<'_>,
    ) -> Hooked;

    /// The hook left the channel for good (its channel hung up, or it
    /// asked to). Called once; no frame follows.
    fn detached(&self);
}

/// What Asterisk holds: its audiohook first, so that the callback's
/// pointer is ours too.
#[repr(C)]
struct Attached<H> {
    raw: sys::ast_audiohook,
    hook: Arc<H>,
    /// Our callback lives in this module: it stays loaded while hooked.
    _module: ModuleRef,
}

unsafe extern "C" fn manipulate<H: AudioHook>(
    audiohook: *mut sys::ast_audiohook,
    chan: *mut sys::ast_channel,
    frame: *mut sys::ast_frame,
    direction: sys::ast_audiohook_direction,
) -> c_int {
    let attached = audiohook as *mut Attached<H>;
    if frame.is_null() {
        // SAFETY: the hook is off the channel's lists and Asterisk will not
        // call it again: the allocation made in `attach` is ours alone.
        let mut owned = unsafe { Box::from_raw(attached) };
        let hook = owned.hook.clone();
        guard(
            || "an audiohook leaving its channel".into(),
            (),
            || hook.detached(),
        );
        // SAFETY: initialised in attach and no longer used by Asterisk.
        unsafe { sys::ast_audiohook_destroy(&mut owned.raw) };
        return -1;
    }
    // SAFETY: while attached, Asterisk passes the live hook we allocated,
    // the channel it is on (locked) and a voice frame valid for the call.
    let (hook, chan, frame) = unsafe {
        (
            (*attached).hook.clone(),
            Channel::from_ptr(chan),
            &mut *frame,
        )
    };
    let Some(chan) = chan else { return -1 };
    let direction = if direction == sys::AST_AUDIOHOOK_DIRECTION_WRITE {
        HookDirection::Write
    } else {
        HookDirection::Read
    };
    let done = guard(
        || format!("{}: an audiohook", chan.name()),
        Hooked::Detach,
        || hook.frame(chan, direction, &mut HookFrame(frame)),
    );
    match done {
        Hooked::Changed => 0,
        Hooked::Unchanged => -1,
        Hooked::Detach => {
            // The lists drop a hook that is not running on the next frame,
            // then call us without one. (Asterisk's mutexes are recursive:
            // the hook's own lock, held around this call, may be taken.)
            // SAFETY: the hook is live and attached.
            unsafe {
                sys::ast_audiohook_update_status(audiohook, sys::AST_AUDIOHOOK_STATUS_SHUTDOWN)
            };
            -1
        }
    }
}

/// Attaches `hook` to `chan` under `source` (what Asterisk lists the hook
/// as); false if the channel is already hanging up.
pub fn attach<H: AudioHook>(chan: Channel<'_>, source: &'static CStr, hook: Arc<H>) -> bool {
    let attached = Box::new(Attached {
        // SAFETY: plain C data, initialised by ast_audiohook_init just below.
        raw: unsafe { std::mem::zeroed() },
        hook,
        _module: ModuleRef::take(),
    });
    let attached = Box::into_raw(attached);
    // SAFETY: attached points to our allocation, which stays put (boxed)
    // until the callback frees it; source lives for ever.
    unsafe {
        let raw = &mut (*attached).raw;
        sys::ast_audiohook_init(raw, sys::AST_AUDIOHOOK_TYPE_MANIPULATE, source.as_ptr(), 0);
        raw.manipulate_callback = Some(manipulate::<H>);
        if sys::ast_audiohook_attach(chan.as_ptr(), raw) != 0 {
            sys::ast_audiohook_destroy(raw);
            drop(Box::from_raw(attached));
            return false;
        }
    }
    true
}
