//! Whole requests through the fairing and the guard with an arbitrary
//! `Cookie` header, and arbitrary `Set-Cookie` headers from the handler:
//! never a panic or a 500, and a guarded page is served only to the very
//! cookies a sign-in gave.
//!
//! Input: a first line, the path (`/`, `/echo`, `/session-security/ping?idle_for=3`
//! or anything); a second, the `Cookie` header, where `$STAMP` and `$USER`
//! stand for the values a real sign-in set (so the fuzzer starts from a live
//! session and mutates it); every further line, a `Set-Cookie` the handler of
//! `/echo` writes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rocket::http::{CookieJar, Header, Status};
use rocket::local::blocking::Client;
use rocket::response::Responder;
use rocket::{get, post, routes, Request};
use rocket_session_security::{ActiveSession, SessionSecurity, SessionTracker};

const STAMP: &str = "session_security";

#[get("/")]
fn home(_session: ActiveSession) -> &'static str {
    "customer data"
}

#[post("/login")]
fn login(jar: &CookieJar<'_>, tracker: SessionTracker<'_>) {
    jar.add_private(("user", "42"));
    tracker.sign_in();
}

/// Answers with the request's `X-Set-Cookie` values as `Set-Cookie` headers.
struct Echo;

impl<'r> Responder<'r, 'static> for Echo {
    fn respond_to(self, req: &'r Request<'_>) -> rocket::response::Result<'static> {
        let mut response = rocket::Response::build();
        for value in req.headers().get("X-Set-Cookie") {
            response.header_adjoin(Header::new("Set-Cookie", value.to_string()));
        }
        Ok(response.finalize())
    }
}

#[get("/echo")]
fn echo(_session: Option<ActiveSession>) -> Echo {
    Echo
}

struct SetUp {
    client: Client,
    stamp: String,
    user: String,
}

fn set_up() -> &'static SetUp {
    // libFuzzer calls from one thread; the blocking client is not `Sync`.
    thread_local!(static SET_UP: &'static SetUp = Box::leak(Box::new(build())));
    SET_UP.with(|set_up| *set_up)
}

/// The app, built once.
fn build() -> SetUp {
    let figment = rocket::Config::figment()
        .merge(("secret_key", [7u8; 64].to_vec()))
        .merge(("log_level", "off"))
        .merge(("session_security.login_cookies", ["user"]))
        .merge(("session_security.revocations", "memory"));
    let rocket = rocket::custom(figment).attach(SessionSecurity::fairing()).mount("/", routes![home, login, echo]);
    let client = Client::untracked(rocket).expect("the fuzz app launches");
    let (stamp, user) = {
        let response = client.post("/login").dispatch();
        let value = |name: &str| response.cookies().get(name).map(|c| c.value().to_string()).expect(name);
        (value(STAMP), value("user"))
    };
    SetUp { client, stamp, user }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut lines = text.split('\n');
    let path = lines.next().unwrap_or("/");
    let Some(cookie_line) = lines.next() else { return };
    let no_controls = |s: &str| !s.chars().any(|c| c.is_control() && c != '\t');
    if !path.starts_with('/') || !no_controls(path) || !no_controls(cookie_line) {
        return;
    }
    let set_up = set_up();
    let cookies = cookie_line.replace("$STAMP", &set_up.stamp).replace("$USER", &set_up.user);
    let mut request = set_up.client.get(path.to_string()).header(Header::new("Cookie", cookies.clone()));
    let written_by_app: Vec<&str> = lines.filter(|l| no_controls(l)).collect();
    for line in &written_by_app {
        request = request.header(Header::new("X-Set-Cookie", line.to_string()));
    }
    let response = request.dispatch();
    assert_ne!(response.status(), Status::InternalServerError, "{path} with Cookie: {cookies}");
    if path == "/" && response.status() == Status::Ok {
        assert!(
            cookies.contains(&set_up.stamp) && cookies.contains(&set_up.user),
            "a guarded page for cookies no sign-in gave: {cookies}"
        );
    }
    // What the crate wrote for its stamp (the app's own headers are the app's).
    for set_cookie in response.headers().get("Set-Cookie").filter(|h| !written_by_app.contains(h)) {
        if set_cookie.starts_with(&format!("{STAMP}=")) {
            let cookie = rocket::http::Cookie::parse(set_cookie.to_string()).expect("the crate's Set-Cookie parses");
            assert_eq!(cookie.http_only(), Some(true), "{set_cookie}");
        }
    }
});
