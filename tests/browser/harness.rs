//! Real headless Chromium driving the demo: a Rocket server on 127.0.0.1
//! (port 0), chromedriver on a free port, and fantoccini between them.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use rocket::figment::value::Value;
use rocket::http::Header;
use rocket_session_security::SessionSecurity;
use serde_json::json;

use crate::common::{app, serve, settings};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// `true` when the browser tests can run; without Chromium they are skipped
/// with a notice, except under CI, where they fail.
pub fn browser_available() -> bool {
    let present = std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
    if !present {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but {CHROMIUM} or {CHROMEDRIVER} is missing: install chromium and chromium-driver"
        );
        eprintln!(
            "SKIPPED: browser tests need {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver)"
        );
    }
    present
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
        let pings = Arc::new(AtomicUsize::new(0));
        let csp_reports = Arc::new(AtomicUsize::new(0));
        let (counted_pings, counted_reports) = (pings.clone(), csp_reports.clone());
        let figment = settings(extra).merge(("workers", 2));
        let rocket = app::rocket_with(SessionSecurity::fairing(), figment)
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
            .mount("/", rocket::routes![csp_report, inline_script]);
        let (port, shutdown) = serve(rocket).await;
        Server { base: format!("http://127.0.0.1:{port}"), pings, csp_reports, shutdown }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
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

#[rocket::post("/__csp-report", data = "<_report>")]
fn csp_report(_report: Vec<u8>) {}

/// A negative control: a page that breaks the policy, to prove reports arrive.
#[rocket::get("/__inline")]
fn inline_script() -> rocket::response::content::RawHtml<&'static str> {
    rocket::response::content::RawHtml("<!doctype html><p style=\"color:red\">x</p><script>document.title='x'</script>")
}

/// One entry of a tab's record.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Observed {
    pub event: String,
    pub at: i64,
    pub detail: Option<String>,
}

/// chromedriver plus one browser session; both end on drop.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: TempDir,
}

impl Browser {
    pub async fn start() -> Browser {
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen within 20 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = TempDir::new();
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
        let caps = json!({
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
            "unhandledPromptBehavior": "accept",
        });
        let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        builder.capabilities(caps.as_object().expect("an object").clone());
        let client = builder.connect(&format!("http://127.0.0.1:{port}")).await.expect("a browser session");
        Browser { client, driver, _profile: profile }
    }

    /// Signs in through the demo's login form, landing on `/`.
    pub async fn sign_in(&self, server: &Server) -> TestResult {
        let c = &self.client;
        c.goto(&server.url("/login")).await?;
        c.find(Locator::Id("id_username")).await?.send_keys("alice").await?;
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

    pub async fn warning_visible(&self) -> Result<bool, fantoccini::error::CmdError> {
        let v = self
            .eval("const w = document.getElementById('session_security_warning'); return !!w && !w.hidden && getComputedStyle(w).display !== 'none';")
            .await?;
        Ok(v.as_bool().unwrap_or(false))
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
                return Err(format!("not on {path} within {within:?}"));
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
                return Err(format!("{tab}: no {event} within {within:?}; log: {:?}", self.log(tab).await?).into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
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

    /// Ends the browser session; chromedriver ends on drop.
    pub async fn quit(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// A fresh browser profile directory, removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("rss-chromium-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a profile directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
