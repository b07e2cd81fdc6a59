//! The layering, checked from the source: crates depend only downwards
//! (engine ← run layer ← binary), and no module of a crate imports one that
//! imports it back.
//!
//! Each crate's modules are read from its files (`src/a.rs` and
//! `src/a/mod.rs` are module `a`, `src/a/b.rs` is `a::b`), and every path
//! that starts with `crate::` or `super::` in a non-comment line is an edge
//! to the longest module it names. A module's use of its own submodules is
//! containment, not an import, so only a submodule's use of its parent
//! counts. Then the graph must have no cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Module path (`a::b`) of every `.rs` file under `src`.
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    let mut found = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                parts.pop();
            }
            found.insert(parts.join("::"), path);
        }
    }
    found
}

/// The module that `path` (segments after `crate::`) names: its longest known prefix.
fn resolve(known: &BTreeMap<String, PathBuf>, segments: &[&str]) -> Option<String> {
    (1..=segments.len())
        .rev()
        .map(|n| segments[..n].join("::"))
        .find(|candidate| known.contains_key(candidate))
}

/// Edges `from -> to` between the modules of the crate rooted at `src`.
fn edges(src: &Path) -> BTreeSet<(String, String)> {
    let known = modules(src);
    let mut edges = BTreeSet::new();
    for (module, file) in &known {
        let own: Vec<&str> = if module.is_empty() {
            vec![]
        } else {
            module.split("::").collect()
        };
        let text = fs::read_to_string(file).unwrap();
        for line in text.lines().map(str::trim).filter(|l| !l.starts_with("//")) {
            for (at, _) in line.match_indices("crate::").chain(line.match_indices("super::")) {
                if at > 0 && line.as_bytes()[at - 1].is_ascii_alphanumeric() || line[..at].ends_with("dechaff_") {
                    continue;
                }
                let rest = &line[at..];
                let mut segments: Vec<&str> = rest
                    .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .next()
                    .unwrap_or("")
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .collect();
                let mut base: Vec<&str> = Vec::new();
                if segments.first() == Some(&"crate") {
                    segments.remove(0);
                } else {
                    base = own.clone();
                    while segments.first() == Some(&"super") {
                        segments.remove(0);
                        base.pop();
                    }
                }
                let full: Vec<&str> = base.iter().copied().chain(segments.iter().copied()).collect();
                let Some(target) = resolve(&known, &full) else {
                    continue;
                };
                let contains = target == *module || target.starts_with(&format!("{module}::")) || module.is_empty();
                if !contains && !target.is_empty() {
                    edges.insert((module.clone(), target));
                }
            }
        }
    }
    edges
}

/// A cycle of the graph, if it has one.
fn find_cycle(edges: &BTreeSet<(String, String)>) -> Option<Vec<String>> {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in edges {
        next.entry(from).or_default().push(to);
    }
    fn visit<'a>(
        node: &'a str,
        next: &BTreeMap<&'a str, Vec<&'a str>>,
        state: &mut BTreeMap<&'a str, u8>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        match state.get(node) {
            Some(2) => return None,
            Some(1) => {
                let start = path.iter().position(|n| *n == node).unwrap();
                let mut cycle: Vec<String> = path[start..].iter().map(|s| s.to_string()).collect();
                cycle.push(node.to_string());
                return Some(cycle);
            }
            _ => {}
        }
        state.insert(node, 1);
        path.push(node);
        for &to in next.get(node).map(Vec::as_slice).unwrap_or(&[]) {
            if let Some(cycle) = visit(to, next, state, path) {
                return Some(cycle);
            }
        }
        path.pop();
        state.insert(node, 2);
        None
    }
    let mut state = BTreeMap::new();
    for &node in next.keys() {
        if let Some(cycle) = visit(node, &next, &mut state, &mut Vec::new()) {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    for krate in ["crates/engine/src", "crates/run/src", "src"] {
        let edges = edges(&root().join(krate));
        assert!(!edges.is_empty(), "{krate}: no imports found; is the reader broken?");
        if let Some(cycle) = find_cycle(&edges) {
            panic!("{krate}: import circle {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn a_circle_is_found_when_there_is_one() {
    let edges: BTreeSet<(String, String)> = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]
        .iter()
        .map(|(f, t)| (f.to_string(), t.to_string()))
        .collect();
    assert_eq!(find_cycle(&edges).unwrap(), ["a", "b", "c", "a"]);
    let dag: BTreeSet<(String, String)> = [("a", "b"), ("b", "c"), ("a", "c")]
        .iter()
        .map(|(f, t)| (f.to_string(), t.to_string()))
        .collect();
    assert_eq!(find_cycle(&dag), None);
}

/// The crates depend only downwards: the engine on no crate of the
/// workspace, the run layer on the engine alone.
#[test]
fn crates_depend_only_downwards() {
    let manifest = |path: &str| fs::read_to_string(root().join(path)).unwrap();
    let engine = manifest("crates/engine/Cargo.toml");
    assert!(
        !engine.contains("dechaff-run") && !engine.contains("dechaff = "),
        "{engine}"
    );
    let run = manifest("crates/run/Cargo.toml");
    assert!(run.contains("dechaff-engine") && !run.contains("dechaff = "), "{run}");
    for source in modules(&root().join("crates/engine/src")).values() {
        let text = fs::read_to_string(source).unwrap();
        assert!(!text.contains("dechaff_run"), "{} uses the run layer", source.display());
    }
}
