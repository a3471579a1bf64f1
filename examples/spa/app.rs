//! A notes app as a single-page app: one HTML shell behind `ActiveSession`, a
//! JSON API behind `ActiveSession`, and the browser side in `app.js`.
//!
//! What it shows:
//! - the shell carries **only the crate's script tag**
//!   (`session.snippet().script_tag()`: timing and URLs in its `data-*`
//!   attributes), no dialog and no crate stylesheet; `app.js` listens to
//!   `session-security:warn` / `:extend` / `:expire` on `document`, shows its
//!   own banner, and calls `sessionSecurity.extend()` / `.signOut()`;
//! - the API answers an expired or absent session with a JSON `401`
//!   (`{"error":"session_expired"}` / `{"error":"not_signed_in"}`): the crate
//!   does that for fetch requests, a page navigation gets `303` to the login
//!   page instead;
//! - background refreshes (`/api/poll/*`, in `passive_urls`) never keep a
//!   session alive; the user's own clicks and key presses do, through the
//!   script's ping.
//!
//! Everything is served under `Content-Security-Policy: default-src 'self'`:
//! the shell has no inline script or style. Tests build this same app
//! (`#[path]`-included) with a manual clock.

use std::collections::HashMap;
use std::sync::Mutex;

use rocket::figment::{util::map, value::Value, Figment};
use rocket::form::{Form, FromForm};
use rocket::http::{ContentType, CookieJar, Header, Status};
use rocket::response::{content::RawHtml, Redirect};
use rocket::serde::json::{serde_json::json, Json, Value as JsonValue};
use rocket::serde::Deserialize;
use rocket::{get, post, routes, Build, Either, Rocket, State};
use rocket_session_security::{safe_next, ActiveSession, SessionSecurity, SessionTracker};

/// The app's own sign-in cookie (private), listed in `login_cookies`.
const USER_COOKIE: &str = "user";
/// The longest note accepted, in characters.
const MAX_NOTE: usize = 280;

/// The notes of each user, in memory (an example: a real app has a database).
#[derive(Default)]
struct Notes(Mutex<HashMap<String, Vec<String>>>);

/// The app with the system clock.
#[allow(dead_code)]
pub fn rocket() -> Rocket<Build> {
    rocket_with(SessionSecurity::fairing(), rocket::Config::figment())
}

/// The app with a given fairing (e.g. with a test clock) and base
/// configuration; the app's own settings fill what `figment` leaves unset.
pub fn rocket_with(fairing: SessionSecurity, figment: Figment) -> Rocket<Build> {
    rocket::custom(app_settings(figment))
        .attach(fairing)
        .attach(rocket::fairing::AdHoc::on_response("Content-Security-Policy", |_, res| {
            Box::pin(async move {
                res.set_header(Header::new("Content-Security-Policy", "default-src 'self'"));
            })
        }))
        .manage(Notes::default())
        .mount("/", routes![login_page, login_submit, logout, shell, app_js, app_css, me, notes, add_note, poll_notes])
}

/// Fills in the app's settings under whatever the environment configured.
fn app_settings(figment: Figment) -> Figment {
    let set = |key: &str| figment.find_value(&format!("session_security.{key}")).is_ok();
    let mut app: std::collections::BTreeMap<&str, Value> = map![
        "login_url" => "/login".into(),
        "logout_url" => "/logout".into(),
        "login_cookies" => vec![USER_COOKIE].into(),
        "passive_urls" => vec!["/api/poll/*"].into(),
    ];
    // Short enough to watch the banner, unless timing was configured.
    if !set("warn_after") && !set("expire_after") {
        app.insert("warn_after", 15.into());
        app.insert("expire_after", 45.into());
    }
    figment.join(("session_security", app))
}

/// HTML-escapes text for element content and quoted attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

fn user_name(jar: &CookieJar<'_>) -> String {
    jar.get_private(USER_COOKIE).map(|c| c.value().to_string()).unwrap_or_default()
}

fn login_html(next: &str, error: bool) -> RawHtml<String> {
    let error = if error { "<p class=\"error\" role=\"alert\">Wrong user name or password.</p>" } else { "" };
    RawHtml(format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · notes</title>
<link rel="stylesheet" href="/app.css">
</head>
<body>
<main class="login">
<h1>Sign in</h1>
{error}
<form method="post" action="/login">
<input type="hidden" name="next" value="{next}">
<p><label for="username">User name</label> <input id="username" name="username" autocomplete="username" required autofocus></p>
<p><label for="password">Password</label> <input id="password" type="password" name="password" autocomplete="current-password" required> (<code>demo</code>)</p>
<p><button type="submit">Sign in</button></p>
</form>
</main>
</body>
</html>
"#,
        next = escape(next),
    ))
}

#[get("/login?<next>")]
fn login_page(next: Option<&str>) -> RawHtml<String> {
    login_html(next.and_then(safe_next).unwrap_or("/"), false)
}

#[derive(FromForm)]
struct Login<'r> {
    username: Option<&'r str>,
    password: Option<&'r str>,
    next: Option<&'r str>,
}

#[post("/login", data = "<form>")]
fn login_submit(
    form: Form<Login<'_>>,
    jar: &CookieJar<'_>,
    tracker: SessionTracker<'_>,
) -> Either<Redirect, RawHtml<String>> {
    let next = form.next.and_then(safe_next).unwrap_or("/");
    match (form.username.map(str::trim), form.password) {
        (Some(user), Some("demo")) if !user.is_empty() => {
            jar.add_private((USER_COOKIE, user.to_string()));
            tracker.sign_in();
            Either::Left(Redirect::to(next.to_string()))
        }
        _ => Either::Right(login_html(next, true)),
    }
}

/// What `sessionSecurity.signOut()` posts to (`logout_url`, `logout_method = "post"`).
#[post("/logout")]
fn logout(tracker: SessionTracker<'_>) -> Redirect {
    tracker.sign_out();
    Redirect::to("/login")
}

/// The single page. It holds no user data (`app.js` fetches it), only the
/// crate's script tag, the app's own script, and the empty frame they fill.
#[get("/")]
fn shell(session: ActiveSession) -> RawHtml<String> {
    RawHtml(format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Notes · session security SPA</title>
<link rel="stylesheet" href="/app.css">
</head>
<body>
<header><strong>Notes</strong> <span id="user"></span> <button type="button" id="sign-out">Sign out</button></header>
<div id="warning" class="banner" hidden>
<p role="alert">You have been inactive for a while. To protect your notes you will be signed out.</p>
<p>Time left: <span id="countdown"></span></p>
<p><button type="button" id="stay">Stay signed in</button></p>
</div>
<main id="app">
<form id="new-note"><label for="note-text">New note</label> <input id="note-text" name="text" maxlength="{MAX_NOTE}" required autocomplete="off"> <button type="submit">Add</button></form>
<p id="status" role="status"></p>
<ul id="notes"></ul>
</main>
{script_tag}
<script src="/app.js" defer></script>
</body>
</html>
"#,
        script_tag = session.snippet().script_tag(),
    ))
}

#[get("/app.js")]
fn app_js() -> (ContentType, &'static str) {
    (ContentType::JavaScript, include_str!("app.js"))
}

#[get("/app.css")]
fn app_css() -> (ContentType, &'static str) {
    (ContentType::CSS, include_str!("app.css"))
}

/// Who is signed in, and the timing the server applies to this session.
#[get("/api/me")]
fn me(session: ActiveSession, jar: &CookieJar<'_>) -> JsonValue {
    let timeouts = session.timeouts();
    json!({
        "user": user_name(jar),
        "warn_after": timeouts.warn_after,
        "expire_after": timeouts.expire_after,
    })
}

fn notes_of(store: &Notes, user: &str) -> JsonValue {
    let notes = store.0.lock().unwrap_or_else(|e| e.into_inner());
    json!({ "notes": notes.get(user).cloned().unwrap_or_default() })
}

/// The user's notes. A request the user made, so it counts as activity.
#[get("/api/notes")]
fn notes(_session: ActiveSession, jar: &CookieJar<'_>, store: &State<Notes>) -> JsonValue {
    notes_of(store, &user_name(jar))
}

/// The same list for `app.js`'s background refresh: under `/api/poll/`, in
/// `passive_urls`, so it never keeps an idle session alive.
#[get("/api/poll/notes")]
fn poll_notes(_session: ActiveSession, jar: &CookieJar<'_>, store: &State<Notes>) -> JsonValue {
    notes_of(store, &user_name(jar))
}

#[derive(Deserialize)]
#[serde(crate = "rocket::serde")]
struct NewNote {
    text: String,
}

/// Adds a note. `format = "json"`: only `Content-Type: application/json`,
/// which no cross-site form can send.
#[post("/api/notes", format = "json", data = "<note>")]
fn add_note(
    _session: ActiveSession,
    jar: &CookieJar<'_>,
    store: &State<Notes>,
    note: Json<NewNote>,
) -> (Status, JsonValue) {
    let text = note.text.trim();
    if text.is_empty() || text.chars().count() > MAX_NOTE {
        return (Status::UnprocessableEntity, json!({ "error": format!("a note has 1 to {MAX_NOTE} characters") }));
    }
    store.0.lock().unwrap_or_else(|e| e.into_inner()).entry(user_name(jar)).or_default().push(text.to_string());
    (Status::Created, notes_of(store, &user_name(jar)))
}
