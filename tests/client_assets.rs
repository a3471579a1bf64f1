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

fn gzipped_len(path: &Path) -> usize {
    let out = Command::new("gzip").args(["-9", "-c"]).arg(path).output().expect("gzip runs");
    assert!(out.status.success());
    out.stdout.len()
}

#[test]
fn script_and_stylesheet_fit_in_4_kb_gzipped() {
    if !tool_available("gzip") {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("static");
    let js = gzipped_len(&root.join("session-security.js"));
    let css = gzipped_len(&root.join("session-security.css"));
    println!("client size, gzip -9: script {js} B + stylesheet {css} B = {} B (budget {BUDGET} B)", js + css);
    assert!(js + css <= BUDGET, "script {js} B + stylesheet {css} B exceed {BUDGET} B gzipped");
}
