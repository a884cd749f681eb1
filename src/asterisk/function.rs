//! Dialplan functions (`Set(NAME(arg)=value)`, `${NAME(arg)}`, which AMI's
//! Setvar/Getvar and ARI's channel variables reach too): a Rust
//! [`DialplanFunction`] behind guarded C entries.

use std::ffi::{c_char, c_int, CStr};
use std::ptr;
use std::sync::Mutex;

use super::channel::Channel;
use super::guard::guard;
use super::logger::{ast_log, Level};
use super::module::module_self;
use super::strings::from_c;
use super::sys;
use crate::locks::lock;

pub trait DialplanFunction {
    const NAME: &'static CStr;
    /// What `core show function` prints.
    const SYNOPSIS: &'static CStr;
    const SYNTAX: &'static CStr;
    const DESCRIPTION: &'static CStr;

    /// `${NAME(arg)}` on `chan` (None when evaluated without a channel).
    /// Err is logged and makes the read fail.
    fn read(chan: Option<Channel<'_>>, arg: &str) -> Result<String, String>;
    /// `Set(NAME(arg)=value)` on `chan`. Err is logged and makes the write fail.
    fn write(chan: Option<Channel<'_>>, arg: &str, value: &str) -> Result<(), String>;
}

fn text(p: *const c_char) -> String {
    from_c(p)
}

unsafe extern "C" fn read<F: DialplanFunction>(
    chan: *mut sys::ast_channel,
    _function: *const c_char,
    data: *mut c_char,
    buf: *mut c_char,
    len: usize,
) -> c_int {
    guard(
        || format!("{}() read", F::NAME.to_string_lossy()),
        -1,
        || {
            // SAFETY: Asterisk passes null or the channel the function is
            // evaluated on, live for the call.
            let chan = unsafe { Channel::from_ptr(chan) };
            let arg = text(data);
            match F::read(chan, &arg) {
                Ok(value) => {
                    if !buf.is_null() && len > 0 {
                        let n = value.len().min(len - 1);
                        // SAFETY: buf holds len bytes; we write n + 1 <= len.
                        unsafe {
                            ptr::copy_nonoverlapping(value.as_ptr(), buf.cast(), n);
                            *buf.add(n) = 0;
                        }
                    }
                    0
                }
                Err(e) => {
                    ast_log!(Level::Warning, "{}({arg}): {e}", F::NAME.to_string_lossy());
                    -1
                }
            }
        },
    )
}

unsafe extern "C" fn write<F: DialplanFunction>(
    chan: *mut sys::ast_channel,
    _function: *const c_char,
    data: *mut c_char,
    value: *const c_char,
) -> c_int {
    guard(
        || format!("{}() write", F::NAME.to_string_lossy()),
        -1,
        || {
            // SAFETY: as in read.
            let chan = unsafe { Channel::from_ptr(chan) };
            let (arg, value) = (text(data), text(value));
            match F::write(chan, &arg, &value) {
                Ok(()) => 0,
                Err(e) => {
                    ast_log!(Level::Warning, "{}({arg}): {e}", F::NAME.to_string_lossy());
                    -1
                }
            }
        },
    )
}

struct Registered(*mut sys::ast_custom_function);
// SAFETY: only touched under the mutex, from load and unload.
unsafe impl Send for Registered {}

static REGISTERED: Mutex<Vec<Registered>> = Mutex::new(Vec::new());

/// Registers `F`.
pub fn register<F: DialplanFunction>() -> bool {
    let (synopsis, syntax, desc) = (
        F::SYNOPSIS.as_ptr(),
        F::SYNTAX.as_ptr(),
        F::DESCRIPTION.as_ptr(),
    );
    // SAFETY: every string is 'static and Asterisk copies the documentation;
    // the callbacks have the C signatures Asterisk expects; module_self is
    // our module (set before load runs).
    let acf = unsafe {
        sys::ars_function_register(
            F::NAME.as_ptr(),
            synopsis,
            syntax,
            desc,
            Some(read::<F>),
            Some(write::<F>),
            module_self().cast(),
        )
    };
    if acf.is_null() {
        return false;
    }
    lock(&REGISTERED).push(Registered(acf));
    true
}

/// Unregisters every function registered.
pub fn unregister_all() {
    let all = std::mem::take(&mut *lock(&REGISTERED));
    for Registered(acf) in all {
        // SAFETY: acf is what ars_function_register returned, unregistered
        // and freed exactly once.
        unsafe { sys::ars_function_unregister(acf) };
    }
}
