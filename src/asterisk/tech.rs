//! Channel technology registration: a Rust [`Technology`] behind guarded C
//! entry points, with its per-channel state owned through `tech_pvt`.

use std::ffi::{c_char, c_int, c_uint, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Mutex;

use super::channel::Channel;
use super::format::{Caps, Format, Requested};
use super::frame::{borrowed_kind, null_frame, FrameKind, OutFrame};
use super::guard::guard;
use super::holdings::Held;
use super::logger::{ast_log, Level};
use super::module::ModuleRef;
use super::sys;
use crate::locks::lock;

/// What a technology hands back from `read`: a frame it keeps (valid until
/// its next read), nothing, or the end.
pub enum ReadResult<'p> {
    Frame(&'p mut OutFrame),
    /// Nothing to report this time.
    Nothing,
    /// Hang the channel up with this cause.
    Hangup(i32),
}

/// A new channel's particulars, from the technology's `request`.
pub struct NewChannel<P> {
    pub name: String,
    pub format: Format,
    pub pvt: P,
}

/// The per-channel state's wrapper: keeps the module loaded while it lives
/// (a reference for `module unload`, a holding for `module unload -f`).
struct PvtBox<P> {
    pvt: P,
    _module: ModuleRef,
    _held: Held,
}

pub trait Technology: 'static {
    type Pvt: Send;
    const TYPE: &'static CStr;
    const DESCRIPTION: &'static CStr;

    /// Every format a channel of this technology may have.
    fn capabilities() -> Vec<Format>;

    /// Parses the dial string and prepares a channel for a request that
    /// asked for `requested`; Err gives the log line and the hangup cause.
    fn request(
        addr: &str,
        requested: Requested<'_>,
    ) -> Result<NewChannel<Self::Pvt>, (String, i32)>;
    /// The channel exists (unlocked); set variables and the like.
    fn created(chan: Channel<'_>, pvt: &mut Self::Pvt);
    fn call(chan: Channel<'_>, pvt: &mut Self::Pvt) -> Result<(), String>;
    fn read<'p>(chan: Channel<'_>, pvt: &'p mut Self::Pvt) -> ReadResult<'p>;
    fn write(chan: Channel<'_>, pvt: &mut Self::Pvt, frame: FrameKind<'_>);
    fn digit_end(chan: Channel<'_>, pvt: &mut Self::Pvt, digit: u8);
    /// The channel is going away; the state is dropped after this.
    fn hangup(chan: Channel<'_>, pvt: &mut Self::Pvt);
}

fn pvt_of<'a, T: Technology>(chan: Channel<'_>) -> Option<&'a mut T::Pvt> {
    let p = chan.tech_pvt() as *mut PvtBox<T::Pvt>;
    // SAFETY: tech_pvt is either null or the PvtBox we leaked in request,
    // and Asterisk serialises a channel's callbacks under its lock.
    unsafe { p.as_mut() }.map(|b| &mut b.pvt)
}

unsafe extern "C" fn requester<T: Technology>(
    _type: *const c_char,
    cap: *mut sys::ast_format_cap,
    assignedids: *const sys::ast_assigned_ids,
    requestor: *const sys::ast_channel,
    addr: *const c_char,
    cause: *mut c_int,
) -> *mut sys::ast_channel {
    let addr = if addr.is_null() {
        String::new()
    } else {
        // SAFETY: Asterisk passes a NUL-terminated dial string.
        unsafe { CStr::from_ptr(addr) }
            .to_string_lossy()
            .into_owned()
    };
    let set_cause = |c: i32| {
        if !cause.is_null() {
            // SAFETY: cause points to Asterisk's int for the result.
            unsafe { *cause = c };
        }
    };
    let what = || format!("{}/{addr}", T::TYPE.to_string_lossy());
    guard(what, ptr::null_mut(), || {
        // SAFETY: the requested capabilities are live for this call.
        let requested = unsafe { Requested::from_ptr(cap) };
        let new = match T::request(&addr, requested) {
            Ok(n) => n,
            Err((msg, c)) => {
                ast_log!(Level::Error, "{msg}");
                set_cause(c);
                return ptr::null_mut();
            }
        };
        let Some(caps) = Caps::of(&[new.format]) else {
            set_cause(sys::AST_CAUSE_FAILURE as i32);
            return ptr::null_mut();
        };
        let name = std::ffi::CString::new(new.name.replace('\0', "")).unwrap_or_default();
        // SAFETY: assignedids and requestor come straight from Asterisk
        // (either may be null); name is a valid C string.
        let raw = unsafe { sys::ars_channel_alloc(assignedids, requestor, name.as_ptr()) };
        // SAFETY: a non-null result is a new live channel, returned locked.
        let Some(chan) = (unsafe { Channel::from_ptr(raw) }) else {
            set_cause(sys::AST_CAUSE_FAILURE as i32);
            return ptr::null_mut();
        };
        chan.set_tech(tech_ptr());
        chan.set_native_format(&caps, new.format);
        let boxed = Box::new(PvtBox {
            pvt: new.pvt,
            _module: ModuleRef::take(),
            _held: Held::new("the channel", &new.name),
        });
        chan.set_tech_pvt(Box::into_raw(boxed).cast());
        chan.unlock();
        if let Some(pvt) = pvt_of::<T>(chan) {
            // The channel is ours until it is returned: a panic here must
            // not leak it, its state or its hold on the module.
            let created = catch_unwind(AssertUnwindSafe(|| T::created(chan, pvt)));
            if let Err(p) = created {
                ast_log!(
                    Level::Error,
                    "{}: internal error in chan_audiosocket_rs ({}); the channel is not created",
                    chan.name(),
                    crate::logging::panic_text(&*p)
                );
                // SAFETY: raw is the channel allocated above, which no one
                // else has seen; hanging it up frees it through our hangup
                // callback, which drops the state.
                unsafe { sys::ast_hangup(raw) };
                set_cause(sys::AST_CAUSE_FAILURE as i32);
                return ptr::null_mut();
            }
        }
        raw
    })
}

/// Runs a callback's body for the channel Asterisk passed, under the guard
/// (a panic is logged with the channel's name and returns `failure`).
///
/// # Safety
/// `chan` must be null or a channel live for the whole callback.
unsafe fn on_channel<R>(
    chan: *mut sys::ast_channel,
    failure: R,
    body: impl FnOnce(Channel<'_>) -> R,
) -> R {
    // SAFETY: per the caller's contract.
    match unsafe { Channel::from_ptr(chan) } {
        Some(chan) => guard(|| chan.name(), failure, || body(chan)),
        None => failure,
    }
}

unsafe extern "C" fn call<T: Technology>(
    chan: *mut sys::ast_channel,
    _addr: *const c_char,
    _timeout: c_int,
) -> c_int {
    // SAFETY: Asterisk passes the live channel being called.
    unsafe {
        on_channel(chan, -1, |chan| match pvt_of::<T>(chan) {
            Some(pvt) => match T::call(chan, pvt) {
                Ok(()) => 0,
                Err(msg) => {
                    ast_log!(Level::Error, "{}: {msg}", chan.name());
                    -1
                }
            },
            None => -1,
        })
    }
}

unsafe extern "C" fn hangup<T: Technology>(chan: *mut sys::ast_channel) -> c_int {
    // SAFETY: Asterisk passes the live channel being hung up.
    unsafe {
        on_channel(chan, -1, |chan| {
            let p = chan.tech_pvt() as *mut PvtBox<T::Pvt>;
            chan.set_tech_pvt(ptr::null_mut());
            if !p.is_null() {
                // SAFETY: p is the PvtBox leaked in requester; tech_pvt no
                // longer points to it, so this is the only owner.
                let mut boxed = Box::from_raw(p);
                T::hangup(chan, &mut boxed.pvt);
            }
            0
        })
    }
}

unsafe extern "C" fn read<T: Technology>(chan: *mut sys::ast_channel) -> *mut sys::ast_frame {
    // SAFETY: Asterisk passes the live channel it reads from. A null frame
    // (what a panic returns) hangs the channel up.
    unsafe {
        on_channel(chan, ptr::null_mut(), |chan| {
            let Some(pvt) = pvt_of::<T>(chan) else {
                return null_frame();
            };
            match T::read(chan, pvt) {
                ReadResult::Frame(f) => f.as_mut_ptr(),
                ReadResult::Nothing => null_frame(),
                ReadResult::Hangup(cause) => {
                    chan.hangupcause_set(cause);
                    ptr::null_mut()
                }
            }
        })
    }
}

unsafe extern "C" fn write<T: Technology>(
    chan: *mut sys::ast_channel,
    frame: *mut sys::ast_frame,
) -> c_int {
    // SAFETY: Asterisk passes the live channel and a frame valid for the call.
    unsafe {
        on_channel(chan, -1, |chan| {
            if let (Some(pvt), Some(kind)) = (pvt_of::<T>(chan), borrowed_kind(frame)) {
                T::write(chan, pvt, kind);
            }
            0
        })
    }
}

unsafe extern "C" fn digit_begin(_chan: *mut sys::ast_channel, _digit: c_char) -> c_int {
    // The digit goes out whole at its end; nothing to do at the start.
    0
}

unsafe extern "C" fn digit_end<T: Technology>(
    chan: *mut sys::ast_channel,
    digit: c_char,
    _ms: c_uint,
) -> c_int {
    // SAFETY: Asterisk passes the live channel.
    unsafe {
        on_channel(chan, -1, |chan| {
            // Asterisk calls this without the channel lock, unlike the other
            // callbacks; take it so the state is never touched from two threads.
            let _locked = chan.lock();
            if let Some(pvt) = pvt_of::<T>(chan) {
                T::digit_end(chan, pvt, digit as u8);
            }
            0
        })
    }
}

unsafe extern "C" fn indicate(
    _chan: *mut sys::ast_channel,
    _condition: c_int,
    _data: *const c_void,
    _len: usize,
) -> c_int {
    // No in-band signalling to a server: -1 lets Asterisk play tones itself.
    -1
}

unsafe extern "C" fn fixup(_old: *mut sys::ast_channel, _new: *mut sys::ast_channel) -> c_int {
    // The state does not point back at the channel, so nothing moves.
    0
}

struct Registered {
    tech: *mut sys::ast_channel_tech,
    _caps: Caps,
    /// Registered with Asterisk now (it is kept, unregistered, while an
    /// unload may still be refused).
    active: bool,
}

// SAFETY: the registration is only touched under REGISTERED's lock, from
// load and unload; the tech itself is immutable once registered.
unsafe impl Send for Registered {}

static REGISTERED: Mutex<Option<Registered>> = Mutex::new(None);
static TECH: AtomicPtr<sys::ast_channel_tech> = AtomicPtr::new(ptr::null_mut());

fn tech_ptr() -> *const sys::ast_channel_tech {
    TECH.load(Ordering::Acquire)
}

/// Whether some module already registered a technology of this name.
pub fn exists(name: &CStr) -> bool {
    // SAFETY: valid C string; the result is only compared to null.
    !unsafe { sys::ast_get_channel_tech(name.as_ptr()) }.is_null()
}

pub fn register<T: Technology>() -> bool {
    let Some(caps) = Caps::of(&T::capabilities()) else {
        return false;
    };
    let tech = Box::new(sys::ast_channel_tech {
        type_: T::TYPE.as_ptr(),
        description: T::DESCRIPTION.as_ptr(),
        capabilities: caps.as_ptr(),
        requester: Some(requester::<T>),
        send_digit_begin: Some(digit_begin),
        send_digit_end: Some(digit_end::<T>),
        call: Some(call::<T>),
        hangup: Some(hangup::<T>),
        read: Some(read::<T>),
        write: Some(write::<T>),
        indicate: Some(indicate),
        fixup: Some(fixup),
        // SAFETY: every other member is an optional callback or a plain
        // integer, for which zero means "not provided".
        ..unsafe { std::mem::zeroed() }
    });
    let tech = Box::into_raw(tech);
    // SAFETY: tech is a fully initialised technology that stays allocated
    // until unregister.
    if unsafe { sys::ast_channel_register(tech) } != 0 {
        // SAFETY: registration failed, so we still own tech alone.
        drop(unsafe { Box::from_raw(tech) });
        return false;
    }
    TECH.store(tech, Ordering::Release);
    *lock(&REGISTERED) = Some(Registered {
        tech,
        _caps: caps,
        active: true,
    });
    true
}

/// No new channel of the technology can be requested; the ones that exist
/// keep it (see [`release`] and [`register_again`]).
pub fn unregister() {
    if let Some(r) = lock(&REGISTERED).as_mut().filter(|r| r.active) {
        // SAFETY: r.tech was registered by us and stays allocated.
        unsafe { sys::ast_channel_unregister(r.tech) };
        r.active = false;
    }
}

/// Registers the technology [`unregister`] took away again (an unload
/// that was refused); false if Asterisk refused.
pub fn register_again() -> bool {
    match lock(&REGISTERED).as_mut() {
        Some(r) if !r.active => {
            // SAFETY: r.tech is the fully initialised technology we made.
            r.active = unsafe { sys::ast_channel_register(r.tech) } == 0;
            r.active
        }
        _ => true,
    }
}

/// Frees the unregistered technology, once no channel of it can remain.
pub fn release() {
    let mut registered = lock(&REGISTERED);
    if registered.as_ref().is_some_and(|r| !r.active) {
        let r = registered.take().expect("checked");
        TECH.store(ptr::null_mut(), Ordering::Release);
        // SAFETY: unregistered, and the module is unloading with no
        // channel left (unload refuses while any session or callback is
        // live, and every channel holds the module).
        drop(unsafe { Box::from_raw(r.tech) });
    }
}
