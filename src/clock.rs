//! Time source of the crate. Every decision about expiry reads the clock
//! through [`Clock`], so tests move time instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current UTC time, in whole seconds since the Unix epoch.
///
/// The fairing uses [`SystemClock`] unless you give it another one with
/// [`SessionSecurity::clock`](crate::SessionSecurity::clock).
///
/// ```
/// use rocket_session_security::Clock;
///
/// struct Frozen;
/// impl Clock for Frozen {
///     fn now_unix(&self) -> i64 { 1_700_000_000 }
/// }
/// assert_eq!(Frozen.now_unix(), 1_700_000_000);
/// ```
pub trait Clock: Send + Sync + 'static {
    /// Seconds since 1970-01-01T00:00:00Z.
    fn now_unix(&self) -> i64;
}

/// The operating system's wall clock.
///
/// ```
/// use rocket_session_security::{Clock, SystemClock};
/// assert!(SystemClock.now_unix() > 1_600_000_000);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix(&self) -> i64 {
        // Seconds straight from the system time: `OffsetDateTime::now_utc` also works out the
        // calendar date, about 150 instructions a request more (bench/callgrind.sh).
        let seconds = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(since) => seconds(since),
            Err(before) => -seconds(before.duration()),
        }
    }
}

/// A clock that only moves when told to: for tests of expiry without sleeping.
///
/// Clones share one time, so a test keeps a clone and moves the clock that the
/// fairing reads.
///
/// ```
/// use rocket_session_security::{Clock, ManualClock};
///
/// let clock = ManualClock::new(1_000);
/// let seen_by_fairing = clock.clone();
/// clock.advance(30);
/// assert_eq!(seen_by_fairing.now_unix(), 1_030);
/// clock.set(500); // jumps backwards are allowed, to test clock skew
/// assert_eq!(seen_by_fairing.now_unix(), 500);
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock standing at `unix_seconds`.
    pub fn new(unix_seconds: i64) -> Self {
        ManualClock(Arc::new(AtomicI64::new(unix_seconds)))
    }

    /// A clock standing at the current system time.
    pub fn starting_now() -> Self {
        Self::new(SystemClock.now_unix())
    }

    /// Moves the clock by `seconds` (negative moves it back).
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }

    /// Puts the clock at `unix_seconds`.
    pub fn set(&self, unix_seconds: i64) {
        self.0.store(unix_seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_unix(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}
