//! No input can make dechaff write outside `--out`.
//!
//! An output path is `--out` joined with either a file argument's last
//! component or a walked file's path relative to its directory argument;
//! neither can hold `..`, a root or a NUL, whatever the argument looked
//! like. Each test snapshots the whole temporary tree before and after and
//! checks that only files under `--out` appeared.

use std::fs;
use std::path::{Path, PathBuf};

use crate::util::{dechaff_in, files_under, provenance, record_for, temp_dir, write};

/// Every file under `root` with its bytes.
fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    files_under(root)
        .into_iter()
        .map(|p| {
            let bytes = fs::read(root.join(&p)).unwrap_or_default();
            (p, bytes)
        })
        .collect()
}

/// Asserts that between `before` and now, files changed or appeared only under `out`.
#[track_caller]
fn assert_only_out_changed(root: &Path, before: &[(PathBuf, Vec<u8>)], out: &Path) {
    let after = snapshot(root);
    for entry in &after {
        if !entry.0.starts_with(out) {
            assert!(
                before.contains(entry),
                "{} was written outside --out",
                entry.0.display()
            );
        }
    }
    for entry in before {
        assert!(
            after.contains(entry) || entry.0.starts_with(out),
            "{} changed",
            entry.0.display()
        );
    }
}

#[test]
fn dot_dot_and_absolute_arguments_write_only_under_out() {
    let dir = temp_dir();
    let root = dir.path();
    write(&root.join("in/sub/a.txt"), "A.\n");
    write(&root.join("in/sub/deeper/b.txt"), "B.\n");
    write(&root.join("other/c.txt"), "C.\n");
    let before = snapshot(root);
    let absolute = root.join("other/c.txt");
    let run = dechaff_in(
        root,
        [
            "clean",
            "in/sub/../sub/a.txt",
            absolute.to_str().unwrap(),
            "./in/./sub/deeper/..",
            "--out",
            "out/x/..",
        ],
    );
    // a.txt is given twice (by name, and inside the directory): refused.
    run.assert_code(2);
    assert_eq!(
        run.first_stderr_line(),
        "dechaff: in/sub/../sub/a.txt and ./in/./sub/deeper/../a.txt would both be written to \
         out/x/../a.txt; clean them in separate runs"
    );
    assert_only_out_changed(root, &before, Path::new("out"));

    let run = dechaff_in(
        root,
        [
            "clean",
            "in/sub/../sub/a.txt",
            absolute.to_str().unwrap(),
            "./in/./sub/deeper/..",
            "--out",
            "out",
        ],
    );
    run.assert_code(2);
    let run = dechaff_in(
        root,
        [
            "clean",
            "in/sub/../sub/a.txt",
            absolute.to_str().unwrap(),
            "./in/sub/deeper",
            "--out",
            "out",
        ],
    );
    run.assert_code(0);
    assert_eq!(
        files_under(&root.join("out")),
        [
            Path::new("a.txt"),
            Path::new("b.txt"),
            Path::new("c.txt"),
            Path::new("provenance.jsonl")
        ]
    );
    assert_only_out_changed(root, &before, Path::new("out"));
}

/// `.` as the input with `--out` anywhere under it, written any way, is
/// refused before anything is written.
#[test]
fn out_inside_the_current_directory_input_is_refused() {
    let dir = temp_dir();
    write(&dir.path().join("a.txt"), "A.\n");
    let absolute_out = dir.path().join("o");
    let before = snapshot(dir.path());
    for out in ["o", "./o", "sub/../o", absolute_out.to_str().unwrap()] {
        let run = dechaff_in(dir.path(), ["clean", ".", "--out", out]);
        run.assert_code(2);
        assert_eq!(
            run.first_stderr_line(),
            format!("dechaff: --out {out} is inside the input .; dechaff never writes inside an input")
        );
        assert_eq!(snapshot(dir.path()), before, "--out {out}");
    }
}

/// With `--follow`, a link inside the input that leads into `--out` would
/// make the run read its own outputs (and, run after run, write outputs of
/// outputs deeper and deeper). Regression: the walk followed it.
#[cfg(unix)]
#[test]
fn a_link_into_out_is_not_followed() {
    let dir = temp_dir();
    write(&dir.path().join("in/a.txt"), "A.\n");
    write(&dir.path().join("out/old.txt"), "An output of an earlier run.\n");
    std::os::unix::fs::symlink("../out", dir.path().join("in/outputs")).unwrap();
    std::os::unix::fs::symlink("../out/old.txt", dir.path().join("in/old-link.txt")).unwrap();
    let run = dechaff_in(dir.path(), ["clean", "in", "--out", "out", "--follow"]);
    run.assert_code(1);
    let message = "symbolic link into --out; dechaff never reads its own outputs";
    run.assert_stderr_line(&format!("dechaff: in/outputs: {message}"));
    run.assert_stderr_line(&format!("dechaff: in/old-link.txt: {message}"));
    let records = provenance(&dir.path().join("out"));
    assert_eq!(records.len(), 3, "{records:#?}");
    assert_eq!(record_for(&records, "in/a.txt")["status"], "ok");
    assert!(!dir.path().join("out/outputs").exists());
    assert_eq!(
        fs::read_to_string(dir.path().join("out/old.txt")).unwrap(),
        "An output of an earlier run.\n"
    );
}

/// Paths with a NUL byte cannot come from a command line, but can through
/// the library: the input fails alone, with the cause in its record, and
/// an output directory with one is an error before anything is written.
#[test]
fn a_nul_byte_in_a_path_is_an_error_not_a_write() {
    use dechaff_run::pipeline::{run, FileReport};
    use dechaff_run::plan::{plan, RunConfig};
    let dir = temp_dir();
    write(&dir.path().join("in/a.txt"), "A.\n");
    let config = |inputs: Vec<PathBuf>, out: PathBuf| RunConfig {
        inputs,
        out,
        jobs: 1,
        ..dechaff_run::plan::RunConfig::new(Vec::new(), PathBuf::new())
    };
    let cleaner = dechaff_engine::Cleaner::with_shipped_rules().unwrap();
    let before = snapshot(dir.path());

    let bad_input = dir.path().join("in/a.txt\0/../../../escape.txt");
    let good = config(vec![bad_input, dir.path().join("in")], dir.path().join("out"));
    let planned = plan(&good).unwrap();
    let mut errors = Vec::new();
    let summary = run(&planned, &good, &cleaner, &mut |report: &FileReport| {
        errors.extend(report.record.error.clone());
    })
    .unwrap();
    assert_eq!((summary.ok, summary.failed), (1, 1));
    assert_eq!(errors, ["file name contained an unexpected NUL byte"]);
    assert_only_out_changed(dir.path(), &before, Path::new("out"));

    let bad_out = config(vec![dir.path().join("in")], dir.path().join("o\0ut"));
    let error = plan(&bad_out).and_then(|planned| run(&planned, &bad_out, &cleaner, &mut |_: &FileReport| {}));
    assert!(error.is_err(), "an output directory with a NUL was accepted");
    assert_only_out_changed(dir.path(), &before, Path::new("out"));
}

/// Input names that are dechaff's own bookkeeping files would be
/// overwritten by them: refused before anything is written.
#[test]
fn inputs_named_like_provenance_files_are_refused() {
    for name in ["provenance.jsonl", ".provenance.jsonl.partial"] {
        let dir = temp_dir();
        write(&dir.path().join("in").join(name), "{}\n");
        // --hidden: a walk passes over hidden names unless asked to read them.
        let run = dechaff_in(dir.path(), ["clean", "in", "--out", "out", "--hidden"]);
        run.assert_code(2);
        assert_eq!(
            run.first_stderr_line(),
            format!("dechaff: in/{name} would be written to out/{name}, which dechaff keeps for provenance")
        );
        assert!(!dir.path().join("out").exists());
    }
}
