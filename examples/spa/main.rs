//! A single-page app on `rocket_session_security`'s script alone: no server-rendered
//! dialog, its own warning banner driven by the script's JS API and events.
//!
//! Try it: `cargo run --example spa`, open http://127.0.0.1:8000, sign in with any
//! user name and the password `demo`, add a note, then leave the tab alone. After
//! 15 s the app's own banner counts down ("Stay signed in" calls
//! `sessionSecurity.extend()`); after 45 s the notes vanish and the browser goes to
//! the login page. `curl -i -H 'Accept: application/json' http://127.0.0.1:8000/api/notes`
//! shows the JSON `401` an expired or absent session gets.
//! `ROCKET_SESSION_SECURITY='{warn_after=5,expire_after=10}'` changes the timing.

mod app;

#[rocket::launch]
fn rocket() -> _ {
    app::rocket()
}
