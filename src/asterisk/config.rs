//! Configuration files read through Asterisk's own parser, so that they
//! behave like every other Asterisk file: `#include`, templates, `;`
//! comments with `\;` escapes, and a reload that skips an unchanged file.

use std::ffi::CString;
use std::ptr::{self, NonNull};

use super::strings::from_c;
use super::sys;

/// One `name = value` line.
pub struct Variable {
    pub name: String,
    pub value: String,
    pub line: u32,
}

/// One `[section]` with its lines, templates' lines included.
pub struct Category {
    pub name: String,
    pub variables: Vec<Variable>,
}

pub enum Loaded {
    File(Vec<Category>),
    Missing,
    /// Asked only if changed, and it was not.
    Unchanged,
    /// Asterisk's parser refused it (it logs why).
    Invalid,
}

/// A parsed file, destroyed on drop.
struct Config(NonNull<sys::ast_config>);

impl Drop for Config {
    fn drop(&mut self) {
        // SAFETY: we own the configuration ast_config_load2 returned.
        unsafe { sys::ast_config_destroy(self.0.as_ptr()) };
    }
}

impl Config {
    fn categories(&self) -> Vec<Category> {
        let mut out = Vec::new();
        let mut cat = ptr::null_mut();
        loop {
            // SAFETY: live configuration; cat is null or the previous result.
            // Without a filter, templates are skipped (their lines are
            // copied into the sections that use them).
            cat = unsafe {
                sys::ast_category_browse_filtered(self.0.as_ptr(), ptr::null(), cat, ptr::null())
            };
            if cat.is_null() {
                return out;
            }
            // SAFETY: cat is a live category of this configuration.
            let name = from_c(unsafe { sys::ast_category_get_name(cat) });
            let mut variables = Vec::new();
            // SAFETY: as above; the list's nodes live as long as the configuration.
            let mut v = unsafe { sys::ast_category_first(cat) };
            // SAFETY: v is null or a live node of that list.
            while let Some(var) = unsafe { v.as_ref() } {
                variables.push(Variable {
                    name: from_c(var.name),
                    value: from_c(var.value),
                    line: var.lineno.max(0) as u32,
                });
                v = var.next;
            }
            out.push(Category { name, variables });
        }
    }
}

/// Reads `file` from Asterisk's configuration folder. With
/// `only_if_changed`, an unchanged file (includes too) is not read again.
pub fn load(file: &str, only_if_changed: bool) -> Loaded {
    let Ok(name) = CString::new(file) else {
        return Loaded::Missing;
    };
    let mut status = 0;
    // SAFETY: name is a valid C string and status a valid int for the call.
    let cfg = unsafe { sys::ars_config_load(name.as_ptr(), only_if_changed.into(), &mut status) };
    match NonNull::new(cfg) {
        Some(cfg) => Loaded::File(Config(cfg).categories()),
        None => match status as u32 {
            sys::ARS_CONFIG_UNCHANGED => Loaded::Unchanged,
            sys::ARS_CONFIG_INVALID => Loaded::Invalid,
            _ => Loaded::Missing,
        },
    }
}
