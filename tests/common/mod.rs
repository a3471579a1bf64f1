//! Shared helpers of the integration tests: the demo app on a local client
//! with a clock the test moves.
#![allow(dead_code)]

#[path = "../../examples/demo/app.rs"]
pub mod app;
pub mod proxy;
pub mod redis;

use rocket::figment::{util::map, value::Value, Figment};
use rocket::http::{ContentType, Header};
use rocket::local::blocking::{Client, LocalResponse};
use rocket_session_security::{testing, ManualClock, SessionSecurity};

pub const START: i64 = 1_800_000_000;
pub const STAMP: &str = "session_security";
/// A fixed key, so tests can seal cookies with Rocket's own `private_cookie`.
pub const SECRET: &str = "hPRYyVRiMyxpw5sBB1XeCMN1kFsDCqKvBi2QJxBVHQk=";

/// Settings under `session_security`, with the test timing W=5, E=10.
pub fn settings(extra: Vec<(&str, Value)>) -> Figment {
    // In-process revocations: tests never share (or leave behind) a database file.
    let mut table: std::collections::BTreeMap<String, Value> = map![
        "warn_after".to_string() => 5.into(),
        "expire_after".to_string() => 10.into(),
        "revocations".to_string() => "memory".into(),
        // Compressed time: a 5 s warning, which WCAG 2.2.1 would refuse in production.
        "wcag_timing_check".to_string() => false.into()
    ];
    for (key, value) in extra {
        table.insert(key.to_string(), value);
    }
    rocket::Config::figment()
        .merge(("secret_key", SECRET))
        .merge(("log_level", "off"))
        .merge(("session_security", table))
}

pub fn demo(fairing: SessionSecurity, figment: Figment) -> Client {
    Client::tracked(app::rocket_with(fairing, figment)).expect("demo launches")
}

/// The demo with W=5 E=10, a manual clock, and `extra` settings.
pub fn demo_with(extra: Vec<(&str, Value)>) -> (Client, ManualClock) {
    let clock = ManualClock::new(START);
    (demo(SessionSecurity::fairing().clock(clock.clone()), settings(extra)), clock)
}

pub fn sign_in<'c>(client: &'c Client, next: &str) -> LocalResponse<'c> {
    client.post("/login").header(ContentType::Form).body(format!("username=alice&password=demo&next={next}")).dispatch()
}

/// The demo, signed in as alice.
pub fn signed_in(extra: Vec<(&str, Value)>) -> (Client, ManualClock) {
    let (client, clock) = demo_with(extra);
    assert_eq!(sign_in(&client, "/").status().code, 303);
    (client, clock)
}

/// `(signed_in_at, last_activity)` of the stamp a response sets, if any.
pub fn stamp_of(client: &Client, res: &LocalResponse<'_>) -> Option<(i64, i64)> {
    let cookie = res.cookies().get(STAMP)?;
    let stamp = testing::read_stamp(client.rocket(), cookie.value())?;
    Some((stamp.signed_in_at(), stamp.last_activity()))
}

/// The stamp the client now holds.
pub fn held_stamp(client: &Client) -> Option<(i64, i64)> {
    let jar = client.cookies();
    let stamp = testing::read_stamp(client.rocket(), jar.get(STAMP)?.value())?;
    Some((stamp.signed_in_at(), stamp.last_activity()))
}

/// Every `Set-Cookie` header of a response.
pub fn set_cookies(res: &LocalResponse<'_>) -> Vec<String> {
    res.headers().get("Set-Cookie").map(str::to_string).collect()
}

/// The `Set-Cookie` headers for `name`.
pub fn set_cookies_named(res: &LocalResponse<'_>, name: &str) -> Vec<String> {
    set_cookies(res).into_iter().filter(|c| c.starts_with(&format!("{name}="))).collect()
}

pub fn is_removal(set_cookie: &str) -> bool {
    set_cookie.contains("Max-Age=0")
}

fn cookie_name(set_cookie: &str) -> String {
    set_cookie.split_once('=').map_or(set_cookie, |(name, _)| name).trim().to_string()
}

/// The cookie names this response removes, sorted (each once).
pub fn removed(res: &LocalResponse<'_>) -> Vec<String> {
    let mut names: Vec<String> = set_cookies(res).iter().filter(|c| is_removal(c)).map(|c| cookie_name(c)).collect();
    names.sort();
    names
}

/// The cookie names this response sets to a value (not removals), sorted.
pub fn set_names(res: &LocalResponse<'_>) -> Vec<String> {
    let mut names: Vec<String> = set_cookies(res).iter().filter(|c| !is_removal(c)).map(|c| cookie_name(c)).collect();
    names.sort();
    names
}

/// The response's `Location`.
pub fn location(res: &LocalResponse<'_>) -> Option<String> {
    res.headers().get_one("Location").map(str::to_string)
}

pub fn json_header() -> Header<'static> {
    Header::new("Accept", "application/json")
}

pub fn body_json(res: LocalResponse<'_>) -> serde_json::Value {
    serde_json::from_str(&res.into_string().unwrap_or_default()).expect("JSON body")
}

/// Serves `rocket` for real on 127.0.0.1 (a free port); returns the port and
/// a handle that stops it.
pub async fn serve(rocket: rocket::Rocket<rocket::Build>) -> (u16, rocket::Shutdown) {
    let figment = rocket.figment().clone().merge(("address", "127.0.0.1")).merge(("port", 0));
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = std::sync::Mutex::new(Some(tx));
    let rocket = rocket.configure(figment).attach(rocket::fairing::AdHoc::on_liftoff("port", move |rocket| {
        Box::pin(async move {
            // Rocket puts the port it bound into the config before liftoff.
            if let Some(tx) = tx.lock().ok().and_then(|mut t| t.take()) {
                let _ = tx.send((rocket.config().port, rocket.shutdown()));
            }
        })
    }));
    tokio::spawn(async move {
        let _ = rocket.launch().await;
    });
    rx.await.expect("the server lifts off")
}

/// Where `program` is installed: on `PATH`, or in the system folders a
/// non-root `PATH` may leave out (nginx lives in `/usr/sbin`).
pub fn which(program: &str) -> Option<std::path::PathBuf> {
    use std::path::PathBuf;
    let dirs = std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<_>>()).unwrap_or_default();
    dirs.into_iter()
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

/// `tests` cannot run without `missing`: under `CI` that fails the test,
/// elsewhere a `SKIPPED:` line says so (past the harness's capture), never a pass.
pub fn skipped_without(tests: &str, missing: &str, hint: &str) {
    use std::io::Write;
    assert!(std::env::var_os("CI").is_none(), "CI is set but {missing} is missing: {hint}");
    let _ = writeln!(std::io::stdout().lock(), "SKIPPED: {tests} ({missing} missing: {hint})");
}

/// The body of a response that must have one: a test of what a page lacks
/// must not pass because the request itself broke and answered nothing.
pub trait Body {
    /// The body as text; panics on an empty or missing one.
    fn text(self) -> String;
}

impl Body for LocalResponse<'_> {
    fn text(self) -> String {
        let status = self.status();
        self.into_string().filter(|body| !body.is_empty()).unwrap_or_else(|| panic!("a {status} without a body"))
    }
}
