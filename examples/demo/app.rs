//! A small intranet: a login page, protected pages, a form, a polling
//! endpoint, all behind `rocket_session_security`. Integration and browser
//! tests build this same app (`#[path]`-included), so its routes are a
//! fixed contract.

use rocket::figment::{util::map, value::Value, Figment};
use rocket::form::{Form, FromForm};
use rocket::http::Status;
use rocket::http::{ContentType, CookieJar, Header};
use rocket::request::FlashMessage;
use rocket::response::Redirect;
use rocket::serde::json::{serde_json::json, Value as Json};
use rocket::{get, post, routes, Build, Either, Rocket};
use rocket_dyn_templates::{context, Template};
use rocket_session_security::{
    register_templates, safe_next, ActiveSession, RecentSignIn, SessionId, SessionSecurity, SessionTracker, Timeouts,
};

/// The app's own sign-in cookie (private), listed in `login_cookies`.
const USER_COOKIE: &str = "user";

/// `/sensitive` asks for a sign-in within this many seconds.
pub const RECENT_SIGN_IN: u32 = 20;

/// The demo with the system clock.
#[allow(dead_code)]
pub fn rocket() -> Rocket<Build> {
    rocket_with(SessionSecurity::fairing(), rocket::Config::figment())
}

/// The demo with a given fairing (e.g. with a test clock) and base
/// configuration; the demo's own settings fill what `figment` leaves unset.
pub fn rocket_with(fairing: SessionSecurity, figment: Figment) -> Rocket<Build> {
    rocket::custom(demo_settings(figment))
        .attach(fairing)
        .attach(Template::custom(|engines| register_templates(&mut engines.tera)))
        .attach(rocket::fairing::AdHoc::on_response("Content-Security-Policy", |_, res| {
            Box::pin(async move {
                res.set_header(Header::new("Content-Security-Policy", "default-src 'self'"));
            })
        }))
        .mount(
            "/",
            routes![
                login_page,
                login_submit,
                logout,
                logout_everywhere,
                sessions_api,
                end_session_api,
                sessions_page,
                end_session_page,
                index,
                sensitive,
                form_page,
                form_submit,
                poll,
                me,
                me_signed_out,
                public,
                stylesheet
            ],
        )
}

/// Fills in the demo's settings under whatever the environment configured.
fn demo_settings(figment: Figment) -> Figment {
    let set = |key: &str| figment.find_value(&format!("session_security.{key}")).is_ok();
    let mut demo: std::collections::BTreeMap<&str, Value> = map![
        "login_url" => "/login".into(),
        "logout_url" => "/logout".into(),
        "login_cookies" => vec!["user"].into(),
        "passive_urls" => vec!["/poll"].into(),
        "confirm_form_discard" => true.into(),
        "keep_unsaved_forms" => true.into(),
    ];
    // Short enough for a visitor to see the warning, unless timing was configured.
    if !set("warn_after") && !set("expire_after") {
        demo.insert("warn_after", 15.into());
        demo.insert("expire_after", 45.into());
    }
    let template_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo/templates");
    figment.join(("session_security", demo)).join(("template_dir", template_dir))
}

fn user_name(jar: &CookieJar<'_>) -> String {
    jar.get_private(USER_COOKIE).map(|c| c.value().to_string()).unwrap_or_default()
}

/// The login page; after an expiry the crate's flash message says why
/// ("You were signed out after 10 min of inactivity.").
#[get("/login?<next>")]
fn login_page(next: Option<&str>, flash: Option<FlashMessage<'_>>) -> Template {
    let next = next.and_then(safe_next).unwrap_or("/");
    let notice = flash.filter(|f| f.kind().starts_with("session_security:")).map(|f| f.message().to_string());
    Template::render("login", context! { next, error: false, notice })
}

#[derive(FromForm)]
struct Login<'r> {
    username: Option<&'r str>,
    password: Option<&'r str>,
    next: Option<&'r str>,
}

/// The session timing of a user whose name starts with `admin`: half the
/// configured idle limit, warned 20 s before it (WCAG 2.2.1's minimum).
pub fn admin_timeouts(configured: Timeouts) -> Timeouts {
    let expire_after = configured.expire_after / 2;
    Timeouts { warn_after: expire_after.saturating_sub(20).max(1), expire_after, ..configured }
}

/// Signs in (any name, the password `demo`); admins get [`admin_timeouts`],
/// sealed into their session. The same person signing in again while the
/// session is active renews it: same session, every tab stays signed in.
#[post("/login", data = "<form>")]
fn login_submit(form: Form<Login<'_>>, jar: &CookieJar<'_>, tracker: SessionTracker<'_>) -> Either<Redirect, Template> {
    let next = form.next.and_then(safe_next).unwrap_or("/");
    match (form.username.map(str::trim), form.password) {
        (Some(user), Some("demo")) if !user.is_empty() => {
            jar.add_private((USER_COOKIE, user.to_string()));
            let signed_in = if user.starts_with("admin") {
                tracker.sign_in_with(admin_timeouts(tracker.configured_timeouts()))
            } else {
                tracker.sign_in();
                Ok(())
            };
            match signed_in {
                Ok(()) => Either::Left(Redirect::to(next.to_string())),
                Err(e) => {
                    jar.remove_private(USER_COOKIE);
                    let refused = format!("This configuration cannot sign in an administrator: {e}");
                    Either::Right(Template::render("login", context! { next, error: false, notice: refused }))
                }
            }
        }
        _ => Either::Right(Template::render("login", context! { next, error: true })),
    }
}

#[post("/logout")]
fn logout(tracker: SessionTracker<'_>) -> Redirect {
    tracker.sign_out();
    Redirect::to("/login")
}

/// Ends every session of this person, on every device; they can sign in again.
#[post("/logout-everywhere")]
fn logout_everywhere(tracker: SessionTracker<'_>) -> Redirect {
    tracker.sign_out_everywhere();
    Redirect::to("/login")
}

/// This person's sessions: `[{"id", "current", "signed_in", "last_seen", "user_agent"}]`.
#[get("/api/sessions")]
async fn sessions_api(_session: ActiveSession, tracker: SessionTracker<'_>) -> (Status, Json) {
    match tracker.sessions().await {
        Ok(list) => (Status::Ok, json!(list)),
        Err(e) => (Status::ServiceUnavailable, json!({ "error": e.to_string() })),
    }
}

/// Ends one of this person's sessions (never someone else's: 404).
#[post("/api/sessions/<id>/end")]
async fn end_session_api(_session: ActiveSession, id: SessionId, tracker: SessionTracker<'_>) -> (Status, Json) {
    match tracker.end(id).await {
        Ok(true) => (Status::Ok, json!({ "ended": id.to_string() })),
        Ok(false) => (Status::NotFound, json!({ "error": "no such session of yours" })),
        Err(e) => (Status::ServiceUnavailable, json!({ "error": e.to_string() })),
    }
}

/// The same list as a page, with buttons.
#[get("/sessions")]
async fn sessions_page(session: ActiveSession, tracker: SessionTracker<'_>, jar: &CookieJar<'_>) -> Template {
    let (sessions, error) = match tracker.sessions().await {
        Ok(list) => (list, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    Template::render(
        "sessions",
        context! { user: user_name(jar), sessions, error, session_security: session.snippet() },
    )
}

#[post("/sessions/<id>/end")]
async fn end_session_page(_session: ActiveSession, id: SessionId, tracker: SessionTracker<'_>) -> Redirect {
    let _ = tracker.end(id).await;
    Redirect::to("/sessions")
}

#[get("/")]
fn index(session: ActiveSession, jar: &CookieJar<'_>) -> Template {
    Template::render(
        "index",
        context! {
            user: user_name(jar),
            signed_in_at: session.signed_in_at().to_string(),
            warn_after: session.timeouts().warn_after,
            expire_after: session.timeouts().expire_after,
            session_security: session.snippet(),
        },
    )
}

/// A sensitive page: only within [`RECENT_SIGN_IN`] seconds of signing in;
/// otherwise the login form, and back here once signed in again.
#[get("/sensitive")]
fn sensitive(session: RecentSignIn<{ RECENT_SIGN_IN }>, jar: &CookieJar<'_>) -> Template {
    Template::render(
        "sensitive",
        context! {
            user: user_name(jar),
            signed_in_for: session.signed_in_for(),
            within: RECENT_SIGN_IN,
            session_security: session.snippet(),
        },
    )
}

#[get("/form")]
fn form_page(session: ActiveSession, jar: &CookieJar<'_>) -> Template {
    Template::render("form", context! { user: user_name(jar), saved: false, session_security: session.snippet() })
}

#[derive(FromForm)]
struct Notes<'r> {
    notes: &'r str,
}

#[post("/form", data = "<form>")]
fn form_submit(session: ActiveSession, jar: &CookieJar<'_>, form: Form<Notes<'_>>) -> Template {
    let saved = form.notes.chars().count();
    Template::render("form", context! { user: user_name(jar), saved, session_security: session.snippet() })
}

/// Polled by pages; passive (`passive_urls`), so it never keeps a session alive.
#[get("/poll")]
fn poll(_session: ActiveSession) -> Json {
    json!({ "ok": true })
}

/// Who is signed in, for the page's own scripts.
#[get("/me")]
fn me(session: ActiveSession, jar: &CookieJar<'_>) -> Json {
    json!({ "user": user_name(jar), "expires_in": session.expires_in() })
}

/// Nobody signed in: `ActiveSession` forwards, and this rank-2 route answers
/// (an expired session is not forwarded: it gets the crate's JSON 401).
#[get("/me", rank = 2)]
fn me_signed_out() -> Json {
    json!({ "user": null })
}

#[get("/public")]
fn public() -> Template {
    Template::render("public", context! {})
}

#[get("/demo.css")]
fn stylesheet() -> (ContentType, &'static str) {
    (ContentType::CSS, include_str!("demo.css"))
}
