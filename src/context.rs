//! What the fairing, the guards and the ping share after ignite, and each
//! request's record. Built from plain values; imports nothing above it.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rocket::http::Header;
use rocket::{Orbit, Request, Rocket};

use crate::assets::CRATE_ROUTE_PREFIX;
use crate::binding::{person_tag_of, Binder, LoginValues};
use crate::clock::Clock;
use crate::config::{Config, CONFIG_TABLE};
use crate::http::{set_cookie_affixes, Refusal, SiteOrigins};
use crate::revocation::{PersonKey, Revocation, Revocations, SessionId};
use crate::stamp::{PersonTag, Stamp, StampCodec, StampKeys, ENCODED_LEN};
use crate::timing::Timeouts;
use crate::verdict::{classify, ExpiryReason, Login, StampCookie, Verdict};

pub(crate) type AuditHook = dyn Fn(&Request<'_>, &SessionEvent) + Send + Sync;

/// A moment in a session's life, given to the
/// [`SessionSecurity::audit`](crate::SessionSecurity::audit) hook.
///
/// ```
/// use rocket_session_security::{ExpiryReason, SessionEvent};
/// let event = SessionEvent::Expired(ExpiryReason::Idle);
/// assert_eq!(event.to_string(), "session expired (idle)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionEvent {
    /// A handler called [`SessionTracker::sign_in`](crate::SessionTracker::sign_in)
    /// (or `sign_in_with`): a new session.
    SignedIn,
    /// The person of an active session signed in again (the same person):
    /// the session goes on, its sign-in time (and so both limits) restarts.
    Reauthenticated,
    /// A handler called [`SessionTracker::sign_out`](crate::SessionTracker::sign_out).
    SignedOut,
    /// A request arrived with a session that is over.
    Expired(ExpiryReason),
    /// Sessions were ended before their time: this one (a sign-out, one
    /// ended from the sessions list), a person's, or everyone's.
    Revoked(Revocation),
}

impl std::fmt::Display for SessionEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionEvent::SignedIn => f.write_str("signed in"),
            SessionEvent::Reauthenticated => f.write_str("signed in again (session renewed)"),
            SessionEvent::SignedOut => f.write_str("signed out"),
            SessionEvent::Expired(reason) => write!(f, "session expired ({})", reason.as_str()),
            SessionEvent::Revoked(Revocation::Session { id, .. }) => write!(f, "session {id} revoked"),
            SessionEvent::Revoked(Revocation::Person { person, except: Some(kept), .. }) => {
                write!(f, "every session of person {person} revoked but {kept}")
            }
            SessionEvent::Revoked(Revocation::Person { person, .. }) => {
                write!(f, "every session of person {person} revoked")
            }
            SessionEvent::Revoked(_) => f.write_str("every session of everyone revoked"),
        }
    }
}

/// Paths as Rocket routes them: non-empty, percent-decoded segments, so
/// `/poll`, `/poll/`, `//poll` and `/%70oll` are one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathPattern {
    segments: Vec<String>,
    /// `*` at the end: any path that starts with these segments (the last
    /// one as a prefix of the request's, unless the entry ended in `/`).
    prefix: Option<bool>,
}

impl PathPattern {
    /// `entry` is a configured path, validated as local; a final `*` makes a prefix.
    pub fn parse(entry: &str) -> PathPattern {
        let (path, prefix) = match entry.strip_suffix('*') {
            Some(path) => (path, Some(path.ends_with('/'))),
            None => (entry, None),
        };
        let segments = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned())
            .collect();
        PathPattern { segments, prefix }
    }

    /// Whether the request path's decoded segments match.
    pub fn matches<'a>(&self, mut path: impl Iterator<Item = &'a str>) -> bool {
        let Some((last, whole)) = self.segments.split_last() else {
            return self.prefix.is_some() || path.next().is_none();
        };
        for expected in whole {
            if path.next() != Some(expected.as_str()) {
                return false;
            }
        }
        match (self.prefix, path.next()) {
            (_, None) => false,
            (None, Some(segment)) => segment == last && path.next().is_none(),
            (Some(true), Some(segment)) => segment == last,
            (Some(false), Some(segment)) => segment.starts_with(last.as_str()),
        }
    }
}

/// What the fairing, the guards and the ping share after ignite.
pub(crate) struct Shared {
    pub config: Config,
    pub clock: Arc<dyn Clock>,
    /// Where the site is, as browsers name it (`public_origins`, `trusted_proxies`).
    pub site: SiteOrigins,
    /// The kinds of ping refusal logged so far (each is logged once).
    refusals_logged: AtomicU8,
    /// Sessions ended before their time, checked on every request.
    pub revocations: Arc<Revocations>,
    passive_urls: Vec<PathPattern>,
    audit_hook: Option<Arc<AuditHook>>,
    /// Key-dependent state, made on the first request: in the debug profile
    /// Rocket only chooses its random key after the ignite fairings ran.
    runtime: OnceLock<Runtime>,
}

/// What depends on Rocket's key.
pub(crate) struct Runtime {
    pub codec: StampCodec,
    pub binder: Binder,
    /// Rocket's key, to read who a private login cookie names.
    pub app_key: cookie::Key,
    /// The stamp's `Set-Cookie` value around the sealed value: exactly what
    /// `Header::from(Cookie)` prints for it (`name=` and `; HttpOnly; ...`),
    /// made once so each response only seals, encodes and copies.
    set_cookie_prefix: String,
    set_cookie_suffix: String,
    /// The session's cookies are `Secure` (`secure = true`, or Rocket runs
    /// TLS): so are their removals and the flash.
    pub secure: bool,
}

impl Runtime {
    pub fn new(config: &Config, app_key: cookie::Key, secure: bool) -> Runtime {
        let keys = StampKeys::derive(&app_key);
        let (set_cookie_prefix, set_cookie_suffix) = set_cookie_affixes(config, secure);
        Runtime {
            codec: StampCodec::with_keys(&keys, &config.cookie_name),
            binder: Binder::new(&keys.login, &keys.person, &format!("{}\0{}", config.cookie_name, config.base)),
            app_key,
            set_cookie_prefix,
            set_cookie_suffix,
            secure,
        }
    }

    /// The person tag of login cookie values (`names` by index): who they name.
    pub fn person_tag(&self, names: &[String], values: &LoginValues<'_>) -> PersonTag {
        person_tag_of(&self.binder, &self.app_key, names, values)
    }

    /// The `Set-Cookie` header of `stamp`, byte for byte what
    /// `Header::from(cookie)` prints (the value needs no percent-encoding),
    /// in one allocation.
    pub fn stamp_header(&self, stamp: Stamp) -> Header<'static> {
        let encoded = self.codec.seal_encoded(stamp);
        let (prefix, suffix) = (&self.set_cookie_prefix, &self.set_cookie_suffix);
        let mut header = String::with_capacity(prefix.len() + ENCODED_LEN + suffix.len());
        header.push_str(prefix);
        header.push_str(encoded.as_str());
        header.push_str(suffix);
        Header::new("Set-Cookie", header)
    }
}

impl Shared {
    pub fn new(
        config: Config,
        clock: Arc<dyn Clock>,
        audit_hook: Option<Arc<AuditHook>>,
        revocations: Arc<Revocations>,
    ) -> Self {
        Shared {
            passive_urls: config.passive_urls.iter().map(|u| PathPattern::parse(u)).collect(),
            site: SiteOrigins::new(&config),
            refusals_logged: AtomicU8::new(0),
            revocations,
            clock,
            audit_hook,
            runtime: OnceLock::new(),
            config,
        }
    }

    pub fn runtime(&self, rocket: &Rocket<Orbit>) -> &Runtime {
        self.runtime.get_or_init(|| {
            let config = rocket.config();
            // `Config` provides its final master key (a generated one too) as bytes.
            let master: Vec<u8> =
                rocket::figment::Figment::from(config).extract_inner("secret_key").unwrap_or_default();
            let key = cookie::Key::try_from(master.as_slice()).unwrap_or_else(|_| {
                log::error!("{CONFIG_TABLE}: Rocket has no usable secret_key; every stamp will be treated as expired");
                cookie::Key::generate()
            });
            Runtime::new(&self.config, key, self.config.secure || config.tls_enabled())
        })
    }

    /// The runtime, once the first request made it.
    pub fn ready_runtime(&self) -> Option<&Runtime> {
        self.runtime.get()
    }

    /// The binder, once the first request made it.
    pub fn binder(&self) -> Option<&Binder> {
        self.ready_runtime().map(|r| &r.binder)
    }

    /// The crate's own routes (the ping and the assets, under `base`),
    /// `passive_urls` and `passive_routes` never count as activity. Routes
    /// are told by name and paths compared as Rocket routes them, so no
    /// spelling of a passive path escapes. (A request no route answered is no
    /// activity either; the fairing checks that first.)
    pub fn is_passive(&self, req: &Request<'_>) -> bool {
        let route_name = req.route().and_then(|r| r.name.as_deref());
        route_name.is_some_and(|name| {
            name.starts_with(CRATE_ROUTE_PREFIX) || self.config.passive_routes.iter().any(|p| p == name)
        }) || self.passive_urls.iter().any(|p| p.matches(req.uri().path().segments()))
    }

    /// Logs a ping refusal at `warn`, the first of each kind only (a
    /// misconfigured proxy refuses every ping), with the setting that fixes it.
    pub fn log_refusal(&self, req: &Request<'_>, refusal: &Refusal) {
        let bit = refusal.kind.bit();
        if self.refusals_logged.fetch_or(bit, Ordering::Relaxed) & bit == 0 {
            log::warn!(
                "{CONFIG_TABLE}: refused a ping ({} {}): {}; {} (logged once per kind)",
                req.method(),
                req.uri().path(),
                refusal.why,
                refusal.kind.fix()
            );
        }
    }

    /// Logs `event` (a refused stamp or a revoked session at `warn`, the
    /// rest at `info`) and tells the app's audit hook.
    pub fn audit(&self, req: &Request<'_>, event: SessionEvent) {
        let level = match event {
            SessionEvent::Expired(ExpiryReason::Invalid | ExpiryReason::Revoked) => log::Level::Warn,
            _ => log::Level::Info,
        };
        self.audit_at(req, event, level, "");
    }

    /// The same at `level`, with `why` after the path.
    fn audit_at(&self, req: &Request<'_>, event: SessionEvent, level: log::Level, why: &str) {
        log::log!(level, "{event}: {} {}{why}", req.method(), req.uri().path());
        if let Some(hook) = &self.audit_hook {
            hook(req, &event);
        }
    }
}

const NO_ACTION: u8 = 0;
const SIGN_IN: u8 = 1;
const SIGN_OUT: u8 = 2;
/// No time recorded (the ping's merge, a closing tab's end).
const NO_TIME: i64 = i64::MIN;

fn recorded_time(cell: &AtomicI64) -> Option<i64> {
    Some(cell.load(Ordering::Relaxed)).filter(|&at| at != NO_TIME)
}

/// What a handler asked for in this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    None,
    /// Sign in at `at` with this timing (already checked).
    SignIn {
        at: i64,
        timeouts: Timeouts,
    },
    SignOut,
}

const NOT_REJECTED: u8 = 0;
const REJECTED_SESSION: u8 = 1;
const REJECTED_FOR_SIGN_IN_AGE: u8 = 2;

/// Why a guard of the crate refused this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejection {
    /// The session is not active: the verdict says why (nobody signed in, or expired).
    Session,
    /// Active, but signed in too long ago for this route (`RecentSignIn`).
    SignInTooOld,
}

/// The verdict and the timing it was decided with: the session's own
/// (sealed in its stamp, held to the configured one), else the configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decided {
    pub verdict: Verdict,
    pub timeouts: Timeouts,
}

/// Per-request record: what the request carried (one decryption, in
/// `on_request`), the verdict (decided on first use), and what guards, the
/// ping and handlers asked of the response. Interior mutability because Rocket hands out the
/// request cache by shared reference.
#[derive(Debug)]
pub(crate) struct RequestSession {
    pub stamp: StampCookie,
    pub login: Login,
    /// When the request arrived (Unix seconds): the time of its activity.
    pub arrived_at: i64,
    decided: OnceLock<Decided>,
    action: AtomicU8,
    /// When and with what timing a handler signed the person in.
    sign_in: Mutex<(i64, Timeouts)>,
    merged_activity: AtomicI64,
    closing_at: AtomicI64,
    rejected: AtomicU8,
    protected: AtomicBool,
}

impl RequestSession {
    pub fn new(stamp: StampCookie, login: Login, arrived_at: i64) -> Self {
        RequestSession {
            stamp,
            login,
            arrived_at,
            decided: OnceLock::new(),
            action: AtomicU8::new(NO_ACTION),
            sign_in: Mutex::new((0, Timeouts::default())),
            merged_activity: AtomicI64::new(NO_TIME),
            closing_at: AtomicI64::new(NO_TIME),
            rejected: AtomicU8::new(NOT_REJECTED),
            protected: AtomicBool::new(false),
        }
    }

    /// The verdict, decided once; an expiry is audited then.
    pub fn decided(&self, req: &Request<'_>, shared: &Shared) -> Decided {
        *self.decided.get_or_init(|| {
            let configured = shared.config.timeouts();
            let timeouts = match self.stamp {
                StampCookie::Present(stamp) => stamp.timeouts.within(configured),
                _ => configured,
            };
            let verdict = match classify(self.stamp, self.login, self.arrived_at, &timeouts) {
                // One look in memory: was it ended before its time?
                Verdict::Active { stamp, .. }
                    if shared.revocations.is_revoked(
                        SessionId::from_u64(stamp.session_id),
                        PersonKey::from_bytes(stamp.person_tag),
                        stamp.signed_in_at,
                    ) =>
                {
                    Verdict::Expired(ExpiryReason::Revoked)
                }
                verdict => verdict,
            };
            if let Verdict::Expired(reason) = verdict {
                if let StampCookie::Unreadable(why) = self.stamp {
                    log::warn!("unreadable stamp: {}", why.as_str());
                }
                let event = SessionEvent::Expired(reason);
                match self.stamp {
                    // The stamp is a browser-session cookie: a restarted browser kept only the
                    // app's persistent login cookie. Ordinary, not an attack.
                    StampCookie::Absent => shared.audit_at(
                        req,
                        event,
                        log::Level::Info,
                        " (a login cookie without a stamp: most likely a restarted browser)",
                    ),
                    _ => shared.audit(req, event),
                }
            }
            Decided { verdict, timeouts }
        })
    }

    /// The verdict if something already decided it (no side effects).
    pub fn decided_yet(&self) -> Option<Decided> {
        self.decided.get().copied()
    }

    pub fn sign_in(&self, at: i64, timeouts: Timeouts) {
        *self.sign_in.lock().unwrap_or_else(|p| p.into_inner()) = (at, timeouts);
        self.action.store(SIGN_IN, Ordering::Release);
    }

    pub fn sign_out(&self) {
        self.action.store(SIGN_OUT, Ordering::Release);
    }

    pub fn action(&self) -> Action {
        match self.action.load(Ordering::Acquire) {
            SIGN_IN => {
                let (at, timeouts) = *self.sign_in.lock().unwrap_or_else(|p| p.into_inner());
                Action::SignIn { at, timeouts }
            }
            SIGN_OUT => Action::SignOut,
            _ => Action::None,
        }
    }

    /// The ping moved last activity to `at`.
    pub fn record_merge(&self, at: i64) {
        self.merged_activity.store(at, Ordering::Relaxed);
    }

    pub fn merged_activity(&self) -> Option<i64> {
        recorded_time(&self.merged_activity)
    }

    /// A closing tab's ping (`end_with_last_tab`) moved last activity back to `at`.
    pub fn record_closing(&self, at: i64) {
        self.closing_at.store(at, Ordering::Relaxed);
    }

    pub fn closing_at(&self) -> Option<i64> {
        recorded_time(&self.closing_at)
    }

    /// A guard of the crate refused this request: `on_response` may shape the answer.
    pub fn mark_rejected(&self, why: Rejection) {
        let code = match why {
            Rejection::Session => REJECTED_SESSION,
            Rejection::SignInTooOld => REJECTED_FOR_SIGN_IN_AGE,
        };
        self.rejected.store(code, Ordering::Relaxed);
    }

    pub fn rejection(&self) -> Option<Rejection> {
        match self.rejected.load(Ordering::Relaxed) {
            REJECTED_SESSION => Some(Rejection::Session),
            REJECTED_FOR_SIGN_IN_AGE => Some(Rejection::SignInTooOld),
            _ => None,
        }
    }

    /// `ActiveSession` let this request through: its page shows private data.
    pub fn mark_protected(&self) {
        self.protected.store(true, Ordering::Relaxed);
    }

    pub fn is_protected(&self) -> bool {
        self.protected.load(Ordering::Relaxed)
    }
}

/// The request's record, stored by `on_request` (`None` without the fairing).
struct Slot(Option<RequestSession>);

pub(crate) fn store_request_session(req: &Request<'_>, session: RequestSession) {
    req.local_cache(|| Slot(Some(session)));
}

pub(crate) fn request_session<'r>(req: &'r Request<'_>) -> Option<&'r RequestSession> {
    req.local_cache(|| Slot(None)).0.as_ref()
}

/// The request's record and the fairing's shared state, for the guards and
/// the ping; `None` (logged, naming `user`) when the fairing is not attached.
pub(crate) fn request_context<'r>(req: &'r Request<'_>, user: &str) -> Option<(&'r RequestSession, &'r Arc<Shared>)> {
    let context = request_session(req).zip(req.rocket().state::<Arc<Shared>>());
    if context.is_none() {
        log::error!("{user} used without `.attach(SessionSecurity::fairing())`");
    }
    context
}

/// The launched app's shared state and key-dependent runtime, for
/// [`crate::testing`]; `None` when the fairing is not attached.
pub(crate) fn launched(rocket: &Rocket<Orbit>) -> Option<(&Shared, &Runtime)> {
    let shared = rocket.state::<Arc<Shared>>()?;
    Some((shared, shared.runtime(rocket)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, path: &str) -> bool {
        let origin = rocket::http::uri::Origin::parse(path).unwrap();
        PathPattern::parse(pattern).matches(origin.path().segments())
    }

    #[test]
    fn every_spelling_rocket_routes_alike_matches_alike() {
        for path in ["/poll", "/poll/", "//poll", "/%70oll", "/%70%6F%6C%6C", "///poll//"] {
            assert!(matches("/poll", path), "{path}");
        }
        for path in ["/poll/x", "/pol", "/polls", "/", "/x/poll"] {
            assert!(!matches("/poll", path), "{path}");
        }
        for path in ["/api/poll", "/api//poll/1", "/%61pi/poll/1/2", "/api/poll/"] {
            assert!(matches("/api/poll/*", path), "{path}");
        }
        assert!(!matches("/api/poll/*", "/api/polls"));
        assert!(!matches("/api/poll/*", "/api"));
        // Without a final '/', the last segment is a prefix, as the entry reads.
        assert!(matches("/api/po*", "/api/polls/1"));
        assert!(!matches("/api/po*", "/api/x"));
        assert!(matches("/*", "/anything/at/all") && matches("/", "/") && !matches("/", "/x"));
        assert!(matches("/caf%C3%A9", "/café".replace('é', "%C3%A9").as_str()));
    }

    #[test]
    fn request_session_records_actions() {
        let s = RequestSession::new(StampCookie::Absent, Login::Absent, 0);
        assert_eq!(s.action(), Action::None);
        assert_eq!(s.merged_activity(), None);
        let timeouts = Timeouts { warn_after: 10, expire_after: 30, absolute_timeout: 0 };
        s.sign_in(42, timeouts);
        assert_eq!(s.action(), Action::SignIn { at: 42, timeouts });
        s.sign_out();
        assert_eq!(s.action(), Action::SignOut);
        s.record_merge(7);
        assert_eq!(s.merged_activity(), Some(7));
        assert_eq!(s.closing_at(), None);
        s.record_closing(3);
        assert_eq!(s.closing_at(), Some(3));
        assert_eq!(s.rejection(), None);
        s.mark_rejected(Rejection::SignInTooOld);
        assert_eq!(s.rejection(), Some(Rejection::SignInTooOld));
        s.mark_rejected(Rejection::Session);
        assert_eq!(s.rejection(), Some(Rejection::Session));
    }

    #[test]
    fn stamp_header_is_what_header_from_cookie_prints() {
        use crate::config::SameSitePolicy;
        use crate::http::stamp_cookie_template;
        for name in ["session_security", "my stamp", "a=b;c", "ключ", "x%2F(y)"] {
            for same_site in [SameSitePolicy::Lax, SameSitePolicy::Strict, SameSitePolicy::None] {
                for secure in [false, true] {
                    let config = Config { cookie_name: name.into(), same_site, ..Config::default() };
                    let runtime = Runtime::new(&config, cookie::Key::from(&[3u8; 64]), secure);
                    let stamp = Stamp { signed_in_at: 1_700_000_000, last_activity: 1_700_000_042, ..Stamp::default() };
                    let header = runtime.stamp_header(stamp);
                    assert_eq!(header.name().as_str(), "Set-Cookie");
                    // The value is random (a fresh nonce): check the frame, then that it opens.
                    let parsed = cookie::Cookie::parse_encoded(header.value().to_string()).unwrap();
                    assert_eq!(parsed.name(), name);
                    assert_eq!(runtime.codec.open(parsed.value()), Ok(stamp));
                    let mut expected = stamp_cookie_template(&config, secure);
                    expected.set_value(parsed.value().to_string());
                    assert_eq!(header.value(), Header::from(expected).value());
                }
            }
        }
    }
}
