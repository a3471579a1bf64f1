//! Configuration reaches the fairing from `Rocket.toml`-style figments, and
//! bad configuration stops the launch.

mod common;

use common::*;
use rocket::figment::value::Value;
use rocket::local::blocking::Client;
use rocket::serde::json::serde_json;
use rocket_session_security::SessionSecurity;

fn launches(extra: Vec<(&str, Value)>) -> bool {
    match Client::tracked(app::rocket_with(SessionSecurity::fairing(), settings(extra))) {
        Ok(_) => true,
        Err(error) => {
            // Reading the kind marks Rocket's error as handled.
            assert!(matches!(error.kind(), rocket::error::ErrorKind::FailedFairings(_)), "{error:?}");
            false
        }
    }
}

#[test]
fn bad_configuration_stops_the_launch() {
    let cases: Vec<(&str, Value)> = vec![
        ("expire_afer", 10.into()),
        ("warn_after", 10.into()),
        ("warn_after", 0.into()),
        ("warn_after", (-5).into()),
        ("expire_after", "ten".into()),
        ("absolute_timeout", 9.into()),
        ("login_url", "login".into()),
        ("base", "session/".into()),
        ("passive_urls", vec!["poll"].into()),
        ("same_site", "sometimes".into()),
        ("same_site", "none".into()),
        ("language", "klingon".into()),
        ("cookie_name", "a b".into()),
        // Browsers refuse a prefixed cookie without Secure: no sign-in could ever stick.
        ("cookie_name", "__Host-session_security".into()),
        ("cookie_name", "__Secure-session_security".into()),
        ("login_cookies", vec!["__Host-user"].into()),
        ("trusted_proxies", vec!["nginx"].into()),
        ("trusted_proxies", vec!["10.0.0.1/8"].into()),
        ("public_origins", vec!["crm.example.com"].into()),
        ("public_origins", vec!["https://crm.example.com/app"].into()),
        ("login_cookie_domain", "exa mple.com".into()),
    ];
    for (key, value) in cases {
        assert!(!launches(vec![(key, value.clone())]), "{key} = {value:?} must stop the launch");
    }
    assert!(launches(vec![]));
    assert!(launches(vec![("absolute_timeout", 0.into()), ("same_site", "none".into()), ("secure", true.into())]));
    assert!(launches(vec![("cookie_name", "__Host-session_security".into()), ("secure", true.into())]));
    assert!(launches(vec![
        ("trusted_proxies", vec!["127.0.0.1", "10.0.0.0/8", "::1"].into()),
        ("public_origins", vec!["https://crm.example.com", "http://10.0.0.5:8080"].into()),
        ("login_cookie_domain", "example.com".into()),
    ]));
}

#[test]
fn under_rockets_own_tls_a_prefixed_stamp_needs_no_secure_setting() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let tls =
        rocket::figment::util::map!["certs" => format!("{dir}/tls-cert.pem"), "key" => format!("{dir}/tls-key.pem")];
    let figment = settings(vec![("cookie_name", "__Host-session_security".into())]).merge(("tls", tls));
    let client = Client::tracked(app::rocket_with(SessionSecurity::fairing(), figment)).expect("launches under TLS");
    let res = sign_in(&client, "/");
    let stamp = set_cookies_named(&res, "__Host-session_security");
    assert!(stamp.len() == 1 && stamp[0].contains("; Secure"), "{stamp:?}");
}

#[test]
fn defaults_apply_when_the_table_is_absent() {
    let figment = rocket::Config::figment().merge(("secret_key", SECRET)).merge(("log_level", "off"));
    let rocket = rocket::custom(figment).attach(SessionSecurity::fairing());
    let client = Client::tracked(rocket).expect("launches on defaults");
    let res = client.post("/session-security/ping").dispatch();
    assert_eq!(res.status().code, 401);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&res.into_string().unwrap()).unwrap()["state"], "anonymous");
}

#[test]
fn attaching_twice_mounts_once() {
    let figment = settings(vec![]);
    let rocket = rocket::custom(figment).attach(SessionSecurity::fairing()).attach(SessionSecurity::fairing());
    let client = Client::tracked(rocket).expect("a second attach replaces the first");
    assert_eq!(client.post("/session-security/ping").dispatch().status().code, 401);
}
