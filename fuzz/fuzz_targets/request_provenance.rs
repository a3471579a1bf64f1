//! The two readings of where a request comes from, on arbitrary headers:
//! the ping's cross-site refusal and "is this the person's own request"
//! (activity). Never panics, and the rules that must hold whatever else the
//! request says do hold.
//!
//! Input: a first line choosing the set-up (`0` Host only, `1` behind a
//! trusted proxy, `2` with `public_origins`), then `Name: value` lines.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rocket::http::Header;
use rocket::local::blocking::Client;
use rocket_session_security::__internals::{cross_site, is_persons_own, RefusalKind, SiteOrigins};
use rocket_session_security::Config;

struct SetUp {
    client: Client,
    sites: [SiteOrigins; 3],
}

fn set_up() -> &'static SetUp {
    // libFuzzer calls from one thread; the blocking client is not `Sync`.
    thread_local!(static SET_UP: &'static SetUp = Box::leak(Box::new(build())));
    SET_UP.with(|set_up| *set_up)
}

/// The app, built once.
fn build() -> SetUp {
    let client = Client::untracked(rocket::build()).expect("a Rocket without routes");
    let proxy = Config { trusted_proxies: vec!["127.0.0.1".into()], ..Config::default() };
    let public = Config { public_origins: vec!["https://crm.example.com".into()], ..Config::default() };
    SetUp { client, sites: [SiteOrigins::new(&Config::default()), SiteOrigins::new(&proxy), SiteOrigins::new(&public)] }
}

/// What hyper lets through as a header: a token name, a value without controls.
fn header(line: &str) -> Option<Header<'static>> {
    let (name, value) = line.split_once(':')?;
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(token) || value.chars().any(|c| c.is_control() && c != '\t') {
        return None;
    }
    Some(Header::new(name.to_string(), value.trim().to_string()))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut lines = text.split('\n');
    let choice = lines.next().and_then(|l| l.trim().parse::<usize>().ok()).unwrap_or(0) % 3;
    let set_up = set_up();
    let site = &set_up.sites[choice];
    let mut request = set_up.client.post("/session-security/ping").remote("127.0.0.1:40000".parse().unwrap());
    for h in lines.filter_map(header) {
        request = request.header(h);
    }
    let refusal = cross_site(&request, site);
    let own = is_persons_own(&request, site);

    let headers = request.headers();
    if headers.contains("Sec-Fetch-Site") {
        // Fetch Metadata decides, whatever Origin, Referer or Host say (every value, if given twice).
        if headers.get("Sec-Fetch-Site").all(|v| v.eq_ignore_ascii_case("same-origin")) {
            assert!(refusal.is_none());
        } else {
            assert_eq!(refusal.map(|r| r.kind), Some(RefusalKind::FetchMetadata));
        }
    } else if !headers.contains("Origin") && !headers.contains("Referer") {
        // Neither Origin nor Referer: no browser's cross-site POST.
        assert!(refusal.is_none());
    }
    let speculative = ["Sec-Purpose", "Purpose", "X-Moz"].iter().any(|name| {
        headers.get(name).any(|v| {
            let v = v.to_ascii_lowercase();
            v.contains("prefetch") || v.contains("prerender")
        })
    });
    if speculative {
        assert!(!own, "a prefetch or prerender is never the person's activity");
    }
    // Without Fetch Metadata the first Referer decides (read in the same walk over the headers as the
    // rest): none at all, and nothing speculative, is the person's own (typed, bookmarked, an API client).
    let fetch_metadata = headers.iter().any(|h| {
        let name = h.name().as_str();
        name.len() > "sec-fetch-".len() && name[.."sec-fetch-".len()].eq_ignore_ascii_case("sec-fetch-")
    });
    let preview = headers.get("X-Purpose").any(|v| v.to_ascii_lowercase().contains("preview"));
    if !fetch_metadata && !speculative && !preview && !headers.contains("Referer") {
        assert!(own, "no Fetch Metadata, no Referer, no prefetch: the person's own request");
    }
    let other_site = headers.get("Sec-Fetch-Site").any(|v| v.eq_ignore_ascii_case("cross-site"));
    let navigated_by_user = headers.get("Sec-Fetch-User").any(|v| v == "?1");
    if other_site && !navigated_by_user {
        assert!(!own, "another site's request without the person's click is not activity");
    }
});
