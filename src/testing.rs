//! Helpers for your app's own `rocket::local` tests: check that its pages
//! expire, without sleeping.
//!
//! Two ways, usable together:
//!
//! * give the fairing a [`ManualClock`](crate::ManualClock) and move it;
//! * hand a request a stamp of your choosing with [`stamp`], e.g. one whose
//!   last activity lies `expire_after` seconds in the past, and read the
//!   stamp a response sets with [`read_stamp`].
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
//! let stale = testing::stamp(client.rocket(), now - 3600, now - 600);
//! let res = client.get("/reports").cookie(stale).dispatch();
//! assert_eq!(res.status(), Status::SeeOther);
//! assert_eq!(res.headers().get_one("Location"), Some("/login?next=/reports"));
//!
//! // A fresh stamp is re-issued with this request's time as the last activity.
//! let fresh = testing::stamp(client.rocket(), now - 3600, now - 10);
//! let res = client.get("/reports").cookie(fresh).dispatch();
//! let stamp = res.cookies().get("session_security").and_then(|c| testing::read_stamp(client.rocket(), c.value()));
//! assert_eq!(stamp, Some(testing::Stamp { signed_in_at: now - 3600, last_activity: now }));
//! ```

use rocket::http::Cookie;
use rocket::{Orbit, Rocket};

use crate::fairing::stamp_codec;
pub use crate::stamp::Stamp;

/// A stamp cookie with the given sign-in time and last activity (Unix
/// seconds), sealed with `rocket`'s key under the configured `cookie_name`:
/// pass it to `LocalRequest::cookie` (e.g. `client.get("/").cookie(...)`).
///
/// # Panics
///
/// If `rocket` does not have [`SessionSecurity`](crate::SessionSecurity)
/// attached: a test set-up mistake.
pub fn stamp(rocket: &Rocket<Orbit>, signed_in_at: i64, last_activity: i64) -> Cookie<'static> {
    let (codec, name) = stamp_codec(rocket).expect("testing::stamp needs `.attach(SessionSecurity::fairing())`");
    Cookie::new(name.to_string(), codec.seal(Stamp { signed_in_at, last_activity }))
}

/// The stamp a stamp cookie's value holds, if it opens under `rocket`'s key
/// (`None` for any other value, or without the fairing).
pub fn read_stamp(rocket: &Rocket<Orbit>, cookie_value: &str) -> Option<Stamp> {
    let (codec, _) = stamp_codec(rocket)?;
    codec.open(cookie_value).ok()
}
