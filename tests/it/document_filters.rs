//! Document filters (`--drop empty,over-budget`, `--dropped FILE`): a
//! document emptied by cleaning or over the removal budget is not written,
//! goes with its reason to the dropped file, is counted, and does not fail
//! the run; `--resume` gives exactly what an uninterrupted run gives.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::io_formats::{clean_page, json_lines, page};
use crate::run_stats::stats;
use crate::util::{dechaff_in, provenance, temp_dir, write};

/// A kept page, a page the rules empty, a page they cut by a third (over a
/// budget of 20%), each a JSONL line as written.
fn shard_lines() -> Vec<String> {
    vec![
        serde_json::json!({"id": "kept", "text": page(0), "lang": "en"}).to_string(),
        serde_json::json!({"id": "emptied", "text": "Share This\n", "meta": {"n": 1}}).to_string(),
        serde_json::json!({"id": "cut", "text": "The harbour plan passed.\nShare This\n"}).to_string(),
    ]
}

const FILTERS: [&str; 6] = [
    "--drop",
    "empty,over-budget",
    "--removal-budget",
    "0.2",
    "--dropped",
    "dropped.jsonl",
];

#[test]
fn dropped_documents_leave_the_output_for_the_dropped_file_and_the_run_succeeds() {
    let dir = temp_dir();
    let lines = shard_lines();
    write(&dir.path().join("in/a.jsonl"), lines.join("\n") + "\n");
    // --strict would fail the run for the page over the budget: dropping it is no failure.
    let mut args = vec!["clean", "in", "--out", "out", "--strict"];
    args.extend(FILTERS);
    let run = dechaff_in(dir.path(), &args);
    run.assert_code(0);
    assert!(
        run.stderr
            .contains("1 documents written, 0 rejected, 2 dropped, 0 with warnings"),
        "{}",
        run.stderr
    );

    let written = json_lines(&dir.path().join("out/a.jsonl"));
    assert_eq!(written.len(), 1);
    assert_eq!(written[0]["text"], clean_page(0));

    let dropped = json_lines(&dir.path().join("dropped.jsonl"));
    let reasons: Vec<&str> = dropped.iter().map(|d| d["reason"].as_str().unwrap()).collect();
    assert_eq!(reasons, ["empty", "over-budget"]);
    for (line, original) in dropped.iter().zip(&lines[1..]) {
        assert_eq!(line["source"], "in/a.jsonl");
        // The record as it came: every field, the text uncleaned.
        assert_eq!(line["record"], serde_json::from_str::<Value>(original).unwrap());
    }
    assert_eq!(
        (dropped[0]["line"].as_u64(), dropped[1]["line"].as_u64()),
        (Some(2), Some(3))
    );
    assert_eq!(dropped[1]["id"], "cut");

    let records = provenance(&dir.path().join("out"));
    let statuses: Vec<(&str, Option<&str>)> = records
        .iter()
        .filter(|r| r.get("document").is_some())
        .map(|r| (r["status"].as_str().unwrap(), r["dropped"].as_str()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("ok", None),
            ("dropped", Some("empty")),
            ("dropped", Some("over-budget"))
        ]
    );
    let file = records.iter().find(|r| r.get("documents").is_some()).unwrap();
    assert_eq!(file["documents"]["dropped"], 2);
    assert_eq!(file["documents"]["written"], 1);

    let stats = stats(&dir.path().join("out/stats.json"));
    assert_eq!(
        stats["documents"]["dropped"],
        serde_json::json!({"empty": 1, "over-budget": 1})
    );
    assert_eq!(stats["documents"]["written"], 1);
    assert_eq!(stats["documents"]["rejected"], 0);
}

#[test]
fn without_a_filter_nothing_is_dropped_and_without_dropped_they_are_only_counted() {
    let dir = temp_dir();
    write(&dir.path().join("in/a.jsonl"), shard_lines().join("\n") + "\n");
    dechaff_in(dir.path(), ["clean", "in", "--out", "out", "-q"]).assert_code(0);
    assert_eq!(json_lines(&dir.path().join("out/a.jsonl")).len(), 3);

    let run = dechaff_in(dir.path(), ["clean", "in", "--out", "out2", "--drop", "empty"]);
    run.assert_code(0);
    assert!(
        run.stderr.contains("2 documents written, 0 rejected, 1 dropped"),
        "{}",
        run.stderr
    );
    assert_eq!(json_lines(&dir.path().join("out2/a.jsonl")).len(), 2);
    assert!(!dir.path().join("dropped.jsonl").exists());
}

/// A text file is a document too: dropped, it has no output, and one left
/// by an earlier run goes, so the output tree never shows it as cleaned.
#[test]
fn a_dropped_text_file_has_no_output_and_a_stale_one_goes() {
    let dir = temp_dir();
    write(&dir.path().join("in/a.txt"), "Share This\n");
    write(&dir.path().join("in/b.txt"), page(1));
    write(&dir.path().join("out/a.txt"), "from an earlier run\n");
    let mut args = vec!["clean", "in", "--out", "out", "-q"];
    args.extend(FILTERS);
    dechaff_in(dir.path(), &args).assert_code(0);
    assert!(!dir.path().join("out/a.txt").exists());
    assert_eq!(fs::read_to_string(dir.path().join("out/b.txt")).unwrap(), clean_page(1));
    let dropped = json_lines(&dir.path().join("dropped.jsonl"));
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0]["source"], "in/a.txt");
    assert_eq!(dropped[0]["reason"], "empty");
    assert_eq!(
        dropped[0]["record"],
        serde_json::json!({"id": "in/a.txt", "text": "Share This\n"})
    );
    assert!(
        dropped[0].get("line").is_none(),
        "a text file has no place inside a file"
    );
    let stats = stats(&dir.path().join("out/stats.json"));
    assert_eq!(stats["files"]["dropped"], 1);
    assert_eq!(stats["files"]["ok"], 1);
}

/// A resumed run gives exactly what an uninterrupted one gives: the same
/// outputs, the same dropped file, the same counts, whether an input with
/// dropped documents is copied forward (no --dropped) or cleaned again
/// (--dropped, whose lines only the input holds).
#[test]
fn resume_keeps_dropped_documents_dropped_and_counted() {
    let dir = temp_dir();
    write(&dir.path().join("in/a.jsonl"), shard_lines().join("\n") + "\n");
    write(&dir.path().join("in/b.txt"), "Share This\n");
    write(&dir.path().join("in/c.txt"), page(2));
    let mut args = vec!["clean", "in", "--out", "out", "-q"];
    args.extend(FILTERS);
    dechaff_in(dir.path(), &args).assert_code(0);
    let first_dropped = fs::read(dir.path().join("dropped.jsonl")).unwrap();
    let first_output = fs::read(dir.path().join("out/a.jsonl")).unwrap();
    let stats_of = |dir: &Path| -> Value {
        let stats = stats(&dir.join("out/stats.json"));
        serde_json::json!([stats["documents"], stats["files"]["dropped"]])
    };
    let first_stats = stats_of(dir.path());

    args.push("--resume");
    dechaff_in(dir.path(), &args).assert_code(0);
    assert_eq!(fs::read(dir.path().join("dropped.jsonl")).unwrap(), first_dropped);
    assert_eq!(fs::read(dir.path().join("out/a.jsonl")).unwrap(), first_output);
    assert!(!dir.path().join("out/b.txt").exists());
    assert_eq!(stats_of(dir.path()), first_stats);

    // Without --dropped, every input is copied forward, the dropped ones too.
    let run = dechaff_in(
        dir.path(),
        [
            "clean",
            "in",
            "--out",
            "out",
            "--drop",
            "empty,over-budget",
            "--removal-budget",
            "0.2",
            "--resume",
        ],
    );
    run.assert_code(0);
    assert!(
        run.stderr.contains("0 files cleaned again, 3 files copied forward"),
        "{}",
        run.stderr
    );
    assert_eq!(fs::read(dir.path().join("out/a.jsonl")).unwrap(), first_output);
    assert!(!dir.path().join("out/b.txt").exists());
    assert_eq!(stats_of(dir.path())[0]["dropped"], first_stats[0]["dropped"]);
}

#[test]
fn the_dropped_file_is_held_to_the_rules_of_the_rejects_file() {
    let dir = temp_dir();
    write(&dir.path().join("in/a.jsonl"), shard_lines().join("\n") + "\n");
    let cases: [(&[&str], &str); 4] = [
        (
            &[
                "clean",
                "in",
                "--out",
                "o",
                "--drop",
                "empty",
                "--dropped",
                "in/x.jsonl",
            ],
            "dechaff: --dropped in/x.jsonl is inside the input in; dechaff never writes over or inside an input",
        ),
        (
            &["clean", "in", "--out", "o", "--drop", "empty", "--dropped", "o/a.jsonl"],
            "dechaff: in/a.jsonl would be written to o/a.jsonl, which dechaff keeps for --dropped",
        ),
        (
            &[
                "clean",
                "in",
                "--out",
                "o",
                "--drop",
                "empty",
                "--dropped",
                "r.jsonl",
                "--rejects",
                "r.jsonl",
            ],
            "dechaff: --dropped and --rejects must be different files",
        ),
        (
            &["clean", "in", "--drop", "empty", "--attributes", "attrs"],
            "error: the argument '--drop <WHAT>' cannot be used with '--attributes <DIR>'",
        ),
    ];
    for (args, message) in cases {
        dechaff_in(dir.path(), args).assert_code(2).assert_stderr_line(message);
    }
    let run = dechaff_in(dir.path(), ["clean", "in", "--out", "o", "--drop", "everything"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("invalid value 'everything' for '--drop <WHAT>'"),
        "{}",
        run.stderr
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("in/a.jsonl")).unwrap(),
        shard_lines().join("\n") + "\n"
    );
}
