//! Real browsers driving the demo: a Rocket server on 127.0.0.1 (port 0), the
//! engine's WebDriver server on a free port, and fantoccini between them.
//! Chromium and Firefox run headless; WebKitGTK has no headless mode, so it
//! gets an Xvfb display of its own, started and ended with the browser.

use std::io::{BufRead, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use rocket::figment::value::Value;
use rocket::http::Header;
use rocket_session_security::SessionSecurity;
use serde_json::json;

use crate::common::{app, serve, settings};
use crate::spa;

/// An example app: its fairing and settings in, the app out.
type AppFn = fn(SessionSecurity, rocket::figment::Figment) -> rocket::Rocket<rocket::Build>;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A browser engine the scenarios run in, through its WebDriver server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Debian's chromium + chromedriver.
    Chromium,
    /// firefox-esr + geckodriver (`cargo install geckodriver --locked`).
    Firefox,
    /// WebKitGTK's MiniBrowser + WebKitWebDriver (webkit2gtk-driver), on an Xvfb display.
    WebKit,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Chromium => "chromium",
            Engine::Firefox => "firefox",
            Engine::WebKit => "webkit",
        }
    }

    /// The WebDriver server, if installed.
    fn driver(self) -> Option<PathBuf> {
        match self {
            Engine::Chromium => existing("/usr/bin/chromedriver"),
            Engine::Firefox => on_path("geckodriver").or_else(|| {
                std::env::var_os("HOME").and_then(|home| existing(Path::new(&home).join(".cargo/bin/geckodriver")))
            }),
            Engine::WebKit => existing("/usr/bin/WebKitWebDriver"),
        }
    }

    /// The browser binary, if installed.
    fn browser(self) -> Option<PathBuf> {
        match self {
            Engine::Chromium => existing("/usr/bin/chromium"),
            Engine::Firefox => existing("/usr/bin/firefox-esr"),
            // /usr/lib/<triplet>/webkit2gtk-4.<n>/MiniBrowser
            Engine::WebKit => std::fs::read_dir("/usr/lib").ok()?.flatten().find_map(|triplet| {
                std::fs::read_dir(triplet.path()).ok()?.flatten().find_map(|dir| {
                    let name = dir.file_name().to_string_lossy().into_owned();
                    if name.starts_with("webkit2gtk-4.") {
                        existing(dir.path().join("MiniBrowser"))
                    } else {
                        None
                    }
                })
            }),
        }
    }

    /// Whether the engine, its driver (and for WebKit a display) are installed.
    pub fn installed(self) -> bool {
        self.missing().is_none()
    }

    /// How to install what this engine needs.
    pub fn install_hint(self) -> &'static str {
        match self {
            Engine::Chromium => "apt-get install chromium chromium-driver",
            Engine::Firefox => "apt-get install firefox-esr; cargo install geckodriver --locked",
            Engine::WebKit => "apt-get install webkit2gtk-driver xvfb",
        }
    }

    /// What is missing for this engine, as an install hint; `None` when it can run.
    fn missing(self) -> Option<&'static str> {
        let display = self != Engine::WebKit || on_path("Xvfb").is_some();
        let ready = self.driver().is_some() && self.browser().is_some() && display;
        (!ready).then(|| self.install_hint())
    }

    /// `true` when this engine's scenarios can run. Without the engine they
    /// are skipped with a `SKIPPED:` line (written past the test harness's
    /// output capture, so it shows), except under CI, where they fail.
    pub fn available(self) -> bool {
        let Some(hint) = self.missing() else { return true };
        assert!(std::env::var_os("CI").is_none(), "CI is set but the {} engine is missing: {hint}", self.name());
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "SKIPPED: the {} browser tests ({hint})", self.name());
        false
    }
}

fn existing(path: impl AsRef<Path>) -> Option<PathBuf> {
    let path = path.as_ref();
    path.is_file().then(|| path.to_path_buf())
}

fn on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).find_map(|dir| existing(dir.join(program)))
}

/// The demo, served for real, with counters the tests read.
pub struct Server {
    pub base: String,
    pings: Arc<AtomicUsize>,
    csp_reports: Arc<AtomicUsize>,
    shutdown: rocket::Shutdown,
}

impl Server {
    /// The demo with W=5, E=10 and `extra` settings.
    pub async fn start(extra: Vec<(&str, Value)>) -> Server {
        Server::launch(app::rocket_with, extra, false).await
    }

    /// `examples/spa` (its own login form, banner and API) with W=5, E=10
    /// and `extra` settings.
    pub async fn start_spa(extra: Vec<(&str, Value)>) -> Server {
        Server::launch(spa::rocket_with, extra, false).await
    }

    /// The same, with pages where `navigator.locks` is undefined (a script
    /// the harness puts before the crate's), so the script elects its leader
    /// with the localStorage lease, in a real browser.
    pub async fn start_without_web_locks(extra: Vec<(&str, Value)>) -> Server {
        Server::launch(app::rocket_with, extra, true).await
    }

    async fn launch(app: AppFn, extra: Vec<(&str, Value)>, hide_web_locks: bool) -> Server {
        let pings = Arc::new(AtomicUsize::new(0));
        let csp_reports = Arc::new(AtomicUsize::new(0));
        let (counted_pings, counted_reports) = (pings.clone(), csp_reports.clone());
        let figment = settings(extra).merge(("workers", 2));
        let rocket = app(SessionSecurity::fairing(), figment)
            .attach(rocket::fairing::AdHoc::on_request("count pings", move |req, _| {
                if req.method() == rocket::http::Method::Post && req.uri().path().ends_with("/ping") {
                    counted_pings.fetch_add(1, Ordering::SeqCst);
                }
                if req.uri().path() == "/__csp-report" {
                    counted_reports.fetch_add(1, Ordering::SeqCst);
                }
                Box::pin(async {})
            }))
            // The demo's policy, plus a report address so violations are counted here.
            .attach(rocket::fairing::AdHoc::on_response("CSP reports", |_, res| {
                Box::pin(async move {
                    res.set_header(Header::new(
                        "Content-Security-Policy",
                        "default-src 'self'; report-uri /__csp-report",
                    ));
                })
            }))
            .attach(rocket::fairing::AdHoc::on_response("no Web Locks", move |_, res| {
                Box::pin(hide_locks(res, hide_web_locks))
            }))
            .mount("/", rocket::routes![csp_report, inline_script, no_web_locks, csrf_page, logout_checking_csrf]);
        let (port, shutdown) = serve(rocket).await;
        Server { base: format!("http://127.0.0.1:{port}"), pings, csp_reports, shutdown }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The port the demo itself listens on (what a proxy in front passes to).
    pub fn port(&self) -> u16 {
        self.base.rsplit(':').next().and_then(|p| p.parse().ok()).expect("a port in the base URL")
    }

    /// From now on the browser reaches the demo at `origin` (a proxy in front of it).
    pub fn behind(&mut self, origin: String) {
        self.base = origin;
    }

    pub fn pings(&self) -> usize {
        self.pings.load(Ordering::SeqCst)
    }

    pub fn csp_reports(&self) -> usize {
        self.csp_reports.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.clone().notify();
    }
}

/// With `hide_web_locks`, pages load /__no-web-locks.js before the crate's
/// script, so the lease fallback runs in a real browser.
async fn hide_locks(res: &mut rocket::Response<'_>, hide_web_locks: bool) {
    if !hide_web_locks || !res.content_type().is_some_and(|t| t.is_html()) {
        return;
    }
    let Ok(body) = res.body_mut().to_string().await else { return };
    // Before the crate's script tag (its URL may be HTML-escaped: find it by its marker).
    let crate_script = body.find("data-session-security").and_then(|at| body[..at].rfind("<script"));
    let body = match crate_script {
        Some(at) => format!("{}<script src=\"/__no-web-locks.js\"></script>{}", &body[..at], &body[at..]),
        None => body,
    };
    res.set_sized_body(body.len(), std::io::Cursor::new(body));
}

/// Takes Web Locks away from the page, as in a browser without them.
#[rocket::get("/__no-web-locks.js")]
fn no_web_locks() -> (rocket::http::ContentType, &'static str) {
    let script = "Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined, configurable: true });";
    (rocket::http::ContentType::JavaScript, script)
}

#[rocket::post("/__csp-report", data = "<_report>")]
fn csp_report(_report: Vec<u8>) {}

/// A negative control: a page that breaks the policy, to prove reports arrive.
#[rocket::get("/__inline")]
fn inline_script() -> rocket::response::content::RawHtml<&'static str> {
    rocket::response::content::RawHtml("<!doctype html><p style=\"color:red\">x</p><script>document.title='x'</script>")
}

/// The token [`logout_checking_csrf`] takes.
pub const CSRF_TOKEN: &str = "s3cret&token";

/// A protected page whose snippet carries `token` as the CSRF token of the
/// logout request (as an app with CSRF protection renders it).
#[rocket::get("/__csrf-page?<token>")]
fn csrf_page(
    session: rocket_session_security::ActiveSession,
    token: &str,
) -> rocket::response::content::RawHtml<String> {
    let snippet = session.snippet().logout_csrf_token("csrf_token", token);
    rocket::response::content::RawHtml(format!("<!doctype html><title>CSRF</title><main><p>Ledger</p></main>{snippet}"))
}

/// A logout handler with CSRF protection: signs out only with [`CSRF_TOKEN`]
/// in the form field `csrf_token`, else 403 (configure `logout_url` to it).
#[rocket::post("/__logout-checking-csrf", data = "<form>")]
fn logout_checking_csrf(
    form: rocket::form::Form<std::collections::HashMap<String, String>>,
    tracker: rocket_session_security::SessionTracker<'_>,
) -> Result<rocket::response::Redirect, rocket::http::Status> {
    if form.get("csrf_token").map(String::as_str) != Some(CSRF_TOKEN) {
        return Err(rocket::http::Status::Forbidden);
    }
    tracker.sign_out();
    Ok(rocket::response::Redirect::to("/login"))
}

/// One entry of a tab's record.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Observed {
    pub event: String,
    pub at: i64,
    pub detail: Option<String>,
}

/// A WebDriver server plus one browser session; all end on drop.
pub struct Browser {
    pub client: Client,
    pub engine: Engine,
    driver: Child,
    display: Option<Child>,
    _profile: TempDir,
}

impl Browser {
    pub async fn start(engine: Engine) -> Browser {
        let port = free_port();
        let profile = TempDir::new(engine.name());
        let display = (engine == Engine::WebKit).then(start_xvfb);
        let driver_path = engine.driver().expect("the engine is available");
        let mut driver = Command::new(&driver_path);
        match engine {
            Engine::Chromium => driver.arg(format!("--port={port}")),
            Engine::Firefox => driver.args(["--host", "127.0.0.1", "--port", &port.to_string()]),
            Engine::WebKit => driver.arg(format!("--port={port}")),
        };
        if let Some((_, number)) = &display {
            driver.env("DISPLAY", format!(":{number}"));
        }
        let driver = driver.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("the WebDriver server starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "{driver_path:?} did not listen within 20 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let binary = engine.browser().expect("the engine is available");
        let caps = match engine {
            Engine::Chromium => {
                let args = [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-dev-shm-usage",
                    "--window-size=1200,900",
                ]
                .iter()
                .map(|a| a.to_string())
                .chain([format!("--user-data-dir={}", profile.0.display())])
                .collect::<Vec<_>>();
                json!({ "goog:chromeOptions": { "binary": binary, "args": args } })
            }
            Engine::Firefox => json!({
                "moz:firefoxOptions": {
                    "binary": binary,
                    "args": ["-headless", "--width=1200", "--height=900"],
                    "prefs": {
                        // Tabs opened by the test script (window.open from WebDriver).
                        "dom.disable_open_during_load": false,
                        "dom.popup_maximum": 100,
                        // Background tabs keep real timers, as in Chromium headless.
                        "dom.min_background_timeout_value": 4,
                        "dom.timeout.enable_budget_timer_throttling": false,
                    },
                },
            }),
            Engine::WebKit => json!({
                "webkitgtk:browserOptions": {
                    "binary": binary,
                    "args": ["--automation", "--javascript-can-open-windows-automatically=true"],
                },
            }),
        };
        let mut caps = caps.as_object().expect("an object").clone();
        caps.insert("unhandledPromptBehavior".into(), json!("accept"));
        // The certificate of the TLS proxy in front of the demo is made at test time.
        caps.insert("acceptInsecureCerts".into(), json!(true));
        let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        builder.capabilities(caps);
        let client = builder
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| panic!("a {} browser session: {e}", engine.name()));
        if engine != Engine::Chromium {
            let _ = client.set_window_size(1200, 900).await;
        }
        Browser { client, engine, driver, display: display.map(|(child, _)| child), _profile: profile }
    }

    /// Signs in as alice through the demo's login form, landing on `/`.
    pub async fn sign_in(&self, server: &Server) -> TestResult {
        self.sign_in_as(server, "alice").await
    }

    /// Signs in as `user` through the demo's login form, landing on `/`.
    pub async fn sign_in_as(&self, server: &Server, user: &str) -> TestResult {
        let c = &self.client;
        c.goto(&server.url("/login")).await?;
        c.find(Locator::Id("id_username")).await?.send_keys(user).await?;
        c.find(Locator::Id("id_password")).await?.send_keys("demo").await?;
        c.find(Locator::Css("form[action='/login'] button[type=submit]")).await?.click().await?;
        self.wait_for_path("/", Duration::from_secs(5)).await?;
        Ok(())
    }

    /// Opens `url` in a new tab and switches to it.
    pub async fn open_tab(&self, url: &str) -> Result<fantoccini::wd::WindowHandle, fantoccini::error::CmdError> {
        let tab = self.client.new_window(true).await?;
        self.client.switch_to_window(tab.handle.clone()).await?;
        self.client.goto(url).await?;
        Ok(tab.handle)
    }

    pub async fn eval(&self, script: &str) -> Result<serde_json::Value, fantoccini::error::CmdError> {
        self.client.execute(script, vec![]).await
    }

    /// Whether the warning is on screen: the dialog or one of its parts has a
    /// box (the wrapper itself has none: its parts are `position: fixed`).
    pub async fn warning_visible(&self) -> Result<bool, fantoccini::error::CmdError> {
        let v = self
            .eval(
                "const w = document.getElementById('session_security_warning');
                 return !!w && [w, ...w.querySelectorAll('*')].some(e => e.getClientRects().length > 0 && getComputedStyle(e).visibility === 'visible');",
            )
            .await?;
        Ok(v.as_bool().unwrap_or(false))
    }

    /// The id of the focused element ('' for none or the body).
    pub async fn focused_id(&self) -> Result<String, fantoccini::error::CmdError> {
        let v = self.eval("return (document.activeElement && document.activeElement.id) || ''").await?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// Presses and releases `key` (a character or a [`fantoccini::key::Key`])
    /// on the keyboard, as a person would: whatever has focus gets it.
    pub async fn press(&self, key: impl Into<char>) -> TestResult {
        let key = key.into();
        let keys =
            KeyActions::new("keyboard".into()).then(KeyAction::Down { value: key }).then(KeyAction::Up { value: key });
        self.client.perform_actions(keys).await?;
        Ok(())
    }

    /// Shift+Tab.
    pub async fn press_shift_tab(&self) -> TestResult {
        let (shift, tab) = (char::from(Key::Shift), char::from(Key::Tab));
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: shift })
            .then(KeyAction::Down { value: tab })
            .then(KeyAction::Up { value: tab })
            .then(KeyAction::Up { value: shift });
        self.client.perform_actions(keys).await?;
        Ok(())
    }

    /// Moves the mouse from near the top left corner to the middle of the
    /// element `id`, in five steps over about half a second, as a hand would.
    pub async fn move_mouse_to(&self, id: &str) -> TestResult {
        let target = self.client.find(Locator::Id(id)).await?;
        let (x, y, width, height) = target.rectangle().await?;
        let (to_x, to_y) = (x + width / 2.0, y + height / 2.0);
        let mut mouse =
            MouseActions::new("mouse".into()).then(PointerAction::MoveTo { duration: None, x: 5.0, y: 5.0 });
        for step in 1..=5 {
            let f = f64::from(step) / 5.0;
            let (px, py) = (5.0 + (to_x - 5.0) * f, 5.0 + (to_y - 5.0) * f);
            // Steps with pauses rather than timed moves: WebKitWebDriver never ends a timed move.
            mouse = mouse
                .then(PointerAction::MoveTo { duration: None, x: px.round(), y: py.round() })
                .then(PointerAction::Pause { duration: Duration::from_millis(100) });
        }
        self.client.perform_actions(mouse).await?;
        Ok(())
    }

    /// Presses and releases the left mouse button where the mouse is.
    pub async fn click_mouse(&self) -> TestResult {
        let mouse = MouseActions::new("mouse".into())
            .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
            .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
        self.client.perform_actions(mouse).await?;
        Ok(())
    }

    /// Runs axe-core (node_modules/axe-core, from `npm ci`; injected by the
    /// driver, so the page's CSP does not apply) on the elements `selector`
    /// matches: the ids of the rules they violate, and how many elements axe
    /// checked there (so an empty result cannot come from an empty page).
    /// `None` when axe-core is not installed outside CI.
    pub async fn axe(&self, selector: &str) -> Result<Option<(Vec<String>, u64)>, Box<dyn std::error::Error>> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("node_modules/axe-core/axe.min.js");
        let Ok(source) = std::fs::read_to_string(&path) else {
            assert!(std::env::var_os("CI").is_none(), "CI is set but {path:?} is missing: run `npm ci`");
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "SKIPPED: the axe-core check in {} (npm ci installs axe-core)", self.engine.name());
            return Ok(None);
        };
        self.client.execute(&source, vec![]).await?;
        let result = self
            .client
            .execute_async(
                "const [selector, done] = arguments;
                 axe.run({ include: [selector] }, { resultTypes: ['violations'] }).then(
                   r => done({ violations: r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')),
                               checked: r.passes.reduce((n, p) => n + p.nodes.length, 0) + r.violations.length }),
                   e => done({ error: String(e) }));",
                vec![json!(selector)],
            )
            .await?;
        if let Some(error) = result.get("error") {
            return Err(format!("axe-core failed: {error}").into());
        }
        let violations = result["violations"]
            .as_array()
            .map(|v| v.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        Ok(Some((violations, result["checked"].as_u64().unwrap_or(0))))
    }

    /// A PNG of the current tab, saved as target/screenshots/<name>-<engine>.png,
    /// and also as docs/<name>-<engine>.png when UPDATE_SCREENSHOTS is set.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf, Box<dyn std::error::Error>> {
        let png = self.client.screenshot().await?;
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let file = format!("{name}-{}.png", self.engine.name());
        let dir = root.join("target/screenshots");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(&file), &png)?;
        if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
            std::fs::write(root.join("docs").join(&file), &png)?;
        }
        Ok(dir.join(file))
    }

    pub async fn path(&self) -> Result<String, fantoccini::error::CmdError> {
        Ok(self.client.current_url().await?.path().to_string())
    }

    pub async fn wait_for_path(&self, path: &str, within: Duration) -> Result<(), String> {
        let deadline = Instant::now() + within;
        loop {
            if self.path().await.map_err(|e| e.to_string())? == path {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("{}: not on {path} within {within:?}", self.engine.name()));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Starts recording what `tab` shows (see observer.js).
    pub async fn observe(&self, tab: &str) -> TestResult {
        self.client.execute(include_str!("observer.js"), vec![json!(tab)]).await?;
        Ok(())
    }

    /// What `tab` recorded so far, read from whichever tab is current.
    pub async fn log(&self, tab: &str) -> Result<Vec<Observed>, Box<dyn std::error::Error>> {
        let raw =
            self.client.execute("return localStorage.getItem('obs:' + arguments[0]) || '[]'", vec![json!(tab)]).await?;
        Ok(serde_json::from_str(raw.as_str().unwrap_or("[]"))?)
    }

    /// Waits until `tab` recorded `event`; its time (ms since the epoch).
    pub async fn wait_for(
        &self,
        tab: &str,
        event: &str,
        within: Duration,
    ) -> Result<Observed, Box<dyn std::error::Error>> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(found) = self.log(tab).await?.into_iter().find(|o| o.event == event) {
                return Ok(found);
            }
            if Instant::now() > deadline {
                let log = self.log(tab).await?;
                return Err(format!("{}: {tab}: no {event} within {within:?}; log: {log:?}", self.engine.name()).into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The status of a `fetch('/poll')` from the page: what the server says of the session.
    pub async fn poll_status(&self) -> Result<serde_json::Value, fantoccini::error::CmdError> {
        self.status_of("/poll").await
    }

    /// The status a JSON `fetch` of `path` gets from the current page (or the error's text).
    pub async fn status_of(&self, path: &str) -> Result<serde_json::Value, fantoccini::error::CmdError> {
        self.client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 fetch(arguments[0], { headers: { Accept: 'application/json' } }).then(r => done(r.status), e => done(String(e)));",
                vec![json!(path)],
            )
            .await
    }

    /// The browser's clock, in ms since the epoch (what the observer uses).
    pub async fn now_ms(&self) -> Result<i64, fantoccini::error::CmdError> {
        Ok(self.eval("return Date.now()").await?.as_i64().unwrap_or_default())
    }

    /// Presses a key on the page, as a person would.
    pub async fn press_key(&self) -> TestResult {
        self.client.find(Locator::Css("body")).await?.send_keys(" ").await?;
        Ok(())
    }

    /// Ends the browser session; the WebDriver server (and Xvfb) end on drop.
    pub async fn quit(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        for child in [Some(&mut self.driver), self.display.as_mut()].into_iter().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// An Xvfb server on a display number it picks itself (`-displayfd`).
fn start_xvfb() -> (Child, u32) {
    let mut child = Command::new("Xvfb")
        .args(["-displayfd", "1", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb starts");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("Xvfb's stdout");
    std::io::BufReader::new(stdout).read_line(&mut line).expect("Xvfb names its display");
    let number = line.trim().parse().unwrap_or_else(|_| panic!("Xvfb printed {line:?}, not a display number"));
    (child, number)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// A fresh browser profile directory, removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(engine: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("rss-{engine}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a profile directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
