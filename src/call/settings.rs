//! `audiosocket.conf`: defaults that dialplan options override. Parsed here
//! (pure, tested) from the file's text; a bad file is reported line by line
//! and changes nothing.

use std::time::Duration;

use crate::protocol::Rate;
use crate::session::SessionConfig;

pub const FILE_NAME: &str = "audiosocket.conf";

#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub connect_timeout: Duration,
    pub playout_buffer: Duration,
    pub uplink_buffer: Duration,
    pub inactivity_timeout: Option<Duration>,
    pub default_rate: Rate,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            connect_timeout: SessionConfig::DEFAULT_CONNECT_TIMEOUT,
            playout_buffer: SessionConfig::DEFAULT_PLAYOUT_BUFFER,
            uplink_buffer: SessionConfig::DEFAULT_UPLINK_BUFFER,
            inactivity_timeout: None,
            default_rate: Rate::Hz8000,
        }
    }
}

fn number(v: &str, min: f64, max: f64, unit: &str) -> Result<f64, String> {
    let n: f64 = v
        .parse()
        .map_err(|_| format!("'{v}' is not a number of {unit}"))?;
    if !(min..=max).contains(&n) {
        return Err(format!("{v} is outside {min} to {max} {unit}"));
    }
    Ok(n)
}

/// Parses the file's text. Err lists every problem, with line numbers.
pub fn parse(text: &str) -> Result<Settings, Vec<String>> {
    let mut s = Settings::default();
    let mut errors = Vec::new();
    let mut section = String::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.split(';').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[') {
            match name.strip_suffix(']') {
                Some(name) => {
                    section = name.trim().to_string();
                    if section != "general" {
                        errors.push(format!(
                            "line {n}: unknown section [{section}] (only [general])"
                        ));
                    }
                }
                None => errors.push(format!("line {n}: '{line}' has no closing ']'")),
            }
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            errors.push(format!("line {n}: '{line}' is not 'name = value'"));
            continue;
        };
        let (key, value) = (key.trim(), value.trim_start_matches('>').trim());
        if section != "general" {
            errors.push(format!("line {n}: '{key}' is outside [general]"));
            continue;
        }
        let result = match key {
            "connect_timeout" => number(value, 0.1, 300.0, "seconds")
                .map(|v| s.connect_timeout = Duration::from_secs_f64(v)),
            "playout_buffer" => number(value, 100.0, 60000.0, "ms")
                .map(|v| s.playout_buffer = Duration::from_millis(v as u64)),
            "uplink_buffer" => number(value, 100.0, 60000.0, "ms")
                .map(|v| s.uplink_buffer = Duration::from_millis(v as u64)),
            "inactivity_timeout" => number(value, 0.0, 86400.0, "seconds")
                .map(|v| s.inactivity_timeout = (v > 0.0).then(|| Duration::from_secs_f64(v))),
            "default_codec" => Rate::from_format_name(value)
                .map(|r| s.default_rate = r)
                .ok_or_else(|| {
                    format!("'{value}' is not a signed linear codec (slin ... slin192)")
                }),
            _ => Err(format!("unknown setting '{key}'")),
        };
        if let Err(e) = result {
            errors.push(format!("line {n}: {key}: {e}"));
        }
    }
    if errors.is_empty() {
        Ok(s)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_file_gives_the_defaults() {
        let sample = include_str!("../../samples/audiosocket.conf");
        assert_eq!(parse(sample), Ok(Settings::default()));
        assert_eq!(parse(""), Ok(Settings::default()));
    }

    #[test]
    fn every_setting_is_read() {
        let s = parse(
            "[general]\nconnect_timeout = 0.5\nplayout_buffer => 500 ; half a second\n\
             uplink_buffer=250\ninactivity_timeout = 30\ndefault_codec = slin16\n",
        )
        .unwrap();
        assert_eq!(s.connect_timeout, Duration::from_millis(500));
        assert_eq!(s.playout_buffer, Duration::from_millis(500));
        assert_eq!(s.uplink_buffer, Duration::from_millis(250));
        assert_eq!(s.inactivity_timeout, Some(Duration::from_secs(30)));
        assert_eq!(s.default_rate, Rate::Hz16000);
    }

    #[test]
    fn a_bad_file_reports_every_problem_with_its_line() {
        let e = parse(
            "[general]\nconnect_timeout = soon\nplayout_buffer = 5\ncolour = blue\n\
             default_codec = ulaw\n[other]\nx = 1\njunk\n",
        )
        .unwrap_err();
        let want = [
            "line 2: connect_timeout: 'soon' is not a number",
            "line 3: playout_buffer: 5 is outside 100",
            "line 4: colour: unknown setting 'colour'",
            "line 5: default_codec: 'ulaw' is not a signed linear codec",
            "line 6: unknown section [other]",
            "line 7: 'x' is outside [general]",
            "line 8: 'junk' is not 'name = value'",
        ];
        assert_eq!(e.len(), want.len(), "{e:#?}");
        for (got, want) in e.iter().zip(want) {
            assert!(got.starts_with(want), "{got:?} should start with {want:?}");
        }
    }
}
