//! Property tests: whatever a browser sends, the crate never panics, never
//! answers 5xx, and never turns garbage into an active session.

use crate::common::*;
use base64::Engine;
use proptest::prelude::*;
use rocket::http::{Cookie, Header, Status};
use rocket::local::blocking::Client;

fn untracked_demo() -> Client {
    let clock = rocket_session_security::ManualClock::new(START);
    let fairing = rocket_session_security::SessionSecurity::fairing().clock(clock);
    Client::untracked(app::rocket_with(fairing, settings(vec![]))).expect("demo launches")
}

/// The rule the ping must follow for `idle_for=<value>` (after decoding).
fn acceptable(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) && value.parse::<u32>().is_ok()
}

fn encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_idle_for_gets_200_or_a_clear_400(value in prop_oneof![
        "\\PC{0,12}",
        "[0-9]{1,12}",
        "-?[0-9+_. ]{0,8}",
        Just(String::new()),
    ]) {
        let (client, _clock) = signed_in(vec![]);
        let res = client.post(format!("/session-security/ping?idle_for={}", encode(&value))).dispatch();
        let status = res.status();
        let body = body_json(res);
        if acceptable(&value) {
            prop_assert_eq!(status, Status::Ok, "{:?}", value);
            prop_assert_eq!(&body["state"], "active");
        } else {
            prop_assert_eq!(status, Status::BadRequest, "{:?}", value);
            prop_assert!(body["error"].as_str().is_some_and(|e| e.contains("idle_for")), "{:?}: {}", value, body);
        }
    }

    #[test]
    fn any_raw_query_never_panics(query in "[ -~]{0,64}") {
        let client = untracked_demo();
        let session = rocket_session_security::testing::session(client.rocket())
            .private_login_cookie("user", "a")
            .signed_in_at(START)
            .cookies();
        // A URI Rocket cannot parse is answered 400 by Rocket itself.
        let uri = format!("/session-security/ping?{}", query.replace([' ', '#'], "+"));
        let res = client.post(uri).cookies(session).dispatch();
        prop_assert!(res.status().code < 500, "{:?}", query);
    }

    #[test]
    fn garbage_stamps_are_never_active(bytes in proptest::collection::vec(any::<u8>(), 0..120), printable in "[!-~]{0,80}") {
        let client = untracked_demo();
        let encodings = [
            base64::engine::general_purpose::STANDARD.encode(&bytes),
            // The stamp's own encoding: 45 bytes reach the decryption.
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes),
            printable.replace(';', ""),
        ];
        for value in encodings {
            let res = client
                .get("/poll")
                .header(Header::new("Accept", "application/json"))
                .cookie(Cookie::new(STAMP, value.clone()))
                .private_cookie(Cookie::new("user", "mallory"))
                .dispatch();
            prop_assert_eq!(res.status(), Status::Unauthorized, "{:?}", value);
            let body = body_json(res);
            prop_assert_eq!(body["error"].as_str(), Some("session_expired"));
        }
    }

    #[test]
    fn sealed_but_foreign_payloads_are_never_active(payload in "\\PC{0,40}") {
        let client = untracked_demo();
        let res = client
            .get("/poll")
            .header(Header::new("Accept", "application/json"))
            .private_cookie(Cookie::new(STAMP, payload.clone()))
            .private_cookie(Cookie::new("user", "mallory"))
            .dispatch();
        prop_assert_eq!(res.status(), Status::Unauthorized, "{:?}", payload);
    }

    #[test]
    fn any_next_after_sign_in_stays_on_this_site(next in prop_oneof!["\\PC{0,40}", "[/\\\\%a-z:.2F5Cc]{0,24}"]) {
        let (client, _clock) = demo_with(vec![]);
        let res = sign_in(&client, &encode(&next));
        let location = res.headers().get_one("Location").unwrap_or("").to_string();
        prop_assert!(location.starts_with('/'), "{:?} -> {:?}", next, location);
        prop_assert!(!location.starts_with("//") && !location.starts_with("/\\"), "{:?} -> {:?}", next, location);
        prop_assert!(rocket_session_security::safe_next(&location).is_some(), "{:?} -> {:?}", next, location);
    }
}
