//! The crate is layered: no file of `src/` imports (`crate::…`) a module of
//! its own layer or above, so data walks through it one way. The table is the
//! one on the crate's front page.

const LAYERS: &[&[&str]] = &[
    &["timing"],
    &["stamp", "clock", "assets", "i18n", "redirect", "origin"],
    &["binding", "revocation"],
    &["config"],
    &["verdict", "http", "snippet"],
    &["context", "answer"],
    &["guard", "ping", "testing", "catcher", "effect"],
    &["fairing"],
    &["lib"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

#[test]
fn no_module_imports_its_own_layer_or_one_above() {
    let mut seen = 0;
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src")).expect("src/") {
        let path = entry.expect("an entry").path();
        let module = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        let layer = layer_of(&module).unwrap_or_else(|| panic!("src/{module} is in no layer: add it to LAYERS"));
        // A folder module: every file in it is of the folder's layer (and may use its siblings).
        let files: Vec<std::path::PathBuf> = if path.is_dir() {
            std::fs::read_dir(&path).expect("a folder").map(|e| e.expect("an entry").path()).collect()
        } else {
            vec![path.clone()]
        };
        let source: String =
            files.iter().map(|f| std::fs::read_to_string(f).expect("readable")).collect::<Vec<_>>().join("\n");
        // Doc links may point anywhere; code may not. Comment lines are blanked, keeping line numbers.
        let code: String = source
            .lines()
            .map(|line| if line.trim_start().starts_with("//") { "" } else { line })
            .collect::<Vec<_>>()
            .join("\n");
        for (at, target) in crate_paths(&code) {
            let Some(target_layer) = layer_of(&target) else { continue };
            if module != "lib" && target != module {
                let line_no = code[..at].matches('\n').count() + 1;
                assert!(target_layer < layer, "src/{module}.rs:{line_no} uses crate::{target}, which is not below it");
            }
            seen += 1;
        }
    }
    assert!(seen > 40, "only {seen} imports found: is the scan broken?");
}

/// Every module named after `crate::` in `code`, with its offset: `crate::a::b`
/// names `a`; a grouped `crate::{a, b::c, d::{e, f}}` names `a`, `b` and `d`,
/// also across lines.
fn crate_paths(code: &str) -> Vec<(usize, String)> {
    let ident =
        |text: &str| -> String { text.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect() };
    let mut found = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        let Some(group) = rest.strip_prefix('{') else {
            found.push((at, ident(rest)));
            continue;
        };
        // The items of the group at its top level.
        let (mut depth, mut start) = (0usize, 0usize);
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    found.push((at, ident(group[start..i].trim_start())));
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    found.push((at, ident(group[start..i].trim_start())));
                    start = i + 1;
                }
                _ => {}
            }
        }
    }
    found.retain(|(_, name)| !name.is_empty());
    found
}

#[test]
fn grouped_and_multi_line_imports_are_seen() {
    let code = "use crate::{config::Config, stamp::{Stamp, StampCodec},\n    verdict};\nlet x = crate::guard::f();";
    let names: Vec<String> = crate_paths(code).into_iter().map(|(_, n)| n).collect();
    assert_eq!(names, ["config", "stamp", "verdict", "guard"]);
}
