//! Whether a call resumes its stream on another server when its server is
//! lost, and what the caller hears meanwhile: option `r`, a websocket
//! profile's `resume`, and `[general]`'s `resume`, `resume_taps`,
//! `resume_time`, `resume_attempts` and `resume_hold`.

use std::time::Duration;

use crate::session::ResumePolicy;

/// Option `r`, `r(seconds)` or `r(0)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResumeOption {
    /// `r`: on, within `resume_time`.
    On,
    /// `r(seconds)`: on, within this long.
    Within(Duration),
    /// `r(0)`: off (for a tap, where it is on by default).
    Off,
}

/// The longest `r(seconds)` and `resume_time`.
pub const MAX_RESUME_TIME: f64 = 300.0;

impl ResumeOption {
    pub fn parse(value: Option<&str>) -> Result<ResumeOption, String> {
        let Some(v) = value else {
            return Ok(ResumeOption::On);
        };
        let secs: f64 = v
            .trim()
            .parse()
            .map_err(|_| format!("option r({v}): '{v}' is not a number of seconds"))?;
        match secs {
            0.0 => Ok(ResumeOption::Off),
            s if s > 0.0 && s <= MAX_RESUME_TIME => {
                Ok(ResumeOption::Within(Duration::from_secs_f64(s)))
            }
            _ => Err(format!(
                "option r({v}): 0 (off) or more than 0 and at most {MAX_RESUME_TIME} seconds"
            )),
        }
    }
}

/// What the caller hears while the stream resumes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HoldSound {
    /// Silence (sent as audio, so the line does not look dead).
    Silence,
    /// Music on hold of this class (the channel's own when empty).
    Moh(String),
}

impl HoldSound {
    /// `silence`, `moh` or `moh:class`.
    pub fn parse(v: &str) -> Result<HoldSound, String> {
        let v = v.trim();
        match v.split_once(':') {
            None if v.eq_ignore_ascii_case("silence") => Ok(HoldSound::Silence),
            None if v.eq_ignore_ascii_case("moh") => Ok(HoldSound::Moh(String::new())),
            Some((moh, class)) if moh.trim().eq_ignore_ascii_case("moh") => {
                Ok(HoldSound::Moh(class.trim().to_string()))
            }
            _ => Err(format!("'{v}' is neither silence, moh nor moh:class")),
        }
    }
}

/// What audiosocket.conf says of resuming.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResumeSettings {
    /// `resume`: calls of the application and the driver resume (their
    /// bots must expect it: off unless asked).
    pub calls: bool,
    /// `resume_taps`: live taps resume (a listener loses nothing by it: on).
    pub taps: bool,
    /// `resume_time`, `resume_attempts`.
    pub policy: ResumePolicy,
    /// `resume_hold`.
    pub hold: HoldSound,
}

impl Default for ResumeSettings {
    fn default() -> Self {
        ResumeSettings {
            calls: false,
            taps: true,
            policy: ResumePolicy::default(),
            hold: HoldSound::Silence,
        }
    }
}

impl ResumeSettings {
    /// How a call resumes: its option `r`, else its profile's `resume`,
    /// else `resume` (a call) or `resume_taps` (a tap). None: it does not.
    pub fn for_call(
        &self,
        option: Option<ResumeOption>,
        profile: Option<bool>,
        tap: bool,
    ) -> Option<ResumePolicy> {
        let default_on = profile.unwrap_or(if tap { self.taps } else { self.calls });
        match option {
            Some(ResumeOption::Off) => None,
            Some(ResumeOption::Within(within)) => Some(ResumePolicy {
                within,
                ..self.policy
            }),
            Some(ResumeOption::On) => Some(self.policy),
            None => default_on.then_some(self.policy),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_option_turns_it_on_for_a_while_or_off() {
        assert_eq!(ResumeOption::parse(None), Ok(ResumeOption::On));
        assert_eq!(
            ResumeOption::parse(Some("2.5")),
            Ok(ResumeOption::Within(Duration::from_millis(2500)))
        );
        assert_eq!(ResumeOption::parse(Some("0")), Ok(ResumeOption::Off));
        for bad in ["soon", "-1", "301"] {
            let e = ResumeOption::parse(Some(bad)).unwrap_err();
            assert!(e.starts_with(&format!("option r({bad}): ")), "{e}");
        }
    }

    #[test]
    fn hold_sounds() {
        assert_eq!(HoldSound::parse("silence"), Ok(HoldSound::Silence));
        assert_eq!(HoldSound::parse("MOH"), Ok(HoldSound::Moh(String::new())));
        assert_eq!(
            HoldSound::parse("moh: jazz"),
            Ok(HoldSound::Moh("jazz".into()))
        );
        assert!(HoldSound::parse("beep").is_err());
    }

    #[test]
    fn calls_resume_when_asked_and_taps_unless_told_not_to() {
        let s = ResumeSettings::default();
        let quick = ResumeOption::Within(Duration::from_secs(2));
        // A call: off unless the option, its profile or the settings say.
        assert_eq!(s.for_call(None, None, false), None);
        assert_eq!(
            s.for_call(Some(ResumeOption::On), None, false),
            Some(s.policy)
        );
        assert_eq!(
            s.for_call(Some(quick), None, false).map(|p| p.within),
            Some(Duration::from_secs(2))
        );
        assert_eq!(s.for_call(None, Some(true), false), Some(s.policy));
        let every_call = ResumeSettings {
            calls: true,
            ..ResumeSettings::default()
        };
        assert_eq!(every_call.for_call(None, None, false), Some(s.policy));
        assert_eq!(every_call.for_call(None, Some(false), false), None);
        // A tap: on unless r(0), its profile or the settings say otherwise.
        assert_eq!(s.for_call(None, None, true), Some(s.policy));
        assert_eq!(s.for_call(Some(ResumeOption::Off), None, true), None);
        assert_eq!(s.for_call(None, Some(false), true), None);
    }
}
