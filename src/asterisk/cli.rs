//! CLI commands: a Rust [`CliCommand`] behind a guarded C handler.

use std::ffi::{c_char, c_int, CStr, CString};
use std::ptr;
use std::sync::Mutex;

use super::guard::guard;
use super::module::module_self;
use super::sys;
use crate::locks::lock;

pub enum CliOutcome {
    Success,
    /// The arguments were wrong: Asterisk prints the usage text.
    ShowUsage,
}

pub trait CliCommand {
    /// The full command, words separated by single spaces.
    const COMMAND: &'static CStr;
    const SUMMARY: &'static CStr;
    const USAGE: &'static CStr;

    /// Runs the command with all its words; `out` prints to the console.
    fn run(argv: &[String], out: &mut dyn FnMut(&str)) -> CliOutcome;

    /// Candidates for the word at position `pos` (0 = first word).
    fn complete(_pos: usize) -> Vec<String> {
        Vec::new()
    }
}

fn strings(argv: *const *const c_char, argc: c_int) -> Vec<String> {
    (0..argc.max(0) as usize)
        .map(|i| {
            // SAFETY: Asterisk passes argc valid C strings in argv.
            let p = unsafe { *argv.add(i) };
            if p.is_null() {
                String::new()
            } else {
                // SAFETY: p is a NUL-terminated string owned by the CLI.
                unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
            }
        })
        .collect()
}

unsafe extern "C" fn handler<C: CliCommand>(
    e: *mut sys::ast_cli_entry,
    cmd: c_int,
    a: *mut sys::ast_cli_args,
) -> *mut c_char {
    guard(
        || format!("CLI '{}'", C::COMMAND.to_string_lossy()),
        sys::RESULT_FAILURE as usize as *mut c_char,
        || match cmd {
            sys::CLI_INIT => {
                // SAFETY: e is our registered entry; the strings are 'static
                // and Asterisk only reads them.
                unsafe {
                    (*e).command = C::COMMAND.as_ptr() as *mut c_char;
                    (*e).usage = C::USAGE.as_ptr();
                }
                ptr::null_mut()
            }
            sys::CLI_GENERATE => {
                // SAFETY: a is valid for the call.
                let a = unsafe { &*a };
                let word = if a.word.is_null() {
                    String::new()
                } else {
                    // SAFETY: word is a NUL-terminated string.
                    unsafe { CStr::from_ptr(a.word) }
                        .to_string_lossy()
                        .into_owned()
                };
                let found = C::complete(a.pos.max(0) as usize)
                    .into_iter()
                    .filter(|c| c.starts_with(&word))
                    .nth(a.n.max(0) as usize);
                match found.and_then(|s| CString::new(s).ok()) {
                    // The CLI frees what it is given with ast_free(): it
                    // must come from Asterisk's allocator (which may not
                    // be malloc, with MALLOC_DEBUG).
                    // SAFETY: __ast_strdup copies a valid C string; the
                    // file and function names are static C strings.
                    Some(s) => unsafe {
                        let here = c"cli.rs";
                        sys::__ast_strdup(s.as_ptr(), here.as_ptr(), line!() as i32, here.as_ptr())
                    },
                    None => ptr::null_mut(),
                }
            }
            _ => {
                // SAFETY: a is valid for the call.
                let a = unsafe { &*a };
                let argv = strings(a.argv, a.argc);
                let fd = a.fd;
                let mut out = |text: &str| {
                    let text = CString::new(text.replace('\0', "")).unwrap_or_default();
                    // SAFETY: fd is the console's, text a valid C string.
                    unsafe { sys::ars_cli(fd, text.as_ptr()) };
                };
                match C::run(&argv, &mut out) {
                    CliOutcome::Success => sys::RESULT_SUCCESS as usize as *mut c_char,
                    CliOutcome::ShowUsage => sys::RESULT_SHOWUSAGE as usize as *mut c_char,
                }
            }
        },
    )
}

/// An entry for `C`, to register with [`register`].
pub fn entry<C: CliCommand>() -> sys::ast_cli_entry {
    let mut cmda: [*const c_char; sys::AST_MAX_CMD_LEN as usize] =
        [ptr::null(); sys::AST_MAX_CMD_LEN as usize];
    cmda[0] = c"".as_ptr();
    sys::ast_cli_entry {
        cmda,
        summary: C::SUMMARY.as_ptr(),
        handler: Some(handler::<C>),
        // SAFETY: the remaining members are filled in by Asterisk at
        // registration; zero is their documented initial value.
        ..unsafe { std::mem::zeroed() }
    }
}

struct Registered(*mut sys::ast_cli_entry, usize);
// SAFETY: only touched under the mutex, from load and unload.
unsafe impl Send for Registered {}

static REGISTERED: Mutex<Option<Registered>> = Mutex::new(None);

/// Registers the entries; Asterisk keeps pointers into them until unregister.
pub fn register(entries: Vec<sys::ast_cli_entry>) -> bool {
    let len = entries.len();
    let raw = Box::into_raw(entries.into_boxed_slice()) as *mut sys::ast_cli_entry;
    // SAFETY: raw points to len initialised entries that stay allocated until
    // unregister; module_self is our module.
    if unsafe { sys::__ast_cli_register_multiple(raw, len as c_int, module_self().cast()) } != 0 {
        // SAFETY: registration failed; Asterisk unregistered what it took,
        // so the allocation is ours again.
        unsafe {
            sys::ast_cli_unregister_multiple(raw, len as c_int);
            drop(Box::from_raw(ptr::slice_from_raw_parts_mut(raw, len)));
        }
        return false;
    }
    *lock(&REGISTERED) = Some(Registered(raw, len));
    true
}

pub fn unregister() {
    let taken = lock(&REGISTERED).take();
    if let Some(Registered(raw, len)) = taken {
        // SAFETY: raw/len are what register handed to Asterisk; after
        // unregistering, Asterisk no longer refers to them.
        unsafe {
            sys::ast_cli_unregister_multiple(raw, len as c_int);
            drop(Box::from_raw(ptr::slice_from_raw_parts_mut(raw, len)));
        }
    }
}
