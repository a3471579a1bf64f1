//! Log out inactive users of a Rocket 0.5 app — securely, in every tab,
//! without throwing anyone out mid-form.
//!
//! Intranets, CRMs and admin panels show sensitive data. When a person walks
//! away, the browser must stop showing it; but a plain session lifetime
//! signs people out while they are typing. This crate tracks *activity*:
//!
//! 1. **Stamp.** [`SessionSecurity`] (a fairing) keeps the sign-in time and
//!    the last activity of each signed-in browser in one private cookie
//!    (AES-256-GCM under a key derived from the app's `secret_key`,
//!    `HttpOnly`, `SameSite=Strict`), **bound to the sign-in**: it seals a
//!    keyed digest of the app's login cookies, so a stamp is worth nothing
//!    with anyone else's login cookie. Nothing is stored on the request
//!    path: any number of instances sharing `secret_key` serve the same
//!    users. Sign-out **revokes** the session (a random id sealed in the
//!    stamp): every instance holds the bounded set of revocations in memory
//!    and follows a store of your choice ([`Config::revocations`]: embedded
//!    SQLite by default, Redis, or your own [`RevocationStore`]), which
//!    also keeps each person's sessions list.
//! 2. **Classification.** Each request is read once (one decryption, one
//!    keyed hash) and decided once, after routing: anonymous, active (idle
//!    for so many seconds) or expired (idle, absolute lifetime, or invalid —
//!    unreadable, or not bound to these login cookies: fail closed).
//! 3. **Guard.** [`ActiveSession`] lets active sessions through. Nobody
//!    signed in: it *forwards* (a `rank = 2` route may answer). Expired: its
//!    cookies are removed. When no route of the app answers, the crate's
//!    401 catcher sends a page navigation `303` to `login_url?next=<path>`
//!    (always a local path, see [`safe_next`]) with a flash message saying
//!    why, and an API call a JSON `401`. An app with its own 401 catcher
//!    gives that answer with [`SessionRejection::of`]. A response a handler
//!    wrote itself is never changed.
//! 4. **Ping.** `POST {base}/ping?idle_for=N` lets the browser report its
//!    idle time and learn the server's, merged across tabs and devices; it is
//!    passive, refuses cross-site calls, and never revives a dead session.
//! 5. **Browser.** [`ActiveSession::snippet`] renders the dialog and the
//!    script tag: a warning with a live countdown at `warn_after`, cross-tab
//!    sync, and on expiry a hidden page and the login page.
//!
//! # A complete app
//!
//! ```no_run
//! use rocket::http::CookieJar;
//! use rocket::request::FlashMessage;
//! use rocket::response::{content::RawHtml, Redirect};
//! use rocket_session_security::{ActiveSession, SessionSecurity, SessionTracker};
//!
//! #[rocket::launch]
//! fn rocket() -> _ {
//!     rocket::build()
//!         .attach(SessionSecurity::fairing())
//!         .mount("/", rocket::routes![index, login_page, login, logout])
//! }
//!
//! #[rocket::get("/")]
//! fn index(session: ActiveSession) -> RawHtml<String> {
//!     RawHtml(format!("<!doctype html><title>CRM</title><p>Customer data</p>{}", session.snippet()))
//! }
//!
//! #[rocket::get("/login")]
//! fn login_page(flash: Option<FlashMessage<'_>>) -> RawHtml<String> {
//!     // After an expiry: "You were signed out after 10 min of inactivity."
//!     let notice = flash.map(|f| f.message().to_string()).unwrap_or_default();
//!     RawHtml(format!("<p>{notice}</p><form method=post action=/login>…</form>"))
//! }
//!
//! #[rocket::post("/login")]
//! fn login(jar: &CookieJar<'_>, tracker: SessionTracker<'_>) -> Redirect {
//!     jar.add_private(("user_id", "42")); // after checking the password
//!     tracker.sign_in(); // binds the stamp to the user_id cookie just set
//!     Redirect::to("/")
//! }
//!
//! #[rocket::post("/logout")]
//! fn logout(tracker: SessionTracker<'_>) -> Redirect {
//!     tracker.sign_out();
//!     Redirect::to("/login")
//! }
//! ```
//!
//! # Configuration
//!
//! `[default.session_security]` in `Rocket.toml`, or a [`Config`] given in
//! code with [`SessionSecurity::with_config`]; see [`Config`] for every key
//! and its default. A bad value or an unknown key stops the launch with a
//! message naming the key.
//!
//! ```toml
//! [default.session_security]
//! warn_after = 540
//! expire_after = 600
//! login_url = "/login"
//! login_cookies = ["user_id"]
//! ```
//!
//! # How expiry is decided
//!
//! * idle ≥ `expire_after` → expired (idle); age ≥ `absolute_timeout` (unless
//!   `0`) → expired (absolute); a stamp that does not decrypt or parse, a
//!   login cookie without a stamp, or a stamp made for another sign-in than
//!   the login cookies name → expired (invalid);
//! * a stamp without any login cookie (a link from another site carries only
//!   `Lax` cookies) → anonymous for that request, nothing removed;
//! * otherwise active. The person's own requests move the last activity
//!   forward (never back, never into the future): not passive paths
//!   (matched as Rocket routes them), not requests no route answered or
//!   answered with a status of 400 or more, not prefetches, not
//!   subresources or unasked navigations from other sites or sibling
//!   subdomains (`Sec-Fetch-Site: cross-site | same-site`, unless a click
//!   started a top-level navigation: `Sec-Fetch-User: ?1`; without Fetch
//!   Metadata, on plain HTTP: a foreign `Referer` on anything but a page);
//! * the ping moves last activity to `now − idle_for` when that is more
//!   recent, never into the future, and only for a session still active.
//!
//! # A session's own timing, and sensitive actions
//!
//! The timing is chosen at sign-in and sealed into the session:
//! [`SessionTracker::sign_in`] gives the configured one,
//! [`SessionTracker::sign_in_with`] a shorter one of the app's (never longer
//! than configured; WCAG 2.2.1's 20 s and the [`Profile`] are checked there
//! too). [`RecentSignIn`] guards what needs a recent sign-in; the same person
//! signing in again renews the session and keeps its tabs.
//!
//! ```
//! # #[macro_use] extern crate rocket;
//! use rocket::http::{CookieJar, Status};
//! use rocket_session_security::{RecentSignIn, SessionTracker, Timeouts};
//!
//! #[post("/login")]
//! fn login(jar: &CookieJar<'_>, tracker: SessionTracker<'_>) -> Status {
//!     let admin = true; // from your user store
//!     jar.add_private(("user_id", "1"));
//!     if !admin {
//!         tracker.sign_in();
//!         return Status::Ok;
//!     }
//!     let short = Timeouts { warn_after: 240, expire_after: 300, ..tracker.configured_timeouts() };
//!     match tracker.sign_in_with(short) {
//!         Ok(()) => Status::Ok,
//!         Err(_) => Status::InternalServerError, // logged, naming the key
//!     }
//! }
//!
//! #[post("/account/password")]
//! fn change_password(_recent: RecentSignIn<300>) -> &'static str {
//!     "changed"
//! }
//! ```
//!
//! `profile = "pci-dss-4" | "nist-aal2" | "nist-aal3"` in `Rocket.toml`
//! makes the launch check the timing against that standard
//! (`docs/session-management-for-auditors.md` maps every requirement).
//!
//! # Behind a proxy
//!
//! The ping refuses other sites' requests: by Fetch Metadata where the
//! browser sends it (every current browser, on HTTPS), which no proxy
//! changes; without it by the browser's `Origin`, compared with
//! [`Config::public_origins`], else with what a proxy listed in
//! [`Config::trusted_proxies`] forwards, else with `Host`. Under TLS at the
//! proxy set `secure = true` and name the stamp `__Host-session_security`:
//!
//! ```
//! use rocket_session_security::Config;
//!
//! let config = Config {
//!     cookie_name: "__Host-session_security".into(),
//!     secure: true,
//!     trusted_proxies: vec!["127.0.0.1".into()],
//!     login_cookies: vec!["user_id".into()],
//!     ..Config::default()
//! };
//! assert!(config.validate().is_ok());
//! // A prefixed name without `secure` could never be set by a browser: refused, naming the key.
//! let insecure = Config { secure: false, ..config };
//! assert_eq!(insecure.validate().unwrap_err().key(), "cookie_name");
//! ```
//!
//! The nginx and Caddy configurations the tests run are in
//! `docs/deploying-behind-a-proxy.md`.
//!
//! # Testing your app
//!
//! Give the fairing a [`ManualClock`] and move it instead of sleeping, or
//! hand a request a session of your choosing ([`testing::session`]):
//!
//! ```
//! # #[macro_use] extern crate rocket;
//! use rocket::http::CookieJar;
//! use rocket::local::blocking::Client;
//! use rocket_session_security::{ActiveSession, Config, ManualClock, SessionSecurity, SessionTracker};
//!
//! #[get("/")]
//! fn page(_s: ActiveSession) -> &'static str { "secret" }
//! #[post("/login")]
//! fn login(jar: &CookieJar<'_>, t: SessionTracker<'_>) { jar.add_private(("user_id", "42")); t.sign_in() }
//!
//! let clock = ManualClock::starting_now();
//! let config = Config { login_cookies: vec!["user_id".into()], ..Config::default() };
//! let rocket = rocket::build()
//!     .attach(SessionSecurity::with_config(config).clock(clock.clone()))
//!     .mount("/", routes![page, login]);
//! let client = Client::tracked(rocket).unwrap();
//! client.post("/login").dispatch();
//! assert_eq!(client.get("/").dispatch().status().code, 200);
//! clock.advance(600); // the default expire_after
//! assert_eq!(client.get("/").dispatch().status().code, 303);
//! ```
//!
//! # Features
//!
//! * `tera` (default): [`register_templates`], the crate's templates for an
//!   app's `rocket_dyn_templates` Tera engine. Without it no Tera is built;
//!   [`Snippet`] renders itself for any engine.
//! * `redis`: `RedisStore`, a revocation store in Redis that every instance
//!   of the app shares (the `redis` crate, with tokio).
//!
//! # Layers
//!
//! Each module uses only those below it, so a request's data flows one way
//! (request → one read → one verdict → guard or ping → the response writes
//! the stamp once): `fairing` · `guard`, `ping`, `testing` · `context`
//! (shared state, the request's record), `answer` (JSON, the login redirect)
//! · `verdict` (the pure decision), `http` (headers and cookies), `snippet` ·
//! `config` · `binding` (the keyed tags) · `stamp`, `clock`, `assets`,
//! `i18n`, `redirect`, `origin` (origins and proxy addresses, parsed) ·
//! `timing` (`Timeouts`, the profiles, the rules every timing keeps).

#![deny(missing_docs)]

/// Longer guides.
pub mod guide {
    #[doc = include_str!("../docs/migrating-from-django-session-security.md")]
    pub mod migrating_from_django_session_security {}
    #[doc = include_str!("../docs/session-management-for-auditors.md")]
    pub mod session_management_for_auditors {}
}

// Layers (see the front page): each file uses only those below it.
mod answer;
mod assets;
mod binding;
mod catcher;
mod clock;
mod config;
mod context;
mod effect;
mod fairing;
mod guard;
mod http;
mod i18n;
mod origin;
mod ping;
mod redirect;
mod revocation;
mod snippet;
mod stamp;
pub mod testing;
mod timing;
mod verdict;

pub use catcher::SessionRejection;
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{Config, ConfigError, LogoutMethod, SameSitePolicy};
pub use context::SessionEvent;
pub use fairing::SessionSecurity;
pub use guard::{ActiveSession, ListedSession, RecentSignIn, SessionAdmin, SessionRejected, SessionTracker};
pub use i18n::{Language, Texts};
pub use redirect::safe_next;
#[cfg(feature = "redis")]
pub use revocation::RedisStore;
pub use revocation::{
    describe_user_agent, Cursor, EmbeddedStore, MemoryStore, PersonKey, Revocation, RevocationSet, RevocationStore,
    Revocations, SessionId, SessionRecord, StoreError,
};
pub use snippet::Snippet;
#[cfg(feature = "tera")]
pub use snippet::{register_templates, SNIPPET_TEMPLATE};
pub use timing::{Profile, Timeouts, TimingError, WCAG_RESPONSE_SECONDS};
pub use verdict::ExpiryReason;

/// Internals for the crate's own benchmarks and fuzz targets (feature
/// `__internals`); not a public API and not covered by semver.
#[cfg(feature = "__internals")]
#[doc(hidden)]
#[allow(missing_docs)]
pub mod __internals {
    pub use crate::binding::{Binder, LoginValues, MAX_LOGIN_COOKIES};
    pub use crate::http::{cross_site, is_persons_own, Against, Refusal, RefusalKind, SiteOrigins};
    pub use crate::ping::{is_closing, parse_idle_for};
    pub use crate::stamp::{Stamp, StampCodec, StampError};
    pub use crate::verdict::{classify, Login, StampCookie, Verdict};
}
