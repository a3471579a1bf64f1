//! The demo's fixed contract, the snippet in its pages, and the assets.

use crate::common::*;
use rocket::http::{ContentType, Header, Status};

#[test]
fn login_page_has_the_form_and_carries_a_safe_next() {
    let (client, _clock) = demo_with(vec![]);
    // The app's Tera engine escapes '/' in attributes, as browsers decode it.
    let decode = |s: String| s.replace("&#x2F;", "/");
    let page = client.get("/login?next=/form%3Fa%3D1").dispatch();
    assert_eq!(page.status(), Status::Ok);
    assert_eq!(page.headers().get_one("Content-Security-Policy"), Some("default-src 'self'"));
    let html = decode(page.into_string().unwrap());
    for needle in [
        "name=\"username\" id=\"id_username\"",
        "type=\"password\" name=\"password\" id=\"id_password\"",
        "type=\"submit\"",
        "name=\"next\" value=\"/form?a=1\"",
    ] {
        assert!(html.contains(needle), "{needle} in {html}");
    }
    assert!(!html.contains("data-session-security"), "no snippet for anonymous visitors");
    let html = decode(client.get("/login?next=//evil.example").dispatch().into_string().unwrap());
    assert!(html.contains("name=\"next\" value=\"/\""));
}

#[test]
fn empty_user_name_is_refused() {
    let (client, _clock) = demo_with(vec![]);
    let res = client.post("/login").header(ContentType::Form).body("username=+&password=demo").dispatch();
    assert!(set_cookies(&res).is_empty());
}

#[test]
fn home_shows_the_user_and_the_snippet() {
    let (client, _clock) = signed_in(vec![]);
    let res = client.get("/").dispatch();
    assert_eq!(res.headers().get_one("Content-Security-Policy"), Some("default-src 'self'"));
    let html = res.into_string().unwrap();
    assert!(html.contains("Signed in as alice"), "{html}");
    for needle in [
        "id=\"session_security_warning\"",
        "data-warn-after=\"5\"",
        "data-expire-after=\"10\"",
        "data-keep-unsaved-forms=\"true\"",
        "data-confirm-form-discard=\"true\"",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    assert!(!html.contains("style=") && !html.contains("<script>"), "CSP-clean: {html}");
}

#[test]
fn user_names_are_escaped() {
    let (client, _clock) = demo_with(vec![]);
    client.post("/login").header(ContentType::Form).body("username=%3Cb%3Ex&password=demo").dispatch();
    let html = client.get("/").dispatch().into_string().unwrap();
    assert!(html.contains("Signed in as &lt;b&gt;x") && !html.contains("<b>x"));
}

#[test]
fn snippet_follows_accept_language_or_the_language_key() {
    let (client, _clock) = signed_in(vec![]);
    let html =
        client.get("/").header(Header::new("Accept-Language", "de-DE,de;q=0.9")).dispatch().into_string().unwrap();
    assert!(html.contains("Angemeldet bleiben") && html.contains("lang=\"de\""));
    let (client, _clock) = signed_in(vec![("language", "ja".into())]);
    let html = client.get("/").header(Header::new("Accept-Language", "de")).dispatch().into_string().unwrap();
    assert!(html.contains("サインインを続ける"));
}

#[test]
fn form_poll_public_and_logout() {
    let (client, _clock) = signed_in(vec![]);
    let html = client.get("/form").dispatch().into_string().unwrap();
    assert!(html.contains("<form") && html.contains("<textarea id=\"notes\""));
    let saved = client.post("/form").header(ContentType::Form).body("notes=hello").dispatch().into_string().unwrap();
    assert!(saved.contains("Saved 5 characters"));
    let poll = client.get("/poll").dispatch();
    assert_eq!(poll.into_string().unwrap(), r#"{"ok":true}"#);
    assert_eq!(client.get("/public").dispatch().status(), Status::Ok);
    let res = client.post("/logout").dispatch();
    assert_eq!((res.status(), res.headers().get_one("Location")), (Status::SeeOther, Some("/login")));
    let (anonymous, _clock) = demo_with(vec![]);
    assert_eq!(anonymous.get("/public").dispatch().status(), Status::Ok);
    assert_eq!(anonymous.get("/form").dispatch().status(), Status::SeeOther);
}

fn asset_urls(html: &str) -> (String, String) {
    let find = |prefix: &str| {
        let start = html.find(prefix).expect(prefix) + prefix.len();
        html[start..].split('"').next().unwrap().to_string()
    };
    let css = format!("/session-security/static/{}", find("href=\"/session-security/static/"));
    (find("<script src=\""), css)
}

#[test]
fn assets_are_served_with_types_hashed_names_and_caching() {
    let (client, _clock) = signed_in(vec![]);
    // The app's Tera engine escapes '/' in attributes, as browsers decode it.
    let html = client.get("/").dispatch().into_string().unwrap().replace("&#x2F;", "/");
    let (js, css) = asset_urls(&html);
    assert!(js.starts_with("/session-security/static/session-security.") && js.ends_with(".js"), "{js}");
    for (url, kind) in [(js.as_str(), ContentType::JavaScript), (css.as_str(), ContentType::CSS)] {
        let res = client.get(url).dispatch();
        assert_eq!(res.status(), Status::Ok, "{url}");
        assert_eq!(res.content_type(), Some(kind), "{url}");
        assert_eq!(res.headers().get_one("Cache-Control"), Some("public, max-age=31536000, immutable"));
        let etag = res.headers().get_one("ETag").expect("ETag").to_string();
        assert!(!res.into_bytes().unwrap().is_empty());
        let again = client.get(url).header(Header::new("If-None-Match", etag)).dispatch();
        assert_eq!(again.status(), Status::NotModified);
    }
    let plain = client.get("/session-security/static/session-security.js").dispatch();
    assert_eq!(plain.headers().get_one("Cache-Control"), Some("no-cache"));
    assert_eq!(client.get("/session-security/static/nope.js").dispatch().status(), Status::NotFound);
    assert_eq!(client.get("/session-security/static/..%2FCargo.toml").dispatch().status(), Status::NotFound);
}
