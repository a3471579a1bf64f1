//! Request guards: [`ActiveSession`] lets only active sessions through, and
//! [`SessionTracker`] is what login and logout handlers call.

use rocket::http::{Header, Status};
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};
use rocket::response::Response;
use rocket::serde::json::serde_json::json;
use time::OffsetDateTime;

use std::sync::Arc;

use crate::answer::{no_store, JsonAnswer};
use crate::config::Timeouts;
use crate::fairing::{first_header, request_context, Shared};
use crate::i18n::Language;
use crate::redirect::{login_location, next_for_request};
use crate::snippet::Snippet;
use crate::verdict::{ExpiryReason, RequestSession, Verdict};

/// A request guard that succeeds only for a signed-in session that is within
/// its idle and absolute limits.
///
/// When it fails, the crate answers for you: a page navigation gets
/// `303 See Other` to `login_url?next=<this path>`, a fetch/XHR/API request
/// gets `401` with `{"error":"session_expired"}` or
/// `{"error":"not_signed_in"}`, and an expired session's cookies are removed.
/// Pages it guards are sent with `Cache-Control: no-store` (unless the handler
/// set its own), so the back button after expiry shows nothing.
///
/// ```
/// # #[macro_use] extern crate rocket;
/// use rocket_session_security::ActiveSession;
///
/// #[get("/reports")]
/// fn reports(session: ActiveSession) -> String {
///     format!("idle for {} s, warning in {} s", session.idle_for(), session.warns_in())
/// }
/// ```
#[derive(Clone)]
pub struct ActiveSession {
    idle: u32,
    signed_in_at: i64,
    timeouts: Timeouts,
    language: Language,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ActiveSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActiveSession")
            .field("idle", &self.idle)
            .field("signed_in_at", &self.signed_in_at)
            .field("timeouts", &self.timeouts)
            .field("language", &self.language)
            .finish()
    }
}

impl ActiveSession {
    /// Whole seconds since the last activity the server saw, before this request.
    pub fn idle_for(&self) -> u32 {
        self.idle
    }

    /// Seconds until the browser warns, if nothing happens.
    pub fn warns_in(&self) -> u32 {
        self.timeouts.warn_after.saturating_sub(self.idle)
    }

    /// Seconds until the session expires, if nothing happens.
    pub fn expires_in(&self) -> u32 {
        self.timeouts.expire_after.saturating_sub(self.idle)
    }

    /// When the person signed in (UTC).
    pub fn signed_in_at(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.signed_in_at).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// The timing in force for this session (after the per-request hook).
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// The language of the warning texts: the `language` setting, else the
    /// request's `Accept-Language`, else English.
    pub fn language(&self) -> Language {
        self.language
    }

    /// The browser snippet for this session (its own timing and language):
    /// put `to_string()` in any page, or give it to Tera as
    /// `session_security`. See [`Snippet`].
    pub fn snippet(&self) -> Snippet {
        Snippet::new(&self.shared.config, self.timeouts, self.language)
    }
}

/// Why [`ActiveSession`] refused a request (the error of the guard, for
/// handlers that take `Result<ActiveSession, SessionRejected>`).
///
/// ```
/// # #[macro_use] extern crate rocket;
/// use rocket_session_security::{ActiveSession, SessionRejected};
///
/// #[get("/maybe")]
/// fn maybe(session: Result<ActiveSession, SessionRejected>) -> &'static str {
///     match session {
///         Ok(_) => "welcome back",
///         Err(SessionRejected::NotSignedIn) => "hello, stranger",
///         Err(SessionRejected::Expired(_)) => "you were away too long",
///         Err(SessionRejected::NotConfigured) => "attach SessionSecurity::fairing()",
///     }
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionRejected {
    /// Nobody is signed in.
    NotSignedIn,
    /// The session is over.
    Expired(ExpiryReason),
    /// The `SessionSecurity` fairing is not attached.
    NotConfigured,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ActiveSession {
    type Error = SessionRejected;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        let Some((session, shared)) = request_context(req, "ActiveSession") else {
            return Outcome::Error((Status::InternalServerError, SessionRejected::NotConfigured));
        };
        match session.verdict {
            Verdict::Active { stamp, idle } => {
                session.mark_protected();
                let language = shared.language.unwrap_or_else(|| accept_language(req));
                Outcome::Success(ActiveSession {
                    idle,
                    signed_in_at: stamp.signed_in_at,
                    timeouts: session.timeouts,
                    language,
                    shared: shared.clone(),
                })
            }
            Verdict::Anonymous => {
                session.mark_rejected();
                Outcome::Error((Status::Unauthorized, SessionRejected::NotSignedIn))
            }
            Verdict::Expired(reason) => {
                session.mark_rejected();
                Outcome::Error((Status::Unauthorized, SessionRejected::Expired(reason)))
            }
        }
    }
}

/// The guard a login handler uses to start tracking a sign-in, and a logout
/// handler to end it. The stamp is written (or removed) on this response.
///
/// ```
/// # #[macro_use] extern crate rocket;
/// use rocket::http::CookieJar;
/// use rocket::response::Redirect;
/// use rocket_session_security::SessionTracker;
///
/// #[post("/login")]
/// fn login(jar: &CookieJar<'_>, tracker: SessionTracker<'_>) -> Redirect {
///     // ... check the password ...
///     jar.add_private(("user_id", "42"));
///     tracker.sign_in();
///     Redirect::to("/")
/// }
///
/// #[post("/logout")]
/// fn logout(tracker: SessionTracker<'_>) -> Redirect {
///     tracker.sign_out(); // also removes every cookie in `login_cookies`
///     Redirect::to("/login")
/// }
/// ```
pub struct SessionTracker<'r> {
    session: &'r RequestSession,
    shared: &'r Shared,
}

impl SessionTracker<'_> {
    /// Starts a fresh session: sign-in time and last activity are now. Any
    /// older stamp of this browser is replaced.
    pub fn sign_in(&self) {
        self.session.sign_in(self.shared.clock.now_unix());
    }

    /// Ends the session: removes the stamp and every cookie in
    /// `login_cookies` that this response does not set again.
    pub fn sign_out(&self) {
        self.session.sign_out();
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SessionTracker<'r> {
    type Error = SessionRejected;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        match request_context(req, "SessionTracker") {
            Some((session, shared)) => Outcome::Success(SessionTracker { session, shared }),
            None => Outcome::Error((Status::InternalServerError, SessionRejected::NotConfigured)),
        }
    }
}

/// The language of the request's `Accept-Language` (English without one).
fn accept_language(req: &Request<'_>) -> Language {
    first_header(req.headers(), "Accept-Language").map_or(Language::English, |h| Language::negotiate(h.value()))
}

/// A fetch/XHR/API call rather than a page navigation: it must get a 401 it
/// can read, never a redirect to an HTML login page.
pub(crate) fn wants_json(req: &Request<'_>) -> bool {
    let headers = req.headers();
    if headers.contains("X-Requested-With") {
        return true;
    }
    if let Some(mode) = headers.get_one("Sec-Fetch-Mode") {
        if !mode.eq_ignore_ascii_case("navigate") {
            return true;
        }
    }
    match headers.get_one("Accept") {
        Some(accept) => accept.contains("application/json") && !accept.contains("text/html"),
        None => false,
    }
}

/// Turns the 401 of a refused [`ActiveSession`] into the answer the client
/// can use: a login redirect for pages, a JSON 401 for API calls.
pub(crate) fn shape_rejection(req: &Request<'_>, res: &mut Response<'_>, session: &RequestSession, login_url: &str) {
    if wants_json(req) {
        let error = match session.verdict {
            Verdict::Expired(_) => "session_expired",
            _ => "not_signed_in",
        };
        JsonAnswer::new(Status::Unauthorized, json!({ "error": error })).apply_to(res);
    } else {
        let next = next_for_request(req.uri().path().as_str(), req.uri().query().map(|q| q.as_str()));
        res.set_status(Status::SeeOther);
        res.set_header(Header::new("Location", login_location(login_url, &next)));
        res.set_header(no_store());
        res.set_sized_body(0, std::io::Cursor::new(""));
        res.remove_header("Content-Type");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocket::local::blocking::Client;

    #[test]
    fn accept_language_is_what_get_one_and_negotiate_give() {
        let client = Client::untracked(rocket::build()).unwrap();
        let cases: [&[&str]; 6] = [&[], &["fr"], &["de-DE,de;q=0.9,en;q=0.8"], &["", "fr"], &["xx", "ja"], &["pl;q=0"]];
        for values in cases {
            let mut request = client.get("/").header(Header::new("X-Other", "1"));
            for value in values {
                request = request.header(Header::new("accept-LANGUAGE", value.to_string()));
            }
            let req = request.inner();
            let expected = Language::negotiate(req.headers().get_one("Accept-Language").unwrap_or(""));
            assert_eq!(accept_language(req), expected, "{values:?}");
        }
    }
}
