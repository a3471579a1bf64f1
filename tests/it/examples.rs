//! The example apps (`examples/spa`, `examples/plain_html`, `examples/per_role`),
//! built from their own builders with a manual clock and driven through
//! `rocket::local`: what their pages carry and how their sessions end.

#[path = "../../examples/per_role/app.rs"]
mod per_role;
#[path = "../../examples/plain_html/app.rs"]
mod plain_html;
#[path = "../../examples/spa/app.rs"]
mod spa;

use rocket::figment::Figment;
use rocket::http::{ContentType, Cookie, Header, Status};
use rocket::local::blocking::{Client, LocalResponse};
use rocket::{Build, Rocket};
use rocket_session_security::{ManualClock, SessionSecurity};
use serde_json::{json, Value};

use crate::common::Body;

const START: i64 = 1_800_000_000;
const STAMP: &str = "session_security";
const SECRET: &str = "hPRYyVRiMyxpw5sBB1XeCMN1kFsDCqKvBi2QJxBVHQk=";
const CSP: &str = "default-src 'self'";

type Builder = fn(SessionSecurity, Figment) -> Rocket<Build>;

/// Rocket's defaults with a fixed key and no logging; no timing configured,
/// so each app's own defaults apply.
fn base() -> Figment {
    rocket::Config::figment().merge(("secret_key", SECRET)).merge(("log_level", "off"))
}

/// An app on a tracked client, with a clock the test moves.
fn launch_with(build: Builder, figment: Figment) -> (Client, ManualClock) {
    let clock = ManualClock::new(START);
    let client = Client::tracked(build(SessionSecurity::fairing().clock(clock.clone()), figment)).expect("launches");
    (client, clock)
}

fn launch(build: Builder) -> (Client, ManualClock) {
    launch_with(build, base())
}

fn sign_in<'c>(client: &'c Client, user: &str, next: &str) -> LocalResponse<'c> {
    let body = format!("username={user}&password=demo&next={next}");
    client.post("/login").header(ContentType::Form).body(body).dispatch()
}

fn signed_in(build: Builder, user: &str) -> (Client, ManualClock) {
    let (client, clock) = launch(build);
    let res = sign_in(&client, user, "/");
    assert_eq!((res.status(), location(&res).as_deref()), (Status::SeeOther, Some("/")));
    drop(res);
    (client, clock)
}

fn location(res: &LocalResponse<'_>) -> Option<String> {
    res.headers().get_one("Location").map(str::to_string)
}

fn csp(res: &LocalResponse<'_>) -> Option<String> {
    res.headers().get_one("Content-Security-Policy").map(str::to_string)
}

fn json_body(res: LocalResponse<'_>) -> Value {
    serde_json::from_str(&res.text()).expect("a JSON body")
}

/// An active ping answer without its opaque `person` (checked: 16 base64url characters).
fn without_person(mut answer: Value) -> Value {
    let person = answer.as_object_mut().and_then(|o| o.remove("person"));
    let person = person.as_ref().and_then(Value::as_str).unwrap_or_default();
    assert!(
        person.len() == 16 && person.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b)),
        "{person:?}"
    );
    answer
}

/// No inline script or style: every `<script` has a `src`, no `style` attribute or element.
fn assert_csp_clean(html: &str) {
    assert_eq!(html.matches("<script").count(), html.matches("<script src=\"").count(), "inline script: {html}");
    assert!(!html.contains("style=") && !html.contains("<style"), "inline style: {html}");
    let handler = html.match_indices(" on").any(|(at, _)| {
        let name: String = html[at + 3..].chars().take_while(char::is_ascii_lowercase).collect();
        !name.is_empty() && html[at + 3 + name.len()..].starts_with('=')
    });
    assert!(!handler, "inline event handler: {html}");
}

/// The value of `attribute="…"` in `html`.
fn attribute<'h>(html: &'h str, attribute: &str) -> Option<&'h str> {
    let start = html.find(&format!("{attribute}=\""))? + attribute.len() + 2;
    html[start..].split('"').next()
}

// ---------------------------------------------------------------- spa

fn api<'c>(client: &'c Client, path: &'c str) -> LocalResponse<'c> {
    // What the browser's fetch() sends for a same-origin call.
    client
        .get(path)
        .header(Header::new("Accept", "application/json"))
        .header(Header::new("Sec-Fetch-Mode", "cors"))
        .dispatch()
}

fn add_note<'c>(client: &'c Client, body: &str) -> LocalResponse<'c> {
    client
        .post("/api/notes")
        .header(ContentType::JSON)
        .header(Header::new("Sec-Fetch-Mode", "cors"))
        .body(body)
        .dispatch()
}

#[test]
fn spa_shell_carries_the_script_tag_and_no_dialog() {
    let (client, _clock) = launch(spa::rocket_with);
    let res = client.get("/").dispatch();
    assert_eq!((res.status(), location(&res).as_deref()), (Status::SeeOther, Some("/login?next=/")));
    let login = client.get("/login?next=/").dispatch();
    assert_eq!((login.status(), csp(&login).as_deref()), (Status::Ok, Some(CSP)));
    let html = login.into_string().unwrap();
    assert!(html.contains("<form method=\"post\" action=\"/login\">") && !html.contains("data-session-security"));
    assert_csp_clean(&html);

    assert_eq!(location(&sign_in(&client, "alice", "/")).as_deref(), Some("/"));
    let res = client.get("/").dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(csp(&res).as_deref(), Some(CSP));
    assert_eq!(res.headers().get_one("Cache-Control"), Some("no-store"));
    let html = res.into_string().unwrap();
    for needle in [
        "data-session-security",
        "data-warn-after=\"15\"",
        "data-expire-after=\"45\"",
        "data-ping-url=\"/session-security/ping\"",
        "data-login-url=\"/login\"",
        "data-logout-url=\"/logout\"",
        "data-logout-method=\"post\"",
        "<script src=\"/app.js\" defer></script>",
        "id=\"warning\"",
        "id=\"stay\"",
    ] {
        assert!(html.contains(needle), "{needle} in {html}");
    }
    assert_eq!(html.matches("data-session-security").count(), 1);
    // The crate's script comes first, so `window.sessionSecurity` exists when app.js runs.
    assert!(html.find("data-session-security") < html.find("/app.js"));
    for absent in [
        "session_security_warning",
        "session_security_cover",
        "session_security_stay",
        "<link rel=\"stylesheet\" href=\"/session-security",
    ] {
        assert!(!html.contains(absent), "no crate dialog or stylesheet: {absent} in {html}");
    }
    assert_csp_clean(&html);

    // The tag's script is the crate's, served by the fairing.
    let script = attribute(&html[html.find("<script").unwrap()..], "src").unwrap().to_string();
    assert!(script.starts_with("/session-security/static/session-security."), "{script}");
    let res = client.get(script).dispatch();
    assert_eq!((res.status(), res.content_type()), (Status::Ok, Some(ContentType::JavaScript)));
}

#[test]
fn spa_own_script_uses_the_events_and_the_js_api() {
    let (client, _clock) = launch(spa::rocket_with);
    let res = client.get("/app.js").dispatch();
    assert_eq!((res.status(), res.content_type()), (Status::Ok, Some(ContentType::JavaScript)));
    let js = res.into_string().unwrap();
    for needle in [
        "'session-security:warn'",
        "'session-security:extend'",
        "'session-security:expire'",
        "event.detail.secondsLeft",
        "sessionSecurity?.extend()",
        "sessionSecurity?.signOut()",
        "sessionSecurity?.handleResponse(response)",
        "'/api/poll/notes'",
        ".textContent",
    ] {
        assert!(js.contains(needle), "{needle} in app.js");
    }
    assert!(!js.contains("innerHTML"), "notes are never parsed as HTML");
    let res = client.get("/app.css").dispatch();
    assert_eq!((res.status(), res.content_type()), (Status::Ok, Some(ContentType::CSS)));
    assert!(res.into_string().unwrap().contains(".session_security_expired"));
}

#[test]
fn spa_api_reads_and_writes_json() {
    let (client, _clock) = signed_in(spa::rocket_with, "alice");
    let res = api(&client, "/api/me");
    assert_eq!((res.status(), res.content_type()), (Status::Ok, Some(ContentType::JSON)));
    assert_eq!(json_body(res), json!({ "user": "alice", "warn_after": 15, "expire_after": 45 }));
    assert_eq!(json_body(api(&client, "/api/notes")), json!({ "notes": [] }));

    let res = add_note(&client, r#"{"text":" <b>buy \"milk\"</b> "}"#);
    assert_eq!(res.status(), Status::Created);
    assert_eq!(json_body(res), json!({ "notes": ["<b>buy \"milk\"</b>"] }));
    assert_eq!(json_body(api(&client, "/api/poll/notes")), json!({ "notes": ["<b>buy \"milk\"</b>"] }));

    let res = add_note(&client, r#"{"text":"   "}"#);
    assert_eq!(res.status(), Status::UnprocessableEntity);
    assert!(json_body(res)["error"].as_str().unwrap().contains("280"));
    let too_long = format!(r#"{{"text":"{}"}}"#, "x".repeat(281));
    assert_eq!(add_note(&client, &too_long).status(), Status::UnprocessableEntity);
    // Only JSON bodies: no cross-site HTML form can add a note.
    let form = client.post("/api/notes").header(ContentType::Form).body("text=forged").dispatch();
    assert_ne!(form.status(), Status::Created);
    assert_eq!(json_body(api(&client, "/api/notes"))["notes"].as_array().unwrap().len(), 1);

    // Another user sees only their own notes.
    let (bob, _clock) = signed_in(spa::rocket_with, "bob");
    assert_eq!(json_body(api(&bob, "/api/notes")), json!({ "notes": [] }));
}

#[test]
fn spa_api_answers_401_json_when_expired_and_pages_redirect() {
    let (client, clock) = signed_in(spa::rocket_with, "alice");
    clock.advance(44);
    assert_eq!(api(&client, "/api/notes").status(), Status::Ok, "idle 44 s < 45 s");
    clock.advance(45);
    let res = api(&client, "/api/notes");
    assert_eq!((res.status(), res.content_type()), (Status::Unauthorized, Some(ContentType::JSON)));
    let removed: Vec<String> = res.headers().get("Set-Cookie").map(str::to_string).collect();
    for name in [STAMP, "user"] {
        assert!(
            removed.iter().any(|c| c.starts_with(&format!("{name}=")) && c.contains("Max-Age=0")),
            "{name}: {removed:?}"
        );
    }
    assert_eq!(json_body(res), json!({ "error": "session_expired", "reason": "idle" }));
    assert!(client.cookies().get("user").is_none() && client.cookies().get(STAMP).is_none());

    // Now signed out: the API says so, the shell sends the browser to the login page.
    let res = client.get("/api/me").header(Header::new("Accept", "application/json")).dispatch();
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(json_body(res), json!({ "error": "not_signed_in" }));
    let res = client.get("/").dispatch();
    assert_eq!((res.status(), location(&res).as_deref()), (Status::SeeOther, Some("/login?next=/")));
    assert_eq!(add_note(&client, r#"{"text":"late"}"#).status(), Status::Unauthorized);

    // Signing in again brings back the notes page and the API.
    assert_eq!(location(&sign_in(&client, "alice", "/")).as_deref(), Some("/"));
    assert_eq!(api(&client, "/api/notes").status(), Status::Ok);
}

#[test]
fn spa_background_refresh_never_keeps_a_session_alive_but_the_ping_does() {
    let (client, clock) = signed_in(spa::rocket_with, "alice");
    for _ in 0..4 {
        clock.advance(11);
        assert_eq!(api(&client, "/api/poll/notes").status(), Status::Ok);
    }
    clock.advance(1); // 45 s since the sign-in, polled every 11 s
    let res = api(&client, "/api/poll/notes");
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(json_body(res), json!({ "error": "session_expired", "reason": "idle" }));

    // The crate's script reports the user's activity with the ping: that does count.
    let (client, clock) = signed_in(spa::rocket_with, "alice");
    clock.advance(40);
    let res = client.post("/session-security/ping?idle_for=2").dispatch();
    assert_eq!(
        without_person(json_body(res)),
        json!({ "state": "active", "idle_for": 2, "warn_after": 15, "expire_after": 45 })
    );
    clock.advance(40); // idle 42 s for the server: active at 38 s
    assert_eq!(api(&client, "/api/poll/notes").status(), Status::Ok);
}

#[test]
fn spa_timing_follows_the_configuration() {
    let figment =
        base().merge(("session_security", rocket::figment::util::map!["warn_after" => 15, "expire_after" => 35]));
    let (client, clock) = launch_with(spa::rocket_with, figment);
    sign_in(&client, "alice", "/");
    let html = client.get("/").dispatch().into_string().unwrap();
    assert!(html.contains("data-warn-after=\"15\"") && html.contains("data-expire-after=\"35\""), "{html}");
    clock.advance(35);
    assert_eq!(api(&client, "/api/notes").status(), Status::Unauthorized);
}

// ---------------------------------------------------------------- plain_html

#[test]
fn plain_html_pages_carry_the_snippet_and_escape_the_user_name() {
    let (client, _clock) = launch(plain_html::rocket_with);
    let res = client.get("/account").dispatch();
    assert_eq!((res.status(), location(&res).as_deref()), (Status::SeeOther, Some("/login?next=/account")));
    let login = client.get("/login?next=/account").dispatch();
    assert_eq!((login.status(), csp(&login).as_deref()), (Status::Ok, Some(CSP)));
    let html = login.into_string().unwrap();
    assert!(html.contains("name=\"next\" value=\"/account\"") && !html.contains("data-session-security"), "{html}");

    let res = sign_in(&client, "%3Cb%3Ex", "/account");
    assert_eq!((res.status(), location(&res).as_deref()), (Status::SeeOther, Some("/account")));
    for path in ["/", "/account"] {
        let res = client.get(path).dispatch();
        assert_eq!((res.status(), csp(&res).as_deref()), (Status::Ok, Some(CSP)), "{path}");
        let html = res.into_string().unwrap();
        for needle in [
            "Signed in as <strong>&lt;b&gt;x</strong>",
            "<link rel=\"stylesheet\" href=\"/session-security/static/session-security.",
            "id=\"session_security_warning\"",
            "role=\"alertdialog\"",
            "id=\"session_security_stay\"",
            "id=\"session_security_cover\"",
            "data-session-security",
            "data-warn-after=\"15\"",
            "data-expire-after=\"45\"",
            "Stay signed in",
        ] {
            assert!(html.contains(needle), "{path}: {needle} in {html}");
        }
        assert!(!html.contains("<b>x"), "{path}: the user name is escaped: {html}");
        // The snippet is inserted as HTML, not escaped a second time, before </body>.
        assert!(!html.contains("&lt;div id=\"session_security_warning") && !html.contains("&amp;lt;"), "{html}");
        assert!(html.find("session_security_warning") > html.find("</main>"));
        let (script_end, body_end) = (html.rfind("</script>").unwrap() + 9, html.find("</body>").unwrap());
        assert!(html[script_end..body_end].trim().is_empty(), "the snippet ends the body: {html}");
        assert_csp_clean(&html);
    }
    let home = client.get("/").dispatch().into_string().unwrap();
    assert!(home.contains("<h1>Hello, &lt;b&gt;x</h1>"), "{home}");
}

#[test]
fn plain_html_escapes_user_data_in_attributes() {
    let (client, _clock) = launch(plain_html::rocket_with);
    // A failed sign-in shows the form again with the user name typed, in a value="…".
    let body = "username=%22%3E%3Cscript%3Ealert(%27x%27)%3C%2Fscript%3E&password=nope&next=/account%3Fa%3D1%26b%3D2";
    let res = client.post("/login").header(ContentType::Form).body(body).dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert!(res.headers().get("Set-Cookie").next().is_none(), "no session for a wrong password");
    let html = res.into_string().unwrap();
    assert!(html.contains("Wrong user name or password"));
    assert!(
        html.contains("value=\"&quot;&gt;&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;\""),
        "escaped in the attribute: {html}"
    );
    assert!(html.contains("name=\"next\" value=\"/account?a=1&amp;b=2\""), "{html}");
    assert!(!html.contains("<script>alert") && !html.contains("\"><script"), "{html}");
    assert_csp_clean(&html);
    // An empty name is refused too.
    let res = client.post("/login").header(ContentType::Form).body("username=+&password=demo").dispatch();
    assert!(res.headers().get("Set-Cookie").next().is_none());
}

#[test]
fn plain_html_expiry_redirects_and_sign_out_ends_the_session() {
    let (client, clock) = signed_in(plain_html::rocket_with, "alice");
    clock.advance(44);
    assert_eq!(client.get("/account").dispatch().status(), Status::Ok);
    clock.advance(45);
    let res = client.get("/account?tab=2").dispatch();
    assert_eq!((res.status(), location(&res).as_deref()), (Status::SeeOther, Some("/login?next=/account%3Ftab%3D2")));
    assert!(client.cookies().get("user").is_none() && client.cookies().get(STAMP).is_none());
    // The login page says why, once.
    let login = client.get("/login?next=/account%3Ftab%3D2").dispatch().text();
    assert!(login.contains("<p role=\"status\">You were signed out after 45 s of inactivity.</p>"), "{login}");
    assert!(!client.get("/login").dispatch().text().contains("role=\"status\""));
    assert_eq!(client.get("/").dispatch().status(), Status::SeeOther);

    assert_eq!(location(&sign_in(&client, "alice", "/")).as_deref(), Some("/"));
    assert_eq!(client.get("/").dispatch().status(), Status::Ok);
    let res = client.post("/logout").dispatch();
    assert_eq!((res.status(), location(&res).as_deref()), (Status::SeeOther, Some("/login")));
    assert!(client.cookies().get("user").is_none() && client.cookies().get(STAMP).is_none());
    assert_eq!(client.get("/").dispatch().status(), Status::SeeOther);
}

// ---------------------------------------------------------------- per_role

fn ping(client: &Client) -> Value {
    without_person(json_body(client.post("/session-security/ping?idle_for=0").dispatch()))
}

#[test]
fn per_role_admin_expires_after_300_s_idle_and_a_user_does_not() {
    let (admin, clock) = signed_in(per_role::rocket_with, "admin");
    clock.advance(299);
    assert_eq!(admin.get("/").dispatch().status(), Status::Ok, "idle 299 s < 300 s");
    clock.advance(300);
    let res = admin.get("/").dispatch();
    assert_eq!((res.status(), location(&res).as_deref()), (Status::SeeOther, Some("/login?next=/")));
    for cookie in ["user", "role", STAMP] {
        assert!(admin.cookies().get(cookie).is_none(), "{cookie} removed on expiry");
    }

    let (user, clock) = signed_in(per_role::rocket_with, "alice");
    clock.advance(300);
    assert_eq!(user.get("/").dispatch().status(), Status::Ok, "a user is not expired at 300 s");
    clock.advance(1799);
    assert_eq!(user.get("/").dispatch().status(), Status::Ok, "idle 1799 s < 1800 s");
    clock.advance(1800);
    assert_eq!(user.get("/").dispatch().status(), Status::SeeOther);
}

#[test]
fn per_role_ping_answers_the_role_timing() {
    let (admin, _clock) = signed_in(per_role::rocket_with, "admin");
    assert_eq!(ping(&admin), json!({ "state": "active", "idle_for": 0, "warn_after": 240, "expire_after": 300 }));
    let (user, _clock) = signed_in(per_role::rocket_with, "alice");
    assert_eq!(ping(&user), json!({ "state": "active", "idle_for": 0, "warn_after": 1740, "expire_after": 1800 }));
    assert_eq!((per_role::ADMIN, per_role::USER), ((240, 300), (1740, 1800)));
}

#[test]
fn per_role_page_and_snippet_follow_the_role() {
    for (name, role, warn, expire) in [("admin", "admin", 240, 300), ("alice", "user", 1740, 1800)] {
        let (client, _clock) = signed_in(per_role::rocket_with, name);
        let res = client.get("/").dispatch();
        assert_eq!((res.status(), csp(&res).as_deref()), (Status::Ok, Some(CSP)));
        let html = res.into_string().unwrap();
        for needle in [
            format!("id=\"role\">{role}<"),
            format!("id=\"warn-after\">{warn}<"),
            format!("id=\"expire-after\">{expire}<"),
            format!("data-warn-after=\"{warn}\""),
            format!("data-expire-after=\"{expire}\""),
            "id=\"session_security_warning\"".to_string(),
        ] {
            assert!(html.contains(&needle), "{name}: {needle} in {html}");
        }
        assert_csp_clean(&html);
    }
    let (client, _clock) = launch(per_role::rocket_with);
    let login = client.get("/login").dispatch();
    assert_eq!((login.status(), csp(&login).as_deref()), (Status::Ok, Some(CSP)));
    assert!(!login.into_string().unwrap().contains("data-session-security"));
}

#[test]
fn per_role_forged_or_missing_role_ends_the_session() {
    // Untracked: the test chooses each request's cookies.
    let client =
        Client::untracked(per_role::rocket_with(SessionSecurity::fairing().clock(ManualClock::new(START)), base()))
            .expect("launches");
    let res = sign_in(&client, "alice", "/");
    let jar = res.cookies();
    let stamp = jar.get(STAMP).expect("stamp").clone().into_owned();
    let user = jar.get("user").expect("user").clone().into_owned();
    let role = jar.get("role").expect("role").clone().into_owned();
    let ping_with = |cookies: Vec<Cookie<'static>>| {
        let res = client.post("/session-security/ping?idle_for=0").cookies(cookies).dispatch();
        (res.status(), json_body(res))
    };
    let timing = |answer: Value| (answer["warn_after"].clone(), answer["expire_after"].clone());
    let (status, answer) = ping_with(vec![stamp.clone(), user.clone(), role]);
    assert_eq!((status, timing(answer)), (Status::Ok, (json!(1740), json!(1800))));
    // A role cookie written by hand (not sealed with the app's key), or none at
    // at all: both are in login_cookies, so the stamp is not bound to them.
    for forged in [vec![Cookie::new("role", "user")], vec![]] {
        let mut cookies = vec![stamp.clone(), user.clone()];
        cookies.extend(forged);
        assert_eq!(ping_with(cookies), (Status::Unauthorized, json!({ "state": "expired", "reason": "invalid" })));
    }
}

#[test]
fn per_role_timing_is_chosen_at_sign_in_and_never_longer_than_configured() {
    use per_role::{timing_for, Role};
    use rocket_session_security::Timeouts;
    let configured = Timeouts { warn_after: 1740, expire_after: 1800, absolute_timeout: 43_200 };
    assert_eq!(timing_for(Role::Admin, configured), Timeouts { warn_after: 240, expire_after: 300, ..configured });
    assert_eq!(timing_for(Role::User, configured), configured);
    // A configuration shorter than the admins' timing is kept as it is: the ceiling wins.
    let short = Timeouts { warn_after: 100, expire_after: 200, absolute_timeout: 0 };
    assert_eq!(timing_for(Role::Admin, short), short);
    // Every route agrees on the session's own timing: an admin's page, ping and snippet say 240/300.
    let (admin, clock) = signed_in(per_role::rocket_with, "admin");
    clock.advance(200);
    let html = admin.get("/").dispatch().text();
    assert!(html.contains("data-expire-after=\"300\""), "{html}");
    clock.advance(299);
    let res = admin.get("/security").dispatch();
    assert_eq!(location(&res).as_deref(), Some("/login?next=/security"), "idle 299 s < 300 s, but signed in 499 s ago");
    clock.advance(300);
    let res = admin.get("/").dispatch();
    assert_eq!(location(&res).as_deref(), Some("/login?next=/"), "idle 300 s on any route");
}

#[test]
fn per_role_security_page_asks_for_a_recent_sign_in_and_the_same_person_renews() {
    let (client, clock) = signed_in(per_role::rocket_with, "alice");
    let session_id = || {
        let value = client.cookies().get(STAMP).map(|c| c.value().to_string()).unwrap_or_default();
        rocket_session_security::testing::read_stamp(client.rocket(), &value).map(|s| s.session_id())
    };
    let first = session_id().expect("a stamp");
    clock.advance(299);
    let res = client.get("/security").dispatch();
    assert_eq!(res.status(), Status::Ok, "signed in 299 s ago < 300 s");
    assert!(res.text().contains("id=\"signed-in-for\">299<"));
    clock.advance(2);
    let res = client.get("/security").dispatch();
    assert_eq!((res.status(), location(&res).as_deref()), (Status::SeeOther, Some("/login?next=/security")));
    assert!(
        !res.headers().get("Set-Cookie").any(|c| c.contains("Max-Age=0") && !c.starts_with("_flash=")),
        "nothing removed"
    );
    drop(res);
    let login = client.get("/login?next=/security").dispatch().text();
    assert!(login.contains("this page asks for a recent sign-in"), "the flash says why: {login}");
    // The session itself goes on; an API call is told what to do.
    assert_eq!(client.get("/").dispatch().status(), Status::Ok);
    let res = client.get("/security").header(rocket::http::Accept::JSON).dispatch();
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(json_body(res), json!({ "error": "reauthentication_required" }));
    // Signing in again as alice renews the session and comes back.
    let res = sign_in(&client, "alice", "/security");
    assert_eq!(location(&res).as_deref(), Some("/security"));
    drop(res);
    assert_eq!(client.get("/security").dispatch().status(), Status::Ok);
    assert_eq!(session_id(), Some(first), "the same session");
    // Someone else is a new session.
    clock.advance(10);
    drop(sign_in(&client, "bob", "/"));
    assert_ne!(session_id(), Some(first));
}
