//! Log out inactive users of a Rocket 0.5 app — securely, in every tab,
//! without throwing anyone out mid-form.
//!
//! Intranets, CRMs and admin panels show sensitive data. When a person walks
//! away, the browser must stop showing it; but a plain session lifetime
//! signs people out while they are typing. This crate tracks *activity*:
//!
//! 1. **Stamp.** [`SessionSecurity`] (a fairing) keeps the sign-in time and
//!    the last activity of each signed-in browser in one private cookie
//!    (AES-256-GCM under the app's `secret_key`, `HttpOnly`, `SameSite`). No
//!    server-side storage: any number of instances sharing `secret_key`
//!    serve the same users.
//! 2. **Classification.** Each request is decrypted and classified once:
//!    anonymous, active (idle for so many seconds) or expired (idle,
//!    absolute lifetime, or unreadable — fail closed).
//! 3. **Guard.** [`ActiveSession`] lets active sessions through. Otherwise a
//!    page navigation gets `303` to `login_url?next=<path>` (always a local
//!    path, see [`safe_next`]) and an API call a JSON `401`; an expired
//!    session's cookies are removed.
//! 4. **Ping.** `POST {base}/ping?idle_for=N` lets the browser report its
//!    idle time and learn the server's, merged across tabs and devices; it is
//!    passive, checked for cross-site use, and never revives a dead session.
//! 5. **Browser.** [`ActiveSession::snippet`] renders the dialog and the
//!    script tag: a warning with a live countdown at `warn_after`, cross-tab
//!    sync, and on expiry a hidden page and the login page.
//!
//! # A complete app
//!
//! ```no_run
//! use rocket::http::CookieJar;
//! use rocket::response::{content::RawHtml, Redirect};
//! use rocket_session_security::{ActiveSession, SessionSecurity, SessionTracker};
//!
//! #[rocket::launch]
//! fn rocket() -> _ {
//!     rocket::build()
//!         .attach(SessionSecurity::fairing())
//!         .mount("/", rocket::routes![index, login, logout])
//! }
//!
//! #[rocket::get("/")]
//! fn index(session: ActiveSession) -> RawHtml<String> {
//!     RawHtml(format!("<!doctype html><title>CRM</title><p>Customer data</p>{}", session.snippet()))
//! }
//!
//! #[rocket::post("/login")]
//! fn login(jar: &CookieJar<'_>, tracker: SessionTracker<'_>) -> Redirect {
//!     jar.add_private(("user_id", "42")); // after checking the password
//!     tracker.sign_in();
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
//! `[default.session_security]` in `Rocket.toml`; see [`Config`] for every
//! key and its default. A bad value or an unknown key stops the launch with a
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
//!   `0`) → expired (absolute); a stamp that does not decrypt or parse, or a
//!   login cookie without a stamp → expired (invalid);
//! * otherwise active; a response that is not passive re-issues the stamp
//!   with last activity = now, only ever forwards;
//! * the ping moves last activity to `now − idle_for` when that is more
//!   recent, never into the future, and only for a session still active.
//!
//! # Testing your app
//!
//! Give the fairing a [`ManualClock`] and move it instead of sleeping, or
//! hand a request a stamp of your choosing ([`testing::stamp`]):
//!
//! ```
//! # #[macro_use] extern crate rocket;
//! use rocket::local::blocking::Client;
//! use rocket_session_security::{ActiveSession, ManualClock, SessionSecurity, SessionTracker};
//!
//! #[get("/")]
//! fn page(_s: ActiveSession) -> &'static str { "secret" }
//! #[post("/login")]
//! fn login(t: SessionTracker<'_>) { t.sign_in() }
//!
//! let clock = ManualClock::starting_now();
//! let rocket = rocket::build()
//!     .attach(SessionSecurity::fairing().clock(clock.clone()))
//!     .mount("/", routes![page, login]);
//! let client = Client::tracked(rocket).unwrap();
//! client.post("/login").dispatch();
//! assert_eq!(client.get("/").dispatch().status().code, 200);
//! clock.advance(600); // the default expire_after
//! assert_eq!(client.get("/").dispatch().status().code, 303);
//! ```

#![deny(missing_docs)]

/// Longer guides.
pub mod guide {
    #[doc = include_str!("../docs/migrating-from-django-session-security.md")]
    pub mod migrating_from_django_session_security {}
}

// Layers, each file using only those below it:
// 7 lib · 6 fairing · 5 guard, ping, testing · 4 context, answer ·
// 3 verdict, http, snippet · 2 config, binding · 1 stamp, clock, assets, i18n, redirect
mod answer;
mod assets;
mod binding;
mod clock;
mod config;
mod context;
mod fairing;
mod guard;
mod http;
mod i18n;
mod ping;
mod redirect;
mod snippet;
mod stamp;
pub mod testing;
mod verdict;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{Config, ConfigError, LogoutMethod, SameSitePolicy, Timeouts};
pub use context::SessionEvent;
pub use fairing::SessionSecurity;
pub use guard::{ActiveSession, SessionRejected, SessionTracker};
pub use i18n::{Language, Texts};
pub use redirect::safe_next;
pub use snippet::Snippet;
#[cfg(feature = "tera")]
pub use snippet::{register_templates, SNIPPET_TEMPLATE};
pub use verdict::ExpiryReason;

/// Internals for the crate's own benchmarks and fuzz targets (feature
/// `internals`); not a public API and not covered by semver.
#[cfg(feature = "internals")]
#[doc(hidden)]
#[allow(missing_docs)]
pub mod __internals {
    pub use crate::binding::{Binder, LoginValues, MAX_LOGIN_COOKIES};
    pub use crate::ping::parse_idle_for;
    pub use crate::stamp::{Stamp, StampCodec, StampError};
    pub use crate::verdict::{classify, Login, StampCookie, Verdict};
}
