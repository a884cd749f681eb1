//! The dialplan's words: `AudioSocket(uuid,host:port[,options])` and the
//! dial string `AudioSocket/host:port/uuid[/options]`. Pure parsing, so every
//! error message is tested here.

use std::time::Duration;

use uuid::Uuid;

use super::resume_settings::ResumeOption;
use super::settings::Settings;
pub use super::tls_settings::TlsChoice;
use crate::protocol::twilio::Track;
use crate::protocol::Rate;
use crate::session::tls::TlsClient;
use crate::session::websocket::{parse_url, Dialect, WebSocketTarget};
use crate::session::{ServerAddr, SessionConfig, TapDirection, VariablePolicy};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct CallOptions {
    /// `c(slinNN)`: the signed linear rate both ways.
    pub rate: Option<Rate>,
    /// `t(seconds)`: connect timeout.
    pub connect_timeout: Option<Duration>,
    /// `i(seconds)`: end the call after this long with no audio either way.
    pub inactivity_timeout: Option<Duration>,
    /// `b`: the barge-in extension (flush, marks, drained reports on the
    /// socket, and a tight bound on what the server can write ahead).
    pub barge_in: bool,
    /// `s` or `s(profile)`: TLS to the server.
    pub tls: Option<TlsChoice>,
    /// `m` or `m(VAR1^VAR2)`: the call's context to the server (with these
    /// channel variables), and variables from the server.
    pub context: Option<Vec<String>>,
    /// `d(in|out|both|stereo)`: what a tap streams.
    pub direction: Option<TapDirection>,
    /// `w`: a tap's server whispers to the tapped party.
    pub whisper: bool,
    /// `v(NAME^GLOB*)`: the variables the server may set on this call,
    /// instead of `server_variables`.
    pub server_variables: Option<VariablePolicy>,
    /// `p(twilio|audiosocket)`: what the messages on a WebSocket say,
    /// instead of the profile's `dialect`.
    pub dialect: Option<Dialect>,
    /// `r`, `r(seconds)`, `r(0)`: resume on another server after a loss.
    pub resume: Option<ResumeOption>,
}

/// Where options are given: the options each accepts differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Given {
    /// `AudioSocket()` and `AudioSocket/` dial strings.
    Call,
    /// `AUDIOSOCKET_TAP()`.
    Tap,
}

impl CallOptions {
    /// Refuses an option the call or tap has no use for.
    fn check(&self, given: Given) -> Result<(), String> {
        let refuse = |what: &str| match given {
            Given::Call => Err(format!("option {what} applies to AUDIOSOCKET_TAP() only")),
            Given::Tap => Err(format!("option {what} does not apply to a tap")),
        };
        match given {
            Given::Call if self.direction.is_some() => refuse("d()"),
            Given::Call if self.whisper => refuse("w"),
            Given::Tap if self.barge_in => refuse("b"),
            Given::Tap if self.inactivity_timeout.is_some() => refuse("i()"),
            _ => Ok(()),
        }
    }
}

/// Names given to `m(...)`, at most: each becomes a member of the context.
pub const MAX_CONTEXT_VARIABLES: usize = 32;

fn parse_context_variables(v: &str) -> Result<Vec<String>, String> {
    let names: Vec<String> = v
        .split('^')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(String::from)
        .collect();
    if names.len() > MAX_CONTEXT_VARIABLES {
        return Err(format!(
            "option m({v}): at most {MAX_CONTEXT_VARIABLES} variables"
        ));
    }
    if let Some(bad) = names
        .iter()
        .find(|n| !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    {
        return Err(format!(
            "option m({v}): '{bad}' is not a variable name (letters, digits and '_'; \
             separate names with '^')"
        ));
    }
    Ok(names)
}

/// A format a channel request asked for (ARI's `format`, a caller's codecs).
pub struct RequestedFormat {
    pub name: String,
    pub sample_rate: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CallArgs {
    pub uuid: Uuid,
    /// Where the server is (once [`CallArgs::resolve`] has looked a
    /// profile up).
    pub server: ServerAddr,
    /// Over a WebSocket: where on the server, and what the messages say.
    pub websocket: Option<WebSocketTarget>,
    /// `ws:name`: the WebSocket profile still to look up.
    pub profile: Option<String>,
    /// A profile's `tls`, for a call that does not say (`s`).
    pub profile_tls: Option<TlsChoice>,
    /// A profile's `resume`, for a call that does not say (`r`).
    pub profile_resume: Option<bool>,
    pub options: CallOptions,
    /// A call, or a tap.
    pub given: Given,
}

/// How the dialplan names a server: `host:port`, `ws://...`/`wss://...`,
/// or `ws:name` (a WebSocket profile of audiosocket.conf).
fn parse_server(s: &str) -> Result<(ServerAddr, Option<WebSocketTarget>, Option<String>), String> {
    let s = s.trim();
    if s.starts_with("ws://") || s.starts_with("wss://") {
        let (server, secure, resource) = parse_url(s)?;
        let target = WebSocketTarget {
            secure,
            resource,
            headers: Vec::new(),
            dialect: Dialect::AudioSocket,
            twilio_auth_token: None,
            twilio_account_sid: None,
        };
        let shown = target.shown(&server.host, server.port);
        return Ok((
            ServerAddr {
                shown: Some(shown),
                ..server
            },
            Some(target),
            None,
        ));
    }
    if let Some(name) = s.strip_prefix("ws:") {
        let well_formed = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !well_formed {
            return Err(format!(
                "'{s}' names no WebSocket profile (ws:NAME, a [NAME] section of \
                 audiosocket.conf with type = websocket; a URL goes there, as a dial string \
                 cannot hold one)"
            ));
        }
        let placeholder = ServerAddr {
            host: name.to_string(),
            port: 1,
            shown: Some(s.to_string()),
        };
        return Ok((placeholder, None, Some(name.to_string())));
    }
    Ok((ServerAddr::parse(s)?, None, None))
}

impl CallArgs {
    /// Looks up the WebSocket profile `ws:name` names, if it does, and
    /// checks that the options fit the dialect: Err says what is wrong.
    pub fn resolve(&mut self, defaults: &Settings) -> Result<(), String> {
        if let Some(name) = self.profile.take() {
            let p = defaults.websockets.get(&name).ok_or_else(|| {
                format!("no websocket profile [{name}] in audiosocket.conf (for ws:{name})")
            })?;
            self.server = p.server.clone();
            self.websocket = Some(p.target.clone());
            self.profile_tls = p.tls.clone();
            self.profile_resume = p.resume;
        }
        if let Some(w) = &mut self.websocket {
            if w.secure && self.profile_tls.is_none() {
                self.profile_tls = Some(TlsChoice::Default);
            }
            if let Some(d) = self.options.dialect {
                w.dialect = d;
            }
        } else if self.options.dialect == Some(Dialect::Twilio) {
            return Err(
                "option p(twilio): the Twilio dialect needs a WebSocket server (ws://, wss:// \
                 or ws:NAME)"
                    .into(),
            );
        }
        if self.dialect() == Some(Dialect::Twilio) {
            if let Some(r) = self.options.rate.filter(|r| *r != Rate::Hz8000) {
                return Err(format!(
                    "option c({}): the Twilio dialect carries µ-law at 8 kHz",
                    r.format_name()
                ));
            }
        }
        Ok(())
    }

    /// What the messages to the server say, over a WebSocket.
    pub fn dialect(&self) -> Option<Dialect> {
        self.websocket.as_ref().map(|w| w.dialect)
    }

    /// The Twilio dialect's tracks: a call's caller; a tap's side, or both.
    pub fn twilio_tracks(&self) -> Vec<Track> {
        match self.options.direction {
            Some(TapDirection::Out) => vec![Track::Outbound],
            Some(TapDirection::Both | TapDirection::Stereo) => {
                vec![Track::Inbound, Track::Outbound]
            }
            Some(TapDirection::In) => vec![Track::Inbound],
            None if self.given == Given::Tap => vec![Track::Inbound, Track::Outbound],
            None => vec![Track::Inbound],
        }
    }

    /// The application's rate: c() if given, else `default_codec`, else 8
    /// kHz; always 8 kHz in the Twilio dialect.
    pub fn rate(&self, defaults: &Settings) -> Rate {
        if self.dialect() == Some(Dialect::Twilio) {
            return Rate::Hz8000;
        }
        self.options
            .rate
            .or(defaults.default_rate)
            .unwrap_or(Rate::Hz8000)
    }

    /// The driver channel's rate, from the most specific choice down:
    /// `c()`; a signed linear format the request asked for (ARI's
    /// `format=slin16`); `default_codec` when audiosocket.conf sets it; the
    /// signed linear rate that carries the first requested format's sample
    /// rate (ulaw and alaw: 8 kHz, opus: 48 kHz); 8 kHz. The audio is
    /// always signed linear at the rate its message kind says.
    pub fn channel_rate(&self, defaults: &Settings, requested: &[RequestedFormat]) -> Rate {
        if self.dialect() == Some(Dialect::Twilio) {
            return Rate::Hz8000;
        }
        let slin = || {
            requested
                .iter()
                .find_map(|f| Rate::from_format_name(&f.name))
        };
        let first = || {
            requested
                .iter()
                .find(|f| f.sample_rate > 0)
                .map(|f| Rate::at_least(f.sample_rate))
        };
        self.options
            .rate
            .or_else(slin)
            .or(defaults.default_rate)
            .or_else(first)
            .unwrap_or(Rate::Hz8000)
    }

    /// The TLS the call uses: `s` or `s(profile)`, else `[general] tls`.
    /// Err names a profile audiosocket.conf lacks, or says why the system's
    /// trusted certificates cannot be used.
    pub fn tls(&self, defaults: &Settings) -> Result<Option<TlsClient>, String> {
        if self.websocket.as_ref().is_some_and(|w| !w.secure) {
            // ws://: plain, whatever `[general] tls` says.
            return Ok(None);
        }
        defaults
            .tls
            .for_call(self.options.tls.as_ref().or(self.profile_tls.as_ref()))
    }

    /// The variables the server may set: None when neither `m` nor `v()`
    /// is given (`0x24` is then an unknown kind); else `v()`, or for a call
    /// `server_variables` of audiosocket.conf. A tap's server sets only
    /// what its `v()` names.
    pub fn variables(&self, defaults: &Settings) -> Option<VariablePolicy> {
        let o = &self.options;
        if o.context.is_none() && o.server_variables.is_none() {
            return None;
        }
        Some(match (&o.server_variables, self.given) {
            (Some(given), _) => given.clone(),
            (None, Given::Call) => defaults.server_variables.clone(),
            (None, Given::Tap) => VariablePolicy::none(),
        })
    }

    /// The session's configuration for the channel named `label` whose
    /// unique id is `channel_id`: the options given, else `defaults`.
    pub fn session_config(
        &self,
        label: &str,
        channel_id: &str,
        defaults: &Settings,
    ) -> Result<SessionConfig, String> {
        if let Some(name) = &self.profile {
            return Err(format!("the websocket profile [{name}] was not looked up"));
        }
        let mut c = SessionConfig::new(
            *self.uuid.as_bytes(),
            self.server.clone(),
            self.rate(defaults),
            label,
        );
        c.channel_id = channel_id.to_string();
        c.barge_in = self.options.barge_in || defaults.barge_in;
        c.connect_timeout = self
            .options
            .connect_timeout
            .unwrap_or(defaults.connect_timeout);
        c.inactivity_timeout = self
            .options
            .inactivity_timeout
            .or(defaults.inactivity_timeout);
        c.playout_buffer = defaults.playout_buffer;
        c.uplink_buffer = defaults.uplink_buffer;
        c.max_lateness = defaults.max_lateness;
        c.low_latency = defaults.low_latency;
        c.tls = self.tls(defaults)?;
        c.variables = self.variables(defaults);
        c.websocket = self.websocket.clone();
        c.resume = defaults.resume.for_call(
            self.options.resume,
            self.profile_resume,
            self.given == Given::Tap,
        );
        if self.dialect() == Some(Dialect::Twilio) {
            // Twilio's marks and clear are always on, and a clear answers
            // the marks it drops.
            c.barge_in = true;
            c.answer_flushed_marks = true;
        }
        Ok(c)
    }
}

fn parse_uuid(s: &str) -> Result<Uuid, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("missing UUID".into());
    }
    Uuid::parse_str(s).map_err(|_| format!("malformed UUID '{s}'"))
}

fn parse_seconds(opt: char, v: &str, max: f64) -> Result<Duration, String> {
    let secs: f64 = v
        .trim()
        .parse()
        .map_err(|_| format!("option {opt}({v}): '{v}' is not a number of seconds"))?;
    if !(secs > 0.0 && secs <= max) {
        return Err(format!(
            "option {opt}({v}): must be more than 0 and at most {max} seconds"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Parses option letters, each optionally with a value in parentheses.
pub fn parse_options(s: &str) -> Result<CallOptions, String> {
    let mut opts = CallOptions::default();
    let mut chars = s.trim().chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            continue;
        }
        let mut value = None;
        if chars.peek() == Some(&'(') {
            chars.next();
            let mut v = String::new();
            loop {
                match chars.next() {
                    Some(')') => break,
                    Some(ch) => v.push(ch),
                    None => return Err(format!("option {c}({v}: missing ')'")),
                }
            }
            value = Some(v);
        }
        let need =
            |v: Option<String>| v.ok_or_else(|| format!("option {c} needs a value in parentheses"));
        match c {
            'c' => {
                let v = need(value)?;
                opts.rate = Some(Rate::from_format_name(&v).ok_or_else(|| {
                    format!(
                        "codec '{v}' in c({v}) is not signed linear \
                         (use slin, slin12, slin16, slin24, slin32, slin44, slin48, slin96 or slin192)"
                    )
                })?);
            }
            't' => opts.connect_timeout = Some(parse_seconds('t', &need(value)?, 300.0)?),
            'i' => opts.inactivity_timeout = Some(parse_seconds('i', &need(value)?, 86400.0)?),
            'b' if value.is_none() => opts.barge_in = true,
            'b' => return Err("option b takes no value".into()),
            'm' => {
                opts.context = Some(match value {
                    None => Vec::new(),
                    Some(v) => parse_context_variables(&v)?,
                })
            }
            'd' => {
                let v = need(value)?;
                opts.direction =
                    Some(TapDirection::parse(&v).ok_or_else(|| {
                        format!("option d({v}): expected in, out, both or stereo")
                    })?);
            }
            'p' => {
                let v = need(value)?;
                opts.dialect = Some(
                    Dialect::parse(&v)
                        .ok_or_else(|| format!("option p({v}): expected twilio or audiosocket"))?,
                );
            }
            'v' => {
                let v = need(value)?;
                opts.server_variables = Some(
                    VariablePolicy::parse(&v, '^').map_err(|e| format!("option v({v}): {e}"))?,
                );
            }
            'r' => opts.resume = Some(ResumeOption::parse(value.as_deref())?),
            'w' if value.is_none() => opts.whisper = true,
            'w' => return Err("option w takes no value".into()),
            's' => {
                opts.tls = Some(match value {
                    None => TlsChoice::Default,
                    Some(v) if v.trim().is_empty() => {
                        return Err("option s(): give a profile name, or s alone".into())
                    }
                    Some(v) => TlsChoice::Profile(v.trim().to_string()),
                })
            }
            other => return Err(format!("unknown option '{other}'")),
        }
    }
    Ok(opts)
}

/// `uuid,host:port[,options]`, the application's arguments.
pub fn parse_app_args(data: &str) -> Result<CallArgs, String> {
    if data.trim().is_empty() {
        return Err("no arguments (expected uuid,host:port[,options])".into());
    }
    let mut parts = data.splitn(3, ',');
    let uuid = parse_uuid(parts.next().unwrap_or(""))?;
    let (server, websocket, profile) = parse_server(parts.next().unwrap_or(""))?;
    let options = parse_options(parts.next().unwrap_or(""))?;
    options.check(Given::Call)?;
    Ok(CallArgs {
        uuid,
        server,
        websocket,
        profile,
        profile_tls: None,
        profile_resume: None,
        options,
        given: Given::Call,
    })
}

/// `AUDIOSOCKET_TAP(uuid)=host:port[,options]`: the function's argument
/// and the value set.
pub fn parse_tap_args(uuid: &str, value: &str) -> Result<CallArgs, String> {
    let uuid = parse_uuid(uuid)?;
    let (server, options) = value.split_once(',').unwrap_or((value, ""));
    let (server, websocket, profile) = parse_server(server)?;
    let options = parse_options(options)?;
    options.check(Given::Tap)?;
    Ok(CallArgs {
        uuid,
        server,
        websocket,
        profile,
        profile_tls: None,
        profile_resume: None,
        options,
        given: Given::Tap,
    })
}

/// A tap's UUID, as `AUDIOSOCKET_TAP(uuid)` names it.
pub fn parse_tap_uuid(uuid: &str) -> Result<Uuid, String> {
    parse_uuid(uuid)
}

/// `host:port/uuid[/options]`, what follows `AudioSocket/` in a dial string.
pub fn parse_dial_string(addr: &str) -> Result<CallArgs, String> {
    if addr.trim_start().starts_with("ws://") || addr.trim_start().starts_with("wss://") {
        return Err(format!(
            "'{addr}': a dial string cannot hold a URL; put it in a websocket profile of \
             audiosocket.conf and dial ws:NAME"
        ));
    }
    let parts: Vec<&str> = addr.split('/').collect();
    if parts.len() > 3 {
        return Err(format!(
            "too many '/' parts in '{addr}' (expected host:port/uuid[/options])"
        ));
    }
    let (server, websocket, profile) = parse_server(parts[0])?;
    let uuid = parse_uuid(parts.get(1).copied().unwrap_or(""))?;
    let options = parse_options(parts.get(2).copied().unwrap_or(""))?;
    options.check(Given::Call)?;
    Ok(CallArgs {
        uuid,
        server,
        websocket,
        profile,
        profile_tls: None,
        profile_resume: None,
        options,
        given: Given::Call,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const U: &str = "4ac0f7c4-5d2a-4c8e-9a43-2f1f4e6c9b10";

    #[test]
    fn application_arguments() {
        let a = parse_app_args(&format!("{U},127.0.0.1:9092")).unwrap();
        assert_eq!(a.uuid.to_string(), U);
        assert_eq!(a.server.port, 9092);
        assert_eq!(a.rate(&Settings::default()), Rate::Hz8000);
        assert_eq!(a.options, CallOptions::default());

        let a = parse_app_args(&format!("{U},[::1]:9092,c(slin16)t(0.5)i(30)")).unwrap();
        assert_eq!(a.server.host, "::1");
        assert_eq!(a.rate(&Settings::default()), Rate::Hz16000);
        assert_eq!(a.options.connect_timeout, Some(Duration::from_millis(500)));
        assert_eq!(a.options.inactivity_timeout, Some(Duration::from_secs(30)));
        let c = a
            .session_config("chan", "1.1", &Settings::default())
            .unwrap();
        assert_eq!(c.channel_id, "1.1");
        assert!(!c.barge_in);
        assert_eq!(c.connect_timeout, Duration::from_millis(500));
        assert_eq!(c.uuid, *a.uuid.as_bytes());
    }

    #[test]
    fn application_errors_name_the_bad_argument() {
        let cases = [
            ("", "no arguments"),
            (",127.0.0.1:9092", "missing UUID"),
            ("not-a-uuid,127.0.0.1:9092", "malformed UUID 'not-a-uuid'"),
            (U, "no server"),
            (&format!("{U},127.0.0.1"), "has no port"),
            (&format!("{U},host:99999"), "not a port number"),
            (&format!("{U},host:80,x"), "unknown option 'x'"),
            (&format!("{U},host:80,c(ulaw)"), "codec 'ulaw'"),
            (&format!("{U},host:80,c"), "needs a value"),
            (&format!("{U},host:80,t(abc)"), "not a number"),
            (&format!("{U},host:80,t(0)"), "more than 0"),
            (&format!("{U},host:80,c(slin16"), "missing ')'"),
        ];
        for (input, want) in cases {
            let e = parse_app_args(input).unwrap_err();
            assert!(e.contains(want), "{input:?}: got {e:?}, want {want:?}");
        }
    }

    #[test]
    fn options_override_the_configured_defaults() {
        let defaults = Settings {
            connect_timeout: Duration::from_secs(7),
            playout_buffer: Duration::from_millis(500),
            uplink_buffer: Duration::from_millis(300),
            inactivity_timeout: Some(Duration::from_secs(60)),
            default_rate: Some(Rate::Hz16000),
            max_lateness: None,
            barge_in: false,
            low_latency: false,
            tls: Default::default(),
            server_variables: VariablePolicy::none(),
            websockets: Default::default(),
            resume: Default::default(),
        };
        let plain = parse_app_args(&format!("{U},h:1")).unwrap();
        assert_eq!(plain.rate(&defaults), Rate::Hz16000);
        let c = plain.session_config("x", "", &defaults).unwrap();
        assert_eq!(c.connect_timeout, Duration::from_secs(7));
        assert_eq!(c.inactivity_timeout, Some(Duration::from_secs(60)));
        assert_eq!(
            (c.playout_buffer, c.uplink_buffer, c.max_lateness),
            (defaults.playout_buffer, defaults.uplink_buffer, None)
        );
        assert!(!c.low_latency);
        let given = parse_app_args(&format!("{U},h:1,c(slin48)t(1)i(5)")).unwrap();
        let c = given.session_config("x", "", &defaults).unwrap();
        assert_eq!(c.rate, Rate::Hz48000);
        assert_eq!(c.connect_timeout, Duration::from_secs(1));
        assert_eq!(c.inactivity_timeout, Some(Duration::from_secs(5)));
    }

    #[test]
    fn the_driver_takes_its_rate_from_the_request_unless_told() {
        let req = |formats: &[(&str, u32)]| -> Vec<RequestedFormat> {
            formats
                .iter()
                .map(|(n, r)| RequestedFormat {
                    name: n.to_string(),
                    sample_rate: *r,
                })
                .collect()
        };
        let none = Settings::default();
        let slin16 = Settings {
            default_rate: Some(Rate::Hz16000),
            ..Settings::default()
        };
        let plain = parse_dial_string(&format!("h:1/{U}")).unwrap();
        let given = parse_dial_string(&format!("h:1/{U}/c(slin24)")).unwrap();
        let cases = [
            // (args, settings, request, rate)
            (&plain, &none, req(&[("slin16", 16000)]), Rate::Hz16000),
            (&plain, &none, req(&[("slin48", 48000)]), Rate::Hz48000),
            (&plain, &none, req(&[("ulaw", 8000)]), Rate::Hz8000),
            (
                &plain,
                &none,
                req(&[("alaw", 8000), ("slin16", 16000)]),
                Rate::Hz16000,
            ),
            (&plain, &none, req(&[("opus", 48000)]), Rate::Hz48000),
            (
                &plain,
                &none,
                req(&[("g722", 16000), ("ulaw", 8000)]),
                Rate::Hz16000,
            ),
            (&plain, &none, req(&[]), Rate::Hz8000),
            // default_codec, when set, wins over another codec's rate...
            (&plain, &slin16, req(&[("ulaw", 8000)]), Rate::Hz16000),
            (&plain, &slin16, req(&[]), Rate::Hz16000),
            // ...but not over a signed linear format asked for by name.
            (&plain, &slin16, req(&[("slin48", 48000)]), Rate::Hz48000),
            // c() wins over everything.
            (&given, &slin16, req(&[("slin48", 48000)]), Rate::Hz24000),
        ];
        for (args, settings, request, want) in cases {
            let names: Vec<&str> = request.iter().map(|f| f.name.as_str()).collect();
            assert_eq!(
                args.channel_rate(settings, &request),
                want,
                "{:?} {:?} {names:?}",
                args.options.rate,
                settings.default_rate
            );
        }
    }

    #[test]
    fn barge_in_comes_from_the_option_or_the_settings() {
        let on = Settings {
            barge_in: true,
            ..Settings::default()
        };
        let plain = parse_app_args(&format!("{U},h:1")).unwrap();
        assert!(
            !plain
                .session_config("x", "", &Settings::default())
                .unwrap()
                .barge_in
        );
        assert!(plain.session_config("x", "", &on).unwrap().barge_in);
        let given = parse_app_args(&format!("{U},h:1,bc(slin16)")).unwrap();
        assert!(given.options.barge_in);
        assert!(
            given
                .session_config("x", "", &Settings::default())
                .unwrap()
                .barge_in
        );
        let driver = parse_dial_string(&format!("h:1/{U}/b")).unwrap();
        assert!(driver.options.barge_in);
        let e = parse_app_args(&format!("{U},h:1,b(1)")).unwrap_err();
        assert!(e.contains("option b takes no value"), "{e}");
    }

    #[test]
    fn context_and_tap_options() {
        let a = parse_app_args(&format!("{U},h:1,m")).unwrap();
        assert_eq!(a.options.context, Some(vec![]));
        let a = parse_app_args(&format!("{U},h:1,m(ACCOUNT^LANG_PREF)c(slin16)")).unwrap();
        assert_eq!(
            a.options.context,
            Some(vec!["ACCOUNT".to_string(), "LANG_PREF".to_string()])
        );
        let d = parse_dial_string(&format!("h:1/{U}/m(X)")).unwrap();
        assert_eq!(d.options.context, Some(vec!["X".to_string()]));
        let t = parse_tap_args(U, "10.0.0.5:9000,d(stereo)wc(slin16)m(A)").unwrap();
        assert_eq!(t.options.direction, Some(TapDirection::Stereo));
        assert!(t.options.whisper);
        assert_eq!(t.server.to_string(), "10.0.0.5:9000");
        assert_eq!(t.rate(&Settings::default()), Rate::Hz16000);
        let t = parse_tap_args(U, "bot:1").unwrap();
        assert_eq!((t.options.direction, t.options.whisper), (None, false));
    }

    #[test]
    fn what_a_server_may_set_comes_from_v_or_the_settings_and_a_tap_allows_nothing_unasked() {
        let defaults = Settings::default();
        let names = |args: &CallArgs| args.variables(&defaults);
        // Neither m nor v(): 0x24 means nothing.
        assert_eq!(names(&parse_app_args(&format!("{U},h:1")).unwrap()), None);
        assert_eq!(names(&parse_tap_args(U, "h:1").unwrap()), None);
        // m alone: the settings' list for a call (BOT_* by default)...
        let call = names(&parse_app_args(&format!("{U},h:1,m")).unwrap()).unwrap();
        assert_eq!(call, defaults.server_variables);
        assert_eq!(call.allows("BOT_RESULT"), Ok(()));
        assert!(call.allows("GREETING").is_err());
        let driver = names(&parse_dial_string(&format!("h:1/{U}/m")).unwrap()).unwrap();
        assert_eq!(driver, defaults.server_variables);
        // ...and nothing for a tap.
        let tap = names(&parse_tap_args(U, "h:1,m").unwrap()).unwrap();
        assert!(tap.allows("BOT_RESULT").is_err());
        // v() says it, with or without m.
        let given = parse_app_args(&format!("{U},h:1,mv(GREETING^LEAD_*)")).unwrap();
        let given = names(&given).unwrap();
        assert_eq!(given.allows("LEAD_SCORE"), Ok(()));
        assert!(given.allows("BOT_RESULT").is_err());
        let tap = names(&parse_tap_args(U, "h:1,v(NOTE)").unwrap()).unwrap();
        assert_eq!(tap.allows("NOTE"), Ok(()));
        let c = parse_tap_args(U, "h:1,v(NOTE)").unwrap();
        let c = c.session_config("x", "", &defaults).unwrap();
        assert!(c.variables.is_some() && c.context.is_none());
        let e = parse_app_args(&format!("{U},h:1,v(BOT_*^TRANSFER_CONTEXT)")).unwrap_err();
        assert!(
            e.contains(
                "option v(BOT_*^TRANSFER_CONTEXT): TRANSFER_CONTEXT is a variable Asterisk acts on"
            ),
            "{e}"
        );
        let e = parse_app_args(&format!("{U},h:1,v")).unwrap_err();
        assert!(e.contains("option v needs a value"), "{e}");
    }

    fn with_profiles() -> Settings {
        use crate::call::config_file::test_section;
        let sections = [
            test_section("general", 1, &[("tls", "no")]),
            test_section(
                "bot",
                3,
                &[
                    ("type", "websocket"),
                    ("url", "wss://bot.example.com/twilio?k=1"),
                    ("dialect", "twilio"),
                ],
            ),
            test_section(
                "plain",
                8,
                &[("type", "websocket"), ("url", "ws://10.0.0.9:8080/as")],
            ),
        ];
        crate::call::settings::from_sections(&sections).unwrap()
    }

    #[test]
    fn websocket_servers_inline_or_by_profile() {
        let defaults = with_profiles();
        let mut a = parse_app_args(&format!("{U},wss://bot.example.com/media?token=x")).unwrap();
        a.resolve(&defaults).unwrap();
        assert_eq!(a.server.to_string(), "wss://bot.example.com/media?...");
        assert_eq!(
            (a.server.host.as_str(), a.server.port),
            ("bot.example.com", 443)
        );
        assert_eq!(a.dialect(), Some(Dialect::AudioSocket));
        let c = a.session_config("x", "", &defaults).unwrap();
        assert!(c.tls.is_some(), "wss is TLS");
        assert_eq!(c.websocket.as_ref().unwrap().resource, "/media?token=x");
        assert!(!c.barge_in);

        let mut d = parse_dial_string(&format!("ws:bot/{U}")).unwrap();
        assert!(
            d.session_config("x", "", &defaults).is_err(),
            "looked up first"
        );
        d.resolve(&defaults).unwrap();
        assert_eq!(d.server.to_string(), "ws:bot");
        assert_eq!(d.dialect(), Some(Dialect::Twilio));
        let c = d.session_config("x", "", &defaults).unwrap();
        assert!(c.barge_in && c.answer_flushed_marks);
        assert_eq!(c.rate, Rate::Hz8000);
        assert_eq!(d.channel_rate(&defaults, &[]), Rate::Hz8000);

        let mut p = parse_app_args(&format!("{U},ws:plain,p(twilio)")).unwrap();
        p.resolve(&defaults).unwrap();
        assert_eq!(p.dialect(), Some(Dialect::Twilio));
        assert!(
            p.session_config("x", "", &defaults).unwrap().tls.is_none(),
            "ws is plain"
        );

        let t = parse_tap_args(U, "ws:bot,d(out)").unwrap();
        assert_eq!(t.twilio_tracks(), vec![Track::Outbound]);
        let t = parse_tap_args(U, "ws:bot").unwrap();
        assert_eq!(t.twilio_tracks(), vec![Track::Inbound, Track::Outbound]);
    }

    #[test]
    fn websocket_mistakes_are_named() {
        let defaults = with_profiles();
        let resolve =
            |s: Result<CallArgs, String>| s.and_then(|mut a| a.resolve(&defaults).map(|_| a));
        let cases = [
            (
                resolve(parse_app_args(&format!("{U},ws:nobody"))),
                "no websocket profile [nobody]",
            ),
            (
                resolve(parse_app_args(&format!("{U},127.0.0.1:9,p(twilio)"))),
                "needs a WebSocket server",
            ),
            (
                resolve(parse_app_args(&format!("{U},ws:bot,c(slin16)"))),
                "carries µ-law at 8 kHz",
            ),
            (
                resolve(parse_app_args(&format!("{U},ws:a b"))),
                "names no WebSocket profile",
            ),
            (
                resolve(parse_app_args(&format!("{U},ws:bot,p(sip)"))),
                "expected twilio or audiosocket",
            ),
            (
                resolve(parse_dial_string(&format!("ws://bot/media/{U}"))),
                "cannot hold a URL",
            ),
            (resolve(parse_app_args(&format!("{U},http://bot/"))), ""),
        ];
        for (got, want) in cases {
            let e = got.unwrap_err();
            assert!(e.contains(want), "got {e:?}, want {want:?}");
        }
    }

    #[test]
    fn options_given_where_they_mean_nothing_are_refused() {
        let cases = [
            (
                parse_app_args(&format!("{U},h:1,d(in)")),
                "option d() applies to AUDIOSOCKET_TAP() only",
            ),
            (
                parse_app_args(&format!("{U},h:1,w")),
                "option w applies to AUDIOSOCKET_TAP() only",
            ),
            (
                parse_dial_string(&format!("h:1/{U}/w")),
                "option w applies to AUDIOSOCKET_TAP() only",
            ),
            (
                parse_tap_args(U, "h:1,b"),
                "option b does not apply to a tap",
            ),
            (
                parse_tap_args(U, "h:1,i(5)"),
                "option i() does not apply to a tap",
            ),
            (
                parse_tap_args(U, "h:1,d(sideways)"),
                "option d(sideways): expected in, out, both or stereo",
            ),
            (parse_tap_args(U, "h:1,w(1)"), "option w takes no value"),
            (parse_tap_args("nope", "h:1"), "malformed UUID 'nope'"),
            (parse_tap_args(U, ""), "no server"),
            (
                parse_app_args(&format!("{U},h:1,m(A B)")),
                "'A B' is not a variable name",
            ),
            (
                parse_app_args(&format!("{U},h:1,m(CDR(x))")),
                "'CDR(x' is not a variable name",
            ),
        ];
        for (got, want) in cases {
            let e = got.unwrap_err();
            assert!(e.contains(want), "got {e:?}, want {want:?}");
        }
        let many = (0..=MAX_CONTEXT_VARIABLES)
            .map(|i| format!("V{i}"))
            .collect::<Vec<_>>()
            .join("^");
        let e = parse_app_args(&format!("{U},h:1,m({many})")).unwrap_err();
        assert!(e.contains("at most 32 variables"), "{e}");
    }

    #[test]
    fn dial_strings() {
        let a = parse_dial_string(&format!("127.0.0.1:9092/{U}")).unwrap();
        assert_eq!(a.rate(&Settings::default()), Rate::Hz8000);
        let a = parse_dial_string(&format!("[::1]:9092/{U}/c(slin48)")).unwrap();
        assert_eq!(a.rate(&Settings::default()), Rate::Hz48000);
        assert_eq!(a.server.host, "::1");
        let a = parse_dial_string(&format!("example.org:1/{}", U.replace('-', ""))).unwrap();
        assert_eq!(a.uuid.to_string(), U);
    }

    #[test]
    fn dial_string_errors_name_the_bad_part() {
        let cases = [
            ("", "no server"),
            (&format!("/{U}"), "no server"),
            (&format!(":9092/{U}"), "no host"),
            (&format!("host/{U}"), "has no port"),
            ("host:9092", "missing UUID"),
            ("host:9092/", "missing UUID"),
            ("host:9092/zzz", "malformed UUID 'zzz'"),
            (&format!("host:9092/{U}/q"), "unknown option 'q'"),
            (&format!("host:9092/{U}/c(g722)"), "codec 'g722'"),
            (&format!("host:9092/{U}/c(slin)/x"), "too many"),
        ];
        for (input, want) in cases {
            let e = parse_dial_string(input).unwrap_err();
            assert!(e.contains(want), "{input:?}: got {e:?}, want {want:?}");
        }
    }
}
