//! The one decision made per request: anonymous, active (idle for so many
//! seconds) or expired (and why). Pure: from what the request carried, the
//! time and the timing in force; the fairing and guards feed it and cache it.

use crate::i18n::Language;
use crate::stamp::{LoginTag, Stamp, StampError};
use crate::timing::Timeouts;

/// Why a session is over.
///
/// ```
/// use rocket_session_security::ExpiryReason;
/// assert_eq!(ExpiryReason::Idle.as_str(), "idle");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExpiryReason {
    /// Idle for `expire_after` seconds or more.
    Idle,
    /// Signed in `absolute_timeout` seconds ago or more.
    Absolute,
    /// The stamp is missing while a login cookie is present, does not
    /// decrypt or parse (tampered, another key, a format we do not write),
    /// or was made for another sign-in than the login cookies name.
    Invalid,
    /// The session was ended before its time: signed out (here or in a copy
    /// of its cookies), ended from the sessions list, or by an administrator.
    Revoked,
}

impl ExpiryReason {
    /// `idle`, `absolute`, `invalid` or `revoked`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExpiryReason::Idle => "idle",
            ExpiryReason::Absolute => "absolute",
            ExpiryReason::Invalid => "invalid",
            ExpiryReason::Revoked => "revoked",
        }
    }

    /// What the login page tells the person, in `language`, e.g. "You were
    /// signed out after 10 min of inactivity." (`expire_after` in seconds;
    /// whole minutes from two minutes on). The text of the crate's flash
    /// message.
    ///
    /// ```
    /// use rocket_session_security::{ExpiryReason, Language};
    /// assert_eq!(ExpiryReason::Idle.notice(Language::English, 600),
    ///            "You were signed out after 10 min of inactivity.");
    /// assert_eq!(ExpiryReason::Idle.notice(Language::German, 45),
    ///            "Sie wurden nach 45 s Inaktivität abgemeldet.");
    /// assert_eq!(ExpiryReason::Invalid.notice(Language::French, 600), "Veuillez vous reconnecter.");
    /// ```
    pub fn notice(self, language: Language, expire_after: u32) -> String {
        let notices = language.expiry_notices();
        match self {
            ExpiryReason::Idle => {
                let duration = if expire_after >= 120 {
                    notices.minutes.replace("{n}", &((expire_after + 30) / 60).to_string())
                } else {
                    notices.seconds.replace("{n}", &expire_after.to_string())
                };
                notices.idle.replace("{d}", &duration)
            }
            ExpiryReason::Absolute => notices.absolute.to_string(),
            ExpiryReason::Invalid => notices.invalid.to_string(),
            ExpiryReason::Revoked => notices.revoked.to_string(),
        }
    }
}

/// The state of the session a request arrived with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Nobody is signed in (for this request).
    Anonymous,
    /// Signed in and within every limit.
    Active {
        /// The stamp the request carried.
        stamp: Stamp,
        /// Whole seconds since its last activity.
        idle: u32,
    },
    /// Signed in, but over a limit, unreadable or not bound to these cookies.
    Expired(ExpiryReason),
}

/// What the stamp cookie of a request held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StampCookie {
    /// No stamp cookie.
    Absent,
    /// A stamp cookie that does not open.
    Unreadable(StampError),
    /// A stamp that opened.
    Present(Stamp),
}

/// The request's login cookies, checked against its stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login {
    /// The app configured no `login_cookies`: the stamp alone is the session.
    NotConfigured,
    /// None of the login cookies came with the request.
    Absent,
    /// Present, and their login tag is the stamp's.
    Bound,
    /// Present with another login tag (the app re-issued its cookie), but
    /// naming the stamp's person: bound again to this tag.
    Rebound(LoginTag),
    /// Present, but not the sign-in the stamp was made for (or no stamp).
    Unbound,
}

/// Decides the verdict.
///
/// * A login cookie without a readable stamp, or with a stamp of another
///   sign-in: expired (invalid). Fail closed.
/// * A stamp without any login cookie: anonymous for this request, and
///   nothing is removed: a link from another site arrives with the `Lax`
///   stamp but without a `Strict` login cookie, and the next request of that
///   browser carries both again.
/// * Otherwise the limits decide.
pub fn classify(stamp: StampCookie, login: Login, now: i64, timeouts: &Timeouts) -> Verdict {
    match (stamp, login) {
        (StampCookie::Absent, Login::NotConfigured | Login::Absent) => Verdict::Anonymous,
        (StampCookie::Absent, _) => Verdict::Expired(ExpiryReason::Invalid),
        (_, Login::Absent) => Verdict::Anonymous,
        (StampCookie::Unreadable(_), _) | (_, Login::Unbound) => Verdict::Expired(ExpiryReason::Invalid),
        (StampCookie::Present(stamp), Login::NotConfigured | Login::Bound | Login::Rebound(_)) => {
            // A stamp from a clock ahead of ours counts as "just now", never as negative idle.
            let age = now.saturating_sub(stamp.signed_in_at).max(0);
            let idle = now.saturating_sub(stamp.last_activity).max(0);
            if timeouts.absolute_timeout != 0 && age >= i64::from(timeouts.absolute_timeout) {
                Verdict::Expired(ExpiryReason::Absolute)
            } else if idle >= i64::from(timeouts.expire_after) {
                Verdict::Expired(ExpiryReason::Idle)
            } else {
                // idle < expire_after ≤ u32::MAX
                Verdict::Active { stamp, idle: idle as u32 }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timeouts = Timeouts { warn_after: 5, expire_after: 10, absolute_timeout: 100 };
    const NOW: i64 = 1_000_000;

    fn stamp(signed_in_ago: i64, idle: i64) -> StampCookie {
        StampCookie::Present(Stamp { signed_in_at: NOW - signed_in_ago, last_activity: NOW - idle, ..Stamp::default() })
    }

    #[test]
    fn idle_boundary_is_inclusive() {
        assert!(matches!(classify(stamp(50, 9), Login::Bound, NOW, &T), Verdict::Active { idle: 9, .. }));
        assert_eq!(classify(stamp(50, 10), Login::Bound, NOW, &T), Verdict::Expired(ExpiryReason::Idle));
    }

    #[test]
    fn absolute_boundary_is_inclusive_and_zero_turns_it_off() {
        assert!(matches!(classify(stamp(99, 0), Login::Bound, NOW, &T), Verdict::Active { .. }));
        assert_eq!(classify(stamp(100, 0), Login::Bound, NOW, &T), Verdict::Expired(ExpiryReason::Absolute));
        let off = Timeouts { absolute_timeout: 0, ..T };
        assert!(matches!(classify(stamp(1_000_000, 0), Login::NotConfigured, NOW, &off), Verdict::Active { .. }));
    }

    #[test]
    fn future_stamps_count_as_now_not_as_negative_idle() {
        let ahead = StampCookie::Present(Stamp { signed_in_at: NOW + 50, last_activity: NOW + 60, ..Stamp::default() });
        assert!(matches!(classify(ahead, Login::Bound, NOW, &T), Verdict::Active { idle: 0, .. }));
    }

    #[test]
    fn every_combination_of_stamp_and_login_cookies() {
        use ExpiryReason::Invalid;
        let bad = StampCookie::Unreadable(StampError::Unauthentic);
        let good = stamp(1, 1);
        let active = |v: Verdict| matches!(v, Verdict::Active { idle: 1, .. });
        let rebound = Login::Rebound([3; 8]);
        // No stamp: anonymous unless a login cookie came (fail closed).
        assert_eq!(classify(StampCookie::Absent, Login::NotConfigured, NOW, &T), Verdict::Anonymous);
        assert_eq!(classify(StampCookie::Absent, Login::Absent, NOW, &T), Verdict::Anonymous);
        for login in [Login::Bound, rebound, Login::Unbound] {
            assert_eq!(classify(StampCookie::Absent, login, NOW, &T), Verdict::Expired(Invalid), "{login:?}");
        }
        // An unreadable stamp: expired, except without any login cookie (nothing to end).
        assert_eq!(classify(bad, Login::Absent, NOW, &T), Verdict::Anonymous);
        for login in [Login::NotConfigured, Login::Bound, rebound, Login::Unbound] {
            assert_eq!(classify(bad, login, NOW, &T), Verdict::Expired(Invalid), "{login:?}");
        }
        // A good stamp: its own sign-in (or the same person) is active, another's is expired.
        assert_eq!(classify(good, Login::Absent, NOW, &T), Verdict::Anonymous);
        assert_eq!(classify(good, Login::Unbound, NOW, &T), Verdict::Expired(Invalid));
        for login in [Login::NotConfigured, Login::Bound, rebound] {
            assert!(active(classify(good, login, NOW, &T)), "{login:?}");
        }
    }

    #[test]
    fn every_language_has_three_distinct_notices_with_the_duration() {
        for &language in Language::ALL {
            let idle = ExpiryReason::Idle.notice(language, 600);
            assert!(idle.contains("10") && !idle.contains('{'), "{language:?}: {idle}");
            let absolute = ExpiryReason::Absolute.notice(language, 600);
            let invalid = ExpiryReason::Invalid.notice(language, 600);
            assert!(idle != absolute && absolute != invalid && idle != invalid, "{language:?}");
            assert!(ExpiryReason::Idle.notice(language, 45).contains("45"), "{language:?}");
        }
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        let far = StampCookie::Present(Stamp { signed_in_at: 0, last_activity: 0, ..Stamp::default() });
        assert_eq!(classify(far, Login::Bound, i64::MAX, &T), Verdict::Expired(ExpiryReason::Absolute));
        assert_eq!(
            classify(far, Login::Bound, i64::MIN, &T),
            Verdict::Active { stamp: Stamp { signed_in_at: 0, last_activity: 0, ..Stamp::default() }, idle: 0 }
        );
    }
}
