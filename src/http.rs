//! Header and cookie helpers: the first header of a name, the stamp's
//! `Set-Cookie` affixes, removals, JSON-or-page, where a request comes from.

use rocket::http::{Cookie, Header, HeaderMap, SameSite};
use rocket::request::Request;
use rocket::response::Response;

use crate::binding::{LoginValues, MAX_LOGIN_COOKIES};
use crate::config::Config;
use crate::i18n::Language;

/// The first header named `name` (`get_one`'s value), found by walking the
/// headers: a request or response has a few, and a name comparison checks the
/// length first, while Rocket's lookup hashes the name one byte at a time
/// (SipHash). For the lookups of every guarded request and response.
/// (Rocket's public API never leaves a header name without a value, so
/// `is_some()` agrees with `contains`.)
pub(crate) fn first_header<'h>(headers: &'h HeaderMap<'_>, name: &str) -> Option<Header<'h>> {
    headers.iter().find(|h| h.name().as_str().eq_ignore_ascii_case(name))
}

/// The stamp cookie's attributes. No Expires/Max-Age: a browser-session
/// cookie; the limits live inside the seal.
pub(crate) fn stamp_cookie_template(config: &Config, secure: bool) -> Cookie<'static> {
    Cookie::build((config.cookie_name.clone(), ""))
        .path("/")
        .http_only(true)
        .same_site(config.same_site.attribute())
        .secure(secure)
        .build()
}

/// What `Header::from(cookie)` prints before and after the value of the stamp
/// cookie. Its name is percent-encoded, so the first `=` ends it.
pub(crate) fn set_cookie_affixes(config: &Config, secure: bool) -> (String, String) {
    let empty = Header::from(stamp_cookie_template(config, secure)).value().to_string();
    let at = empty.find('=').map_or(empty.len(), |i| i + 1);
    let (prefix, suffix) = empty.split_at(at);
    (prefix.to_string(), suffix.to_string())
}

/// A `Set-Cookie` that removes the cookie `name` (path `/`).
pub(crate) fn removal(name: &str) -> Header<'static> {
    let mut cookie = Cookie::build(name.to_string()).path("/").build();
    cookie.make_removal();
    Header::from(cookie)
}

/// The cookies this response sets (not removals), parsed; `None` where unparsable.
fn set_cookies<'a>(res: &'a Response<'_>) -> impl Iterator<Item = Cookie<'static>> + 'a {
    res.headers()
        .iter()
        .filter(|h| h.name().as_str().eq_ignore_ascii_case("Set-Cookie"))
        .filter_map(|h| Cookie::parse_encoded(h.value().to_string()).ok())
}

/// A removal: empty, or expired by `Max-Age=0` / a past `Expires`.
fn is_removal(cookie: &Cookie<'_>) -> bool {
    cookie.max_age().is_some_and(|age| age.is_zero() || age.is_negative())
        || cookie.expires_datetime().is_some_and(|at| at <= time::OffsetDateTime::now_utc())
}

/// What `on_response` needs to know of the headers a response already has,
/// from one walk over them.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HeadersSeen {
    pub cache_control: bool,
    pub set_cookie: bool,
}

impl HeadersSeen {
    pub fn of(res: &Response<'_>) -> HeadersSeen {
        let mut seen = HeadersSeen::default();
        for header in res.headers().iter() {
            let name = header.name().as_str();
            seen.cache_control |= name.eq_ignore_ascii_case("Cache-Control");
            seen.set_cookie |= name.eq_ignore_ascii_case("Set-Cookie");
        }
        seen
    }
}

/// Does this response put a `Set-Cookie` for `name` on the wire (a value or a removal)?
pub(crate) fn sets_cookie(res: &Response<'_>, name: &str) -> bool {
    sets_any_cookie(res, std::slice::from_ref(&name))
}

/// Does this response put a `Set-Cookie` for any of `names` on the wire? One walk.
pub(crate) fn sets_any_cookie<N: AsRef<str>>(res: &Response<'_>, names: &[N]) -> bool {
    !names.is_empty()
        && res
            .headers()
            .iter()
            .filter(|h| h.name().as_str().eq_ignore_ascii_case("Set-Cookie"))
            .any(|h| h.value().split_once('=').is_some_and(|(n, _)| names.iter().any(|name| n.trim() == name.as_ref())))
}

/// The login cookies as this response leaves them in the browser: what it
/// sets, else what the request carried; a removal leaves none. Read in one
/// pass over the response's `Set-Cookie` headers.
pub(crate) struct LeftByResponse {
    values: [Option<String>; MAX_LOGIN_COOKIES],
    /// `SameSite` of each login cookie this response sets (for the sign-in check).
    pub same_sites: [Option<SameSite>; MAX_LOGIN_COOKIES],
}

impl LeftByResponse {
    pub fn read(req: &Request<'_>, res: &Response<'_>, names: &[String]) -> LeftByResponse {
        let mut values: [Option<String>; MAX_LOGIN_COOKIES] = Default::default();
        let mut same_sites = [None; MAX_LOGIN_COOKIES];
        let mut decided = [false; MAX_LOGIN_COOKIES];
        for cookie in set_cookies(res) {
            if let Some(i) = names.iter().position(|n| n == cookie.name()) {
                decided[i] = true;
                let removed = is_removal(&cookie);
                same_sites[i] = cookie.same_site().filter(|_| !removed);
                values[i] = (!removed).then(|| cookie.value().to_string());
            }
        }
        for (i, name) in names.iter().enumerate().take(MAX_LOGIN_COOKIES) {
            if !decided[i] {
                values[i] = req.cookies().get(name).map(|c| c.value().to_string());
            }
        }
        LeftByResponse { values, same_sites }
    }

    pub fn values(&self) -> LoginValues<'_> {
        std::array::from_fn(|i| self.values[i].as_deref())
    }
}

/// Removes every `Set-Cookie` for `name` from the response, keeping the others.
pub(crate) fn drop_set_cookie(res: &mut Response<'_>, name: &str) {
    let kept: Vec<String> = res
        .headers()
        .get("Set-Cookie")
        .filter(|value| value.split_once('=').is_none_or(|(n, _)| n.trim() != name))
        .map(str::to_string)
        .collect();
    res.remove_header("Set-Cookie");
    for value in kept {
        res.adjoin_header(Header::new("Set-Cookie", value));
    }
}

/// A fetch/XHR/API call rather than a page navigation: it must get a 401 it
/// can read, never a redirect to an HTML login page. See the table on
/// [`ActiveSession`](crate::ActiveSession).
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

/// The language of the request's `Accept-Language` (English without one).
pub(crate) fn accept_language(req: &Request<'_>) -> Language {
    first_header(req.headers(), "Accept-Language").map_or(Language::English, |h| Language::negotiate(h.value()))
}

/// A request the browser says another site, or a sibling subdomain, made
/// without the person asking for it: a subresource (`<img>`, a script's
/// `fetch`), a frame, or a navigation no click or key started. Such a request
/// never counts as activity. Same-origin requests, `Sec-Fetch-Site: none`
/// (typed, bookmarked) and requests without `Sec-Fetch-*` (older browsers,
/// API clients) are the person's own.
pub(crate) fn is_foreign_unasked(req: &Request<'_>) -> bool {
    let (mut foreign, mut navigate, mut by_user, mut document) = (false, false, false, true);
    for header in req.headers().iter() {
        let name = header.name().as_str();
        if name.len() < 13 || !name[..10].eq_ignore_ascii_case("sec-fetch-") {
            continue;
        }
        let value = header.value();
        match &name[10..] {
            n if n.eq_ignore_ascii_case("site") => {
                foreign = value.eq_ignore_ascii_case("cross-site") || value.eq_ignore_ascii_case("same-site")
            }
            n if n.eq_ignore_ascii_case("mode") => navigate = value.eq_ignore_ascii_case("navigate"),
            n if n.eq_ignore_ascii_case("user") => by_user = value == "?1",
            n if n.eq_ignore_ascii_case("dest") => document = value.eq_ignore_ascii_case("document"),
            _ => {}
        }
    }
    foreign && !(navigate && by_user && document)
}

/// Why the request comes from another site, if it does: no other site may
/// keep a session alive through the ping. Each check alone rejects.
pub(crate) fn cross_site(req: &Request<'_>) -> Option<&'static str> {
    let headers = req.headers();
    if let Some(site) = headers.get_one("Sec-Fetch-Site") {
        if !site.eq_ignore_ascii_case("same-origin") {
            return Some("cross-site request: Sec-Fetch-Site is not same-origin");
        }
    }
    if let Some(origin) = headers.get_one("Origin") {
        let host = headers.get_one("Host");
        if !same_origin(origin, host) {
            return Some("cross-site request: Origin does not match Host");
        }
    }
    None
}

/// Does `origin` (`scheme://host[:port]`) name the same host and port as the
/// `Host` header? `null`, garbage and a missing `Host` never match.
fn same_origin(origin: &str, host: Option<&str>) -> bool {
    let Some(host) = host else { return false };
    let Some((scheme, authority)) = origin.split_once("://") else { return false };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => 80,
        "https" => 443,
        _ => return false,
    };
    match (split_authority(authority, default_port), split_authority(host, default_port)) {
        (Some((oh, op)), Some((hh, hp))) => op == hp && oh.eq_ignore_ascii_case(hh),
        _ => false,
    }
}

/// `host[:port]` or `[v6]:port` into host and port; `None` for anything else.
fn split_authority(authority: &str, default_port: u16) -> Option<(&str, u16)> {
    if authority.is_empty() || authority.contains(['/', '@', '?', '#', ' ']) {
        return None;
    }
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => (&authority[..i], Some(&authority[i + 1..])),
        _ => (authority, None),
    };
    let port = match port {
        None => default_port,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok()?,
        Some(_) => return None,
    };
    (!host.is_empty()).then_some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocket::local::blocking::Client;

    #[test]
    fn origin_matching() {
        assert!(same_origin("http://127.0.0.1:8000", Some("127.0.0.1:8000")));
        assert!(same_origin("https://Example.com", Some("example.com")));
        assert!(same_origin("https://example.com:443", Some("example.com")));
        assert!(same_origin("http://[::1]:8000", Some("[::1]:8000")));
        assert!(!same_origin("null", Some("example.com")));
        assert!(!same_origin("https://evil.example", Some("example.com")));
        assert!(!same_origin("http://example.com:8001", Some("example.com:8000")));
        assert!(!same_origin("http://example.com", None));
        assert!(!same_origin("ftp://example.com", Some("example.com")));
        assert!(!same_origin("http://example.com@evil", Some("example.com")));
        assert!(!same_origin("http://example.com:x", Some("example.com")));
    }

    #[test]
    fn first_header_agrees_with_contains() {
        let mut res = Response::build().raw_header("Content-Type", "text/plain").finalize();
        res.adjoin_raw_header("set-cookie", "a=1");
        res.adjoin_raw_header("Set-Cookie", "b=2");
        res.set_raw_header("X-Frame-Options", "SAMEORIGIN");
        res.set_raw_header("Cache-Control", "max-age=5");
        res.remove_header("cache-control");
        for name in ["Cache-Control", "cache-control", "Set-Cookie", "SET-COOKIE", "Content-Type", "X-Frame", ""] {
            assert_eq!(first_header(res.headers(), name).is_some(), res.headers().contains(name), "{name}");
        }
        res.set_raw_header("CACHE-control", "no-cache");
        assert!(first_header(res.headers(), "Cache-Control").is_some() && res.headers().contains("Cache-Control"));
    }

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

    #[test]
    fn only_unasked_requests_from_elsewhere_are_foreign() {
        let client = Client::untracked(rocket::build()).unwrap();
        let foreign = |headers: &[(&str, &str)]| {
            let mut request = client.get("/");
            for (name, value) in headers {
                request = request.header(Header::new(name.to_string(), value.to_string()));
            }
            is_foreign_unasked(request.inner())
        };
        assert!(!foreign(&[]));
        assert!(!foreign(&[("Sec-Fetch-Site", "same-origin"), ("Sec-Fetch-Mode", "cors")]));
        assert!(!foreign(&[("Sec-Fetch-Site", "none"), ("Sec-Fetch-Mode", "navigate")]));
        for site in ["cross-site", "same-site", "Same-Site"] {
            assert!(foreign(&[("Sec-Fetch-Site", site), ("Sec-Fetch-Mode", "no-cors"), ("Sec-Fetch-Dest", "image")]));
            assert!(foreign(&[("Sec-Fetch-Site", site), ("Sec-Fetch-Mode", "cors")]));
            // A navigation no person started (a script, a frame) is not theirs either.
            assert!(foreign(&[
                ("sec-fetch-site", site),
                ("sec-fetch-mode", "navigate"),
                ("sec-fetch-dest", "document")
            ]));
            let clicked = [("Sec-Fetch-Site", site), ("Sec-Fetch-Mode", "navigate"), ("Sec-Fetch-User", "?1")];
            assert!(!foreign(&clicked));
            assert!(!foreign(&[clicked[0], clicked[1], clicked[2], ("Sec-Fetch-Dest", "document")]));
            assert!(foreign(&[clicked[0], clicked[1], clicked[2], ("Sec-Fetch-Dest", "iframe")]));
        }
    }
}
