//! What a Rocket developer expects of an extension: guards that forward,
//! a 401 catcher that answers only the crate's own refusals and respects the
//! app's catchers, a flash on the login page, a
//! sentinel for a missing fairing, a per-session timing checked at sign-in,
//! and configuration given in code.

use crate::common::*;
use rocket::http::{ContentType, CookieJar, Header, Status};
use rocket::local::blocking::Client;
use rocket::{catch, catchers, get, post, routes};
use rocket_session_security::{
    ActiveSession, Config, ManualClock, SessionRejected, SessionRejection, SessionSecurity, SessionTracker, Timeouts,
};

#[post("/login")]
fn login(jar: &CookieJar<'_>, tracker: SessionTracker<'_>) {
    jar.add_private(("user", "alice"));
    tracker.sign_in();
}

/// Signs in with the timing `w/e/a` of the path; says why it was refused.
#[post("/login/<warn_after>/<expire_after>/<absolute_timeout>")]
fn login_with(
    warn_after: u32,
    expire_after: u32,
    absolute_timeout: u32,
    jar: &CookieJar<'_>,
    tracker: SessionTracker<'_>,
) -> (Status, String) {
    jar.add_private(("user", "alice"));
    match tracker.sign_in_with(Timeouts { warn_after, expire_after, absolute_timeout }) {
        Ok(()) => (Status::Ok, "signed in".into()),
        Err(e) => {
            jar.remove_private("user");
            (Status::UnprocessableEntity, e.to_string())
        }
    }
}

#[get("/page")]
fn page(_session: ActiveSession) -> &'static str {
    "private"
}

#[get("/page", rank = 2)]
fn page_signed_out() -> &'static str {
    "welcome, stranger"
}

/// A handler that decides for itself what a missing session means.
#[get("/own")]
fn own_answer(session: Option<ActiveSession>) -> (Status, &'static str) {
    match session {
        Some(_) => (Status::Ok, "yours"),
        None => (Status::Unauthorized, "the app's own 401"),
    }
}

#[get("/result")]
fn result_answer(session: Result<ActiveSession, SessionRejected>) -> String {
    match session {
        Ok(_) => "ok".into(),
        Err(e) => format!("{e:?}"),
    }
}

#[get("/tracker")]
fn tracker_debug(tracker: SessionTracker<'_>) -> String {
    format!("{tracker:?}")
}

#[get("/whoami")]
fn whoami(tracker: SessionTracker<'_>) -> String {
    format!("{} {tracker:?}", tracker.is_signed_in())
}

fn config() -> Config {
    Config {
        warn_after: 5,
        expire_after: 10,
        wcag_timing_check: false,
        login_cookies: vec!["user".into()],
        ..Config::default()
    }
}

fn app(fairing: SessionSecurity) -> rocket::Rocket<rocket::Build> {
    let figment = rocket::Config::figment().merge(("secret_key", SECRET)).merge(("log_level", "off"));
    rocket::custom(figment)
        .attach(fairing)
        .mount("/", routes![login, login_with, page, page_signed_out, own_answer, result_answer, whoami, tracker_debug])
}

fn client_with(clock: &ManualClock) -> Client {
    Client::tracked(app(SessionSecurity::with_config(config()).clock(clock.clone()))).expect("launches")
}

#[test]
fn nobody_signed_in_forwards_to_a_rank_2_route() {
    let clock = ManualClock::new(START);
    let client = client_with(&clock);
    let res = client.get("/page").dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(set_cookies(&res), Vec::<String>::new(), "the rank-2 route's answer, as it wrote it");
    assert_eq!(res.into_string().as_deref(), Some("welcome, stranger"));
    client.post("/login").dispatch();
    assert_eq!(client.get("/page").dispatch().into_string().as_deref(), Some("private"));
    // Expired: not forwarded; the login redirect, cookies removed.
    clock.advance(10);
    let res = client.get("/page").dispatch();
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(res.headers().get_one("Location"), Some("/login?next=/page"));
    assert_eq!(removed(&res), [STAMP, "user"]);
}

#[test]
fn without_a_fallback_a_forward_ends_in_the_crates_answer() {
    let (client, _clock) = demo_with(vec![]);
    let res = client.get("/form").dispatch();
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(res.headers().get_one("Location"), Some("/login?next=/form"));
    assert_eq!(set_cookies(&res), Vec::<String>::new(), "no probe, no flash: nothing expired");
    let res = client.get("/form").header(json_header()).dispatch();
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(body_json(res), serde_json::json!({ "error": "not_signed_in" }));
    // The demo's own fallback.
    let res = client.get("/me").header(json_header()).dispatch();
    assert_eq!((res.status(), body_json(res)), (Status::Ok, serde_json::json!({ "user": null })));
}

#[test]
fn a_handlers_own_401_is_never_reshaped_but_expired_cookies_still_go() {
    let clock = ManualClock::new(START);
    let client = client_with(&clock);
    for accept in ["text/html", "application/json"] {
        let res = client.get("/own").header(Header::new("Accept", accept)).dispatch();
        assert_eq!(res.status(), Status::Unauthorized, "{accept}");
        assert!(res.headers().get_one("Location").is_none());
        assert_eq!(set_cookies(&res), Vec::<String>::new(), "the handler's answer, as it wrote it");
        assert_eq!(res.into_string().as_deref(), Some("the app's own 401"));
    }
    client.post("/login").dispatch();
    assert_eq!(client.get("/own").dispatch().into_string().as_deref(), Some("yours"));
    clock.advance(10);
    let res = client.get("/own").dispatch();
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(removed(&res), [STAMP, "user"]);
    assert_eq!(set_names(&res), Vec::<String>::new(), "no flash: the handler answered");
    assert_eq!(res.into_string().as_deref(), Some("the app's own 401"));
    // Rocket keeps a forward a forward through `Result`: nobody signed in is not an error.
    let res = client.get("/result").dispatch();
    assert_eq!(res.headers().get_one("Location"), Some("/login?next=/result"));
    clock.advance(-20);
    let stale = rocket_session_security::testing::session(client.rocket())
        .private_login_cookie("user", "alice")
        .signed_in_at(START - 100)
        .last_activity(START - 100)
        .cookies();
    let res = client.get("/result").cookies(stale).dispatch();
    assert_eq!(res.into_string().as_deref(), Some("Expired(Idle)"));
}

#[test]
fn the_tracker_tells_whether_the_request_is_signed_in() {
    let clock = ManualClock::new(START);
    let client = client_with(&clock);
    let anonymous = client.get("/whoami").dispatch().text();
    assert!(anonymous.starts_with("false SessionTracker { verdict: Some(Anonymous)"), "{anonymous}");
    // Formatting alone decides nothing (and so audits nothing).
    let undecided = client.get("/tracker").dispatch().text();
    assert_eq!(undecided, "SessionTracker { verdict: None, action: None }");
    client.post("/login").dispatch();
    assert!(client.get("/whoami").dispatch().text().starts_with("true "));
}

#[test]
fn the_login_page_gets_a_one_shot_flash_saying_why() {
    let (client, clock) = signed_in(vec![]);
    clock.advance(10);
    let res = client.get("/form").dispatch();
    assert_eq!(res.status(), Status::SeeOther);
    let flash = set_cookies_named(&res, "_flash");
    assert_eq!(flash.len(), 1, "{flash:?}");
    assert!(flash[0].contains("Path=/") && flash[0].contains("Max-Age=300"), "{}", flash[0]);
    let login = client.get("/login?next=/form").dispatch().text();
    assert!(
        login.contains("<p class=\"notice\" role=\"status\">You were signed out after 10 s of inactivity.</p>"),
        "{login}"
    );
    let again = client.get("/login?next=/form").dispatch().text();
    assert!(!again.contains("class=\"notice\""), "one-shot, like every flash");
}

#[test]
fn the_flash_speaks_the_persons_language_and_names_the_reason() {
    let (client, clock) = signed_in(vec![("absolute_timeout", 20.into())]);
    for _ in 0..3 {
        clock.advance(5);
        client.get("/").dispatch();
    }
    clock.advance(5);
    let res = client.get("/").header(Header::new("Accept-Language", "fr-CH, en;q=0.5")).dispatch();
    assert_eq!(res.status(), Status::SeeOther);
    let login = client.get("/login").dispatch().text();
    assert!(login.contains("Vous avez été déconnecté, car votre session a atteint sa durée maximale."), "{login}");
}

/// A 401 that is none of the crate's: the app's own check failed.
#[get("/api-key")]
fn api_key() -> Status {
    Status::Unauthorized
}

#[get("/admin/page")]
fn admin_page(_session: ActiveSession) -> &'static str {
    "admin"
}

#[catch(401)]
fn app_unauthorized() -> (ContentType, &'static str) {
    (ContentType::Plain, "the app's 401 catcher")
}

/// An app's 401 catcher that hands the crate's refusals to the crate.
#[catch(401)]
fn app_unauthorized_with_crate(req: &rocket::Request<'_>) -> Result<SessionRejection, &'static str> {
    SessionRejection::of(req).ok_or("the app's 401 catcher")
}

#[catch(default)]
fn app_default(status: Status, _: &rocket::Request<'_>) -> String {
    format!("the app's default catcher: {}", status.code)
}

#[catch(default)]
fn admin_default(status: Status, _: &rocket::Request<'_>) -> String {
    format!("the admin default catcher: {}", status.code)
}

/// The app of these tests with `catchers` registered at their bases, a
/// route that needs a session without a fallback, and a non-session 401.
fn app_with_catchers(clock: &ManualClock, catchers: Vec<(&'static str, Vec<rocket::Catcher>)>) -> Client {
    let mut rocket =
        app(SessionSecurity::with_config(config()).clock(clock.clone())).mount("/", routes![only, api_key, admin_page]);
    for (base, catchers) in catchers {
        rocket = rocket.register(base, catchers);
    }
    Client::tracked(rocket).expect("launches: the crate's catcher collides with none of the app's")
}

#[get("/only")]
fn only(_s: ActiveSession) {}

/// Signs in, then lets the session expire.
fn expired(client: &Client, clock: &ManualClock) {
    client.post("/login").dispatch();
    assert_eq!(client.get("/only").dispatch().status(), Status::Ok);
    clock.advance(10);
}

#[test]
fn without_a_catcher_of_the_app_the_crate_answers_its_refusals_and_other_401s_stay_plain() {
    let clock = ManualClock::new(START);
    let client = app_with_catchers(&clock, vec![]);
    let res = client.get("/api-key").dispatch();
    assert_eq!((res.status(), res.content_type()), (Status::Unauthorized, Some(ContentType::HTML)));
    assert!(res.headers().get_one("Location").is_none());
    assert!(res.text().contains("<h1>401 Unauthorized</h1>"));
    let res = client.get("/api-key").header(json_header()).dispatch();
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(body_json(res), serde_json::json!({ "error": { "code": 401, "reason": "Unauthorized" } }));
    expired(&client, &clock);
    let res = client.get("/only").dispatch();
    assert_eq!((res.status(), location(&res).as_deref()), (Status::SeeOther, Some("/login?next=/only")));
    assert_eq!(res.headers().get_one("Cache-Control"), Some("no-store"));
    assert_eq!(removed(&res), [STAMP, "user"]);
    assert_eq!(set_names(&res), ["_flash"], "the login page learns why");
}

#[test]
fn an_apps_own_401_catcher_answers_and_can_hand_the_crates_refusals_to_the_crate() {
    let clock = ManualClock::new(START);
    // A catcher that ignores the crate: its answer stands; the session's cookies still go.
    let client = app_with_catchers(&clock, vec![("/", catchers![app_unauthorized])]);
    let res = client.get("/only").dispatch();
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(res.headers().get_one("Cache-Control"), Some("no-store"));
    assert_eq!(res.into_string().as_deref(), Some("the app's 401 catcher"));
    expired(&client, &clock);
    let res = client.get("/only").dispatch();
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(removed(&res), [STAMP, "user"]);
    assert_eq!(set_names(&res), Vec::<String>::new(), "no flash: the app answered");
    assert_eq!(res.into_string().as_deref(), Some("the app's 401 catcher"));
    // A catcher that calls `SessionRejection::of`: the crate's answer for its refusals, its own for the rest.
    let clock = ManualClock::new(START);
    let client = app_with_catchers(&clock, vec![("/", catchers![app_unauthorized_with_crate])]);
    assert_eq!(client.get("/api-key").dispatch().into_string().as_deref(), Some("the app's 401 catcher"));
    let res = client.get("/only").dispatch();
    assert_eq!((res.status(), location(&res).as_deref()), (Status::SeeOther, Some("/login?next=/only")));
    expired(&client, &clock);
    let res = client.get("/only").dispatch();
    assert_eq!((res.status(), location(&res).as_deref()), (Status::SeeOther, Some("/login?next=/only")));
    assert_eq!(removed(&res), [STAMP, "user"]);
    assert_eq!(set_names(&res), ["_flash"]);
    drop(res);
    let res = client.get("/only").header(json_header()).dispatch();
    assert_eq!(body_json(res), serde_json::json!({ "error": "not_signed_in" }));
}

#[test]
fn an_apps_default_catchers_answer_every_other_401_and_the_crate_its_own() {
    let clock = ManualClock::new(START);
    let client = app_with_catchers(&clock, vec![("/", catchers![app_default]), ("/admin", catchers![admin_default])]);
    assert_eq!(client.get("/api-key").dispatch().into_string().as_deref(), Some("the app's default catcher: 401"));
    assert_eq!(client.get("/nowhere").dispatch().into_string().as_deref(), Some("the app's default catcher: 404"));
    assert_eq!(
        client.get("/admin/nowhere").dispatch().into_string().as_deref(),
        Some("the admin default catcher: 404")
    );
    // Under either base, the crate's refusal gets the crate's answer.
    for path in ["/only", "/admin/page"] {
        let res = client.get(path).dispatch();
        let expected = format!("/login?next={path}");
        assert_eq!((res.status(), location(&res)), (Status::SeeOther, Some(expected)), "{path}");
    }
    expired(&client, &clock);
    let res = client.get("/admin/page").header(json_header()).dispatch();
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(removed(&res), [STAMP, "user"]);
    assert_eq!(body_json(res), serde_json::json!({ "error": "session_expired", "reason": "idle" }));
}

#[test]
fn a_route_that_needs_the_fairing_stops_the_launch_without_it() {
    let figment = rocket::Config::figment().merge(("secret_key", SECRET)).merge(("log_level", "off"));
    for rocket in [
        rocket::custom(figment.clone()).mount("/", routes![page]),
        rocket::custom(figment.clone()).mount("/", routes![whoami]),
    ] {
        let Err(error) = Client::untracked(rocket) else { panic!("the sentinel aborts the launch") };
        assert!(matches!(error.kind(), rocket::error::ErrorKind::SentinelAborts(_)), "{error}");
    }
    assert!(Client::untracked(
        rocket::custom(figment).attach(SessionSecurity::default()).mount("/", routes![page, whoami])
    )
    .is_ok());
}

#[test]
fn configuration_in_code_is_validated_like_rocket_toml() {
    let bad = Config { warn_after: 20, expire_after: 10, ..Config::default() };
    let figment = rocket::Config::figment().merge(("log_level", "off"));
    let error = Client::untracked(rocket::custom(figment).attach(SessionSecurity::with_config(bad))).err();
    assert!(matches!(error.map(|e| e.kind().to_string()), Some(kind) if kind.contains("fairing")));
}

#[test]
fn sign_in_with_refuses_a_timing_that_breaks_a_rule_and_signs_nobody_in() {
    let with = |config: Config| {
        let clock = ManualClock::new(START);
        Client::tracked(app(SessionSecurity::with_config(config).clock(clock))).expect("launches")
    };
    // Configured: W=5, E=10, absolute 43200, the WCAG check off (compressed time).
    let client = with(config());
    for (path, key) in [
        ("/login/5/11/43200", "expire_after: 11 s is longer than the configured expire_after"),
        ("/login/1/5/0", "absolute_timeout: 0 (no limit) is longer than the configured"),
        ("/login/1/5/43201", "absolute_timeout: 43201 s is longer"),
        ("/login/5/5/100", "warn_after: must be less than expire_after"),
        ("/login/1/5/4", "absolute_timeout: must be 0 (off) or at least expire_after"),
    ] {
        let res = client.post(path).dispatch();
        assert_eq!(res.status(), Status::UnprocessableEntity, "{path}");
        assert!(set_cookies_named(&res, STAMP).is_empty(), "{path}: no stamp");
        assert!(res.text().starts_with(key), "{path}");
        let page = client.get("/page").dispatch().into_string();
        assert_eq!(page.as_deref(), Some("welcome, stranger"), "{path}: nobody signed in");
    }
    let res = client.post("/login/1/5/60").dispatch();
    assert_eq!(res.status(), Status::Ok);
    let stamp = res.cookies().get(STAMP).map(|c| c.value().to_string()).unwrap_or_default();
    let sealed = rocket_session_security::testing::read_stamp(client.rocket(), &stamp).map(|s| s.timeouts());
    assert_eq!(sealed, Some(Timeouts { warn_after: 1, expire_after: 5, absolute_timeout: 60 }));

    // With WCAG 2.2.1 checked and a profile: both are refused at sign-in, citing them.
    let strict = Config {
        warn_after: 780,
        expire_after: 900,
        wcag_timing_check: true,
        profile: Some(rocket_session_security::Profile::NistAal3),
        ..config()
    };
    let client = with(strict);
    let res = client.post("/login/290/300/43200").dispatch();
    assert_eq!(res.status(), Status::UnprocessableEntity);
    assert!(res.text().contains("WCAG 2.2.1"));
    let res = client.post("/login/280/300/0").dispatch();
    assert_eq!(res.status(), Status::UnprocessableEntity);
    let why = res.text();
    assert!(why.contains("NIST SP 800-63B-4 AAL3") || why.contains("longer than the configured"), "{why}");
    assert_eq!(client.post("/login/280/300/43200").dispatch().status(), Status::Ok);
}

#[test]
fn the_same_person_signing_in_again_renews_and_without_login_cookies_nobody_is_told_apart() {
    let session_id = |client: &Client| {
        let value = client.cookies().get(STAMP).map(|c| c.value().to_string()).unwrap_or_default();
        rocket_session_security::testing::read_stamp(client.rocket(), &value).map(|s| s.session_id())
    };
    let clock = ManualClock::new(START);
    let bound = Client::tracked(app(SessionSecurity::with_config(config()).clock(clock.clone()))).expect("launches");
    bound.post("/login").dispatch();
    let first = session_id(&bound);
    clock.advance(3);
    bound.post("/login").dispatch();
    assert_eq!(session_id(&bound), first, "alice again: the same session");

    let unbound_config = Config { login_cookies: vec![], ..config() };
    let unbound =
        Client::tracked(app(SessionSecurity::with_config(unbound_config).clock(clock.clone()))).expect("launches");
    unbound.post("/login").dispatch();
    let first = session_id(&unbound);
    unbound.post("/login").dispatch();
    assert!(first.is_some() && session_id(&unbound) != first, "no login cookies: a new session each time");
    assert_eq!(unbound.get("/page").dispatch().into_string().as_deref(), Some("private"));
}
