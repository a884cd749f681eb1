//! Asterisk's media formats: the cached signed linear ones this module
//! speaks, formats borrowed from frames and requests, and capability sets.

use std::marker::PhantomData;
use std::ptr::NonNull;

use super::strings::from_c;
use super::sys;

/// One of Asterisk's cached signed linear formats: created by the core's
/// format cache before any module loads and never freed.
#[derive(Clone, Copy)]
pub struct Format(*mut sys::ast_format);

// SAFETY: a cached format is immutable and lives as long as Asterisk; its
// address may be used from any thread.
unsafe impl Send for Format {}
// SAFETY: as above; nothing is ever written through it.
unsafe impl Sync for Format {}

impl Format {
    /// The cached signed linear format at `hz` samples a second, if
    /// Asterisk has one (8000, 12000, 16000, 24000, 32000, 44100, 48000,
    /// 96000, 192000).
    pub fn slin(hz: u32) -> Option<Format> {
        // SAFETY: these globals are set by the core's format cache before
        // any module loads and are only read here.
        let ptr = unsafe {
            match hz {
                8000 => sys::ast_format_slin,
                12000 => sys::ast_format_slin12,
                16000 => sys::ast_format_slin16,
                24000 => sys::ast_format_slin24,
                32000 => sys::ast_format_slin32,
                44100 => sys::ast_format_slin44,
                48000 => sys::ast_format_slin48,
                96000 => sys::ast_format_slin96,
                192000 => sys::ast_format_slin192,
                _ => return None,
            }
        };
        (!ptr.is_null()).then_some(Format(ptr))
    }

    /// The cached G.711 µ-law format.
    pub fn ulaw() -> Option<Format> {
        // SAFETY: as for slin: set by the core's format cache before any
        // module loads, only read here.
        let ptr = unsafe { sys::ast_format_ulaw };
        (!ptr.is_null()).then_some(Format(ptr))
    }

    pub(super) fn as_ptr(self) -> *mut sys::ast_format {
        self.0
    }

    /// Whether `other` is this format.
    pub fn same_as(self, other: FormatView<'_>) -> bool {
        if self.0.is_null() {
            return false;
        }
        // SAFETY: both are live formats: ours from the cache, `other` for
        // its lifetime.
        unsafe { sys::ast_format_cmp(self.0, other.0.as_ptr()) == sys::AST_FORMAT_CMP_EQUAL }
    }
}

/// A format borrowed from a frame or a capability set, for `'a`.
#[derive(Clone, Copy)]
pub struct FormatView<'a>(NonNull<sys::ast_format>, PhantomData<&'a sys::ast_format>);

impl FormatView<'_> {
    /// # Safety
    /// `ptr` must be null or a format that stays live for `'a`.
    pub(super) unsafe fn from_ptr<'a>(ptr: *const sys::ast_format) -> Option<FormatView<'a>> {
        NonNull::new(ptr as *mut _).map(|p| FormatView(p, PhantomData))
    }

    /// Asterisk's name for it: `ulaw`, `slin16`, `opus`.
    pub fn name(self) -> String {
        // SAFETY: live format; the name is a string it owns.
        from_c(unsafe { sys::ast_format_get_name(self.0.as_ptr()) })
    }

    pub fn sample_rate(self) -> u32 {
        // SAFETY: live format.
        unsafe { sys::ast_format_get_sample_rate(self.0.as_ptr()) }
    }
}

/// A counted reference to a format, released on drop.
pub(super) struct HeldFormat(*mut sys::ast_format);

impl HeldFormat {
    /// Takes a new reference to `ptr` (which may be null).
    ///
    /// # Safety
    /// `ptr` must be null or a live ao2 `ast_format`.
    pub unsafe fn bump(ptr: *mut sys::ast_format) -> HeldFormat {
        if !ptr.is_null() {
            // SAFETY: the caller guarantees ptr is a live ao2 object.
            unsafe { sys::ars_ao2_ref(ptr.cast(), 1) };
        }
        HeldFormat(ptr)
    }

    /// Adopts a reference the caller already owns.
    ///
    /// # Safety
    /// `ptr` must be null or a format the caller holds one reference to.
    unsafe fn from_new(ptr: *mut sys::ast_format) -> HeldFormat {
        HeldFormat(ptr)
    }

    pub fn as_ptr(&self) -> *mut sys::ast_format {
        self.0
    }
}

impl Drop for HeldFormat {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: we hold the reference taken in `bump`.
            unsafe { sys::ars_ao2_ref(self.0.cast(), -1) };
        }
    }
}

/// A capability set this module made, released on drop.
pub(super) struct Caps(NonNull<sys::ast_format_cap>);

impl Caps {
    /// A set holding `formats`, in order; None if Asterisk refused.
    pub fn of(formats: &[Format]) -> Option<Caps> {
        // SAFETY: allocation has no preconditions; null means failure.
        let caps = Caps(NonNull::new(unsafe { sys::ars_format_cap_alloc() })?);
        for f in formats {
            // SAFETY: caps is a live set; f is a cached format.
            if unsafe { sys::ars_format_cap_append(caps.as_ptr(), f.as_ptr()) } != 0 {
                return None;
            }
        }
        Some(caps)
    }

    pub fn as_ptr(&self) -> *mut sys::ast_format_cap {
        self.0.as_ptr()
    }
}

impl Drop for Caps {
    fn drop(&mut self) {
        // SAFETY: we own one reference to the set, taken at allocation.
        unsafe { sys::ars_ao2_ref(self.0.as_ptr().cast(), -1) };
    }
}

/// The formats a channel request asked for, in the requester's order.
#[derive(Clone, Copy)]
pub struct Requested<'a>(Option<NonNull<sys::ast_format_cap>>, PhantomData<&'a ()>);

impl<'a> Requested<'a> {
    /// # Safety
    /// `cap` must be null or a capability set live for `'a`.
    pub(super) unsafe fn from_ptr(cap: *mut sys::ast_format_cap) -> Requested<'a> {
        Requested(NonNull::new(cap), PhantomData)
    }

    pub fn formats(self) -> Vec<FormatView<'a>> {
        let Some(cap) = self.0 else {
            return Vec::new();
        };
        // SAFETY: live set for 'a.
        let n = unsafe { sys::ast_format_cap_count(cap.as_ptr()) };
        (0..n)
            .filter_map(|i| {
                // SAFETY: i < count; the result is a new reference, which the
                // set also holds for 'a, so it is released at once and the
                // view borrows the set's.
                let f = unsafe { sys::ast_format_cap_get_format(cap.as_ptr(), i as _) };
                // SAFETY: f is null or a live format we hold one reference to.
                drop(unsafe { HeldFormat::from_new(f) });
                // SAFETY: the set keeps f alive for 'a.
                unsafe { FormatView::from_ptr(f) }
            })
            .collect()
    }
}
