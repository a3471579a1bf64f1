//! `rocket_session_security` without a template engine: pages built with
//! `format!`, the snippet as a plain string (`session.snippet().to_string()`),
//! and every piece of user data HTML-escaped where it is interpolated.
//!
//! Try it: `cargo run --example plain_html`, open http://127.0.0.1:8000, sign in
//! with any user name (try `<b>x`: it shows as typed, not bold) and the password
//! `demo`, then leave the tab alone: the crate's dialog warns after 15 s and the
//! browser goes to the login page after 45 s.
//! `ROCKET_SESSION_SECURITY='{warn_after=5,expire_after=10}'` changes the timing.

mod app;

#[rocket::launch]
fn rocket() -> _ {
    app::rocket()
}
