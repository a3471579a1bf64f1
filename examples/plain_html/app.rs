//! An app whose pages are plain `format!` strings sent as `RawHtml`.
//!
//! What it shows:
//! - the snippet (the crate's stylesheet link, warning dialog and script tag)
//!   is a plain value: `session.snippet().to_string()` is finished, escaped
//!   HTML, inserted as is before `</body>`;
//! - user data is escaped at the point it is interpolated, with [`Text`]:
//!   `format!("<p>{}</p>", Text(&name))`. Trusted markup (a fragment this code
//!   built, the snippet) is inserted as is; nothing else is;
//! - sign-in and sign-out with `SessionTracker`, the user in a private cookie
//!   listed in `login_cookies`, so expiry removes it too.
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
use rocket_session_security::{safe_next, ActiveSession, SessionSecurity, SessionTracker};

/// The app's own sign-in cookie (private), listed in `login_cookies`.
const USER_COOKIE: &str = "user";

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
        .mount("/", routes![login_page, login_submit, logout, index, account])
}

/// Fills in the app's settings under whatever the environment configured.
fn app_settings(figment: Figment) -> Figment {
    let set = |key: &str| figment.find_value(&format!("session_security.{key}")).is_ok();
    let mut app: std::collections::BTreeMap<&str, Value> = map![
        "login_url" => "/login".into(),
        "logout_url" => "/logout".into(),
        "login_cookies" => vec![USER_COOKIE].into(),
    ];
    // Short enough to watch the dialog, unless timing was configured.
    if !set("warn_after") && !set("expire_after") {
        app.insert("warn_after", 15.into());
        app.insert("expire_after", 45.into());
    }
    figment.join(("session_security", app))
}

/// Text to put in HTML: its `Display` escapes `& < > " '`, so it is safe in
/// element content and in quoted attribute values.
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

/// The page layout. `title` and `user` are text (escaped here); `main` and
/// `snippet` are HTML the caller built (inserted as they are).
fn page(title: &str, user: Option<&str>, main: &str, snippet: &str) -> RawHtml<String> {
    let header = match user {
        Some(user) => format!(
            r#"<header><nav><a href="/">Home</a> <a href="/account">Account</a></nav>
<form method="post" action="/logout">Signed in as <strong>{}</strong> <button type="submit">Sign out</button></form></header>"#,
            Text(user)
        ),
        None => String::new(),
    };
    RawHtml(format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · plain HTML</title>
</head>
<body>
{header}
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

fn user_name(jar: &CookieJar<'_>) -> String {
    jar.get_private(USER_COOKIE).map(|c| c.value().to_string()).unwrap_or_default()
}

/// The login form; after a failed attempt it keeps the user name typed.
fn login_form(next: &str, username: &str, error: bool, notice: Option<&str>) -> RawHtml<String> {
    let error = if error { "<p role=\"alert\">Wrong user name or password.</p>\n" } else { "" };
    // Why the person is here again, from the crate's flash message after an expiry.
    let notice = notice.map(|n| format!("<p role=\"status\">{}</p>\n", Text(n))).unwrap_or_default();
    let main = format!(
        r#"<h1>Sign in</h1>
{notice}{error}<form method="post" action="/login">
<input type="hidden" name="next" value="{next}">
<p><label for="username">User name</label> <input id="username" name="username" value="{username}" autocomplete="username" required autofocus></p>
<p><label for="password">Password</label> <input id="password" type="password" name="password" autocomplete="current-password" required> (<code>demo</code>)</p>
<p><button type="submit">Sign in</button></p>
</form>"#,
        next = Text(next),
        username = Text(username),
    );
    // No session: no snippet.
    page("Sign in", None, &main, "")
}

#[get("/login?<next>")]
fn login_page(next: Option<&str>, flash: Option<FlashMessage<'_>>) -> RawHtml<String> {
    let notice = flash.as_ref().filter(|f| f.kind().starts_with("session_security:")).map(|f| f.message());
    login_form(next.and_then(safe_next).unwrap_or("/"), "", false, notice)
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
        return Either::Right(login_form(next, username, true, None));
    }
    jar.add_private((USER_COOKIE, username.to_string()));
    tracker.sign_in();
    Either::Left(Redirect::to(next.to_string()))
}

#[post("/logout")]
fn logout(tracker: SessionTracker<'_>) -> Redirect {
    tracker.sign_out(); // removes the stamp and the `user` cookie
    Redirect::to("/login")
}

#[get("/")]
fn index(session: ActiveSession, jar: &CookieJar<'_>) -> RawHtml<String> {
    let user = user_name(jar);
    let main = format!(
        "<h1>Hello, {}</h1>\n<p>Nothing happening here: leave this tab alone and watch the warning come.</p>",
        Text(&user)
    );
    page("Home", Some(&user), &main, &session.snippet().to_string())
}

#[get("/account")]
fn account(session: ActiveSession, jar: &CookieJar<'_>) -> RawHtml<String> {
    let user = user_name(jar);
    let t = session.timeouts();
    let main = format!(
        "<h1>Account</h1>\n<dl>\n<dt>User name</dt><dd>{}</dd>\n<dt>Signed in at</dt><dd>{}</dd>\n\
         <dt>Warning after</dt><dd>{} s idle</dd>\n<dt>Signed out after</dt><dd>{} s idle</dd>\n</dl>",
        Text(&user),
        session.signed_in_at(),
        t.warn_after,
        t.expire_after,
    );
    page("Account", Some(&user), &main, &session.snippet().to_string())
}
