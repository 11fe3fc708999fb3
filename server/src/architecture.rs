//! The layers of docs/architecture.md, checked: a file's folder says what it may import.
//!
//! - `sandbox/` imports nothing of the hub;
//! - `base/` imports `base` (and the sandbox's contract: which providers it emulates);
//! - `domain/` imports `base` and `domain`;
//! - everything else (the entry points) may import anything.

use std::path::{Path, PathBuf};

/// The top-level modules a file in `folder` may name after `crate::`.
fn allowed(folder: &str) -> Option<&'static [&'static str]> {
    match folder {
        "sandbox" => Some(&["sandbox"]),
        "base" => Some(&["base", "sandbox"]),
        "domain" => Some(&["base", "domain"]),
        _ => None,
    }
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).expect("the source folder is readable");
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// Every top-level module a source text names after `crate::`, grouped imports included.
fn crate_paths(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                names.push(head(item.trim()));
            }
        } else {
            names.push(head(rest));
        }
    }
    names.retain(|n| !n.is_empty());
    names
}

fn head(path: &str) -> String {
    path.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

#[test]
fn each_layer_imports_only_what_is_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("under src");
        let folder = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or_default();
        let Some(allowed) = allowed(folder) else {
            continue;
        };
        let source = std::fs::read_to_string(file).expect("a readable source file");
        for name in crate_paths(&source) {
            if !allowed.contains(&name.as_str()) {
                wrong.push(format!("{} imports crate::{name}", relative.display()));
            }
        }
    }
    assert!(files.len() > 50, "the walk found the sources");
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn grouped_and_nested_imports_are_seen() {
    let names = crate_paths("use crate::{http::x, state};\nlet a = crate::jobs::run();");
    assert_eq!(names, ["http", "state", "jobs"]);
}
