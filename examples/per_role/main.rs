//! Per-session timing chosen at sign-in from the role, and a page that asks
//! for a recent sign-in: administrators are warned after 4 minutes idle and
//! signed out after 5, everyone else after 29 and 30 (the configured timing).
//! The guard, the ping's answer and the snippet's `data-warn-after` /
//! `data-expire-after` all carry the session's own timing.
//!
//! Try it: `cargo run --example per_role`, open http://127.0.0.1:8000 and sign in
//! with the password `demo` as `admin` (the administrator) or any other name (a
//! user). The home page shows the session's timing; leave an admin tab alone and
//! the warning comes after 4 minutes. Five minutes after signing in, "Security
//! settings" asks you to sign in again, and comes back once you have.

mod app;

#[rocket::launch]
fn rocket() -> _ {
    app::rocket()
}
