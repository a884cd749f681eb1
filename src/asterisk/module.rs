//! Module registration with Asterisk's loader: the `ast_module_info` record,
//! registered from a shared-object constructor as `AST_MODULE_INFO` does in C.

use std::sync::atomic::{AtomicPtr, Ordering};

use super::sys;

pub use sys::{ast_module_info, ast_module_load_result};
pub const LOAD_SUCCESS: ast_module_load_result = sys::AST_MODULE_LOAD_SUCCESS;
pub const LOAD_DECLINE: ast_module_load_result = sys::AST_MODULE_LOAD_DECLINE;

static SELF: AtomicPtr<sys::ast_module> = AtomicPtr::new(std::ptr::null_mut());

/// This module's `struct ast_module *`, known once the loader has called load.
pub(crate) fn module_self() -> *mut sys::ast_module {
    SELF.load(Ordering::Acquire)
}

/// Called by the generated load trampoline with the info record.
///
/// # Safety
/// `info` must point to this module's registered info record.
pub unsafe fn remember_self(info: *const ast_module_info) {
    // SAFETY: the loader fills info.self before calling load; the caller
    // guarantees info is valid.
    let me = unsafe { std::ptr::read_volatile(std::ptr::addr_of!((*info).self_)) };
    SELF.store(me, Ordering::Release);
}

/// Holds the module in use (Asterisk refuses a soft unload while held).
pub struct ModuleRef(());

impl ModuleRef {
    pub fn take() -> ModuleRef {
        // SAFETY: module_self is our loaded module; the loader keeps the
        // pointer valid until the module is unloaded, which this ref prevents.
        unsafe { sys::ars_module_ref(module_self()) };
        ModuleRef(())
    }
}

impl Drop for ModuleRef {
    fn drop(&mut self) {
        // SAFETY: releases the reference taken in `take`.
        unsafe { sys::ars_module_unref(module_self()) };
    }
}

// The enums' integer types depend on which headers bindgen read.
#[allow(clippy::unnecessary_cast)]
pub const MODFLAG_LOAD_ORDER: u32 = sys::AST_MODFLAG_LOAD_ORDER as u32;
#[allow(clippy::unnecessary_cast)]
pub const MODPRI_CHANNEL_DRIVER: u8 = sys::AST_MODPRI_CHANNEL_DRIVER as u8;
pub const SUPPORT_EXTENDED: sys::ast_module_support_level = sys::AST_MODULE_SUPPORT_EXTENDED;

/// Declares the module: its info record, the constructor and destructor that
/// register it with the loader, and guarded `load`/`unload` entry points.
///
/// ```ignore
/// const DESCRIPTION: &CStr = c"...";
/// asterisk_module!(name: c"mod", description: DESCRIPTION, load: my_load, unload: my_unload);
/// ```
macro_rules! asterisk_module {
    (name: $name:expr, description: $desc:ident, load: $load:ident, reload: $reload:ident, unload: $unload:ident $(,)?) => {
        mod __asterisk_module {
            use std::ffi::c_int;
            use $crate::asterisk::guard::guard_uncounted as guard;
            use $crate::asterisk::module::*;

            unsafe extern "C" fn entry_load() -> ast_module_load_result {
                // SAFETY: INFO is our registered record; only its address is taken.
                unsafe { remember_self(std::ptr::addr_of!(INFO)) };
                guard(
                    || "loading the module".into(),
                    LOAD_DECLINE,
                    || {
                        if super::$load() {
                            LOAD_SUCCESS
                        } else {
                            LOAD_DECLINE
                        }
                    },
                )
            }

            unsafe extern "C" fn entry_reload() -> c_int {
                guard(
                    || "reloading the module".into(),
                    -1,
                    || if super::$reload() { 0 } else { -1 },
                )
            }

            unsafe extern "C" fn entry_unload() -> c_int {
                guard(
                    || "unloading the module".into(),
                    -1,
                    || if super::$unload() { 0 } else { -1 },
                )
            }

            static mut INFO: ast_module_info = ast_module_info {
                self_: std::ptr::null_mut(),
                load: Some(entry_load),
                reload: Some(entry_reload),
                unload: Some(entry_unload),
                name: $name.as_ptr(),
                description: super::$desc.as_ptr(),
                // Filled in by register(): the key lives in the C shim.
                key: std::ptr::null(),
                flags: MODFLAG_LOAD_ORDER,
                buildopt_sum: [0; 33],
                load_pri: MODPRI_CHANNEL_DRIVER,
                requires: std::ptr::null(),
                optional_modules: std::ptr::null(),
                enhances: std::ptr::null(),
                reserved1: std::ptr::null_mut(),
                reserved2: std::ptr::null_mut(),
                reserved3: std::ptr::null_mut(),
                reserved4: std::ptr::null_mut(),
                support_level: SUPPORT_EXTENDED,
            };

            extern "C" fn register() {
                // SAFETY: runs once from the constructor while the loader has
                // this module open; INFO lives as long as the mapping.
                unsafe { $crate::asterisk::module::register(std::ptr::addr_of_mut!(INFO)) };
            }

            extern "C" fn unregister() {
                // SAFETY: runs from the destructor as the mapping goes away.
                unsafe { $crate::asterisk::module::unregister(std::ptr::addr_of!(INFO)) };
            }

            #[used]
            #[link_section = ".init_array"]
            static CTOR: extern "C" fn() = register;
            #[used]
            #[link_section = ".fini_array"]
            static DTOR: extern "C" fn() = unregister;
        }
    };
}
pub(crate) use asterisk_module;

/// # Safety
/// `info` must be this module's info record, valid until unregister.
pub unsafe fn register(info: *mut ast_module_info) {
    // SAFETY: per the caller's contract; the loader has not read the record
    // yet, and the key is a static C string in the shim.
    unsafe {
        (*info).key = sys::ars_gpl_key.as_ptr();
        sys::ast_module_register(info);
    }
}

/// # Safety
/// `info` must be the record passed to [`register`].
pub unsafe fn unregister(info: *const ast_module_info) {
    // SAFETY: per the caller's contract.
    unsafe { sys::ast_module_unregister(info) };
}
