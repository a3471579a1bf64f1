//! An app whose administrators get a shorter idle timeout than its users,
//! and whose security page asks for a recent sign-in.
//!
//! What it shows:
//! - the timing is chosen **once per session, at sign-in**, from the
//!   person's role ([`timing_for`], given to `SessionTracker::sign_in_with`):
//!   admins warn at 240 s and expire at 300 s, users at 1740 s and 1800 s
//!   (the configured timing, the longest any session may have);
//! - it is sealed into the session's stamp, so the `ActiveSession` guard on
//!   every route, the ping's answer and the snippet's `data-warn-after` /
//!   `data-expire-after` all carry the session's own timing, and no route
//!   can revive or cut short another's;
//! - `GET /security` takes `RecentSignIn<300>`: more than five minutes after
//!   signing in, a page goes to the login form (with `next` and a flash
//!   saying why), and signing in again as the same person renews the session
//!   (every tab stays signed in) and comes back;
//! - the `role` cookie is private and in `login_cookies`: the stamp is bound
//!   to it, so a forged or missing one ends the session outright.
//!
//! Every page is sent with `Content-Security-Policy: default-src 'self'`.
//! Tests build this same app (`#[path]`-included) with a manual clock.

use std::fmt;

use rocket::figment::{util::map, value::Value, Figment};
use rocket::form::{Form, FromForm};
use rocket::http::{CookieJar, Header};
use rocket::request::FlashMessage;
use rocket::response::{content::RawHtml, Redirect};
use rocket::{get, post, routes, Build, Either, Rocket};
use rocket_session_security::{safe_next, ActiveSession, RecentSignIn, SessionSecurity, SessionTracker, Timeouts};

/// The app's own sign-in cookies (private), both in `login_cookies`.
const USER_COOKIE: &str = "user";
const ROLE_COOKIE: &str = "role";

/// Administrators: warned after 4 minutes idle, signed out after 5.
pub const ADMIN: (u32, u32) = (4 * 60, 5 * 60);
/// Everyone else: warned after 29 minutes idle, signed out after 30 (the
/// configured timing, unless the environment configures another).
pub const USER: (u32, u32) = (29 * 60, 30 * 60);
/// The security page asks for a sign-in within this many seconds.
pub const RECENT_SIGN_IN: u32 = 300;

/// The app with the system clock.
#[allow(dead_code)]
pub fn rocket() -> Rocket<Build> {
    rocket_with(SessionSecurity::fairing(), rocket::Config::figment())
}

/// The app with a given fairing (e.g. with a test clock) and base configuration.
pub fn rocket_with(fairing: SessionSecurity, figment: Figment) -> Rocket<Build> {
    rocket::custom(app_settings(figment))
        .attach(fairing)
        .attach(rocket::fairing::AdHoc::on_response("Content-Security-Policy", |_, res| {
            Box::pin(async move {
                res.set_header(Header::new("Content-Security-Policy", "default-src 'self'"));
            })
        }))
        .mount("/", routes![login_page, login_submit, logout, index, security])
}

/// Fills in the app's settings under whatever the environment configured.
fn app_settings(figment: Figment) -> Figment {
    let set = |key: &str| figment.find_value(&format!("session_security.{key}")).is_ok();
    let mut app: std::collections::BTreeMap<&str, Value> = map![
        "login_url" => "/login".into(),
        "logout_url" => "/logout".into(),
        "login_cookies" => vec![USER_COOKIE, ROLE_COOKIE].into(),
    ];
    // The configured timing is the users': the longest any session may have.
    if !set("warn_after") && !set("expire_after") {
        app.insert("warn_after", USER.0.into());
        app.insert("expire_after", USER.1.into());
    }
    figment.join(("session_security", app))
}

/// A person's role, from the app's user store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    User,
}

impl Role {
    fn of(username: &str) -> Role {
        // A real app reads the role from its user store.
        if username == "admin" {
            Role::Admin
        } else {
            Role::User
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::User => "user",
        }
    }
}

/// The timing of a session, chosen at sign-in from the role: admins get
/// [`ADMIN`] (never longer than the configured timing), everyone else the
/// configured timing. The absolute limit stays as configured.
pub fn timing_for(role: Role, configured: Timeouts) -> Timeouts {
    match role {
        Role::Admin if configured.expire_after > ADMIN.1 => {
            Timeouts { warn_after: ADMIN.0, expire_after: ADMIN.1, ..configured }
        }
        _ => configured,
    }
}

/// Text to put in HTML: its `Display` escapes `& < > " '`.
struct Text<'a>(&'a str);

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..at])?;
            f.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#x27;",
            })?;
            rest = &rest[at + 1..];
        }
        f.write_str(rest)
    }
}

/// The page layout; `main` and `snippet` are HTML the caller built.
fn page(title: &str, main: &str, snippet: &str) -> RawHtml<String> {
    RawHtml(format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · per-role timeouts</title>
</head>
<body>
<main>
{main}
</main>
{snippet}
</body>
</html>
"#,
        title = Text(title),
    ))
}

fn login_form(next: &str, error: Option<&str>, notice: Option<&str>) -> RawHtml<String> {
    let error = error.map(|e| format!("<p role=\"alert\">{}</p>\n", Text(e))).unwrap_or_default();
    let notice = notice.map(|n| format!("<p role=\"status\">{}</p>\n", Text(n))).unwrap_or_default();
    let main = format!(
        r#"<h1>Sign in</h1>
<p>As <code>admin</code> for the administrator's timing (5 minutes), any other name for a user's (30 minutes).</p>
{notice}{error}<form method="post" action="/login">
<input type="hidden" name="next" value="{next}">
<p><label for="username">User name</label> <input id="username" name="username" autocomplete="username" required autofocus></p>
<p><label for="password">Password</label> <input id="password" type="password" name="password" autocomplete="current-password" required> (<code>demo</code>)</p>
<p><button type="submit">Sign in</button></p>
</form>"#,
        next = Text(next),
    );
    page("Sign in", &main, "")
}

/// The login page; after an expiry, or when the security page asked for a
/// recent sign-in, the crate's flash message says why.
#[get("/login?<next>")]
fn login_page(next: Option<&str>, flash: Option<FlashMessage<'_>>) -> RawHtml<String> {
    let notice = flash.filter(|f| f.kind().starts_with("session_security:"));
    login_form(next.and_then(safe_next).unwrap_or("/"), None, notice.as_ref().map(|f| f.message()))
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
    let username = form.username.map(str::trim).unwrap_or_default();
    if username.is_empty() || form.password != Some("demo") {
        return Either::Right(login_form(next, Some("Wrong user name or password."), None));
    }
    let role = Role::of(username);
    jar.add_private((USER_COOKIE, username.to_string()));
    jar.add_private((ROLE_COOKIE, role.as_str()));
    // Sealed into the session: the same on every route until it ends.
    // (The same person signing in again renews the session instead.)
    if let Err(e) = tracker.sign_in_with(timing_for(role, tracker.configured_timeouts())) {
        jar.remove_private(USER_COOKIE);
        jar.remove_private(ROLE_COOKIE);
        return Either::Right(login_form(next, Some(&format!("Cannot sign in: {e}")), None));
    }
    Either::Left(Redirect::to(next.to_string()))
}

#[post("/logout")]
fn logout(tracker: SessionTracker<'_>) -> Redirect {
    tracker.sign_out(); // removes the stamp, `user` and `role`
    Redirect::to("/login")
}

fn private_value(jar: &CookieJar<'_>, name: &str) -> String {
    jar.get_private(name).map(|c| c.value().to_string()).unwrap_or_default()
}

#[get("/")]
fn index(session: ActiveSession, jar: &CookieJar<'_>) -> RawHtml<String> {
    let t = session.timeouts();
    let main = format!(
        r#"<h1>Hello, {user}</h1>
<p>Role: <strong id="role">{role}</strong>. Warning after <span id="warn-after">{warn}</span> s idle,
signed out after <span id="expire-after">{expire}</span> s idle.</p>
<p><a href="/security">Security settings</a> (asks for a sign-in within the last {recent} s).</p>
<form method="post" action="/logout"><button type="submit">Sign out</button></form>"#,
        user = Text(&private_value(jar, USER_COOKIE)),
        role = Text(&private_value(jar, ROLE_COOKIE)),
        warn = t.warn_after,
        expire = t.expire_after,
        recent = RECENT_SIGN_IN,
    );
    page("Home", &main, &session.snippet().to_string())
}

/// A sensitive page: only within [`RECENT_SIGN_IN`] seconds of signing in.
#[get("/security")]
fn security(session: RecentSignIn<{ RECENT_SIGN_IN }>, jar: &CookieJar<'_>) -> RawHtml<String> {
    let main = format!(
        r#"<h1>Security settings of {user}</h1>
<p>You signed in <span id="signed-in-for">{age}</span> s ago.</p>
<p><a href="/">Home</a></p>"#,
        user = Text(&private_value(jar, USER_COOKIE)),
        age = session.signed_in_for(),
    );
    page("Security", &main, &session.snippet().to_string())
}
