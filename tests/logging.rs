//! What the crate tells a developer through the `log` crate (as Rocket's own
//! extensions do): a sign-in that sets none of `login_cookies`, a login
//! cookie less strict than the stamp, plain HTTP in a production profile,
//! the first refused ping of each kind, a configuration that breaks WCAG
//! 2.2.1 or a compliance profile, and the profile checked at liftoff.
//! One test, because a process has one logger.

use std::sync::Mutex;

#[path = "../examples/demo/app.rs"]
mod demo;

use rocket::http::CookieJar;
use rocket::local::blocking::Client;
use rocket::{post, routes};
use rocket_session_security::{Config, SessionSecurity, SessionTracker};

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Info
    }
    fn log(&self, record: &log::Record<'_>) {
        let line = record.args().to_string();
        // Warnings and errors; of the information, only what the profile line says.
        if record.level() <= log::Level::Warn || line.starts_with("session security: profile") {
            LINES.lock().unwrap().push(line);
        }
    }
    fn flush(&self) {}
}

/// The lines logged while `f` ran.
fn logged(f: impl FnOnce()) -> Vec<String> {
    LINES.lock().unwrap().clear();
    f();
    std::mem::take(&mut *LINES.lock().unwrap())
}

#[post("/login")]
fn login(jar: &CookieJar<'_>, tracker: SessionTracker<'_>) {
    jar.add_private(("user_id", "42"));
    tracker.sign_in();
}

#[post("/login-lax")]
fn login_lax(jar: &CookieJar<'_>, tracker: SessionTracker<'_>) {
    jar.add_private(rocket::http::Cookie::build(("user_id", "42")).same_site(rocket::http::SameSite::Lax));
    tracker.sign_in();
}

fn client(profile: &str, login_cookies: &[&str]) -> Client {
    let config = Config { login_cookies: login_cookies.iter().map(|s| s.to_string()).collect(), ..Config::default() };
    let figment =
        rocket::Config::figment().select(profile).merge(("secret_key", "hPRYyVRiMyxpw5sBB1XeCMN1kFsDCqKvBi2QJxBVHQk="));
    Client::untracked(
        rocket::custom(figment).attach(SessionSecurity::with_config(config)).mount("/", routes![login, login_lax]),
    )
    .expect("launches")
}

#[test]
fn the_crate_warns_where_a_mistake_would_otherwise_be_silent() {
    // Ours first: Rocket then keeps it and leaves the level to us.
    log::set_logger(&Capture).expect("no logger yet");
    log::set_max_level(log::LevelFilter::Warn);

    let good = client("debug", &["user_id"]);
    assert_eq!(logged(|| drop(good.post("/login").dispatch())), Vec::<String>::new());

    let typo = client("debug", &["userid"]);
    let lines = logged(|| drop(typo.post("/login").dispatch()));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("sets none of login_cookies [\"userid\"]"), "{lines:?}");

    // A restarted browser: the persistent login cookie without the browser-session stamp is
    // expired (invalid) and audited, at info; a stamp that does not open is a warning.
    let restarted = logged(|| drop(good.get("/elsewhere").private_cookie(("user_id", "42")).dispatch()));
    assert!(!restarted.iter().any(|l| l.contains("session expired")), "{restarted:?}");
    let forged = logged(|| {
        let request = good.get("/elsewhere").private_cookie(("user_id", "42"));
        drop(request.cookie(rocket::http::Cookie::new("session_security", "forged")).dispatch())
    });
    assert!(forged.iter().any(|l| l.contains("session expired (invalid)")), "{forged:?}");
    let lax = logged(|| drop(good.post("/login-lax").dispatch()));
    assert!(lax.iter().any(|l| l.contains("\"user_id\" is SameSite=Lax but the stamp is Strict")), "{lax:?}");

    // Every profile but debug is production (Shield's rule), not only `release`.
    let debug = logged(|| drop(client("debug", &["user_id"])));
    assert!(!debug.iter().any(|l| l.contains("plain HTTP")), "{debug:?}");
    let staging = logged(|| drop(client("staging", &["user_id"])));
    assert!(staging.iter().any(|l| l.contains("profile staging runs without TLS")), "{staging:?}");

    // Behind a proxy that is not declared, every ping of an older browser is
    // refused: the first of each kind says so, with the setting that fixes it.
    let app = client("debug", &["user_id"]);
    let ping = |headers: &[(&str, &str)]| {
        let mut request =
            app.post("/session-security/ping").header(rocket::http::Header::new("Host", "127.0.0.1:8000"));
        for (name, value) in headers {
            request = request.header(rocket::http::Header::new(name.to_string(), value.to_string()));
        }
        assert_eq!(request.dispatch().status().code, 403, "{headers:?}");
    };
    let behind_nginx = logged(|| {
        for _ in 0..3 {
            ping(&[("Origin", "https://crm.example.com")]);
        }
    });
    assert_eq!(behind_nginx.len(), 1, "once per kind: {behind_nginx:?}");
    let line = &behind_nginx[0];
    assert!(line.contains("Origin \"https://crm.example.com\" does not match Host 127.0.0.1:8000"), "{line}");
    assert!(line.contains("trusted_proxies") && line.contains("public_origins"), "{line}");
    let cross_site = logged(|| {
        ping(&[("Sec-Fetch-Site", "cross-site")]);
        ping(&[("Sec-Fetch-Site", "cross-site")]);
        ping(&[("Origin", "https://elsewhere.example")]);
    });
    assert_eq!(cross_site.len(), 1, "{cross_site:?}");
    assert!(cross_site[0].contains("Sec-Fetch-Site is \"cross-site\""), "{cross_site:?}");

    // The demo's contract: a configuration that breaks a profile, or WCAG
    // 2.2.1, stops the launch, and the log names the requirement and the key.
    let launch_demo = |environment: &str| {
        std::env::set_var("ROCKET_SESSION_SECURITY", environment);
        let lines = logged(|| {
            let rocket = demo::rocket_with(SessionSecurity::fairing(), rocket::Config::figment());
            match Client::untracked(rocket) {
                Ok(client) => drop(client),
                Err(error) => assert!(matches!(error.kind(), rocket::error::ErrorKind::FailedFairings(_))),
            }
        });
        std::env::remove_var("ROCKET_SESSION_SECURITY");
        lines
    };
    let pci = launch_demo(r#"{profile="pci-dss-4", expire_after=1800, revocations="memory"}"#);
    assert!(
        pci.iter().any(|l| l.contains("session_security.expire_after: 1800 s breaks PCI DSS v4.0 8.2.8")),
        "{pci:?}"
    );
    let wcag = launch_demo(r#"{warn_after=50, expire_after=60, revocations="memory"}"#);
    assert!(
        wcag.iter().any(|l| l.contains("session_security.warn_after:") && l.contains("WCAG 2.2.1 (Timing Adjustable)")),
        "{wcag:?}"
    );
    log::set_max_level(log::LevelFilter::Info);
    let aal3 = launch_demo(r#"{profile="nist-aal3", revocations="memory"}"#);
    log::set_max_level(log::LevelFilter::Warn);
    let ours: Vec<&String> = aal3.iter().filter(|l| l.starts_with("session security")).collect();
    assert_eq!(
        ours,
        ["session security: profile nist-aal3 (NIST SP 800-63B-4 AAL3): checked expire_after 45 s ≤ 900 s, \
          absolute_timeout 43200 s ≤ 43200 s; WCAG 2.2.1: the warning leaves 30 s ≥ 20 s to respond; a timing \
          chosen at sign-in is checked there"],
    );
}
