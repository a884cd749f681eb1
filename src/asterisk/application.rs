//! Dialplan application registration: a Rust `exec` behind a guarded C entry.

use std::ffi::{c_char, c_int, CStr};

use super::channel::Channel;
use super::guard::guard;
use super::module::module_self;
use super::sys;

/// A dialplan application.
pub trait Application {
    const NAME: &'static CStr;
    /// What `core show application` prints as the synopsis and description.
    const SYNOPSIS: &'static CStr;
    const DESCRIPTION: &'static CStr;

    /// Runs on the channel's own thread. Returns 0 to continue the dialplan,
    /// -1 to hang up.
    fn exec(chan: Channel<'_>, data: &str) -> i32;
}

unsafe extern "C" fn exec<A: Application>(
    chan: *mut sys::ast_channel,
    data: *const c_char,
) -> c_int {
    // SAFETY: Asterisk passes the live channel running this application,
    // valid for the whole call.
    let Some(chan) = (unsafe { Channel::from_ptr(chan) }) else {
        return -1;
    };
    let data = if data.is_null() {
        String::new()
    } else {
        // SAFETY: data is Asterisk's NUL-terminated argument string.
        unsafe { CStr::from_ptr(data) }
            .to_string_lossy()
            .into_owned()
    };
    guard(
        || format!("{}: {}()", chan.name(), A::NAME.to_string_lossy()),
        -1,
        || A::exec(chan, &data),
    )
}

/// Whether some module already registered an application of this name.
pub fn exists(name: &CStr) -> bool {
    // SAFETY: name is a valid C string; the result is only compared to null.
    !unsafe { sys::pbx_findapp(name.as_ptr()) }.is_null()
}

/// Registers the application. Where Asterisk's XML documentation holds
/// this module's own page for it (installed beside Asterisk's), it registers
/// without text so that Asterisk shows that page, syntax and arguments
/// included; otherwise SYNOPSIS and DESCRIPTION.
pub fn register<A: Application>() -> bool {
    // SAFETY: the name is a valid C string and module_self is our module.
    let own_docs = unsafe { sys::ars_app_has_own_docs(A::NAME.as_ptr(), module_self()) } != 0;
    let (synopsis, description) = if own_docs {
        (c"", c"")
    } else {
        (A::SYNOPSIS, A::DESCRIPTION)
    };
    // SAFETY: all strings are 'static, exec has the C signature Asterisk
    // expects, and module_self is our module (set before load runs).
    unsafe {
        sys::ast_register_application2(
            A::NAME.as_ptr(),
            Some(exec::<A>),
            synopsis.as_ptr(),
            description.as_ptr(),
            module_self().cast(),
        ) == 0
    }
}

pub fn unregister<A: Application>() {
    // SAFETY: unregistering by name; harmless if it is not registered.
    unsafe { sys::ast_unregister_application(A::NAME.as_ptr()) };
}
