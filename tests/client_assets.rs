//! The browser script outside the browser: its node tests (pure timing core)
//! and the size budget of script + stylesheet.

use std::path::Path;
use std::process::Command;

const BUDGET: usize = 4096;

fn tool_available(tool: &str) -> bool {
    let found = Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "CI is set but `{tool}` is missing");
        eprintln!("SKIPPED: `{tool}` is not installed");
    }
    found
}

#[test]
fn script_core_passes_its_node_tests() {
    if !tool_available("node") {
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let files: Vec<String> = std::fs::read_dir(Path::new(root).join("tests/js"))
        .expect("tests/js exists")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".test.js"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    assert!(!files.is_empty(), "no node tests found in tests/js");
    let out = Command::new("node").arg("--test").args(&files).current_dir(root).output().expect("node runs");
    let report = String::from_utf8_lossy(&out.stdout);
    println!("{report}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "node tests failed:\n{report}");
    assert!(report.contains("# fail 0"), "{report}");
    assert!(!report.contains("# pass 0"), "no node test ran:\n{report}");
}

fn gzipped_len(bytes: &[u8]) -> usize {
    use std::io::Write;
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
fn script_and_stylesheet_fit_in_4_kb_gzipped() {
    if !tool_available("gzip") {
        return;
    }
    let js = gzipped_len(&served("session-security.js"));
    let css = gzipped_len(&served("session-security.css"));
    println!("client size as served, gzip -9: script {js} B + stylesheet {css} B = {} B (budget {BUDGET} B)", js + css);
    assert!(js + css <= BUDGET, "script {js} B + stylesheet {css} B exceed {BUDGET} B gzipped");
}
