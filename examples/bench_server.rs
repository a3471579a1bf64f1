//! The server of the load benchmark (`bench/load.sh`): one tiny route, with
//! or without the crate, so the two apps differ in nothing else.
//!
//! ```sh
//! cargo build --release --example bench_server
//! ROCKET_SECRET_KEY=... ROCKET_PORT=8001 ./target/release/examples/bench_server plain
//! ROCKET_SECRET_KEY=... ROCKET_PORT=8002 ./target/release/examples/bench_server guarded
//! ```
//!
//! Both apps have the same `GET /hello` (`Hello, world!`) and the same
//! sign-in of their own, `POST /login`, which sets the private cookie
//! `user_id`. The only difference is the crate:
//!
//! * `plain`: nothing else.
//! * `guarded`: the [`SessionSecurity`] fairing is attached (with
//!   `login_cookies = ["user_id"]`), `GET /hello` is behind [`ActiveSession`],
//!   and `POST /login` also calls [`SessionTracker::sign_in`], which sets the
//!   stamp. A client sending those cookies is a signed-in user whose every
//!   request is decrypted and classified, and whose response re-issues the
//!   stamp once the stamp is a second old.
//!
//! Rocket's own settings (port, workers, log level, secret key) come from the
//! usual `ROCKET_*` environment variables.

use rocket::http::CookieJar;
use rocket::{get, post, routes, Build, Rocket};
use rocket_session_security::{ActiveSession, SessionSecurity, SessionTracker};

#[get("/hello")]
fn hello_plain() -> &'static str {
    "Hello, world!"
}

#[get("/hello")]
fn hello_guarded(_session: ActiveSession) -> &'static str {
    "Hello, world!"
}

#[post("/login")]
fn login_plain(jar: &CookieJar<'_>) -> &'static str {
    jar.add_private(("user_id", "42"));
    "signed in"
}

#[post("/login")]
fn login_guarded(jar: &CookieJar<'_>, tracker: SessionTracker<'_>) -> &'static str {
    jar.add_private(("user_id", "42"));
    tracker.sign_in();
    "signed in"
}

fn app(mode: &str) -> Option<Rocket<Build>> {
    match mode {
        "plain" => Some(rocket::build().mount("/", routes![hello_plain, login_plain])),
        "guarded" => {
            let figment = rocket::Config::figment().merge(("session_security.login_cookies", ["user_id"]));
            Some(
                rocket::custom(figment)
                    .attach(SessionSecurity::fairing())
                    .mount("/", routes![hello_guarded, login_guarded]),
            )
        }
        _ => None,
    }
}

#[rocket::main]
async fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let Some(rocket) = app(&mode) else {
        eprintln!("usage: bench_server plain|guarded");
        std::process::exit(2);
    };
    if let Err(e) = rocket.launch().await {
        eprintln!("bench_server: {e}");
        std::process::exit(1);
    }
}
