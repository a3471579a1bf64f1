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
    &["guard", "ping", "testing"],
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
        for (line_no, line) in source.lines().enumerate() {
            // Doc links may point anywhere; code may not.
            if line.trim_start().starts_with("//") {
                continue;
            }
            for used in line.split("crate::").skip(1) {
                let target: String = used.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                let Some(target_layer) = layer_of(&target) else { continue };
                if module != "lib" && target != module {
                    assert!(
                        target_layer < layer,
                        "src/{module}.rs:{} uses crate::{target}, which is not below it",
                        line_no + 1
                    );
                }
                seen += 1;
            }
        }
    }
    assert!(seen > 40, "only {seen} imports found: is the scan broken?");
}
