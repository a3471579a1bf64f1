//! An app whose administrators get a shorter idle timeout than its users.
//!
//! What it shows:
//! - [`role_timeouts`], given to `SessionSecurity::fairing().timeouts(…)`,
//!   picks the timing of each request from the app's own **private** `role`
//!   cookie (set at sign-in next to `user`; both in `login_cookies`):
//!   admins warn at 240 s and expire at 300 s, users at 1740 s and 1800 s;
//! - what the hook returns is used everywhere: the `ActiveSession` guard
//!   expires an admin at 300 s idle and a user at 1800 s, the ping answers
//!   the role's `warn_after` / `expire_after`, and the snippet's
//!   `data-warn-after` / `data-expire-after` carry the same values;
//! - the hook fails closed: a missing, forged or unreadable `role` cookie
//!   gets the short timing, so nobody lengthens their own timeout by
//!   tampering with a cookie; and since `role` is in `login_cookies`, the
//!   stamp is bound to it: a forged or missing one ends the session outright.
//!
//! The hook runs only for requests with a session stamp; the configured
//! `warn_after` / `expire_after` are unused once someone is signed in.
//! Every page is sent with `Content-Security-Policy: default-src 'self'`.
//! Tests build this same app (`#[path]`-included) with a manual clock.

use std::fmt;

use rocket::figment::{util::map, value::Value, Figment};
use rocket::form::{Form, FromForm};
use rocket::http::{CookieJar, Header};
use rocket::response::{content::RawHtml, Redirect};
use rocket::{get, post, routes, Build, Either, Request, Rocket};
use rocket_session_security::{safe_next, ActiveSession, SessionSecurity, SessionTracker, Timeouts};

/// The app's own sign-in cookies (private), both in `login_cookies`.
const USER_COOKIE: &str = "user";
const ROLE_COOKIE: &str = "role";

/// Administrators: warned after 4 minutes idle, signed out after 5.
pub const ADMIN: (u32, u32) = (4 * 60, 5 * 60);
/// Everyone else: warned after 29 minutes idle, signed out after 30.
pub const USER: (u32, u32) = (29 * 60, 30 * 60);

/// The app with the system clock.
#[allow(dead_code)]
pub fn rocket() -> Rocket<Build> {
    rocket_with(SessionSecurity::fairing(), rocket::Config::figment())
}

/// The app with a given fairing (e.g. with a test clock; its timeouts hook is
/// replaced by [`role_timeouts`]) and base configuration.
pub fn rocket_with(fairing: SessionSecurity, figment: Figment) -> Rocket<Build> {
    rocket::custom(app_settings(figment))
        .attach(fairing.timeouts(role_timeouts))
        .attach(rocket::fairing::AdHoc::on_response("Content-Security-Policy", |_, res| {
            Box::pin(async move {
                res.set_header(Header::new("Content-Security-Policy", "default-src 'self'"));
            })
        }))
        .mount("/", routes![login_page, login_submit, logout, index])
}

/// Fills in the app's settings under whatever the environment configured.
fn app_settings(figment: Figment) -> Figment {
    let app: std::collections::BTreeMap<&str, Value> = map![
        "login_url" => "/login".into(),
        "logout_url" => "/logout".into(),
        "login_cookies" => vec![USER_COOKIE, ROLE_COOKIE].into(),
    ];
    figment.join(("session_security", app))
}

/// The timing of a request, from its role. Only a `role` cookie that
/// decrypts (the app set it) and says `user` gets the long timing. The
/// absolute limit stays as configured, raised if needed to `expire_after` (a
/// hook result that breaks [`Timeouts::validate`] would be replaced by the
/// configured timing).
pub fn role_timeouts(req: &Request<'_>, configured: Timeouts) -> Timeouts {
    let role = req.cookies().get_private(ROLE_COOKIE);
    let (warn_after, expire_after) = match role.as_ref().map(|c| c.value()) {
        Some("user") => USER,
        _ => ADMIN,
    };
    let absolute_timeout = match configured.absolute_timeout {
        0 => 0,
        limit => limit.max(expire_after),
    };
    Timeouts { warn_after, expire_after, absolute_timeout }
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

fn login_form(next: &str, error: bool) -> RawHtml<String> {
    let error = if error { "<p role=\"alert\">Wrong user name or password.</p>\n" } else { "" };
    let main = format!(
        r#"<h1>Sign in</h1>
<p>As <code>admin</code> for the administrator's timing (5 minutes), any other name for a user's (30 minutes).</p>
{error}<form method="post" action="/login">
<input type="hidden" name="next" value="{next}">
<p><label for="username">User name</label> <input id="username" name="username" autocomplete="username" required autofocus></p>
<p><label for="password">Password</label> <input id="password" type="password" name="password" autocomplete="current-password" required> (<code>demo</code>)</p>
<p><button type="submit">Sign in</button></p>
</form>"#,
        next = Text(next),
    );
    page("Sign in", &main, "")
}

#[get("/login?<next>")]
fn login_page(next: Option<&str>) -> RawHtml<String> {
    login_form(next.and_then(safe_next).unwrap_or("/"), false)
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
        return Either::Right(login_form(next, true));
    }
    // A real app reads the role from its user store.
    let role = if username == "admin" { "admin" } else { "user" };
    jar.add_private((USER_COOKIE, username.to_string()));
    jar.add_private((ROLE_COOKIE, role));
    tracker.sign_in();
    Either::Left(Redirect::to(next.to_string()))
}

#[post("/logout")]
fn logout(tracker: SessionTracker<'_>) -> Redirect {
    tracker.sign_out(); // removes the stamp, `user` and `role`
    Redirect::to("/login")
}

#[get("/")]
fn index(session: ActiveSession, jar: &CookieJar<'_>) -> RawHtml<String> {
    let value = |name: &str| jar.get_private(name).map(|c| c.value().to_string()).unwrap_or_default();
    let t = session.timeouts();
    let main = format!(
        r#"<h1>Hello, {user}</h1>
<p>Role: <strong id="role">{role}</strong>. Warning after <span id="warn-after">{warn}</span> s idle,
signed out after <span id="expire-after">{expire}</span> s idle.</p>
<form method="post" action="/logout"><button type="submit">Sign out</button></form>"#,
        user = Text(&value(USER_COOKIE)),
        role = Text(&value(ROLE_COOKIE)),
        warn = t.warn_after,
        expire = t.expire_after,
    );
    page("Home", &main, &session.snippet().to_string())
}
