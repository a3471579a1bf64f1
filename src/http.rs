//! Header and cookie helpers: the first header of a name, the stamp's
//! `Set-Cookie` affixes, removals, JSON-or-page, where a request comes from
//! (the site's origin behind proxies, the ping's cross-site check, which
//! requests are the person's own).

use std::borrow::Cow;

use rocket::http::{Cookie, Header, HeaderMap, SameSite};
use rocket::request::Request;
use rocket::response::Response;

use crate::binding::{LoginValues, MAX_LOGIN_COOKIES};
use crate::config::{is_prefixed, Config};
use crate::i18n::Language;
use crate::origin::{default_port, parse_origin, split_host_port, url_origin, AddressRange, OriginParts, PublicOrigin};

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

/// A `Set-Cookie` that removes the cookie `name` as the browser holds it:
/// path `/`, the `Domain` it was set with, and `Secure` when the site's
/// cookies are or the name's prefix demands it (browsers ignore a prefixed
/// cookie without it, removals too).
pub(crate) fn removal(name: &str, secure: bool, domain: Option<&str>) -> Header<'static> {
    let mut cookie = Cookie::build(name.to_string()).path("/").secure(secure || is_prefixed(name)).build();
    if let Some(domain) = domain {
        cookie.set_domain(domain.to_string());
    }
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
    // Rocket's parse of `Accept`, weights included: JSON preferred over a page.
    req.accept().is_some_and(|accept| accept.preferred().is_json())
}

/// The language of the request's `Accept-Language` (English without one).
pub(crate) fn accept_language(req: &Request<'_>) -> Language {
    first_header(req.headers(), "Accept-Language").map_or(Language::English, |h| Language::negotiate(h.value()))
}

/// Where this site is, as browsers name it in `Origin` and `Referer`: the
/// configured `public_origins`, else the request's own host: a trusted
/// proxy's forwarded host and scheme, or the `Host` header. Made once at
/// ignite.
#[derive(Debug, Default)]
pub struct SiteOrigins {
    public: Vec<PublicOrigin>,
    trusted_proxies: Vec<AddressRange>,
}

/// What a browser's origin was compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Against {
    /// `public_origins`.
    Public,
    /// A trusted proxy's `Forwarded` / `X-Forwarded-*`.
    Forwarded,
    /// The `Host` header.
    Host,
}

/// What a trusted proxy says the browser asked for.
#[derive(Debug, Clone, Copy, Default)]
struct Forwarded<'r> {
    host: Option<&'r str>,
    secure: Option<bool>,
    port: Option<u16>,
}

/// The last item of a comma-separated header: what the proxy nearest the
/// app wrote (one that appends keeps earlier, client-controlled items first).
fn last_item<'r>(headers: &'r HeaderMap<'_>, name: &str) -> Option<&'r str> {
    let value = headers.get(name).last()?;
    Some(value.rsplit(',').next().unwrap_or(value).trim()).filter(|v| !v.is_empty())
}

impl SiteOrigins {
    /// From a validated configuration (entries that do not parse were refused at launch).
    pub fn new(config: &Config) -> Self {
        SiteOrigins {
            public: config.public_origins.iter().filter_map(|o| PublicOrigin::parse(o).ok()).collect(),
            trusted_proxies: config.trusted_proxies.iter().filter_map(|p| AddressRange::parse(p).ok()).collect(),
        }
    }

    /// The forwarding headers, only when the TCP peer is a trusted proxy.
    fn forwarded<'r>(&self, req: &'r Request<'_>) -> Option<Forwarded<'r>> {
        let peer = req.remote()?.ip();
        if !self.trusted_proxies.iter().any(|range| range.contains(peer)) {
            return None;
        }
        let headers = req.headers();
        let mut seen = Forwarded::default();
        // RFC 7239: `Forwarded: for=…;host=…;proto=…`, its last element.
        if let Some(element) = last_item(headers, "Forwarded") {
            for pair in element.split(';') {
                let Some((key, value)) = pair.split_once('=') else { continue };
                let value = value.trim().trim_matches('"');
                if key.trim().eq_ignore_ascii_case("host") {
                    seen.host = Some(value);
                } else if key.trim().eq_ignore_ascii_case("proto") {
                    seen.secure = Some(value.eq_ignore_ascii_case("https"));
                }
            }
        }
        seen.host = seen.host.or_else(|| last_item(headers, "X-Forwarded-Host"));
        seen.secure =
            seen.secure.or_else(|| last_item(headers, "X-Forwarded-Proto").map(|p| p.eq_ignore_ascii_case("https")));
        seen.port = last_item(headers, "X-Forwarded-Port").and_then(|p| p.parse().ok());
        (seen.host.is_some() || seen.secure.is_some()).then_some(seen)
    }

    /// Does `claimed` (a browser's `Origin`, or a `Referer`'s origin) name
    /// this site? The error says what it was compared with.
    pub fn names_this_site(&self, req: &Request<'_>, claimed: OriginParts<'_>) -> Result<(), Against> {
        if !self.public.is_empty() {
            return match self.public.iter().any(|site| site.parts().same_as(&claimed)) {
                true => Ok(()),
                false => Err(Against::Public),
            };
        }
        let host_header = || req.headers().get_one("Host");
        let (forwarded, against) = match self.forwarded(req) {
            Some(forwarded) => (forwarded, Against::Forwarded),
            None => (Forwarded::default(), Against::Host),
        };
        let secure = forwarded.secure.unwrap_or(claimed.secure);
        let Some(host) = forwarded.host.or_else(host_header) else { return Err(against) };
        let Some((host, written_port)) = split_host_port(host) else { return Err(against) };
        let port = written_port.or(forwarded.port).unwrap_or(default_port(secure));
        let seen = OriginParts { secure, host, port };
        if seen.same_as(&claimed) {
            Ok(())
        } else {
            Err(against)
        }
    }

    /// What `against` stood for in this request, for a message.
    fn describe(&self, req: &Request<'_>, against: Against) -> String {
        let header = |name: &str| req.headers().get_one(name).unwrap_or("(none)").to_string();
        match against {
            Against::Public => {
                let list: Vec<String> = self.public.iter().map(ToString::to_string).collect();
                format!("public_origins [{}]", list.join(", "))
            }
            Against::Forwarded => format!(
                "the trusted proxy's forwarded host {} (X-Forwarded-Proto {}, Forwarded {})",
                last_item(req.headers(), "X-Forwarded-Host").unwrap_or("(none)"),
                header("X-Forwarded-Proto"),
                header("Forwarded")
            ),
            Against::Host => format!("Host {}", header("Host")),
        }
    }
}

/// Why the ping refused a request: no other site may keep a session alive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// `Sec-Fetch-Site` is not `same-origin`.
    FetchMetadata,
    /// `Origin` (or, without one, `Referer`) names another site than the one compared with.
    Origin(Against),
}

impl RefusalKind {
    /// One bit per kind, to log the first refusal of each.
    pub fn bit(self) -> u8 {
        match self {
            RefusalKind::FetchMetadata => 1,
            RefusalKind::Origin(Against::Public) => 2,
            RefusalKind::Origin(Against::Forwarded) => 4,
            RefusalKind::Origin(Against::Host) => 8,
        }
    }

    /// What to change when the refusal is a mistake of the set-up, not an attack.
    pub fn fix(self) -> &'static str {
        match self {
            RefusalKind::FetchMetadata => {
                "the browser says another site sent it; if that site is yours, serve its pages and the ping \
                 from one origin (scheme, host and port)"
            }
            RefusalKind::Origin(Against::Public) => {
                "if people reach the app at that origin, add it to `session_security.public_origins`"
            }
            RefusalKind::Origin(Against::Forwarded) => {
                "have the trusted proxy send the host the browser used, with its port, and the scheme \
                 (nginx: `proxy_set_header X-Forwarded-Host $http_host; proxy_set_header X-Forwarded-Proto \
                 $scheme;`), or set `session_security.public_origins`"
            }
            RefusalKind::Origin(Against::Host) => {
                "behind a reverse proxy the Host header is what the proxy sends upstream: list the proxy in \
                 `session_security.trusted_proxies` and have it send X-Forwarded-Host and X-Forwarded-Proto, or \
                 set `session_security.public_origins`"
            }
        }
    }
}

/// A refused ping: the kind and what the request said, for the answer and the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What decided it.
    pub kind: RefusalKind,
    /// What the request said, for the answer and the log.
    pub why: String,
}

/// Why the ping must refuse this request, if it must. Fetch Metadata, where
/// the browser sends it, is authoritative; without it (older browsers, plain
/// HTTP) `Origin`, else `Referer`, must name this site; a request with
/// neither is not a browser's cross-site request (those carry `Origin` on a
/// `POST`) and passes.
pub fn cross_site(req: &Request<'_>, site: &SiteOrigins) -> Option<Refusal> {
    let headers = req.headers();
    if headers.contains("Sec-Fetch-Site") {
        // Given twice (no browser does), every value must say so.
        let fetch_site = headers.get("Sec-Fetch-Site").find(|v| !v.eq_ignore_ascii_case("same-origin"))?;
        return Some(Refusal {
            kind: RefusalKind::FetchMetadata,
            why: format!("cross-site request: Sec-Fetch-Site is {fetch_site:?}, not \"same-origin\""),
        });
    }
    let (header, value, claimed) = match (headers.get_one("Origin"), headers.get_one("Referer")) {
        (Some(origin), _) => ("Origin", origin, parse_origin(origin)),
        (None, Some(referer)) => ("Referer", referer, url_origin(referer)),
        (None, None) => return None,
    };
    let against = match claimed {
        Some(claimed) => site.names_this_site(req, claimed).err()?,
        // `null` (a sandboxed frame, a redirect across sites) or garbage.
        None => Against::Host,
    };
    let value: String = value.chars().take(200).collect();
    Some(Refusal {
        kind: RefusalKind::Origin(against),
        why: format!("cross-site request: {header} {value:?} does not match {}", site.describe(req, against)),
    })
}

/// What a request says of where it comes from, read in one walk over its headers.
#[derive(Debug, Clone, Copy)]
struct Provenance<'h> {
    /// Any `Sec-Fetch-*` header: the browser speaks Fetch Metadata.
    fetch_metadata: bool,
    /// `Sec-Fetch-Site: cross-site | same-site`.
    other_site: bool,
    /// `Sec-Fetch-Mode: navigate` (in every value given; `None`: not given).
    navigate: Option<bool>,
    /// `Sec-Fetch-User: ?1` (likewise).
    by_user: Option<bool>,
    document: bool,
    /// `Accept` names `text/html`, or `Upgrade-Insecure-Requests: 1`: a page.
    page: bool,
    /// A speculative load (prefetch, prerender, a link preview).
    speculative: bool,
    /// The first `Referer`, as `get_one` gives it: read in the same walk, as a
    /// lookup by name hashes it byte by byte (about 520 instructions a request).
    referer: Option<&'h str>,
}

/// The Fetch Metadata headers' common prefix.
const FETCH_PREFIX: &str = "sec-fetch-";

impl<'h> Provenance<'h> {
    fn of(headers: &'h HeaderMap<'_>) -> Provenance<'h> {
        let mut seen = Provenance {
            fetch_metadata: false,
            other_site: false,
            navigate: None,
            by_user: None,
            document: true,
            page: false,
            speculative: false,
            referer: None,
        };
        for header in headers.iter() {
            let (name, value) = (header.name().as_str(), header.value());
            let is = |expected: &str| name.eq_ignore_ascii_case(expected);
            // One walk over the headers instead of a get_one per name: the activity check runs on every request.
            let fetch_field = name
                .get(..FETCH_PREFIX.len())
                .filter(|prefix| prefix.eq_ignore_ascii_case(FETCH_PREFIX))
                .map(|_| &name[FETCH_PREFIX.len()..])
                .filter(|rest| !rest.is_empty());
            if let Some(field) = fetch_field {
                seen.fetch_metadata = true;
                // A header given twice (no browser does) counts against the session: any other-site value
                // makes it another site's, and a navigation must be one in every value.
                match field {
                    n if n.eq_ignore_ascii_case("site") => {
                        seen.other_site |=
                            value.eq_ignore_ascii_case("cross-site") || value.eq_ignore_ascii_case("same-site")
                    }
                    n if n.eq_ignore_ascii_case("mode") => {
                        seen.navigate = Some(seen.navigate.unwrap_or(true) && value.eq_ignore_ascii_case("navigate"))
                    }
                    n if n.eq_ignore_ascii_case("user") => {
                        seen.by_user = Some(seen.by_user.unwrap_or(true) && value == "?1")
                    }
                    n if n.eq_ignore_ascii_case("dest") => seen.document &= value.eq_ignore_ascii_case("document"),
                    _ => {}
                }
            } else if is("Accept") {
                seen.page |= value.contains("text/html");
            } else if is("Upgrade-Insecure-Requests") {
                seen.page |= value.trim() == "1";
            } else if is("Sec-Purpose") || is("Purpose") || is("X-Moz") {
                seen.speculative |= contains_ignore_case(value, "prefetch") || contains_ignore_case(value, "prerender");
            } else if is("X-Purpose") {
                seen.speculative |= contains_ignore_case(value, "preview");
            } else if seen.referer.is_none() && is("Referer") {
                // `iter` lends the map's own strings; were one ever a copy, an empty
                // Referer (no site) is the cautious reading.
                seen.referer = Some(match header.value {
                    Cow::Borrowed(value) => value,
                    Cow::Owned(_) => "",
                });
            }
        }
        seen
    }
}

fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack.as_bytes().windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Whether the request is the person's own doing, so it may count as
/// activity. Not: a speculative load (prefetch, prerender: the browser
/// guessing, not the person); a request the browser says another site or a
/// sibling subdomain made without the person asking (a subresource, a frame,
/// a navigation no click or key started); and, where the browser sends no
/// Fetch Metadata (plain-HTTP origins, older browsers), a request whose
/// `Referer` is another site and that is no page the person opened (an
/// `<img>` polling from a sibling intranet app). A link followed from
/// another site, typed or bookmarked addresses and API clients count.
pub fn is_persons_own(req: &Request<'_>, site: &SiteOrigins) -> bool {
    let seen = Provenance::of(req.headers());
    if seen.speculative {
        return false;
    }
    if seen.fetch_metadata {
        return !seen.other_site || (seen.navigate == Some(true) && seen.by_user == Some(true) && seen.document);
    }
    // Needed only here: with Fetch Metadata (every secure origin) it is not.
    let Some(referer) = seen.referer else { return true };
    let from_this_site = url_origin(referer).is_some_and(|origin| site.names_this_site(req, origin).is_ok());
    from_this_site || seen.page
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocket::local::blocking::Client;

    /// A request to `/` with `headers`, from `peer`.
    fn with<'c>(client: &'c Client, peer: &str, headers: &[(&str, &str)]) -> rocket::local::blocking::LocalRequest<'c> {
        let mut request = client.post("/").remote(peer.parse().expect("a socket address"));
        for (name, value) in headers {
            request = request.header(Header::new(name.to_string(), value.to_string()));
        }
        request
    }

    fn origins(trusted: &[&str], public: &[&str]) -> SiteOrigins {
        SiteOrigins::new(&Config {
            trusted_proxies: trusted.iter().map(|s| s.to_string()).collect(),
            public_origins: public.iter().map(|s| s.to_string()).collect(),
            ..Config::default()
        })
    }

    #[test]
    fn without_a_trusted_proxy_the_host_header_is_the_site() {
        let client = Client::untracked(rocket::build()).unwrap();
        let site = SiteOrigins::default();
        let check = |host: &str, origin: &str| {
            let request = with(&client, "127.0.0.1:5000", &[("Host", host)]);
            site.names_this_site(request.inner(), parse_origin(origin).unwrap())
        };
        assert_eq!(check("127.0.0.1:8000", "http://127.0.0.1:8000"), Ok(()));
        assert_eq!(check("example.com", "https://Example.com"), Ok(()));
        assert_eq!(check("example.com", "https://example.com:443"), Ok(()));
        assert_eq!(check("[::1]:8000", "http://[::1]:8000"), Ok(()));
        assert_eq!(check("example.com", "https://evil.example"), Err(Against::Host));
        assert_eq!(check("example.com:8000", "http://example.com:8001"), Err(Against::Host));
        assert_eq!(check("example.com@evil", "http://example.com"), Err(Against::Host));
        // nginx's bare proxy_pass: the upstream's address, not the public one.
        assert_eq!(check("127.0.0.1:8000", "https://crm.example.com"), Err(Against::Host));
        // Forwarding headers from an untrusted peer are ignored.
        let request =
            with(&client, "127.0.0.1:5000", &[("Host", "127.0.0.1:8000"), ("X-Forwarded-Host", "crm.example.com")]);
        let claimed = parse_origin("http://crm.example.com").unwrap();
        assert_eq!(site.names_this_site(request.inner(), claimed), Err(Against::Host));
    }

    #[test]
    fn a_trusted_proxy_names_the_site_by_its_forwarding_headers() {
        let client = Client::untracked(rocket::build()).unwrap();
        let site = origins(&["127.0.0.1", "10.0.0.0/8"], &[]);
        let check = |peer: &str, headers: &[(&str, &str)], origin: &str| {
            site.names_this_site(with(&client, peer, headers).inner(), parse_origin(origin).unwrap())
        };
        let upstream = ("Host", "127.0.0.1:8000");
        let https = ("X-Forwarded-Proto", "https");
        assert_eq!(
            check(
                "127.0.0.1:1",
                &[upstream, ("X-Forwarded-Host", "crm.example.com"), https],
                "https://crm.example.com"
            ),
            Ok(())
        );
        assert_eq!(
            check(
                "10.1.2.3:1",
                &[upstream, ("X-Forwarded-Host", "crm.example.com:8443"), https],
                "https://crm.example.com:8443"
            ),
            Ok(())
        );
        // `$host` has no port: X-Forwarded-Port gives it.
        let port = ("X-Forwarded-Port", "8443");
        assert_eq!(
            check(
                "127.0.0.1:1",
                &[upstream, ("X-Forwarded-Host", "crm.example.com"), https, port],
                "https://crm.example.com:8443"
            ),
            Ok(())
        );
        // The scheme counts when the proxy states it.
        assert_eq!(
            check(
                "127.0.0.1:1",
                &[upstream, ("X-Forwarded-Host", "crm.example.com"), https],
                "http://crm.example.com:443"
            ),
            Err(Against::Forwarded)
        );
        // Only the proto forwarded: the Host header is the host.
        assert_eq!(check("127.0.0.1:1", &[("Host", "crm.example.com"), https], "https://crm.example.com"), Ok(()));
        // RFC 7239, its last element (the nearest proxy's).
        let forwarded =
            ("Forwarded", "for=1.2.3.4;host=evil.example, for=10.0.0.1;host=\"crm.example.com\";proto=https");
        assert_eq!(check("127.0.0.1:1", &[upstream, forwarded], "https://crm.example.com"), Ok(()));
        // X-Forwarded-Host appended to: the last item.
        let appended = ("X-Forwarded-Host", "evil.example, crm.example.com");
        assert_eq!(check("127.0.0.1:1", &[upstream, appended, https], "https://crm.example.com"), Ok(()));
        assert_eq!(check("127.0.0.1:1", &[upstream, appended, https], "https://evil.example"), Err(Against::Forwarded));
        // A peer outside the trusted ranges is not believed, an IPv4-mapped one is.
        let headers = [upstream, ("X-Forwarded-Host", "crm.example.com"), https];
        assert_eq!(check("192.168.1.9:1", &headers, "https://crm.example.com"), Err(Against::Host));
        assert_eq!(check("[::ffff:127.0.0.1]:1", &headers, "https://crm.example.com"), Ok(()));
    }

    #[test]
    fn public_origins_replace_every_header() {
        let client = Client::untracked(rocket::build()).unwrap();
        let site = origins(&["127.0.0.1"], &["https://crm.example.com", "http://10.0.0.5:8080"]);
        let check = |headers: &[(&str, &str)], origin: &str| {
            site.names_this_site(with(&client, "127.0.0.1:1", headers).inner(), parse_origin(origin).unwrap())
        };
        assert_eq!(check(&[("Host", "127.0.0.1:8000")], "https://crm.example.com"), Ok(()));
        assert_eq!(check(&[("Host", "127.0.0.1:8000")], "http://10.0.0.5:8080"), Ok(()));
        assert_eq!(
            check(&[("Host", "evil.example"), ("X-Forwarded-Host", "evil.example")], "https://evil.example"),
            Err(Against::Public)
        );
        assert_eq!(check(&[], "http://crm.example.com"), Err(Against::Public));
    }

    #[test]
    fn the_ping_refuses_what_another_site_sends_and_says_why() {
        let client = Client::untracked(rocket::build()).unwrap();
        let site = SiteOrigins::default();
        let refusal = |headers: &[(&str, &str)]| cross_site(with(&client, "127.0.0.1:1", headers).inner(), &site);
        let host = ("Host", "127.0.0.1:8000");
        // Fetch Metadata decides where sent, whatever Origin says.
        assert_eq!(refusal(&[host, ("Sec-Fetch-Site", "same-origin"), ("Origin", "https://crm.example.com")]), None);
        for fetch_site in ["cross-site", "same-site", "none"] {
            let refused =
                refusal(&[host, ("Sec-Fetch-Site", fetch_site), ("Origin", "http://127.0.0.1:8000")]).unwrap();
            assert_eq!(refused.kind, RefusalKind::FetchMetadata);
            assert!(refused.why.contains(fetch_site), "{}", refused.why);
        }
        // Without it: Origin, else Referer.
        assert_eq!(refusal(&[host, ("Origin", "http://127.0.0.1:8000")]), None);
        assert_eq!(refusal(&[host, ("Referer", "http://127.0.0.1:8000/form?x=1")]), None);
        assert_eq!(refusal(&[host]), None);
        let refused = refusal(&[host, ("Origin", "https://crm.example.com")]).unwrap();
        assert_eq!(refused.kind, RefusalKind::Origin(Against::Host));
        assert_eq!(
            refused.why,
            "cross-site request: Origin \"https://crm.example.com\" does not match Host 127.0.0.1:8000"
        );
        assert!(refused.kind.fix().contains("trusted_proxies") && refused.kind.fix().contains("public_origins"));
        let refused = refusal(&[host, ("Referer", "http://other-app.corp.example/")]).unwrap();
        assert!(refused.why.starts_with("cross-site request: Referer"), "{}", refused.why);
        for origin in ["null", "garbage", "http://127.0.0.1:8000@evil"] {
            assert_eq!(
                refusal(&[host, ("Origin", origin)]).map(|r| r.kind),
                Some(RefusalKind::Origin(Against::Host)),
                "{origin}"
            );
        }
        // A long hostile value is cut in the message.
        let long = format!("http://{}.example", "a".repeat(500));
        assert!(refusal(&[host, ("Origin", &long)]).unwrap().why.len() < 300);
        let bits: Vec<u8> = [
            RefusalKind::FetchMetadata,
            RefusalKind::Origin(Against::Public),
            RefusalKind::Origin(Against::Forwarded),
            RefusalKind::Origin(Against::Host),
        ]
        .iter()
        .map(|k| k.bit())
        .collect();
        assert_eq!(bits, [1, 2, 4, 8]);
    }

    #[test]
    fn removals_carry_what_the_browser_needs_to_accept_them() {
        let printed =
            |name: &str, secure: bool, domain: Option<&str>| removal(name, secure, domain).value().to_string();
        let plain = printed("user", false, None);
        assert!(plain.starts_with("user=;") && plain.contains("Path=/") && plain.contains("Max-Age=0"), "{plain}");
        assert!(!plain.contains("Secure") && !plain.contains("Domain"), "{plain}");
        assert!(printed("user", true, None).contains("; Secure"));
        assert!(printed("__Host-uid", false, None).contains("; Secure"));
        assert!(printed("__Secure-uid", false, None).contains("; Secure"));
        assert!(printed("uid", true, Some("example.com")).contains("Domain=example.com"));
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
        let site = SiteOrigins::default();
        let foreign = |headers: &[(&str, &str)]| !is_persons_own(with(&client, "127.0.0.1:1", headers).inner(), &site);
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

    /// Found by `fuzz/run.sh` (request_provenance): the ping read the first
    /// `Sec-Fetch-Site`, the activity check the last. No browser sends one
    /// twice; whoever does is held to the stricter reading by both.
    #[test]
    fn fetch_metadata_given_twice_counts_against_the_session() {
        let client = Client::untracked(rocket::build()).unwrap();
        let site = SiteOrigins::default();
        let req = |headers: &[(&str, &str)]| with(&client, "127.0.0.1:1", headers);
        for pair in [["cross-site", "same-origin"], ["same-origin", "cross-site"], ["same-site", "none"]] {
            let headers = [("Sec-Fetch-Site", pair[0]), ("Sec-Fetch-Site", pair[1])];
            assert!(!is_persons_own(req(&headers).inner(), &site), "{pair:?}");
            let refused = cross_site(req(&headers).inner(), &site).expect("refused");
            assert_eq!(refused.kind, RefusalKind::FetchMetadata, "{pair:?}");
        }
        let twice = [("Sec-Fetch-Site", "same-origin"), ("Sec-Fetch-Site", "same-origin")];
        assert_eq!(cross_site(req(&twice).inner(), &site), None);
        // A navigation must be one in every value: a click, a user, a document.
        let clicked = [("Sec-Fetch-Site", "cross-site"), ("Sec-Fetch-Mode", "navigate"), ("Sec-Fetch-User", "?1")];
        assert!(is_persons_own(req(&clicked).inner(), &site));
        for extra in [("Sec-Fetch-Mode", "no-cors"), ("Sec-Fetch-User", "?0"), ("Sec-Fetch-Dest", "image")] {
            let headers = [clicked[0], clicked[1], clicked[2], extra];
            assert!(!is_persons_own(req(&headers).inner(), &site), "{extra:?}");
        }
    }

    #[test]
    fn without_fetch_metadata_a_foreign_referer_tells_unasked_requests() {
        let client = Client::untracked(rocket::build()).unwrap();
        let site = SiteOrigins::default();
        let own = |headers: &[(&str, &str)]| is_persons_own(with(&client, "127.0.0.1:1", headers).inner(), &site);
        let host = ("Host", "app.corp.example");
        // An <img> on a sibling intranet app, over plain HTTP.
        let image =
            [host, ("Referer", "http://other-app.corp.example/dashboard"), ("Accept", "image/avif,image/webp,*/*")];
        assert!(!own(&image));
        assert!(!own(&[host, ("Referer", "http://other-app.corp.example/"), ("Accept", "*/*")]));
        // A link followed from that app: a page the person opened.
        assert!(own(&[
            host,
            ("Referer", "http://other-app.corp.example/"),
            ("Accept", "text/html,application/xhtml+xml")
        ]));
        assert!(own(&[host, ("Referer", "http://other-app.corp.example/"), ("Upgrade-Insecure-Requests", "1")]));
        // The app's own pages and scripts, and requests without a Referer.
        assert!(own(&[host, ("Referer", "http://app.corp.example/form"), ("Accept", "image/png")]));
        assert!(own(&[host, ("Accept", "image/png")]));
        assert!(own(&[host, ("Referer", "not a url"), ("Accept", "text/html")]));
        assert!(!own(&[host, ("Referer", "not a url"), ("Accept", "image/png")]));
        // Given twice (no browser does), the first one counts, as `get_one` reads it; in any letter case.
        let foreign = ("referer", "http://other-app.corp.example/");
        assert!(own(&[host, ("Referer", "http://app.corp.example/"), foreign, ("Accept", "image/png")]));
        assert!(!own(&[host, foreign, ("Referer", "http://app.corp.example/"), ("Accept", "image/png")]));
    }

    #[test]
    fn speculative_loads_are_never_the_persons_own() {
        let client = Client::untracked(rocket::build()).unwrap();
        let site = SiteOrigins::default();
        let own = |headers: &[(&str, &str)]| is_persons_own(with(&client, "127.0.0.1:1", headers).inner(), &site);
        let navigation =
            [("Sec-Fetch-Site", "same-origin"), ("Sec-Fetch-Mode", "navigate"), ("Sec-Fetch-Dest", "document")];
        assert!(own(&navigation));
        for purpose in [
            ("Sec-Purpose", "prefetch"),
            ("Sec-Purpose", "prefetch;prerender"),
            ("sec-purpose", "Prefetch"),
            ("Purpose", "prefetch"),
            ("X-Moz", "prefetch"),
            ("X-Purpose", "preview"),
        ] {
            assert!(!own(&[navigation[0], navigation[1], navigation[2], purpose]), "{purpose:?}");
            assert!(!own(&[purpose]), "{purpose:?}");
        }
    }
}
