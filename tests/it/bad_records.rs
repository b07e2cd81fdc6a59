//! Every kind of bad record, from the fixtures in `fixtures/bad/records/`: each is
//! reported with its file and line (or record offset), written to the reject
//! file with the reason, counted, and the rest of its file is still cleaned.
//!
//! The fixtures are small files written for these tests: a malformed JSONL
//! line, a record without its text field, text fields that are not strings,
//! an oversized line, gzip and zstd streams cut in the middle, and a WARC file
//! with a wrong Content-Length and a broken header between good records.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::io_formats::read_decompressed;
use crate::util::{dechaff_in, provenance, temp_dir, Run};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/bad/records")
        .join(name)
}

/// Cleans one fixture with a reject file; returns the run, the reject lines,
/// the provenance records and the output's JSON lines.
fn clean_fixture(name: &str, extra: &[&str]) -> (Run, Vec<Value>, Vec<Value>, Vec<Value>) {
    let dir = temp_dir();
    let input = dir.path().join(name);
    fs::copy(fixture(name), &input).unwrap();
    let mut args = vec!["clean", name, "--out", "out", "--rejects", "rejects.jsonl"];
    args.extend_from_slice(extra);
    let run = dechaff_in(dir.path(), &args);
    let rejects = fs::read_to_string(dir.path().join("rejects.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let records = provenance(&dir.path().join("out"));
    let output = records
        .last()
        .and_then(|r| r["output"].as_str())
        .map(|path| {
            String::from_utf8(read_decompressed(&dir.path().join(path)))
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        })
        .unwrap_or_default();
    (run, rejects, records, output)
}

/// The ids of the documents written.
fn ids(output: &[Value]) -> Vec<&str> {
    output.iter().map(|line| line["id"].as_str().unwrap()).collect()
}

#[test]
fn a_malformed_jsonl_line_is_rejected_with_its_line_and_the_rest_is_cleaned() {
    let name = "jsonl-malformed-line.jsonl";
    let (run, rejects, records, output) = clean_fixture(name, &[]);
    run.assert_code(1).assert_stderr_line(&format!(
        "dechaff: {name}:2: malformed JSON: EOF while parsing a string at line 1 column 42"
    ));
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0]["source"], name);
    assert_eq!(rejects[0]["line"], 2);
    assert_eq!(
        rejects[0]["record"],
        "{\"id\": \"doc-2\", \"text\": \"no closing quote}"
    );
    assert_eq!(ids(&output), ["doc-1", "doc-3"]);
    let file = records.last().unwrap();
    assert_eq!(file["status"], "ok");
    assert_eq!(file["documents"]["rejected"], 1);
    run.assert_stderr_line(
        "dechaff: 1 files (1 ok, 0 failed, 0 skipped); 2 documents written, 1 rejected, 0 with warnings",
    );
}

#[test]
fn a_record_without_its_text_field_is_rejected() {
    let name = "jsonl-missing-text.jsonl";
    let (run, rejects, _, output) = clean_fixture(name, &[]);
    run.assert_code(1).assert_stderr_line(&format!(
        "dechaff: {name}:2: the record has no \"text\" field (--text-field)"
    ));
    assert_eq!(rejects[0]["id"], "doc-2");
    assert_eq!(rejects[0]["reason"], "the record has no \"text\" field (--text-field)");
    assert_eq!(ids(&output), ["doc-1", "doc-3"]);
}

#[test]
fn a_text_field_that_is_not_a_string_is_rejected() {
    let name = "jsonl-text-not-string.jsonl";
    let (run, rejects, _, output) = clean_fixture(name, &[]);
    run.assert_code(1)
        .assert_stderr_line(&format!(
            "dechaff: {name}:2: the \"text\" field is an array, not a string (--text-field)"
        ))
        .assert_stderr_line(&format!(
            "dechaff: {name}:3: the \"text\" field is null, not a string (--text-field)"
        ));
    let lines: Vec<&Value> = rejects.iter().map(|r| &r["line"]).collect();
    assert_eq!(lines, [2, 3]);
    assert_eq!(ids(&output), ["doc-1", "doc-4"]);
}

#[test]
fn an_oversized_record_is_refused_without_being_held_and_the_rest_is_cleaned() {
    let name = "jsonl-oversized-line.jsonl";
    let (run, rejects, _, output) = clean_fixture(name, &["--max-doc-bytes", "1K"]);
    run.assert_code(1).assert_stderr_line(&format!(
        "dechaff: {name}:2: the record is 4027 bytes, over --max-doc-bytes 1024; not cleaned"
    ));
    assert_eq!(rejects[0]["bytes"], 4027);
    assert_eq!(ids(&output), ["doc-1", "doc-3"]);
    // Under the default limit the same record is cleaned.
    let (run, rejects, _, output) = clean_fixture(name, &[]);
    run.assert_code(0);
    assert!(rejects.is_empty());
    assert_eq!(ids(&output), ["doc-1", "doc-2", "doc-3"]);
}

/// A stream cut in the middle: the records before the cut are cleaned and
/// written, the cut is reported at the line where reading stopped.
fn assert_truncated(name: &str, kind: &str) {
    let (run, rejects, records, output) = clean_fixture(name, &[]);
    run.assert_code(1);
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    let line = rejects[0]["line"].as_u64().unwrap();
    assert_eq!(
        rejects[0]["reason"],
        format!("truncated {kind} stream (it ends in the middle of a block)")
    );
    assert!(line > 1, "some records came before the cut");
    assert_eq!(output.len() as u64, line - 1, "every record before the cut is written");
    run.assert_stderr_line(&format!(
        "dechaff: {name}:{line}: truncated {kind} stream (it ends in the middle of a block)"
    ));
    let file = records.last().unwrap();
    assert_eq!(file["status"], "error");
    assert_eq!(
        file["error"],
        format!(
            "stopped at line {line}: truncated {kind} stream (it ends in the middle of a block); \
             the records before it were cleaned and written"
        )
    );
    assert_eq!(file["documents"]["written"], line - 1);
    assert_eq!(file["documents"]["rejected"], 1);
}

#[test]
fn a_truncated_gzip_stream_is_reported_at_its_line_after_cleaning_what_came_before() {
    assert_truncated("jsonl-truncated.jsonl.gz", "gzip");
}

#[test]
fn a_truncated_zstd_stream_is_reported_at_its_line_after_cleaning_what_came_before() {
    assert_truncated("jsonl-truncated.jsonl.zst", "zstd");
}

#[test]
fn broken_warc_records_are_rejected_at_their_offsets_and_the_next_record_is_found() {
    let name = "warc-broken-records.warc";
    let (run, rejects, records, output) = clean_fixture(name, &[]);
    run.assert_code(1)
        .assert_stderr_line(&format!(
            "dechaff: {name}@247: broken WARC record: the body does not end where Content-Length says (no blank line after it)"
        ))
        .assert_stderr_line(&format!(
            "dechaff: {name}@492: broken WARC record: header line 3 is not `Name: value`"
        ));
    let offsets: Vec<&Value> = rejects.iter().map(|r| &r["offset"]).collect();
    assert_eq!(offsets, [247, 492]);
    assert_eq!(rejects[0]["url"], "https://news.example.org/b");
    let urls: Vec<&str> = output.iter().map(|l| l["url"].as_str().unwrap()).collect();
    assert_eq!(urls, ["https://news.example.org/a", "https://news.example.org/d"]);
    assert_eq!(
        records.last().unwrap()["documents"],
        serde_json::json!({"records": 4, "written": 2, "rejected": 2, "not_documents": 0})
    );
}

#[test]
fn with_the_bad_fixtures_together_every_record_is_accounted_for() {
    let dir = temp_dir();
    let run = dechaff_in(
        dir.path(),
        [
            "clean",
            fixture("").to_str().unwrap(),
            "--out",
            "out",
            "--rejects",
            "rejects.jsonl",
            "--max-doc-bytes",
            "1K",
        ],
    );
    run.assert_code(1);
    let records = provenance(&dir.path().join("out"));
    let rejects = fs::read_to_string(dir.path().join("rejects.jsonl")).unwrap();
    let mut counted = 0;
    for file in records.iter().filter(|r| r.get("document").is_none()) {
        let counts = &file["documents"];
        let records = counts["records"].as_u64().unwrap();
        let parts = ["written", "rejected", "not_documents"].map(|k| counts[k].as_u64().unwrap());
        assert_eq!(
            records,
            parts.iter().sum::<u64>(),
            "{}: nothing silently dropped",
            file["source"]
        );
        counted += parts[1];
    }
    assert_eq!(
        rejects.lines().count() as u64,
        counted,
        "every rejected record is in the reject file"
    );
}
