//! Sign-out ends the session itself, everywhere: the demo contract of issue
//! 15 through `rocket::local` (manual clock, in-memory store), then over real
//! HTTP with two instances behind nginx sharing one store, the embedded
//! store across a restart, and a store that is down.

use std::time::{Duration, Instant};

use crate::common::*;
use rocket::figment::value::Value;
use rocket::http::{ContentType, Cookie, Header, Status};
use rocket::local::blocking::{Client, LocalResponse};
use rocket_session_security::{ManualClock, MemoryStore, SessionSecurity};
use serde_json::json;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const CHROME: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36";

/// The demo, untracked (each request carries exactly the cookies given).
fn demo_untracked(extra: Vec<(&str, Value)>) -> (Client, ManualClock) {
    let clock = ManualClock::new(START);
    let client = Client::untracked(app::rocket_with(SessionSecurity::fairing().clock(clock.clone()), settings(extra)))
        .expect("the demo launches");
    (client, clock)
}

/// Signs `user` in from a browser `agent`: the cookies that browser holds.
fn sign_in_as(client: &Client, user: &str, agent: &str) -> Vec<Cookie<'static>> {
    let res = client
        .post("/login")
        .header(ContentType::Form)
        .header(Header::new("User-Agent", agent.to_string()))
        .body(format!("username={user}&password=demo"))
        .dispatch();
    assert_eq!(res.status(), Status::SeeOther, "{user} signs in");
    res.cookies().iter().map(|c| c.clone().into_owned()).collect()
}

fn get<'c>(client: &'c Client, path: &str, cookies: &[Cookie<'static>]) -> LocalResponse<'c> {
    client.get(path.to_string()).cookies(cookies.to_vec()).dispatch()
}

fn post<'c>(client: &'c Client, path: &str, cookies: &[Cookie<'static>]) -> LocalResponse<'c> {
    client.post(path.to_string()).cookies(cookies.to_vec()).dispatch()
}

fn ping(client: &Client, cookies: &[Cookie<'static>]) -> (Status, serde_json::Value) {
    let res = client.post("/session-security/ping?idle_for=0").cookies(cookies.to_vec()).dispatch();
    (res.status(), body_json(res))
}

/// The request was refused as a revoked session: login redirect, cookies removed, the flash says why.
fn assert_revoked(res: LocalResponse<'_>) {
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(res.headers().get_one("Location"), Some("/login?next=/"));
    assert_eq!(removed(&res), [STAMP, "user"]);
    let flash = res.cookies().get("_flash").map(|c| c.value().to_string()).unwrap_or_default();
    assert!(flash.starts_with("24:session_security:revoked") && flash.contains("Your session was ended"), "{flash}");
}

#[test]
fn logout_ends_the_session_and_every_copy_of_it_but_nobody_elses() {
    let (client, clock) = demo_untracked(vec![]);
    let alice = sign_in_as(&client, "alice", FIREFOX);
    let alice_phone = sign_in_as(&client, "alice", CHROME);
    let bob = sign_in_as(&client, "bob", FIREFOX);
    clock.advance(2);
    // Someone copied alice's cookies; she signs out.
    let copy = alice.clone();
    assert_eq!(post(&client, "/logout", &alice).status(), Status::SeeOther);
    clock.advance(1);
    assert_revoked(get(&client, "/", &copy));
    assert_eq!(ping(&client, &copy), (Status::Unauthorized, json!({ "state": "expired", "reason": "revoked" })));
    // Her other session and bob's are untouched.
    assert_eq!(get(&client, "/", &alice_phone).status(), Status::Ok);
    assert_eq!(get(&client, "/", &bob).status(), Status::Ok);
    // Replaying the copy never refreshes it: refused as revoked until it is idle-expired anyway.
    clock.advance(6);
    assert_revoked(get(&client, "/", &copy));
    clock.advance(2);
    let res = get(&client, "/", &copy);
    assert_eq!((res.status(), removed(&res)), (Status::SeeOther, vec![STAMP.to_string(), "user".to_string()]));
}

#[test]
fn logout_everywhere_ends_every_session_of_the_person_and_they_can_sign_in_again() {
    let (client, clock) = demo_untracked(vec![]);
    let laptop = sign_in_as(&client, "alice", FIREFOX);
    let phone = sign_in_as(&client, "alice", CHROME);
    let bob = sign_in_as(&client, "bob", FIREFOX);
    clock.advance(2);
    let res = post(&client, "/logout-everywhere", &phone);
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(removed(&res), [STAMP, "user"]);
    assert_revoked(get(&client, "/", &laptop));
    assert_revoked(get(&client, "/", &phone));
    assert_eq!(get(&client, "/", &bob).status(), Status::Ok);
    // Signing in again, even in the same second, is a new session that counts.
    let again = sign_in_as(&client, "alice", FIREFOX);
    assert_eq!(get(&client, "/", &again).status(), Status::Ok);
    clock.advance(1);
    assert_eq!(get(&client, "/", &again).status(), Status::Ok);
}

#[test]
fn the_sessions_list_shows_the_persons_own_and_ends_only_those() {
    let (client, clock) = demo_untracked(vec![]);
    let laptop = sign_in_as(&client, "alice", FIREFOX);
    clock.advance(5);
    let phone = sign_in_as(&client, "alice", CHROME);
    let bob = sign_in_as(&client, "bob", FIREFOX);
    let list = |cookies: &[Cookie<'static>]| {
        let res = get(&client, "/api/sessions", cookies);
        assert_eq!(res.status(), Status::Ok);
        body_json(res)
    };
    let seen = list(&laptop);
    let sessions = seen.as_array().expect("a list");
    assert_eq!(sessions.len(), 2, "{seen}");
    assert_eq!(sessions[0]["current"], json!(true));
    assert_eq!(sessions[0]["user_agent"], json!("Firefox on Linux"));
    assert_eq!(sessions[0]["signed_in"], json!(START));
    assert_eq!(sessions[1]["current"], json!(false));
    assert_eq!(sessions[1]["user_agent"], json!("Chrome on Windows"));
    assert_eq!(sessions[1]["signed_in"], json!(START + 5));
    for s in sessions {
        let keys: Vec<&String> = s.as_object().expect("an object").keys().collect();
        assert_eq!(keys, ["current", "id", "last_seen", "signed_in", "user_agent"]);
        assert_eq!(s["id"].as_str().map(str::len), Some(16));
    }
    let phone_id = sessions[1]["id"].as_str().expect("an id").to_string();
    let bob_id = list(&bob)[0]["id"].as_str().expect("an id").to_string();
    // Someone else's session is never ended, whatever id is sent; a malformed id is refused by Rocket.
    assert_eq!(post(&client, &format!("/api/sessions/{bob_id}/end"), &laptop).status(), Status::NotFound);
    assert_eq!(post(&client, "/api/sessions/not-an-id/end", &laptop).status(), Status::UnprocessableEntity);
    assert_eq!(get(&client, "/", &bob).status(), Status::Ok);
    // Her phone's session, ended from the laptop.
    let res = post(&client, &format!("/api/sessions/{phone_id}/end"), &laptop);
    assert_eq!((res.status(), body_json(res)), (Status::Ok, json!({ "ended": phone_id })));
    assert_revoked(get(&client, "/", &phone));
    assert_eq!(list(&laptop).as_array().map(Vec::len), Some(1));
    let _ = clock;
    // The page shows the same, with buttons.
    let page = get(&client, "/sessions", &laptop).text();
    assert!(page.contains("Firefox on Linux (this one)") && !page.contains("Chrome on Windows"), "{page}");
    assert!(page.contains("action=\"/logout-everywhere\""), "{page}");
}

#[test]
fn last_seen_follows_activity_to_within_a_minute() {
    let (client, clock) = demo_with_long_timing();
    let laptop = sign_in_as(&client, "alice", FIREFOX);
    clock.advance(130);
    // Each response re-issues the stamp; the browser keeps the newest.
    let res = get(&client, "/", &laptop);
    assert_eq!(res.status(), Status::Ok);
    let mut cookies = laptop.clone();
    if let Some(stamp) = res.cookies().get(STAMP) {
        cookies.retain(|c| c.name() != STAMP);
        cookies.push(stamp.clone().into_owned());
    }
    let seen = body_json(get(&client, "/api/sessions", &cookies));
    let last_seen = seen[0]["last_seen"].as_i64().expect("a time");
    assert!((START + 70..=START + 130).contains(&last_seen), "{seen}");
}

fn demo_with_long_timing() -> (Client, ManualClock) {
    demo_untracked(vec![("warn_after", 500.into()), ("expire_after", 600.into())])
}

// ------------------------------------------------ several instances, for real

/// Two demo instances served for real, one store between them (as Redis would be).
async fn two_instances(store: &MemoryStore) -> ((u16, rocket::Shutdown), (u16, rocket::Shutdown)) {
    let launch = || {
        let fairing = SessionSecurity::fairing().revocation_store(store.clone());
        serve(app::rocket_with(fairing, settings(vec![])))
    };
    (launch().await, launch().await)
}

/// Waits until `check` holds, polling; how long it took.
async fn within(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check().await {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_round_robin_a_sign_out_on_one_instance_is_enforced_by_the_other_within_a_second() {
    use crate::common::proxy::{self, Jar, Nginx, Setup};
    if !proxy::available() {
        return;
    }
    let store = MemoryStore::new();
    let ((one, stop_one), (two, stop_two)) = two_instances(&store).await;
    let nginx = Nginx::start(Setup::RoundRobin { upstreams: vec![one, two] });
    let form = ("Content-Type", "application/x-www-form-urlencoded");
    let mut jar = Jar::default();
    let signed_in = nginx.send("POST", "/login", &[form], "username=alice&password=demo").await;
    jar.take(&signed_in);
    let copy = jar.header();
    let page = |cookie: String| {
        let nginx = &nginx;
        async move { nginx.send("GET", "/", &[("Cookie", &cookie), ("Accept", "text/html")], "").await.status }
    };
    // Served by both instances in turn.
    assert_eq!((page(copy.clone()).await, page(copy.clone()).await), (200, 200));
    let out = nginx.send("POST", "/logout", &[("Cookie", &copy)], "").await;
    assert_eq!(out.status, 303);
    // Every instance refuses the copy: the round robin alternates, so two answers in a row are both.
    let took =
        within(Duration::from_secs(3), async || page(copy.clone()).await == 303 && page(copy.clone()).await == 303)
            .await
            .expect("both instances refuse the revoked copy within 3 s");
    println!("a sign-out reached the other instance in {} ms", took.as_millis());
    assert!(took < Duration::from_secs(1), "{took:?}");
    stop_one.notify();
    stop_two.notify();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_is_down_loses_nothing() {
    let store = MemoryStore::new();
    let ((one, stop_one), (two, stop_two)) = two_instances(&store).await;
    let http = |port: u16, method: &'static str, path: &'static str, cookie: String| async move {
        proxy_less(port, method, path, &cookie).await
    };
    let signed_in = proxy_less(one, "POST", "/login", "").await;
    let cookie = signed_in.1;
    assert_eq!(http(two, "GET", "/", cookie.clone()).await.0, 200);
    store.set_down(true);
    assert_eq!(http(one, "POST", "/logout", cookie.clone()).await.0, 303);
    // Enforced at once where it happened; the other instance cannot know yet.
    assert_eq!(http(one, "GET", "/", cookie.clone()).await.0, 303);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(http(two, "GET", "/", cookie.clone()).await.0, 200, "the store is down: not yet there");
    store.set_down(false);
    let took = within(Duration::from_secs(40), async || http(two, "GET", "/", cookie.clone()).await.0 == 303)
        .await
        .expect("the revocation reaches the other instance once the store is back");
    println!("after the store came back, the revocation reached the other instance in {} ms", took.as_millis());
    stop_one.notify();
    stop_two.notify();
}

/// A request straight to an instance: its status and the cookies it leaves (`name=value; …`).
async fn proxy_less(port: u16, method: &str, path: &str, cookie: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = if path == "/login" { "username=alice&password=demo" } else { "" };
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nAccept: text/html\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n{}\r\n{body}",
        body.len(),
        if cookie.is_empty() { String::new() } else { format!("Cookie: {cookie}\r\n") }
    );
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("the instance accepts");
    tcp.write_all(request.as_bytes()).await.expect("sent");
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut raw)).await;
    let raw = String::from_utf8_lossy(&raw);
    let status = raw.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let cookies: Vec<String> = raw
        .lines()
        .filter_map(|l| l.strip_prefix("set-cookie: ").or_else(|| l.strip_prefix("Set-Cookie: ")))
        .filter_map(|c| c.split(';').next().map(str::to_string))
        .collect();
    (status, cookies.join("; "))
}

#[test]
fn the_embedded_store_keeps_revocations_across_a_restart() {
    let path = std::env::temp_dir().join(format!("rss-revocations-{}.sqlite3", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let at = path.to_string_lossy().into_owned();
    let (client, _clock) = demo_untracked(vec![("revocations", at.clone().into())]);
    let alice = sign_in_as(&client, "alice", FIREFOX);
    let bob = sign_in_as(&client, "bob", FIREFOX);
    assert_eq!(post(&client, "/logout", &alice).status(), Status::SeeOther);
    // Shutdown writes what is pending. (terminate(), not drop: dropping a local Client does not
    // run the shutdown fairings, and the test then raced the background writer: it failed in CI
    // under load.)
    let _ = client.terminate();
    let (client, _clock) = demo_untracked(vec![("revocations", at.into())]);
    assert_revoked(get(&client, "/", &alice));
    assert_eq!(get(&client, "/", &bob).status(), Status::Ok, "the same key: other sessions go on");
    let _ = client.terminate();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[test]
fn an_unusable_store_stops_the_launch_naming_the_setting() {
    let clock = ManualClock::new(START);
    let unwritable = settings(vec![("revocations", "/proc/no-such-dir/revocations.sqlite3".into())]);
    let Err(error) = Client::untracked(app::rocket_with(SessionSecurity::fairing().clock(clock.clone()), unwritable))
    else {
        panic!("an unwritable embedded store must stop the launch")
    };
    assert!(matches!(error.kind(), rocket::error::ErrorKind::FailedFairings(_)), "{error:?}");
    // A store that cannot load within revocations_wait: the app does not serve sessions it cannot check.
    let down = MemoryStore::new();
    down.set_down(true);
    let fairing = SessionSecurity::fairing().clock(clock).revocation_store(down);
    let started = Instant::now();
    let Err(error) = Client::untracked(app::rocket_with(fairing, settings(vec![("revocations_wait", 1.into())])))
    else {
        panic!("a store that cannot load must stop the launch")
    };
    assert!(matches!(error.kind(), rocket::error::ErrorKind::FailedFairings(_)), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "bounded wait: {:?}", started.elapsed());
}

// ------------------------------------------------ after a password change; administrators

#[rocket::post("/password")]
fn change_password(tracker: rocket_session_security::SessionTracker<'_>) -> &'static str {
    if tracker.sign_out_others() {
        "the other sessions are over"
    } else {
        "not signed in"
    }
}

#[rocket::post("/admin/disable/<name>")]
fn disable(name: &str, admin: rocket_session_security::SessionAdmin<'_>) -> (Status, String) {
    match admin.end_sessions_of(&[("user", name)]) {
        Ok(_) => (Status::Ok, format!("{name} is signed out everywhere")),
        Err(e) => (Status::BadRequest, e),
    }
}

#[rocket::post("/admin/everyone")]
fn everyone(admin: rocket_session_security::SessionAdmin<'_>) -> String {
    admin.end_everyone();
    format!("{} held", admin.revocations_held())
}

fn demo_with_admin() -> (Client, ManualClock) {
    let clock = ManualClock::new(START);
    let rocket = app::rocket_with(SessionSecurity::fairing().clock(clock.clone()), settings(vec![]))
        .mount("/", rocket::routes![change_password, disable, everyone]);
    (Client::untracked(rocket).expect("launches"), clock)
}

#[test]
fn after_a_password_change_the_other_sessions_end_and_this_one_stays() {
    let (client, clock) = demo_with_admin();
    let laptop = sign_in_as(&client, "alice", FIREFOX);
    let phone = sign_in_as(&client, "alice", CHROME);
    let bob = sign_in_as(&client, "bob", FIREFOX);
    clock.advance(1);
    assert_eq!(post(&client, "/password", &laptop).into_string().as_deref(), Some("the other sessions are over"));
    assert_eq!(get(&client, "/", &laptop).status(), Status::Ok);
    assert_revoked(get(&client, "/", &phone));
    assert_eq!(get(&client, "/", &bob).status(), Status::Ok);
}

#[test]
fn administrators_end_a_persons_sessions_or_everyones() {
    let (client, clock) = demo_with_admin();
    let alice = sign_in_as(&client, "alice", FIREFOX);
    let alice_phone = sign_in_as(&client, "alice", CHROME);
    let bob = sign_in_as(&client, "bob", FIREFOX);
    clock.advance(1);
    // By the value the demo puts in its private login cookie.
    let res = post(&client, "/admin/disable/alice", &bob);
    assert_eq!(res.status(), Status::Ok);
    assert_revoked(get(&client, "/", &alice));
    assert_revoked(get(&client, "/", &alice_phone));
    assert_eq!(get(&client, "/", &bob).status(), Status::Ok, "nobody else");
    clock.advance(1);
    let carol = sign_in_as(&client, "carol", FIREFOX);
    clock.advance(1);
    assert_eq!(post(&client, "/admin/everyone", &[]).status(), Status::Ok);
    assert_revoked(get(&client, "/", &bob));
    assert_revoked(get(&client, "/", &carol));
    let again = sign_in_as(&client, "alice", FIREFOX);
    assert_eq!(get(&client, "/", &again).status(), Status::Ok, "a sign-in after it counts");
}
