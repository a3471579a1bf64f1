//! The `SessionSecurity` fairing: reads and checks the configuration at
//! ignite, classifies each request once, and writes the stamp (or removes
//! it) on each response.

use std::sync::{Arc, OnceLock};

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::http::{Cookie, Header, HeaderMap, SameSite};
use rocket::log::private as log;
use rocket::{Build, Data, Orbit, Request, Response, Rocket};

use crate::assets::{self, ASSET_ROUTE};
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, SameSitePolicy, Timeouts, CONFIG_TABLE};
use crate::guard::shape_rejection;
use crate::i18n::Language;
use crate::ping::{self, PING_ROUTE};
use crate::stamp::{Stamp, StampCodec, ENCODED_LEN};
use crate::verdict::{classify, Action, ExpiryReason, RequestSession, StampCookie, Verdict};

type TimeoutsHook = dyn Fn(&Request<'_>, Timeouts) -> Timeouts + Send + Sync;
type AuditHook = dyn Fn(&Request<'_>, &SessionEvent) + Send + Sync;

/// A moment in a session's life, given to the
/// [`SessionSecurity::audit`] hook.
///
/// ```
/// use rocket_session_security::{ExpiryReason, SessionEvent};
/// let event = SessionEvent::Expired(ExpiryReason::Idle);
/// assert_eq!(event.to_string(), "session expired (idle)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEvent {
    /// A handler called [`SessionTracker::sign_in`](crate::SessionTracker::sign_in).
    SignedIn,
    /// A handler called [`SessionTracker::sign_out`](crate::SessionTracker::sign_out).
    SignedOut,
    /// A request arrived with a session that is over.
    Expired(ExpiryReason),
}

impl std::fmt::Display for SessionEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionEvent::SignedIn => f.write_str("signed in"),
            SessionEvent::SignedOut => f.write_str("signed out"),
            SessionEvent::Expired(reason) => write!(f, "session expired ({})", reason.as_str()),
        }
    }
}

/// The fairing: attach it once and every request is classified, every
/// response stamped, and the ping route and browser assets are mounted under
/// `base`.
///
/// # Usage
///
/// ```
/// use rocket_session_security::{SessionSecurity, Timeouts, SessionEvent};
///
/// let fairing = SessionSecurity::fairing()
///     // shorter timeouts for administrators, chosen per request from the
///     // app's own *private* cookie (a plain one could be edited by the user)
///     .timeouts(|req, default| {
///         match req.cookies().get_private("role").as_ref().map(|c| c.value()) {
///             Some("user") => default,
///             _ => Timeouts { warn_after: 240, expire_after: 300, ..default }, // admins, or unknown: short
///         }
///     })
///     // an audit trail of sign-ins, sign-outs and expiries
///     .audit(|req, event| eprintln!("{} {}", req.uri(), event));
/// let rocket = rocket::build().attach(fairing);
/// ```
pub struct SessionSecurity {
    clock: Arc<dyn Clock>,
    timeouts_hook: Option<Arc<TimeoutsHook>>,
    audit_hook: Option<Arc<AuditHook>>,
    shared: OnceLock<Arc<Shared>>,
}

/// What the fairing, the guards and the ping share after ignite.
pub(crate) struct Shared {
    pub config: Config,
    pub clock: Arc<dyn Clock>,
    /// The configured `language`, resolved once (validated at ignite).
    pub language: Option<Language>,
    passive_exact: Vec<String>,
    passive_prefixes: Vec<String>,
    timeouts_hook: Option<Arc<TimeoutsHook>>,
    audit_hook: Option<Arc<AuditHook>>,
    /// Key-dependent state, made on the first request: in the debug profile
    /// Rocket only chooses its random key after the ignite fairings ran.
    runtime: OnceLock<Runtime>,
}

struct Runtime {
    codec: StampCodec,
    /// The stamp's `Set-Cookie` value around the sealed value: exactly what
    /// `Header::from(Cookie)` prints for it (`name=` and `; HttpOnly; ...`),
    /// made once so each response only seals, encodes and copies.
    set_cookie_prefix: String,
    set_cookie_suffix: String,
}

/// The request's record, stored by `on_request` (`None` without the fairing).
struct Slot(Option<RequestSession>);

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

/// The launched app's stamp codec and cookie name, for [`crate::testing`];
/// `None` when the fairing is not attached.
pub(crate) fn stamp_codec(rocket: &Rocket<Orbit>) -> Option<(&StampCodec, &str)> {
    let shared = rocket.state::<Arc<Shared>>()?;
    Some((&shared.runtime(rocket).codec, shared.config.cookie_name.as_str()))
}

impl SessionSecurity {
    /// The fairing with the system clock and no hooks.
    pub fn fairing() -> Self {
        SessionSecurity { clock: Arc::new(SystemClock), timeouts_hook: None, audit_hook: None, shared: OnceLock::new() }
    }

    /// Reads time from `clock` instead of the system clock: tests move a
    /// [`ManualClock`](crate::ManualClock) instead of sleeping.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Chooses the timing per request (e.g. shorter for administrators). The
    /// hook gets the request and the configured timing; the guard, the ping
    /// and the browser snippet all use what it returns. A result that breaks
    /// the rules of [`Timeouts::validate`] is logged and replaced by the
    /// configured timing.
    pub fn timeouts<F>(mut self, hook: F) -> Self
    where
        F: Fn(&Request<'_>, Timeouts) -> Timeouts + Send + Sync + 'static,
    {
        self.timeouts_hook = Some(Arc::new(hook));
        self
    }

    /// Calls `hook` on sign-in, sign-out, and each request that finds its
    /// session expired (with the reason). Keep it quick: it runs inline.
    pub fn audit<F>(mut self, hook: F) -> Self
    where
        F: Fn(&Request<'_>, &SessionEvent) + Send + Sync + 'static,
    {
        self.audit_hook = Some(Arc::new(hook));
        self
    }
}

impl Shared {
    fn new(config: Config, fairing: &SessionSecurity) -> Self {
        let (prefixes, exact): (Vec<_>, Vec<_>) = config.passive_urls.iter().cloned().partition(|u| u.ends_with('*'));
        Shared {
            passive_prefixes: prefixes.into_iter().map(|p| p.trim_end_matches('*').to_string()).collect(),
            passive_exact: exact,
            clock: fairing.clock.clone(),
            timeouts_hook: fairing.timeouts_hook.clone(),
            audit_hook: fairing.audit_hook.clone(),
            runtime: OnceLock::new(),
            language: config.language.as_deref().and_then(Language::from_tag),
            config,
        }
    }

    fn runtime(&self, rocket: &Rocket<Orbit>) -> &Runtime {
        self.runtime.get_or_init(|| {
            let config = rocket.config();
            // `Config` provides its final master key (a generated one too) as bytes.
            let master: Vec<u8> =
                rocket::figment::Figment::from(config).extract_inner("secret_key").unwrap_or_default();
            let key = cookie::Key::try_from(master.as_slice()).unwrap_or_else(|_| {
                log::error!("{CONFIG_TABLE}: Rocket has no usable secret_key; every stamp will be treated as expired");
                cookie::Key::generate()
            });
            let secure = self.config.secure || config.tls_enabled();
            let (set_cookie_prefix, set_cookie_suffix) = set_cookie_affixes(&self.config, secure);
            Runtime { codec: StampCodec::new(&key, &self.config.cookie_name), set_cookie_prefix, set_cookie_suffix }
        })
    }

    /// The ping, the crate's assets, `passive_urls` and `passive_routes`
    /// never count as activity.
    fn is_passive(&self, req: &Request<'_>) -> bool {
        let path = req.uri().path().as_str();
        let base = self.config.base.as_str();
        (path.starts_with(base) && matches!(path.as_bytes().get(base.len()), None | Some(b'/')))
            || self.passive_exact.iter().any(|p| p == path)
            || self.passive_prefixes.iter().any(|p| path.starts_with(p.as_str()))
            || req
                .route()
                .and_then(|r| r.name.as_deref())
                .is_some_and(|name| name == PING_ROUTE || self.config.passive_routes.iter().any(|p| p == name))
    }

    fn timeouts_for(&self, req: &Request<'_>) -> Timeouts {
        let configured = self.config.timeouts();
        let Some(hook) = &self.timeouts_hook else { return configured };
        let chosen = hook(req, configured);
        match chosen.validate() {
            Ok(()) => chosen,
            Err(e) => {
                log::error!("the timeouts hook returned invalid timing ({e}); using the configured timing");
                configured
            }
        }
    }

    fn audit(&self, req: &Request<'_>, event: SessionEvent) {
        match event {
            SessionEvent::Expired(ExpiryReason::Invalid) => {
                log::warn!("{event}: {} {}", req.method(), req.uri().path())
            }
            _ => log::info!("{event}: {} {}", req.method(), req.uri().path()),
        }
        if let Some(hook) = &self.audit_hook {
            hook(req, &event);
        }
    }

    /// The `Set-Cookie` header of `stamp`, byte for byte what
    /// `Header::from(cookie)` prints (the value needs no percent-encoding),
    /// in one allocation.
    fn stamp_header(&self, runtime: &Runtime, stamp: Stamp) -> Header<'static> {
        let encoded = runtime.codec.seal_encoded(stamp);
        let (prefix, suffix) = (&runtime.set_cookie_prefix, &runtime.set_cookie_suffix);
        let mut header = String::with_capacity(prefix.len() + ENCODED_LEN + suffix.len());
        header.push_str(prefix);
        header.push_str(encoded.as_str());
        header.push_str(suffix);
        Header::new("Set-Cookie", header)
    }
}

/// The stamp cookie's attributes. No Expires/Max-Age: a browser-session
/// cookie; the limits live inside the seal.
fn stamp_cookie_template(config: &Config, secure: bool) -> Cookie<'static> {
    let same_site = match config.same_site {
        SameSitePolicy::Lax => SameSite::Lax,
        SameSitePolicy::Strict => SameSite::Strict,
        SameSitePolicy::None => SameSite::None,
    };
    Cookie::build((config.cookie_name.clone(), ""))
        .path("/")
        .http_only(true)
        .same_site(same_site)
        .secure(secure)
        .build()
}

/// What `Header::from(cookie)` prints before and after the value of the stamp
/// cookie. Its name is percent-encoded, so the first `=` ends it.
fn set_cookie_affixes(config: &Config, secure: bool) -> (String, String) {
    let empty = Header::from(stamp_cookie_template(config, secure)).value().to_string();
    let at = empty.find('=').map_or(empty.len(), |i| i + 1);
    let (prefix, suffix) = empty.split_at(at);
    (prefix.to_string(), suffix.to_string())
}

fn removal(name: &str) -> Cookie<'static> {
    let mut cookie = Cookie::build(name.to_string()).path("/").build();
    cookie.make_removal();
    cookie
}

/// The first header named `name` (`get_one`'s value), found by walking the
/// headers: a request or response has a few, and a name comparison checks the
/// length first, while Rocket's lookup hashes the name one byte at a time
/// (SipHash). For the lookups of every guarded request and response.
/// (Rocket's public API never leaves a header name without a value, so
/// `is_some()` agrees with `contains`.)
pub(crate) fn first_header<'h>(headers: &'h HeaderMap<'_>, name: &str) -> Option<Header<'h>> {
    headers.iter().find(|h| h.name().as_str().eq_ignore_ascii_case(name))
}

/// Did the handler already put a `Set-Cookie` for `name` on this response?
fn sets_cookie(res: &Response<'_>, name: &str) -> bool {
    res.headers().get("Set-Cookie").any(|value| value.split_once('=').is_some_and(|(n, _)| n.trim() == name))
}

#[rocket::async_trait]
impl Fairing for SessionSecurity {
    fn info(&self) -> Info {
        Info {
            name: "Session Security",
            kind: Kind::Ignite | Kind::Liftoff | Kind::Request | Kind::Response | Kind::Singleton,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        let config = match rocket.figment().focus(CONFIG_TABLE).extract::<Config>() {
            Ok(config) => config,
            Err(e) => {
                log::error!("invalid [{CONFIG_TABLE}] configuration");
                rocket::config::pretty_print_error(e);
                return Err(rocket);
            }
        };
        if let Err(e) = config.validate() {
            log::error!("invalid configuration: {e}");
            return Err(rocket);
        }
        let base = config.base.clone();
        let shared = Arc::new(Shared::new(config, self));
        if self.shared.set(shared.clone()).is_err() {
            log::error!("SessionSecurity was ignited twice");
            return Err(rocket);
        }
        // Named after the crate, so they never match an app's `passive_routes` entry by accident.
        let mut routes = rocket::routes![ping::ping, assets::asset];
        for (route, name) in routes.iter_mut().zip([PING_ROUTE, ASSET_ROUTE]) {
            route.name = Some(name.into());
        }
        Ok(rocket.manage(shared).mount(base, routes))
    }

    async fn on_liftoff(&self, rocket: &Rocket<Orbit>) {
        let Some(shared) = self.shared.get() else { return };
        let c = &shared.config;
        shared.runtime(rocket);
        log::info!(
            "session security: warn after {} s, expire after {} s idle, absolute limit {}; ping at POST {}/ping",
            c.warn_after,
            c.expire_after,
            if c.absolute_timeout == 0 { "off".to_string() } else { format!("{} s", c.absolute_timeout) },
            c.base
        );
        for warning in c.warnings() {
            log::warn!("{warning}");
        }
        if !c.secure && !rocket.config().tls_enabled() && rocket.config().profile == rocket::Config::RELEASE_PROFILE {
            log::warn!("{CONFIG_TABLE}: no TLS and secure = false: the stamp cookie is sent over plain HTTP");
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        let Some(shared) = self.shared.get() else { return };
        let runtime = shared.runtime(req.rocket());
        let config = &shared.config;
        // One pass over the request's cookies (a jar holds each name once)
        // instead of a hashed lookup per name.
        let (mut stamp_value, mut login_present) = (None, false);
        for cookie in req.cookies().iter() {
            let name = cookie.name();
            if name == config.cookie_name {
                stamp_value = Some(cookie.value());
            }
            login_present = login_present || config.login_cookies.iter().any(|n| n == name);
        }
        let stamp = match stamp_value {
            None => StampCookie::Absent,
            Some(value) => match runtime.codec.open(value) {
                Ok(stamp) => StampCookie::Present(stamp),
                Err(e) => StampCookie::Unreadable(e),
            },
        };
        let login_cookie = (!config.login_cookies.is_empty()).then_some(login_present);
        let timeouts = match stamp {
            StampCookie::Present(_) => shared.timeouts_for(req),
            _ => config.timeouts(),
        };
        let now = shared.clock.now_unix();
        let verdict = classify(stamp, login_cookie, now, &timeouts);
        let stale_stamp = login_cookie == Some(false) && stamp != StampCookie::Absent;
        if let Verdict::Expired(reason) = verdict {
            shared.audit(req, SessionEvent::Expired(reason));
        }
        req.local_cache(|| Slot(Some(RequestSession::new(verdict, timeouts, stale_stamp, now))));
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let Some(shared) = self.shared.get() else { return };
        let Some(session) = request_session(req) else { return };
        let runtime = shared.runtime(req.rocket());
        let config = &shared.config;
        // Rocket has already turned the cookie jar into headers: write ours as headers.
        let remove_all = |res: &mut Response<'r>| {
            res.adjoin_header(Header::from(removal(&config.cookie_name)));
            for name in &config.login_cookies {
                if !sets_cookie(res, name) {
                    res.adjoin_header(Header::from(removal(name)));
                }
            }
        };
        match session.action() {
            Action::SignIn { at } => {
                let stamp = Stamp { signed_in_at: at, last_activity: at };
                res.adjoin_header(shared.stamp_header(runtime, stamp));
                shared.audit(req, SessionEvent::SignedIn);
            }
            Action::SignOut => {
                remove_all(res);
                shared.audit(req, SessionEvent::SignedOut);
            }
            Action::None => match session.verdict {
                Verdict::Expired(_) => remove_all(res),
                Verdict::Anonymous if session.stale_stamp => {
                    res.adjoin_header(Header::from(removal(&config.cookie_name)));
                }
                Verdict::Anonymous => {}
                Verdict::Active { stamp, .. } => {
                    // The ping's merged activity, else this request's, unless it is passive.
                    let activity =
                        session.merged_activity().or_else(|| (!shared.is_passive(req)).then_some(session.arrived_at));
                    // Whole seconds: re-issue only when the value moves forward.
                    if let Some(at) = activity.filter(|&at| at > stamp.last_activity) {
                        let stamp = Stamp { last_activity: at, ..stamp };
                        res.adjoin_header(shared.stamp_header(runtime, stamp));
                    }
                }
            },
        }
        if session.was_rejected() && res.status() == rocket::http::Status::Unauthorized {
            shape_rejection(req, res, session, &config.login_url);
        } else if session.is_protected() && first_header(res.headers(), "Cache-Control").is_none() {
            res.set_header(crate::answer::no_store());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header as it was written before: `Header::from` of the cookie.
    fn via_cookie(config: &Config, secure: bool, value: &str) -> String {
        let mut cookie = stamp_cookie_template(config, secure);
        cookie.set_value(value.to_string());
        Header::from(cookie).value().to_string()
    }

    #[test]
    fn stamp_header_is_what_header_from_cookie_prints() {
        for name in ["session_security", "my stamp", "a=b;c", "ключ", "x%2F(y)"] {
            for same_site in [SameSitePolicy::Lax, SameSitePolicy::Strict, SameSitePolicy::None] {
                for secure in [false, true] {
                    let config = Config { cookie_name: name.into(), same_site, ..Config::default() };
                    let (prefix, suffix) = set_cookie_affixes(&config, secure);
                    let runtime = Runtime {
                        codec: StampCodec::new(&cookie::Key::from(&[3u8; 64]), name),
                        set_cookie_prefix: prefix,
                        set_cookie_suffix: suffix,
                    };
                    let shared = Shared::new(config.clone(), &SessionSecurity::fairing());
                    let stamp = Stamp { signed_in_at: 1_700_000_000, last_activity: 1_700_000_042 };
                    let header = shared.stamp_header(&runtime, stamp);
                    assert_eq!(header.name().as_str(), "Set-Cookie");
                    // The value is random (a fresh nonce): check the frame, then that it opens.
                    let parsed = cookie::Cookie::parse_encoded(header.value().to_string()).unwrap();
                    assert_eq!(parsed.name(), name);
                    assert_eq!(runtime.codec.open(parsed.value()), Ok(stamp));
                    assert_eq!(header.value(), via_cookie(&config, secure, parsed.value()));
                }
            }
        }
    }

    #[test]
    fn first_header_agrees_with_contains() {
        let mut res = Response::build().raw_header("Content-Type", "text/plain").finalize();
        res.adjoin_raw_header("set-cookie", "a=1");
        res.adjoin_raw_header("Set-Cookie", "b=2");
        res.set_raw_header("X-Frame-Options", "SAMEORIGIN");
        res.set_raw_header("Cache-Control", "max-age=5");
        res.remove_header("cache-control");
        for name in ["Cache-Control", "cache-control", "Set-Cookie", "SET-COOKIE", "Content-Type", "X-Frame", ""] {
            assert_eq!(first_header(res.headers(), name).is_some(), res.headers().contains(name), "{name}");
        }
        res.set_raw_header("CACHE-control", "no-cache");
        assert!(first_header(res.headers(), "Cache-Control").is_some() && res.headers().contains("Cache-Control"));
    }
}
