//! Audiohooks: a Rust [`AudioHook`] sees every audio frame read from and
//! written to a channel it does not own (what MixMonitor and ChanSpy use),
//! and may change what the channel's party hears.
//!
//! The hook is a manipulate hook: Asterisk calls it on the thread that
//! reads or writes the channel, with the channel locked, and converts the
//! frame to signed linear for it. Its memory is ours: allocated at attach,
//! freed when Asterisk calls it one last time without a frame (the hook
//! left the channel: the channel hung up, or the hook asked to leave), or
//! when the module takes it off the channel itself ([`Attachment::remove`],
//! before `unload` lets the module's code go). It is [`Held`] meanwhile.

use std::ffi::{c_int, CStr};
use std::sync::{Arc, Mutex};

use super::channel::Channel;
use super::format::FormatView;
use super::guard::guard;
use super::holdings::Held;
use super::sys;
use crate::locks::lock;

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
    /// The hook panicked (a bug): it leaves the channel, after
    /// [`AudioHook::failed`].
    Failed,
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

    /// [`AudioHook::frame`] panicked (the panic was logged): the hook is
    /// leaving the channel, and [`AudioHook::detached`] follows.
    fn failed(&self);
}

/// What Asterisk holds: its audiohook first, so that the callback's
/// pointer is ours too.
#[repr(C)]
struct Attached<H> {
    raw: sys::ast_audiohook,
    hook: Arc<H>,
    /// Where the allocation is while it is on a channel.
    place: Arc<Place>,
    /// Our callback lives in this module: unload waits for it to go.
    _held: Held,
}

/// The allocation's address while Asterisk may still call it; None once
/// it is freed. Changed only with the hook's channel locked.
#[derive(Default)]
struct Place(Mutex<Option<usize>>);

/// The module's handle on an attached hook, to take it off its channel.
pub struct Attachment {
    place: Arc<Place>,
    free: unsafe fn(*mut sys::ast_audiohook),
}

impl Attachment {
    /// Takes the hook off `chan` and frees it, if it is still there (then
    /// [`AudioHook::detached`] runs). `chan` must be the channel the hook
    /// is on (a masquerade moves hooks and datastores together), locked.
    pub fn remove(&self, chan: Channel<'_>) {
        let Some(addr) = lock(&self.place.0).take() else {
            return;
        };
        let raw = addr as *mut sys::ast_audiohook;
        // SAFETY: the hook was on chan's lists (Place said so, under the
        // channel's lock); removed from them, Asterisk no longer calls it,
        // and the allocation is ours alone to free, with its own type.
        unsafe {
            sys::ast_audiohook_remove(chan.as_ptr(), raw);
            (self.free)(raw);
        }
    }
}

/// Frees an `Attached<H>` that Asterisk no longer calls, telling its hook.
///
/// # Safety
/// `raw` is the allocation `attach::<H>` made, off every channel's lists,
/// and freed only here, once.
unsafe fn free<H: AudioHook>(raw: *mut sys::ast_audiohook) {
    // SAFETY: see the function's contract.
    let mut owned = unsafe { Box::from_raw(raw as *mut Attached<H>) };
    let hook = owned.hook.clone();
    guard(
        || "an audiohook leaving its channel".into(),
        (),
        || hook.detached(),
    );
    // SAFETY: initialised in attach and no longer used by Asterisk.
    unsafe { sys::ast_audiohook_destroy(&mut owned.raw) };
}

unsafe extern "C" fn manipulate<H: AudioHook>(
    audiohook: *mut sys::ast_audiohook,
    chan: *mut sys::ast_channel,
    frame: *mut sys::ast_frame,
    direction: sys::ast_audiohook_direction,
) -> c_int {
    let attached = audiohook as *mut Attached<H>;
    if frame.is_null() {
        // The hook is off the channel's lists and Asterisk will not call it
        // again: the allocation made in `attach` is ours alone.
        // SAFETY: attached is live until freed just below.
        let place = unsafe { (*attached).place.clone() };
        if lock(&place.0).take().is_some() {
            // SAFETY: as above; Place was still set, so nothing freed it.
            unsafe { free::<H>(audiohook) };
        }
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
        Hooked::Failed,
        || hook.frame(chan, direction, &mut HookFrame(frame)),
    );
    match done {
        Hooked::Changed => 0,
        Hooked::Unchanged => -1,
        Hooked::Detach | Hooked::Failed => {
            if done == Hooked::Failed {
                guard(
                    || format!("{}: an audiohook that failed", chan.name()),
                    (),
                    || hook.failed(),
                );
            }
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

/// The channel is already hanging up: no hook can be attached.
#[derive(Debug)]
pub struct AttachFailed;

/// Attaches `hook` to `chan` under `source` (what Asterisk lists the hook
/// as).
pub fn attach<H: AudioHook>(
    chan: Channel<'_>,
    source: &'static CStr,
    hook: Arc<H>,
) -> Result<Attachment, AttachFailed> {
    let place = Arc::new(Place::default());
    let attached = Box::new(Attached {
        // SAFETY: plain C data, initialised by ast_audiohook_init just below.
        raw: unsafe { std::mem::zeroed() },
        hook,
        place: place.clone(),
        _held: Held::new("an audiohook on", &chan.name()),
    });
    let attached = Box::into_raw(attached);
    *lock(&place.0) = Some(attached as usize);
    // SAFETY: attached points to our allocation, which stays put (boxed)
    // until `free` frees it; source lives for ever.
    unsafe {
        let raw = &mut (*attached).raw;
        sys::ast_audiohook_init(raw, sys::AST_AUDIOHOOK_TYPE_MANIPULATE, source.as_ptr(), 0);
        raw.manipulate_callback = Some(manipulate::<H>);
        if sys::ast_audiohook_attach(chan.as_ptr(), raw) != 0 {
            lock(&place.0).take();
            sys::ast_audiohook_destroy(raw);
            drop(Box::from_raw(attached));
            return Err(AttachFailed);
        }
    }
    Ok(Attachment {
        place,
        free: free::<H>,
    })
}
