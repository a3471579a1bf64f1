//! The `SessionSecurity` fairing: reads and checks the configuration at
//! ignite (registering the crate's 401 catcher where the app has none),
//! reads each request's stamp and login cookies once, and carries out each
//! response's effect on the session (`effect::decide`).

use std::sync::{Arc, OnceLock};

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::http::SameSite;
use rocket::{Build, Data, Orbit, Request, Response, Rocket};

use crate::answer::no_store;
use crate::binding::{any_present, ct_eq, LoginValues, MAX_LOGIN_COOKIES};
use crate::catcher::rejection_catchers;
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, CONFIG_TABLE};
use crate::context::{
    request_session, store_request_session, Action, AuditHook, RequestSession, Runtime, SessionEvent, Shared,
};
use crate::effect::{decide, Effect, ListEffect, LoginLeft, Record, ResponseFacts, StampEffect};
use crate::http::{is_persons_own, removal, sets_any_cookie, sets_cookie, HeadersSeen, LeftByResponse};
use crate::revocation::{
    describe_user_agent, PersonKey, RevocationStore, RevocationTiming, Revocations, SessionId, SessionRecord,
};
use crate::timing::Timeouts;
use crate::verdict::{Login, StampCookie, Verdict};

/// The fairing: attach it once and every request is classified, every
/// response stamped, and the ping route and browser assets are mounted under
/// `base`.
///
/// # Usage
///
/// ```
/// use rocket_session_security::{Config, SessionSecurity, SessionEvent};
///
/// // Configuration from Rocket.toml's [default.session_security]:
/// let rocket = rocket::build().attach(SessionSecurity::fairing());
///
/// // Or given in code (tests, apps without Rocket.toml); still validated at launch:
/// let config = Config { expire_after: 900, warn_after: 840, login_cookies: vec!["user_id".into()], ..Config::default() };
/// let rocket = rocket::build().attach(SessionSecurity::with_config(config));
///
/// // An audit trail of sign-ins, sign-outs and expiries. (A shorter timing
/// // for some people is chosen at sign-in: `SessionTracker::sign_in_with`.)
/// let fairing = SessionSecurity::default().audit(|req, event| eprintln!("{} {}", req.uri(), event));
/// let rocket = rocket::build().attach(fairing);
/// ```
pub struct SessionSecurity {
    clock: Arc<dyn Clock>,
    config: Option<Config>,
    audit_hook: Option<Arc<AuditHook>>,
    store: Option<Arc<dyn RevocationStore>>,
    shared: OnceLock<Arc<Shared>>,
}

impl Default for SessionSecurity {
    /// The same as [`SessionSecurity::fairing`].
    fn default() -> Self {
        SessionSecurity::fairing()
    }
}

impl std::fmt::Debug for SessionSecurity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionSecurity")
            .field("config", &self.config)
            .field("audit_hook", &self.audit_hook.is_some())
            .finish_non_exhaustive()
    }
}

impl SessionSecurity {
    /// The fairing with the system clock, no hooks, and the configuration
    /// from `[default.session_security]` (every key optional).
    pub fn fairing() -> Self {
        SessionSecurity {
            clock: Arc::new(SystemClock),
            config: None,
            audit_hook: None,
            store: None,
            shared: OnceLock::new(),
        }
    }

    /// The fairing with `config` instead of what Rocket's configuration
    /// holds under `session_security`. It is validated at launch all the same.
    pub fn with_config(config: Config) -> Self {
        SessionSecurity { config: Some(config), ..SessionSecurity::fairing() }
    }

    /// Reads time from `clock` instead of the system clock: tests move a
    /// [`ManualClock`](crate::ManualClock) instead of sleeping.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Keeps revocations and the sessions list in `store` instead of the one
    /// the `revocations` setting names: your own [`RevocationStore`] (on
    /// your database), or one [`MemoryStore`](crate::MemoryStore) shared by
    /// several instances in a test.
    pub fn revocation_store(mut self, store: impl RevocationStore) -> Self {
        self.store = Some(Arc::new(store));
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

impl SessionSecurity {
    /// Opens the revocation store and loads it, within `revocations_wait`;
    /// the error, for the launch log, names the setting.
    async fn start_revocations(&self, config: &Config) -> Result<Arc<Revocations>, String> {
        let choice = config.revocation_store().map_err(|e| format!("{CONFIG_TABLE}.revocations: {e}"))?;
        let (store, what) = match &self.store {
            Some(store) => (store.clone(), "the app's revocation store".to_string()),
            None => {
                let namespace = format!("{}{}", config.cookie_name, config.base);
                let store = choice
                    .open(&namespace)
                    .await
                    .map_err(|e| format!("{CONFIG_TABLE}.revocations: cannot open {}: {e}", choice.describe()))?;
                (store, choice.describe())
            }
        };
        let wait = std::time::Duration::from_secs(u64::from(config.revocations_wait));
        let timing = RevocationTiming::new(config.expire_after, config.absolute_timeout);
        let revocations = Revocations::start(store, timing, self.clock.clone(), wait).await.map_err(|e| {
            format!(
                "{CONFIG_TABLE}.revocations: {what} could not be loaded within {} s ({e}); the app does not serve \
                 sessions it cannot check (raise {CONFIG_TABLE}.revocations_wait, or fix the store)",
                config.revocations_wait
            )
        })?;
        log::info!("session security: revocations in {what}, {} in force", revocations.held());
        Ok(revocations)
    }
}

/// The request's login cookies checked against its stamp.
fn check_login(runtime: &Runtime, config: &Config, stamp: &StampCookie, values: &LoginValues<'_>) -> Login {
    if config.login_cookies.is_empty() {
        return Login::NotConfigured;
    }
    if !any_present(values) {
        return Login::Absent;
    }
    let StampCookie::Present(stamp) = stamp else { return Login::Unbound };
    let tag = runtime.binder.login_tag(values);
    if ct_eq(&tag, &stamp.login_tag) {
        Login::Bound
    } else if ct_eq(&runtime.person_tag(&config.login_cookies, values), &stamp.person_tag) {
        Login::Rebound(tag)
    } else {
        Login::Unbound
    }
}

/// Whether this request is the person's own activity: answered by a route
/// (a status under 400: no 404 after a forward, no 422), not passive, not a
/// prefetch, not an unasked request from another site or a sibling subdomain.
fn is_activity(req: &Request<'_>, res: &Response<'_>, shared: &Shared) -> bool {
    req.route().is_some() && res.status().code < 400 && !shared.is_passive(req) && is_persons_own(req, &shared.site)
}

/// The login cookies as the response leaves them, with the tags they make.
fn login_left(
    req: &Request<'_>,
    res: &Response<'_>,
    config: &Config,
    runtime: &Runtime,
) -> (LoginLeft, LeftByResponse) {
    let left = LeftByResponse::read(req, res, &config.login_cookies);
    let values = left.values();
    let tags = LoginLeft {
        present: any_present(&values),
        person_tag: runtime.person_tag(&config.login_cookies, &values),
        login_tag: runtime.binder.login_tag(&values),
    };
    (tags, left)
}

/// What `decide` needs to know of the response, read only where the record
/// asks for it (most responses need one walk over the headers, or none).
fn response_facts(
    req: &Request<'_>,
    res: &Response<'_>,
    shared: &Shared,
    runtime: &Runtime,
    record: &Record,
) -> ResponseFacts {
    let config = &shared.config;
    match (record.action, record.decided.verdict) {
        (Action::SignIn { .. }, _) => {
            let (tags, left) = login_left(req, res, config, runtime);
            warn_of_sign_in_cookies(req, config, &tags, &left);
            ResponseFacts { login_left: Some(tags), ..ResponseFacts::default() }
        }
        (Action::None, Verdict::Active { .. }) => {
            let seen = HeadersSeen::of(res);
            let reissued = seen.set_cookie && sets_any_cookie(res, &config.login_cookies);
            ResponseFacts {
                is_activity: record.merged_activity.is_none()
                    && record.closing_at.is_none()
                    && !record.refused
                    && is_activity(req, res, shared),
                login_left: reissued.then(|| login_left(req, res, config, runtime).0),
                has_cache_control: seen.cache_control,
            }
        }
        _ if record.protected || record.refused => {
            ResponseFacts { has_cache_control: HeadersSeen::of(res).cache_control, ..Default::default() }
        }
        _ => ResponseFacts::default(),
    }
}

/// A sign-in whose login cookies the next request will not carry as the
/// stamp expects: said at `warn`, naming the setting.
fn warn_of_sign_in_cookies(req: &Request<'_>, config: &Config, tags: &LoginLeft, left: &LeftByResponse) {
    if !config.login_cookies.is_empty() && !tags.present {
        log::warn!(
            "sign_in() at {}: the response sets none of login_cookies {:?} and the request has none; \
             the next request will be anonymous (is `{CONFIG_TABLE}.login_cookies` spelled as your cookies?)",
            req.uri().path(),
            config.login_cookies
        );
    }
    let stamp_same_site = config.same_site.attribute();
    for (name, same_site) in config.login_cookies.iter().zip(left.same_sites) {
        // Rocket's jar makes a cookie without SameSite `Strict`.
        let looser = same_site.filter(|&s| stamp_same_site == SameSite::Strict && s != SameSite::Strict);
        if let Some(same_site) = looser {
            log::warn!(
                "login cookie {name:?} is SameSite={same_site} but the stamp is Strict: a link from another \
                 site carries the login cookie without the stamp, which signs the person out; \
                 set `{CONFIG_TABLE}.same_site` to match"
            );
        }
    }
}

/// Carries out `effect`. Rocket has already turned the jar into headers, so
/// cookies are written as headers; the rest goes to the revocation service
/// and the audit trail.
fn apply(
    effect: Effect,
    req: &Request<'_>,
    res: &mut Response<'_>,
    shared: &Shared,
    runtime: &Runtime,
    timeouts: &Timeouts,
) {
    let config = &shared.config;
    if let Some(ended) = effect.ends {
        let (id, person) = (SessionId::from_u64(ended.session_id), PersonKey::from_bytes(ended.person_tag));
        let revocation = shared.revocations.end_session(id, person, ended.signed_in_at, timeouts);
        shared.audit(req, SessionEvent::Revoked(revocation));
    }
    match effect.stamp {
        StampEffect::Keep => {}
        StampEffect::Write(stamp) => res.adjoin_header(runtime.stamp_header(stamp)),
        StampEffect::RemoveAll => {
            res.adjoin_header(removal(&config.cookie_name, runtime.secure, None));
            let domain = config.login_cookie_domain.as_deref();
            for name in &config.login_cookies {
                if !sets_cookie(res, name) {
                    res.adjoin_header(removal(name, runtime.secure, domain));
                }
            }
        }
    }
    match effect.list {
        ListEffect::None => {}
        ListEffect::Started(stamp) => shared.revocations.started(SessionRecord {
            id: SessionId::from_u64(stamp.session_id),
            person: PersonKey::from_bytes(stamp.person_tag),
            signed_in: stamp.signed_in_at,
            last_seen: stamp.last_activity,
            user_agent: describe_user_agent(req.headers().get_one("User-Agent")),
            until: stamp.last_activity + i64::from(stamp.timeouts.expire_after),
        }),
        // Off the request's path: the service batches it.
        ListEffect::Seen { session_id, at, until } => {
            shared.revocations.seen(SessionId::from_u64(session_id), at, until)
        }
    }
    if let Some(event) = effect.event {
        shared.audit(req, event);
    }
    if effect.no_store {
        res.set_header(no_store());
    }
}

#[rocket::async_trait]
impl Fairing for SessionSecurity {
    fn info(&self) -> Info {
        Info {
            name: "Session Security",
            kind: Kind::Ignite | Kind::Liftoff | Kind::Request | Kind::Response | Kind::Shutdown | Kind::Singleton,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        let config = match &self.config {
            Some(config) => config.clone(),
            None => match rocket.figment().focus(CONFIG_TABLE).extract::<Config>() {
                Ok(mut config) => {
                    // A profile supplies the timing keys the configuration leaves unset.
                    let table = rocket.figment().focus(CONFIG_TABLE);
                    config.fill_profile_timing(|key| table.contains(key));
                    config
                }
                Err(e) => {
                    log::error!("invalid [{CONFIG_TABLE}] configuration");
                    rocket::config::pretty_print_error(e);
                    return Err(rocket);
                }
            },
        };
        // Under Rocket's own TLS the session's cookies are always `Secure`.
        let mut config = config;
        config.secure |= rocket.figment().extract::<rocket::Config>().is_ok_and(|c| c.tls_enabled());
        if let Err(e) = config.validate() {
            log::error!("invalid configuration: {e}");
            return Err(rocket);
        }
        let base = config.base.clone();
        let revocations = match self.start_revocations(&config).await {
            Ok(revocations) => revocations,
            Err(e) => {
                log::error!("{e}");
                return Err(rocket);
            }
        };
        let shared = Arc::new(Shared::new(config, self.clock.clone(), self.audit_hook.clone(), revocations));
        if self.shared.set(shared.clone()).is_err() {
            log::error!("SessionSecurity was ignited twice");
            return Err(rocket);
        }
        let routes = crate::ping::routes().into_iter().chain(crate::assets::routes()).collect::<Vec<_>>();
        // The crate answers its guards' refusals where the app has no 401 catcher of its own.
        let catchers = rejection_catchers(&rocket);
        Ok(rocket.manage(shared).mount(base, routes).register("/", catchers))
    }

    async fn on_shutdown(&self, _: &Rocket<Orbit>) {
        // Revocations not yet in the store go there before the process ends.
        let Some(shared) = self.shared.get() else { return };
        match tokio::time::timeout(std::time::Duration::from_secs(5), shared.revocations.flush()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => log::error!("{CONFIG_TABLE}.revocations: not written at shutdown: {e}"),
            Err(_) => log::error!("{CONFIG_TABLE}.revocations: the store did not answer within 5 s at shutdown"),
        }
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
        log::info!("{}", c.compliance_summary());
        for warning in c.warnings() {
            log::warn!("{warning}");
        }
        // As Shield: every profile but debug is production.
        if !c.secure && !rocket.config().tls_enabled() && rocket.config().profile != rocket::Config::DEBUG_PROFILE {
            log::warn!(
                "{CONFIG_TABLE}: profile {} runs without TLS and secure = false: the stamp cookie is sent over \
                 plain HTTP (set secure = true behind a TLS proxy)",
                rocket.config().profile
            );
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        let Some(shared) = self.shared.get() else { return };
        let runtime = shared.runtime(req.rocket());
        let config = &shared.config;
        // One pass over the request's cookies (a jar holds each name once)
        // instead of a hashed lookup per name.
        let mut stamp_value = None;
        let mut login_values: LoginValues<'_> = [None; MAX_LOGIN_COOKIES];
        for cookie in req.cookies().iter() {
            let name = cookie.name();
            if name == config.cookie_name {
                stamp_value = Some(cookie.value());
            } else if let Some(i) = config.login_cookies.iter().position(|n| n == name) {
                login_values[i] = Some(cookie.value());
            }
        }
        let stamp = match stamp_value {
            None => StampCookie::Absent,
            Some(value) => match runtime.codec.open(value) {
                Ok(stamp) => StampCookie::Present(stamp),
                Err(e) => StampCookie::Unreadable(e),
            },
        };
        let login = check_login(runtime, config, &stamp, &login_values);
        let now = shared.clock.now_unix();
        store_request_session(req, RequestSession::new(stamp, login, now));
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let Some(shared) = self.shared.get() else { return };
        let Some(session) = request_session(req) else { return };
        let runtime = shared.runtime(req.rocket());
        let decided = session.decided(req, shared);
        let record = Record {
            action: session.action(),
            decided,
            login: session.login,
            arrived_at: session.arrived_at,
            merged_activity: session.merged_activity(),
            closing_at: session.closing_at(),
            protected: session.is_protected(),
            refused: session.rejection().is_some(),
            login_cookies_configured: !shared.config.login_cookies.is_empty(),
        };
        let facts = response_facts(req, res, shared, runtime, &record);
        let fresh_id = match record.action {
            Action::SignIn { .. } => SessionId::random().as_u64(),
            _ => 0,
        };
        apply(decide(&record, &facts, fresh_id), req, res, shared, runtime, &decided.timeouts);
    }
}
