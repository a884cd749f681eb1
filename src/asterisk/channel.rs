//! A thin handle on an Asterisk channel, valid for as long as the callback
//! or application that was given it runs: the lifetime keeps safe code from
//! holding it any longer, and it is neither `Send` nor `Sync`, so it never
//! leaves the thread Asterisk called on.

use std::ffi::{c_char, c_void};
use std::marker::PhantomData;
use std::os::fd::RawFd;
use std::ptr::NonNull;

use super::format::{Caps, Format, HeldFormat};
use super::frame::{OutFrame, ReadFrame};
use super::strings::{cstring, from_c};
use super::sys;

#[derive(Clone, Copy)]
pub struct Channel<'a> {
    ptr: NonNull<sys::ast_channel>,
    _live: PhantomData<&'a sys::ast_channel>,
}

/// Silence a channel sends while nothing else is written (see
/// [`Channel::start_silence`]); stopped with [`Channel::stop_silence`] on
/// the same channel.
pub struct Silence(NonNull<sys::ast_silence_generator>);

/// What woke [`Channel::wait`].
pub enum Woken {
    Channel,
    /// This descriptor is readable.
    Fd(RawFd),
    /// The timeout passed (or a signal interrupted the wait).
    Timeout,
}

impl<'a> Channel<'a> {
    /// # Safety
    /// `ptr` must be null or a channel that stays live for `'a` (for
    /// example, the channel of the callback that received it, for the
    /// duration of that callback).
    pub(super) unsafe fn from_ptr(ptr: *mut sys::ast_channel) -> Option<Channel<'a>> {
        NonNull::new(ptr).map(|ptr| Channel {
            ptr,
            _live: PhantomData,
        })
    }

    pub(super) fn as_ptr(self) -> *mut sys::ast_channel {
        self.ptr.as_ptr()
    }

    pub fn name(self) -> String {
        // SAFETY: self is a live channel (constructor contract).
        from_c(unsafe { sys::ast_channel_name(self.as_ptr()) })
    }

    pub fn uniqueid(self) -> String {
        // SAFETY: self is a live channel (constructor contract).
        from_c(unsafe { sys::ast_channel_uniqueid(self.as_ptr()) })
    }

    pub fn linkedid(self) -> String {
        // SAFETY: self is a live channel (constructor contract).
        from_c(unsafe { sys::ast_channel_linkedid(self.as_ptr()) })
    }

    /// What the channel is about to run, and its language, as it stands.
    pub fn place(self) -> Place {
        let _locked = self.lock();
        // SAFETY: live channel, locked while its strings are copied.
        unsafe {
            Place {
                exten: from_c(sys::ast_channel_exten(self.as_ptr())),
                context: from_c(sys::ast_channel_context(self.as_ptr())),
                language: from_c(sys::ast_channel_language(self.as_ptr())),
            }
        }
    }

    /// The channel's caller ID: who is calling on its side of the call.
    pub fn caller_id(self) -> Party {
        let _locked = self.lock();
        // SAFETY: live channel, locked; the party lives in the channel.
        party(unsafe { &(*sys::ast_channel_caller(self.as_ptr())).id })
    }

    /// The channel's connected line: the party at the other end (what
    /// `Dial()` sets on the channel it places from the caller's ID).
    pub fn connected_line(self) -> Party {
        let _locked = self.lock();
        // SAFETY: as for caller_id.
        party(unsafe { &(*sys::ast_channel_connected(self.as_ptr())).id })
    }

    /// A channel variable, None when it is not set.
    pub fn var(self, name: &str) -> Option<String> {
        let name = cstring(name);
        let _locked = self.lock();
        // SAFETY: live channel, locked; the value is copied at once.
        let value = unsafe { sys::pbx_builtin_getvar_helper(self.as_ptr(), name.as_ptr()) };
        (!value.is_null()).then(|| from_c(value))
    }

    pub fn set_var(self, name: &str, value: &str) {
        let (name, value) = (cstring(name), cstring(value));
        // SAFETY: live channel and valid C strings; Asterisk copies both.
        unsafe { sys::pbx_builtin_setvar_helper(self.as_ptr(), name.as_ptr(), value.as_ptr()) };
    }

    /// A channel variable's value (empty when unset).
    pub fn get_var(self, name: &str) -> String {
        let name = cstring(name);
        // SAFETY: live channel and a valid C string; the result is copied at
        // once (Asterisk returns a pointer into the channel's variables).
        let _locked = self.lock();
        // SAFETY: as above, under the channel's lock.
        from_c(unsafe { sys::pbx_builtin_getvar_helper(self.as_ptr(), name.as_ptr()) })
    }

    fn set_read_format(self, format: *mut sys::ast_format) -> bool {
        // SAFETY: live channel; format is a live format we hold or from the cache.
        !format.is_null() && unsafe { sys::ast_set_read_format(self.as_ptr(), format) } == 0
    }

    fn set_write_format(self, format: *mut sys::ast_format) -> bool {
        // SAFETY: as for set_read_format.
        !format.is_null() && unsafe { sys::ast_set_write_format(self.as_ptr(), format) } == 0
    }

    /// Makes the channel read and write `format` (Asterisk translates for
    /// the other side) until the returned swap is restored or dropped.
    /// None if the channel cannot be set to it.
    pub fn switch_formats(self, format: Format) -> Option<FormatSwap<'a>> {
        // SAFETY: live channel; the results are borrowed, so HeldFormat
        // takes its own reference to each.
        let swap = unsafe {
            FormatSwap {
                chan: self,
                read: HeldFormat::bump(sys::ast_channel_readformat(self.as_ptr())),
                write: HeldFormat::bump(sys::ast_channel_writeformat(self.as_ptr())),
                restored: false,
            }
        };
        let ok = self.set_read_format(format.as_ptr()) && self.set_write_format(format.as_ptr());
        ok.then_some(swap)
    }

    /// Waits up to `ms` (-1: forever) for the channel or one of `fds`.
    /// (The descriptors are taken by value: Asterisk wants a mutable array,
    /// and a copy on the stack costs nothing on this per-frame path.)
    pub fn wait<const N: usize>(self, mut fds: [RawFd; N], ms: i32) -> Woken {
        let mut chan = self.as_ptr();
        let mut outfd: i32 = -1;
        let mut ms = ms;
        // SAFETY: chan points to one live channel, fds to fds.len() ints,
        // outfd and ms to valid ints; exception may be null.
        let winner = unsafe {
            sys::ast_waitfor_nandfds(
                &mut chan,
                1,
                fds.as_mut_ptr(),
                fds.len() as i32,
                std::ptr::null_mut(),
                &mut outfd,
                &mut ms,
            )
        };
        if !winner.is_null() {
            Woken::Channel
        } else if outfd >= 0 {
            Woken::Fd(outfd)
        } else {
            Woken::Timeout
        }
    }

    /// Whether the channel is being taken elsewhere in the dialplan (an
    /// AMI Redirect, `channel redirect`) rather than hung up.
    pub fn is_redirected(self) -> bool {
        // SAFETY: live channel.
        unsafe { sys::ars_channel_redirected(self.as_ptr()) != 0 }
    }

    /// Which of the channel's descriptors made Asterisk call the
    /// technology's read callback (-1 or a reserved number otherwise).
    pub fn fdno(self) -> i32 {
        // SAFETY: live channel.
        unsafe { sys::ast_channel_fdno(self.as_ptr()) }
    }

    /// Reads the next frame; None means the channel hung up.
    pub fn read(self) -> Option<ReadFrame> {
        // SAFETY: live channel, read from its own thread; we own the result.
        unsafe { ReadFrame::from_read(sys::ast_read(self.as_ptr())) }
    }

    /// Writes the frame last filled in `frame`; false when Asterisk refused it.
    pub fn write(self, frame: &mut OutFrame) -> bool {
        // SAFETY: live channel; the frame is valid and outlives the call
        // (ast_write copies what it keeps).
        unsafe { sys::ast_write(self.as_ptr(), frame.as_mut_ptr()) == 0 }
    }

    pub fn digit_begin(self, digit: u8) {
        // SAFETY: live channel.
        unsafe { sys::ast_senddigit_begin(self.as_ptr(), digit as _) };
    }

    pub fn digit_end(self, digit: u8, ms: u32) {
        // SAFETY: live channel.
        unsafe { sys::ast_senddigit_end(self.as_ptr(), digit as _, ms) };
    }

    /// Starts music on hold of `class` (Asterisk's default class when
    /// empty); false when Asterisk could not (no such class, or
    /// res_musiconhold not loaded).
    pub fn start_moh(self, class: &str) -> bool {
        let class = cstring(class);
        // SAFETY: live channel, on its own thread; the class outlives the
        // call, and a null interpclass is allowed.
        unsafe { sys::ast_moh_start(self.as_ptr(), class.as_ptr(), std::ptr::null()) == 0 }
    }

    pub fn stop_moh(self) {
        // SAFETY: live channel; stopping music that is not playing is a no-op.
        unsafe { sys::ast_moh_stop(self.as_ptr()) };
    }

    /// Starts sending silence while nothing else is written; None when
    /// Asterisk could not.
    pub fn start_silence(self) -> Option<Silence> {
        // SAFETY: live channel.
        NonNull::new(unsafe { sys::ast_channel_start_silence_generator(self.as_ptr()) })
            .map(Silence)
    }

    pub fn stop_silence(self, silence: Silence) {
        // SAFETY: live channel; the generator was started on this channel
        // (callers keep it with the channel it came from) and is stopped
        // once, since `silence` is consumed.
        unsafe { sys::ast_channel_stop_silence_generator(self.as_ptr(), silence.0.as_ptr()) };
    }

    pub(super) fn hangupcause_set(self, cause: i32) {
        // SAFETY: live channel.
        unsafe { sys::ast_channel_hangupcause_set(self.as_ptr(), cause) };
    }

    pub(super) fn tech_pvt(self) -> *mut c_void {
        // SAFETY: live channel.
        unsafe { sys::ast_channel_tech_pvt(self.as_ptr()) }
    }

    pub(super) fn set_tech_pvt(self, pvt: *mut c_void) {
        // SAFETY: live channel; the pvt's owner is the channel technology.
        unsafe { sys::ast_channel_tech_pvt_set(self.as_ptr(), pvt) };
    }

    /// Makes `fd` the channel's descriptor number `which`: the channel's
    /// waiters wake when it is readable. -1 clears it.
    pub fn set_fd(self, which: i32, fd: RawFd) {
        // SAFETY: live channel; the technology clears the descriptor before
        // closing it.
        unsafe { sys::ast_channel_set_fd(self.as_ptr(), which, fd) };
    }

    /// Makes `format` the channel's only native format and its read and write formats.
    pub(super) fn set_native_format(self, caps: &Caps, format: Format) {
        // SAFETY: live channel, being set up under its lock by the requester;
        // Asterisk takes its own references to caps and format.
        unsafe {
            sys::ast_channel_nativeformats_set(self.as_ptr(), caps.as_ptr());
            sys::ast_channel_set_writeformat(self.as_ptr(), format.as_ptr());
            sys::ast_channel_set_rawwriteformat(self.as_ptr(), format.as_ptr());
            sys::ast_channel_set_readformat(self.as_ptr(), format.as_ptr());
            sys::ast_channel_set_rawreadformat(self.as_ptr(), format.as_ptr());
        }
    }

    pub(super) fn set_tech(self, tech: *const sys::ast_channel_tech) {
        // SAFETY: live channel; tech is registered and outlives the channel
        // (unload refuses while channels exist).
        unsafe { sys::ast_channel_tech_set(self.as_ptr(), tech) };
    }

    /// Holds the channel's lock until the guard drops.
    pub(super) fn lock(self) -> ChannelLock<'a> {
        // SAFETY: live channel; the guard unlocks exactly once.
        unsafe { sys::ars_channel_lock(self.as_ptr()) };
        ChannelLock(self)
    }

    pub(super) fn unlock(self) {
        // SAFETY: the caller holds the channel's lock (ast_channel_alloc
        // returns the channel locked).
        unsafe { sys::ars_channel_unlock(self.as_ptr()) };
    }
}

/// Runs `each` on every channel Asterisk has now (one hung up and no
/// longer listed is not among them), each held for the call.
pub(super) fn for_each_channel(mut each: impl FnMut(Channel<'_>)) {
    // SAFETY: an iterator over the channel container; null if Asterisk
    // could not allocate one.
    let iter = unsafe { sys::ast_channel_iterator_all_new() };
    if iter.is_null() {
        return;
    }
    loop {
        // SAFETY: iter is live until destroyed below; each channel comes
        // with a reference of ours, which keeps it live until dropped.
        let raw = unsafe { sys::ast_channel_iterator_next(iter) };
        // SAFETY: see above: the channel stays live until its unref.
        let Some(chan) = (unsafe { Channel::from_ptr(raw) }) else {
            break;
        };
        each(chan);
        // SAFETY: drops the reference the iterator gave us.
        unsafe { sys::ars_ao2_ref(raw.cast(), -1) };
    }
    // SAFETY: the iterator made above, destroyed once.
    unsafe { sys::ast_channel_iterator_destroy(iter) };
}

/// Where a channel is in the dialplan, and its language.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Place {
    pub exten: String,
    pub context: String,
    pub language: String,
}

/// A party's number and name, each None when the channel has none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Party {
    pub number: Option<String>,
    pub name: Option<String>,
}

/// Copies a party of a live, locked channel.
fn party(id: &sys::ast_party_id) -> Party {
    let valid = |valid: u8, s: *mut c_char| (valid != 0 && !s.is_null()).then(|| from_c(s));
    Party {
        number: valid(id.number.valid, id.number.str_),
        name: valid(id.name.valid, id.name.str_),
    }
}

/// The channel's lock, released on drop.
pub(super) struct ChannelLock<'a>(Channel<'a>);

impl Drop for ChannelLock<'_> {
    fn drop(&mut self) {
        self.0.unlock();
    }
}

/// The channel's formats from before [`Channel::switch_formats`].
pub struct FormatSwap<'a> {
    chan: Channel<'a>,
    read: HeldFormat,
    write: HeldFormat,
    restored: bool,
}

impl FormatSwap<'_> {
    /// Puts the channel's formats back; false if Asterisk refused.
    pub fn restore(mut self) -> bool {
        self.restore_now()
    }

    fn restore_now(&mut self) -> bool {
        self.restored = true;
        let read = self.chan.set_read_format(self.read.as_ptr());
        self.chan.set_write_format(self.write.as_ptr()) && read
    }
}

impl Drop for FormatSwap<'_> {
    fn drop(&mut self) {
        if !self.restored {
            self.restore_now();
        }
    }
}
