//! The `next` target of a login redirect: always a path on this site.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Longest `next` we carry; longer requests fall back to `/`.
const MAX_NEXT: usize = 2048;

/// Characters kept as they are when `next` is put into a query value.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');

/// Returns `candidate` when it is safe to redirect to: a path on this site
/// starting with a single `/` (also after percent-decoding, once or twice),
/// without control characters, backslash tricks, `.`/`..` segments or a
/// scheme, and at most 2048 bytes. Use it in your login handler on the
/// `next` value before redirecting to it. Non-ASCII characters must come
/// percent-encoded, as in any URI.
///
/// ```
/// use rocket_session_security::safe_next;
///
/// assert_eq!(safe_next("/reports?year=2026"), Some("/reports?year=2026"));
/// assert_eq!(safe_next("//evil.example/"), None);
/// assert_eq!(safe_next("/%2F%2Fevil.example"), None);
/// assert_eq!(safe_next("/\\evil.example"), None);
/// assert_eq!(safe_next("https://evil.example/"), None);
/// assert_eq!(safe_next("javascript:alert(1)"), None);
/// ```
pub fn safe_next(candidate: &str) -> Option<&str> {
    if candidate.len() > MAX_NEXT || !candidate.bytes().all(is_uri_byte) || !is_local_path(candidate) {
        return None;
    }
    let once = percent_decode_str(candidate).decode_utf8_lossy();
    if !is_local_path(&once) {
        return None;
    }
    let twice = percent_decode_str(&once).decode_utf8_lossy();
    is_local_path(&twice).then_some(candidate)
}

/// RFC 3986 characters: anything else would not make a valid `Location`.
fn is_uri_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=%".contains(&b)
}

/// A path on this site: one leading `/` (not `//` or `/\`), no control
/// characters or whitespace, no `.` or `..` segments. The one rule for a
/// redirect target and for every configured path.
pub(crate) fn is_local_path(s: &str) -> bool {
    let path = s.split(['?', '#']).next().unwrap_or("");
    s.starts_with('/')
        && !matches!(s.as_bytes().get(1), Some(b'/' | b'\\'))
        && !s.chars().any(|c| c.is_control() || c.is_whitespace())
        && !path.split(['/', '\\']).any(|segment| segment == "." || segment == "..")
}

/// The `next` for a request to `path` with `query`: leading slashes and
/// backslashes collapse to one (`//form` → `/form`); anything unsafe → `/`.
pub(crate) fn next_for_request(path: &str, query: Option<&str>) -> String {
    let trimmed = path.trim_start_matches(['/', '\\']);
    let mut next = String::with_capacity(trimmed.len() + query.map_or(0, |q| q.len() + 1) + 1);
    next.push('/');
    next.push_str(trimmed);
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        next.push('?');
        next.push_str(query);
    }
    match safe_next(&next) {
        Some(_) => next,
        None => "/".to_string(),
    }
}

/// `login_url` with `next` appended as one percent-encoded query value.
pub(crate) fn login_location(login_url: &str, next: &str) -> String {
    let separator = if login_url.contains('?') { '&' } else { '?' };
    format!("{login_url}{separator}next={}", utf8_percent_encode(next, QUERY_VALUE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_redirect_corpus_is_refused() {
        let long = format!("/{}", "a".repeat(MAX_NEXT));
        for bad in [
            "",
            "form",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/%2F%2Fevil.example",
            "/%2fevil.example",
            "/%5Cevil.example",
            "/%252F%252Fevil.example",
            "https://evil.example",
            "http:/evil.example",
            "javascript:alert(1)",
            "data:text/html,x",
            "/\tevil",
            "/\r\nLocation: x",
            "/%0d%0aSet-Cookie:x",
            "/a b",
            "/%00",
            "/../evil",
            "/a/./b",
            "/a/%2e%2e/b",
            long.as_str(),
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn ordinary_paths_pass() {
        for good in ["/", "/form", "/a/b?c=d&e=%2F", "/caf%C3%A9", "/x#frag", "/a..b/.c"] {
            assert_eq!(safe_next(good), Some(good), "{good:?}");
        }
    }

    #[test]
    fn request_paths_are_normalised() {
        assert_eq!(next_for_request("//form", None), "/form");
        assert_eq!(next_for_request("/\\/form", Some("a=1")), "/form?a=1");
        assert_eq!(next_for_request("/form", Some("")), "/form");
        assert_eq!(next_for_request("/%2F%2Fevil", None), "/");
        assert_eq!(next_for_request("/ok", Some("x=%0a")), "/");
    }

    #[test]
    fn login_location_encodes_next_as_one_value() {
        assert_eq!(login_location("/login", "/a b?c=d&e"), "/login?next=/a%20b%3Fc%3Dd%26e");
        assert_eq!(login_location("/auth?sso=1", "/"), "/auth?sso=1&next=/");
    }
}
