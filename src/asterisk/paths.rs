//! Asterisk's folders.

use std::ffi::CStr;
use std::path::PathBuf;

use super::sys;

/// The folder Asterisk reads configuration files from.
pub fn config_dir() -> PathBuf {
    // SAFETY: the core sets this global before loading modules and never
    // frees it; it is a NUL-terminated path.
    let p = unsafe { sys::ast_config_AST_CONFIG_DIR };
    if p.is_null() {
        return PathBuf::from("/etc/asterisk");
    }
    // SAFETY: see above.
    PathBuf::from(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}
