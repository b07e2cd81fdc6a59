//! Which files of a walked directory are inputs: `--glob`, `--exclude`, and
//! the files no corpus holds on purpose.
//!
//! Data written by Spark, Hadoop and their kin sits beside bookkeeping files:
//! `_SUCCESS`, `_committed_*`, `_started_*` markers, `.crc` checksums (the
//! hidden `.part-0.crc` and `._SUCCESS.crc` included), a `_temporary`
//! directory of unfinished parts, and, on a Mac, `.DS_Store`. Cleaning them
//! turns checksums into "text" and fails runs on their NUL bytes, so they
//! and every hidden file (name starting with `.`) are passed over while
//! walking unless `--hidden` is given, as ripgrep and fd do. A path named
//! on the command line is always an input: only what a walk finds is selected.
//!
//! A pattern with no `/` is matched against a file's name (`*.jsonl.gz`),
//! one with a `/` against its path relative to the directory given on the
//! command line (`2024/**/*.parquet`).

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use std::path::Path;

/// The selection of walked files, validated.
#[derive(Debug, Clone, Default)]
pub struct InputSelection {
    /// Only files matching one of these are inputs (`--glob`); all when empty.
    globs: Patterns,
    /// Files and directories matching one of these are not (`--exclude`).
    excludes: Patterns,
    /// Hidden files and Spark/Hadoop markers are walked too (`--hidden`).
    pub hidden: bool,
}

#[derive(Debug, Clone, Default)]
struct Patterns {
    /// Patterns without `/`, matched against the name.
    names: Option<GlobSet>,
    /// Patterns with `/`, matched against the relative path.
    paths: Option<GlobSet>,
}

impl Patterns {
    fn new(option: &str, patterns: &[String]) -> Result<Patterns, String> {
        let (mut names, mut paths) = (Vec::new(), Vec::new());
        for pattern in patterns {
            let glob = GlobBuilder::new(pattern)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| format!("{option} {pattern:?} is not a glob: {}", e.kind()))?;
            if pattern.contains('/') {
                paths.push(glob);
            } else {
                names.push(glob);
            }
        }
        Ok(Patterns {
            names: set(names)?,
            paths: set(paths)?,
        })
    }

    fn is_empty(&self) -> bool {
        self.names.is_none() && self.paths.is_none()
    }

    fn matches(&self, relative: &Path) -> bool {
        let name = relative.file_name().map(Path::new).unwrap_or(relative);
        self.names.as_ref().is_some_and(|set| set.is_match(name))
            || self.paths.as_ref().is_some_and(|set| set.is_match(relative))
    }
}

fn set(globs: Vec<Glob>) -> Result<Option<GlobSet>, String> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        builder.add(glob);
    }
    builder.build().map(Some).map_err(|e| e.to_string())
}

impl InputSelection {
    /// The selection `--glob globs --exclude excludes`, with hidden files and
    /// markers walked if `hidden`. A pattern that is not a glob is refused
    /// with the option and the pattern.
    pub fn new(globs: &[String], excludes: &[String], hidden: bool) -> Result<InputSelection, String> {
        Ok(InputSelection {
            globs: Patterns::new("--glob", globs)?,
            excludes: Patterns::new("--exclude", excludes)?,
            hidden,
        })
    }

    /// Whether the walk goes into the directory at `relative` (to the
    /// directory given on the command line).
    pub fn enters(&self, relative: &Path) -> bool {
        !(self.passed_over(relative) || self.excludes.matches(relative))
    }

    /// Whether the file at `relative` is an input.
    pub fn takes(&self, relative: &Path) -> bool {
        !self.passed_over(relative)
            && !self.excludes.matches(relative)
            && (self.globs.is_empty() || self.globs.matches(relative))
    }

    /// A hidden file or a marker, when those are not walked.
    fn passed_over(&self, relative: &Path) -> bool {
        !self.hidden
            && relative
                .file_name()
                .is_some_and(|name| is_hidden_or_marker(&name.to_string_lossy()))
    }
}

/// Whether a file or directory name is hidden (`.name`) or one of the
/// bookkeeping files Spark, Hadoop and object stores leave beside data.
pub fn is_hidden_or_marker(name: &str) -> bool {
    name.starts_with('.')
        || name == "_SUCCESS"
        || name == "_temporary"
        || name.starts_with("_committed_")
        || name.starts_with("_started_")
        || name.ends_with(".crc")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_and_hidden_files_are_passed_over_unless_asked_for() {
        let default = InputSelection::default();
        for name in [
            "_SUCCESS",
            "._SUCCESS.crc",
            ".part-00000.crc",
            "part-00000.crc",
            ".DS_Store",
            "_committed_123",
            "_started_123",
            "_temporary",
            ".git",
        ] {
            assert!(!default.takes(Path::new(name)), "{name}");
            assert!(!default.takes(&Path::new("sub").join(name)), "{name}");
            assert!(
                InputSelection::new(&[], &[], true).unwrap().takes(Path::new(name)),
                "{name}"
            );
        }
        for name in ["part-00000.jsonl", "_metadata_notes.txt", "page.txt"] {
            assert!(default.takes(Path::new(name)), "{name}");
        }
    }

    #[test]
    fn globs_match_names_and_slashed_globs_match_relative_paths() {
        let selection =
            InputSelection::new(&["*.jsonl".into(), "keep/**/*.txt".into()], &["*bad*".into()], false).unwrap();
        assert!(selection.takes(Path::new("a/b/c.jsonl")));
        assert!(selection.takes(Path::new("keep/x/y.txt")));
        assert!(!selection.takes(Path::new("other/y.txt")));
        assert!(!selection.takes(Path::new("a/bad.jsonl")));
        assert!(!selection.enters(Path::new("a/bad-dir")));
        assert!(selection.enters(Path::new("a/good-dir")));
    }

    #[test]
    fn a_pattern_that_is_not_a_glob_is_refused_with_its_option() {
        let error = InputSelection::new(&[], &["a[".into()], false).unwrap_err();
        assert!(error.starts_with("--exclude \"a[\" is not a glob: "), "{error}");
    }
}
