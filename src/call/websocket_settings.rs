//! WebSocket profiles of audiosocket.conf (`[name]` sections with
//! `type = websocket`): a server's URL where a dial string or ARI's
//! `external_host` cannot hold one (`ws:name` names the profile), the
//! dialect, the request's headers, and Twilio's settings.
//!
//! ```ini
//! [bot]
//! type = websocket
//! url = wss://bot.example.com/media?tenant=7
//! dialect = twilio                        ; or audiosocket (the default)
//! tls = botca                             ; wss: a TLS profile (default: the system's trust)
//! header = Authorization: Bearer abc123   ; as many as needed
//! twilio_auth_token = 0123...             ; X-Twilio-Signature on the upgrade
//! twilio_account_sid = AC0123...          ; the accountSid a Twilio bot is told
//! resume = yes                            ; calls to it resume after a loss (option r)
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use super::config_file::Section;
use super::tls_settings::TlsChoice;
use crate::session::websocket::{parse_url, Dialect, WebSocketTarget};
use crate::session::ServerAddr;

/// One profile: where the server is, and how to talk to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebSocketProfile {
    pub server: ServerAddr,
    pub target: WebSocketTarget,
    /// `tls = name`: the TLS profile for `wss`.
    pub tls: Option<TlsChoice>,
    /// `resume`: whether calls to it resume after a loss, when the call
    /// does not say.
    pub resume: Option<bool>,
}

pub type WebSocketProfiles = Arc<BTreeMap<String, WebSocketProfile>>;

/// The profiles the sections give; problems (with their lines) go to
/// `errors`, and a profile with one is left out.
pub fn from_sections(sections: &[&Section], errors: &mut Vec<String>) -> WebSocketProfiles {
    let mut out = BTreeMap::new();
    for section in sections {
        if let Some(p) = profile(section, errors) {
            out.insert(section.name.clone(), p);
        }
    }
    Arc::new(out)
}

fn profile(section: &Section, errors: &mut Vec<String>) -> Option<WebSocketProfile> {
    let before = errors.len();
    let mut url = None;
    let mut url_given = false;
    let mut dialect = Dialect::AudioSocket;
    let mut tls = None;
    let mut headers = Vec::new();
    let (mut token, mut account) = (None, None);
    let mut resume = None;
    for e in &section.entries {
        let mut bad = |why: String| errors.push(format!("line {}: {}: {why}", e.line, e.name));
        let value = e.value.trim();
        match e.name.as_str() {
            "type" => {}
            "url" => {
                url_given = true;
                match parse_url(value) {
                    Ok(parsed) => url = Some(parsed),
                    Err(why) => bad(why),
                }
            }
            "dialect" => match Dialect::parse(value) {
                Some(d) => dialect = d,
                None => bad(format!(
                    "'{value}' is not a dialect (audiosocket or twilio)"
                )),
            },
            "tls" => tls = Some(TlsChoice::Profile(value.to_string())),
            "header" => match value.split_once(':') {
                Some((name, v))
                    if !name.trim().is_empty()
                        && name
                            .trim()
                            .bytes()
                            .all(|b| b.is_ascii_graphic() && b != b':') =>
                {
                    headers.push((name.trim().to_string(), v.trim().to_string()))
                }
                _ => bad("expected 'Name: value'".into()),
            },
            "twilio_auth_token" => token = Some(value.to_string()),
            "twilio_account_sid" => {
                let well_formed = value.len() == 34
                    && value.starts_with("AC")
                    && value[2..].bytes().all(|b| b.is_ascii_hexdigit());
                if well_formed {
                    account = Some(value.to_string());
                } else {
                    bad(format!(
                        "'{value}' is not an account SID (AC and 32 hex digits)"
                    ));
                }
            }
            "resume" => match super::config_file::yes_no(value) {
                Ok(v) => resume = Some(v),
                Err(why) => bad(why),
            },
            other => bad(format!("unknown setting '{other}' in a websocket profile")),
        }
    }
    if !url_given {
        errors.push(format!(
            "websocket profile [{}] has no url (ws://... or wss://...)",
            section.name
        ));
    }
    let (server, secure, resource) = url?;
    if errors.len() > before {
        return None;
    }
    Some(WebSocketProfile {
        server: ServerAddr {
            shown: Some(format!("ws:{}", section.name)),
            ..server
        },
        tls: secure.then(|| tls.unwrap_or(TlsChoice::Default)),
        resume,
        target: WebSocketTarget {
            secure,
            resource,
            headers,
            dialect,
            twilio_auth_token: token,
            twilio_account_sid: account,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::config_file::test_section;

    #[test]
    fn a_profile_holds_the_url_dialect_headers_and_twilios_settings() {
        let s = test_section(
            "bot",
            3,
            &[
                ("type", "websocket"),
                ("url", "wss://bot.example.com/media?t=1"),
                ("dialect", "twilio"),
                ("header", "Authorization: Bearer abc"),
                ("header", "X-Route: blue"),
                ("twilio_auth_token", "tok"),
                ("twilio_account_sid", &format!("AC{}", "ab".repeat(16))),
            ],
        );
        let mut errors = Vec::new();
        let all = from_sections(&[&s], &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        let p = &all["bot"];
        assert_eq!(
            (p.server.host.as_str(), p.server.port),
            ("bot.example.com", 443)
        );
        assert_eq!(p.server.to_string(), "ws:bot");
        assert_eq!(p.tls, Some(TlsChoice::Default));
        assert_eq!(p.target.resource, "/media?t=1");
        assert_eq!(p.target.dialect, Dialect::Twilio);
        assert_eq!(p.target.headers.len(), 2);
        assert_eq!(p.target.twilio_auth_token.as_deref(), Some("tok"));
    }

    #[test]
    fn a_bad_profile_names_each_problem_and_is_left_out() {
        let s = test_section(
            "bad",
            10,
            &[
                ("type", "websocket"),
                ("url", "http://x/"),
                ("dialect", "klingon"),
                ("header", "no colon"),
                ("twilio_account_sid", "AC12"),
                ("colour", "red"),
            ],
        );
        let mut errors = Vec::new();
        let all = from_sections(&[&s], &mut errors);
        assert!(all.is_empty());
        let want = [
            "line 11: url: 'http://x/' is not a ws:// or wss:// URL",
            "line 12: dialect: 'klingon' is not a dialect",
            "line 13: header: expected 'Name: value'",
            "line 14: twilio_account_sid: 'AC12' is not an account SID",
            "line 15: colour: unknown setting 'colour'",
        ];
        assert_eq!(errors.len(), want.len(), "{errors:#?}");
        for (got, want) in errors.iter().zip(want) {
            assert!(got.starts_with(want), "{got:?} should start with {want:?}");
        }
        let mut errors = Vec::new();
        from_sections(
            &[&test_section("nourl", 1, &[("type", "websocket")])],
            &mut errors,
        );
        assert_eq!(
            errors,
            ["websocket profile [nourl] has no url (ws://... or wss://...)"]
        );
    }
}
