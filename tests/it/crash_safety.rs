//! What a run leaves behind when it is killed or the disk fills up.
//!
//! Outputs are written to a temporary file (`.NAME.dechaff-PID-N.tmp`) beside the
//! target and renamed; provenance goes line by line, flushed, to
//! `.provenance.jsonl.partial`, renamed to `provenance.jsonl` at the end. So
//! after a `SIGKILL` at any moment every file under its final name is
//! complete, every complete provenance line describes a file that is there
//! with the hash it names, and running again finishes the job. A write that
//! fails (a full disk, a file-size limit) is an error for that file: no
//! output under its name, not even an older one, and exit code 1.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{dechaff_in, files_under, provenance, record_for, sha256_hex, temp_dir, write};

/// `count` pages of about 8 KB each, with boilerplate for the rules to remove.
fn write_pages(input: &Path, count: usize) {
    let paragraph = "The council voted on Tuesday to widen the road, after a long debate. ";
    for i in 0..count {
        let body = paragraph.repeat(110);
        write(
            &input.join(format!("p{:02}/page-{i:05}.txt", i % 17)),
            format!("Page {i}\n\n{body}\n\nShare This\n\n{body}\n\nLeave a Reply\nName\n"),
        );
    }
}

/// Every output file of `out` (provenance and temporary files left out), by relative path.
fn outputs(out: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    files_under(out)
        .into_iter()
        .filter(|p| !is_bookkeeping(p))
        .map(|p| {
            let bytes = fs::read(out.join(&p)).unwrap();
            (p, bytes)
        })
        .collect()
}

/// Provenance files and dechaff's temporary files.
fn is_bookkeeping(relative: &Path) -> bool {
    let name = relative.file_name().unwrap().to_string_lossy();
    name == "provenance.jsonl" || name == ".provenance.jsonl.partial" || is_temporary(&name)
}

/// A temporary file of dechaff's: `.NAME.dechaff-PID-N.tmp` (or without
/// `-N`, as other writers of the output tree name them).
fn is_temporary(name: &str) -> bool {
    name.starts_with('.') && name.contains(".dechaff-") && name.ends_with(".tmp")
}

#[test]
fn a_killed_run_leaves_only_complete_files_and_a_rerun_finishes_the_job() {
    let dir = temp_dir();
    let input = dir.path().join("in");
    write_pages(&input, 1500);
    dechaff_in(dir.path(), ["clean", "in", "--out", "reference", "-q"]).assert_code(0);
    let reference = outputs(&dir.path().join("reference"));
    assert_eq!(reference.len(), 1500);

    let out = dir.path().join("out");
    let partial = out.join(".provenance.jsonl.partial");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dechaff"))
        .args(["clean", "in", "--out", "out", "-q", "-j2"])
        .current_dir(dir.path())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once some files are done, well before all are.
    let started = Instant::now();
    loop {
        let done = fs::read(&partial).map_or(0, |text| text.iter().filter(|&&b| b == b'\n').count());
        if done >= 40 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be killed"
        );
        assert!(started.elapsed() < Duration::from_secs(120), "the run made no progress");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!out.join("provenance.jsonl").exists(), "a killed run looks finished");

    // Every file under a final name is complete.
    let left = outputs(&out);
    assert!(left.len() < reference.len(), "the run had finished when it was killed");
    for (path, bytes) in &left {
        assert!(reference.get(path) == Some(bytes), "{} is not complete", path.display());
    }
    // Nothing else is there but dechaff's marked temporary files.
    for path in files_under(&out) {
        assert!(is_bookkeeping(&path) || left.contains_key(&path), "{}", path.display());
    }
    // Every complete provenance line names an output that is there, whole.
    let text = fs::read_to_string(&partial).unwrap();
    let complete = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
    for line in complete.lines().skip(1) {
        let record: Value = serde_json::from_str(line).expect("a complete line is a record");
        assert_eq!(record["status"], "ok");
        let written = fs::read(dir.path().join(record["output"].as_str().unwrap())).unwrap();
        assert_eq!(record["cleaned"]["sha256"], sha256_hex(&written).as_str());
    }

    // Running again finishes the job: the same outputs as an uninterrupted run.
    dechaff_in(dir.path(), ["clean", "in", "--out", "out", "-q"]).assert_code(0);
    assert_eq!(outputs(&out), reference);
    assert_eq!(provenance(&out).len(), 1500);
}

/// Runs `dechaff ARGS` in `dir` with the largest file it may write set to
/// `limit_kb` kilobytes (RLIMIT_FSIZE, through the shell's `ulimit`, with
/// SIGXFSZ ignored so that a write past it fails with EFBIG instead of
/// killing the process): a disk that fills up, for any user on any machine.
#[cfg(unix)]
fn dechaff_with_file_size_limit(dir: &Path, limit_kb: u64, args: &[&str]) -> crate::util::Run {
    let script = format!("trap '' XFSZ; ulimit -f {limit_kb}; exec \"$0\" \"$@\"");
    let output = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_dechaff"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    crate::util::Run {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// A write that fails part way (here: a file-size limit, EFBIG) is an error
/// for that file alone: its message names the file and the cause, nothing
/// is left under its name (not even an older output) nor as a temporary
/// file, and the run exits 1.
#[cfg(unix)]
#[test]
fn a_failing_write_is_an_error_never_a_truncated_file() {
    let dir = temp_dir();
    write(&dir.path().join("in/a.txt"), "A small page.\n");
    let big = "A long paragraph of the article that goes on. ".repeat(4000);
    write(&dir.path().join("in/big.txt"), format!("{big}\n"));
    write(&dir.path().join("in/c.txt"), "Another small page.\n");
    // An older output of the big file, which the failure must take away.
    write(&dir.path().join("out/big.txt"), "an older output\n");

    let run = dechaff_with_file_size_limit(dir.path(), 100, &["clean", "in", "--out", "out"]);
    run.assert_code(1);
    let cause = format!("out/big.txt: {}", std::io::Error::from_raw_os_error(27));
    run.assert_stderr_line(&format!("dechaff: in/big.txt: {cause}"));
    let out = dir.path().join("out");
    assert_eq!(
        files_under(&out),
        [Path::new("a.txt"), Path::new("c.txt"), Path::new("provenance.jsonl")]
    );
    let records = provenance(&out);
    let record = record_for(&records, "in/big.txt");
    assert_eq!(record["status"], "error");
    assert_eq!(record["error"], cause.as_str());
    assert_eq!(record["output"], Value::Null);
}

/// A tmpfs of 256 KB mounted for the test, unmounted when dropped.
struct SmallFileSystem {
    dir: tempfile::TempDir,
}

impl SmallFileSystem {
    /// `None` where the machine does not let the test mount one (not root,
    /// in a container without the capability): the file-size test above
    /// covers the same code path there.
    fn mount() -> Option<SmallFileSystem> {
        let dir = temp_dir();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        mounted.then_some(SmallFileSystem { dir })
    }
}

impl Drop for SmallFileSystem {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// A real full disk where the machine allows mounting a small tmpfs: every
/// file left under a final name is complete, every failure says "No space
/// left on device", and the exit code is 74 (the output failed, which
/// stops the run) or 1 (only some files failed).
#[test]
fn a_full_disk_is_a_clear_error_never_a_truncated_file() {
    let Some(disk) = SmallFileSystem::mount() else {
        eprintln!("note: cannot mount a tmpfs here; a_failing_write_is_an_error_never_a_truncated_file covers this");
        return;
    };
    let dir = temp_dir();
    write_pages(&dir.path().join("in"), 60);
    dechaff_in(dir.path(), ["clean", "in", "--out", "reference", "-q"]).assert_code(0);
    let reference = outputs(&dir.path().join("reference"));

    let out = disk.dir.path().join("out");
    let run = dechaff_in(dir.path(), ["clean", "in", "--out", out.to_str().unwrap()]);
    assert!(
        matches!(run.code, Some(1 | 74)),
        "exit code {:?}\n{}",
        run.code,
        run.stderr
    );
    let no_space = std::io::Error::from_raw_os_error(28).to_string();
    assert!(run.stderr.contains(&no_space), "{}", run.stderr);
    for line in run.stderr.lines().filter(|l| !l.starts_with("dechaff: 60 files")) {
        assert!(line.ends_with(&no_space), "an error that is not the full disk: {line}");
    }
    let left = outputs(&out);
    assert!(
        !left.is_empty() && left.len() < reference.len(),
        "{} outputs",
        left.len()
    );
    for (path, bytes) in &left {
        assert!(reference.get(path) == Some(bytes), "{} is truncated", path.display());
    }
    for path in files_under(&out) {
        let name = path.file_name().unwrap().to_string_lossy();
        assert!(!is_temporary(&name), "a temporary file is left: {}", path.display());
    }
}
