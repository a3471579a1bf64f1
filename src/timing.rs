//! A session's timing and the rules every timing keeps: ordered limits, no
//! longer than the configured ceiling, WCAG 2.2.1's 20 seconds to respond,
//! and a compliance profile's limits. Checked at launch for the
//! configuration and at sign-in for a timing the app chooses per session.

use std::fmt;

use serde::Deserialize;

/// Seconds WCAG 2.2.1 (Timing Adjustable) asks a warning to leave the
/// person to respond: `expire_after − warn_after` must be at least this.
pub const WCAG_RESPONSE_SECONDS: u32 = 20;

/// The timing of one session: the configured values, or what the app chose
/// when it signed the person in
/// ([`SessionTracker::sign_in_with`](crate::SessionTracker::sign_in_with)).
/// It is sealed into the session's stamp, so every route, the ping and the
/// browser use the same timing for the whole session.
///
/// ```
/// use rocket_session_security::Timeouts;
///
/// let admins = Timeouts { warn_after: 240, expire_after: 300, absolute_timeout: 3600 };
/// assert!(admins.validate().is_ok());
/// let broken = Timeouts { warn_after: 300, ..admins };
/// assert_eq!(broken.validate().unwrap_err().key(), "warn_after");
/// assert_eq!(Timeouts::default().expire_after, 600);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Idle seconds before the warning.
    pub warn_after: u32,
    /// Idle seconds before expiry.
    pub expire_after: u32,
    /// Seconds after sign-in before expiry; `0` = no limit.
    pub absolute_timeout: u32,
}

impl Default for Timeouts {
    /// The crate's defaults: warn after 540 s, expire after 600 s idle,
    /// 12 hours overall.
    fn default() -> Self {
        Timeouts { warn_after: 540, expire_after: 600, absolute_timeout: 43_200 }
    }
}

impl Timeouts {
    /// Checks `0 < warn_after < expire_after` and that `absolute_timeout` is
    /// `0` or at least `expire_after`.
    pub fn validate(&self) -> Result<(), TimingError> {
        if self.warn_after == 0 {
            return Err(TimingError::new("warn_after", "must be greater than 0"));
        }
        if self.warn_after >= self.expire_after {
            return Err(TimingError::new(
                "warn_after",
                format!("must be less than expire_after ({} is not less than {})", self.warn_after, self.expire_after),
            ));
        }
        if self.absolute_timeout != 0 && self.absolute_timeout < self.expire_after {
            return Err(TimingError::new(
                "absolute_timeout",
                format!(
                    "must be 0 (off) or at least expire_after ({} is less than {})",
                    self.absolute_timeout, self.expire_after
                ),
            ));
        }
        Ok(())
    }

    /// This timing held to `ceiling` (the configured one): a stamp sealed
    /// under a longer configuration gets the current, shorter limits. Both
    /// must be valid; so is the result.
    pub(crate) fn within(self, ceiling: Timeouts) -> Timeouts {
        let (warn_after, expire_after) = if self.expire_after > ceiling.expire_after {
            (ceiling.warn_after, ceiling.expire_after)
        } else {
            (self.warn_after, self.expire_after)
        };
        let absolute_timeout = match (self.absolute_timeout, ceiling.absolute_timeout) {
            (0, limit) | (limit, 0) => limit,
            (own, limit) => own.min(limit),
        };
        Timeouts { warn_after, expire_after, absolute_timeout }
    }

    /// Whether `self` is nowhere longer than `ceiling` (`0`, no absolute
    /// limit, is the longest).
    fn fits_under(&self, ceiling: &Timeouts) -> Result<(), TimingError> {
        if self.expire_after > ceiling.expire_after {
            return Err(TimingError::new(
                "expire_after",
                format!(
                    "{} s is longer than the configured expire_after ({} s), the longest any session may have",
                    self.expire_after, ceiling.expire_after
                ),
            ));
        }
        let longer = match (self.absolute_timeout, ceiling.absolute_timeout) {
            (_, 0) => false,
            (0, _) => true,
            (own, limit) => own > limit,
        };
        if longer {
            return Err(TimingError::new(
                "absolute_timeout",
                format!(
                    "{} is longer than the configured absolute_timeout ({} s), the longest any session may have",
                    lifetime(self.absolute_timeout),
                    ceiling.absolute_timeout
                ),
            ));
        }
        Ok(())
    }
}

/// A compliance profile (`profile = "pci-dss-4"` in `Rocket.toml`): its
/// limits are checked at launch and at every sign-in with a timing of the
/// app's, and it supplies the timing keys left unset.
///
/// | profile | requirement | idle (`expire_after`) | overall (`absolute_timeout`) | defaults (warn / expire / absolute) |
/// |---|---|---|---|---|
/// | `pci-dss-4` | PCI DSS v4.0 8.2.8 | ≤ 900 s | (not limited) | 780 / 900 / 43200 |
/// | `nist-aal2` | NIST SP 800-63B-4, AAL2 | ≤ 3600 s | 1 to 86400 s | 3480 / 3600 / 86400 |
/// | `nist-aal3` | NIST SP 800-63B-4, AAL3 | ≤ 900 s | 1 to 43200 s | 780 / 900 / 43200 |
///
/// ```
/// use rocket_session_security::{Profile, Timeouts};
///
/// let long = Timeouts { warn_after: 1740, expire_after: 1800, absolute_timeout: 43_200 };
/// let error = Profile::PciDss4.check(&long).unwrap_err();
/// assert_eq!(error.key(), "expire_after");
/// assert!(error.to_string().contains("PCI DSS v4.0 8.2.8"));
/// assert!(Profile::PciDss4.check(&Profile::PciDss4.defaults()).is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub enum Profile {
    /// PCI DSS v4.0 requirement 8.2.8: a session idle for more than 15
    /// minutes requires the person to authenticate again.
    #[serde(rename = "pci-dss-4")]
    PciDss4,
    /// NIST SP 800-63B-4, authenticator assurance level 2: authenticate again
    /// after 1 hour of inactivity and at least once every 24 hours.
    #[serde(rename = "nist-aal2")]
    NistAal2,
    /// NIST SP 800-63B-4, authenticator assurance level 3: authenticate again
    /// after 15 minutes of inactivity and at least once every 12 hours.
    #[serde(rename = "nist-aal3")]
    NistAal3,
}

impl Profile {
    /// The name as written in `Rocket.toml`, e.g. `pci-dss-4`.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::PciDss4 => "pci-dss-4",
            Profile::NistAal2 => "nist-aal2",
            Profile::NistAal3 => "nist-aal3",
        }
    }

    /// The requirement the limits come from, as an auditor looks it up.
    pub fn requirement(self) -> &'static str {
        match self {
            Profile::PciDss4 => "PCI DSS v4.0 8.2.8",
            Profile::NistAal2 => "NIST SP 800-63B-4 AAL2",
            Profile::NistAal3 => "NIST SP 800-63B-4 AAL3",
        }
    }

    /// The longest idle limit, in seconds.
    pub fn max_expire_after(self) -> u32 {
        match self {
            Profile::PciDss4 | Profile::NistAal3 => 15 * 60,
            Profile::NistAal2 => 60 * 60,
        }
    }

    /// The longest overall lifetime, in seconds (`None`: not limited by the
    /// profile; `0`, no limit, is then allowed).
    pub fn max_absolute_timeout(self) -> Option<u32> {
        match self {
            Profile::PciDss4 => None,
            Profile::NistAal2 => Some(24 * 60 * 60),
            Profile::NistAal3 => Some(12 * 60 * 60),
        }
    }

    /// The timing the profile sets for keys the configuration leaves unset:
    /// its longest limits, warned two minutes before.
    pub fn defaults(self) -> Timeouts {
        let expire_after = self.max_expire_after();
        Timeouts {
            warn_after: expire_after - 120,
            expire_after,
            absolute_timeout: self.max_absolute_timeout().unwrap_or(Timeouts::default().absolute_timeout),
        }
    }

    /// Whether `timeouts` keeps the profile's limits; the error names the
    /// requirement and the key.
    pub fn check(self, timeouts: &Timeouts) -> Result<(), TimingError> {
        let max_idle = self.max_expire_after();
        if timeouts.expire_after > max_idle {
            return Err(TimingError::new(
                "expire_after",
                format!(
                    "{} s breaks {} (profile \"{}\"): a session idle for more than {} must authenticate again; \
                     at most {max_idle}",
                    timeouts.expire_after,
                    self.requirement(),
                    self.as_str(),
                    minutes(max_idle)
                ),
            ));
        }
        if let Some(max) = self.max_absolute_timeout() {
            if timeouts.absolute_timeout == 0 || timeouts.absolute_timeout > max {
                return Err(TimingError::new(
                    "absolute_timeout",
                    format!(
                        "{} breaks {} (profile \"{}\"): a session must authenticate again at least every {}; \
                         1 to {max}",
                        lifetime(timeouts.absolute_timeout),
                        self.requirement(),
                        self.as_str(),
                        hours(max)
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// An `absolute_timeout` in words: `"43200 s"`, or `"0 (no limit)"`.
fn lifetime(absolute_timeout: u32) -> String {
    match absolute_timeout {
        0 => "0 (no limit)".to_string(),
        seconds => format!("{seconds} s"),
    }
}

fn minutes(seconds: u32) -> String {
    format!("{} minutes", seconds / 60)
}

fn hours(seconds: u32) -> String {
    format!("{} hours", seconds / 3600)
}

/// The rules a session's timing must keep, fixed at launch: the structure
/// of [`Timeouts::validate`], WCAG 2.2.1's time to respond, the profile's
/// limits, and (for a timing chosen per session) the configured ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimingRules {
    pub profile: Option<Profile>,
    pub wcag_timing_check: bool,
}

impl TimingRules {
    /// Checks a timing: its structure, then WCAG 2.2.1, then the profile.
    pub fn check(&self, timeouts: &Timeouts) -> Result<(), TimingError> {
        timeouts.validate()?;
        let lead = timeouts.expire_after - timeouts.warn_after;
        if self.wcag_timing_check && lead < WCAG_RESPONSE_SECONDS {
            return Err(TimingError::new(
                "warn_after",
                format!(
                    "the warning leaves {lead} s before expiry (warn_after {} s, expire_after {} s); WCAG 2.2.1 \
                     (Timing Adjustable) asks for at least {WCAG_RESPONSE_SECONDS} s to respond: \
                     warn_after ≤ {}",
                    timeouts.warn_after,
                    timeouts.expire_after,
                    timeouts.expire_after.saturating_sub(WCAG_RESPONSE_SECONDS)
                ),
            ));
        }
        match self.profile {
            Some(profile) => profile.check(timeouts),
            None => Ok(()),
        }
    }

    /// Checks a timing the app chose for one session: the rules, and no
    /// longer than `configured` anywhere.
    pub fn check_session(&self, timeouts: &Timeouts, configured: &Timeouts) -> Result<(), TimingError> {
        self.check(timeouts)?;
        timeouts.fits_under(configured)
    }
}

/// A timing that breaks a rule, with the key (`warn_after`, `expire_after`
/// or `absolute_timeout`) at fault and why; a requirement it breaks (WCAG
/// 2.2.1, a profile's) is named in the message.
///
/// ```
/// use rocket_session_security::Timeouts;
///
/// let error = Timeouts { warn_after: 0, expire_after: 60, absolute_timeout: 0 }.validate().unwrap_err();
/// assert_eq!(error.key(), "warn_after");
/// assert_eq!(error.to_string(), "warn_after: must be greater than 0");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimingError {
    key: &'static str,
    message: String,
}

impl TimingError {
    fn new(key: &'static str, message: impl Into<String>) -> Self {
        TimingError { key, message: message.into() }
    }

    /// The key at fault.
    pub fn key(&self) -> &'static str {
        self.key
    }

    /// Why, without the key.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for TimingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

impl std::error::Error for TimingError {}

#[cfg(test)]
mod tests {
    use super::*;

    const fn t(warn_after: u32, expire_after: u32, absolute_timeout: u32) -> Timeouts {
        Timeouts { warn_after, expire_after, absolute_timeout }
    }

    #[test]
    fn structure() {
        assert!(t(1, 2, 0).validate().is_ok());
        assert!(t(1, 2, 2).validate().is_ok());
        for (bad, key) in [(t(0, 2, 0), "warn_after"), (t(2, 2, 0), "warn_after"), (t(1, 3, 2), "absolute_timeout")] {
            assert_eq!(bad.validate().unwrap_err().key(), key, "{bad:?}");
        }
    }

    #[test]
    fn wcag_asks_for_twenty_seconds_unless_turned_off() {
        let rules = TimingRules { profile: None, wcag_timing_check: true };
        assert!(rules.check(&t(40, 60, 0)).is_ok());
        let error = rules.check(&t(41, 60, 0)).unwrap_err();
        assert_eq!(error.key(), "warn_after");
        assert!(error.message().contains("WCAG 2.2.1") && error.message().contains("19 s"), "{error}");
        assert!(error.message().contains("warn_after ≤ 40"), "{error}");
        let off = TimingRules { wcag_timing_check: false, ..rules };
        assert!(off.check(&t(5, 10, 0)).is_ok());
        // Structure first, whatever the switch.
        assert_eq!(off.check(&t(10, 10, 0)).unwrap_err().key(), "warn_after");
    }

    #[test]
    fn every_profile_at_its_limits() {
        let cases = [
            (Profile::PciDss4, t(780, 900, 0), true),
            (Profile::PciDss4, t(780, 900, 200_000), true),
            (Profile::PciDss4, t(880, 901, 0), false),
            (Profile::NistAal2, t(3580, 3600, 86_400), true),
            (Profile::NistAal2, t(3581, 3601, 86_400), false),
            (Profile::NistAal2, t(540, 600, 86_401), false),
            (Profile::NistAal2, t(540, 600, 0), false),
            (Profile::NistAal3, t(880, 900, 43_200), true),
            (Profile::NistAal3, t(881, 901, 43_200), false),
            (Profile::NistAal3, t(540, 600, 43_201), false),
            (Profile::NistAal3, t(540, 600, 0), false),
        ];
        for (profile, timeouts, ok) in cases {
            let result = profile.check(&timeouts);
            assert_eq!(result.is_ok(), ok, "{profile:?} {timeouts:?}: {result:?}");
            if let Err(e) = result {
                assert!(e.message().contains(profile.requirement()), "{e}");
                assert!(e.message().contains(profile.as_str()), "{e}");
            }
            let defaults = profile.defaults();
            assert!(profile.check(&defaults).is_ok() && defaults.validate().is_ok(), "{profile:?}");
            let rules = TimingRules { profile: Some(profile), wcag_timing_check: true };
            assert!(rules.check(&defaults).is_ok(), "{profile:?}");
        }
        assert_eq!(Profile::PciDss4.check(&t(880, 901, 0)).unwrap_err().key(), "expire_after");
        assert_eq!(Profile::NistAal3.check(&t(540, 600, 0)).unwrap_err().key(), "absolute_timeout");
        // The crate's defaults keep every profile.
        for profile in [Profile::PciDss4, Profile::NistAal2, Profile::NistAal3] {
            assert!(profile.check(&Timeouts::default()).is_ok());
        }
    }

    #[test]
    fn a_session_timing_never_exceeds_the_configured_one() {
        let rules = TimingRules { profile: None, wcag_timing_check: true };
        let configured = t(540, 600, 3600);
        assert!(rules.check_session(&t(100, 300, 3600), &configured).is_ok());
        assert!(rules.check_session(&configured, &configured).is_ok());
        assert_eq!(rules.check_session(&t(540, 601, 3600), &configured).unwrap_err().key(), "expire_after");
        assert_eq!(rules.check_session(&t(100, 300, 3601), &configured).unwrap_err().key(), "absolute_timeout");
        assert_eq!(rules.check_session(&t(100, 300, 0), &configured).unwrap_err().key(), "absolute_timeout");
        assert!(rules.check_session(&t(100, 300, 0), &t(540, 600, 0)).is_ok());
    }

    #[test]
    fn within_holds_a_sealed_timing_to_the_configured_one() {
        let ceiling = t(540, 600, 3600);
        assert_eq!(t(100, 300, 1000).within(ceiling), t(100, 300, 1000));
        assert_eq!(t(1740, 1800, 7200).within(ceiling), t(540, 600, 3600));
        assert_eq!(t(100, 300, 0).within(ceiling), t(100, 300, 3600));
        assert_eq!(t(100, 300, 500).within(t(540, 600, 0)), t(100, 300, 500));
        assert_eq!(t(100, 300, 0).within(t(540, 600, 0)), t(100, 300, 0));
        let mut x: u32 = 7;
        let mut next = |m: u32| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 8) % m
        };
        for _ in 0..5_000 {
            let valid = |n: &mut dyn FnMut(u32) -> u32| {
                let w = n(5_000) + 1;
                let e = w + n(5_000) + 1;
                let a = if n(3) == 0 { 0 } else { e + n(10_000) };
                t(w, e, a)
            };
            let (own, ceiling) = (valid(&mut next), valid(&mut next));
            let held = own.within(ceiling);
            assert!(held.validate().is_ok(), "{own:?} within {ceiling:?} = {held:?}");
            assert!(held.fits_under(&ceiling).is_ok(), "{own:?} within {ceiling:?} = {held:?}");
        }
    }
}
