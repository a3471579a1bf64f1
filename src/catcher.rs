//! The crate's 401 catcher, and the answer an app's own catcher can give:
//! a request one of the crate's guards refused gets a `303` to the login
//! page with a flash message saying why, or a JSON 401 for an API call.
//! Everything else that ends in 401 is answered as it would have been
//! without the crate.

use std::io::Cursor;

use rocket::catcher::{self, Catcher};
use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::{Build, Rocket};

use crate::answer::{no_store, JsonAnswer, Notice, Refused};
use crate::context::{request_session, Rejection, Shared};
use crate::http::{accept_language, wants_json};
use crate::redirect::{login_location, next_for_request};

/// The crate's answer to a request that [`ActiveSession`](crate::ActiveSession)
/// or [`RecentSignIn`](crate::RecentSignIn) refused: for a page, `303 See
/// Other` to `login_url?next=<path>`; for an API call (`fetch`, XHR, a
/// preference for JSON) `401` with `{"error": …}`. Both carry a flash message
/// (Rocket's [`FlashMessage`](rocket::request::FlashMessage)) saying why,
/// when there is a why, and `Cache-Control: no-store`.
///
/// The crate registers a 401 catcher that gives this answer wherever the
/// app has no 401 catcher of its own. An app with one calls
/// [`SessionRejection::of`] in it:
///
/// ```
/// # #[macro_use] extern crate rocket;
/// use rocket::response::Responder;
/// use rocket::Request;
/// use rocket_session_security::SessionRejection;
///
/// #[derive(Responder)]
/// enum Unauthorized {
///     Session(SessionRejection),
///     #[response(status = 401)]
///     Other(&'static str),
/// }
///
/// #[catch(401)]
/// fn unauthorized(req: &Request<'_>) -> Unauthorized {
///     match SessionRejection::of(req) {
///         Some(answer) => Unauthorized::Session(answer),
///         None => Unauthorized::Other("You need an API key for this."),
///     }
/// }
///
/// let rocket = rocket::build().register("/", catchers![unauthorized]);
/// ```
#[derive(Debug, Clone)]
pub struct SessionRejection {
    refused: Refused,
    /// The login page with `next`, for a page; `None` for an API call.
    location: Option<String>,
    notice: Notice,
}

impl SessionRejection {
    /// The crate's answer to `req`, if one of its guards refused it (`None`
    /// for any other request, and without the fairing).
    pub fn of(req: &Request<'_>) -> Option<SessionRejection> {
        let session = request_session(req)?;
        let shared = req.rocket().state::<std::sync::Arc<Shared>>()?;
        let rejection = session.rejection()?;
        let decided = session.decided(req, shared);
        let refused = match rejection {
            Rejection::SignInTooOld => Refused::SignInTooOld,
            Rejection::Session => Refused::of_verdict(decided.verdict),
        };
        let location = (!wants_json(req)).then(|| {
            let next = next_for_request(req.uri().path().as_str(), req.uri().query().map(|q| q.as_str()));
            login_location(&shared.config.login_url, &next)
        });
        let notice = Notice {
            language: shared.config.language.unwrap_or_else(|| accept_language(req)),
            expire_after: decided.timeouts.expire_after,
            secure: shared.runtime(req.rocket()).secure,
        };
        Some(SessionRejection { refused, location, notice })
    }

    /// Whether the answer is the page's redirect to the login page (else an
    /// API call's JSON 401).
    pub fn redirects(&self) -> bool {
        self.location.is_some()
    }
}

impl<'r> Responder<'r, 'static> for SessionRejection {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        // A catcher's own jar changes reach the browser (Rocket drops the rest).
        if let Some(flash) = self.notice.flash_for(self.refused) {
            req.cookies().add(flash);
        }
        match self.location {
            Some(location) => Ok(Response::build()
                .status(Status::SeeOther)
                .header(Header::new("Location", location))
                .header(no_store())
                .finalize()),
            None => JsonAnswer::new(Status::Unauthorized, self.refused.body()).respond_to(req),
        }
    }
}

/// The crate's 401 catcher at one base: the crate's answer to its own
/// refusals, and to any other 401 what would have answered without it (the
/// app's `default` catcher at this base, else a plain 401).
#[derive(Clone)]
struct RejectionCatcher {
    app_default: Option<Box<dyn catcher::Handler>>,
}

#[rocket::async_trait]
impl catcher::Handler for RejectionCatcher {
    async fn handle<'r>(&self, status: Status, req: &'r Request<'_>) -> catcher::Result<'r> {
        if let Some(answer) = SessionRejection::of(req) {
            return answer.respond_to(req).map_err(|_| Status::InternalServerError);
        }
        match &self.app_default {
            Some(handler) => handler.handle(status, req).await,
            None => Ok(plain_unauthorized(req)),
        }
    }
}

/// A 401 for a request none of the crate's guards refused, where the app has
/// no catcher for it: JSON or a small page, as the request prefers.
fn plain_unauthorized<'r>(req: &'r Request<'_>) -> Response<'r> {
    let json = req.accept().is_some_and(|accept| accept.preferred().is_json());
    let (kind, body) = if json {
        (ContentType::JSON, r#"{"error":{"code":401,"reason":"Unauthorized"}}"#)
    } else {
        (
            ContentType::HTML,
            "<!DOCTYPE html><html lang=\"en\"><meta charset=\"utf-8\"><title>401 Unauthorized</title>\
             <h1>401 Unauthorized</h1><p>Sign in to see this page.</p></html>",
        )
    };
    Response::build().status(Status::Unauthorized).header(kind).sized_body(body.len(), Cursor::new(body)).finalize()
}

/// The crate's 401 catchers for `rocket`: one at `/`, and one at each base
/// where the app has a `default` catcher (which answers the other 401s
/// there), unless the app has a 401 catcher at that base. So Rocket picks,
/// for every path, either the app's own 401 catcher or the crate's in front
/// of the catcher it would have picked.
pub(crate) fn rejection_catchers(rocket: &Rocket<Build>) -> Vec<Catcher> {
    let app: Vec<&Catcher> = rocket.catchers().collect();
    let mut bases: Vec<&str> = vec!["/"];
    for catcher in &app {
        let base = catcher.base.path().as_str();
        if catcher.code.is_none() && !bases.contains(&base) {
            bases.push(base);
        }
    }
    bases
        .into_iter()
        .filter(|&base| !app.iter().any(|c| c.code == Some(401) && c.base.path() == base))
        .filter_map(|base| {
            let app_default = app.iter().find(|c| c.code.is_none() && c.base.path() == base).map(|c| c.handler.clone());
            let mut catcher = Catcher::new(401, RejectionCatcher { app_default });
            catcher.name = Some("session_security::rejection".into());
            catcher.map_base(|_| base.to_string()).ok()
        })
        .collect()
}
