//! `ROCKET_SESSION_SECURITY` overrides the demo's settings key by key.
//! A test binary of its own: it changes the process environment.

mod common;

use common::*;
use rocket::local::blocking::Client;
use rocket_session_security::SessionSecurity;

#[test]
fn environment_overrides_merge_over_the_demo_settings() {
    std::env::set_var("ROCKET_SESSION_SECURITY", "{warn_after=5,expire_after=10,wcag_timing_check=false}");
    std::env::set_var("ROCKET_SECRET_KEY", SECRET);
    std::env::set_var("ROCKET_LOG_LEVEL", "off");
    let client = Client::tracked(app::rocket_with(SessionSecurity::fairing(), rocket::Config::figment())).unwrap();
    sign_in(&client, "/");
    let html = client.get("/").dispatch().into_string().unwrap();
    assert!(html.contains("data-warn-after=\"5\"") && html.contains("data-expire-after=\"10\""));
    // The demo's own keys are still there: /poll stays passive.
    assert!(set_cookies(&client.get("/poll").dispatch()).is_empty());

    // Without timing in the environment the demo uses its short defaults.
    std::env::set_var("ROCKET_SESSION_SECURITY", "{login_url=\"/login\"}");
    let client = Client::tracked(app::rocket_with(SessionSecurity::fairing(), rocket::Config::figment())).unwrap();
    sign_in(&client, "/");
    let html = client.get("/").dispatch().into_string().unwrap();
    assert!(html.contains("data-warn-after=\"15\"") && html.contains("data-expire-after=\"45\""));

    std::env::set_var("ROCKET_SESSION_SECURITY", "{expire_afer=10}");
    let error = Client::tracked(app::rocket_with(SessionSecurity::fairing(), rocket::Config::figment())).unwrap_err();
    assert!(matches!(error.kind(), rocket::error::ErrorKind::FailedFairings(_)));
}
