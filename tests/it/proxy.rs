//! Deployed as people deploy it: the demo behind a real nginx, over real
//! HTTP, in the four set-ups of `common::proxy::Setup`. Reproduced on
//! 7f5f431: every same-origin ping through (a), (b) and (d) was refused with
//! 403, and the removals under TLS lacked `Secure`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::common::proxy::{self, Answer, Jar, Nginx, Setup};
use crate::common::{app, serve, settings, START};
use rocket::figment::value::Value;
use rocket_session_security::{ManualClock, SessionSecurity};
use serde_json::json;

const PING: &str = "/session-security/ping?idle_for=0";

/// A demo instance served for real with a manual clock; counts its requests.
struct Instance {
    port: u16,
    requests: Arc<AtomicUsize>,
    shutdown: rocket::Shutdown,
}

impl Instance {
    async fn start(clock: &ManualClock, extra: Vec<(&str, Value)>) -> Instance {
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = requests.clone();
        let rocket = app::rocket_with(SessionSecurity::fairing().clock(clock.clone()), settings(extra)).attach(
            rocket::fairing::AdHoc::on_request("count", move |_, _| {
                counted.fetch_add(1, Ordering::SeqCst);
                Box::pin(async {})
            }),
        );
        let (port, shutdown) = serve(rocket).await;
        Instance { port, requests, shutdown }
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.shutdown.clone().notify();
    }
}

/// Signs in as alice through nginx; the jar holds what the browser would.
async fn sign_in(nginx: &Nginx, jar: &mut Jar) -> Answer {
    let form = ("Content-Type", "application/x-www-form-urlencoded");
    let answer = nginx.send("POST", "/login", &[form], "username=alice&password=demo&next=/").await;
    assert_eq!(answer.status, 303, "sign-in through {:?}: {answer:?}", nginx.setup);
    jar.take(&answer);
    answer
}

/// A ping with the jar's cookies and `headers`.
async fn ping(nginx: &Nginx, jar: &Jar, headers: &[(&str, &str)]) -> Answer {
    let cookie = jar.header();
    let mut all = vec![("Accept", "application/json"), ("Cookie", cookie.as_str())];
    all.extend_from_slice(headers);
    nginx.send("POST", PING, &all, "").await
}

/// What a browser sends with the script's ping: Fetch Metadata where the
/// origin is secure (https, and 127.0.0.1, which browsers treat as such).
fn same_origin(origin: &str) -> [(&str, &str); 3] {
    [("Origin", origin), ("Sec-Fetch-Site", "same-origin"), ("Sec-Fetch-Mode", "cors")]
}

/// Cross-site pings stay refused whatever the set-up.
async fn cross_site_pings_are_refused(nginx: &Nginx, jar: &Jar) {
    let with_metadata = [("Origin", "https://evil.example"), ("Sec-Fetch-Site", "cross-site")];
    let without = [("Origin", "https://evil.example")];
    let no_metadata_referer = [("Referer", "https://evil.example/page")];
    for headers in [&with_metadata[..], &without[..], &no_metadata_referer[..]] {
        let answer = ping(nginx, jar, headers).await;
        assert_eq!(answer.status, 403, "{:?} {headers:?}: {answer:?}", nginx.setup);
        assert!(answer.json()["error"].as_str().unwrap_or_default().starts_with("cross-site request"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_a_bare_proxy_pass_same_origin_pings_pass_and_cross_site_ones_do_not() {
    if !proxy::available() {
        return;
    }
    let clock = ManualClock::new(START);
    let app = Instance::start(&clock, vec![]).await;
    let nginx = Nginx::start(Setup::BareProxyPass { upstream: app.port });
    let mut jar = Jar::default();
    sign_in(&nginx, &mut jar).await;
    clock.advance(3);
    let answer = ping(&nginx, &jar, &same_origin(&nginx.origin())).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.json()["state"], json!("active"));
    assert_eq!(answer.json()["idle_for"], json!(0), "the browser's idle_for=0 merged");
    // Without Fetch Metadata the Host is the upstream's: refused, saying which setting fixes it.
    let answer = ping(&nginx, &jar, &[("Origin", &nginx.origin())]).await;
    assert_eq!(answer.status, 403);
    let expected = format!("does not match Host 127.0.0.1:{}", app.port);
    assert!(answer.json()["error"].as_str().unwrap_or_default().contains(&expected), "{answer:?}");
    cross_site_pings_are_refused(&nginx, &jar).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_host_without_its_port_same_origin_pings_pass_and_public_origins_fix_the_rest() {
    if !proxy::available() {
        return;
    }
    let clock = ManualClock::new(START);
    let app = Instance::start(&clock, vec![]).await;
    let nginx = Nginx::start(Setup::HostWithoutPort { upstream: app.port });
    let mut jar = Jar::default();
    sign_in(&nginx, &mut jar).await;
    assert_eq!(ping(&nginx, &jar, &same_origin(&nginx.origin())).await.status, 200);
    let answer = ping(&nginx, &jar, &[("Origin", &nginx.origin())]).await;
    assert_eq!(answer.status, 403);
    assert!(
        answer.json()["error"].as_str().unwrap_or_default().ends_with("does not match Host 127.0.0.1"),
        "{answer:?}"
    );
    cross_site_pings_are_refused(&nginx, &jar).await;
    drop(nginx);
    drop(app);

    // The same proxy, and the app told its public origin: an older browser's ping passes too.
    let clock = ManualClock::new(START);
    let port = proxy::free_port();
    let public = vec![format!("http://127.0.0.1:{port}")];
    let app = Instance::start(&clock, vec![("public_origins", public.into())]).await;
    let nginx = Nginx::start_on(Setup::HostWithoutPort { upstream: app.port }, port);
    let mut jar = Jar::default();
    sign_in(&nginx, &mut jar).await;
    assert_eq!(ping(&nginx, &jar, &[("Origin", &nginx.origin())]).await.status, 200);
    assert_eq!(ping(&nginx, &jar, &[("Referer", &nginx.url("/form"))]).await.status, 200);
    cross_site_pings_are_refused(&nginx, &jar).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_tls_at_the_proxy_host_prefixed_cookies_are_set_removed_and_the_flash_is_secure() {
    if !proxy::available() {
        return;
    }
    let clock = ManualClock::new(START);
    let extra = vec![
        ("cookie_name", "__Host-session_security".into()),
        ("secure", true.into()),
        ("trusted_proxies", vec!["127.0.0.1"].into()),
    ];
    let app = Instance::start(&clock, extra).await;
    let nginx = Nginx::start(Setup::TlsTermination { upstream: app.port });
    let mut jar = Jar::default();
    let signed_in = sign_in(&nginx, &mut jar).await;
    let stamp = signed_in.set_cookie("__Host-session_security").expect("the stamp, by its prefixed name");
    assert!(stamp.contains("; Secure") && stamp.contains("Path=/") && !stamp.contains("Domain"), "{stamp}");
    assert_eq!(jar.names(), ["user", "__Host-session_security"]);
    // With Fetch Metadata, and without: the trusted proxy's X-Forwarded-* name the public origin.
    assert_eq!(ping(&nginx, &jar, &same_origin(&nginx.origin())).await.status, 200);
    assert_eq!(ping(&nginx, &jar, &[("Origin", &nginx.origin())]).await.status, 200);
    let downgraded = nginx.origin().replace("https://", "http://");
    let answer = ping(&nginx, &jar, &[("Origin", &downgraded)]).await;
    assert_eq!(answer.status, 403, "http:// is another origin than https://");
    assert!(answer.json()["error"].as_str().unwrap_or_default().contains("trusted proxy's forwarded host 127.0.0.1"));
    cross_site_pings_are_refused(&nginx, &jar).await;

    // Expired: the ping's 401 says why and sets the login page's flash, Secure.
    clock.advance(11);
    let answer = ping(&nginx, &jar, &same_origin(&nginx.origin())).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.json(), json!({ "state": "expired", "reason": "idle" }));
    let flash = answer.set_cookie("_flash").expect("the flash");
    assert!(flash.contains("; Secure") && flash.contains("SameSite=Strict"), "{flash}");
    for name in ["__Host-session_security", "user"] {
        let removal = answer.set_cookie(name).unwrap_or_else(|| panic!("{name} removed: {answer:?}"));
        assert!(
            removal.contains("Max-Age=0") && removal.contains("; Secure") && removal.contains("Path=/"),
            "{removal}"
        );
    }
    jar.take(&answer);
    assert_eq!(jar.names(), ["_flash"]);
    let login = nginx.send("GET", "/login", &[("Cookie", &jar.header())], "").await;
    assert!(login.body.contains("You were signed out after 10 s of inactivity."), "{}", login.body);

    // Sign-out removes the prefixed stamp too (a removal without Secure would be ignored by browsers).
    let mut jar = Jar::default();
    sign_in(&nginx, &mut jar).await;
    let answer = nginx.send("POST", "/logout", &[("Cookie", &jar.header())], "").await;
    assert_eq!(answer.status, 303);
    let removal = answer.set_cookie("__Host-session_security").expect("the stamp removed");
    assert!(removal.contains("Max-Age=0") && removal.contains("; Secure"), "{removal}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_robin_of_two_instances_sharing_a_key_serves_one_session() {
    if !proxy::available() {
        return;
    }
    let clock = ManualClock::new(START);
    let (one, two) = (Instance::start(&clock, vec![]).await, Instance::start(&clock, vec![]).await);
    let nginx = Nginx::start(Setup::RoundRobin { upstreams: vec![one.port, two.port] });
    let mut jar = Jar::default();
    sign_in(&nginx, &mut jar).await;
    let before = (one.requests(), two.requests());
    for second in 1..=6 {
        clock.advance(1);
        let answer = ping(&nginx, &jar, &same_origin(&nginx.origin())).await;
        assert_eq!(answer.status, 200, "ping {second}: {answer:?}");
        jar.take(&answer);
        let page = nginx.send("GET", "/", &[("Cookie", &jar.header()), ("Accept", "text/html")], "").await;
        assert_eq!(page.status, 200, "page {second}");
        jar.take(&page);
    }
    let served = (one.requests() - before.0, two.requests() - before.1);
    assert_eq!(served, (6, 6), "round robin: each instance answered half");
    cross_site_pings_are_refused(&nginx, &jar).await;
}
