//! Generates the raw Asterisk bindings and compiles the C shim.
//!
//! By default both read this project's own declarations in `asterisk-headers/`,
//! so one build loads into every Asterisk whose ABI they describe (18 to 23).
//! With `ASTERISK_INCLUDE_DIR` pointing at an installed Asterisk's headers
//! (the folder holding `asterisk.h`), both use those instead.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every Asterisk function the module calls, directly or through the shim.
const FUNCTIONS: &[&str] = &[
    "ars_.*",
    "ast_module_register",
    "ast_module_unregister",
    "ast_register_application2",
    "ast_unregister_application",
    "pbx_findapp",
    "pbx_builtin_setvar_helper",
    "pbx_builtin_getvar_helper",
    "ast_channel_register",
    "ast_channel_unregister",
    "ast_get_channel_tech",
    "ast_channel_name",
    "ast_channel_uniqueid",
    "ast_channel_fdno",
    "ast_channel_set_fd",
    "ast_channel_tech_pvt",
    "ast_channel_tech_pvt_set",
    "ast_channel_tech_set",
    "ast_channel_nativeformats_set",
    "ast_channel_readformat",
    "ast_channel_writeformat",
    "ast_channel_set_readformat",
    "ast_channel_set_writeformat",
    "ast_channel_set_rawreadformat",
    "ast_channel_set_rawwriteformat",
    "ast_set_read_format",
    "ast_set_write_format",
    "ast_channel_hangupcause",
    "ast_channel_hangupcause_set",
    "ast_waitfor_nandfds",
    "ast_hangup",
    "ast_read",
    "ast_write",
    "ast_senddigit_begin",
    "ast_senddigit_end",
    "ast_format_cmp",
    "ast_format_get_name",
    "ast_format_get_sample_rate",
    "ast_format_cap_count",
    "ast_format_cap_get_format",
    "ast_channel_softhangup_internal_flag",
    "__ast_cli_register_multiple",
    "ast_cli_unregister_multiple",
    "ast_channel_linkedid",
    "ast_channel_exten",
    "ast_channel_context",
    "ast_channel_language",
    "ast_channel_caller",
    "ast_channel_connected",
    "ast_audiohook_init",
    "ast_audiohook_destroy",
    "ast_audiohook_attach",
    "ast_audiohook_remove",
    "ast_audiohook_update_status",
    "__ast_datastore_alloc",
    "ast_datastore_free",
    "ast_channel_datastore_add",
    "ast_channel_datastore_find",
    "ast_channel_datastore_remove",
    "ast_channel_iterator_all_new",
    "ast_channel_iterator_next",
    "ast_channel_iterator_destroy",
    "ast_translator_build_path",
    "ast_translator_free_path",
    "ast_translate",
    "__ast_strdup",
    "ast_config_destroy",
    "ast_category_browse_filtered",
    "ast_category_get_name",
    "ast_category_first",
    "ast_moh_start",
    "ast_moh_stop",
    "ast_channel_start_silence_generator",
    "ast_channel_stop_silence_generator",
];

/// Every Asterisk struct the module reads or builds, and the enums it names.
const TYPES: &[&str] = &[
    "ast_module_info",
    "ast_channel_tech",
    "ast_frame",
    "ast_frame_subclass",
    "ast_assigned_ids",
    "ast_frame_type",
    "ast_control_frame_type",
    "ast_module_load_result",
    "ast_module_support_level",
    "ast_module_flags",
    "ast_module_load_priority",
    "ast_format_cmp_res",
    "ast_cli_entry",
    "ast_cli_args",
    "ast_cli_command",
    "ast_custom_function",
    "ast_variable",
    "ast_audiohook",
    "ast_audiohook_direction",
    "ast_audiohook_status",
    "ast_audiohook_type",
    "ast_datastore",
    "ast_datastore_info",
    "ast_party_caller",
    "ast_party_connected_line",
];

const VARS: &[&str] = &[
    "ast_format_slin.*",
    "ast_format_ulaw",
    "ast_null_frame",
    "ars_gpl_key",
    "AST_FRIENDLY_OFFSET",
    "AST_CAUSE_.*",
    "__LOG_.*",
    "RESULT_.*",
    "AST_MAX_CMD_LEN",
    "ARS_CONFIG_.*",
];

/// Reads an environment variable and tells cargo to rebuild when it changes.
fn env_var(name: &str) -> Option<String> {
    println!("cargo:rerun-if-env-changed={name}");
    env::var(name).ok().filter(|v| !v.is_empty())
}

fn header_dir(manifest: &Path) -> (PathBuf, bool) {
    match env_var("ASTERISK_INCLUDE_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if !dir.join("asterisk.h").is_file() || !dir.join("asterisk/channel.h").is_file() {
                panic!(
                    "ASTERISK_INCLUDE_DIR={} does not hold Asterisk's headers \
                     (expected asterisk.h and asterisk/channel.h there); \
                     unset it to build with the project's own declarations",
                    dir.display()
                );
            }
            (dir, true)
        }
        None => (manifest.join("asterisk-headers"), false),
    }
}

/// The commit the module is built from, for the version it reports:
/// `AUDIOSOCKET_COMMIT` when set (a build from an exported tree), else
/// git's short hash, with "-modified" when tracked files differ from it.
fn commit(manifest: &Path) -> String {
    if let Some(c) = env_var("AUDIOSOCKET_COMMIT") {
        return c;
    }
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(manifest)
            // Never rewrite the index from a build.
            .arg("--no-optional-locks")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let Some(hash) = git(&["rev-parse", "--short=7", "HEAD"]) else {
        return "unknown commit".into();
    };
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        let dir = PathBuf::from(dir);
        let branch = git(&["symbolic-ref", "-q", "HEAD"]).unwrap_or_default();
        for f in ["HEAD", "index", "packed-refs", branch.as_str()] {
            let path = dir.join(f);
            // (A missing file would make cargo run this script every time.)
            if !f.is_empty() && path.is_file() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    let modified =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    if modified {
        format!("{hash}-modified")
    } else {
        hash
    }
}

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    println!("cargo:rustc-env=AUDIOSOCKET_COMMIT={}", commit(&manifest));
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    let (headers, real) = header_dir(&manifest);
    let include = manifest.join("include");
    let shim = manifest.join("src/shim/shim.c");

    for path in ["include", "src/shim", "asterisk-headers"] {
        println!("cargo:rerun-if-changed={path}");
    }

    // Real headers insist that an external module names its self symbol;
    // the shim never uses it (it passes the module to Asterisk explicitly).
    let defines = [
        ("AST_MODULE", "\"chan_audiosocket_rs\""),
        ("AST_MODULE_SELF_SYM", "__internal_chan_audiosocket_rs_self"),
        ("_GNU_SOURCE", "1"),
    ];

    let mut build = cc::Build::new();
    build
        .file(&shim)
        .include(&headers)
        .include(&include)
        .warnings(!real)
        .flag_if_supported("-fvisibility=hidden");
    for (k, v) in defines {
        build.define(k, v);
    }
    build.compile("audiosocket_shim");

    let mut bindings = bindgen::Builder::default()
        .header(include.join("audiosocket_shim.h").to_string_lossy())
        .clang_arg(format!("-I{}", headers.display()))
        .clang_arg(format!("-I{}", include.display()))
        // Asterisk's headers use clang blocks for RAII_VAR when parsed by clang.
        .clang_arg("-fblocks")
        .default_enum_style(bindgen::EnumVariation::Consts)
        .prepend_enum_name(false)
        .derive_default(false)
        .layout_tests(false)
        .generate_comments(false)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()));
    for (k, v) in defines {
        bindings = bindings.clang_arg(format!("-D{k}={v}"));
    }
    for f in FUNCTIONS {
        bindings = bindings.allowlist_function(f);
    }
    for t in TYPES {
        bindings = bindings.allowlist_type(t);
    }
    for v in VARS {
        bindings = bindings.allowlist_var(v);
    }
    let bindings = bindings.generate().unwrap_or_else(|e| {
        panic!(
            "bindgen could not read the Asterisk headers in {}: {e}\n\
             (bindgen needs libclang: on Debian, apt-get install libclang-dev)",
            headers.display()
        )
    });
    bindings
        .write_to_file(out.join("bindings.rs"))
        .expect("write bindings.rs");
}
