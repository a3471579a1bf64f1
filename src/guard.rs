//! Request guards: [`ActiveSession`] lets only active sessions through, and
//! [`SessionTracker`] is what login and logout handlers call.

use std::sync::Arc;

use rocket::http::Status;
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};
use rocket::{Ignite, Rocket, Sentinel};
use time::OffsetDateTime;

use crate::context::{request_context, Rejection, RequestSession, Shared};
use crate::http::accept_language;
use crate::i18n::Language;
use crate::revocation::{PersonKey, Revocation, SessionId, SessionRecord, StoreError};
use crate::snippet::Snippet;
use crate::stamp::PersonTag;
use crate::timing::{Timeouts, TimingError};
use crate::verdict::{ExpiryReason, Verdict};

/// A request guard that succeeds only for a signed-in session that is within
/// its idle and absolute limits and bound to the login cookies it came with.
///
/// # When it refuses
///
/// | the request's session | outcome | when no other route answers |
/// |---|---|---|
/// | nobody signed in | `Forward(401)`: a `rank = 2` route of the same path takes it | the login redirect or JSON 401 below |
/// | expired (idle, absolute, invalid) | `Error(401)`, cookies removed, audited | the login redirect (with a flash message) or JSON 401 |
///
/// The crate then answers for you:
/// * a **page navigation** gets `303 See Other` to `login_url?next=<path>`
///   (always a local path) and, for an expiry, a Rocket flash message (read
///   it with `Option<FlashMessage>` on the login page; kind
///   `session_security:idle`, `…:absolute` or `…:invalid`, text in the
///   user's language);
/// * an **API call** gets `401` with `{"error":"not_signed_in"}` or
///   `{"error":"session_expired","reason":"idle"}`.
///
/// A request is an API call when any of these holds:
///
/// | header | value |
/// |---|---|
/// | `X-Requested-With` | any (jQuery, the crate's own script) |
/// | `Sec-Fetch-Mode` | anything but `navigate` (`fetch()`, XHR from modern browsers) |
/// | `Accept` | has `application/json` and not `text/html` |
///
/// The crate's 401 catcher gives that answer. If the app registered its own
/// `#[catch(401)]` for the path, that catcher answers instead, and gives the
/// crate's answer with [`SessionRejection::of`](crate::SessionRejection::of)
/// (the crate removes an expired session's cookies either way). A response
/// a handler wrote itself is never changed.
///
/// Pages it guards are sent with `Cache-Control: no-store` (unless the handler
/// set its own), so the back button after expiry shows nothing.
///
/// ```
/// # #[macro_use] extern crate rocket;
/// use rocket::response::Redirect;
/// use rocket_session_security::ActiveSession;
///
/// #[get("/reports")]
/// fn reports(session: ActiveSession) -> String {
///     format!("idle for {} s, warning in {} s", session.idle_for(), session.warns_in())
/// }
///
/// // Nobody signed in: Rocket's usual fallback.
/// #[get("/reports", rank = 2)]
/// fn reports_signed_out() -> Redirect {
///     Redirect::to("/welcome")
/// }
/// ```
#[derive(Clone)]
pub struct ActiveSession {
    idle: u32,
    /// Whole seconds since the sign-in, at this request.
    age: u32,
    id: SessionId,
    signed_in_at: i64,
    person_tag: PersonTag,
    timeouts: Timeouts,
    language: Language,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ActiveSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActiveSession")
            .field("idle", &self.idle)
            .field("signed_in_at", &self.signed_in_at)
            .field("timeouts", &self.timeouts)
            .field("language", &self.language)
            .finish_non_exhaustive()
    }
}

impl ActiveSession {
    /// Whole seconds since the last activity the server saw, before this request.
    pub fn idle_for(&self) -> u32 {
        self.idle
    }

    /// Seconds until the browser warns, if nothing happens.
    pub fn warns_in(&self) -> u32 {
        self.timeouts.warn_after.saturating_sub(self.idle)
    }

    /// Seconds until the session expires, if nothing happens.
    pub fn expires_in(&self) -> u32 {
        self.timeouts.expire_after.saturating_sub(self.idle)
    }

    /// The session's id: made at sign-in, what the sessions list shows and
    /// [`SessionTracker::end`] takes.
    pub fn id(&self) -> SessionId {
        self.id
    }

    /// When the person signed in (UTC).
    pub fn signed_in_at(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.signed_in_at).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// This session's own timing: the one it was signed in with (sealed in
    /// its stamp, see [`SessionTracker::sign_in_with`]), held to the
    /// configured limits. The same on every route, in the ping and in the
    /// snippet.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// Whole seconds since the person signed in (or signed in again).
    pub fn signed_in_for(&self) -> u32 {
        self.age
    }

    /// Whether the person signed in less than `seconds` ago: what a
    /// sensitive action asks (see [`RecentSignIn`] for the guard).
    ///
    /// ```
    /// # #[macro_use] extern crate rocket;
    /// use rocket::http::Status;
    /// use rocket_session_security::ActiveSession;
    ///
    /// #[post("/payouts")]
    /// fn payouts(session: ActiveSession) -> Result<&'static str, Status> {
    ///     if !session.signed_in_within(300) {
    ///         return Err(Status::Forbidden); // or a page that asks for the password
    ///     }
    ///     Ok("paid")
    /// }
    /// ```
    pub fn signed_in_within(&self, seconds: u32) -> bool {
        self.age < seconds
    }

    /// The language of the warning texts: the `language` setting, else the
    /// request's `Accept-Language`, else English.
    pub fn language(&self) -> Language {
        self.language
    }

    /// An opaque value that is the same for every sign-in of the same person
    /// and different for anyone else (a keyed digest of the login cookies'
    /// decrypted values, never the values); `""` without `login_cookies`.
    /// The browser script gets it to tell "the same person signed in again"
    /// from "someone else did".
    pub fn person(&self) -> String {
        self.shared.binder().map(|b| b.browser_tag(&self.person_tag)).unwrap_or_default()
    }

    /// The browser snippet for this session (its own timing and language):
    /// put `to_string()` in any page, or give it to Tera as
    /// `session_security`. See [`Snippet`].
    pub fn snippet(&self) -> Snippet {
        let draft_key = self.shared.binder().and_then(|b| b.draft_key(&self.person_tag));
        Snippet::new(&self.shared.config, self.timeouts, self.language, self.person()).with_draft_key(draft_key)
    }
}

/// Why [`ActiveSession`] refused a request: the error of the guard, for
/// handlers that take `Result<ActiveSession, SessionRejected>`. A request
/// with nobody signed in is not an error but a forward (Rocket keeps it a
/// forward through `Result`); take `Option<ActiveSession>` to see both as
/// `None`, or add a `rank = 2` route.
///
/// ```
/// # #[macro_use] extern crate rocket;
/// use rocket_session_security::{ActiveSession, ExpiryReason, SessionRejected};
///
/// #[get("/maybe")]
/// fn maybe(session: Result<ActiveSession, SessionRejected>) -> &'static str {
///     match session {
///         Ok(_) => "welcome back",
///         Err(SessionRejected::Expired(ExpiryReason::Idle)) => "you were away too long",
///         Err(_) => "please sign in again",
///     }
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionRejected {
    /// The session is over.
    Expired(ExpiryReason),
    /// The session is active, but the route ([`RecentSignIn`]) asks for a
    /// more recent sign-in. The session is not ended.
    ReauthenticationRequired,
    /// The `SessionSecurity` fairing is not attached (the sentinel stops
    /// such an app at launch; seen only with sentinels turned off).
    NotConfigured,
}

/// Notes that a guard refused this request, and why: if the request ends
/// in a 401 catcher, [`SessionRejection`](crate::SessionRejection) answers it.
fn reject(session: &RequestSession, why: Rejection) {
    session.mark_rejected(why);
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ActiveSession {
    type Error = SessionRejected;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        let Some((session, shared)) = request_context(req, "ActiveSession") else {
            return Outcome::Error((Status::InternalServerError, SessionRejected::NotConfigured));
        };
        let decided = session.decided(req, shared);
        match decided.verdict {
            Verdict::Active { stamp, idle } => {
                session.mark_protected();
                Outcome::Success(ActiveSession {
                    idle,
                    age: session.arrived_at.saturating_sub(stamp.signed_in_at).clamp(0, i64::from(u32::MAX)) as u32,
                    id: SessionId::from_u64(stamp.session_id),
                    signed_in_at: stamp.signed_in_at,
                    person_tag: stamp.person_tag,
                    timeouts: decided.timeouts,
                    language: shared.config.language.unwrap_or_else(|| accept_language(req)),
                    shared: shared.clone(),
                })
            }
            Verdict::Anonymous => {
                reject(session, Rejection::Session);
                Outcome::Forward(Status::Unauthorized)
            }
            Verdict::Expired(reason) => {
                reject(session, Rejection::Session);
                Outcome::Error((Status::Unauthorized, SessionRejected::Expired(reason)))
            }
        }
    }
}

/// Stops the launch, with a message, when a route needs the fairing and it
/// is not attached.
fn fairing_missing(rocket: &Rocket<Ignite>, guard: &str) -> bool {
    let missing = rocket.state::<Arc<Shared>>().is_none();
    if missing {
        log::error!("a route uses `{guard}`, but `SessionSecurity::fairing()` is not attached");
        log::error!("attach it: `rocket::build().attach(rocket_session_security::SessionSecurity::fairing())`");
    }
    missing
}

impl Sentinel for ActiveSession {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        fairing_missing(rocket, "ActiveSession")
    }
}

/// A request guard for sensitive actions: an [`ActiveSession`] whose person
/// signed in less than `WITHIN` seconds ago (OWASP ASVS 5.0 7.5.1 and 7.5.3:
/// authenticate again before changing what protects the account, or before
/// a highly sensitive transaction).
///
/// | the request's session | outcome |
/// |---|---|
/// | signed in less than `WITHIN` s ago | `Success`: derefs to the [`ActiveSession`] |
/// | active, signed in longer ago | `Error(401, ReauthenticationRequired)`: a page goes `303` to `login_url?next=<path>` with the flash `session_security:reauthenticate`, an API call gets `401 {"error":"reauthentication_required"}`; the session is **not** ended |
/// | not active | what [`ActiveSession`] does |
///
/// The login form, submitted again by the *same* person while the session
/// is active, renews it: [`SessionTracker::sign_in`] keeps the session (its
/// id, every open tab) and restarts its sign-in time, so the idle and the
/// absolute limit start again, and `next` brings the person back. Someone
/// else signing in starts a new session.
///
/// ```
/// # #[macro_use] extern crate rocket;
/// use rocket_session_security::RecentSignIn;
///
/// /// Only within 5 minutes of signing in.
/// #[post("/account/email")]
/// fn change_email(session: RecentSignIn<300>) -> String {
///     format!("signed in {} s ago", session.signed_in_for())
/// }
/// ```
#[derive(Debug, Clone)]
pub struct RecentSignIn<const WITHIN: u32>(ActiveSession);

impl<const WITHIN: u32> std::ops::Deref for RecentSignIn<WITHIN> {
    type Target = ActiveSession;

    fn deref(&self) -> &ActiveSession {
        &self.0
    }
}

impl<const WITHIN: u32> RecentSignIn<WITHIN> {
    /// The active session.
    pub fn into_inner(self) -> ActiveSession {
        self.0
    }
}

#[rocket::async_trait]
impl<'r, const WITHIN: u32> FromRequest<'r> for RecentSignIn<WITHIN> {
    type Error = SessionRejected;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        match ActiveSession::from_request(req).await {
            Outcome::Success(session) if session.signed_in_within(WITHIN) => Outcome::Success(RecentSignIn(session)),
            Outcome::Success(_) => {
                if let Some(record) = crate::context::request_session(req) {
                    reject(record, Rejection::SignInTooOld);
                }
                Outcome::Error((Status::Unauthorized, SessionRejected::ReauthenticationRequired))
            }
            Outcome::Forward(status) => Outcome::Forward(status),
            Outcome::Error(e) => Outcome::Error(e),
        }
    }
}

impl<const WITHIN: u32> Sentinel for RecentSignIn<WITHIN> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        fairing_missing(rocket, "RecentSignIn")
    }
}

/// The guard a login handler uses to start tracking a sign-in, and a logout
/// handler to end it. The stamp is written (or removed) on this response.
///
/// Call [`sign_in`](Self::sign_in) in the handler that sets your login
/// cookies: the stamp is bound to them as the response leaves them.
///
/// ```
/// # #[macro_use] extern crate rocket;
/// use rocket::http::CookieJar;
/// use rocket::response::Redirect;
/// use rocket_session_security::SessionTracker;
///
/// #[post("/login")]
/// fn login(jar: &CookieJar<'_>, tracker: SessionTracker<'_>) -> Redirect {
///     // ... check the password ...
///     jar.add_private(("user_id", "42"));
///     tracker.sign_in();
///     Redirect::to("/")
/// }
///
/// #[post("/logout")]
/// fn logout(tracker: SessionTracker<'_>) -> Redirect {
///     tracker.sign_out(); // also removes every cookie in `login_cookies`
///     Redirect::to("/login")
/// }
///
/// #[get("/whoami")]
/// fn whoami(tracker: SessionTracker<'_>) -> &'static str {
///     if tracker.is_signed_in() { "an active session" } else { "nobody, or expired" }
/// }
/// ```
pub struct SessionTracker<'r> {
    req: &'r Request<'r>,
    session: &'r RequestSession,
    shared: &'r Shared,
}

impl std::fmt::Debug for SessionTracker<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Only what is already decided: formatting never decides (nor audits) an expiry.
        f.debug_struct("SessionTracker")
            .field("verdict", &self.session.decided_yet().map(|d| d.verdict))
            .field("action", &self.session.action())
            .finish()
    }
}

impl SessionTracker<'_> {
    /// Signs the person in with the configured timing: sign-in time and last
    /// activity are now, bound to the login cookies as this response leaves
    /// them.
    ///
    /// * When this request has an active session of the **same person**
    ///   (re-authentication, e.g. after [`RecentSignIn`] asked for it), the
    ///   session goes on: same id, every tab stays signed in, and its sign-in
    ///   time restarts (so do the idle and the absolute limit).
    /// * Otherwise a new session starts; an active session of someone else
    ///   in this browser is ended (revoked). Without `login_cookies` nobody
    ///   can be told apart, so every sign-in is a new session.
    ///
    /// Logs a warning when the response sets none of the configured
    /// `login_cookies` (a typo there would otherwise bounce every sign-in
    /// back to the login page).
    pub fn sign_in(&self) {
        self.session.sign_in(self.shared.clock.now_unix(), self.shared.config.timeouts());
    }

    /// Signs the person in as [`sign_in`](Self::sign_in) does, with a timing
    /// of the app's for this session (shorter for administrators, say). It
    /// is sealed into the stamp: every route, the ping and the browser use
    /// it until the session ends.
    ///
    /// Refused (nobody is signed in, the error names the key) when it breaks
    /// [`Timeouts::validate`], leaves less than 20 s to respond to the
    /// warning (WCAG 2.2.1, unless `wcag_timing_check = false`), breaks the
    /// configured [`Profile`](crate::Profile), or is longer than the
    /// configured timing anywhere: the configuration is the longest any
    /// session may have.
    ///
    /// ```
    /// # #[macro_use] extern crate rocket;
    /// use rocket::http::{CookieJar, Status};
    /// use rocket_session_security::{SessionTracker, Timeouts};
    ///
    /// #[post("/login/admin")]
    /// fn admin_login(jar: &CookieJar<'_>, tracker: SessionTracker<'_>) -> Result<&'static str, Status> {
    ///     // ... check the password ...
    ///     jar.add_private(("user_id", "1"));
    ///     let configured = tracker.configured_timeouts();
    ///     let short = Timeouts { warn_after: 240, expire_after: 300, ..configured };
    ///     tracker.sign_in_with(short).map_err(|_| Status::InternalServerError)?;
    ///     Ok("welcome")
    /// }
    /// ```
    pub fn sign_in_with(&self, timeouts: Timeouts) -> Result<(), TimingError> {
        let config = &self.shared.config;
        if let Err(e) = config.timing_rules().check_session(&timeouts, &config.timeouts()) {
            log::error!("sign_in_with() at {}: refused, {e}", self.req.uri().path());
            return Err(e);
        }
        self.session.sign_in(self.shared.clock.now_unix(), timeouts);
        Ok(())
    }

    /// The configured timing: what [`sign_in`](Self::sign_in) gives a
    /// session, and the longest [`sign_in_with`](Self::sign_in_with) accepts.
    pub fn configured_timeouts(&self) -> Timeouts {
        self.shared.config.timeouts()
    }

    /// Ends the session for good: revokes it (a copy of its cookies is
    /// refused from now on, on every instance, also after a restart), and
    /// removes the stamp and every cookie in `login_cookies` that this
    /// response does not set again.
    pub fn sign_out(&self) {
        self.revoke_this();
        self.session.sign_out();
    }

    /// Whether the request came with an active session (what
    /// [`ActiveSession`] would let through), whatever this handler asks next.
    pub fn is_signed_in(&self) -> bool {
        matches!(self.session.decided(self.req, self.shared).verdict, Verdict::Active { .. })
    }

    /// The active session's stamp and timing, if any.
    fn active(&self) -> Option<(crate::stamp::Stamp, Timeouts)> {
        let decided = self.session.decided(self.req, self.shared);
        match decided.verdict {
            Verdict::Active { stamp, .. } => Some((stamp, decided.timeouts)),
            _ => None,
        }
    }

    fn audit_revocation(&self, revocation: Revocation) {
        self.shared.audit(self.req, crate::context::SessionEvent::Revoked(revocation));
    }

    /// Ends this session for good: a copy of its cookies is refused from
    /// now on, on every instance (the revocation reaches the others through
    /// the store), and this response removes its cookies. The same as
    /// [`sign_out`](Self::sign_out).
    fn revoke_this(&self) {
        if let Some((stamp, timeouts)) = self.active() {
            let id = SessionId::from_u64(stamp.session_id);
            let person = PersonKey::from_bytes(stamp.person_tag);
            let revocation = self.shared.revocations.end_session(id, person, stamp.signed_in_at, &timeouts);
            self.audit_revocation(revocation);
        }
    }

    /// Ends every session of this person, this one included, on every
    /// device ("sign out everywhere"); this response removes this browser's
    /// cookies. The person can sign in again at once.
    pub fn sign_out_everywhere(&self) {
        if let Some((stamp, _)) = self.active() {
            self.revoke_this();
            let revocation = self.shared.revocations.end_person(PersonKey::from_bytes(stamp.person_tag), None);
            self.audit_revocation(revocation);
        }
        self.session.sign_out();
    }

    /// Ends every *other* session of this person (after a password change,
    /// say); this one stays signed in. `false` when there is no active
    /// session to keep.
    pub fn sign_out_others(&self) -> bool {
        let Some((stamp, _)) = self.active() else { return false };
        let (person, id) = (PersonKey::from_bytes(stamp.person_tag), SessionId::from_u64(stamp.session_id));
        let revocation = self.shared.revocations.end_person(person, Some(id));
        self.audit_revocation(revocation);
        true
    }

    /// This person's sessions signed in and not ended, oldest first, this
    /// one marked `current` (empty without an active session). Read from the
    /// revocation store: `last_seen` is exact to within a minute.
    pub async fn sessions(&self) -> Result<Vec<ListedSession>, StoreError> {
        let Some((stamp, _)) = self.active() else { return Ok(Vec::new()) };
        let current = SessionId::from_u64(stamp.session_id);
        let list = self.shared.revocations.sessions(PersonKey::from_bytes(stamp.person_tag)).await?;
        Ok(list.into_iter().map(|record| ListedSession::new(record, current)).collect())
    }

    /// Ends one of this person's sessions (from [`sessions`](Self::sessions));
    /// `Ok(false)` when `id` is none of theirs (someone else's is never
    /// ended). Ending the current one is a sign-out.
    pub async fn end(&self, id: SessionId) -> Result<bool, StoreError> {
        let Some((stamp, _)) = self.active() else { return Ok(false) };
        if id.as_u64() == stamp.session_id {
            self.sign_out();
            return Ok(true);
        }
        let person = PersonKey::from_bytes(stamp.person_tag);
        let Some(record) = self.shared.revocations.sessions(person).await?.into_iter().find(|s| s.id == id) else {
            return Ok(false);
        };
        // Its own timing is in its stamp, which is not here: the configured one is the longest it can be.
        let configured = self.shared.config.timeouts();
        let revocation = self.shared.revocations.end_session(id, person, record.signed_in, &configured);
        self.audit_revocation(revocation);
        Ok(true)
    }
}

/// A session id in a route, `<id>`: 16 hexadecimal digits (anything else
/// does not match the route).
impl<'a> rocket::request::FromParam<'a> for SessionId {
    type Error = String;

    fn from_param(param: &'a str) -> Result<SessionId, String> {
        param.parse()
    }
}

/// One of a person's sessions, as [`SessionTracker::sessions`] lists them.
#[derive(Debug, Clone, PartialEq, Eq, rocket::serde::Serialize)]
#[serde(crate = "rocket::serde")]
#[non_exhaustive]
pub struct ListedSession {
    /// Its id (16 hexadecimal digits in JSON).
    #[serde(serialize_with = "as_text")]
    pub id: SessionId,
    /// The session this request belongs to.
    pub current: bool,
    /// When the person signed in (Unix seconds).
    pub signed_in: i64,
    /// Its last activity, to within a minute (Unix seconds).
    pub last_seen: i64,
    /// A short description of its browser, e.g. "Firefox on Linux".
    pub user_agent: String,
}

fn as_text<S: rocket::serde::Serializer>(id: &SessionId, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(id)
}

impl ListedSession {
    fn new(record: SessionRecord, current: SessionId) -> ListedSession {
        ListedSession {
            id: record.id,
            current: record.id == current,
            signed_in: record.signed_in,
            last_seen: record.last_seen,
            user_agent: record.user_agent,
        }
    }
}

/// For the app's administrators: end every session of a person, or of
/// everyone. A request guard; protect the route with your own admin check.
///
/// ```
/// # #[macro_use] extern crate rocket;
/// use rocket_session_security::SessionAdmin;
///
/// // Your own guard must make sure only administrators get here.
/// #[post("/admin/users/<name>/disable")]
/// fn disable(name: &str, admin: SessionAdmin<'_>) -> &'static str {
///     // The value your login handler put in its private cookie "user".
///     match admin.end_sessions_of(&[("user", name)]) {
///         Ok(_) => "signed out everywhere",
///         Err(_) => "no such login cookie",
///     }
/// }
///
/// #[post("/admin/everyone/sign-out")]
/// fn everyone(admin: SessionAdmin<'_>) -> &'static str {
///     admin.end_everyone();
///     "everyone is signed out"
/// }
/// ```
pub struct SessionAdmin<'r> {
    req: &'r Request<'r>,
    shared: &'r Shared,
}

impl std::fmt::Debug for SessionAdmin<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionAdmin").field("revocations", &self.shared.revocations).finish()
    }
}

impl SessionAdmin<'_> {
    /// Ends every session (on every instance) of the person whose login
    /// cookies hold these values: `(cookie name, value)` for each of the
    /// `login_cookies` the app sets, each value as the app put it into its
    /// *private* cookie (the `add_private` plaintext). The error names a
    /// cookie that is not in `login_cookies`.
    pub fn end_sessions_of(&self, login_values: &[(&str, &str)]) -> Result<Revocation, String> {
        let names = &self.shared.config.login_cookies;
        let mut identities = Vec::with_capacity(login_values.len());
        for (name, value) in login_values {
            let index = names
                .iter()
                .position(|n| n == name)
                .ok_or_else(|| format!("{name:?} is not one of login_cookies {names:?}"))?;
            identities.push((index, crate::binding::private_identity(value)));
        }
        identities.sort_by_key(|(i, _)| *i);
        let binder = self.shared.binder().ok_or("the app has not served a request yet")?;
        let tag = binder.person_tag(identities.iter().map(|(i, v)| (*i, v.as_slice())));
        let revocation = self.shared.revocations.end_person(PersonKey::from_bytes(tag), None);
        self.shared.audit(self.req, crate::context::SessionEvent::Revoked(revocation));
        Ok(revocation)
    }

    /// Ends every session of everyone signed in until now, on every instance.
    pub fn end_everyone(&self) -> Revocation {
        let revocation = self.shared.revocations.end_everyone();
        self.shared.audit(self.req, crate::context::SessionEvent::Revoked(revocation));
        revocation
    }

    /// How many revocations this instance holds in memory.
    pub fn revocations_held(&self) -> usize {
        self.shared.revocations.held()
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SessionAdmin<'r> {
    type Error = SessionRejected;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        match request_context(req, "SessionAdmin") {
            Some((_, shared)) => Outcome::Success(SessionAdmin { req, shared }),
            None => Outcome::Error((Status::InternalServerError, SessionRejected::NotConfigured)),
        }
    }
}

impl Sentinel for SessionAdmin<'_> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        fairing_missing(rocket, "SessionAdmin")
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SessionTracker<'r> {
    type Error = SessionRejected;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        match request_context(req, "SessionTracker") {
            Some((session, shared)) => Outcome::Success(SessionTracker { req, session, shared }),
            None => Outcome::Error((Status::InternalServerError, SessionRejected::NotConfigured)),
        }
    }
}

impl Sentinel for SessionTracker<'_> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        fairing_missing(rocket, "SessionTracker")
    }
}
