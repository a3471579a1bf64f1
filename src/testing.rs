//! Helpers for your app's own `rocket::local` tests: check that its pages
//! expire, without sleeping.
//!
//! Two ways, usable together:
//!
//! * give the fairing a [`ManualClock`](crate::ManualClock) and move it;
//! * hand a request a stamp of your choosing with [`stamp`], e.g. one whose
//!   last activity lies `expire_after` seconds in the past.
//!
//! ```
//! # #[macro_use] extern crate rocket;
//! use rocket::http::Status;
//! use rocket::local::blocking::Client;
//! use rocket_session_security::{testing, ActiveSession, ManualClock, SessionSecurity, SessionTracker};
//!
//! #[get("/reports")]
//! fn reports(_session: ActiveSession) -> &'static str { "numbers" }
//!
//! #[post("/login")]
//! fn login(tracker: SessionTracker<'_>) { tracker.sign_in() }
//!
//! let clock = ManualClock::new(1_800_000_000);
//! let rocket = rocket::build()
//!     .attach(SessionSecurity::fairing().clock(clock.clone()))
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
//! // Or with a stamp made for the test: signed in an hour ago, idle for 10 minutes.
//! let now = 1_800_000_000 + 1199;
//! let stale = testing::stamp("session_security", now - 3600, now - 600);
//! let res = client.get("/reports").private_cookie(stale).dispatch();
//! assert_eq!(res.status(), Status::SeeOther);
//! assert_eq!(res.headers().get_one("Location"), Some("/login?next=/reports"));
//! ```

use rocket::http::Cookie;

/// A stamp cookie with the given sign-in time and last activity (Unix
/// seconds), *unsealed*: pass it to `LocalRequest::private_cookie`, which
/// seals it with the app's key exactly as the crate does. `cookie_name` is
/// the configured `cookie_name` (default `session_security`).
pub fn stamp(cookie_name: &str, signed_in_at: i64, last_activity: i64) -> Cookie<'static> {
    Cookie::new(cookie_name.to_string(), format!("1:{signed_in_at}:{last_activity}"))
}
