//! AMI events.

use std::ffi::CString;

use super::sys;

/// Sends `event` to AMI listeners of the "call" class with these fields.
pub fn event(name: &str, fields: &[(&str, String)]) {
    let mut body = String::new();
    for (k, v) in fields {
        // A value may not break the "Key: Value" line it sits on.
        let v = v.replace(['\r', '\n'], " ");
        body.push_str(&format!("{k}: {v}\r\n"));
    }
    let clean = |s: &str| CString::new(s.replace('\0', "")).unwrap_or_default();
    let (name, body) = (clean(name), clean(&body));
    // SAFETY: both are valid C strings for the call; the shim passes the
    // body behind a "%s" format and no channel.
    unsafe { sys::ars_manager_event(std::ptr::null_mut(), name.as_ptr(), body.as_ptr()) };
}
