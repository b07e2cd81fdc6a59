//! `--resume` after a `SIGKILL`: the resumed run ends with the bytes an
//! uninterrupted run writes, outputs, provenance and reject file alike.
//!
//! Both runs work in their own directory with the same relative paths, so
//! nothing has to be masked: provenance names `in/…` and `out/…` in both.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::io_formats::{compress_like, page, wet_records};
use crate::util::{dechaff_in, files_under, temp_dir, write};

/// Shards big enough that a run takes a moment: JSONL (plain, gzip, zstd),
/// a WET file and some text files, with one malformed line so the reject
/// file has something to carry over.
fn corpus(root: &Path) {
    for shard in 0..8 {
        let mut lines = String::new();
        for i in 0..2500 {
            let n = shard * 10_000 + i;
            lines.push_str(&format!(
                "{{\"id\":\"s{shard}-{i}\",\"text\":{},\"source\":\"gen\"}}\n",
                serde_json::to_string(&page(n)).unwrap()
            ));
            if shard == 0 && i == 7 {
                lines.push_str("{\"id\":\"broken\",\"text\":\n");
            }
        }
        let name = match shard % 3 {
            0 => format!("in/shard-{shard}.jsonl"),
            1 => format!("in/shard-{shard}.jsonl.gz"),
            _ => format!("in/shard-{shard}.jsonl.zst"),
        };
        write(&root.join(&name), compress_like(&name, lines.as_bytes()));
    }
    write(&root.join("in/z.warc.wet"), wet_records(50).concat());
    for i in 0..5 {
        write(&root.join(format!("in/zz/page-{i}.txt")), page(i));
    }
}

const ARGS: [&str; 8] = ["clean", "in", "--out", "out", "-j", "1", "--rejects", "rejects.jsonl"];

/// Every file under `root/out` and the reject file, as bytes.
fn snapshot(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = files_under(&root.join("out"))
        .into_iter()
        .map(|p| (p.display().to_string(), fs::read(root.join("out").join(&p)).unwrap()))
        .collect();
    files.push(("rejects.jsonl".into(), fs::read(root.join("rejects.jsonl")).unwrap()));
    files
}

#[test]
fn a_killed_run_resumed_writes_the_bytes_of_an_uninterrupted_run() {
    let whole = temp_dir();
    corpus(whole.path());
    dechaff_in(whole.path(), ARGS.iter().chain(&["-q"])).assert_code(1);

    let killed = temp_dir();
    corpus(killed.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_dechaff"))
        .args(ARGS)
        .arg("-q")
        .current_dir(killed.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once the first shard is finished and the second under way.
    let first_output = killed.path().join("out/shard-0.jsonl");
    let started = Instant::now();
    while !first_output.exists() {
        assert!(started.elapsed() < Duration::from_secs(120), "no output appeared");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(50));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        !killed.path().join("out/provenance.jsonl").exists(),
        "the run finished before it was killed; the corpus is too small to test --resume"
    );
    assert!(killed.path().join("out/.provenance.jsonl.partial").exists());

    let resumed = dechaff_in(killed.path(), ARGS.iter().chain(&["--resume"]));
    resumed.assert_code(1);
    let summary = resumed.stderr.lines().last().unwrap();
    let copied: usize = summary
        .split(", ")
        .find_map(|part| part.strip_suffix(" files copied forward by --resume"))
        .unwrap_or_else(|| panic!("no resume count in {summary:?}"))
        .parse()
        .unwrap();
    assert!(copied >= 1, "the finished shard was copied forward: {summary}");
    assert!(copied < 14, "not everything was finished before the kill: {summary}");

    let (expected, actual) = (snapshot(whole.path()), snapshot(killed.path()));
    let names = |files: &[(String, Vec<u8>)]| files.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&actual),
        names(&expected),
        "the same files, and no temporaries left"
    );
    for ((name, want), (_, got)) in expected.iter().zip(&actual) {
        assert!(
            want == got,
            "{name} differs between the resumed and the uninterrupted run"
        );
    }
}

#[test]
fn resume_after_a_finished_run_redoes_only_what_changed() {
    let dir = temp_dir();
    write(
        &dir.path().join("in/a.jsonl"),
        format!("{{\"text\":{}}}\n", serde_json::to_string(&page(1)).unwrap()),
    );
    write(&dir.path().join("in/b.txt"), page(2));
    write(&dir.path().join("in/c.txt"), page(3));
    dechaff_in(dir.path(), ["clean", "in", "--out", "out", "-q"]).assert_code(0);
    let before = fs::read(dir.path().join("out/provenance.jsonl")).unwrap();

    let again = dechaff_in(dir.path(), ["clean", "in", "--out", "out", "--resume"]);
    again.assert_code(0);
    assert!(
        again.stderr.contains(", 3 files copied forward by --resume"),
        "{}",
        again.stderr
    );
    assert_eq!(fs::read(dir.path().join("out/provenance.jsonl")).unwrap(), before);

    write(&dir.path().join("in/c.txt"), page(4));
    fs::remove_file(dir.path().join("out/b.txt")).unwrap();
    let changed = dechaff_in(dir.path(), ["clean", "in", "--out", "out", "--resume"]);
    changed.assert_code(0);
    assert!(
        changed.stderr.contains(", 1 files copied forward by --resume"),
        "{}",
        changed.stderr
    );
    assert!(dir.path().join("out/b.txt").exists(), "a missing output is redone");
    let c = fs::read_to_string(dir.path().join("out/c.txt")).unwrap();
    assert!(c.starts_with("Heading number 4"), "a changed input is redone");
    assert_eq!(
        files_under(&dir.path().join("out")).len(),
        4,
        "no journal files are left after a finished run"
    );

    // Other rules make other outputs: nothing is copied forward.
    let other = dechaff_in(
        dir.path(),
        ["clean", "in", "--out", "out", "--resume", "--disable", "social"],
    );
    other.assert_code(0);
    assert!(
        other.stderr.contains(", 0 files copied forward by --resume"),
        "{}",
        other.stderr
    );
}

#[test]
fn resume_reads_a_compressed_provenance_and_writes_the_same_bytes() {
    let dir = temp_dir();
    for n in 1..=3 {
        write(&dir.path().join(format!("in/{n}.txt")), page(n));
    }
    let args = ["clean", "in", "--out", "out", "--compress", "zst", "-q"];
    dechaff_in(dir.path(), args).assert_code(0);
    let out = dir.path().join("out");
    let before = fs::read(out.join("provenance.jsonl.zst")).unwrap();
    assert!(!out.join("provenance.jsonl").exists() && !out.join(".provenance.jsonl.partial").exists());

    fs::remove_file(out.join("2.txt.zst")).unwrap();
    let again = dechaff_in(
        dir.path(),
        ["clean", "in", "--out", "out", "--compress", "zst", "--resume"],
    );
    again.assert_code(0);
    assert!(
        again.stderr.contains(", 2 files copied forward by --resume"),
        "{}",
        again.stderr
    );
    assert_eq!(fs::read(out.join("provenance.jsonl.zst")).unwrap(), before);

    // The same run uncompressed replaces the compressed provenance rather than sitting beside it.
    dechaff_in(dir.path(), ["clean", "in", "--out", "out", "-q"]).assert_code(0);
    assert!(out.join("provenance.jsonl").is_file());
    assert!(!out.join("provenance.jsonl.zst").exists());
}
