//! `POST /session-security/ping?idle_for=N`.

use crate::common::*;
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
    // The script leaves for the login page on this answer: the flash says why there.
    assert_eq!(set_names(&res), ["_flash"]);
    let flash = res.cookies().get("_flash").expect("the flash").value().to_string();
    assert_eq!(flash, "21:session_security:idleYou were signed out after 10 s of inactivity.");
    assert_eq!(body_json(res), json!({ "state": "expired", "reason": "idle" }));
    assert_eq!(client.get("/").dispatch().status(), Status::SeeOther, "signed out for good");
}

#[test]
fn no_client_value_revives_an_expired_session() {
    let (client, clock) = signed_in(vec![]);
    clock.advance(10);
    assert_eq!(body_json(ping(&client, "idle_for=0")), json!({ "state": "expired", "reason": "idle" }));
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

/// A closing tab's beacon: `navigator.sendBeacon` sets no `Accept`.
fn closing_beacon<'c>(client: &'c Client) -> LocalResponse<'c> {
    client.post(format!("{PING}?closing")).header(Header::new("Sec-Fetch-Site", "same-origin")).dispatch()
}

fn last_tab() -> Vec<(&'static str, rocket::figment::value::Value)> {
    vec![("end_with_last_tab", true.into()), ("last_tab_grace", 5.into())]
}

/// W=5, E=10, grace 5: a closing tab moves last activity to now − 10 + 5.
#[test]
fn a_closing_tab_ends_the_session_after_the_grace() {
    let (client, clock) = signed_in(last_tab());
    clock.advance(2);
    let res = closing_beacon(&client);
    assert_eq!(res.status(), Status::Ok);
    assert_no_store(&res);
    // Before the sign-in itself: a session younger than expire_after ends after the grace too.
    assert_eq!(stamp_of(&client, &res), Some((START, START - 3)));
    assert_eq!(body_json(res)["idle_for"], 5);
    clock.advance(4);
    assert_eq!(client.get("/poll").dispatch().status(), Status::Ok, "4 s into the grace: still on");
    clock.advance(1);
    assert_eq!(client.get("/").dispatch().status(), Status::SeeOther, "the grace is over");
}

#[test]
fn a_page_that_reports_within_the_grace_undoes_it() {
    // A page load (a reload, a link) and another tab's ping, each after the beacon.
    for undo in ["load", "ping"] {
        let (client, clock) = signed_in(last_tab());
        clock.advance(3);
        closing_beacon(&client);
        assert_eq!(held_stamp(&client), Some((START, START - 2)));
        clock.advance(1);
        match undo {
            "load" => assert_eq!(client.get("/").dispatch().status(), Status::Ok),
            // The other tab's person was last active 2 s ago, here or there.
            _ => assert_eq!(ping(&client, "idle_for=2").status(), Status::Ok),
        }
        let expected = if undo == "load" { START + 4 } else { START + 2 };
        assert_eq!(held_stamp(&client), Some((START, expected)), "{undo}");
        clock.advance(7);
        assert_eq!(client.get("/poll").dispatch().status(), Status::Ok, "{undo}: 7 s later, well past the grace");
    }
}

#[test]
fn a_closing_tab_never_extends_nor_revives() {
    let (client, clock) = signed_in(last_tab());
    clock.advance(7);
    // Already due to end in 3 s, sooner than the grace: unchanged.
    let res = closing_beacon(&client);
    assert_eq!(res.status(), Status::Ok);
    assert!(set_cookies(&res).is_empty(), "{:?}", set_cookies(&res));
    assert_eq!(body_json(res)["idle_for"], 7);
    // Nor does it count as activity, with idle_for or not.
    let res = ping(&client, "closing&idle_for=0");
    assert!(set_cookies(&res).is_empty(), "closing wins over idle_for");
    clock.advance(3);
    assert_eq!(body_json(closing_beacon(&client)), json!({ "state": "expired", "reason": "idle" }));
    assert_eq!(client.get("/").dispatch().status(), Status::SeeOther);
}

#[test]
fn closing_without_end_with_last_tab_is_a_clear_400() {
    let (client, clock) = signed_in(vec![]);
    clock.advance(2);
    let res = closing_beacon(&client);
    assert_eq!(res.status(), Status::BadRequest);
    assert!(set_cookies(&res).is_empty());
    assert_eq!(body_json(res), json!({ "error": "closing: end_with_last_tab is off on this server" }));
    assert_eq!(held_stamp(&client), Some((START, START)));
}

#[test]
fn a_closing_beacon_from_another_site_is_refused() {
    let (client, clock) = signed_in(last_tab());
    clock.advance(2);
    let res = client.post(format!("{PING}?closing")).header(Header::new("Sec-Fetch-Site", "cross-site")).dispatch();
    assert_eq!(res.status(), Status::Forbidden);
    assert!(set_cookies(&res).is_empty());
    assert_eq!(held_stamp(&client), Some((START, START)));
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
        vec![Header::new("Referer", "https://evil.example/page"), Header::new("Host", "localhost:8000")],
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

/// A ping from `peer` with `headers`: its status and body.
fn ping_from(client: &Client, peer: &str, headers: &[(&str, &str)]) -> (Status, serde_json::Value) {
    let mut req = client.post(format!("{PING}?idle_for=0")).remote(peer.parse().expect("an address"));
    for (name, value) in headers {
        req = req.header(Header::new(name.to_string(), value.to_string()));
    }
    let res = req.dispatch();
    (res.status(), body_json(res))
}

/// What nginx sends upstream for a page at http://intranet.example:8080
/// (reproduced on 7f5f431: every one of these pings was refused with 403).
const BEHIND_NGINX: [&str; 3] = [
    "127.0.0.1:8000",   // bare `proxy_pass http://127.0.0.1:8000;`
    "intranet.example", // `proxy_set_header Host $host;` (no port)
    "app",              // `proxy_pass http://app;` with `upstream app { … }`
];

#[test]
fn behind_nginx_fetch_metadata_decides_and_same_origin_pings_pass() {
    let (client, _clock) = signed_in(vec![]);
    for host in BEHIND_NGINX {
        let headers = [("Host", host), ("Origin", "http://intranet.example:8080"), ("Sec-Fetch-Site", "same-origin")];
        let (status, body) = ping_from(&client, "127.0.0.1:40000", &headers);
        assert_eq!((status, &body["state"]), (Status::Ok, &json!("active")), "Host {host}: {body}");
        // A cross-site ping stays refused whatever the proxy sends.
        let headers = [("Host", host), ("Origin", "https://evil.example"), ("Sec-Fetch-Site", "cross-site")];
        assert_eq!(ping_from(&client, "127.0.0.1:40000", &headers).0, Status::Forbidden, "Host {host}");
    }
}

#[test]
fn without_fetch_metadata_a_trusted_proxy_names_the_public_origin() {
    let trusted = ("trusted_proxies", vec!["127.0.0.1"].into());
    let (client, _clock) = signed_in(vec![trusted]);
    let forwarded = [("X-Forwarded-Host", "intranet.example:8080"), ("X-Forwarded-Proto", "http")];
    for host in BEHIND_NGINX {
        let same = [("Host", host), ("Origin", "http://intranet.example:8080"), forwarded[0], forwarded[1]];
        assert_eq!(ping_from(&client, "127.0.0.1:40000", &same).0, Status::Ok, "Host {host}");
        let evil = [("Host", host), ("Origin", "https://evil.example"), forwarded[0], forwarded[1]];
        let (status, body) = ping_from(&client, "127.0.0.1:40000", &evil);
        assert_eq!(status, Status::Forbidden, "Host {host}");
        assert!(body["error"].as_str().unwrap().contains("forwarded host intranet.example:8080"), "{body}");
        // The same headers from an untrusted peer are not believed.
        assert_eq!(ping_from(&client, "192.0.2.7:40000", &same).0, Status::Forbidden, "Host {host}");
    }
    // TLS at the proxy: the scheme comes with X-Forwarded-Proto, the port with X-Forwarded-Port.
    let tls = [
        ("Host", "127.0.0.1:8000"),
        ("Origin", "https://intranet.example:8443"),
        ("X-Forwarded-Host", "intranet.example"),
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Port", "8443"),
    ];
    assert_eq!(ping_from(&client, "127.0.0.1:40000", &tls).0, Status::Ok);
    let downgraded = [tls[0], ("Origin", "http://intranet.example:8443"), tls[2], tls[3], tls[4]];
    assert_eq!(ping_from(&client, "127.0.0.1:40000", &downgraded).0, Status::Forbidden);
}

#[test]
fn without_fetch_metadata_public_origins_name_the_site() {
    let public = ("public_origins", vec!["https://crm.example.com", "http://intranet.example:8080"].into());
    let (client, _clock) = signed_in(vec![public]);
    for origin in ["https://crm.example.com", "http://intranet.example:8080"] {
        let headers = [("Host", "127.0.0.1:8000"), ("Origin", origin)];
        assert_eq!(ping_from(&client, "127.0.0.1:40000", &headers).0, Status::Ok, "{origin}");
    }
    for origin in ["http://crm.example.com", "https://127.0.0.1:8000", "https://evil.example"] {
        let (status, body) = ping_from(&client, "127.0.0.1:40000", &[("Host", "127.0.0.1:8000"), ("Origin", origin)]);
        assert_eq!(status, Status::Forbidden, "{origin}");
        let error = body["error"].as_str().unwrap();
        assert!(error.contains("public_origins [https://crm.example.com, http://intranet.example:8080]"), "{error}");
    }
    // Without any setting, nginx's bare proxy_pass and a browser without Fetch Metadata disagree: refused, as before.
    let (client, _clock) = signed_in(vec![]);
    let (status, body) = ping_from(
        &client,
        "127.0.0.1:40000",
        &[("Host", "127.0.0.1:8000"), ("Origin", "http://intranet.example:8080")],
    );
    assert_eq!(status, Status::Forbidden);
    assert_eq!(
        body["error"],
        json!("cross-site request: Origin \"http://intranet.example:8080\" does not match Host 127.0.0.1:8000")
    );
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
