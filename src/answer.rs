//! The crate's own answers: the small JSON bodies (the ping, the 401 of a
//! fetch whose session is gone), why a request was refused, and the flash
//! message that tells the login page. Never cached.

use std::io::Cursor;

use rocket::http::{ContentType, Cookie, Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::serde::json::{serde_json, serde_json::json, Value};

use crate::i18n::Language;
use crate::verdict::{ExpiryReason, Verdict};

/// `Cache-Control: no-store`: an answer about a session must never be replayed from a cache.
pub(crate) fn no_store() -> Header<'static> {
    Header::new("Cache-Control", "no-store")
}

/// A JSON body with a status, sent with `Cache-Control: no-store`.
#[derive(Debug)]
pub(crate) struct JsonAnswer {
    pub status: Status,
    pub body: Value,
    /// Headers it adds (the flash of an expiry).
    pub headers: Vec<Header<'static>>,
}

impl JsonAnswer {
    pub fn new(status: Status, body: Value) -> Self {
        JsonAnswer { status, body, headers: Vec::new() }
    }

    /// The same answer, also adding `header`.
    pub fn with_header(mut self, header: Header<'static>) -> Self {
        self.headers.push(header);
        self
    }
}

impl<'r> Responder<'r, 'static> for JsonAnswer {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let body = serde_json::to_string(&self.body).unwrap_or_default();
        let mut res = Response::build().status(self.status).header(ContentType::JSON).header(no_store()).finalize();
        for header in self.headers {
            res.adjoin_header(header);
        }
        res.set_sized_body(body.len(), Cursor::new(body));
        Ok(res)
    }
}

/// Name and format of Rocket's flash cookie (`rocket::response::Flash`):
/// `<length of kind>:<kind><message>`, read by the `FlashMessage` guard.
const FLASH_COOKIE: &str = "_flash";

/// How the login page is told why a session ended: the flash's language,
/// the timing its text cites, and whether the session's cookies are `Secure`
/// (so is the flash).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Notice {
    pub language: Language,
    pub expire_after: u32,
    pub secure: bool,
}

impl Notice {
    /// The flash message of an expiry for the login page: kind
    /// `session_security:idle`, `…:absolute` or `…:invalid`, text in `language`.
    pub fn flash(self, reason: ExpiryReason) -> Cookie<'static> {
        let kind = format!("session_security:{}", reason.as_str());
        flash_cookie(&kind, &reason.notice(self.language, self.expire_after), self.secure)
    }

    /// The flash message of a refused request, if it has one (nobody
    /// signed in: nothing to explain).
    pub fn flash_for(self, refused: Refused) -> Option<Cookie<'static>> {
        match refused {
            Refused::NotSignedIn => None,
            Refused::Expired(reason) => Some(self.flash(reason)),
            Refused::SignInTooOld => {
                Some(flash_cookie(REAUTHENTICATE_KIND, self.language.reauthenticate_notice(), self.secure))
            }
        }
    }
}

/// The flash kind when a route asked for a more recent sign-in.
pub(crate) const REAUTHENTICATE_KIND: &str = "session_security:reauthenticate";

/// Why the crate refused a request, as its answer says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Nobody is signed in.
    NotSignedIn,
    /// The session is over.
    Expired(ExpiryReason),
    /// Active, but the route asks for a more recent sign-in: the session
    /// stays, the person signs in again.
    SignInTooOld,
}

impl Refused {
    /// Why a session that is not active was refused.
    pub fn of_verdict(verdict: Verdict) -> Refused {
        match verdict {
            Verdict::Expired(reason) => Refused::Expired(reason),
            _ => Refused::NotSignedIn,
        }
    }

    /// The JSON body of an API call's 401.
    pub fn body(self) -> Value {
        match self {
            Refused::NotSignedIn => json!({ "error": "not_signed_in" }),
            Refused::Expired(reason) => json!({ "error": "session_expired", "reason": reason.as_str() }),
            Refused::SignInTooOld => json!({ "error": "reauthentication_required" }),
        }
    }
}

/// A Rocket flash message (what `rocket::response::Flash` sets) with
/// Rocket's own attributes, `Path=/`, `SameSite=Strict`, five minutes, and
/// `Secure` with the session's cookies (behind a TLS proxy Rocket would not
/// know to add it).
fn flash_cookie(kind: &str, message: &str, secure: bool) -> Cookie<'static> {
    Cookie::build((FLASH_COOKIE, format!("{}:{kind}{message}", kind.len())))
        .path("/")
        .same_site(rocket::http::SameSite::Strict)
        .max_age(time::Duration::minutes(5))
        .secure(secure)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flash_header_reads_back_as_rockets_flash_message() {
        #[rocket::get("/")]
        fn read(flash: Option<rocket::request::FlashMessage<'_>>) -> String {
            flash.map(|f| format!("{}|{}", f.kind(), f.message())).unwrap_or_default()
        }
        let client = rocket::local::blocking::Client::untracked(rocket::build().mount("/", rocket::routes![read]))
            .expect("launches");
        let header = Header::from(flash_cookie("session_security:idle", "Signed out; after 10 min: «bye»", false));
        let cookie = Cookie::parse_encoded(header.value().to_string()).expect("a cookie");
        assert_eq!(cookie.path(), Some("/"));
        assert_eq!(cookie.max_age(), Some(time::Duration::minutes(5)));
        assert_eq!(cookie.secure(), None);
        let secure = Notice { language: Language::English, expire_after: 600, secure: true }.flash(ExpiryReason::Idle);
        assert_eq!(secure.secure(), Some(true));
        let body = client.get("/").cookie(cookie.into_owned()).dispatch().into_string().unwrap_or_default();
        assert_eq!(body, "session_security:idle|Signed out; after 10 min: «bye»");
    }
}
