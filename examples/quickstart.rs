// examples/quickstart.rs: `cargo run --example quickstart`
use rocket::http::CookieJar;
use rocket::response::{content::RawHtml, Redirect};
use rocket_session_security::{ActiveSession, SessionSecurity, SessionTracker};

#[rocket::launch]
fn rocket() -> _ {
    rocket::build().attach(SessionSecurity::fairing()).mount("/", rocket::routes![index, login, logout])
}

#[rocket::get("/")]
fn index(session: ActiveSession) -> RawHtml<String> {
    // Only an active, signed-in user gets here; the snippet is the warning dialog + script.
    RawHtml(format!("<!doctype html><title>CRM</title><p>Customer data</p>{}", session.snippet()))
}

#[rocket::post("/login")]
fn login(jar: &CookieJar<'_>, tracker: SessionTracker<'_>) -> Redirect {
    // ... check the credentials, then:
    jar.add_private(("user_id", "42"));
    tracker.sign_in(); // starts the session's clock
    Redirect::to("/")
}

#[rocket::post("/logout")]
fn logout(tracker: SessionTracker<'_>) -> Redirect {
    tracker.sign_out(); // ends this session for good (revoked everywhere), removes its cookies
    Redirect::to("/login")
}
