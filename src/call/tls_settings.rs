//! The TLS part of audiosocket.conf: profiles (`[name]` sections with
//! `type = tls`) and `[general] tls`, the TLS every call uses.
//!
//! ```ini
//! [general]
//! tls = bot          ; every call: no (the default), yes (the system's trust), or a profile
//!
//! [bot]
//! type = tls
//! ca_file = /etc/asterisk/keys/bot-ca.pem   ; else the system's trusted certificates
//! cert_file = /etc/asterisk/keys/pbx.pem    ; mutual TLS: our certificate...
//! key_file = /etc/asterisk/keys/pbx.key     ; ...and its key
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use super::config_file::{yes_no, Section};
use crate::session::tls::{TlsClient, TlsProfile};

/// Which TLS a call asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsChoice {
    /// `s`: the system's trusted certificates, no client certificate (or
    /// the `[general] tls` profile, when audiosocket.conf names one).
    Default,
    /// `s(name)`: the profile `[name]` of audiosocket.conf.
    Profile(String),
}

#[derive(Clone, Default)]
pub struct TlsSettings {
    profiles: Arc<BTreeMap<String, TlsClient>>,
    /// `[general] tls`: every call's TLS, as if it had been given `s` or
    /// `s(name)`.
    every_call: Option<TlsChoice>,
    /// `s` with no profile to name: the system's trust, read the first
    /// time a call needs it (each reload starts afresh).
    system: Arc<OnceLock<Result<TlsClient, String>>>,
}

impl PartialEq for TlsSettings {
    fn eq(&self, other: &TlsSettings) -> bool {
        self.profiles == other.profiles && self.every_call == other.every_call
    }
}

impl fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSettings")
            .field("profiles", &self.profiles.keys().collect::<Vec<_>>())
            .field("every_call", &self.every_call)
            .finish()
    }
}

impl TlsSettings {
    /// The TLS for a call that asked for `choice` (None: nothing).
    pub fn for_call(&self, choice: Option<&TlsChoice>) -> Result<Option<TlsClient>, String> {
        let choice = match (choice, &self.every_call) {
            (None, None) => return Ok(None),
            // `s` alone takes the profile `[general] tls` names.
            (None | Some(TlsChoice::Default), Some(every)) => every,
            (Some(c), _) => c,
        };
        match choice {
            TlsChoice::Profile(name) => self
                .profiles
                .get(name)
                .cloned()
                .map(Some)
                .ok_or_else(|| format!("no TLS profile [{name}] in audiosocket.conf")),
            TlsChoice::Default => self
                .system
                .get_or_init(|| {
                    TlsClient::build(&TlsProfile::system_default())
                        .map_err(|e| format!("TLS: {}", e.why))
                })
                .clone()
                .map(Some),
        }
    }

    pub fn has_profiles(&self) -> bool {
        !self.profiles.is_empty()
    }

    /// What the log should say at load: profiles that do not check the
    /// server.
    pub fn warnings(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .profiles
            .iter()
            .filter(|(_, c)| !c.profile().verify_server)
            .map(|(name, _)| {
                format!(
                    "TLS profile [{name}] has verify_server = no: the server's certificate is \
                     not checked, so whoever answers on the server's address gets the calls"
                )
            })
            .collect();
        for (name, client) in self.profiles.iter() {
            if let Some(key) = &client.profile().key_file {
                if let Some(mode) = readable_by_others(key) {
                    out.push(format!(
                        "TLS profile [{name}]: key_file {} can be read by its group or \
                         others (mode {mode:04o}); chmod 600 it",
                        key.display()
                    ));
                }
            }
        }
        out
    }
}

/// The file's mode, when its group or others may read it.
fn readable_by_others(path: &std::path::Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o7777;
    (mode & 0o044 != 0).then_some(mode)
}

/// Builds the settings from the profile sections and `[general] tls`'s
/// value and line, adding every problem (with its line) to `errors`.
pub fn from_sections(
    profiles: &[&Section],
    every_call: Option<(&str, u32)>,
    errors: &mut Vec<String>,
) -> TlsSettings {
    let mut built = BTreeMap::new();
    for section in profiles {
        if let Some(client) = profile(section, errors) {
            built.insert(section.name.clone(), client);
        }
    }
    let every_call = every_call.and_then(|(value, line)| {
        let choice = match value.trim() {
            v if yes_no(v) == Ok(false) => return None,
            v if yes_no(v) == Ok(true) => TlsChoice::Default,
            name => TlsChoice::Profile(name.to_string()),
        };
        if let TlsChoice::Profile(name) = &choice {
            if !built.contains_key(name) && !profiles.iter().any(|p| &p.name == name) {
                errors.push(format!(
                    "line {line}: tls: no TLS profile [{name}] (yes, no, or a section with type = tls)"
                ));
            }
        }
        Some(choice)
    });
    TlsSettings {
        profiles: Arc::new(built),
        every_call,
        system: Arc::default(),
    }
}

/// One `type = tls` section, read and checked (its files too).
fn profile(section: &Section, errors: &mut Vec<String>) -> Option<TlsClient> {
    let mut p = TlsProfile {
        name: section.name.clone(),
        ..TlsProfile::system_default()
    };
    let before = errors.len();
    let line_of = |setting: &str| {
        section
            .entries
            .iter()
            .rev()
            .find(|e| e.name == setting)
            .or(section.entries.first())
            .map_or(0, |e| e.line)
    };
    for e in &section.entries {
        let path = || Some(PathBuf::from(e.value.trim()));
        match e.name.as_str() {
            "type" => {}
            "ca_file" => p.ca_file = path(),
            "ca_path" => p.ca_path = path(),
            "cert_file" => p.cert_file = path(),
            "key_file" => p.key_file = path(),
            "server_name" => p.server_name = Some(e.value.trim().to_string()),
            "verify_server" => match yes_no(&e.value) {
                Ok(v) => p.verify_server = v,
                Err(why) => errors.push(format!("line {}: verify_server: {why}", e.line)),
            },
            other => errors.push(format!(
                "line {}: unknown setting '{other}' in TLS profile [{}] (ca_file, ca_path, \
                 cert_file, key_file, verify_server, server_name)",
                e.line, section.name
            )),
        }
    }
    if errors.len() > before {
        return None;
    }
    match TlsClient::build(&p) {
        Ok(client) => Some(client),
        Err(e) => {
            errors.push(format!(
                "line {}: {}: TLS profile [{}]: {}",
                line_of(e.setting),
                e.setting,
                section.name,
                e.why
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::config_file::test_section as section;
    use crate::call::settings::from_sections as settings_from;
    use crate::test_pki::{Pki, Role};

    fn name_of(client: Option<TlsClient>) -> Option<String> {
        client.map(|c| c.profile().name.clone())
    }

    #[test]
    fn profiles_serve_s_with_a_name_and_general_tls_serves_the_rest() {
        let pki = Pki::new("settings");
        let ca = pki.ca_file().display().to_string();
        let ours = pki.issue("pbx", &["pbx.example"], Role::Client, false);
        let sections = [
            section("general", 1, &[("tls", "bot")]),
            section("bot", 3, &[("type", "tls"), ("ca_file", &ca)]),
            section(
                "vendor",
                6,
                &[
                    ("type", "tls"),
                    ("ca_file", &ca),
                    ("cert_file", &ours.cert_file.display().to_string()),
                    ("key_file", &ours.key_file.display().to_string()),
                    ("server_name", "vendor.example"),
                ],
            ),
        ];
        let s = settings_from(&sections).unwrap().tls;
        let vendor = TlsChoice::Profile("vendor".into());
        assert_eq!(name_of(s.for_call(None).unwrap()).as_deref(), Some("bot"));
        let plain_s = s.for_call(Some(&TlsChoice::Default)).unwrap();
        assert_eq!(name_of(plain_s).as_deref(), Some("bot"));
        let named = s.for_call(Some(&vendor)).unwrap().unwrap();
        assert!(named.has_certificate());
        let missing = TlsChoice::Profile("nope".into());
        assert_eq!(
            s.for_call(Some(&missing)).unwrap_err(),
            "no TLS profile [nope] in audiosocket.conf"
        );
        assert!(s.warnings().is_empty());

        // Without [general] tls, a call has TLS only when it asks.
        let s = settings_from(&sections[1..]).unwrap().tls;
        assert_eq!(name_of(s.for_call(None).unwrap()), None);
        let off = settings_from(&[section("general", 1, &[("tls", "no")])]).unwrap();
        assert_eq!(name_of(off.tls.for_call(None).unwrap()), None);
    }

    /// `tls = yes` and `s` alone use the system's trusted certificates, as
    /// Debian keeps them; where it keeps none, a call is told why.
    #[test]
    fn s_alone_uses_the_systems_trust() {
        let s = settings_from(&[section("general", 1, &[("tls", "yes")])]).unwrap();
        let system = std::path::Path::new(crate::session::tls::SYSTEM_CA_FILE).exists();
        match s.tls.for_call(None) {
            Ok(client) => {
                assert!(system);
                assert_eq!(name_of(client).as_deref(), Some("default"));
            }
            Err(why) => {
                assert!(!system, "{why}");
                assert!(why.contains("install ca-certificates"), "{why}");
            }
        }
    }

    #[test]
    fn each_bad_profile_line_is_reported_with_its_number() {
        let pki = Pki::new("settings-bad");
        let ca = pki.ca_file().display().to_string();
        let errors = settings_from(&[
            section("general", 1, &[("tls", "absent")]),
            section("a", 3, &[("type", "tls"), ("colour", "blue")]),
            section("b", 6, &[("type", "tls"), ("verify_server", "perhaps")]),
            section(
                "c",
                9,
                &[("type", "tls"), ("ca_file", "/nonexistent/ca.pem")],
            ),
            section("d", 12, &[("type", "sip")]),
            section("e", 14, &[("ca_file", &ca)]),
        ])
        .unwrap_err();
        let want = [
            "line 12: type: 'sip' in [d] is not a known type (tls, websocket)",
            "line 14: section [e] has no type",
            "line 4: unknown setting 'colour' in TLS profile [a]",
            "line 7: verify_server: 'perhaps' is neither yes nor no",
            "line 10: ca_file: TLS profile [c]: cannot read /nonexistent/ca.pem",
            "line 1: tls: no TLS profile [absent]",
        ];
        assert_eq!(errors.len(), want.len(), "{errors:#?}");
        for (got, want) in errors.iter().zip(want) {
            assert!(got.starts_with(want), "{got:?} should start with {want:?}");
        }
    }

    #[test]
    fn a_profile_that_does_not_verify_is_warned_about_at_load() {
        let pki = Pki::new("settings-warn");
        let ca = pki.ca_file().display().to_string();
        let s = settings_from(&[section(
            "lab",
            1,
            &[("type", "tls"), ("ca_file", &ca), ("verify_server", "no")],
        )])
        .unwrap();
        let w = s.tls.warnings();
        assert_eq!(w.len(), 1);
        assert!(
            w[0].starts_with("TLS profile [lab] has verify_server = no"),
            "{w:?}"
        );
    }

    #[test]
    fn a_key_others_can_read_is_warned_about_at_load() {
        use std::os::unix::fs::PermissionsExt;
        let pki = Pki::new("settings-key-mode");
        let ours = pki.issue("pbx", &[], Role::Client, false);
        let profile = |mode: u32| {
            std::fs::set_permissions(&ours.key_file, std::fs::Permissions::from_mode(mode))
                .unwrap();
            let s = settings_from(&[section(
                "bot",
                1,
                &[
                    ("type", "tls"),
                    ("cert_file", &ours.cert_file.display().to_string()),
                    ("key_file", &ours.key_file.display().to_string()),
                ],
            )])
            .unwrap();
            s.tls.warnings()
        };
        assert!(profile(0o600).is_empty());
        let w = profile(0o640);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains(&format!(
                "[bot]: key_file {} can be read by its group or others (mode 0640)",
                ours.key_file.display()
            )),
            "{w:?}"
        );
        assert_eq!(profile(0o604).len(), 1);
    }
}
