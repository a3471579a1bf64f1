//! The stamp, the verdict and `ActiveSession`, through the demo app.

use crate::common::*;
use rocket::http::{Cookie, Header, Status};
use rocket::local::blocking::Client;
use rocket_session_security::{testing, ExpiryReason, SessionEvent, SessionSecurity, Timeouts};
use std::sync::{Arc, Mutex};

#[test]
fn sign_in_sets_a_private_http_only_session_cookie() {
    let (client, _clock) = demo_with(vec![]);
    let res = sign_in(&client, "/form");
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(res.headers().get_one("Location"), Some("/form"));
    let stamp = set_cookies_named(&res, STAMP);
    assert_eq!(stamp.len(), 1, "{stamp:?}");
    let header = &stamp[0];
    assert!(header.contains("HttpOnly") && header.contains("SameSite=Strict") && header.contains("Path=/"), "{header}");
    assert!(!header.contains("Expires") && !header.contains("Max-Age"), "a browser-session cookie: {header}");
    assert!(!header.contains("Secure"), "no TLS, secure = false: {header}");
    assert!(!header.contains(&START.to_string()), "encrypted: {header}");
    assert_eq!(stamp_of(&client, &res), Some((START, START)));
    assert_eq!(set_cookies_named(&res, "user").len(), 1);
}

#[test]
fn secure_setting_and_same_site_reach_the_cookie() {
    let (client, _clock) = demo_with(vec![("secure", true.into()), ("same_site", "strict".into())]);
    let header = set_cookies_named(&sign_in(&client, "/"), STAMP).remove(0);
    assert!(header.contains("Secure") && header.contains("SameSite=Strict"), "{header}");
}

#[test]
fn wrong_password_sets_no_cookie() {
    let (client, _clock) = demo_with(vec![]);
    let res = client
        .post("/login")
        .header(rocket::http::ContentType::Form)
        .body("username=alice&password=nope&next=/")
        .dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert!(set_cookies(&res).is_empty());
    assert!(res.into_string().unwrap().contains("Wrong user name or password"));
}

#[test]
fn activity_moves_the_stamp_forward_once_per_second_at_most() {
    let (client, clock) = signed_in(vec![]);
    clock.advance(4);
    let res = client.get("/").dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(stamp_of(&client, &res), Some((START, START + 4)));
    // Same second: the value would not change, so nothing is re-issued.
    let res = client.get("/").dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert!(set_cookies_named(&res, STAMP).is_empty());
    // Non-guarded pages count as activity too.
    clock.advance(9);
    let res = client.get("/public").dispatch();
    assert_eq!(stamp_of(&client, &res), Some((START, START + 13)));
    clock.advance(9);
    assert_eq!(client.get("/").dispatch().status(), Status::Ok, "9 s idle < E=10");
}

#[test]
fn the_stamp_never_moves_backwards() {
    let (client, clock) = signed_in(vec![]);
    clock.advance(-30);
    let res = client.get("/").dispatch();
    assert_eq!(res.status(), Status::Ok, "a stamp from a clock ahead is 'just now'");
    assert!(set_cookies_named(&res, STAMP).is_empty(), "no older stamp is written");
    assert_eq!(held_stamp(&client), Some((START, START)));
}

#[test]
fn idle_expiry_redirects_pages_to_login_and_removes_the_cookies() {
    let (client, clock) = signed_in(vec![]);
    clock.advance(9);
    assert_eq!(client.get("/form?draft=1").dispatch().status(), Status::Ok);
    clock.advance(10);
    let res = client.get("/form?draft=1").dispatch();
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(res.headers().get_one("Location"), Some("/login?next=/form%3Fdraft%3D1"));
    let stamp = set_cookies_named(&res, STAMP);
    let user = set_cookies_named(&res, "user");
    assert!(stamp.len() == 1 && is_removal(&stamp[0]), "{stamp:?}");
    assert!(user.len() == 1 && is_removal(&user[0]), "{user:?}");
    assert!(held_stamp(&client).is_none() && client.cookies().get("user").is_none());
    // Now anonymous: still a redirect, nothing left to remove.
    let res = client.get("/").dispatch();
    assert_eq!(res.headers().get_one("Location"), Some("/login?next=/"));
    assert!(set_cookies(&res).is_empty());
}

#[test]
fn expiry_boundary_is_exactly_expire_after() {
    let (client, clock) = signed_in(vec![]);
    clock.advance(9);
    assert_eq!(client.get("/poll").dispatch().status(), Status::Ok, "passive: does not refresh");
    clock.advance(1);
    assert_eq!(client.get("/poll").dispatch().status(), Status::SeeOther);
}

#[test]
fn api_requests_get_a_json_401_never_a_redirect() {
    for header in [
        Header::new("Accept", "application/json"),
        Header::new("X-Requested-With", "XMLHttpRequest"),
        Header::new("Sec-Fetch-Mode", "cors"),
    ] {
        let (client, clock) = signed_in(vec![]);
        clock.advance(10);
        let res = client.get("/poll").header(header.clone()).dispatch();
        assert_eq!(res.status(), Status::Unauthorized, "{header}");
        assert!(res.headers().get_one("Location").is_none());
        assert_eq!(res.headers().get_one("Cache-Control"), Some("no-store"));
        assert_eq!(removed(&res), [STAMP, "user"], "{header}");
        // The script that gets this answer goes to the login page: the flash tells it why.
        assert_eq!(set_names(&res), ["_flash"], "{header}");
        let flash = res.cookies().get("_flash").map(|c| c.value().to_string()).unwrap_or_default();
        assert!(flash.starts_with("21:session_security:idle"), "{header}: {flash}");
        assert_eq!(body_json(res), serde_json::json!({ "error": "session_expired", "reason": "idle" }));
        let res = client.get("/poll").header(header.clone()).dispatch();
        assert_eq!(body_json(res), serde_json::json!({ "error": "not_signed_in" }));
    }
    // A browser navigation that accepts JSON and HTML is still a page.
    let (client, _) = demo_with(vec![]);
    let res = client
        .get("/")
        .header(Header::new("Accept", "text/html,application/json"))
        .header(Header::new("Sec-Fetch-Mode", "navigate"))
        .dispatch();
    assert_eq!(res.status(), Status::SeeOther);
    // Quality values count: the preferred type decides, wherever it stands in the list.
    for (accept, json) in
        [("text/html;q=0.9, application/json", true), ("application/json;q=0.5, text/html", false), ("*/*", false)]
    {
        let res = client.get("/").header(Header::new("Accept", accept)).dispatch();
        let expected = if json { Status::Unauthorized } else { Status::SeeOther };
        assert_eq!(res.status(), expected, "Accept: {accept}");
    }
}

#[test]
fn absolute_timeout_ends_even_an_active_session() {
    let (client, clock) = signed_in(vec![("absolute_timeout", 30.into())]);
    for _ in 0..3 {
        clock.advance(9);
        assert_eq!(client.get("/").dispatch().status(), Status::Ok);
    }
    clock.advance(3); // 30 s after sign-in
    let res = client.get("/").header(json_header()).dispatch();
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(body_json(res)["error"], "session_expired");
}

#[test]
fn absolute_timeout_zero_turns_it_off() {
    let (client, clock) = signed_in(vec![("absolute_timeout", 0.into())]);
    for _ in 0..100 {
        clock.advance(9);
        assert_eq!(client.get("/").dispatch().status(), Status::Ok);
    }
}

fn record_events(
    client_settings: Vec<(&str, rocket::figment::value::Value)>,
) -> (Client, rocket_session_security::ManualClock, Arc<Mutex<Vec<SessionEvent>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let clock = rocket_session_security::ManualClock::new(START);
    let fairing =
        SessionSecurity::fairing().clock(clock.clone()).audit(move |_, event| seen.lock().unwrap().push(*event));
    (demo(fairing, settings(client_settings)), clock, events)
}

#[test]
fn tampered_or_foreign_stamps_are_expired_never_fresh() {
    let (client, _clock, events) = record_events(vec![]);
    assert_eq!(sign_in(&client, "/").status(), Status::SeeOther);
    // Replace the sealed stamp with bytes that do not authenticate.
    let forged = Cookie::new(STAMP, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    let res = client.get("/").cookie(forged).dispatch();
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(removed(&res), [STAMP, "user"]);
    assert_eq!(
        events.lock().unwrap().as_slice(),
        [SessionEvent::SignedIn, SessionEvent::Expired(ExpiryReason::Invalid)]
    );
}

#[test]
fn a_sealed_stamp_with_a_foreign_payload_is_invalid() {
    let (client, _clock, events) = record_events(vec![]);
    assert_eq!(sign_in(&client, "/").status(), Status::SeeOther);
    // A value Rocket sealed with the app's key under the stamp's name: authentic
    // to Rocket, but not a stamp.
    let res = client.get("/").private_cookie(Cookie::new(STAMP, "9:1:2")).dispatch();
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(events.lock().unwrap().last(), Some(&SessionEvent::Expired(ExpiryReason::Invalid)));
}

#[test]
fn a_login_cookie_without_a_stamp_is_expired() {
    let (client, _clock, events) = record_events(vec![]);
    let res = client.get("/").private_cookie(Cookie::new("user", "mallory")).dispatch();
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(removed(&res), [STAMP, "user"]);
    assert_eq!(set_names(&res), ["_flash"], "the login page learns why");
    assert_eq!(events.lock().unwrap().as_slice(), [SessionEvent::Expired(ExpiryReason::Invalid)]);
}

#[test]
fn a_stamp_without_any_login_cookie_is_anonymous_and_kept() {
    let (client, _clock, events) = record_events(vec![]);
    let stamp_alone = testing::session(client.rocket()).signed_in_at(START).stamp_only().cookies();
    let res = client.get("/public").cookies(stamp_alone).dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(set_cookies(&res), Vec::<String>::new(), "nothing set, nothing removed");
    assert!(events.lock().unwrap().is_empty());
}

#[test]
fn audit_hook_hears_idle_and_absolute_expiry_and_sign_out() {
    let (client, clock, events) = record_events(vec![("absolute_timeout", 20.into())]);
    sign_in(&client, "/");
    clock.advance(10);
    client.get("/").dispatch();
    sign_in(&client, "/");
    for _ in 0..2 {
        clock.advance(9);
        client.get("/").dispatch();
    }
    clock.advance(2);
    client.get("/").dispatch();
    sign_in(&client, "/");
    client.post("/logout").dispatch();
    use SessionEvent::*;
    let events = events.lock().unwrap().clone();
    assert_eq!(
        events[..5],
        [SignedIn, Expired(ExpiryReason::Idle), SignedIn, Expired(ExpiryReason::Absolute), SignedIn]
    );
    // The sign-out revokes the session itself: kept until a copy used now would be idle-expired.
    let now = START + 30;
    assert!(
        matches!(events[5], Revoked(rocket_session_security::Revocation::Session { at, until, .. }) if at == now && until == now + 10 + 30),
        "{events:?}"
    );
    assert_eq!(events[6..], [SignedOut]);
}

#[test]
fn a_fresh_sign_in_on_an_expired_request_wins() {
    let (client, clock) = signed_in(vec![]);
    clock.advance(60);
    let res = sign_in(&client, "/");
    assert_eq!(res.status(), Status::SeeOther);
    let stamps = set_cookies_named(&res, STAMP);
    let users = set_cookies_named(&res, "user");
    assert_eq!(stamps.len(), 1, "never two Set-Cookie for one name: {stamps:?}");
    assert_eq!(users.len(), 1, "never two Set-Cookie for one name: {users:?}");
    assert!(!is_removal(&stamps[0]) && !is_removal(&users[0]));
    assert_eq!(stamp_of(&client, &res), Some((START + 60, START + 60)));
    assert_eq!(client.get("/").dispatch().status(), Status::Ok);
}

#[test]
fn sign_out_removes_the_stamp_and_login_cookies_once() {
    let (client, _clock) = signed_in(vec![]);
    let res = client.post("/logout").dispatch();
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(res.headers().get_one("Location"), Some("/login"));
    for name in [STAMP, "user"] {
        let set = set_cookies_named(&res, name);
        assert!(set.len() == 1 && is_removal(&set[0]), "{name}: {set:?}");
    }
    assert_eq!(client.get("/").dispatch().status(), Status::SeeOther);
}

#[test]
fn passive_urls_exact_and_prefix_and_route_names_never_count_as_activity() {
    let (client, clock) = signed_in(vec![("passive_routes", vec!["form_page"].into())]);
    clock.advance(3);
    for path in ["/poll", "/form", "/session-security/static/session-security.js"] {
        let res = client.get(path).dispatch();
        assert_eq!(res.status(), Status::Ok, "{path}");
        assert!(set_cookies_named(&res, STAMP).is_empty(), "{path} is passive");
    }
    assert_eq!(stamp_of(&client, &client.get("/").dispatch()), Some((START, START + 3)));

    let (client, clock) = signed_in(vec![("passive_urls", vec!["/pub*"].into())]);
    clock.advance(3);
    assert!(set_cookies_named(&client.get("/public").dispatch(), STAMP).is_empty());
    assert_eq!(
        stamp_of(&client, &client.get("/form").dispatch()),
        Some((START, START + 3)),
        "/poll is no longer passive: the table was replaced"
    );
}

#[test]
fn protected_pages_are_not_cached() {
    let (client, _clock) = signed_in(vec![]);
    let res = client.get("/").dispatch();
    assert_eq!(res.headers().get_one("Cache-Control"), Some("no-store"));
    let res = client.get("/public").dispatch();
    assert_eq!(res.headers().get_one("Cache-Control"), None);
}

#[test]
fn next_is_always_a_local_path() {
    let (client, _clock) = demo_with(vec![]);
    let res = client.get("//form").dispatch();
    assert_eq!(res.headers().get_one("Location"), Some("/login?next=/form"));
    let res = client.get("/%2F%2Fevil.example/").dispatch();
    let location = res.headers().get_one("Location").map(str::to_string);
    assert!(matches!(location.as_deref(), Some("/login?next=/") | None), "{location:?}");
    for evil in
        ["//evil.example", "/%2F%2Fevil.example", "https://evil.example", "/\\evil.example", "javascript:alert(1)"]
    {
        let (client, _clock) = demo_with(vec![]);
        let encoded: String =
            percent_encoding::utf8_percent_encode(evil, percent_encoding::NON_ALPHANUMERIC).to_string();
        let res = sign_in(&client, &encoded);
        assert_eq!(res.headers().get_one("Location"), Some("/"), "{evil}");
    }
}

#[test]
fn the_stamp_is_secure_whenever_rocket_runs_tls() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let tls = rocket::figment::util::map![
        "certs" => format!("{fixtures}/tls-cert.pem"),
        "key" => format!("{fixtures}/tls-key.pem"),
    ];
    let clock = rocket_session_security::ManualClock::new(START);
    let client = demo(SessionSecurity::fairing().clock(clock.clone()), settings(vec![]).merge(("tls", tls)));
    let res = sign_in(&client, "/");
    for header in set_cookies_named(&res, STAMP) {
        assert!(
            header.contains("Secure") && header.contains("HttpOnly") && header.contains("SameSite=Strict"),
            "{header}"
        );
    }
    clock.advance(2);
    let res = client.get("/").dispatch();
    let header = set_cookies_named(&res, STAMP).remove(0);
    assert!(header.contains("Secure") && header.contains("HttpOnly"), "{header}");
}

#[test]
fn every_stamp_header_is_http_only_with_the_configured_same_site() {
    for (same_site, expected) in [("lax", "SameSite=Lax"), ("strict", "SameSite=Strict")] {
        let (client, clock) = signed_in(vec![("same_site", same_site.into())]);
        let mut seen = 0;
        for step in 0..12 {
            clock.advance(1);
            let res = match step % 3 {
                0 => client.get("/").dispatch(),
                1 => client.post("/session-security/ping?idle_for=0").dispatch(),
                _ => client.get("/public").dispatch(),
            };
            for header in set_cookies_named(&res, STAMP) {
                assert!(
                    header.contains("HttpOnly") && header.contains(expected) && header.contains("Path=/"),
                    "{header}"
                );
                seen += 1;
            }
        }
        assert!(seen >= 8, "{seen} stamps seen");
    }
}

/// An app whose login cookie is `login` (a `__Host-` name, or one set with a `Domain`).
fn app_with_login_cookie(login: &'static str, extra: Vec<(&str, rocket::figment::value::Value)>) -> Client {
    #[rocket::post("/in/<name>")]
    fn sign_in_as(name: &str, jar: &rocket::http::CookieJar<'_>, tracker: rocket_session_security::SessionTracker<'_>) {
        let cookie = rocket::http::Cookie::build((name.to_string(), "42")).path("/").secure(true);
        let cookie = if name.starts_with("__Host-") { cookie } else { cookie.domain("example.com") };
        jar.add_private(cookie);
        tracker.sign_in();
    }
    #[rocket::post("/out")]
    fn sign_out(tracker: rocket_session_security::SessionTracker<'_>) {
        tracker.sign_out();
    }
    let mut settings_extra = vec![("login_cookies", vec![login].into()), ("secure", true.into())];
    settings_extra.extend(extra);
    let rocket = rocket::custom(settings(settings_extra))
        .attach(rocket_session_security::SessionSecurity::fairing())
        .mount("/", rocket::routes![sign_in_as, sign_out]);
    Client::tracked(rocket).expect("launches")
}

#[test]
fn sign_out_removes_prefixed_and_domain_login_cookies_as_the_browser_holds_them() {
    let client = app_with_login_cookie("__Host-uid", vec![]);
    assert_eq!(client.post("/in/__Host-uid").dispatch().status(), Status::Ok);
    let out = client.post("/out").dispatch();
    let removal = set_cookies_named(&out, "__Host-uid");
    // Without Secure a browser ignores a Set-Cookie for a __Host- name: the cookie would stay.
    assert!(removal.len() == 1 && is_removal(&removal[0]), "{removal:?}");
    assert!(removal[0].contains("; Secure") && removal[0].contains("Path=/") && !removal[0].contains("Domain"));
    let stamp = set_cookies_named(&out, STAMP);
    assert!(stamp.len() == 1 && is_removal(&stamp[0]) && stamp[0].contains("; Secure"), "{stamp:?}");

    let client = app_with_login_cookie("uid", vec![("login_cookie_domain", "example.com".into())]);
    assert_eq!(client.post("/in/uid").dispatch().status(), Status::Ok);
    let out = client.post("/out").dispatch();
    let removal = set_cookies_named(&out, "uid");
    // A cookie set with a Domain is another cookie than a host-only one: the removal names it.
    assert!(removal.len() == 1 && removal[0].contains("Domain=example.com"), "{removal:?}");
    assert!(set_cookies_named(&out, STAMP).iter().all(|c| !c.contains("Domain")), "the stamp stays host-only");
}

#[test]
fn two_apps_under_one_key_show_one_person_two_tags() {
    let person = |extra: Vec<(&str, rocket::figment::value::Value)>| {
        let base = extra.iter().find(|(k, _)| *k == "base").and_then(|(_, v)| v.as_str().map(str::to_string));
        let ping = format!("{}/ping", base.unwrap_or_else(|| "/session-security".into()));
        let client = Client::tracked(app::rocket_with(SessionSecurity::fairing(), settings(extra))).expect("launches");
        assert_eq!(sign_in(&client, "/").status(), Status::SeeOther);
        let answer = client.post(ping).dispatch();
        body_json(answer)["person"].as_str().expect("a person tag").to_string()
    };
    let (crm, crm_again) = (person(vec![]), person(vec![]));
    assert_eq!(crm, crm_again, "stable for one app");
    assert_ne!(crm, person(vec![("base", "/other-app".into())]));
    assert_ne!(crm, person(vec![("cookie_name", "other_app_stamp".into())]));
}

// ------------------------------------------------- the session's own timing

fn sign_in_as<'c>(client: &'c Client, user: &str, next: &str) -> rocket::local::blocking::LocalResponse<'c> {
    client
        .post("/login")
        .header(rocket::http::ContentType::Form)
        .body(format!("username={user}&password=demo&next={next}"))
        .dispatch()
}

/// The stamp the client holds, whole.
fn held(client: &Client) -> testing::Stamp {
    let value = client.cookies().get(STAMP).map(|c| c.value().to_string()).expect("a stamp");
    testing::read_stamp(client.rocket(), &value).expect("it opens")
}

#[test]
fn the_timing_is_sealed_at_sign_in_and_every_route_and_the_ping_state_it() {
    // The demo gives a name starting with "admin" half of E=10, warned 20 s before (at least 1 s).
    let (client, _clock) = demo_with(vec![]);
    drop(sign_in_as(&client, "admin-ann", "/"));
    let admin = Timeouts { warn_after: 1, expire_after: 5, absolute_timeout: 43_200 };
    assert_eq!(held(&client).timeouts(), admin);
    let answer = body_json(client.post("/session-security/ping?idle_for=0").dispatch());
    assert_eq!((answer["warn_after"].as_u64(), answer["expire_after"].as_u64()), (Some(1), Some(5)));
    let page = client.get("/").dispatch().text();
    assert!(page.contains("data-warn-after=\"1\"") && page.contains("data-expire-after=\"5\""), "{page}");
    // Everyone else: the configured timing.
    let (client, _clock) = signed_in(vec![]);
    assert_eq!(held(&client).timeouts(), Timeouts { warn_after: 5, expire_after: 10, absolute_timeout: 43_200 });
    let answer = body_json(client.post("/session-security/ping?idle_for=0").dispatch());
    assert_eq!((answer["warn_after"].as_u64(), answer["expire_after"].as_u64()), (Some(5), Some(10)));
}

/// The reproduction of 0.2's route-keyed hook: a route with a longer timing
/// revived a session idle-expired everywhere else, and requesting another
/// route first bypassed a short one. The timing is the session's now.
#[test]
fn no_route_revives_or_bypasses_the_sessions_own_timing() {
    let (client, clock) = demo_with(vec![]);
    drop(sign_in_as(&client, "admin", "/"));
    clock.advance(4);
    // Another route, unguarded, is activity of the person: it does not lengthen the limit.
    assert_eq!(client.get("/public").dispatch().status(), Status::Ok);
    assert_eq!(held(&client).timeouts().expire_after, 5, "still the admin's timing");
    clock.advance(5);
    // Idle 5 s ≥ 5 s: over on every route and the ping, whatever was requested before.
    let copy: Vec<Cookie<'static>> = client.cookies().iter().map(|c| c.clone().into_owned()).collect();
    let res = client.post("/session-security/ping?idle_for=0").cookies(copy.clone()).dispatch();
    assert_eq!(body_json(res)["reason"], "idle");
    for path in ["/", "/form", "/sessions", "/sensitive"] {
        let res = client.get(path).cookies(copy.clone()).dispatch();
        assert_eq!(location(&res), Some(format!("/login?next={path}")), "{path}");
    }
    let res = client.get("/me").cookies(copy).header(json_header()).dispatch();
    assert_eq!(body_json(res), serde_json::json!({ "error": "session_expired", "reason": "idle" }));
    // A user's session of the same configuration is alive at the same idle time.
    let (client, clock) = signed_in(vec![]);
    clock.advance(9);
    assert_eq!(client.get("/").dispatch().status(), Status::Ok);
}

#[test]
fn a_stamp_sealed_under_a_longer_configuration_is_held_to_the_current_one() {
    let (client, clock) = demo_with(vec![("absolute_timeout", 100.into())]);
    let longer = Timeouts { warn_after: 50, expire_after: 60, absolute_timeout: 0 };
    let cookies = testing::session(client.rocket()).private_login_cookie("user", "alice").timeouts(longer).cookies();
    clock.advance(9);
    let res = client.post("/session-security/ping").cookies(cookies.clone()).dispatch();
    let answer = body_json(res);
    assert_eq!((answer["warn_after"].as_u64(), answer["expire_after"].as_u64()), (Some(5), Some(10)));
    clock.advance(1);
    let res = client.get("/me").cookies(cookies).header(json_header()).dispatch();
    assert_eq!(body_json(res), serde_json::json!({ "error": "session_expired", "reason": "idle" }));
}

#[test]
fn sensitive_pages_ask_for_a_recent_sign_in_without_ending_the_session() {
    let (client, clock) = signed_in(vec![]);
    clock.advance(9);
    assert_eq!(client.get("/sensitive").dispatch().status(), Status::Ok, "signed in 9 s ago < 20 s");
    clock.advance(9);
    assert_eq!(client.get("/sensitive").dispatch().status(), Status::Ok, "18 s");
    clock.advance(2);
    let res = client.get("/sensitive").dispatch();
    assert_eq!((res.status(), location(&res).as_deref()), (Status::SeeOther, Some("/login?next=/sensitive")));
    assert_eq!(res.headers().get_one("Cache-Control"), Some("no-store"));
    assert_eq!(removed(&res), Vec::<String>::new(), "the session stays");
    drop(res);
    // Not activity: the refused request did not move the last activity.
    assert_eq!(held(&client).last_activity(), START + 18);
    let res = client.get("/sensitive").dispatch();
    let flash = set_cookies_named(&res, "_flash");
    assert!(flash.len() == 1 && flash[0].contains("session_security%3Areauthenticate"), "{flash:?}");
    drop(res);
    let login = client.get("/login?next=/sensitive").dispatch().text();
    assert!(login.contains("Please sign in again to continue"), "{login}");
    // An API call: JSON, and still signed in.
    let res = client.get("/sensitive").header(json_header()).dispatch();
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(body_json(res), serde_json::json!({ "error": "reauthentication_required" }));
    assert_eq!(client.get("/").dispatch().status(), Status::Ok);
}

#[test]
fn signing_in_again_as_the_same_person_renews_the_session() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let record = events.clone();
    let clock = rocket_session_security::ManualClock::new(START);
    let fairing =
        SessionSecurity::fairing().clock(clock.clone()).audit(move |_, event| record.lock().unwrap().push(*event));
    let client = demo(fairing, settings(vec![("absolute_timeout", 30.into())]));
    drop(sign_in(&client, "/"));
    let before = held(&client);
    let older_copy: Vec<Cookie<'static>> = client.cookies().iter().map(|c| c.clone().into_owned()).collect();
    for step in [9, 9, 7] {
        clock.advance(step);
        assert_eq!(client.get("/").dispatch().status(), Status::Ok);
    }
    let res = sign_in(&client, "/sensitive");
    assert_eq!(location(&res).as_deref(), Some("/sensitive"));
    assert_eq!(removed(&res), Vec::<String>::new());
    drop(res);
    let after = held(&client);
    assert_eq!(after.session_id(), before.session_id(), "the same session");
    assert_eq!((after.signed_in_at(), after.last_activity()), (START + 25, START + 25), "both timers restart");
    // The sessions list holds the one session, with its renewed sign-in.
    let list = body_json(client.get("/api/sessions").dispatch());
    let list = list.as_array().expect("a list");
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["signed_in"], serde_json::json!(START + 25));
    assert_eq!(client.get("/sensitive").dispatch().status(), Status::Ok);
    assert_eq!(events.lock().unwrap().as_slice(), [SessionEvent::SignedIn, SessionEvent::Reauthenticated]);
    // The absolute limit counts from the renewed sign-in: 40 s after the first, 15 after the second.
    for step in [9, 6] {
        clock.advance(step);
        assert_eq!(client.get("/").dispatch().status(), Status::Ok, "15 s after the renewal < 30 s");
    }
    // A copy of the cookies taken before the renewal (a browser shares one jar, so
    // only a copy can be older): still this session, but its sign-in time is the old one.
    let res = client.get("/me").cookies(older_copy).header(json_header()).dispatch();
    assert_eq!(body_json(res)["reason"], "absolute");
}

#[test]
fn someone_else_signing_in_starts_a_new_session_and_ends_the_old_one() {
    let (client, clock) = signed_in(vec![]);
    let alice: Vec<Cookie<'static>> = client.cookies().iter().map(|c| c.clone().into_owned()).collect();
    let first = held(&client).session_id();
    clock.advance(2);
    drop(sign_in_as(&client, "bob", "/"));
    assert_ne!(held(&client).session_id(), first);
    assert!(client.get("/").dispatch().text().contains("bob"));
    // Alice's cookies, replayed, are refused: her session ended when bob signed in here.
    let res = client.get("/me").cookies(alice).header(json_header()).dispatch();
    assert_eq!(body_json(res), serde_json::json!({ "error": "session_expired", "reason": "revoked" }));
}
