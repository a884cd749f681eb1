//! Strings across the boundary: Rust text to C (a NUL inside is dropped,
//! never a reason to fail) and C text to Rust (copied at once).

use std::ffi::{c_char, CStr, CString};

pub(super) fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

pub(super) fn from_c(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        // SAFETY: Asterisk returns NUL-terminated strings that stay valid
        // for the call that returned them; we copy at once.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}
