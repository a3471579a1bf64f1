//! The README's integration, exactly as printed there, works as it says.

/// The example's items, with its private `rocket()` builder in reach.
#[allow(dead_code)]
mod example {
    include!("../../examples/quickstart.rs");

    pub fn build() -> rocket::Rocket<rocket::Build> {
        rocket()
    }
}

use rocket::http::{Header, Status};
use rocket::local::blocking::Client;
use rocket_session_security::testing;

#[test]
fn the_readme_shows_the_quickstart_example_verbatim() {
    let readme = include_str!("../../README.md");
    let example = include_str!("../../examples/quickstart.rs");
    assert!(readme.contains(&format!("```rust\n{example}```")), "README.md and examples/quickstart.rs differ");
}

#[test]
fn the_quickstart_signs_in_guards_expires_and_signs_out() {
    // What the README puts in Rocket.toml.
    let rocket = example::build();
    let figment = rocket
        .figment()
        .clone()
        .merge(("session_security", rocket::figment::util::map!["warn_after" => 540, "expire_after" => 600]))
        .merge(("session_security.login_cookies", ["user_id"]))
        .merge(("log_level", "off"));
    let client = Client::tracked(rocket.configure(figment)).expect("launches");

    assert_eq!(client.get("/").dispatch().headers().get_one("Location"), Some("/login?next=/"));
    assert_eq!(client.post("/login").dispatch().status(), Status::SeeOther);
    let page = client.get("/").dispatch();
    assert_eq!(page.status(), Status::Ok);
    let html = page.into_string().unwrap();
    assert!(html.contains("Customer data") && html.contains("data-warn-after=\"540\""));

    // Idle for expire_after seconds: pages go to the login page, API calls get JSON.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let idle = || {
        testing::session(client.rocket())
            .private_login_cookie("user_id", "42")
            .signed_in_at(now - 700)
            .last_activity(now - 600)
            .cookies()
    };
    let res = client.get("/").cookies(idle()).dispatch();
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(res.headers().get_one("Location"), Some("/login?next=/"));
    assert_eq!(client.post("/login").dispatch().status(), Status::SeeOther);
    let res = client.get("/").cookies(idle()).header(Header::new("Accept", "application/json")).dispatch();
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(res.into_string().unwrap(), r#"{"error":"session_expired","reason":"idle"}"#);

    assert_eq!(client.post("/login").dispatch().status(), Status::SeeOther);
    assert_eq!(client.get("/").dispatch().status(), Status::Ok);
    assert_eq!(client.post("/logout").dispatch().status(), Status::SeeOther);
    assert!(client.cookies().get("user_id").is_none() && client.cookies().get("session_security").is_none());
    assert_eq!(client.get("/").dispatch().status(), Status::SeeOther);
}
