//! What the module says it is, wherever Asterisk shows it (`module show`,
//! `core show application`, the load log): the crate version and the
//! commit it was built from, so that a report names the exact build.

/// "0.1.0 (3f2a9c1)": a string literal, for `concat!`.
macro_rules! version {
    () => {
        concat!(
            env!("CARGO_PKG_VERSION"),
            " (",
            env!("AUDIOSOCKET_COMMIT"),
            ")"
        )
    };
}

/// String literals joined into a `&'static CStr`, at compile time.
macro_rules! c_text {
    ($($part:expr),+ $(,)?) => {
        match ::std::ffi::CStr::from_bytes_with_nul(concat!($($part),+, "\0").as_bytes()) {
            Ok(text) => text,
            Err(_) => panic!("a NUL inside a C text"),
        }
    };
}

pub(crate) use {c_text, version};
