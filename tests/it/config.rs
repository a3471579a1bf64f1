//! Configuration reaches the fairing from `Rocket.toml`-style figments, and
//! bad configuration stops the launch.

use crate::common::*;
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

/// The settings of the tests, with the WCAG check back on (the tests'
/// compressed W=5, E=10 would break it).
fn checked(extra: Vec<(&str, Value)>) -> Vec<(&str, Value)> {
    let mut all = vec![("wcag_timing_check", true.into())];
    all.extend(extra);
    all
}

#[test]
fn every_profile_launches_when_compliant_and_refuses_each_breach() {
    // (profile, warn_after, expire_after, absolute_timeout, launches)
    let cases = [
        ("pci-dss-4", 780, 900, 43_200, true),
        ("pci-dss-4", 100, 300, 0, true),
        ("pci-dss-4", 1740, 1800, 43_200, false),
        ("nist-aal2", 3480, 3600, 86_400, true),
        ("nist-aal2", 3500, 3601, 86_400, false),
        ("nist-aal2", 500, 600, 0, false),
        ("nist-aal2", 500, 600, 86_401, false),
        ("nist-aal3", 780, 900, 43_200, true),
        ("nist-aal3", 800, 901, 43_200, false),
        ("nist-aal3", 500, 600, 43_201, false),
        ("nist-aal3", 500, 600, 0, false),
    ];
    for (profile, warn_after, expire_after, absolute_timeout, compliant) in cases {
        let settings = checked(vec![
            ("profile", profile.into()),
            ("warn_after", warn_after.into()),
            ("expire_after", expire_after.into()),
            ("absolute_timeout", absolute_timeout.into()),
        ]);
        assert_eq!(launches(settings), compliant, "{profile} {warn_after}/{expire_after}/{absolute_timeout}");
    }
    assert!(!launches(vec![("profile", "pci-dss-3".into())]), "an unknown profile");
}

#[test]
fn a_warning_that_leaves_less_than_20_s_stops_the_launch() {
    assert!(!launches(checked(vec![("warn_after", 50.into()), ("expire_after", 60.into())])));
    assert!(!launches(checked(vec![])), "the tests' own 5 s warning, checked");
    assert!(launches(checked(vec![("warn_after", 40.into()), ("expire_after", 60.into())])));
}

#[rocket::get("/timing")]
fn configured_timing(tracker: rocket_session_security::SessionTracker<'_>) -> String {
    let t = tracker.configured_timeouts();
    format!("{}/{}/{}", t.warn_after, t.expire_after, t.absolute_timeout)
}

#[test]
fn a_profile_in_rocket_toml_sets_the_timing_left_unset() {
    let timing = |table: Vec<(&str, Value)>| {
        let mut map = std::collections::BTreeMap::new();
        map.extend(table.into_iter().map(|(k, v)| (k.to_string(), v)));
        map.insert("revocations".to_string(), "memory".into());
        let figment = rocket::Config::figment().merge(("log_level", "off")).merge(("session_security", map));
        let rocket =
            rocket::custom(figment).attach(SessionSecurity::fairing()).mount("/", rocket::routes![configured_timing]);
        let client = Client::untracked(rocket).expect("launches");
        let body = client.get("/timing").dispatch().into_string();
        body.unwrap_or_default()
    };
    assert_eq!(timing(vec![("profile", "pci-dss-4".into())]), "780/900/43200");
    assert_eq!(timing(vec![("profile", "nist-aal2".into())]), "3480/3600/86400");
    assert_eq!(timing(vec![("profile", "nist-aal3".into()), ("expire_after", 600.into())]), "480/600/43200");
    assert_eq!(timing(vec![]), "540/600/43200", "no profile: the crate's defaults");
}
