//! Asterisk's signed linear formats, one exported global per rate.

use super::sys;
use crate::protocol::Rate;

/// A borrowed `struct ast_format *` from Asterisk's format cache; valid for
/// as long as Asterisk runs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Format(pub(super) *mut sys::ast_format);

impl Format {
    /// The cached slin format for `rate`.
    pub fn slin(rate: Rate) -> Format {
        // SAFETY: these globals are set by the core's format cache before
        // any module loads and are only read here.
        let ptr = unsafe {
            match rate {
                Rate::Hz8000 => sys::ast_format_slin,
                Rate::Hz12000 => sys::ast_format_slin12,
                Rate::Hz16000 => sys::ast_format_slin16,
                Rate::Hz24000 => sys::ast_format_slin24,
                Rate::Hz32000 => sys::ast_format_slin32,
                Rate::Hz44100 => sys::ast_format_slin44,
                Rate::Hz48000 => sys::ast_format_slin48,
                Rate::Hz96000 => sys::ast_format_slin96,
                Rate::Hz192000 => sys::ast_format_slin192,
            }
        };
        Format(ptr)
    }

    pub fn as_ptr(self) -> *mut sys::ast_format {
        self.0
    }

    /// Whether `other` is the same format as this one.
    pub fn same_as(self, other: *const sys::ast_format) -> bool {
        if other.is_null() || self.0.is_null() {
            return false;
        }
        // SAFETY: both pointers are live ast_format objects: ours from the
        // cache, `other` from a frame or channel the caller holds.
        unsafe { sys::ast_format_cmp(self.0, other) == sys::AST_FORMAT_CMP_EQUAL }
    }
}
/// A counted reference to a format, released on drop.
pub struct FormatRef(*mut sys::ast_format);

impl FormatRef {
    /// Takes a new reference to `ptr` (which may be null).
    ///
    /// # Safety
    /// `ptr` must be null or a live ao2 `ast_format`.
    pub unsafe fn bump(ptr: *mut sys::ast_format) -> FormatRef {
        if !ptr.is_null() {
            // SAFETY: the caller guarantees ptr is a live ao2 object.
            unsafe { sys::ars_ao2_ref(ptr.cast(), 1) };
        }
        FormatRef(ptr)
    }

    pub fn as_ptr(&self) -> *mut sys::ast_format {
        self.0
    }
}

impl Drop for FormatRef {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: we hold the reference taken in `bump`.
            unsafe { sys::ars_ao2_ref(self.0.cast(), -1) };
        }
    }
}

/// A format capabilities set holding one format, released on drop.
pub struct Caps(*mut sys::ast_format_cap);

impl Caps {
    pub fn with(format: Format) -> Option<Caps> {
        // SAFETY: allocation has no preconditions; null means failure.
        let cap = unsafe { sys::ars_format_cap_alloc() };
        if cap.is_null() {
            return None;
        }
        let caps = Caps(cap);
        caps.append(format).then_some(caps)
    }

    pub fn as_ptr(&self) -> *mut sys::ast_format_cap {
        self.0
    }

    pub fn append(&self, format: Format) -> bool {
        // SAFETY: self holds a live set; format is from the cache.
        unsafe { sys::ars_format_cap_append(self.0, format.0) == 0 }
    }
}

impl Drop for Caps {
    fn drop(&mut self) {
        // SAFETY: we own one reference to the set, taken at allocation.
        unsafe { sys::ars_ao2_ref(self.0.cast(), -1) };
    }
}
