//! `POST /session-security/ping?idle_for=N`.

mod common;

use common::*;
use rocket::http::{Header, Status};
use rocket::local::blocking::{Client, LocalResponse};
use serde_json::json;

const PING: &str = "/session-security/ping";

fn ping<'c>(client: &'c Client, query: &str) -> LocalResponse<'c> {
    let uri = if query.is_empty() { PING.to_string() } else { format!("{PING}?{query}") };
    client.post(uri).header(json_header()).dispatch()
}

fn assert_no_store(res: &LocalResponse<'_>) {
    assert_eq!(res.headers().get_one("Cache-Control"), Some("no-store"));
    assert_eq!(res.content_type(), Some(rocket::http::ContentType::JSON));
}

/// The reference cases of django-session-security (W=5, E=10):
/// server idle, client idle_for → answer.
#[test]
fn reference_cases() {
    for (server_idle, client_idle, expected) in [(1, 4, 1), (3, 2, 2), (5, 5, 5)] {
        let (client, clock) = signed_in(vec![]);
        clock.advance(server_idle);
        let res = ping(&client, &format!("idle_for={client_idle}"));
        assert_eq!(res.status(), Status::Ok);
        assert_no_store(&res);
        let stamp = stamp_of(&client, &res);
        let mut answer = body_json(res);
        let person = answer.as_object_mut().and_then(|o| o.remove("person"));
        assert_eq!(person.as_ref().and_then(|p| p.as_str()).map(str::len), Some(16), "{person:?}");
        assert_eq!(
            answer,
            json!({ "state": "active", "idle_for": expected, "warn_after": 5, "expire_after": 10 }),
            "server {server_idle}, client {client_idle}"
        );
        let expected_stamp =
            if client_idle < server_idle { Some((START, START + server_idle - client_idle)) } else { None };
        assert_eq!(stamp, expected_stamp, "server {server_idle}, client {client_idle}");
    }
    let (client, clock) = signed_in(vec![]);
    clock.advance(12);
    let res = ping(&client, "idle_for=14");
    assert_eq!(res.status(), Status::Unauthorized);
    assert_no_store(&res);
    assert_eq!(removed(&res), [STAMP, "user"]);
    assert_eq!(set_names(&res), Vec::<String>::new());
    assert_eq!(body_json(res), json!({ "state": "expired" }));
    assert_eq!(client.get("/").dispatch().status(), Status::SeeOther, "signed out for good");
}

#[test]
fn no_client_value_revives_an_expired_session() {
    let (client, clock) = signed_in(vec![]);
    clock.advance(10);
    assert_eq!(body_json(ping(&client, "idle_for=0")), json!({ "state": "expired" }));
}

#[test]
fn anonymous_pings_are_told_so() {
    let (client, _clock) = demo_with(vec![]);
    let res = ping(&client, "idle_for=3");
    assert_eq!(res.status(), Status::Unauthorized);
    assert_no_store(&res);
    assert!(set_cookies(&res).is_empty());
    assert_eq!(body_json(res), json!({ "state": "anonymous" }));
}

#[test]
fn the_ping_is_passive_and_without_idle_for_only_reports() {
    let (client, clock) = signed_in(vec![]);
    clock.advance(7);
    let res = ping(&client, "");
    assert!(set_cookies(&res).is_empty());
    assert_eq!(body_json(res)["idle_for"], 7);
    let res = ping(&client, "idle_for=99");
    assert!(set_cookies(&res).is_empty(), "an older client value changes nothing");
    assert_eq!(body_json(res)["idle_for"], 7);
    clock.advance(3);
    assert_eq!(client.get("/").dispatch().status(), Status::SeeOther, "pings never counted as activity");
}

#[test]
fn idle_for_zero_moves_activity_to_now_never_beyond() {
    let (client, clock) = signed_in(vec![]);
    clock.advance(8);
    let res = ping(&client, "idle_for=0");
    assert_eq!(stamp_of(&client, &res), Some((START, START + 8)));
    assert_eq!(body_json(res)["idle_for"], 0);
    clock.advance(9);
    assert_eq!(client.get("/poll").dispatch().status(), Status::Ok);
}

#[test]
fn bad_input_is_a_clear_400_and_changes_nothing() {
    let cases = [
        ("idle_for=", "empty"),
        ("idle_for", "empty"),
        ("idle_for=1&idle_for=2", "repeated"),
        ("idle_for=-3", "negative"),
        ("idle_for=1.5", "whole decimal"),
        ("idle_for=abc", "whole decimal"),
        ("idle_for=%203", "whole decimal"),
        ("idle_for=4294967296", "beyond"),
        ("idle_for=99999999999999999999999", "beyond"),
    ];
    for (query, why) in cases {
        let (client, clock) = signed_in(vec![]);
        clock.advance(6);
        let res = ping(&client, query);
        assert_eq!(res.status(), Status::BadRequest, "{query}");
        assert_no_store(&res);
        assert!(set_cookies(&res).is_empty(), "{query}: stamp unchanged");
        let error = body_json(res)["error"].as_str().unwrap_or_default().to_string();
        assert!(error.contains("idle_for") && error.contains(why), "{query}: {error}");
    }
}

#[test]
fn cross_site_pings_are_refused_each_check_alone() {
    let cases = [
        vec![Header::new("Sec-Fetch-Site", "cross-site")],
        vec![Header::new("Sec-Fetch-Site", "same-site")],
        vec![Header::new("Sec-Fetch-Site", "none")],
        vec![Header::new("Origin", "null")],
        vec![Header::new("Origin", "https://evil.example")],
        vec![Header::new("Origin", "http://localhost:9999"), Header::new("Host", "localhost:8000")],
        vec![Header::new("Sec-Fetch-Site", "same-origin"), Header::new("Origin", "https://evil.example")],
        vec![
            Header::new("Sec-Fetch-Site", "cross-site"),
            Header::new("Origin", "http://localhost:8000"),
            Header::new("Host", "localhost:8000"),
        ],
    ];
    for headers in cases {
        let (client, clock) = signed_in(vec![]);
        clock.advance(6);
        let mut req = client.post(format!("{PING}?idle_for=0"));
        for h in headers.clone() {
            req = req.header(h);
        }
        let res = req.dispatch();
        assert_eq!(res.status(), Status::Forbidden, "{headers:?}");
        assert_no_store(&res);
        assert!(set_cookies(&res).is_empty(), "{headers:?}");
        assert!(body_json(res)["error"].as_str().unwrap().contains("cross-site"));
    }
    let (client, _clock) = signed_in(vec![]);
    let res = client
        .post(format!("{PING}?idle_for=0"))
        .header(Header::new("Sec-Fetch-Site", "same-origin"))
        .header(Header::new("Origin", "http://localhost:8000"))
        .header(Header::new("Host", "localhost:8000"))
        .dispatch();
    assert_eq!(res.status(), Status::Ok);
}

#[test]
fn checks_run_in_order_cross_site_then_state_then_input() {
    let (client, clock) = signed_in(vec![]);
    clock.advance(11);
    let res = client.post(format!("{PING}?idle_for=x")).header(Header::new("Origin", "null")).dispatch();
    assert_eq!(res.status(), Status::Forbidden);
    let res = client.post(format!("{PING}?idle_for=x")).dispatch();
    assert_eq!(res.status(), Status::Unauthorized);
    let (client, _clock) = signed_in(vec![]);
    assert_eq!(client.post(format!("{PING}?idle_for=x")).dispatch().status(), Status::BadRequest);
}

#[test]
fn get_is_not_a_ping() {
    let (client, _clock) = signed_in(vec![]);
    assert_eq!(client.get(format!("{PING}?idle_for=0")).dispatch().status(), Status::NotFound);
}

#[test]
fn the_ping_moves_with_base() {
    let (client, clock) = signed_in(vec![("base", "/ss".into())]);
    clock.advance(2);
    let res = client.post("/ss/ping?idle_for=1").dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(body_json(res)["idle_for"], 1);
}
