//! The load benchmark's floor app (`bench_server floor`) must carry exactly
//! what the crate adds to the wire, or `bench/load.sh`'s F/A stops being the
//! ceiling it claims to be: the same response headers as the guarded app
//! when it re-issues the stamp, values of the same length, and a sign-in
//! cookie of the stamp's length.

#[path = "../../examples/bench_server.rs"]
#[allow(dead_code)]
mod server;

use rocket::http::Status;
use rocket::local::blocking::{Client, LocalResponse};
use rocket_session_security::testing;

fn client(mode: &str) -> Client {
    let rocket = server::app(mode).expect("a known mode");
    let figment = rocket.figment().clone().merge(("log_level", "off"));
    Client::tracked(rocket.configure(figment)).expect("launches")
}

/// Header names (lowercase, sorted) and the length of each value.
fn shape(res: &LocalResponse<'_>) -> Vec<(String, usize)> {
    let mut headers: Vec<(String, usize)> =
        res.headers().iter().map(|h| (h.name().as_str().to_ascii_lowercase(), h.value().len())).collect();
    headers.sort();
    headers
}

fn stamp_cookie_len(res: &LocalResponse<'_>) -> Option<usize> {
    res.cookies().get("session_security").map(|c| c.value().len())
}

#[test]
fn the_floor_carries_the_same_bytes_as_the_guarded_app() {
    let guarded = client("guarded");
    let floor = client("floor");

    let guarded_login = guarded.post("/login").dispatch();
    let floor_login = floor.post("/login").dispatch();
    assert_eq!(guarded_login.status(), Status::Ok);
    assert_eq!(floor_login.status(), Status::Ok);
    assert_eq!(stamp_cookie_len(&floor_login), stamp_cookie_len(&guarded_login));
    assert!(stamp_cookie_len(&guarded_login).is_some());

    // A stamp a few seconds old, as wrk replays one: every response re-issues it.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let old = testing::session(guarded.rocket())
        .private_login_cookie("user_id", "42")
        .signed_in_at(now - 10)
        .last_activity(now - 5)
        .cookies();
    let guarded_res = guarded.get("/hello").cookies(old).dispatch();
    let floor_res = floor.get("/hello").dispatch();
    assert_eq!(guarded_res.status(), Status::Ok);
    assert_eq!(floor_res.status(), Status::Ok);
    assert!(guarded_res.headers().get_one("Set-Cookie").is_some(), "the guarded app re-issued the stamp");
    assert_eq!(shape(&floor_res), shape(&guarded_res));
    assert_eq!(floor_res.into_string(), guarded_res.into_string());

    // And the plain app is the floor without the crate's bytes.
    let plain = client("plain");
    assert_eq!(plain.post("/login").dispatch().status(), Status::Ok);
    let plain_res = plain.get("/hello").dispatch();
    let without: Vec<_> = shape(&plain_res);
    let extra: Vec<String> = {
        let floor_res = floor.get("/hello").dispatch();
        shape(&floor_res).into_iter().filter(|h| !without.contains(h)).map(|(name, _)| name).collect()
    };
    assert_eq!(extra, ["cache-control", "set-cookie"]);
}
