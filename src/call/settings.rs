//! `audiosocket.conf`: defaults that dialplan options override. Asterisk's
//! parser reads the file (includes, templates, comments); this validates
//! what it found, purely, and reports every problem with its line. A file
//! with problems changes nothing.

use std::time::Duration;

use super::config_file::{yes_no, Section};
use super::resume_settings::{HoldSound, ResumeSettings, MAX_RESUME_TIME};
use super::tls_settings::{self, TlsSettings};
use super::websocket_settings::{self, WebSocketProfiles};
use crate::protocol::Rate;
use crate::session::{SessionConfig, VariablePolicy};

pub const FILE_NAME: &str = "audiosocket.conf";

#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub connect_timeout: Duration,
    pub playout_buffer: Duration,
    pub uplink_buffer: Duration,
    pub inactivity_timeout: Option<Duration>,
    /// `max_lateness`: drop server audio later than this (None: never).
    pub max_lateness: Option<Duration>,
    /// `default_codec`, when the file sets it.
    pub default_rate: Option<Rate>,
    /// `barge_in`: the extension on for every call, as if option `b`.
    pub barge_in: bool,
    /// `low_latency`: see `SessionConfig::low_latency`.
    pub low_latency: bool,
    /// TLS profiles, and `tls`: the TLS every call uses.
    pub tls: TlsSettings,
    /// `server_variables`: what a call's server may set when the call
    /// does not say (`v()`).
    pub server_variables: VariablePolicy,
    /// WebSocket profiles, by name (`ws:name`).
    pub websockets: WebSocketProfiles,
    /// `resume`, `resume_taps`, `resume_time`, `resume_attempts`,
    /// `resume_hold`.
    pub resume: ResumeSettings,
}

/// `server_variables` when audiosocket.conf does not say: the worked
/// example's names, and nothing Asterisk acts on.
pub const DEFAULT_SERVER_VARIABLES: &str = "BOT_*";

impl Default for Settings {
    fn default() -> Self {
        Settings {
            connect_timeout: SessionConfig::DEFAULT_CONNECT_TIMEOUT,
            playout_buffer: SessionConfig::DEFAULT_PLAYOUT_BUFFER,
            uplink_buffer: SessionConfig::DEFAULT_UPLINK_BUFFER,
            inactivity_timeout: None,
            max_lateness: Some(SessionConfig::DEFAULT_MAX_LATENESS),
            default_rate: None,
            barge_in: false,
            low_latency: true,
            tls: TlsSettings::default(),
            server_variables: VariablePolicy::parse(DEFAULT_SERVER_VARIABLES, ',')
                .expect("the default allowlist is well formed"),
            websockets: WebSocketProfiles::default(),
            resume: ResumeSettings::default(),
        }
    }
}

fn number(v: &str, min: f64, max: f64, unit: &str) -> Result<f64, String> {
    let n: f64 = v
        .trim()
        .parse()
        .map_err(|_| format!("'{v}' is not a number of {unit}"))?;
    if !(min..=max).contains(&n) {
        return Err(format!("{v} is outside {min} to {max} {unit}"));
    }
    Ok(n)
}

impl Settings {
    fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        match name {
            "connect_timeout" => number(value, 0.1, 300.0, "seconds")
                .map(|v| self.connect_timeout = Duration::from_secs_f64(v)),
            "playout_buffer" => number(value, 100.0, 60000.0, "ms")
                .map(|v| self.playout_buffer = Duration::from_millis(v as u64)),
            "uplink_buffer" => number(value, 100.0, 60000.0, "ms")
                .map(|v| self.uplink_buffer = Duration::from_millis(v as u64)),
            "max_lateness" => match number(value, 0.0, 60000.0, "ms")? {
                // Under a frame would drop audio on ordinary scheduling jitter.
                v if v > 0.0 && v < 20.0 => Err(format!("{value} ms: 0 (never) or 20 to 60000 ms")),
                v => {
                    self.max_lateness = (v > 0.0).then(|| Duration::from_millis(v as u64));
                    Ok(())
                }
            },
            "inactivity_timeout" => number(value, 0.0, 86400.0, "seconds")
                .map(|v| self.inactivity_timeout = (v > 0.0).then(|| Duration::from_secs_f64(v))),
            "default_codec" => Rate::from_format_name(value)
                .map(|r| self.default_rate = Some(r))
                .ok_or_else(|| {
                    format!("'{value}' is not a signed linear codec (slin ... slin192)")
                }),
            "barge_in" => yes_no(value).map(|v| self.barge_in = v),
            "low_latency" => yes_no(value).map(|v| self.low_latency = v),
            "server_variables" => {
                VariablePolicy::parse(value, ',').map(|v| self.server_variables = v)
            }
            "resume" => yes_no(value).map(|v| self.resume.calls = v),
            "resume_taps" => yes_no(value).map(|v| self.resume.taps = v),
            "resume_time" => number(value, 0.1, MAX_RESUME_TIME, "seconds")
                .map(|v| self.resume.policy.within = Duration::from_secs_f64(v)),
            "resume_attempts" => number(value, 1.0, 1000.0, "attempts")
                .map(|v| self.resume.policy.attempts = v as u32),
            "resume_hold" => HoldSound::parse(value).map(|v| self.resume.hold = v),
            // Read with the TLS profiles (see `tls_settings.rs`).
            "tls" => Ok(()),
            _ => Err(format!("unknown setting '{name}'")),
        }
    }
}

/// The settings the file's sections give. Err lists every problem, each
/// with its line.
pub fn from_sections(sections: &[Section]) -> Result<Settings, Vec<String>> {
    let mut s = Settings::default();
    let mut errors = Vec::new();
    let mut profiles = Vec::new();
    let mut websockets = Vec::new();
    let mut every_call = None;
    for section in sections {
        if section.name == "general" {
            for e in &section.entries {
                if e.name == "tls" {
                    every_call = Some((e.value.as_str(), e.line));
                }
                if let Err(why) = s.set(&e.name, &e.value) {
                    errors.push(format!("line {}: {}: {why}", e.line, e.name));
                }
            }
            continue;
        }
        match section.entries.iter().rev().find(|e| e.name == "type") {
            Some(t) if t.value.trim().eq_ignore_ascii_case("tls") => profiles.push(section),
            Some(t) if t.value.trim().eq_ignore_ascii_case("websocket") => websockets.push(section),
            Some(t) => errors.push(format!(
                "line {}: type: '{}' in [{}] is not a known type (tls, websocket)",
                t.line, t.value, section.name
            )),
            None => {
                let at = section
                    .entries
                    .first()
                    .map_or(String::new(), |e| format!("line {}: ", e.line));
                errors.push(format!(
                    "{at}section [{}] has no type ([general], or a profile with type = tls or \
                     type = websocket)",
                    section.name
                ));
            }
        }
    }
    s.tls = tls_settings::from_sections(&profiles, every_call, &mut errors);
    s.websockets = websocket_settings::from_sections(&websockets, &mut errors);
    if errors.is_empty() {
        Ok(s)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::config_file::test_section;

    fn section(name: &str, entries: &[(&str, &str)]) -> Section {
        test_section(name, 2, entries)
    }

    #[test]
    fn no_file_or_an_empty_one_gives_the_defaults() {
        assert_eq!(from_sections(&[]), Ok(Settings::default()));
        assert_eq!(
            from_sections(&[section("general", &[])]),
            Ok(Settings::default())
        );
    }

    #[test]
    fn every_setting_is_read() {
        let s = from_sections(&[section(
            "general",
            &[
                ("connect_timeout", "0.5"),
                ("playout_buffer", "500"),
                ("uplink_buffer", "250"),
                ("inactivity_timeout", "30"),
                ("default_codec", "slin16"),
                ("barge_in", "yes"),
                ("max_lateness", "350"),
                ("low_latency", "no"),
                ("server_variables", "LEAD_*, NOTE"),
                ("resume", "yes"),
                ("resume_taps", "no"),
                ("resume_time", "2.5"),
                ("resume_attempts", "7"),
                ("resume_hold", "moh:calm"),
            ],
        )])
        .unwrap();
        assert!(s.resume.calls && !s.resume.taps);
        assert_eq!(s.resume.policy.within, Duration::from_millis(2500));
        assert_eq!(s.resume.policy.attempts, 7);
        assert_eq!(s.resume.hold, HoldSound::Moh("calm".into()));
        assert_eq!(s.server_variables.allows("LEAD_SCORE"), Ok(()));
        assert!(s.server_variables.allows("BOT_RESULT").is_err());
        let none = from_sections(&[section("general", &[("server_variables", "")])]).unwrap();
        assert!(none.server_variables.allows("BOT_RESULT").is_err());
        assert_eq!(
            Settings::default().server_variables.allows("BOT_RESULT"),
            Ok(())
        );
        assert!(s.barge_in);
        assert!(!s.low_latency);
        assert!(Settings::default().low_latency);
        assert_eq!(s.max_lateness, Some(Duration::from_millis(350)));
        let never = from_sections(&[section("general", &[("max_lateness", "0")])]).unwrap();
        assert_eq!(never.max_lateness, None);
        assert!(from_sections(&[section("general", &[("max_lateness", "5")])]).is_err());
        assert_eq!(s.connect_timeout, Duration::from_millis(500));
        assert_eq!(s.playout_buffer, Duration::from_millis(500));
        assert_eq!(s.uplink_buffer, Duration::from_millis(250));
        assert_eq!(s.inactivity_timeout, Some(Duration::from_secs(30)));
        assert_eq!(s.default_rate, Some(Rate::Hz16000));
    }

    #[test]
    fn a_later_line_overrides_an_earlier_one() {
        let s = from_sections(&[
            section("general", &[("playout_buffer", "500")]),
            section("general", &[("playout_buffer", "700")]),
        ])
        .unwrap();
        assert_eq!(s.playout_buffer, Duration::from_millis(700));
        let s = from_sections(&[section("general", &[("inactivity_timeout", "0")])]).unwrap();
        assert_eq!(s.inactivity_timeout, None);
    }

    #[test]
    fn a_bad_file_reports_every_problem_with_its_line() {
        let e = from_sections(&[
            section(
                "general",
                &[
                    ("connect_timeout", "soon"),
                    ("playout_buffer", "5"),
                    ("colour", "blue"),
                    ("default_codec", "ulaw"),
                    ("barge_in", "maybe"),
                    ("server_variables", "BOT_*, DYNAMIC_FEATURES"),
                ],
            ),
            section("other", &[("x", "1")]),
        ])
        .unwrap_err();
        let want = [
            "line 2: connect_timeout: 'soon' is not a number of seconds",
            "line 3: playout_buffer: 5 is outside 100 to 60000 ms",
            "line 4: colour: unknown setting 'colour'",
            "line 5: default_codec: 'ulaw' is not a signed linear codec",
            "line 6: barge_in: 'maybe' is neither yes nor no",
            "line 7: server_variables: DYNAMIC_FEATURES is a variable Asterisk acts on",
            "line 2: section [other] has no type",
        ];
        assert_eq!(e.len(), want.len(), "{e:#?}");
        for (got, want) in e.iter().zip(want) {
            assert!(got.starts_with(want), "{got:?} should start with {want:?}");
        }
    }
}
