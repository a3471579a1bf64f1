//! Helpers for your app's own `rocket::local` tests: check that its pages
//! expire, without sleeping.
//!
//! Two ways, usable together:
//!
//! * give the fairing a [`ManualClock`](crate::ManualClock) and move it;
//! * hand a request a session of your choosing with [`session`]: the login
//!   cookies *and* a stamp bound to them (a stamp alone reads as anonymous,
//!   so a test of "expired → login redirect" could pass with expiry broken;
//!   the builder refuses to make one unless asked to), and read the stamp a
//!   response sets with [`read_stamp`].
//!
//! The whole set-up the crate's own tests use: a fixed `secret_key` (so
//! private cookies of one test read the same in the next), `log_level =
//! "off"`, the configuration given in code, and a manual clock.
//!
//! ```
//! # #[macro_use] extern crate rocket;
//! use rocket::http::{CookieJar, Status};
//! use rocket::local::blocking::Client;
//! use rocket_session_security::{testing, ActiveSession, Config, ManualClock, SessionSecurity, SessionTracker};
//!
//! #[get("/reports")]
//! fn reports(_session: ActiveSession) -> &'static str { "numbers" }
//!
//! #[post("/login")]
//! fn login(jar: &CookieJar<'_>, tracker: SessionTracker<'_>) {
//!     jar.add_private(("user_id", "42"));
//!     tracker.sign_in()
//! }
//!
//! let clock = ManualClock::new(1_800_000_000);
//! let config = Config { login_cookies: vec!["user_id".into()], ..Config::default() };
//! let figment = rocket::Config::figment()
//!     .merge(("secret_key", "hPRYyVRiMyxpw5sBB1XeCMN1kFsDCqKvBi2QJxBVHQk="))
//!     .merge(("log_level", "off"));
//! let rocket = rocket::custom(figment)
//!     .attach(SessionSecurity::with_config(config).clock(clock.clone()))
//!     .mount("/", routes![reports, login]);
//! let client = Client::tracked(rocket).unwrap();
//!
//! // Through the app's own sign-in, then time passes:
//! client.post("/login").dispatch();
//! clock.advance(599);
//! assert_eq!(client.get("/reports").dispatch().status(), Status::Ok);
//! clock.advance(600);
//! assert_eq!(client.get("/reports").dispatch().status(), Status::SeeOther);
//!
//! // Or with a session made for the test: signed in an hour ago, idle for 10 minutes.
//! let now = 1_800_000_000 + 1199;
//! let stale = testing::session(client.rocket())
//!     .private_login_cookie("user_id", "42")
//!     .signed_in_at(now - 3600)
//!     .last_activity(now - 600)
//!     .cookies();
//! let res = client.get("/reports").cookies(stale).dispatch();
//! assert_eq!(res.status(), Status::SeeOther);
//! assert_eq!(res.headers().get_one("Location"), Some("/login?next=/reports"));
//!
//! // A fresh one is re-issued with this request's time as the last activity.
//! let fresh = testing::session(client.rocket())
//!     .private_login_cookie("user_id", "42")
//!     .signed_in_at(now - 3600)
//!     .last_activity(now - 10)
//!     .cookies();
//! let res = client.get("/reports").cookies(fresh).dispatch();
//! let stamp = res.cookies().get("session_security").and_then(|c| testing::read_stamp(client.rocket(), c.value()));
//! assert_eq!(stamp.map(|s| (s.signed_in_at(), s.last_activity())), Some((now - 3600, now)));
//! ```

use rocket::http::Cookie;
use rocket::{Orbit, Rocket};

use crate::binding::{LoginValues, MAX_LOGIN_COOKIES};
use crate::context::{launched, Runtime, Shared};
use crate::stamp::Stamp as Sealed;

/// What a stamp says, for a test to check: read with [`read_stamp`], or
/// from [`TestSession::stamp`]. A read-only view: the wire format stays the
/// crate's (it may change in any release).
///
/// ```
/// # use rocket_session_security::{testing, Config, SessionSecurity};
/// let config = Config { login_cookies: vec!["user".into()], ..Config::default() };
/// let rocket = rocket::build().attach(SessionSecurity::with_config(config));
/// let client = rocket::local::blocking::Client::untracked(rocket).unwrap();
/// let stamp = testing::session(client.rocket()).private_login_cookie("user", "7").signed_in_at(100).stamp();
/// assert_eq!((stamp.signed_in_at(), stamp.last_activity()), (100, 100));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp(Sealed);

impl Stamp {
    /// When the person signed in (Unix seconds).
    pub fn signed_in_at(&self) -> i64 {
        self.0.signed_in_at
    }

    /// The most recent activity the server had seen when it sealed this.
    pub fn last_activity(&self) -> i64 {
        self.0.last_activity
    }

    /// The session's id: what a revocation of it names.
    pub fn session_id(&self) -> crate::SessionId {
        crate::SessionId::from_u64(self.0.session_id)
    }

    /// The session's own timing, chosen at sign-in.
    pub fn timeouts(&self) -> crate::Timeouts {
        self.0.timeouts
    }

    /// Whether two stamps are bound to the same person (their person tags agree).
    pub fn same_person_as(&self, other: &Stamp) -> bool {
        self.0.person_tag == other.0.person_tag
    }
}

/// A session for a test request: login cookies and a stamp bound to them.
/// Start one with [`session`].
///
/// ```
/// # #[macro_use] extern crate rocket;
/// use rocket::local::blocking::Client;
/// use rocket_session_security::{testing, ActiveSession, Config, SessionSecurity};
///
/// #[get("/")]
/// fn page(_s: ActiveSession) -> &'static str { "private" }
///
/// let config = Config { login_cookies: vec!["user_id".into()], ..Config::default() };
/// let client = Client::untracked(
///     rocket::build().attach(SessionSecurity::with_config(config)).mount("/", routes![page]),
/// ).unwrap();
/// let cookies = testing::session(client.rocket()).private_login_cookie("user_id", "42").cookies();
/// assert_eq!(client.get("/").cookies(cookies).dispatch().into_string().as_deref(), Some("private"));
/// ```
///
/// # Panics
///
/// [`cookies`](Self::cookies) panics on a test set-up mistake: a login
/// cookie not listed in `login_cookies`, or no login cookie while
/// `login_cookies` is configured (unless [`stamp_only`](Self::stamp_only)).
#[must_use = "call .cookies() and send them"]
pub struct TestSession<'a> {
    shared: &'a Shared,
    runtime: &'a Runtime,
    login: Vec<Cookie<'static>>,
    signed_in_at: i64,
    last_activity: Option<i64>,
    stamp_only: bool,
    session_id: u64,
    timeouts: Option<crate::Timeouts>,
}

/// Starts a [`TestSession`] for `rocket` (which must have
/// [`SessionSecurity`](crate::SessionSecurity) attached), signed in and
/// active now by the fairing's clock unless told otherwise.
///
/// # Panics
///
/// If `rocket` does not have the fairing attached: a test set-up mistake.
pub fn session(rocket: &Rocket<Orbit>) -> TestSession<'_> {
    let (shared, runtime) = launched(rocket).expect("testing::session needs `.attach(SessionSecurity::fairing())`");
    let now = shared.clock.now_unix();
    let session_id = crate::SessionId::random().as_u64();
    TestSession {
        shared,
        runtime,
        login: Vec::new(),
        signed_in_at: now,
        last_activity: None,
        stamp_only: false,
        session_id,
        timeouts: None,
    }
}

impl TestSession<'_> {
    /// A login cookie as the browser sends it (a plain cookie, or one you sealed).
    pub fn login_cookie(mut self, cookie: Cookie<'static>) -> Self {
        self.login.push(cookie);
        self
    }

    /// A login cookie sealed as `CookieJar::add_private` would, under the app's key.
    pub fn private_login_cookie(self, name: &str, value: &str) -> Self {
        let mut jar = cookie::CookieJar::new();
        jar.private_mut(&self.runtime.app_key).add(cookie::Cookie::new(name.to_string(), value.to_string()));
        let sealed = jar.get(name).map(|c| c.value().to_string()).unwrap_or_default();
        self.login_cookie(Cookie::new(name.to_string(), sealed))
    }

    /// When the person signed in (Unix seconds).
    pub fn signed_in_at(mut self, at: i64) -> Self {
        self.signed_in_at = at;
        self
    }

    /// The last activity the server saw (Unix seconds); the sign-in time unless set.
    pub fn last_activity(mut self, at: i64) -> Self {
        self.last_activity = Some(at);
        self
    }

    /// A stamp with no login cookie at all, on purpose (it reads as anonymous).
    pub fn stamp_only(mut self) -> Self {
        self.stamp_only = true;
        self
    }

    /// The stamp this session's cookies carry.
    pub fn stamp(&self) -> Stamp {
        Stamp(self.sealed())
    }

    fn sealed(&self) -> Sealed {
        let names = &self.shared.config.login_cookies;
        for cookie in &self.login {
            assert!(
                names.iter().any(|n| n == cookie.name()),
                "testing::session: {:?} is not in login_cookies {names:?}",
                cookie.name()
            );
        }
        assert!(
            self.stamp_only || names.is_empty() || !self.login.is_empty(),
            "testing::session: login_cookies is {names:?}, so a session needs one of them \
             (.private_login_cookie(...) or .login_cookie(...)); call .stamp_only() for a stamp alone"
        );
        let mut values: LoginValues<'_> = [None; MAX_LOGIN_COOKIES];
        for cookie in &self.login {
            if let Some(i) = names.iter().position(|n| n == cookie.name()) {
                values[i] = Some(cookie.value());
            }
        }
        let binder = &self.runtime.binder;
        Sealed {
            signed_in_at: self.signed_in_at,
            last_activity: self.last_activity.unwrap_or(self.signed_in_at),
            login_tag: binder.login_tag(&values),
            person_tag: self.runtime.person_tag(names, &values),
            session_id: self.session_id,
            timeouts: self.timeouts.unwrap_or_else(|| self.shared.config.timeouts()),
        }
    }

    /// The session's own timing (the configured one unless set), as
    /// `SessionTracker::sign_in_with` would seal it. Not held to the
    /// configured timing here: a test may hand the app a longer one, to see
    /// the app hold it to the configured one. (One that breaks
    /// [`Timeouts::validate`](crate::Timeouts::validate) makes a stamp that
    /// does not open: expired, invalid.)
    pub fn timeouts(mut self, timeouts: crate::Timeouts) -> Self {
        self.timeouts = Some(timeouts);
        self
    }

    /// The session's id (random unless set): what a revocation of it names.
    pub fn session_id(mut self, id: crate::SessionId) -> Self {
        self.session_id = id.as_u64();
        self
    }

    /// The login cookies and the stamp, for `LocalRequest::cookies`.
    pub fn cookies(self) -> Vec<Cookie<'static>> {
        let stamp = self.runtime.codec.seal(self.sealed());
        let mut cookies = self.login;
        cookies.push(Cookie::new(self.shared.config.cookie_name.clone(), stamp));
        cookies
    }
}

/// The stamp a stamp cookie's value holds, if it opens under `rocket`'s key
/// (`None` for any other value, or without the fairing).
///
/// ```
/// # use rocket_session_security::{testing, SessionSecurity};
/// let client = rocket::local::blocking::Client::untracked(rocket::build().attach(SessionSecurity::fairing())).unwrap();
/// assert_eq!(testing::read_stamp(client.rocket(), "not a stamp"), None);
/// ```
pub fn read_stamp(rocket: &Rocket<Orbit>, cookie_value: &str) -> Option<Stamp> {
    let (_, runtime) = launched(rocket)?;
    runtime.codec.open(cookie_value).ok().map(Stamp)
}
