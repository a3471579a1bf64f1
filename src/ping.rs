//! `POST {base}/ping?idle_for=N`: the browser reports how long it has been
//! idle; the server answers how long the person has been idle across every
//! tab and device, taking the more recent of the two.
//!
//! `POST {base}/ping?closing` (with `end_with_last_tab`): a tab of the site
//! is closing, maybe the last: the session's last activity moves back so
//! that it ends `last_tab_grace` seconds from now. Any tab still open, or a
//! page that loads within the grace, pings again with its idle time, and the
//! merge above moves it forward to the truth again.

use rocket::http::Status;
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};
use rocket::serde::json::serde_json::json;

use crate::answer::{JsonAnswer, Notice};
use crate::assets::CRATE_ROUTE_PREFIX;
use crate::context::{request_context, RequestSession, Shared};
use crate::http::{accept_language, cross_site};
use crate::verdict::Verdict;

/// The crate's routes for the browser script, named after the crate so they
/// never match an app's `passive_routes` entry by accident. Mounted at `base`.
pub(crate) fn routes() -> Vec<rocket::Route> {
    let mut routes = rocket::routes![ping];
    for route in &mut routes {
        route.name = Some(format!("{CRATE_ROUTE_PREFIX}ping").into());
    }
    routes
}

/// What the ping handler needs from the request.
struct PingRequest<'r> {
    req: &'r Request<'r>,
    session: &'r RequestSession,
    shared: &'r Shared,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for PingRequest<'r> {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        match request_context(req, "the ping route") {
            Some((session, shared)) => Outcome::Success(PingRequest { req, session, shared }),
            None => Outcome::Error((Status::InternalServerError, ())),
        }
    }
}

#[rocket::post("/ping")]
fn ping(ping: PingRequest<'_>) -> JsonAnswer {
    let PingRequest { req, session, shared } = ping;
    if let Some(refusal) = cross_site(req, &shared.site) {
        shared.log_refusal(req, &refusal);
        return JsonAnswer::new(Status::Forbidden, json!({ "error": refusal.why }));
    }
    let decided = session.decided(req, shared);
    let stamp = match decided.verdict {
        Verdict::Active { stamp, .. } => stamp,
        Verdict::Anonymous => return JsonAnswer::new(Status::Unauthorized, json!({ "state": "anonymous" })),
        Verdict::Expired(reason) => {
            // The script leaves for the login page on this answer: the flash goes with it.
            let notice = Notice {
                language: shared.config.language.unwrap_or_else(|| accept_language(req)),
                expire_after: decided.timeouts.expire_after,
                secure: shared.ready_runtime().is_some_and(|r| r.secure),
            };
            let body = json!({ "state": "expired", "reason": reason.as_str() });
            return JsonAnswer::new(Status::Unauthorized, body).with_header(notice.flash(reason).into());
        }
    };
    let query = req.uri().query().map(|q| q.as_str());
    let client_idle = match parse_idle_for(query) {
        Ok(value) => value,
        Err(why) => return JsonAnswer::new(Status::BadRequest, json!({ "error": why })),
    };
    let now = session.arrived_at;
    let mut server_last = stamp.last_activity;
    if is_closing(query) {
        if !shared.config.end_with_last_tab {
            let why = "closing: end_with_last_tab is off on this server";
            return JsonAnswer::new(Status::BadRequest, json!({ "error": why }));
        }
        // Only ever sooner: a closing tab cannot extend the session.
        let ends_at = now - i64::from(decided.timeouts.expire_after) + i64::from(shared.config.last_tab_grace);
        if ends_at < server_last {
            server_last = ends_at;
            session.record_closing(ends_at);
        }
    } else if let Some(client_idle) = client_idle {
        // The browser may report activity more recent than ours, never later than now.
        let client_last = now - i64::from(client_idle);
        if client_last > server_last {
            server_last = client_last;
            session.record_merge(client_last);
        }
    }
    let merged_idle = now.saturating_sub(server_last).max(0);
    let t = decided.timeouts;
    let person = shared.binder().map(|b| b.browser_tag(&stamp.person_tag)).filter(|p| !p.is_empty());
    JsonAnswer::new(
        Status::Ok,
        json!({
            "state": "active",
            "idle_for": merged_idle,
            "warn_after": t.warn_after,
            "expire_after": t.expire_after,
            "person": person,
        }),
    )
}

/// Whether the query names `closing` (a closing tab's ping), with or
/// without a value.
pub fn is_closing(query: Option<&str>) -> bool {
    query.unwrap_or_default().split('&').any(|pair| {
        let name = pair.split_once('=').map_or(pair, |(name, _)| name);
        percent_encoding::percent_decode_str(name).decode_utf8_lossy() == "closing"
    })
}

/// The `idle_for` of a query: `Ok(None)` when absent; an error that says
/// which rule it breaks otherwise. Other parameters are ignored.
pub fn parse_idle_for(query: Option<&str>) -> Result<Option<u32>, String> {
    let mut found: Option<std::borrow::Cow<'_, str>> = None;
    for pair in query.unwrap_or("").split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if percent_encoding::percent_decode_str(name).decode_utf8_lossy() != "idle_for" {
            continue;
        }
        if found.is_some() {
            return Err("idle_for is repeated; send it once".into());
        }
        let value = value.replace('+', " ");
        found = Some(percent_encoding::percent_decode_str(&value).decode_utf8_lossy().into_owned().into());
    }
    let Some(value) = found else { return Ok(None) };
    if value.is_empty() {
        return Err("idle_for is empty; expected whole seconds, e.g. idle_for=42".into());
    }
    if value.starts_with('-') && value.len() > 1 && value[1..].bytes().all(|b| b.is_ascii_digit()) {
        return Err("idle_for is negative; expected whole seconds of 0 or more".into());
    }
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err("idle_for is not a whole decimal number of seconds".into());
    }
    match value.parse::<u32>() {
        Ok(seconds) => Ok(Some(seconds)),
        Err(_) => Err(format!("idle_for is beyond {} seconds", u32::MAX)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_is_a_name_in_the_query() {
        for query in ["closing", "closing=1", "closing=", "idle_for=3&closing", "%63losing"] {
            assert!(is_closing(Some(query)), "{query}");
        }
        for query in ["", "closing_soon", "x=closing", "idle_for=3", "closin"] {
            assert!(!is_closing(Some(query)), "{query}");
        }
        assert!(!is_closing(None));
    }

    #[test]
    fn idle_for_parsing() {
        assert_eq!(parse_idle_for(None), Ok(None));
        assert_eq!(parse_idle_for(Some("")), Ok(None));
        assert_eq!(parse_idle_for(Some("_=123")), Ok(None));
        assert_eq!(parse_idle_for(Some("idle_for=0")), Ok(Some(0)));
        assert_eq!(parse_idle_for(Some("x=1&idle_for=42")), Ok(Some(42)));
        assert_eq!(parse_idle_for(Some("idle%5Ffor=7")), Ok(Some(7)));
        assert_eq!(parse_idle_for(Some("idle_for=4294967295")), Ok(Some(u32::MAX)));
        let err = |q: &str| parse_idle_for(Some(q)).unwrap_err();
        assert!(err("idle_for=").contains("empty"));
        assert!(err("idle_for").contains("empty"));
        assert!(err("idle_for=1&idle_for=2").contains("repeated"));
        assert!(err("idle_for=-5").contains("negative"));
        assert!(err("idle_for=4294967296").contains("beyond"));
        for q in [
            "idle_for=1.5",
            "idle_for=abc",
            "idle_for=+3",
            "idle_for=%203",
            "idle_for=1_0",
            "idle_for=%D9%A3",
            "idle_for=0x1",
            "idle_for=--1",
            "idle_for=%FF",
        ] {
            assert!(err(q).contains("not a whole decimal"), "{q}");
        }
    }
}
