//! The run never destroys what it was given nor writes where it was not told to.
//!
//! Every path the run writes is held apart from every input before a byte
//! is read; nothing below `--out` is reached through a symbolic link; one
//! run at a time writes an output tree; a signal stops a run so that
//! `--resume` can finish it; control characters in names never reach the
//! terminal raw.

use std::fs;
use std::path::Path;

use crate::util::{dechaff_in, files_under, provenance, temp_dir, write};

/// `--rejects` naming an input truncated it to 0 bytes and the run said
/// `1 ok`; now it is refused, naming both paths, and the input is untouched.
#[test]
fn rejects_over_an_input_is_refused_and_the_input_kept() {
    let dir = temp_dir();
    let line = "{\"id\":\"1\",\"text\":\"An article.\\nShare This\\n\"}\n";
    write(&dir.path().join("shard.jsonl"), line);
    write(&dir.path().join("in/a.jsonl"), line);
    let cases: [(&[&str], &str); 4] = [
        (
            &["clean", "shard.jsonl", "--out", "o", "--rejects", "shard.jsonl"],
            "dechaff: --rejects shard.jsonl is the input shard.jsonl; dechaff never writes over or inside an input",
        ),
        (
            &["clean", "shard.jsonl", "--out", "o", "--rejects", "./sub/../shard.jsonl"],
            "dechaff: --rejects ./sub/../shard.jsonl is the input shard.jsonl; dechaff never writes over or inside an input",
        ),
        (
            &["clean", "in", "--out", "o", "--rejects", "in/x.jsonl"],
            "dechaff: --rejects in/x.jsonl is inside the input in; dechaff never writes over or inside an input",
        ),
        (
            &["clean", "in/a.jsonl", "--out", "o", "--rejects", "in"],
            "dechaff: --rejects in holds the input in/a.jsonl; dechaff never writes over or inside an input",
        ),
    ];
    fs::create_dir_all(dir.path().join("sub")).unwrap();
    for (args, message) in cases {
        dechaff_in(dir.path(), args).assert_code(2).assert_stderr_line(message);
        assert_eq!(fs::read_to_string(dir.path().join("shard.jsonl")).unwrap(), line);
        assert_eq!(fs::read_to_string(dir.path().join("in/a.jsonl")).unwrap(), line);
        assert!(!dir.path().join("o").exists(), "nothing is written: {args:?}");
        assert!(!dir.path().join("in/x.jsonl").exists());
    }
}

/// A symbolic link's spelling of an input is the input.
#[cfg(unix)]
#[test]
fn rejects_through_a_link_to_an_input_is_refused() {
    let dir = temp_dir();
    let line = "{\"text\":\"An article.\"}\n";
    write(&dir.path().join("data/shard.jsonl"), line);
    std::os::unix::fs::symlink("data", dir.path().join("alias")).unwrap();
    dechaff_in(
        dir.path(),
        ["clean", "data/shard.jsonl", "--out", "o", "--rejects", "alias/shard.jsonl"],
    )
    .assert_code(2)
    .assert_stderr_line(
        "dechaff: --rejects alias/shard.jsonl is the input data/shard.jsonl; dechaff never writes over or inside an input",
    );
    assert_eq!(fs::read_to_string(dir.path().join("data/shard.jsonl")).unwrap(), line);
}

/// `out/sub -> victim`: the run overwrote `victim/b.txt` and, for an input
/// that failed, deleted `victim/dangling.txt`. Now a link below `--out` is
/// an error for the files below it, and what it points to is untouched.
#[cfg(unix)]
#[test]
fn a_link_below_out_is_never_followed_for_writes_or_removals() {
    let dir = temp_dir();
    write(&dir.path().join("in/a.txt"), "A page.\n");
    write(&dir.path().join("in/sub/b.txt"), "Another page.\nShare This\n");
    write(
        &dir.path().join("in/sub/dangling.txt"),
        "A page too long to clean. ".repeat(10),
    );
    write(&dir.path().join("victim/b.txt"), "precious b\n");
    write(&dir.path().join("victim/dangling.txt"), "precious dangling\n");
    fs::create_dir_all(dir.path().join("out")).unwrap();
    std::os::unix::fs::symlink("../victim", dir.path().join("out/sub")).unwrap();
    // dangling.txt is over the size limit: it fails, and its stale output would be removed.
    let run = dechaff_in(dir.path(), ["clean", "in", "--out", "out", "--max-doc-bytes", "100"]);
    assert_eq!(
        fs::read_to_string(dir.path().join("victim/b.txt")).unwrap(),
        "precious b\n"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("victim/dangling.txt")).unwrap(),
        "precious dangling\n"
    );
    assert_eq!(
        fs::read_dir(dir.path().join("victim")).unwrap().count(),
        2,
        "no temporary left there"
    );
    run.assert_code(1);
    assert!(
        run.stderr
            .contains("out/sub is a symbolic link; dechaff never writes or removes through a link below --out"),
        "{}",
        run.stderr
    );
    assert_eq!(fs::read_to_string(dir.path().join("out/a.txt")).unwrap(), "A page.\n");
}

/// A link under an output's own name is replaced by the output, never written through.
#[cfg(unix)]
#[test]
fn a_link_under_an_outputs_name_is_replaced_not_followed() {
    let dir = temp_dir();
    write(&dir.path().join("in/a.txt"), "A page.\n");
    write(&dir.path().join("victim.txt"), "precious\n");
    fs::create_dir_all(dir.path().join("out")).unwrap();
    std::os::unix::fs::symlink("../victim.txt", dir.path().join("out/a.txt")).unwrap();
    dechaff_in(dir.path(), ["clean", "in", "--out", "out"]).assert_code(0);
    assert_eq!(fs::read_to_string(dir.path().join("victim.txt")).unwrap(), "precious\n");
    assert!(!fs::symlink_metadata(dir.path().join("out/a.txt")).unwrap().is_symlink());
}

/// Text pages in a few directories and JSONL shards between them, enough
/// that a run takes a moment: `pages` pages of about 8 KB.
fn corpus(root: &Path, pages: usize) {
    let paragraph = "The council voted on Tuesday to widen the road, after a long debate. ";
    for i in 0..pages {
        let body = paragraph.repeat(110);
        write(
            &root.join(format!("in/p{:02}/page-{i:05}.txt", i % 7)),
            format!("Page {i}\n\n{body}\n\nShare This\n\n{body}\n\nLeave a Reply\nName\n"),
        );
    }
    for shard in 0..2 {
        let mut lines = String::new();
        for i in 0..1500 {
            let text = format!(
                "Record {i} of shard {shard}.\n\n{}\n\nShare This\n",
                paragraph.repeat(20)
            );
            lines.push_str(&format!(
                "{{\"id\":\"{shard}-{i}\",\"text\":{}}}\n",
                serde_json::to_string(&text).unwrap()
            ));
            if i == 3 {
                lines.push_str("{\"id\":\"broken\",\"text\":\n");
            }
        }
        write(&root.join(format!("in/p03/shard-{shard}.jsonl")), lines);
    }
}

/// Every file under `root/out` and the reject file, as bytes.
fn snapshot(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = files_under(&root.join("out"))
        .into_iter()
        .map(|p| (p.display().to_string(), fs::read(root.join("out").join(&p)).unwrap()))
        .collect();
    files.push(("rejects.jsonl".into(), fs::read(root.join("rejects.jsonl")).unwrap()));
    files
}

const RUN: [&str; 8] = ["clean", "in", "--out", "out", "-q", "-j2", "--rejects", "rejects.jsonl"];

/// Two runs into one `--out` (a requeued job while the first still runs)
/// left provenance with unparseable lines and hashes matching no output.
/// Now the second finds the output locked and stops at once, touching
/// nothing, and the first writes exactly what a lone run writes.
#[test]
fn two_runs_into_one_out_one_stops_at_once_and_the_other_is_a_lone_run() {
    let lone = temp_dir();
    corpus(lone.path(), 600);
    dechaff_in(lone.path(), RUN).assert_code(1);

    let both = temp_dir();
    corpus(both.path(), 600);
    let start = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_dechaff"))
            .args(RUN)
            .current_dir(both.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (start(), start());
    let mut ended: Vec<(Option<i32>, String)> = [first, second]
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output().unwrap();
            (output.status.code(), String::from_utf8(output.stderr).unwrap())
        })
        .collect();
    ended.sort();
    assert_eq!(ended[0].0, Some(1), "{}", ended[0].1);
    assert_eq!(ended[1].0, Some(2), "one run stops: {ended:?}");
    assert_eq!(
        ended[1].1,
        "dechaff: out/.provenance.jsonl.partial (the provenance of a run under way) is locked by another \
         dechaff run writing there; wait for it to end or choose another output\n"
    );
    assert_eq!(snapshot(both.path()), snapshot(lone.path()));
    assert_eq!(
        provenance(&both.path().join("out")).len(),
        provenance(&lone.path().join("out")).len()
    );
}

/// SIGTERM (what Slurm sends before a requeue) killed the run at once; now
/// the run finishes what is under way, leaves its provenance for
/// `--resume`, and exits 143; the resumed run ends with the bytes of an
/// uninterrupted one, as after a `SIGKILL` (see `resume`).
#[cfg(unix)]
#[test]
fn sigterm_part_way_then_resume_writes_the_bytes_of_an_uninterrupted_run() {
    let whole = temp_dir();
    corpus(whole.path(), 1200);
    dechaff_in(whole.path(), RUN).assert_code(1);

    let stopped = temp_dir();
    corpus(stopped.path(), 1200);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dechaff"))
        .args(RUN)
        .current_dir(stopped.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let partial = stopped.path().join("out/.provenance.jsonl.partial");
    while fs::read(&partial).map_or(0, |text| text.iter().filter(|&&b| b == b'\n').count()) < 200 {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before the signal");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let signalled = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(signalled.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(143), "{stderr}");
    assert!(stderr.contains("dechaff: stopped by signal 15;"), "{stderr}");
    let out = stopped.path().join("out");
    assert!(!out.join("provenance.jsonl").exists(), "a stopped run looks finished");
    let text = fs::read_to_string(&partial).unwrap();
    assert!(text.ends_with('\n'), "provenance was flushed whole");
    assert!(
        snapshot(stopped.path()).len() < snapshot(whole.path()).len(),
        "the run had finished before the signal"
    );

    let mut resume: Vec<&str> = RUN.to_vec();
    resume.push("--resume");
    dechaff_in(stopped.path(), &resume).assert_code(1);
    assert_eq!(snapshot(stopped.path()), snapshot(whole.path()));
}

/// The README says `--rejects` gets every refused document, `--doc-timeout`
/// included, but a text file past the timeout never reached it.
#[test]
fn a_text_file_past_the_doc_timeout_reaches_the_reject_file() {
    let dir = temp_dir();
    write(&dir.path().join("in/a.txt"), "A page.\nShare This\n");
    let run = dechaff_in(
        dir.path(),
        [
            "clean",
            "in",
            "--out",
            "out",
            "--doc-timeout",
            "0.000000001",
            "--rejects",
            "rejects.jsonl",
        ],
    );
    run.assert_code(1);
    let rejects: Vec<serde_json::Value> = fs::read_to_string(dir.path().join("rejects.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0]["source"], "in/a.txt");
    assert_eq!(rejects[0]["bytes"], 19);
    assert!(
        rejects[0]["reason"].as_str().unwrap().contains("over --doc-timeout"),
        "{rejects:?}"
    );
    assert!(!dir.path().join("out/a.txt").exists());
}

/// A file name with an escape sequence reached the terminal raw (it can
/// retitle the window or forge a line); now it is printed escaped.
#[cfg(unix)]
#[test]
fn control_characters_in_file_names_are_printed_escaped() {
    let dir = temp_dir();
    write(
        &dir.path().join("in/evil\u{1b}]0;owned\u{7}\n.txt"),
        "A page too long. ".repeat(10),
    );
    let run = dechaff_in(dir.path(), ["clean", "in", "--out", "out", "--max-doc-bytes", "100"]);
    run.assert_code(1);
    assert!(
        !run.stderr.contains('\u{1b}') && !run.stderr.contains('\u{7}'),
        "{:?}",
        run.stderr
    );
    assert!(
        run.stderr.contains("dechaff: in/evil\\u{1b}]0;owned\\u{7}\\n.txt: "),
        "{:?}",
        run.stderr
    );
}

/// `--resume` trusted an output by its size: one changed without changing
/// size was copied forward, and provenance re-asserted its old SHA-256.
/// Now each output is checked against its recorded hash, and redone.
#[test]
fn resume_redoes_an_output_changed_without_changing_size() {
    let dir = temp_dir();
    write(&dir.path().join("in/a.txt"), "A page about the harbour.\nShare This\n");
    write(&dir.path().join("in/b.txt"), "A page about the school.\nShare This\n");
    write(
        &dir.path().join("in/c.jsonl"),
        "{\"id\":\"1\",\"text\":\"A record.\\nShare This\\n\"}\n",
    );
    dechaff_in(dir.path(), ["clean", "in", "--out", "out", "-q"]).assert_code(0);
    let out = dir.path().join("out");
    let (a, c) = (
        fs::read(out.join("a.txt")).unwrap(),
        fs::read(out.join("c.jsonl")).unwrap(),
    );
    let before = fs::read(out.join("provenance.jsonl")).unwrap();
    for (name, bytes) in [("a.txt", &a), ("c.jsonl", &c)] {
        let mut changed = bytes.clone();
        changed[0] ^= 0x20;
        fs::write(out.join(name), changed).unwrap();
    }
    let run = dechaff_in(dir.path(), ["clean", "in", "--out", "out", "--resume"]);
    run.assert_code(0)
        .assert_stderr_line("dechaff: --resume: 2 files cleaned again, 1 files copied forward by --resume");
    assert_eq!(fs::read(out.join("a.txt")).unwrap(), a);
    assert_eq!(fs::read(out.join("c.jsonl")).unwrap(), c);
    assert_eq!(fs::read(out.join("provenance.jsonl")).unwrap(), before);
}

/// The system calls `strace` saw a run make, each as (thread, call), in
/// order; `None` where `strace` is not installed and the test may skip
/// (`.ci/run` installs it and sets `DECHAFF_TEST_NEEDS_STRACE`, so there it
/// cannot).
fn traced_calls(dir: &Path, args: &[&str]) -> Option<Vec<(String, String)>> {
    let available = std::process::Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|output| output.status.success());
    if !available {
        assert!(
            std::env::var_os("DECHAFF_TEST_NEEDS_STRACE").is_none(),
            "strace is needed (DECHAFF_TEST_NEEDS_STRACE is set) but does not run"
        );
        eprintln!("strace is not installed: skipped");
        return None;
    }
    let log = dir.join("strace.log");
    let status = std::process::Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-e",
            "trace=fsync,fdatasync,rename,renameat,renameat2",
            "-o",
        ])
        .arg(&log)
        .arg(env!("CARGO_BIN_EXE_dechaff"))
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(status.success(), "{status}");
    let text = fs::read_to_string(&log).unwrap();
    fs::remove_file(&log).unwrap();
    Some(
        text.lines()
            .filter_map(|line| line.split_once(' '))
            .map(|(thread, call)| (thread.to_string(), call.trim().to_string()))
            .collect(),
    )
}

/// Outputs were renamed into place but never flushed to the disk, so a
/// node's crash could leave empty files under final names, which `--resume`
/// then trusted. With `--durable` each output's data is synced before its
/// rename and its directory after, in the thread that writes it.
#[cfg(target_os = "linux")]
#[test]
fn durable_outputs_are_synced_before_their_rename_and_their_directory_after() {
    let dir = temp_dir();
    for name in ["in/a.txt", "in/sub/b.txt", "in/sub/deeper/c.txt"] {
        write(&dir.path().join(name), "A page about the harbour.\nShare This\n");
    }
    let renames_of_outputs = |calls: &[(String, String)]| -> Vec<usize> {
        calls
            .iter()
            .enumerate()
            .filter(|(_, (_, call))| call.starts_with("renameat") && call.contains(".txt\") = 0"))
            .map(|(at, _)| at)
            .collect()
    };
    let Some(calls) = traced_calls(dir.path(), &["clean", "in", "--out", "out", "-q", "-j1", "--durable"]) else {
        return;
    };
    let renames = renames_of_outputs(&calls);
    assert_eq!(renames.len(), 3, "{calls:#?}");
    for &at in &renames {
        let thread = &calls[at].0;
        let before = calls[..at].iter().rev().find(|(t, _)| t == thread);
        let after = calls[at + 1..].iter().find(|(t, _)| t == thread);
        for (place, call) in [("before", before), ("after", after)] {
            assert!(
                call.is_some_and(|(_, call)| call.starts_with("fsync(")),
                "no fsync {place} {}: {calls:#?}",
                calls[at].1
            );
        }
    }
    // Without it, outputs are renamed unsynced: the check above can fail.
    let plain = dir.path().join("plain");
    fs::create_dir(&plain).unwrap();
    fs::rename(dir.path().join("in"), plain.join("in")).unwrap();
    let calls = traced_calls(&plain, &["clean", "in", "--out", "out", "-q", "-j1"]).unwrap();
    let renames = renames_of_outputs(&calls);
    assert_eq!(renames.len(), 3, "{calls:#?}");
    for &at in &renames {
        let thread = &calls[at].0;
        let before = calls[..at].iter().rev().find(|(t, _)| t == thread);
        assert!(
            !before.is_some_and(|(_, call)| call.starts_with("fsync(")),
            "{calls:#?}"
        );
    }
}
