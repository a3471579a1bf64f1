//! Per-role timeouts through the `SessionSecurity::fairing().timeouts(…)` hook:
//! administrators are warned after 4 minutes idle and signed out after 5, everyone
//! else after 29 and 30. The guard, the ping's answer and the snippet's
//! `data-warn-after` / `data-expire-after` all follow the role.
//!
//! Try it: `cargo run --example per_role`, open http://127.0.0.1:8000 and sign in
//! with the password `demo` as `admin` (the administrator) or any other name (a
//! user). The home page shows the timing in force; leave an admin tab alone and
//! the warning comes after 4 minutes. In the browser's console,
//! `fetch('/session-security/ping', {method: 'POST'}).then(r => r.json()).then(console.log)`
//! shows the server's `warn_after` / `expire_after` for the signed-in role.

mod app;

#[rocket::launch]
fn rocket() -> _ {
    app::rocket()
}
