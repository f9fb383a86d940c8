//! The layering rule (RATIONALE.md, "Layers"): a module of the runtime uses only modules
//! of lower layers, or its own. Read from the sources: every `crate::` and `super::`
//! path outside comments is resolved to the top-level module it names.

use std::path::{Path, PathBuf};

/// The runtime's top-level modules, lowest layer first. Modules of one layer do not use
/// each other (the two engines are independent).
const LAYERS: &[&[&str]] = &[
    &["error", "values"],
    &["module"],
    &["store"],
    &["interp", "native"],
    &["api"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// One use of a module above the user's layer (or beside it).
#[derive(Debug, PartialEq)]
struct Violation {
    file: String,
    line: usize,
    user: String,
    used: String,
}

/// The module path of a source file relative to `src/` (`interp/exec/mod.rs` is
/// `["interp", "exec"]`, `lib.rs` is `[]`).
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let file = parts.pop().expect("a file name");
    let stem = file.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts
}

/// The first path segments of a `use` tree or path that starts right after `crate::`
/// (or `super::`): `api::Func` gives `api`; `{api::Func, store::X}` gives both.
fn first_segments(rest: &str) -> Vec<String> {
    let rest = rest.trim_start();
    if let Some(group) = rest.strip_prefix('{') {
        let mut depth = 0;
        let mut items = vec![String::new()];
        for c in group.chars() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => items.push(String::new()),
                _ => {}
            }
            items.last_mut().unwrap().push(c);
        }
        return items
            .iter()
            .filter_map(|item| ident_prefix(item.trim().trim_start_matches(',').trim()))
            .collect();
    }
    ident_prefix(rest).into_iter().collect()
}

fn ident_prefix(s: &str) -> Option<String> {
    let id: String = s
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!id.is_empty() && id != "self").then_some(id)
}

/// The violations in one file's source. A group spanning lines (`use crate::{\n ...}`)
/// is read whole, from the line where it starts.
fn check_source(file: &str, module: &[String], source: &str) -> Vec<Violation> {
    let mut found = Vec::new();
    let Some(user) = module.first() else {
        return found; // lib.rs, the root, may use every module.
    };
    let user_layer = layer_of(user);
    let code: Vec<String> = source
        .lines()
        .map(|l| l.split("//").next().unwrap_or("").to_string())
        .collect();
    let text = code.join("\n");
    let line_of = |offset: usize| text[..offset].matches('\n').count() + 1;
    for (offset, _) in text
        .match_indices("crate::")
        .chain(text.match_indices("super::"))
    {
        let before = text[..offset].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue; // `foo_crate::`, or a `super::` inside `super::super::`
        }
        let mut rest = &text[offset..];
        // Resolve to a path from the crate root.
        let mut base: Vec<String> = if rest.starts_with("crate::") {
            rest = &rest["crate::".len()..];
            Vec::new()
        } else {
            let mut base = module.to_vec();
            while let Some(r) = rest.strip_prefix("super::") {
                base.pop();
                rest = r;
            }
            base
        };
        let targets: Vec<String> = if base.is_empty() {
            first_segments(rest)
        } else {
            vec![base.remove(0)]
        };
        for used in targets {
            if used == *user || rest.starts_with(&format!("{used}!")) {
                continue; // its own module, or a macro exported at the crate root
            }
            // An item of the crate root is a re-export (of the API, mostly): a module
            // names the module it uses instead.
            let ok = match (user_layer, layer_of(&used)) {
                (Some(u), Some(d)) => d < u,
                _ => false,
            };
            if !ok {
                found.push(Violation {
                    file: file.to_string(),
                    line: line_of(offset),
                    user: user.clone(),
                    used,
                });
            }
        }
    }
    found
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("reading runtime/src") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_top_level_module_has_a_layer() {
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for file in files {
        let module = module_path(file.strip_prefix(&src).unwrap());
        if let Some(top) = module.first() {
            assert!(
                layer_of(top).is_some(),
                "module `{top}` ({}) is in no layer: add it to LAYERS here and to \
                 RATIONALE.md's \"Layers\"",
                file.display()
            );
        }
    }
}

#[test]
fn no_module_uses_a_higher_layer() {
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 20, "found only {} source files", files.len());
    let mut violations = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let source = std::fs::read_to_string(file).expect("reading a source file");
        let name = relative.display().to_string();
        violations.extend(check_source(&name, &module_path(relative), &source));
    }
    let report: Vec<String> = violations
        .iter()
        .map(|v| {
            format!(
                "{}:{}: `{}` uses `{}`, which is not in a lower layer",
                v.file, v.line, v.user, v.used
            )
        })
        .collect();
    assert!(report.is_empty(), "layering broken:\n{}", report.join("\n"));
}

/// The checker itself finds each kind of upward or sideways use.
#[test]
fn the_checker_finds_violations() {
    let store = vec!["store".to_string(), "instance".to_string()];
    let upward = check_source("s.rs", &store, "use crate::api::Module;\n");
    assert_eq!(upward.len(), 1);
    assert_eq!((upward[0].line, upward[0].used.as_str()), (1, "api"));

    let grouped = "use crate::{\n    error::Error,\n    interp::X,\n};";
    let found = check_source("s.rs", &store, grouped);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].used, "interp");

    let native = vec!["native".to_string(), "entry".to_string()];
    let sideways = check_source("n.rs", &native, "fn f() { crate::interp::run(); }");
    assert_eq!(sideways.len(), 1, "an engine may not use the other");

    let deep = vec!["store".to_string(), "a".to_string(), "b".to_string()];
    assert!(check_source("d.rs", &deep, "use super::super::X;").is_empty());
    let climbing = check_source("d.rs", &deep, "use super::super::super::api::X;");
    assert_eq!(
        climbing.len(),
        1,
        "super:: out of the top module is resolved"
    );

    let root = check_source("s.rs", &store, "fn f() -> crate::Instance { make() }");
    assert_eq!(
        root.len(),
        1,
        "a re-export at the root hides the layer it comes from"
    );

    let lower = check_source(
        "s.rs",
        &store,
        "use crate::module::ModuleInfo; // crate::api",
    );
    assert!(
        lower.is_empty(),
        "lower layers and comments are fine: {lower:?}"
    );
}
