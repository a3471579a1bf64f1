//! The browser script outside the browser: its node tests (pure timing core,
//! lease, activity filter), run on the readable source and on the minified
//! build that browsers get; the check that the committed build is what the
//! sources produce; and the size budget of script + stylesheet.

use std::io::Write;
use std::path::Path;
use std::process::Command;

/// 4.5 KiB: past 4 KiB since the client stopped taking a failed ping for an answer (issue 14:
/// retries with backoff, events, the dialog's unreached text, why a session ended).
const BUDGET: usize = 4608;

/// Prints past the test harness's output capture, so a skip shows in `cargo test`.
fn notice(line: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

fn tool_available(tool: &str) -> bool {
    let found = Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "CI is set but `{tool}` is missing");
        notice(&format!("SKIPPED: `{tool}` is not installed"));
    }
    found
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn node_tests(script: &str) {
    let files: Vec<String> = std::fs::read_dir(root().join("tests/js"))
        .expect("tests/js exists")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".test.js"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    assert!(files.len() >= 3, "node tests missing in tests/js: {files:?}");
    let out = Command::new("node")
        .arg("--test")
        .args(&files)
        .env("SESSION_SECURITY_SCRIPT", script)
        .current_dir(root())
        .output()
        .expect("node runs");
    let report = String::from_utf8_lossy(&out.stdout);
    println!("{report}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "node tests failed on the {script} script:\n{report}");
    assert!(report.contains("# fail 0"), "{report}");
    assert!(!report.contains("# pass 0"), "no node test ran:\n{report}");
}

#[test]
fn script_core_passes_its_node_tests() {
    if tool_available("node") {
        node_tests("source");
    }
}

#[test]
fn the_minified_script_passes_the_same_node_tests() {
    if tool_available("node") {
        node_tests("dist");
    }
}

/// `npm run check`: the committed `static/dist/` is exactly what the pinned
/// minifiers make of the sources. Needs `npm ci` (node_modules); skipped
/// visibly without it, except under CI.
#[test]
fn the_committed_build_is_what_the_sources_produce() {
    if !tool_available("node") {
        return;
    }
    if !root().join("node_modules/terser").is_dir() || !root().join("node_modules/esbuild").is_dir() {
        assert!(std::env::var_os("CI").is_none(), "CI is set but node_modules is missing: run `npm ci`");
        notice("SKIPPED: the build check needs `npm ci` (node_modules/terser, node_modules/esbuild)");
        return;
    }
    let out = Command::new("node")
        .args(["tools/build-client.mjs", "--check"])
        .current_dir(root())
        .output()
        .expect("node runs");
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

fn gzipped_len(bytes: &[u8]) -> usize {
    let mut child = Command::new("gzip")
        .args(["-9", "-c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip runs");
    child.stdin.take().expect("stdin").write_all(bytes).expect("gzip reads");
    let out = child.wait_with_output().expect("gzip ends");
    assert!(out.status.success());
    out.stdout.len()
}

/// What browsers receive: the assets as the crate serves them.
fn served(path: &str) -> Vec<u8> {
    let figment = rocket::Config::figment().merge(("log_level", "off"));
    let rocket = rocket::custom(figment).attach(rocket_session_security::SessionSecurity::fairing());
    let client = rocket::local::blocking::Client::untracked(rocket).expect("launches");
    let res = client.get(format!("/session-security/static/{path}")).dispatch();
    assert_eq!(res.status().code, 200, "{path}");
    res.into_bytes().expect("a body")
}

#[test]
fn script_and_stylesheet_fit_in_4_5_kb_gzipped() {
    if !tool_available("gzip") {
        return;
    }
    let script = served("session-security.js");
    let stylesheet = served("session-security.css");
    assert_eq!(script, std::fs::read(root().join("static/dist/session-security.min.js")).expect("built"));
    assert_eq!(stylesheet, std::fs::read(root().join("static/dist/session-security.min.css")).expect("built"));
    let (js, css) = (gzipped_len(&script), gzipped_len(&stylesheet));
    notice(&format!(
        "client size as served, gzip -9: script {js} B + stylesheet {css} B = {} B (budget {BUDGET} B)",
        js + css
    ));
    assert!(js + css <= BUDGET, "script {js} B + stylesheet {css} B exceed {BUDGET} B gzipped");
}

/// The opt-in modules, each loaded besides the script only by pages that need it, each within
/// its own budget: the drafts module (`keep_unsaved_forms`) and the last-tab module
/// (`end_with_last_tab`).
const MODULES: [(&str, &str, usize); 2] =
    [("session-security-drafts", "keep_unsaved_forms", 1024), ("session-security-last-tab", "end_with_last_tab", 512)];

#[test]
fn each_opt_in_module_fits_in_its_own_budget() {
    if !tool_available("gzip") {
        return;
    }
    for (stem, setting, budget) in MODULES {
        let module = served(&format!("{stem}.js"));
        assert_eq!(module, std::fs::read(root().join(format!("static/dist/{stem}.min.js"))).expect("built"), "{stem}");
        let len = gzipped_len(&module);
        notice(&format!("{stem}.js as served ({setting} only), gzip -9: {len} B (budget {budget} B)"));
        assert!(len <= budget, "{stem}.js is {len} B gzipped, over {budget} B");
    }
}
