//! The one decision made per request: anonymous, active (idle for so many
//! seconds) or expired (and why). Computed once in the fairing's
//! `on_request` from one decryption, cached in the request, read by the
//! guards, the ping and `on_response`.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, Ordering};

use crate::config::Timeouts;
use crate::stamp::{Stamp, StampError};

/// Why a session is over.
///
/// ```
/// use rocket_session_security::ExpiryReason;
/// assert_eq!(ExpiryReason::Idle.as_str(), "idle");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryReason {
    /// Idle for `expire_after` seconds or more.
    Idle,
    /// Signed in `absolute_timeout` seconds ago or more.
    Absolute,
    /// The stamp is missing while a login cookie is present, or does not
    /// decrypt or parse (tampered, another key, a format we do not write).
    Invalid,
}

impl ExpiryReason {
    /// `idle`, `absolute` or `invalid`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExpiryReason::Idle => "idle",
            ExpiryReason::Absolute => "absolute",
            ExpiryReason::Invalid => "invalid",
        }
    }
}

/// The state of the session a request arrived with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// No stamp and no login cookie: nobody is signed in.
    Anonymous,
    /// Signed in and within every limit.
    Active {
        /// The stamp the request carried.
        stamp: Stamp,
        /// Whole seconds since its last activity.
        idle: u32,
    },
    /// Signed in, but over a limit or unreadable.
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

/// Decides the verdict. `login_cookie` is whether any configured login
/// cookie came with the request (`None` when none are configured).
pub fn classify(stamp: StampCookie, login_cookie: Option<bool>, now: i64, timeouts: &Timeouts) -> Verdict {
    match (stamp, login_cookie) {
        (StampCookie::Absent, Some(true)) => Verdict::Expired(ExpiryReason::Invalid),
        (StampCookie::Absent, _) => Verdict::Anonymous,
        // The app signed out without telling us: its cookies are gone.
        (StampCookie::Present(_) | StampCookie::Unreadable(_), Some(false)) => Verdict::Anonymous,
        (StampCookie::Unreadable(_), _) => Verdict::Expired(ExpiryReason::Invalid),
        (StampCookie::Present(stamp), _) => {
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

const NO_ACTION: u8 = 0;
const SIGN_IN: u8 = 1;
const SIGN_OUT: u8 = 2;
const NO_MERGE: i64 = i64::MIN;

/// What a handler asked for in this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    None,
    SignIn { at: i64 },
    SignOut,
}

/// Per-request record: the verdict plus what guards, the ping and handlers
/// asked of the response. Interior mutability because Rocket hands out the
/// request cache by shared reference.
#[derive(Debug)]
pub(crate) struct RequestSession {
    pub verdict: Verdict,
    pub timeouts: Timeouts,
    /// The stamp came without any login cookie: remove it quietly.
    pub stale_stamp: bool,
    /// When the request arrived (Unix seconds): the time of its activity.
    pub arrived_at: i64,
    action: AtomicU8,
    signed_in_at: AtomicI64,
    merged_activity: AtomicI64,
    guard_rejected: AtomicBool,
    protected: AtomicBool,
}

impl RequestSession {
    pub fn new(verdict: Verdict, timeouts: Timeouts, stale_stamp: bool, arrived_at: i64) -> Self {
        RequestSession {
            verdict,
            timeouts,
            stale_stamp,
            arrived_at,
            action: AtomicU8::new(NO_ACTION),
            signed_in_at: AtomicI64::new(0),
            merged_activity: AtomicI64::new(NO_MERGE),
            guard_rejected: AtomicBool::new(false),
            protected: AtomicBool::new(false),
        }
    }

    pub fn sign_in(&self, at: i64) {
        self.signed_in_at.store(at, Ordering::Relaxed);
        self.action.store(SIGN_IN, Ordering::Release);
    }

    pub fn sign_out(&self) {
        self.action.store(SIGN_OUT, Ordering::Release);
    }

    pub fn action(&self) -> Action {
        match self.action.load(Ordering::Acquire) {
            SIGN_IN => Action::SignIn { at: self.signed_in_at.load(Ordering::Relaxed) },
            SIGN_OUT => Action::SignOut,
            _ => Action::None,
        }
    }

    /// The ping moved last activity to `at`.
    pub fn record_merge(&self, at: i64) {
        self.merged_activity.store(at, Ordering::Relaxed);
    }

    pub fn merged_activity(&self) -> Option<i64> {
        Some(self.merged_activity.load(Ordering::Relaxed)).filter(|&at| at != NO_MERGE)
    }

    /// `ActiveSession` refused this request: `on_response` shapes the answer.
    pub fn mark_rejected(&self) {
        self.guard_rejected.store(true, Ordering::Relaxed);
    }

    pub fn was_rejected(&self) -> bool {
        self.guard_rejected.load(Ordering::Relaxed)
    }

    /// `ActiveSession` let this request through: its page shows private data.
    pub fn mark_protected(&self) {
        self.protected.store(true, Ordering::Relaxed);
    }

    pub fn is_protected(&self) -> bool {
        self.protected.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timeouts = Timeouts { warn_after: 5, expire_after: 10, absolute_timeout: 100 };
    const NOW: i64 = 1_000_000;

    fn stamp(signed_in_ago: i64, idle: i64) -> StampCookie {
        StampCookie::Present(Stamp { signed_in_at: NOW - signed_in_ago, last_activity: NOW - idle })
    }

    #[test]
    fn idle_boundary_is_inclusive() {
        assert!(matches!(classify(stamp(50, 9), None, NOW, &T), Verdict::Active { idle: 9, .. }));
        assert_eq!(classify(stamp(50, 10), None, NOW, &T), Verdict::Expired(ExpiryReason::Idle));
    }

    #[test]
    fn absolute_boundary_is_inclusive_and_zero_turns_it_off() {
        assert!(matches!(classify(stamp(99, 0), None, NOW, &T), Verdict::Active { .. }));
        assert_eq!(classify(stamp(100, 0), None, NOW, &T), Verdict::Expired(ExpiryReason::Absolute));
        let off = Timeouts { absolute_timeout: 0, ..T };
        assert!(matches!(classify(stamp(1_000_000, 0), None, NOW, &off), Verdict::Active { .. }));
    }

    #[test]
    fn future_stamps_count_as_now_not_as_negative_idle() {
        let ahead = StampCookie::Present(Stamp { signed_in_at: NOW + 50, last_activity: NOW + 60 });
        assert!(matches!(classify(ahead, None, NOW, &T), Verdict::Active { idle: 0, .. }));
    }

    #[test]
    fn fails_closed() {
        let bad = StampCookie::Unreadable(StampError::Unauthentic);
        assert_eq!(classify(bad, None, NOW, &T), Verdict::Expired(ExpiryReason::Invalid));
        assert_eq!(classify(bad, Some(true), NOW, &T), Verdict::Expired(ExpiryReason::Invalid));
        assert_eq!(classify(StampCookie::Absent, Some(true), NOW, &T), Verdict::Expired(ExpiryReason::Invalid));
        assert_eq!(classify(StampCookie::Absent, Some(false), NOW, &T), Verdict::Anonymous);
        assert_eq!(classify(StampCookie::Absent, None, NOW, &T), Verdict::Anonymous);
        assert_eq!(classify(stamp(1, 1), Some(false), NOW, &T), Verdict::Anonymous);
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        let far = StampCookie::Present(Stamp { signed_in_at: 0, last_activity: 0 });
        assert_eq!(classify(far, None, i64::MAX, &T), Verdict::Expired(ExpiryReason::Absolute));
        assert_eq!(
            classify(far, None, i64::MIN, &T),
            Verdict::Active { stamp: Stamp { signed_in_at: 0, last_activity: 0 }, idle: 0 }
        );
    }

    #[test]
    fn request_session_records_actions() {
        let s = RequestSession::new(Verdict::Anonymous, T, false, 0);
        assert_eq!(s.action(), Action::None);
        assert_eq!(s.merged_activity(), None);
        s.sign_in(42);
        assert_eq!(s.action(), Action::SignIn { at: 42 });
        s.sign_out();
        assert_eq!(s.action(), Action::SignOut);
        s.record_merge(7);
        assert_eq!(s.merged_activity(), Some(7));
        assert!(!s.was_rejected());
        s.mark_rejected();
        assert!(s.was_rejected());
    }
}
