//! The server of the load benchmark (`bench/load.sh`): one tiny route, with
//! or without the crate, so the apps differ in nothing else.
//!
//! ```sh
//! cargo build --release --example bench_server
//! ROCKET_SECRET_KEY=... ROCKET_PORT=8001 ./target/release/examples/bench_server plain
//! ROCKET_SECRET_KEY=... ROCKET_PORT=8002 ./target/release/examples/bench_server guarded
//! ROCKET_SECRET_KEY=... ROCKET_PORT=8003 ./target/release/examples/bench_server floor
//! ```
//!
//! All apps have the same `GET /hello` (`Hello, world!`) and the same
//! sign-in of their own, `POST /login`, which sets the private cookie
//! `user_id`. They differ only by the crate:
//!
//! * `plain`: nothing else.
//! * `guarded`: the [`SessionSecurity`] fairing is attached (with
//!   `login_cookies = ["user_id"]`), `GET /hello` is behind [`ActiveSession`],
//!   and `POST /login` also calls [`SessionTracker::sign_in`], which sets the
//!   stamp. A client sending those cookies is a signed-in user whose every
//!   request is decrypted and classified, and whose response re-issues the
//!   stamp once the stamp is a second old.
//! * `floor`: no crate, but the same bytes on the wire as `guarded`: sign-in
//!   also sets a (fixed) stamp-sized cookie, and `GET /hello` answers with a
//!   stamp-sized `Set-Cookie` and `Cache-Control: no-store`, both constants.
//!   What Rocket and hyper cost to carry what the crate must send, without
//!   any of the crate's work: no implementation that sends them can be
//!   faster.
//!
//! Rocket's own settings (port, workers, log level, secret key) come from the
//! usual `ROCKET_*` environment variables. `BENCH_REVOCATIONS=100000` makes
//! `guarded` start with that many revoked sessions held (in a memory store),
//! so the check runs against a full set.

use rocket::http::{CookieJar, Header};
use rocket::{get, post, routes, Build, Responder, Rocket};
use rocket_session_security::{ActiveSession, SessionSecurity, SessionTracker};

#[get("/hello")]
fn hello_plain() -> &'static str {
    "Hello, world!"
}

#[get("/hello")]
fn hello_guarded(_session: ActiveSession) -> &'static str {
    "Hello, world!"
}

/// A cookie of the stamp's name and length (104 characters), as the floor's
/// stand-in: never opened, never checked.
const FLOOR_STAMP: (&str, &str) = (
    "session_security",
    "575yx8xm5MslfY5ubiheyEd7P4zDL_ak6J0kGODKdinZnLXicaBAg8WY1jzIRlNQb0prFmbh7-wyAbCdEfGhIjKlXq3pL9vT2wRk8sNf",
);
/// The floor's `Set-Cookie`: as long as the crate's, but a constant, so that
/// the floor pays not even for making it.
const FLOOR_SET_COOKIE: &str = concat!(
    "session_security=",
    "575yx8xm5MslfY5ubiheyEd7P4zDL_ak6J0kGODKdinZnLXicaBAg8WY1jzIRlNQb0prFmbh7-wyAbCdEfGhIjKlXq3pL9vT2wRk8sNf",
    "; HttpOnly; SameSite=Strict; Path=/"
);

/// The floor's answer: the body and the two headers the crate adds.
#[derive(Responder)]
struct FloorAnswer {
    body: &'static str,
    set_cookie: Header<'static>,
    cache_control: Header<'static>,
}

#[get("/hello")]
fn hello_floor() -> FloorAnswer {
    FloorAnswer {
        body: "Hello, world!",
        set_cookie: Header::new("Set-Cookie", FLOOR_SET_COOKIE),
        cache_control: Header::new("Cache-Control", "no-store"),
    }
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

#[post("/login")]
fn login_floor(jar: &CookieJar<'_>) -> &'static str {
    jar.add_private(("user_id", "42"));
    jar.add(FLOOR_STAMP);
    "signed in"
}

pub fn app(mode: &str) -> Option<Rocket<Build>> {
    match mode {
        "plain" => Some(rocket::build().mount("/", routes![hello_plain, login_plain])),
        "floor" => Some(rocket::build().mount("/", routes![hello_floor, login_floor])),
        "guarded" => Some(guarded(SessionSecurity::fairing())),
        _ => None,
    }
}

fn guarded(fairing: SessionSecurity) -> Rocket<Build> {
    let figment = rocket::Config::figment().merge(("session_security.login_cookies", ["user_id"]));
    rocket::custom(figment).attach(fairing).mount("/", routes![hello_guarded, login_guarded])
}

/// A memory store holding `count` revoked sessions (random ids, in force for a day).
async fn preloaded(count: u64) -> rocket_session_security::MemoryStore {
    use rocket_session_security::{PersonKey, Revocation, RevocationStore, SessionId};
    let store = rocket_session_security::MemoryStore::new();
    let until =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64) + 86_400;
    for n in 0..count {
        let id = SessionId::from_u64(n.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let revocation = Revocation::Session { id, person: PersonKey::from_bytes([7; 8]), at: 0, until };
        if let Err(e) = store.revoke(&revocation).await {
            eprintln!("bench_server: {e}");
        }
    }
    store
}

#[rocket::main]
async fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let revocations: u64 = std::env::var("BENCH_REVOCATIONS").ok().and_then(|n| n.parse().ok()).unwrap_or(0);
    let rocket = match mode.as_str() {
        "guarded" if revocations > 0 => {
            Some(guarded(SessionSecurity::fairing().revocation_store(preloaded(revocations).await)))
        }
        _ => app(&mode),
    };
    let Some(rocket) = rocket else {
        eprintln!("usage: bench_server plain|guarded|floor");
        std::process::exit(2);
    };
    if let Err(e) = rocket.launch().await {
        eprintln!("bench_server: {e}");
        std::process::exit(1);
    }
}
