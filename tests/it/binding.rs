//! The stamp is bound to the person who signed in, and only the person's own
//! requests count as activity: the four reproductions of the security review,
//! through the demo on a local client (manual clock) and over real HTTP.

use crate::common::*;
use rocket::http::{ContentType, Cookie, CookieJar, Header, Status};
use rocket::local::blocking::{Client, LocalResponse};
use rocket::{get, post, routes};
use rocket_session_security::{
    testing, ActiveSession, Config, ExpiryReason, ManualClock, SessionEvent, SessionSecurity, SessionTracker,
};
use std::sync::{Arc, Mutex};

type Events = Arc<Mutex<Vec<SessionEvent>>>;

/// The demo, untracked (each request carries exactly what the test gives it),
/// with a manual clock and an audit trail.
fn untracked_demo() -> (Client, ManualClock, Events) {
    let events = Events::default();
    let seen = events.clone();
    let clock = ManualClock::new(START);
    let fairing =
        SessionSecurity::fairing().clock(clock.clone()).audit(move |_, event| seen.lock().unwrap().push(*event));
    let client = Client::untracked(app::rocket_with(fairing, settings(vec![]))).expect("the demo launches");
    (client, clock, events)
}

/// Signs `user` in; returns their two cookies as the browser holds them.
fn sign_in_as(client: &Client, user: &str) -> (Cookie<'static>, Cookie<'static>) {
    let res = client.post("/login").header(ContentType::Form).body(format!("username={user}&password=demo")).dispatch();
    assert_eq!(res.status(), Status::SeeOther, "{user} signs in");
    let login = res.cookies().get("user").expect("the login cookie").clone().into_owned();
    let stamp = res.cookies().get(STAMP).expect("the stamp").clone().into_owned();
    (login, stamp)
}

fn get_with<'c>(client: &'c Client, path: &str, cookies: &[&Cookie<'static>]) -> LocalResponse<'c> {
    client.get(path.to_string()).cookies(cookies.iter().map(|c| (*c).clone())).dispatch()
}

fn assert_expired_invalid(res: LocalResponse<'_>, events: &Events) {
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(res.headers().get_one("Location"), Some("/login?next=/"));
    assert_eq!(removed(&res), [STAMP, "user"]);
    assert_eq!(set_names(&res), ["_flash"]);
    assert_eq!(events.lock().unwrap().last(), Some(&SessionEvent::Expired(ExpiryReason::Invalid)));
}

// ------------------------------------------------ 1. identity, not only time

#[test]
fn an_old_login_cookie_with_someone_elses_fresh_stamp_is_expired() {
    let (client, clock, events) = untracked_demo();
    let (alice_login, alice_stamp) = sign_in_as(&client, "alice");
    assert_eq!(get_with(&client, "/", &[&alice_login, &alice_stamp]).status(), Status::Ok);
    // Alice signs out (her browser drops both cookies); the attacker kept a copy of her login cookie.
    assert_eq!(
        client.post("/logout").cookies([alice_login.clone(), alice_stamp]).dispatch().status(),
        Status::SeeOther
    );
    clock.advance(3 * 3600);
    let (_mallory_login, mallory_stamp) = sign_in_as(&client, "mallory");
    assert_expired_invalid(get_with(&client, "/", &[&alice_login, &mallory_stamp]), &events);
    // The ping agrees.
    let ping = client.post("/session-security/ping?idle_for=0").cookies([alice_login, mallory_stamp]).dispatch();
    assert_eq!(ping.status(), Status::Unauthorized);
    assert_eq!(body_json(ping), serde_json::json!({ "state": "expired", "reason": "invalid" }));
}

#[test]
fn two_people_signed_in_at_once_cannot_swap_stamps() {
    let (client, _clock, events) = untracked_demo();
    let (alice_login, alice_stamp) = sign_in_as(&client, "alice");
    let (bob_login, bob_stamp) = sign_in_as(&client, "bob");
    let page = |login: &Cookie<'static>, stamp: &Cookie<'static>| get_with(&client, "/", &[login, stamp]);
    let alice_page = page(&alice_login, &alice_stamp).text();
    assert!(alice_page.contains("alice"), "{alice_page}");
    assert!(page(&bob_login, &bob_stamp).text().contains("bob"));
    assert_expired_invalid(page(&alice_login, &bob_stamp), &events);
    assert_expired_invalid(page(&bob_login, &alice_stamp), &events);
}

#[test]
fn the_browser_gets_one_opaque_tag_per_person() {
    let (client, _clock, _events) = untracked_demo();
    let person_of = |user: &str| {
        let (login, stamp) = sign_in_as(&client, user);
        let res = client.post("/session-security/ping?idle_for=0").cookies([login.clone(), stamp.clone()]).dispatch();
        let from_ping = body_json(res)["person"].as_str().unwrap_or_default().to_string();
        let page = get_with(&client, "/", &[&login, &stamp]).text();
        assert!(page.contains(&format!("data-person=\"{from_ping}\"")), "the snippet carries the ping's tag");
        from_ping
    };
    let (alice, alice_again, bob) = (person_of("alice"), person_of("alice"), person_of("bob"));
    assert_eq!(alice.len(), 16);
    assert_eq!(alice, alice_again, "the same person on every sign-in");
    assert_ne!(alice, bob);
    assert!(!alice.contains("alice"));
}

// ---------------------------- 2. a link from another site ends nothing

#[test]
fn a_link_from_another_site_then_a_same_site_request_keeps_the_session() {
    let (client, clock, events) = untracked_demo();
    let (login, stamp) = sign_in_as(&client, "alice");
    clock.advance(2);
    // SameSite: a click from mail or chat sends a Lax stamp without the Strict login cookie.
    let from_mail = client
        .get("/form")
        .cookie(stamp.clone())
        .header(Header::new("Sec-Fetch-Site", "cross-site"))
        .header(Header::new("Sec-Fetch-Mode", "navigate"))
        .header(Header::new("Sec-Fetch-User", "?1"))
        .dispatch();
    assert_eq!(from_mail.status(), Status::SeeOther, "anonymous for this one request");
    assert_eq!(removed(&from_mail), Vec::<String>::new(), "nothing removed");
    assert_eq!(set_names(&from_mail), Vec::<String>::new(), "no flash: nothing expired");
    // The person clicks on: the browser sends both again.
    let next = client
        .get("/form")
        .cookies([login, stamp])
        .header(Header::new("Sec-Fetch-Site", "same-origin"))
        .header(Header::new("Sec-Fetch-Mode", "navigate"))
        .dispatch();
    assert_eq!(next.status(), Status::Ok);
    assert_eq!(events.lock().unwrap().as_slice(), [SessionEvent::SignedIn]);
}

#[test]
fn the_stamp_and_rockets_private_cookie_are_both_strict_so_they_travel_together() {
    let (client, _clock, _events) = untracked_demo();
    let res = client.post("/login").header(ContentType::Form).body("username=alice&password=demo").dispatch();
    for name in [STAMP, "user"] {
        let headers = set_cookies_named(&res, name);
        assert_eq!(headers.len(), 1, "{name}: {headers:?}");
        assert!(headers[0].contains("SameSite=Strict"), "{}", headers[0]);
    }
}

// --------------- 3. only the person's own requests count as activity

fn stamp_moves(res: &LocalResponse<'_>) -> bool {
    !set_cookies_named(res, STAMP).is_empty()
}

/// The response set a new stamp (a value, not a removal).
fn restamps(res: &LocalResponse<'_>) -> bool {
    set_names(res).iter().any(|name| name == STAMP)
}

#[test]
fn images_from_a_sibling_subdomain_or_another_site_never_keep_a_session_alive() {
    for site in ["same-site", "cross-site"] {
        let (client, clock) = signed_in(vec![]);
        // An <img> every 3 s, and a script's fetch, for longer than expire_after (10 s).
        for _ in 0..5 {
            clock.advance(3);
            for (mode, dest) in [("no-cors", "image"), ("cors", "empty")] {
                let res = client
                    .get("/")
                    .header(Header::new("Sec-Fetch-Site", site))
                    .header(Header::new("Sec-Fetch-Mode", mode))
                    .header(Header::new("Sec-Fetch-Dest", dest))
                    .dispatch();
                assert!(!restamps(&res), "{site} {dest} at {:?}", held_stamp(&client));
            }
        }
        assert_eq!(held_stamp(&client), None, "{site}: expired at 12 s and removed");
        assert_eq!(client.get("/").dispatch().status(), Status::SeeOther, "{site}: signed out");
    }
}

#[test]
fn a_navigation_from_elsewhere_counts_only_when_the_person_started_it() {
    // Lax cookies, so a cross-site navigation carries both.
    let (client, clock) = signed_in(vec![("same_site", "lax".into())]);
    let navigate = |user: Option<&str>| {
        let mut request = client
            .get("/")
            .header(Header::new("Sec-Fetch-Site", "cross-site"))
            .header(Header::new("Sec-Fetch-Mode", "navigate"))
            .header(Header::new("Sec-Fetch-Dest", "document"));
        if let Some(user) = user {
            request = request.header(Header::new("Sec-Fetch-User", user.to_string()));
        }
        request.dispatch()
    };
    clock.advance(3);
    assert!(!stamp_moves(&navigate(None)), "a script's or a frame's navigation");
    assert_eq!(held_stamp(&client), Some((START, START)));
    assert!(stamp_moves(&navigate(Some("?1"))), "a click on a link in mail");
    assert_eq!(held_stamp(&client), Some((START, START + 3)));
    // Same-origin, typed (none) and header-less requests count as before.
    for headers in
        [vec![("Sec-Fetch-Site", "same-origin"), ("Sec-Fetch-Mode", "cors")], vec![("Sec-Fetch-Site", "none")], vec![]]
    {
        clock.advance(2);
        let mut request = client.get("/");
        for (name, value) in &headers {
            request = request.header(Header::new(*name, *value));
        }
        assert!(stamp_moves(&request.dispatch()), "{headers:?}");
    }
}

#[test]
fn a_request_no_route_answers_is_not_activity() {
    let (client, clock) = signed_in(vec![]);
    clock.advance(3);
    let res = client.get("/no-such-page.png").dispatch();
    assert_eq!(res.status(), Status::NotFound);
    assert!(!stamp_moves(&res));
    assert_eq!(held_stamp(&client), Some((START, START)));
}

// ------------------------------- 4. passive paths, however they are spelled

#[test]
fn every_spelling_of_a_passive_path_is_passive() {
    for spelling in ["/poll", "/poll/", "//poll", "/%70oll", "/%70%6f%6c%6c", "///poll//"] {
        let (client, clock) = signed_in(vec![]);
        for _ in 0..4 {
            clock.advance(3);
            let res = client.get(spelling).header(json_header()).dispatch();
            if res.status() == Status::Unauthorized {
                break;
            }
            assert_eq!(res.status(), Status::Ok, "{spelling} reaches the poll route");
            assert!(!stamp_moves(&res), "{spelling}");
        }
        assert_eq!(client.get("/").dispatch().status(), Status::SeeOther, "{spelling}: polling kept nothing alive");
    }
    // The crate's own routes too.
    let (client, clock) = signed_in(vec![]);
    clock.advance(3);
    let res = client.get("//session-security/static/session-security.css").dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert!(!stamp_moves(&res));
}

// ----------------------------------- an app that re-issues its login cookie

const KEY: &str = SECRET;

#[post("/login?<user>")]
fn rolling_login(user: &str, jar: &CookieJar<'_>, tracker: SessionTracker<'_>) {
    jar.add_private(("user", user.to_string()));
    tracker.sign_in();
}

#[get("/page")]
fn rolling_page(_session: ActiveSession, jar: &CookieJar<'_>) -> String {
    jar.get_private("user").map(|c| c.value().to_string()).unwrap_or_default()
}

/// Re-issues the login cookie for the same person (a new nonce, a new value on the wire).
#[get("/refresh")]
fn rolling_refresh(_session: ActiveSession, jar: &CookieJar<'_>) {
    if let Some(user) = jar.get_private("user") {
        jar.add_private(("user", user.value().to_string()));
    }
}

/// Puts someone else's login cookie in place without `sign_in()`.
#[get("/switch")]
fn rolling_switch(_session: ActiveSession, jar: &CookieJar<'_>) {
    jar.add_private(("user", "mallory"));
}

fn rolling_app() -> (Client, ManualClock) {
    let clock = ManualClock::new(START);
    let config = Config {
        warn_after: 5,
        expire_after: 10,
        wcag_timing_check: false,
        login_cookies: vec!["user".into()],
        ..Config::default()
    };
    let figment = rocket::Config::figment().merge(("secret_key", KEY)).merge(("log_level", "off"));
    let rocket = rocket::custom(figment)
        .attach(SessionSecurity::with_config(config).clock(clock.clone()))
        .mount("/", routes![rolling_login, rolling_page, rolling_refresh, rolling_switch]);
    (Client::tracked(rocket).expect("launches"), clock)
}

#[test]
fn a_login_cookie_the_app_reissues_for_the_same_person_keeps_the_session() {
    let (client, clock) = rolling_app();
    assert_eq!(client.post("/login?user=alice").dispatch().status(), Status::Ok);
    let first = client.cookies().get("user").map(|c| c.value().to_string());
    clock.advance(1);
    let res = client.get("/refresh").dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(set_names(&res), [STAMP, "user"], "re-bound in the same response");
    assert_ne!(client.cookies().get("user").map(|c| c.value().to_string()), first, "a new value on the wire");
    clock.advance(1);
    assert_eq!(client.get("/page").dispatch().into_string().as_deref(), Some("alice"));
}

#[test]
fn a_reissued_login_cookie_racing_an_older_stamp_still_names_the_same_person() {
    // Two requests in flight at once: one re-issues the login cookie, the
    // other (sent with the old pair) re-issues the stamp; the browser keeps
    // the new login cookie and the stamp bound to the old one.
    let (client, clock) = rolling_app();
    client.post("/login?user=alice").dispatch();
    let old_stamp = client.cookies().get(STAMP).expect("stamp").clone().into_owned();
    clock.advance(1);
    client.get("/refresh").dispatch();
    let new_login = client.cookies().get("user").expect("user").clone().into_owned();
    let res = client.get("/page").cookies([new_login.clone(), old_stamp]).dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(set_names(&res), [STAMP], "re-bound to the new login cookie");
    let rebound = res.cookies().get(STAMP).expect("a new stamp").clone().into_owned();
    assert_eq!(client.get("/page").cookies([new_login, rebound]).dispatch().status(), Status::Ok);
}

#[test]
fn someone_elses_login_cookie_without_sign_in_ends_the_session() {
    let (client, _clock) = rolling_app();
    client.post("/login?user=alice").dispatch();
    assert_eq!(client.get("/switch").dispatch().status(), Status::Ok);
    let res = client.get("/page").dispatch();
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(removed(&res), [STAMP, "user"]);
}

#[test]
fn the_testing_helper_binds_its_stamp_and_refuses_to_make_a_misleading_one() {
    let (client, _clock) = rolling_app();
    let cookies = testing::session(client.rocket()).private_login_cookie("user", "alice").signed_in_at(START).cookies();
    assert_eq!(client.get("/page").cookies(cookies).dispatch().into_string().as_deref(), Some("alice"));
    // Another person's login cookie with that stamp: not a session.
    let stamp = testing::session(client.rocket()).private_login_cookie("user", "alice").signed_in_at(START).stamp();
    let other = testing::session(client.rocket()).private_login_cookie("user", "bob").signed_in_at(START).stamp();
    assert!(!stamp.same_person_as(&other));
    assert!(stamp.same_person_as(&stamp));
    let forgot_login =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| testing::session(client.rocket()).cookies()));
    assert!(forgot_login.is_err(), "a stamp without login cookies would read as anonymous");
    let typo = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        testing::session(client.rocket()).login_cookie(Cookie::new("usr", "x")).cookies()
    }));
    assert!(typo.is_err());
}

// ----------------------------------------------------------- real HTTP

/// Raw HTTP/1.1 GET over TCP, so the test sends exactly these headers.
async fn http_get(port: u16, path: &str, headers: &[(&str, String)]) -> (u16, Vec<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connects");
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.expect("sends");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("reads");
    let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let set_cookies = answer
        .lines()
        .filter_map(|l| l.strip_prefix("set-cookie: ").or_else(|| l.strip_prefix("Set-Cookie: ")))
        .map(str::to_string)
        .collect();
    (status, set_cookies)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_real_http_a_foreign_pair_is_refused_and_a_stamp_alone_removes_nothing() {
    let clock = ManualClock::new(START);
    let rocket = app::rocket_with(SessionSecurity::fairing().clock(clock.clone()), settings(vec![]));
    let (port, shutdown) = serve(rocket).await;
    let local = rocket::local::asynchronous::Client::untracked(app::rocket_with(
        SessionSecurity::fairing().clock(clock.clone()),
        settings(vec![]),
    ))
    .await
    .expect("a second instance with the same key");
    let sign_in = |user: &'static str| {
        let local = &local;
        async move {
            let res = local
                .post("/login")
                .header(ContentType::Form)
                .body(format!("username={user}&password=demo"))
                .dispatch()
                .await;
            let jar = res.cookies();
            (jar.get("user").unwrap().value().to_string(), jar.get(STAMP).unwrap().value().to_string())
        }
    };
    let (alice_login, alice_stamp) = sign_in("alice").await;
    let (_, mallory_stamp) = sign_in("mallory").await;
    let cookies = |login: &str, stamp: &str| ("Cookie", format!("user={login}; {STAMP}={stamp}"));
    assert_eq!(http_get(port, "/", &[cookies(&alice_login, &alice_stamp)]).await.0, 200);
    let (status, set) = http_get(port, "/", &[cookies(&alice_login, &mallory_stamp)]).await;
    assert_eq!(status, 303);
    assert!(set.iter().any(|c| c.starts_with("user=;")) && set.iter().any(|c| c.starts_with(&format!("{STAMP}=;"))));
    // The stamp alone (a link from mail): anonymous, nothing removed; then both again.
    let (status, set) = http_get(port, "/form", &[("Cookie", format!("{STAMP}={alice_stamp}"))]).await;
    assert_eq!((status, set), (303, Vec::new()));
    assert_eq!(http_get(port, "/form", &[cookies(&alice_login, &alice_stamp)]).await.0, 200);
    shutdown.notify();
}

/// A GET of `path` with `headers` (tracked client): did it move the stamp?
fn moves_with(client: &Client, path: &str, headers: &[(&str, &str)]) -> bool {
    let mut request = client.get(path.to_string());
    for (name, value) in headers {
        request = request.header(Header::new(name.to_string(), value.to_string()));
    }
    restamps(&request.dispatch())
}

#[test]
fn on_plain_http_a_sibling_apps_image_never_keeps_a_session_alive_but_its_links_do() {
    // http:// intranet: browsers send no Fetch Metadata there, only the cookies and a Referer.
    let host = ("Host", "crm.corp.example");
    let image = [host, ("Referer", "http://other-app.corp.example/dashboard"), ("Accept", "image/avif,image/webp,*/*")];
    let (client, clock) = signed_in(vec![]);
    for _ in 0..5 {
        clock.advance(3);
        assert!(!moves_with(&client, "/", &image), "at {:?}", held_stamp(&client));
    }
    assert_eq!(held_stamp(&client), None, "expired at 12 s and removed");

    let (client, clock) = signed_in(vec![]);
    clock.advance(3);
    let link = [host, ("Referer", "http://other-app.corp.example/"), ("Accept", "text/html,*/*;q=0.8")];
    assert!(moves_with(&client, "/", &link), "a link the person followed from that app");
    clock.advance(3);
    let typed = [host, ("Upgrade-Insecure-Requests", "1"), ("Referer", "http://other-app.corp.example/")];
    assert!(moves_with(&client, "/", &typed), "a navigation (Upgrade-Insecure-Requests)");
    clock.advance(3);
    let own = [host, ("Referer", "http://crm.corp.example/form"), ("Accept", "*/*")];
    assert!(moves_with(&client, "/me", &own), "the app's own script");
    assert_eq!(held_stamp(&client), Some((START, START + 9)));
}

#[test]
fn prefetches_and_prerenders_never_count() {
    let (client, clock) = signed_in(vec![]);
    let navigation =
        [("Sec-Fetch-Site", "same-origin"), ("Sec-Fetch-Mode", "navigate"), ("Sec-Fetch-Dest", "document")];
    for purpose in [("Sec-Purpose", "prefetch"), ("Sec-Purpose", "prefetch;prerender"), ("Purpose", "prefetch")] {
        clock.advance(2);
        let headers = [navigation[0], navigation[1], navigation[2], purpose];
        assert!(!moves_with(&client, "/", &headers), "{purpose:?}");
    }
    assert_eq!(held_stamp(&client), Some((START, START)));
    assert!(moves_with(&client, "/", &navigation), "the navigation itself counts");
}

#[test]
fn answers_of_400_or_more_never_count() {
    let dir = std::env::temp_dir().join(format!("rss-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory");
    let clock = ManualClock::new(START);
    let rocket = app::rocket_with(SessionSecurity::fairing().clock(clock.clone()), settings(vec![]))
        .mount("/files", rocket::fs::FileServer::from(&dir));
    let client = Client::tracked(rocket).expect("launches");
    assert_eq!(sign_in(&client, "/").status(), Status::SeeOther);
    clock.advance(3);
    // FileServer forwards a missing file: the 404 that follows still has a route (the last tried).
    let missing = client.get("/files/missing.png").dispatch();
    assert_eq!(missing.status(), Status::NotFound);
    assert!(!restamps(&missing));
    // A form that does not parse: 422, after ActiveSession let the request in.
    let unparsable = client.post("/form").header(ContentType::Form).body("nope=1").dispatch();
    assert_eq!(unparsable.status(), Status::UnprocessableEntity);
    assert!(!restamps(&unparsable));
    assert_eq!(held_stamp(&client), Some((START, START)));
    let saved = client.post("/form").header(ContentType::Form).body("notes=hello").dispatch();
    assert_eq!(saved.status(), Status::Ok);
    assert_eq!(held_stamp(&client), Some((START, START + 3)), "a 200 counts");
    let _ = std::fs::remove_dir_all(&dir);
}
