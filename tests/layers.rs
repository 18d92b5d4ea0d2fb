//! The layers of `src/`, as ARCHITECTURE.md draws them: each folder may use only the layers
//! below it. A `use crate::…` (or a `crate::…` path) that reaches up fails here, naming the
//! file and the line.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Each layer and the layers it may use (itself included). The shell (`src/*.rs`) may use
/// everything.
const LAYERS: [(&str, &[&str]); 5] = [
    ("domain", &["domain"]),
    ("shift", &["domain", "shift"]),
    ("platform", &["domain", "platform"]),
    ("app", &["domain", "shift", "app"]),
    ("ui", &["domain", "shift", "app", "ui"]),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a line of code names as `crate::<module>`, comments left out.
fn crate_paths(line: &str) -> Vec<String> {
    let code = line.split("//").next().unwrap_or_default();
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        if let Some(braced) = after.strip_prefix('{') {
            // `use crate::{a, b::c}`: every name inside the braces.
            let inside = braced.split('}').next().unwrap_or_default();
            found.extend(
                inside
                    .split(',')
                    .map(|p| p.trim().split("::").next().unwrap_or_default().to_string())
                    .filter(|p| !p.is_empty()),
            );
        } else {
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            found.push(name);
        }
        rest = after;
    }
    found
}

#[test]
fn no_layer_imports_a_layer_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut breaches = Vec::new();
    for (layer, allowed) in LAYERS {
        let mut files = Vec::new();
        rust_files(&src.join(layer), &mut files);
        assert!(!files.is_empty(), "src/{layer} has no files");
        for file in files {
            let text = std::fs::read_to_string(&file).expect("a source file");
            for (number, line) in text.lines().enumerate() {
                for module in crate_paths(line) {
                    if !allowed.contains(&module.as_str()) {
                        breaches.push(format!(
                            "{}:{}: src/{layer} uses crate::{module} (it may use {allowed:?})",
                            file.strip_prefix(&src).unwrap_or(&file).display(),
                            number + 1
                        ));
                    }
                }
            }
        }
    }
    assert!(
        breaches.is_empty(),
        "layers reach up:\n{}",
        breaches.join("\n")
    );
}

#[test]
fn the_check_sees_every_form_of_a_crate_path() {
    assert_eq!(crate_paths("use crate::app::AppState;"), ["app"]);
    assert_eq!(
        crate_paths("use crate::{audit::AuditEvent, domain::Color};"),
        ["audit", "domain"]
    );
    assert_eq!(
        crate_paths("    let x = crate::config::load(p); // crate::ui in a comment"),
        ["config"]
    );
    let modules: BTreeSet<String> = crate_paths("crate::a::b(crate::c)").into_iter().collect();
    assert_eq!(modules.into_iter().collect::<Vec<_>>(), ["a", "c"]);
}
