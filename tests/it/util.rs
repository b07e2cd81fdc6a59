//! Running the binary, temporary trees, and reading what a run left behind.
//!
//! Every test runs the real `dechaff` binary that Cargo built for this test
//! target, with captured output, so a test sees exactly what a user would:
//! the exit code, stdout, stderr and the files under `--out`.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Run {
    /// The exit code (`None` if a signal ended the process).
    pub code: Option<i32>,
    /// Standard output, as UTF-8.
    pub stdout: String,
    /// Standard error, as UTF-8.
    pub stderr: String,
}

impl Run {
    /// The first line of stderr, or the empty string.
    pub fn first_stderr_line(&self) -> &str {
        self.stderr.lines().next().unwrap_or("")
    }

    /// Asserts the exit code, showing both streams when it differs.
    #[track_caller]
    pub fn assert_code(&self, expected: i32) -> &Run {
        assert_eq!(
            self.code,
            Some(expected),
            "exit code\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts that some whole line of stderr is `line`.
    #[track_caller]
    pub fn assert_stderr_line(&self, line: &str) -> &Run {
        assert!(
            self.stderr.lines().any(|l| l == line),
            "stderr has no line\n  {line}\n--- stderr ---\n{}",
            self.stderr
        );
        self
    }
}

/// Runs `dechaff ARGS` in `dir` and captures everything.
pub fn dechaff_in<I, S>(dir: &Path, args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let output = Command::new(env!("CARGO_BIN_EXE_dechaff"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("the dechaff binary runs");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// Runs `dechaff ARGS` in a fresh empty directory, so that relative paths
/// resolve to nothing by accident.
pub fn dechaff<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let dir = temp_dir();
    dechaff_in(dir.path(), args)
}

/// A fresh temporary directory, removed when dropped.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("dechaff-it-")
        .tempdir()
        .expect("a temporary directory")
}

/// Writes `bytes` to `path`, creating its parent directories.
pub fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("create parent directories");
    }
    fs::write(path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// The repository's `seeds/` directory: real scraped pages.
pub fn seeds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds")
}

/// The records of `OUT/provenance.jsonl`, in file order, after the
/// manifest line that opens it (checked to be there).
pub fn provenance(out: &Path) -> Vec<Value> {
    provenance_lines(out).split_off(1)
}

/// The manifest line of `OUT/provenance.jsonl`.
pub fn manifest(out: &Path) -> Value {
    provenance_lines(out).swap_remove(0)
}

fn provenance_lines(out: &Path) -> Vec<Value> {
    let path = out.join("provenance.jsonl");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("every provenance line is JSON"))
        .collect();
    assert_eq!(
        lines.first().map(|line| &line["schema"]),
        Some(&Value::from("dechaff.manifest/2")),
        "{} opens with its manifest",
        path.display()
    );
    lines
}

/// The one record whose `source` is `source`.
#[track_caller]
pub fn record_for<'a>(records: &'a [Value], source: &str) -> &'a Value {
    let found: Vec<&Value> = records
        .iter()
        .filter(|r| r["source"].as_str() == Some(source))
        .collect();
    assert_eq!(found.len(), 1, "records for {source}: {records:#?}");
    found[0]
}

/// Every file under `root` (recursively), as paths relative to it, sorted;
/// the run's top-level stats file (`stats.json`, `stats.I-of-N.json`) left
/// out: it holds timings, so it differs between runs by design (`run_stats`
/// checks it).
pub fn files_under(root: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, files: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("dir entry").path();
            let kind = fs::symlink_metadata(&path).expect("metadata").file_type();
            if kind.is_dir() {
                walk(root, &path, files);
            } else {
                files.push(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut files = Vec::new();
    walk(root, root, &mut files);
    files.retain(|file| {
        let name = file.to_string_lossy();
        !(name.starts_with("stats.") && name.ends_with(".json"))
    });
    files.sort();
    files
}

/// The SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    dechaff_engine::hash::sha256_hex(bytes)
}
