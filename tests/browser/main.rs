//! Browser behaviour in real browsers against the demo (W=5, E=10): every
//! scenario runs in Chromium, Firefox and WebKitGTK (`chromium::…`,
//! `firefox::…`, `webkit::…`), one scenario at a time.
//!
//! Switching tabs through WebDriver fires `visibilitychange` and `focus`;
//! the tests never switch just to watch a tab. Each tab records what it
//! shows (observer.js) and the test reads every record from the current tab.

#[path = "../common/mod.rs"]
mod common;
mod harness;
#[path = "../../examples/spa/app.rs"]
mod spa;

use fantoccini::key::Key;
use fantoccini::Locator;
use harness::*;
use serde_json::json;
use std::io::Write;
use std::time::{Duration, Instant};

/// Two browser scenarios at a time (any engines): they measure seconds on a
/// 2-core machine, and spend most of them waiting for the script's timers.
static SERIAL: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// The longest a scenario may take, waiting for a turn included.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(240);

/// A scenario's future, boxed.
type Pending = std::pin::Pin<Box<dyn std::future::Future<Output = TestResult>>>;
type ScenarioFn = fn(Engine) -> Pending;

/// Every scenario, run as one test per engine: `chromium::name`,
/// `firefox::name`, `webkit::name`. A custom runner (libtest-mimic, with
/// `cargo test`'s arguments) so that an engine that is not installed is
/// reported as *ignored*, never as passed; under `CI` its tests run and fail.
macro_rules! in_every_engine {
    ($($scenario:ident),* $(,)?) => {
        const SCENARIOS: &[(&str, ScenarioFn)] = &[$((stringify!($scenario), |engine| Box::pin($scenario(engine)))),*];
    };
}

fn main() -> std::process::ExitCode {
    let args = libtest_mimic::Arguments::from_args();
    let under_ci = std::env::var_os("CI").is_some();
    let engines = [Engine::Chromium, Engine::Firefox, Engine::WebKit];
    for engine in engines.into_iter().filter(|e| !under_ci && !e.installed()) {
        println!("SKIPPED: the {} browser tests, reported as ignored ({})", engine.name(), engine.install_hint());
    }
    let nginx = common::proxy::installed();
    if !under_ci && !nginx {
        println!("SKIPPED: the browser tests through nginx, reported as ignored (apt-get install nginx-light openssl)");
    }
    let trial = |name: String, runnable: bool, scenario: Box<dyn FnOnce() -> Pending + Send>| {
        libtest_mimic::Trial::test(name, move || run(scenario())).with_ignored_flag(!under_ci && !runnable)
    };
    let mut trials = Vec::new();
    for engine in engines {
        for &(name, scenario) in SCENARIOS {
            let factory = Box::new(move || scenario(engine));
            trials.push(trial(format!("{}::{name}", engine.name()), engine.installed(), factory));
        }
        let name = format!("through_nginx::{}_refused_pings_are_shown", engine.name());
        let factory =
            Box::new(move || -> Pending { Box::pin(a_refused_ping_is_shown_never_taken_for_the_servers_word(engine)) });
        trials.push(trial(name, engine.installed() && nginx, factory));
    }
    for &(name, engine, tls) in BEHIND_NGINX {
        let factory = Box::new(move || -> Pending { Box::pin(stay_signed_in_behind_nginx(engine, tls)) });
        trials.push(trial(format!("through_nginx::{name}"), engine.installed() && nginx, factory));
    }
    trials.push(libtest_mimic::Trial::test("counter_parsing", || {
        counter_parsing();
        Ok(())
    }));
    libtest_mimic::run(&args, trials).exit_code()
}

/// One scenario on a runtime of its own (as `#[tokio::test]` gave it); a
/// driver that stops answering fails the test instead of hanging the run.
fn run(scenario: Pending) -> Result<(), libtest_mimic::Failed> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async {
        match tokio::time::timeout(SCENARIO_TIMEOUT, scenario).await {
            Ok(result) => result.map_err(|e| e.to_string().into()),
            Err(_) => Err(format!("did not finish within {SCENARIO_TIMEOUT:?}").into()),
        }
    })
}

in_every_engine!(
    two_tabs_warn_count_down_and_expire_to_login_with_next,
    a_key_press_in_one_tab_hides_the_warning_in_the_other_within_a_second,
    a_key_press_before_the_warning_pushes_it_back,
    idle_tabs_make_at_most_two_pings_per_cycle,
    demo_pages_raise_no_csp_violation,
    the_dialog_is_accessible_and_stay_signed_in_keeps_the_session,
    unsaved_input_survives_expiry_and_a_sign_in_in_another_tab,
    leaving_a_form_with_unsaved_input_asks_first,
    the_mouse_reaches_sign_out_now_without_closing_the_warning_and_every_tab_signs_out,
    the_keyboard_reaches_both_buttons_and_focus_returns_where_it_was,
    only_a_persons_own_events_count_as_activity,
    another_app_on_the_same_origin_cannot_sign_this_one_out,
    one_call_ends_every_tab_when_an_api_answer_is_the_crates_401,
    another_person_signing_in_discards_the_kept_draft,
    a_revoked_session_leaves_every_tab_at_its_next_ping,
    a_session_signed_in_with_a_short_timing_warns_and_expires_on_it_in_every_tab,
    sign_out_now_posts_the_apps_csrf_token_and_a_refusal_is_shown,
    screen_readers_hear_the_warning_each_minute_then_thirty_and_ten_seconds_then_the_cover,
    the_spa_example_warns_in_its_own_banner_extends_signs_out_and_ends_every_tab,
    with_end_with_last_tab_closing_the_last_tab_ends_the_session_and_nothing_else_does,
);

/// `end_with_last_tab` with a 5 s grace (E=60, so no idle expiry in between):
/// a reload, a link, and a second tab closing leave the session on past the
/// grace; the site's last tab closing (a blank tab keeps the browser open)
/// ends it, and the site opened again after the grace is the login page.
async fn with_end_with_last_tab_closing_the_last_tab_ends_the_session_and_nothing_else_does(
    engine: Engine,
) -> TestResult {
    let settings = vec![
        ("warn_after", 40.into()),
        ("expire_after", 60.into()),
        ("end_with_last_tab", true.into()),
        ("last_tab_grace", 5.into()),
    ];
    let Some((_serial, server, b)) = signed_in_scenario_with(engine, settings).await? else { return Ok(()) };
    let name = engine.name();
    let past_the_grace = Duration::from_secs(7);
    b.client.refresh().await?;
    b.client.find(Locator::Css("a[href='/form']")).await?.click().await?;
    b.wait_for_path("/form", Duration::from_secs(5)).await?;
    tokio::time::sleep(past_the_grace).await;
    assert_eq!(b.poll_status().await?, json!(200), "{name}: a reload and a link never end the session");

    let first = b.client.window().await?;
    b.open_tab(&server.url("/")).await?;
    b.client.close_window().await?;
    b.client.switch_to_window(first.clone()).await?;
    tokio::time::sleep(past_the_grace).await;
    assert_eq!(b.poll_status().await?, json!(200), "{name}: another tab closing never ends the session");

    let blank = b.client.new_window(true).await?;
    b.client.close_window().await?;
    b.client.switch_to_window(blank.handle).await?;
    tokio::time::sleep(past_the_grace).await;
    b.client.goto(&server.url("/")).await?;
    b.wait_for_path("/login", Duration::from_secs(5)).await?;
    b.quit().await;
    Ok(())
}

/// The demo seals half the configured idle limit into an administrator's
/// session at sign-in (E=44: 22 s, warned at 2 s): both tabs warn and expire
/// on that timing, not the configured one (W=20, E=44).
async fn a_session_signed_in_with_a_short_timing_warns_and_expires_on_it_in_every_tab(engine: Engine) -> TestResult {
    if !engine.available() {
        return Ok(());
    }
    let _serial = SERIAL.acquire().await?;
    let server = Server::start(vec![("warn_after", 20.into()), ("expire_after", 44.into())]).await;
    let b = Browser::start(engine).await;
    b.sign_in_as(&server, "admin").await?;
    let start = b.now_ms().await?;
    b.client.goto(&server.url("/")).await?;
    let snippet = b.eval("const s = document.querySelector('[data-expire-after]'); return [s.dataset.warnAfter, s.dataset.expireAfter];").await?;
    assert_eq!(snippet, serde_json::json!(["2", "22"]), "the snippet states the session's own timing");
    b.observe("one").await?;
    b.open_tab(&server.url("/sessions")).await?;
    b.observe("two").await?;
    for tab in ["one", "two"] {
        let shown = b.wait_for(tab, "warning-shown", Duration::from_secs(10)).await?;
        let after = seconds(start, shown.at);
        assert!(
            (2.0..=7.0).contains(&after),
            "{tab}: warning after {after} s (the session's 2 s, not the configured 20 s)"
        );
    }
    for tab in ["one", "two"] {
        let left = b.wait_for(tab, "leave", Duration::from_secs(30)).await?;
        let after = seconds(start, left.at);
        assert!((22.0..=28.0).contains(&after), "{tab}: expired after {after} s (the session's 22 s, not 44 s)");
    }
    report(engine, "an administrator's sealed timing: warned and expired on it in both tabs");
    b.quit().await;
    Ok(())
}

/// A copy of the browser's cookies is signed out elsewhere (as a person who
/// signs out on another device, or ends this session from the list): every
/// tab of it leaves at its next ping, and the login page says why.
async fn a_revoked_session_leaves_every_tab_at_its_next_ping(engine: Engine) -> TestResult {
    let Some((_serial, server, b)) = signed_in_scenario(engine).await? else { return Ok(()) };
    b.observe("one").await?;
    b.open_tab(&server.url("/form")).await?;
    b.observe("two").await?;
    let cookies = b.client.get_all_cookies().await?;
    let cookie = cookies.iter().map(|c| format!("{}={}", c.name(), c.value())).collect::<Vec<_>>().join("; ");
    assert!(cookie.contains("session_security="), "{cookie}");
    let out = common::proxy::post_with_cookies(server.port(), "/logout", &cookie).await;
    assert_eq!(out.status, 303);
    for tab in ["one", "two"] {
        let ended = b.wait_for(tab, "expire", Duration::from_secs(10)).await?;
        assert_eq!(ended.detail.as_deref(), Some(r#"{"reason":"revoked"}"#), "{}: {tab}", engine.name());
    }
    // Both tabs leave for the login page; the first to load it shows the flash (it is read once).
    let mut notices = Vec::new();
    for handle in b.client.windows().await? {
        b.client.switch_to_window(handle).await?;
        b.wait_for_path("/login", Duration::from_secs(5)).await?;
        if let Ok(notice) = b.client.find(Locator::Css(".notice")).await {
            notices.push(notice.text().await?);
        }
    }
    assert_eq!(notices.len(), 1, "{}: {notices:?}", engine.name());
    assert!(notices[0].starts_with("Your session was ended"), "{}: {notices:?}", engine.name());
    b.quit().await;
    Ok(())
}

// Behind nginx, as deployed (the proxy set-ups of `common::proxy`): the
// whole warning → "Stay signed in" → still signed in after the first
// expire_after flow, then a script-driven expiry whose login page says why.
// Chromium and Firefox through a bare proxy_pass and through TLS
// termination; WebKitGTK through the bare proxy_pass.
const BEHIND_NGINX: &[(&str, Engine, bool)] = &[
    ("chromium_bare_proxy_pass", Engine::Chromium, false),
    ("chromium_tls_termination", Engine::Chromium, true),
    ("firefox_bare_proxy_pass", Engine::Firefox, false),
    ("firefox_tls_termination", Engine::Firefox, true),
    ("webkit_bare_proxy_pass", Engine::WebKit, false),
];

async fn stay_signed_in_behind_nginx(engine: Engine, tls: bool) -> TestResult {
    use common::proxy::{self, Nginx, Setup};
    if !engine.available() || !proxy::available() {
        return Ok(());
    }
    let _serial = SERIAL.acquire().await?;
    let settings = match tls {
        true => vec![
            ("cookie_name", "__Host-session_security".into()),
            ("secure", true.into()),
            ("trusted_proxies", vec!["127.0.0.1"].into()),
        ],
        false => vec![],
    };
    let mut server = Server::start(settings).await;
    let upstream = server.port();
    let nginx = Nginx::start(if tls { Setup::TlsTermination { upstream } } else { Setup::BareProxyPass { upstream } });
    server.behind(nginx.origin());
    let b = Browser::start(engine).await;
    b.sign_in(&server).await?;
    if tls {
        let stamp = b.client.get_named_cookie("__Host-session_security").await?;
        assert_eq!(stamp.secure(), Some(true), "{}: the stamp is Secure", engine.name());
    }
    b.observe("one").await?;
    let start = b.now_ms().await?;
    b.wait_for("one", "warning-shown", Duration::from_secs(10)).await?;
    b.client.find(Locator::Id("session_security_stay")).await?.click().await?;
    b.wait_for("one", "warning-hidden", Duration::from_secs(2)).await?;
    // Past the first expiry: still signed in, and the server agrees.
    let wait = (start + 11_500 - b.now_ms().await?).max(0) as u64;
    tokio::time::sleep(Duration::from_millis(wait)).await;
    assert_eq!(b.path().await?, "/", "{}: still on the page", engine.name());
    let status = b.poll_status().await?;
    assert_eq!(status, json!(200), "{}: the server kept the session ({})", engine.name(), nginx.error_log());
    // Idle again: the script sees the expiry (the ping's 401) and leaves; the login page says why.
    b.wait_for_path("/login", Duration::from_secs(25)).await?;
    let notice = b.client.wait().at_most(Duration::from_secs(5)).for_element(Locator::Css(".notice")).await?;
    assert_eq!(notice.text().await?, "You were signed out after 10 s of inactivity.");
    report(engine, &format!("through nginx ({}): stay signed in, then the login page says why", nginx.origin()));
    b.quit().await;
    Ok(())
}

/// Reproduced on 7f5f431 in Chromium: behind a proxy the app was not told of,
/// every ping of a browser without Fetch Metadata is refused (403); the
/// script took that for "the server saw the activity", closed the dialog on
/// "Stay signed in" and said nothing while the server expired the session.
async fn a_refused_ping_is_shown_never_taken_for_the_servers_word(engine: Engine) -> TestResult {
    use common::proxy::{self, Nginx, Setup};
    if !engine.available() || !proxy::available() {
        return Ok(());
    }
    let _serial = SERIAL.acquire().await?;
    let mut server = Server::start(vec![]).await;
    let nginx = Nginx::start(Setup::OlderBrowserBehindBareProxyPass { upstream: server.port() });
    server.behind(nginx.origin());
    let b = Browser::start(engine).await;
    b.sign_in(&server).await?;
    b.observe("one").await?;
    let refused = b.wait_for("one", "unreachable", Duration::from_secs(10)).await?;
    let detail: serde_json::Value = serde_json::from_str(&refused.detail.unwrap_or_default())?;
    assert_eq!((&detail["reason"], &detail["status"]), (&json!("refused"), &json!(403)), "{}: {detail}", engine.name());
    // The server's own words come with it, for the page (and its operator) to show.
    assert!(
        detail["error"].as_str().is_some_and(|e| e.starts_with("cross-site request:")),
        "{}: {detail}",
        engine.name()
    );
    b.wait_for("one", "warning-shown", Duration::from_secs(5)).await?;
    let unreached = "return (e => !!e && !e.hidden && e.getClientRects().length > 0 ? e.textContent : null)(document.getElementById('session_security_unreached'))";
    assert_eq!(b.eval(unreached).await?, json!(null), "nothing to report yet: no activity was lost");
    b.client.find(Locator::Id("session_security_stay")).await?.click().await?;
    // The press did not reach the server: the warning stands and says so.
    let deadline = Instant::now() + Duration::from_secs(4);
    while b.eval(unreached).await? == json!(null) {
        assert!(Instant::now() < deadline, "{}: no word that the press did not reach the server", engine.name());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(b.eval(unreached).await?, json!("Your request did not reach the server. Trying again…"));
    assert!(b.warning_visible().await?, "{}: the warning stays open", engine.name());
    // Screen readers hear it at the countdown's next step (a region that appears with its text may go unread).
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let announced = b.eval("return document.getElementById('session_security_announcer').textContent").await?;
        if announced.as_str().is_some_and(|a| a.contains("did not reach the server")) {
            break;
        }
        assert!(Instant::now() < deadline, "{}: not announced: {announced}", engine.name());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // No answer ever comes: the tab ends on its own clock, saying why.
    let ended = b.wait_for("one", "expire", Duration::from_secs(20)).await?;
    assert_eq!(ended.detail.as_deref(), Some(r#"{"reason":"idle"}"#));
    b.wait_for_path("/login", Duration::from_secs(5)).await?;
    assert!(server.pings() >= 3, "{}: retried ({} pings)", engine.name(), server.pings());
    report(engine, &format!("refused pings through nginx: shown, retried ({} pings), ended on time", server.pings()));
    b.quit().await;
    Ok(())
}

/// A browser of `engine` signed in to a fresh demo, one scenario at a time;
/// `None` when the engine is missing outside CI (the test is then skipped).
async fn signed_in_scenario(engine: Engine) -> Result<Option<Scenario>, Box<dyn std::error::Error>> {
    signed_in_scenario_with(engine, vec![]).await
}

type Scenario = (tokio::sync::SemaphorePermit<'static>, Server, Browser);

/// The same with `settings` of the crate (W=5, E=10 unless set).
async fn signed_in_scenario_with(
    engine: Engine,
    settings: Vec<(&str, rocket::figment::value::Value)>,
) -> Result<Option<Scenario>, Box<dyn std::error::Error>> {
    if !engine.available() {
        return Ok(None);
    }
    let serial = SERIAL.acquire().await?;
    let server = Server::start(settings).await;
    let browser = Browser::start(engine).await;
    browser.sign_in(&server).await?;
    Ok(Some((serial, server, browser)))
}

fn seconds(from_ms: i64, to_ms: i64) -> f64 {
    (to_ms - from_ms) as f64 / 1000.0
}

/// The number at the start of a counter text ("7 seconds" → 7).
fn leading_number(text: &str) -> Option<u32> {
    text.trim().split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

async fn two_tabs_warn_count_down_and_expire_to_login_with_next(engine: Engine) -> TestResult {
    let Some((_serial, server, b)) = signed_in_scenario(engine).await? else { return Ok(()) };
    let first_tab = b.client.window().await?;
    b.observe("home").await?;
    b.client.goto(&server.url("/form?draft=1")).await?;
    let start = b.now_ms().await?;
    b.observe("one").await?;
    b.open_tab(&server.url("/")).await?;
    b.observe("two").await?;

    for tab in ["one", "two"] {
        let shown = b.wait_for(tab, "warning-shown", Duration::from_secs(10)).await?;
        let after = seconds(start, shown.at);
        assert!((5.0..=9.0).contains(&after), "{tab}: warning after {after} s");
        let counter = b.wait_for(tab, "counter", Duration::from_secs(3)).await?;
        let text = counter.detail.unwrap_or_default();
        let left = leading_number(&text).unwrap_or(0);
        assert!((1..=5).contains(&left) && text.contains("second"), "{tab}: counter {text:?}");
    }
    for tab in ["one", "two"] {
        let left = b.wait_for(tab, "leave", Duration::from_secs(16)).await?;
        let after = seconds(start, left.at);
        assert!((10.0..=15.0).contains(&after), "{tab}: expired after {after} s");
    }
    // Both tabs now show the login page; looking at them is harmless now.
    let expected = ["/login?next=%2Fform%3Fdraft%3D1", "/login?next=%2F"];
    let handles = b.client.windows().await?;
    let mut seen = Vec::new();
    for handle in handles {
        b.client.switch_to_window(handle).await?;
        b.wait_for_path("/login", Duration::from_secs(5)).await?;
        let url = b.client.current_url().await?;
        seen.push(format!("{}?{}", url.path(), url.query().unwrap_or("")));
        assert!(b.client.find(fantoccini::Locator::Id("id_password")).await.is_ok());
    }
    seen.sort();
    let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(seen, expected);
    // Back in the first tab: the page before the expired one (its own entry was replaced by
    // the login page), protected too; nothing of it shows.
    b.client.switch_to_window(first_tab).await?;
    let how = back_shows_nothing_protected(&b, "/", "home").await?;
    report(engine, &format!("back after expiry: {how}"));
    b.quit().await;
    Ok(())
}

/// A line in `cargo test`'s output, past its capture.
fn report(engine: Engine, line: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{}: {line}", engine.name());
}

/// Goes back in the current tab (recorded as `tab`) to `protected`, a page
/// left signed out, and checks at every look, from the first, that none of
/// its content shows until the tab is on the login page. Says how the page
/// came back (from the back/forward cache or loaded anew).
async fn back_shows_nothing_protected(
    b: &Browser,
    protected: &str,
    tab: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    b.client.back().await?;
    let deadline = Instant::now() + Duration::from_secs(8);
    let mut veiled_looks = 0;
    loop {
        let look = b
            .eval(
                "const main = document.querySelector('main');
                 const shown = !!main && [main, ...main.querySelectorAll('*')].some(e => e.getClientRects().length > 0 && getComputedStyle(e).visibility === 'visible');
                 return [location.pathname, shown];",
            )
            .await?;
        let path = look[0].as_str().unwrap_or_default().to_string();
        if path == "/login" {
            break;
        }
        assert_ne!(look[1], json!(true), "{}: back on {path}, its content shows", b.engine.name());
        if path == protected {
            veiled_looks += 1;
        }
        if Instant::now() > deadline {
            return Err(format!("{}: still on {path} 8 s after going back", b.engine.name()).into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let restored = b.log(tab).await?.into_iter().filter(|o| o.event == "restored").collect::<Vec<_>>();
    Ok(match restored.first() {
        Some(first) => {
            let seen = first.detail.clone().unwrap_or_default();
            assert_eq!(seen, "hidden", "{}: restored from the back/forward cache with content {seen}", b.engine.name());
            format!("restored from the back/forward cache veiled ({veiled_looks} veiled looks), then left for the login page")
        }
        None => "loaded anew: the server sent the login page".to_string(),
    })
}

async fn a_key_press_in_one_tab_hides_the_warning_in_the_other_within_a_second(engine: Engine) -> TestResult {
    let Some((_serial, server, b)) = signed_in_scenario(engine).await? else { return Ok(()) };
    b.observe("one").await?;
    b.open_tab(&server.url("/")).await?;
    b.observe("two").await?;
    b.wait_for("one", "warning-shown", Duration::from_secs(10)).await?;
    b.wait_for("two", "warning-shown", Duration::from_secs(3)).await?;
    let pressed = b.now_ms().await?;
    b.press_key().await?; // in tab two, the current one
    let hidden = b.wait_for("one", "warning-hidden", Duration::from_secs(3)).await?;
    let after = seconds(pressed, hidden.at);
    assert!(after <= 1.0, "tab one hid its warning {after} s after the key press in tab two");
    b.wait_for("two", "warning-hidden", Duration::from_secs(2)).await?;
    assert_eq!(b.path().await?, "/", "the session lives on");
    b.quit().await;
    Ok(())
}

async fn a_key_press_before_the_warning_pushes_it_back(engine: Engine) -> TestResult {
    let Some((_serial, _server, b)) = signed_in_scenario(engine).await? else { return Ok(()) };
    b.observe("one").await?;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    b.press_key().await?;
    let pressed = b.now_ms().await?;
    let shown = b.wait_for("one", "warning-shown", Duration::from_secs(10)).await?;
    let after = seconds(pressed, shown.at);
    assert!(after >= 5.0 - 0.1, "warning {after} s after the key press");
    assert!(after <= 9.0, "warning {after} s after the key press");
    b.quit().await;
    Ok(())
}

/// Opens `tabs` idle tabs and counts the pings the server gets from the
/// moment they are all open until every tab has left for the login page.
/// With `lease`, the pages have no Web Locks: the tabs elect their leader
/// with the localStorage lease. Also says whether the pages had Web Locks.
async fn pings_for_one_cycle(
    engine: Engine,
    tabs: usize,
    lease: bool,
) -> Result<(usize, bool), Box<dyn std::error::Error>> {
    let server = if lease { Server::start_without_web_locks(vec![]).await } else { Server::start(vec![]).await };
    let b = Browser::start(engine).await;
    b.sign_in(&server).await?;
    let web_locks = b.eval("return typeof navigator.locks === 'object' && navigator.locks !== null").await?;
    let web_locks = web_locks.as_bool().unwrap_or(false);
    assert!(!(lease && web_locks), "the page still has Web Locks");
    let names: Vec<String> = (1..=tabs).map(|i| format!("tab{i}")).collect();
    b.observe(&names[0]).await?;
    for name in &names[1..] {
        b.open_tab(&server.url("/")).await?;
        b.observe(name).await?;
    }
    let before = server.pings();
    for name in &names {
        b.wait_for(name, "warning-shown", Duration::from_secs(12)).await?;
    }
    for name in &names {
        b.wait_for(name, "leave", Duration::from_secs(12)).await?;
    }
    let pings = server.pings() - before;
    b.quit().await;
    Ok((pings, web_locks))
}

async fn idle_tabs_make_at_most_two_pings_per_cycle(engine: Engine) -> TestResult {
    if !engine.available() {
        return Ok(());
    }
    let _serial = SERIAL.acquire().await?;
    let mut figures = Vec::new();
    let mut election = "";
    for (tabs, lease) in [(1, false), (3, false), (10, false), (3, true)] {
        let (pings, web_locks) = pings_for_one_cycle(engine, tabs, lease).await?;
        let how = if lease { " (localStorage lease)" } else { "" };
        if !lease {
            election = if web_locks { "Web Locks" } else { "localStorage lease" };
        }
        figures.push(format!("{tabs} idle tab{}{how}: {pings}", if tabs == 1 { "" } else { "s" }));
        assert_eq!(pings, 2, "{tabs} tabs{how} made {pings} pings in one warn+expire cycle");
    }
    let line = figures.join(", ");
    report(
        engine,
        &format!("pings per warn+expire cycle (django-session-security: 2 per tab): {line}; leader by {election}"),
    );
    Ok(())
}

async fn demo_pages_raise_no_csp_violation(engine: Engine) -> TestResult {
    let Some((_serial, server, b)) = signed_in_scenario(engine).await? else { return Ok(()) };
    for path in ["/", "/form", "/public", "/login"] {
        b.client.goto(&server.url(path)).await?;
        // The dialog must be styled by the external stylesheet: hidden, and positioned when shown.
        if path == "/" {
            let loaded = b
                .eval("return !!document.querySelector('script[data-session-security]') && window.sessionSecurity !== undefined")
                .await?;
            assert_eq!(loaded, serde_json::Value::Bool(true), "the script ran on {path}");
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server.csp_reports(), 0, "CSP violations on the demo pages");
    // Negative control: a page with inline script and style is reported.
    b.client.goto(&server.url("/__inline")).await?;
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.csp_reports() == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(server.csp_reports() > 0, "the CSP report channel works");
    b.quit().await;
    Ok(())
}

async fn the_dialog_is_accessible_and_stay_signed_in_keeps_the_session(engine: Engine) -> TestResult {
    let Some((_serial, _server, b)) = signed_in_scenario(engine).await? else { return Ok(()) };
    b.observe("one").await?;
    let start = b.now_ms().await?;
    let page_title = b.client.title().await?;
    b.wait_for("one", "warning-shown", Duration::from_secs(10)).await?;
    // The countdown is in the tab's title too, in front of the page's own.
    let (title, counter) = (
        b.client.title().await?,
        b.eval("return document.getElementById('session_security_counter').textContent").await?,
    );
    let counter = counter.as_str().unwrap_or_default();
    assert!(leading_number(counter).is_some(), "{}: counter {counter:?}", engine.name());
    // (The counter may tick between the two reads.)
    assert!(
        title.ends_with(&format!(" · {page_title}")) && leading_number(&title).is_some() && title.contains(" second"),
        "{}: title {title:?} while the warning shows {counter:?} on {page_title:?}",
        engine.name()
    );
    let a11y = b
        .eval(
            "const w = document.getElementById('session_security_warning');
             const label = document.getElementById(w.getAttribute('aria-labelledby'));
             const description = document.getElementById(w.getAttribute('aria-describedby'));
             const buttons = [...w.querySelectorAll('button')].map(b => b.id);
             return { role: w.getAttribute('role') || (w.tagName === 'DIALOG' ? 'dialog' : ''), modal: w.getAttribute('aria-modal'),
                      label: label && label.textContent, description: description && description.textContent,
                      focused: document.activeElement && document.activeElement.id, buttons };",
        )
        .await?;
    assert_eq!(a11y["role"], "alertdialog", "{a11y}");
    assert_eq!(a11y["modal"], "true", "{a11y}");
    assert!(a11y["label"].as_str().is_some_and(|l| l.contains("about to expire")), "{a11y}");
    assert!(a11y["description"].as_str().is_some_and(|d| d.contains("stay signed in")), "{a11y}");
    assert_eq!(a11y["focused"], "session_security_stay", "focus moves into the dialog: {a11y}");
    assert_eq!(a11y["buttons"], serde_json::json!(["session_security_stay", "session_security_signout"]));
    let shot = b.screenshot("warning").await?;
    report(engine, &format!("screenshot of the open warning: {}", shot.display()));
    if let Some((violations, checked)) = b.axe("#session_security_warning").await? {
        assert!(checked > 0, "axe-core checked nothing in the warning");
        assert!(violations.is_empty(), "{}: axe-core on the open warning: {violations:?}", engine.name());
        report(engine, &format!("axe-core on the open warning: 0 violations ({checked} element checks passed)"));
    }
    b.client.find(fantoccini::Locator::Id("session_security_stay")).await?.click().await?;
    b.wait_for("one", "warning-hidden", Duration::from_secs(2)).await?;
    assert_eq!(b.client.title().await?, page_title, "{}: the page's title is back", engine.name());
    // Past the original expiry, the session is alive and the page unchanged.
    let wait = (start + 11_500 - b.now_ms().await?).max(0) as u64;
    tokio::time::sleep(Duration::from_millis(wait)).await;
    assert_eq!(b.path().await?, "/");
    let status = b.poll_status().await?;
    assert_eq!(status, serde_json::json!(200));
    b.quit().await;
    Ok(())
}

async fn unsaved_input_survives_expiry_and_a_sign_in_in_another_tab(engine: Engine) -> TestResult {
    let Some((_serial, server, b)) = signed_in_scenario(engine).await? else { return Ok(()) };
    b.client.goto(&server.url("/form")).await?;
    let form_tab = b.client.window().await?;
    b.observe("form").await?;
    let words = "Minutes of the meeting, not yet saved";
    b.client.find(fantoccini::Locator::Id("notes")).await?.send_keys(words).await?;
    b.wait_for("form", "expire", Duration::from_secs(16)).await?;
    b.wait_for("form", "cover-shown", Duration::from_secs(2)).await?;
    assert_eq!(b.path().await?, "/form", "a page with unsaved input is covered, not left");
    // Out of the DOM, not only out of sight: what DevTools, "Save page" or another script would read.
    let readable = b
        .client
        .execute(
            "const [words, heading] = arguments;
             const html = document.documentElement.outerHTML;
             const fields = [...document.querySelectorAll('input, textarea, select')].map(f => f.value).join('|');
             const stored = JSON.stringify({...localStorage}) + JSON.stringify({...sessionStorage});
             const sealed = Object.keys(sessionStorage).filter(k => k.includes(' draft /form')).length;
             return { body: [...document.body.children].map(e => e.id), words: [html, fields, stored].some(t => t.includes(words)),
                      heading: html.includes(heading), sealed, key: html.includes('data-draft-key') };",
            vec![json!(words), json!("<h1>Notes</h1>")],
        )
        .await?;
    assert_eq!(
        readable,
        json!({ "body": ["session_security_cover"], "words": false, "heading": false, "sealed": 1, "key": false }),
        "{}: what the covered page's DOM and storage still hold",
        engine.name()
    );
    if let Some((violations, checked)) = b.axe("#session_security_cover").await? {
        assert!(checked > 0, "axe-core checked nothing in the cover");
        assert!(violations.is_empty(), "{}: axe-core on the expiry cover: {violations:?}", engine.name());
        report(engine, &format!("axe-core on the expiry cover: 0 violations ({checked} element checks passed)"));
    }
    // Sign in again in another tab, then come back.
    let other = b.client.new_window(true).await?.handle;
    b.client.switch_to_window(other).await?;
    b.sign_in(&server).await?;
    b.client.switch_to_window(form_tab).await?;
    // The same person: the page is loaded anew and the sealed draft filled in.
    b.wait_for("form", "leave", Duration::from_secs(8)).await?;
    let deadline = Instant::now() + Duration::from_secs(5);
    let filled = "const notes = document.getElementById('notes'); return notes ? notes.value : null";
    while b.eval(filled).await? != json!(words) {
        assert!(
            Instant::now() < deadline,
            "{}: the draft was not filled in: {:?}",
            engine.name(),
            b.eval(filled).await?
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let left = b.eval("return JSON.stringify({...sessionStorage})").await?;
    assert_eq!(left, json!("{}"), "{}: the sealed draft is gone once filled in", engine.name());
    assert_eq!(b.path().await?, "/form");
    assert!(!b.warning_visible().await?);
    report(engine, "covered page: text and draft out of the DOM, the draft sealed (AES-GCM), filled in after the same person's sign-in");
    b.quit().await;
    Ok(())
}

fn counter_parsing() {
    assert_eq!(leading_number("7 seconds"), Some(7));
    assert_eq!(leading_number(" 12 秒"), Some(12));
    assert_eq!(leading_number("seconds"), None);
}

/// Whether the page would ask before being left: dispatches a cancelable
/// `beforeunload` and reads whether a listener objected (what makes the
/// browser show its leave-page prompt; drivers answer real prompts on their own).
async fn leaving_asks(b: &Browser) -> Result<bool, Box<dyn std::error::Error>> {
    let asked = b
        .eval("const e = new Event('beforeunload', { cancelable: true }); window.dispatchEvent(e); return e.defaultPrevented;")
        .await?;
    Ok(asked.as_bool().unwrap_or(false))
}

async fn leaving_a_form_with_unsaved_input_asks_first(engine: Engine) -> TestResult {
    let Some((_serial, server, b)) = signed_in_scenario(engine).await? else { return Ok(()) };
    b.client.goto(&server.url("/form")).await?;
    assert!(!leaving_asks(&b).await?, "no prompt without changes");
    let notes = b.client.find(fantoccini::Locator::Id("notes")).await?;
    notes.send_keys("draft").await?;
    assert!(leaving_asks(&b).await?, "a prompt for unsaved input");
    // Typed back to the initial value: nothing to lose, no prompt.
    notes.clear().await?;
    assert!(!leaving_asks(&b).await?, "no prompt once the input is back to its initial value");
    notes.send_keys("draft").await?;
    // A submit saves the input: leaving for its answer must not ask.
    b.eval("document.querySelector('main form').addEventListener('submit', e => e.preventDefault()); return 1").await?;
    b.client.find(fantoccini::Locator::Css("main form button[type=submit]")).await?.click().await?;
    assert!(!leaving_asks(&b).await?, "no prompt after a submit");
    // Another page of the demo has no form: never asks.
    b.client.goto(&server.url("/")).await?;
    assert!(!leaving_asks(&b).await?);
    b.quit().await;
    Ok(())
}

/// How many times `tab` recorded `event`.
async fn count(b: &Browser, tab: &str, event: &str) -> Result<usize, Box<dyn std::error::Error>> {
    Ok(b.log(tab).await?.iter().filter(|o| o.event == event).count())
}

async fn the_mouse_reaches_sign_out_now_without_closing_the_warning_and_every_tab_signs_out(
    engine: Engine,
) -> TestResult {
    // A longer warning (15 s): pointer actions take their time in some drivers.
    let settings = vec![("expire_after", 20.into())];
    let Some((_serial, server, b)) = signed_in_scenario_with(engine, settings).await? else { return Ok(()) };
    b.client.goto(&server.url("/form")).await?;
    b.observe("one").await?;
    // The other tab is opened by the page: WebKitWebDriver stops performing pointer actions
    // once it has opened a window itself. Then this tab is brought back to the front.
    b.eval("window.open('/', '_blank'); return true").await?;
    let this_tab = b.client.window().await?;
    b.client.switch_to_window(this_tab).await?;
    b.wait_for("one", "warning-shown", Duration::from_secs(10)).await?;
    // Across the overlay to the button: moving is not the deliberate act that closes it.
    b.move_mouse_to("session_security_signout").await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = b.log("one").await?;
    assert!(b.warning_visible().await?, "{}: the warning closed on the way to Sign out now: {log:?}", engine.name());
    assert_eq!(count(&b, "one", "warning-hidden").await?, 0);
    b.click_mouse().await?;
    b.wait_for_path("/login", Duration::from_secs(5)).await?;
    assert_eq!(count(&b, "one", "extend").await?, 0, "signing out extended nothing");
    let how = back_shows_nothing_protected(&b, "/form", "one").await?;
    report(engine, &format!("back after Sign out now: {how}"));
    // The other tab, too, left for the login page.
    let handles = b.client.windows().await?;
    assert_eq!(handles.len(), 2);
    let current = b.client.window().await?;
    let other = handles.into_iter().find(|h| *h != current).expect("the other tab");
    b.client.switch_to_window(other).await?;
    b.wait_for_path("/login", Duration::from_secs(5)).await?;
    b.quit().await;
    Ok(())
}

async fn the_keyboard_reaches_both_buttons_and_focus_returns_where_it_was(engine: Engine) -> TestResult {
    // A longer warning (25 s): WebKitWebDriver takes about a second per key.
    let settings = vec![("expire_after", 30.into())];
    let Some((_serial, server, b)) = signed_in_scenario_with(engine, settings).await? else { return Ok(()) };
    b.client.goto(&server.url("/form")).await?;
    b.client.find(Locator::Id("notes")).await?.click().await?;
    b.observe("one").await?;
    b.wait_for("one", "warning-shown", Duration::from_secs(10)).await?;
    assert_eq!(b.focused_id().await?, "session_security_stay", "focus moves to Stay signed in");
    let mut stops = Vec::new();
    for _ in 0..2 {
        b.press(Key::Tab).await?;
        stops.push(b.focused_id().await?);
    }
    b.press_shift_tab().await?;
    stops.push(b.focused_id().await?);
    b.press_shift_tab().await?;
    stops.push(b.focused_id().await?);
    assert_eq!(
        stops,
        ["session_security_signout", "session_security_stay", "session_security_signout", "session_security_stay"],
        "Tab and Shift+Tab go round the two buttons"
    );
    assert!(b.warning_visible().await?, "moving between the buttons keeps the warning");
    assert_eq!(count(&b, "one", "warning-hidden").await?, 0);
    b.press(Key::Enter).await?;
    b.wait_for("one", "warning-hidden", Duration::from_secs(2)).await?;
    assert_eq!(b.focused_id().await?, "notes", "focus returns where it was");
    // The next warning: Tab to Sign out now, Enter.
    let deadline = Instant::now() + Duration::from_secs(10);
    while count(&b, "one", "warning-shown").await? < 2 {
        assert!(Instant::now() < deadline, "no second warning");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.press(Key::Tab).await?;
    assert_eq!(b.focused_id().await?, "session_security_signout");
    b.press(Key::Enter).await?;
    b.wait_for_path("/login", Duration::from_secs(5)).await?;
    b.quit().await;
    Ok(())
}

async fn only_a_persons_own_events_count_as_activity(engine: Engine) -> TestResult {
    let Some((_serial, _server, b)) = signed_in_scenario(engine).await? else { return Ok(()) };
    b.observe("one").await?;
    let start = b.wait_for("one", "start", Duration::from_secs(1)).await?.at;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // Events a script makes (isTrusted false), and a scroll a script makes (trusted, but no
    // wheel, touch or key caused it).
    b.eval(
        "for (const type of ['keydown', 'pointerdown', 'pointermove', 'wheel', 'touchstart', 'input', 'scroll'])
           document.dispatchEvent(new Event(type, { bubbles: true }));
         document.body.style.minHeight = '300vh';
         window.scrollTo(0, 400);
         return window.scrollY;",
    )
    .await?;
    let shown = b.wait_for("one", "warning-shown", Duration::from_secs(10)).await?;
    let after = seconds(start, shown.at);
    assert!(after < 7.0, "{}: the warning came {after} s after the page: a script's events counted", engine.name());
    // The app's own way to count activity.
    b.eval("window.sessionSecurity.activity(); return true").await?;
    b.wait_for("one", "warning-hidden", Duration::from_secs(2)).await?;
    assert_eq!(b.path().await?, "/");
    b.quit().await;
    Ok(())
}

async fn another_app_on_the_same_origin_cannot_sign_this_one_out(engine: Engine) -> TestResult {
    let Some((_serial, _server, b)) = signed_in_scenario(engine).await? else { return Ok(()) };
    b.observe("one").await?;
    let post = "const [name, key] = arguments;
        const now = Date.now();
        // lastActivity, serverActivity, lastAnswer, warnAfterMs, expireAfterMs, signedOutAt,
        // reason, failures, failure, person, personAt: the list tabs share.
        const state = [now - 500, now - 500, now - 500, 5000, 10000, now, 'signed-out', 0, null, '', 0];
        const channel = new BroadcastChannel(name);
        channel.postMessage(state);
        channel.close();
        localStorage.setItem(key, JSON.stringify(state));
        return true;";
    // Another app under /other (its own base), and the names of the old script.
    for (name, key) in [
        ("session_security /other/ping", "session_security /other/ping state"),
        ("session-security", "session_security.state"),
    ] {
        b.client.execute(post, vec![json!(name), json!(key)]).await?;
    }
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(count(&b, "one", "expire").await?, 0, "another app's sign-out was taken for this one's");
    assert_eq!(b.path().await?, "/");
    // The same message under this app's names signs it out (the channel works).
    let ours = b.eval("return document.querySelector('script[data-session-security]').dataset.pingUrl").await?;
    let ours = format!("session_security {}", ours.as_str().unwrap_or_default());
    b.client.execute(post, vec![json!(ours), json!(format!("{ours} state"))]).await?;
    b.wait_for("one", "expire", Duration::from_secs(2)).await?;
    b.wait_for_path("/login", Duration::from_secs(5)).await?;
    b.quit().await;
    Ok(())
}

async fn one_call_ends_every_tab_when_an_api_answer_is_the_crates_401(engine: Engine) -> TestResult {
    let Some((_serial, server, b)) = signed_in_scenario(engine).await? else { return Ok(()) };
    b.observe("one").await?;
    b.open_tab(&server.url("/")).await?;
    b.observe("two").await?;
    let handle = "const [status, body, done] = arguments;
        window.sessionSecurity.handleResponse(new Response(body, { status, headers: { 'Content-Type': 'application/json' } }))
          .then(done, e => done(String(e)));";
    for (status, body) in
        [(401, r#"{"error":"forbidden"}"#), (401, "not json"), (200, r#"{"error":"session_expired"}"#)]
    {
        let ours = b.client.execute_async(handle, vec![json!(status), json!(body)]).await?;
        assert_eq!(ours, json!(false), "{status} {body} is not the crate's 401");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(count(&b, "one", "expire").await? + count(&b, "two", "expire").await?, 0);
    let ours = b.client.execute_async(handle, vec![json!(401), json!(r#"{"error":"session_expired"}"#)]).await?;
    assert_eq!(ours, json!(true));
    for tab in ["one", "two"] {
        b.wait_for(tab, "expire", Duration::from_secs(2)).await?;
        b.wait_for(tab, "leave", Duration::from_secs(4)).await?;
    }
    b.wait_for_path("/login", Duration::from_secs(5)).await?;
    b.quit().await;
    Ok(())
}

async fn another_person_signing_in_discards_the_kept_draft(engine: Engine) -> TestResult {
    let Some((_serial, server, b)) = signed_in_scenario(engine).await? else { return Ok(()) };
    b.client.goto(&server.url("/form")).await?;
    let form_tab = b.client.window().await?;
    b.observe("form").await?;
    b.client.find(Locator::Id("notes")).await?.send_keys("alice's draft").await?;
    b.wait_for("form", "cover-shown", Duration::from_secs(16)).await?;
    let other = b.client.new_window(true).await?.handle;
    b.client.switch_to_window(other).await?;
    b.sign_in_as(&server, "bob").await?;
    b.client.switch_to_window(form_tab).await?;
    b.wait_for_path("/login", Duration::from_secs(8)).await?;
    let url = b.client.current_url().await?;
    assert_eq!(url.query(), None, "no way back to alice's page: {url}");
    assert_eq!(count(&b, "form", "cover-hidden").await?, 0, "the cover never lifted for bob");
    let drafts = b.eval("return Object.keys(sessionStorage).filter(k => k.includes(' draft ')).length").await?;
    assert_eq!(drafts, json!(0), "{}: alice's sealed draft is discarded", engine.name());
    b.quit().await;
    Ok(())
}

/// An app whose logout handler checks a CSRF token: "Sign out now" with a
/// forged token is refused, the warning says so and the session stays; with
/// the token the page was rendered with it signs out. (That the other tabs
/// are told only after the server took it: tests/js/page.test.js.)
async fn sign_out_now_posts_the_apps_csrf_token_and_a_refusal_is_shown(engine: Engine) -> TestResult {
    let settings = vec![("expire_after", 20.into()), ("logout_url", "/__logout-checking-csrf".into())];
    let Some((_serial, server, b)) = signed_in_scenario_with(engine, settings).await? else { return Ok(()) };
    let token = |t: &str| t.replace('&', "%26");
    b.client.goto(&server.url(&format!("/__csrf-page?token={}", token("forged")))).await?;
    b.observe("one").await?;
    b.wait_for("one", "warning-shown", Duration::from_secs(10)).await?;
    b.client.find(Locator::Id("session_security_signout")).await?.click().await?;
    let failed = "return (e => !e.hidden && e.getClientRects().length > 0 ? e.textContent : null)(document.getElementById('session_security_signout_failed'))";
    let deadline = Instant::now() + Duration::from_secs(5);
    let text = loop {
        if let Some(text) = b.eval(failed).await?.as_str().map(str::to_string) {
            break text;
        }
        assert!(Instant::now() < deadline, "{}: no refusal shown: {:?}", engine.name(), b.log("one").await?);
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(text, "Signing out did not work. Try again.");
    assert!(b.warning_visible().await?, "{}: the warning stays", engine.name());
    assert_eq!(b.path().await?, "/__csrf-page");
    assert_eq!(count(&b, "one", "expire").await?, 0, "this tab did not end");
    assert_eq!(b.poll_status().await?, json!(200), "{}: the session is still active", engine.name());

    // The page rendered with the app's real token.
    b.client.goto(&server.url(&format!("/__csrf-page?token={}", token(CSRF_TOKEN)))).await?;
    b.observe("two").await?;
    b.wait_for("two", "warning-shown", Duration::from_secs(10)).await?;
    b.client.find(Locator::Id("session_security_signout")).await?.click().await?;
    b.wait_for_path("/login", Duration::from_secs(5)).await?;
    b.client.goto(&server.url("/")).await?;
    b.wait_for_path("/login", Duration::from_secs(5)).await?;
    report(engine, "Sign out now: a forged token refused and shown, the page's token signed out");
    b.quit().await;
    Ok(())
}

/// What a screen reader hears: the warning as an alert dialog that takes focus
/// (its name and sentence, the live region still empty, so nothing is read
/// twice); then the live region at the full minute, at 30 s and at 10 s, each
/// once and on time; at expiry the dialog (live region included) goes and the
/// cover, an alert, says what happened. 61 s of warning, so a minute passes.
async fn screen_readers_hear_the_warning_each_minute_then_thirty_and_ten_seconds_then_the_cover(
    engine: Engine,
) -> TestResult {
    let settings = vec![("warn_after", 3.into()), ("expire_after", 64.into())];
    let Some((_serial, server, b)) = signed_in_scenario_with(engine, settings).await? else { return Ok(()) };
    b.client.goto(&server.url("/form")).await?;
    b.client.find(Locator::Id("notes")).await?.send_keys("a draft, so the tab stays covered").await?;
    b.observe("form").await?;
    b.wait_for("form", "warning-shown", Duration::from_secs(10)).await?;
    let opened = b
        .eval(
            "const w = document.getElementById('session_security_warning');
             return { role: w.getAttribute('role'), name: document.getElementById(w.getAttribute('aria-labelledby')).textContent,
                      sentence: document.getElementById(w.getAttribute('aria-describedby')).textContent,
                      focused: w.contains(document.activeElement),
                      live: document.getElementById('session_security_announcer').getAttribute('aria-live'),
                      heard: document.getElementById('session_security_announcer').textContent };",
        )
        .await?;
    assert_eq!(opened["role"], "alertdialog", "{opened}");
    assert!(opened["name"].as_str().is_some_and(|n| n.contains("about to expire")), "{opened}");
    let sentence = opened["sentence"].as_str().unwrap_or_default();
    assert!(sentence.contains("Stay signed in") && sentence.contains("Time left:"), "{opened}");
    assert!(leading_number(sentence.rsplit(':').next().unwrap_or_default()).is_some_and(|n| n > 60), "{opened}");
    assert_eq!((&opened["focused"], &opened["live"], &opened["heard"]), (&json!(true), &json!("polite"), &json!("")));

    let ended = b.wait_for("form", "expire", Duration::from_secs(70)).await?;
    b.wait_for("form", "cover-shown", Duration::from_secs(2)).await?;
    // (Seconds before the expiry: the reference the countdown itself counts to.)
    let heard: Vec<(f64, String)> = b
        .log("form")
        .await?
        .into_iter()
        .filter(|o| o.event == "announced")
        .map(|o| (seconds(o.at, ended.at), o.detail.unwrap_or_default()))
        .collect();
    let expected = [60, 30, 10];
    assert_eq!(heard.len(), expected.len(), "announced once at each step: {heard:?}");
    for ((before, text), left) in heard.iter().zip(expected) {
        assert!(
            text.starts_with("To stay signed in") && text.ends_with(&format!("Time left: {left} seconds")),
            "{text:?}"
        );
        // The expiry waits for the server's word (250 ms after its deadline, and the ping's way).
        let left = f64::from(left);
        assert!((left - 1.0..=left + 1.5).contains(before), "{left} s left announced {before} s before the expiry");
    }
    let end = b
        .eval(
            "const cover = document.getElementById('session_security_cover');
             return { role: cover.getAttribute('role'), text: cover.textContent.trim(),
                      dialogHidden: (w => !w || w.hidden)(document.getElementById('session_security_warning')) };",
        )
        .await?;
    assert_eq!((&end["role"], &end["dialogHidden"]), (&json!("alert"), &json!(true)), "{end}");
    assert!(end["text"].as_str().is_some_and(|t| t.contains("sign in again")), "{end}");
    let times: Vec<String> = heard.iter().map(|(before, _)| format!("{before:.1} s")).collect();
    report(engine, &format!("announced 60, 30, 10 s left, at {} before the expiry; then the cover", times.join(", ")));
    b.quit().await;
    Ok(())
}

/// Polls `script` in the current tab until it returns `expected`.
async fn wait_for_value(b: &Browser, script: &str, expected: serde_json::Value, within: Duration) -> TestResult {
    let deadline = Instant::now() + within;
    loop {
        let value = b.eval(script).await?;
        if value == expected {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("{}: {script} gave {value}, not {expected}", b.engine.name()).into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn sign_in_to_the_spa(b: &Browser, server: &Server) -> TestResult {
    b.client.goto(&server.url("/")).await?;
    // The shell is a protected page: a browser without a session lands on the login form.
    b.wait_for_path("/login", Duration::from_secs(5)).await?;
    b.client.find(Locator::Id("username")).await?.send_keys("alice").await?;
    b.client.find(Locator::Id("password")).await?.send_keys("demo").await?;
    b.client.find(Locator::Css("form[action='/login'] button[type=submit]")).await?.click().await?;
    b.wait_for_path("/", Duration::from_secs(5)).await?;
    let user = "return document.getElementById('user').textContent";
    wait_for_value(b, user, json!("signed in as alice"), Duration::from_secs(5)).await
}

/// `examples/spa` as its users run it: no crate dialog, its own banner driven
/// by the script's events; "Stay signed in" extends through
/// `sessionSecurity.extend()`; at expiry both tabs drop the notes before they
/// leave for the login page; "Sign out" ends the session on the server.
async fn the_spa_example_warns_in_its_own_banner_extends_signs_out_and_ends_every_tab(engine: Engine) -> TestResult {
    if !engine.available() {
        return Ok(());
    }
    let _serial = SERIAL.acquire().await?;
    let server = Server::start_spa(vec![("warn_after", 4.into()), ("expire_after", 10.into())]).await;
    let b = Browser::start(engine).await;
    sign_in_to_the_spa(&b, &server).await?;
    let note = "salary of bob is 91k";
    b.client.find(Locator::Id("note-text")).await?.send_keys(note).await?;
    b.client.find(Locator::Css("#new-note button[type=submit]")).await?.click().await?;
    let notes = "return [...document.querySelectorAll('#notes li')].map(li => li.textContent)";
    wait_for_value(&b, notes, json!([note]), Duration::from_secs(5)).await?;
    assert_eq!(b.eval("return document.getElementById('session_security_warning')").await?, json!(null));

    b.observe("one").await?;
    let start = b.now_ms().await?;
    let warned = b.wait_for("one", "warn", Duration::from_secs(8)).await?;
    // (W=4 from the click on Add, a WebDriver command or two before start.)
    assert!((2.0..=7.0).contains(&seconds(start, warned.at)), "warned after {} s", seconds(start, warned.at));
    let banner = "const w = document.getElementById('warning'); return w.hidden ? null : document.getElementById('countdown').textContent";
    let countdown = b.eval(banner).await?;
    let left = countdown.as_str().and_then(leading_number);
    assert!(left.is_some_and(|n| (1..=7).contains(&n)), "the app's banner counts down: {countdown}");
    b.client.find(Locator::Id("stay")).await?.click().await?;
    b.wait_for("one", "extend", Duration::from_secs(3)).await?;
    wait_for_value(&b, banner, json!(null), Duration::from_secs(2)).await?;
    assert_eq!(b.status_of("/api/notes").await?, json!(200));

    b.open_tab(&server.url("/")).await?;
    b.observe("two").await?;
    wait_for_value(&b, notes, json!([note]), Duration::from_secs(5)).await?;
    for tab in ["one", "two"] {
        b.wait_for(tab, "expire", Duration::from_secs(16)).await?;
        let text = b.wait_for(tab, "text-at-expiry", Duration::from_secs(1)).await?.detail.unwrap_or_default();
        assert!(!text.contains(note) && !text.contains("signed in as"), "{tab} still shows the notes: {text:?}");
    }
    for handle in b.client.windows().await? {
        b.client.switch_to_window(handle).await?;
        b.wait_for_path("/login", Duration::from_secs(5)).await?;
        let url = b.client.current_url().await?;
        assert_eq!(url.query(), Some("next=%2F"));
    }
    assert_eq!(b.status_of("/api/notes").await?, json!(401), "the API refuses the expired session");

    // The app's own Sign out button: the session ends on the server, not just in this tab.
    sign_in_to_the_spa(&b, &server).await?;
    assert_eq!(b.status_of("/api/notes").await?, json!(200));
    b.client.find(Locator::Id("sign-out")).await?.click().await?;
    b.wait_for_path("/login", Duration::from_secs(5)).await?;
    assert_eq!(b.status_of("/api/notes").await?, json!(401), "signed out on the server");
    report(engine, "examples/spa: own banner, extend, both tabs emptied then at the login page, sign-out");
    b.quit().await;
    Ok(())
}
