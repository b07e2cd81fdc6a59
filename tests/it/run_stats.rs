//! What a run tells about itself: `stats.json`, the summary at the end,
//! `stats merge`, the `report` page, `-q` and `--json`.

use std::path::Path;

use serde_json::Value;

use crate::util::{dechaff_in, provenance, temp_dir, write};

const PACK: &str = r#"[pack]
name = "t"
version = "1"
description = "stats test"

[[rule]]
id = "t.share"
description = "share label"
literals = ["Share This"]

[[rule]]
id = "t.footer"
description = "copyright footer"
pattern = 'copyright \d{4} .+'
"#;

const BODY: &str = "The council met on Tuesday to discuss the new bridge over the river, which has been closed for repairs since the spring floods.";

/// Writes a tree of two text files and a JSONL shard of `records` records, with the test pack.
fn tree(dir: &Path, records: usize) {
    write(&dir.join("t.toml"), PACK);
    write(
        &dir.join("in/a.txt"),
        format!("Share This\n{BODY}\nCopyright 2024 Example News\n"),
    );
    write(&dir.join("in/b.txt"), format!("{BODY}\n"));
    let mut shard = String::new();
    for i in 0..records {
        let text = if i % 2 == 0 {
            format!("{BODY}\nShare This\n")
        } else {
            format!("{BODY} Number {i}.\n")
        };
        shard.push_str(&serde_json::json!({"id": format!("doc-{i}"), "text": text}).to_string());
        shard.push('\n');
    }
    shard.push_str("{\"id\": \"broken\", \"text\": \"no closing quote}\n");
    write(&dir.join("in/shard.jsonl"), shard);
}

fn clean(dir: &Path, extra: &[&str]) -> crate::util::Run {
    let mut args = vec!["clean", "in", "--out", "out", "--rules", "t.toml", "--no-default-rules"];
    args.extend_from_slice(extra);
    dechaff_in(dir, args)
}

/// A JSON file (`stats.json`) read whole.
pub(crate) fn stats(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_clean_run_writes_stats_that_agree_with_its_provenance() {
    let dir = temp_dir();
    tree(dir.path(), 10);
    clean(dir.path(), &[]).assert_code(1);
    let stats = stats(&dir.path().join("out/stats.json"));
    assert_eq!(stats["schema"], "dechaff.stats/1");
    assert_eq!(stats["files"]["planned"], 3);
    assert_eq!(stats["files"]["ok"], 3);
    // Two text files and ten records written; the broken line refused.
    assert_eq!(stats["documents"]["written"], 12);
    assert_eq!(stats["documents"]["rejected"], 1);
    assert_eq!(stats["documents"]["changed"], 6);
    let share = &stats["rules"]["t.share"];
    assert_eq!(share["action"], "drop-line");
    assert_eq!(share["documents"], 6);
    assert_eq!(share["spans"], 6);
    assert_eq!(share["bytes"], 6 * "Share This\n".len());
    assert_eq!(share["examples"], serde_json::json!(["Share This"]));
    assert_eq!(stats["rules"]["t.footer"]["documents"], 1);

    // The same figures, counted from provenance.
    let records = provenance(&dir.path().join("out"));
    let documents: Vec<&Value> = records
        .iter()
        .filter(|r| r["status"] == "ok" && (r.get("document").is_some() || r.get("documents").is_none()))
        .collect();
    let removed: u64 = documents
        .iter()
        .flat_map(|r| r["removed"].as_array().unwrap())
        .map(|span| span["bytes"][1].as_u64().unwrap() - span["bytes"][0].as_u64().unwrap())
        .sum();
    assert_eq!(stats["bytes"]["removed_by_rules"], removed);
    let decoded: u64 = documents
        .iter()
        .map(|r| r["input"]["decoded_bytes"].as_u64().unwrap())
        .sum();
    assert_eq!(stats["bytes"]["decoded_in"], decoded);
    let histogram: u64 = stats["removed_share_histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(histogram, 12);
    let position: u64 = stats["removed_bytes_by_position"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(position, removed);
    let rejects = stats["rejects"].as_object().unwrap();
    assert_eq!(rejects.values().map(|n| n.as_u64().unwrap()).sum::<u64>(), 1);
    assert!(
        rejects.keys().all(|reason| reason.contains("malformed JSON")),
        "{rejects:?}"
    );
    let top = stats["top_documents"].as_array().unwrap();
    assert_eq!(top[0]["source"], "in/a.txt");
    assert_eq!(top[1]["record"], 0);
    assert_eq!(top[1]["id"], "doc-0");
}

/// Regression: the summary said "16 with warnings" (documents) right after
/// "3 files", printed "0 files copied forward by --resume" on runs without
/// --resume, and "0 B out" with --out -.
#[test]
fn the_summary_names_what_each_count_counts() {
    let dir = temp_dir();
    tree(dir.path(), 4);
    let run = clean(dir.path(), &[]);
    run.assert_stderr_line(
        "dechaff: 3 files (3 ok, 0 failed, 0 skipped); 6 documents written, 1 rejected, 0 with warnings",
    );
    assert!(!run.stderr.contains("--resume"), "{}", run.stderr);
    let to_stdout = dechaff_in(
        dir.path(),
        [
            "clean",
            "in/shard.jsonl",
            "--out",
            "-",
            "--rules",
            "t.toml",
            "--no-default-rules",
        ],
    );
    let bytes = to_stdout
        .stderr
        .lines()
        .find(|line| line.contains(" read, "))
        .unwrap_or_default();
    assert!(bytes.contains(" of text to standard output;"), "{}", to_stdout.stderr);
    assert!(!bytes.contains("0 B"), "{}", to_stdout.stderr);
    let resumed = clean(dir.path(), &["--resume"]);
    resumed.assert_stderr_line("dechaff: --resume: 0 files cleaned again, 3 files copied forward by --resume");
}

#[test]
fn quiet_silences_warnings_that_provenance_keeps() {
    let dir = temp_dir();
    tree(dir.path(), 2);
    write(&dir.path().join("in/c.txt"), "Share This\nShare This\nshort\n");
    let loud = clean(dir.path(), &[]);
    assert!(
        loud.stderr.contains("in/c.txt: warning: the rules removed"),
        "{}",
        loud.stderr
    );
    let quiet = clean(dir.path(), &["-q"]);
    assert!(!quiet.stderr.contains("warning"), "{}", quiet.stderr);
    // The refused record is an error, not a warning: it is still printed.
    assert!(quiet.stderr.contains("malformed JSON"), "{}", quiet.stderr);
    let records = provenance(&dir.path().join("out"));
    let c = records.iter().find(|r| r["source"] == "in/c.txt").unwrap();
    assert_eq!(c["warnings"].as_array().unwrap().len(), 1);
}

#[test]
fn json_prints_the_summary_as_one_object_for_schedulers() {
    let dir = temp_dir();
    tree(dir.path(), 4);
    let run = clean(dir.path(), &["--json"]);
    run.assert_code(1);
    let last = run.stderr.lines().last().unwrap();
    let summary: Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {}", run.stderr));
    assert_eq!(summary["ok"], false);
    assert_eq!(summary["files"]["planned"], 3);
    assert_eq!(summary["documents"]["written"], 6);
    assert_eq!(summary["stats"], "out/stats.json");
    assert!(
        !run.stderr.contains("documents written,"),
        "no text summary with --json: {}",
        run.stderr
    );

    clean(dir.path(), &["--json", "summary.json"]).assert_code(1);
    let written = stats(&dir.path().join("summary.json"));
    assert_eq!(written["documents"]["rejected"], 1);
}

/// The shards of one run, merged, give the figures of the run over everything.
#[test]
fn merged_shard_stats_equal_the_whole_run() {
    let dir = temp_dir();
    tree(dir.path(), 6);
    for i in 0..4 {
        write(
            &dir.path().join(format!("in/more-{i}.txt")),
            format!("Share This\n{BODY}\n"),
        );
    }
    clean(dir.path(), &["-q"]).assert_code(1);
    let whole = stats(&dir.path().join("out/stats.json"));
    let _ = std::fs::remove_dir_all(dir.path().join("out"));
    clean(dir.path(), &["-q", "--shard", "1/2"]);
    clean(dir.path(), &["-q", "--shard", "2/2"]);
    assert!(dir.path().join("out/stats.1-of-2.json").exists());
    dechaff_in(dir.path(), ["stats", "merge", "out", "-o", "merged.json"]).assert_code(0);
    let merged = stats(&dir.path().join("merged.json"));
    assert_eq!(merged["runs"].as_array().unwrap().len(), 2);
    for field in [
        "files",
        "documents",
        "bytes",
        "rules",
        "actions",
        "rejects",
        "removed_share_histogram",
    ] {
        assert_eq!(merged[field], whole[field], "{field}");
    }
    let sources = |stats: &Value| -> Vec<Value> {
        let mut top: Vec<Value> = stats["top_documents"].as_array().unwrap().clone();
        top.sort_by_key(|d| d.to_string());
        top
    };
    assert_eq!(sources(&merged), sources(&whole));
}

#[test]
fn report_writes_one_page_that_needs_nothing_from_the_network() {
    let dir = temp_dir();
    tree(dir.path(), 6);
    clean(dir.path(), &["-q"]);
    dechaff_in(dir.path(), ["report", "out", "-o", "report.html"]).assert_code(0);
    // The template escapes `/` too, which a browser shows as it was.
    let page = std::fs::read_to_string(dir.path().join("report.html"))
        .unwrap()
        .replace("&#x2f;", "/");
    for expected in [
        "<table id=\"rules\"",
        "<code>t.share</code>",
        "<code>t.footer</code>",
        "dechaff explain in/shard.jsonl --record 0",
        "malformed JSON",
    ] {
        assert!(page.contains(expected), "the page lacks {expected:?}");
    }
    assert_eq!(page.matches("<svg").count(), 2);
    // Offline: no script, style sheet, image or font from elsewhere.
    for outside in ["src=\"http", "href=\"http", "url(http", "@import", "<link"] {
        assert!(!page.contains(outside), "the page loads {outside:?}");
    }
    // Removed text is escaped, never markup.
    write(
        &dir.path().join("in/b.txt"),
        "<script>alert(1)</script> Share This\nShare This\n",
    );
    write(
        &dir.path().join("t.toml"),
        format!("{PACK}\n[[rule]]\nid = \"t.script\"\ndescription = \"script\"\npattern = '<script>.*'\n"),
    );
    clean(dir.path(), &["-q"]);
    dechaff_in(dir.path(), ["report", "out", "-o", "report.html"]).assert_code(0);
    let page = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(page.contains("&lt;script&gt;alert(1)"), "the example is escaped");
    assert_eq!(page.matches("<script").count(), 1, "only the page's own sorting script");
}

#[test]
fn report_on_a_directory_without_stats_says_what_it_expected() {
    let dir = temp_dir();
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let run = dechaff_in(dir.path(), ["report", "empty"]);
    run.assert_code(2);
    assert_eq!(
        run.first_stderr_line(),
        "dechaff: empty: no stats.json here: is it the --out of a dechaff clean run?"
    );
}

/// What a `clean` of one JSONL shard of `records` records, run with `flags`
/// under a pseudo-terminal (`script`), drew on the terminal.
fn terminal_of_one_shard(records: usize, flags: &str) -> String {
    let dir = temp_dir();
    write(&dir.path().join("t.toml"), PACK);
    let mut shard = String::new();
    for i in 0..records {
        let text = format!("{BODY}\nShare This\n");
        shard.push_str(&serde_json::json!({"id": i.to_string(), "text": text}).to_string());
        shard.push('\n');
    }
    write(&dir.path().join("big.jsonl"), shard);
    let command = format!(
        "{} clean big.jsonl --out out --rules t.toml --no-default-rules {flags}",
        env!("CARGO_BIN_EXE_dechaff")
    );
    let output = std::process::Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .current_dir(dir.path())
        .env("TERM", "xterm")
        .output()
        .expect("script (util-linux) runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Corpus mode's first pass, which reads every document once before any
/// is cleaned, shows what it has counted too.
#[test]
fn progress_shows_the_counting_pass_of_corpus_mode() {
    let terminal = terminal_of_one_shard(2000, "--corpus");
    assert!(
        terminal.contains("counting lines for --corpus: ") && !terminal.contains("--corpus: 0 documents"),
        "no progress while counting:\n{terminal}"
    );
}

/// Regression: on one big JSONL shard the progress line stayed at
/// `0/1 files, 0 B` until the end. Run under a pseudo-terminal (`script`),
/// the line shows documents and bytes while the one file is still open.
#[test]
fn progress_advances_inside_one_big_shard() {
    let terminal = terminal_of_one_shard(1000, "");
    let inside: Vec<&str> = terminal
        .split(['\r', '\n'])
        .filter(|line| line.contains("0/1 files, ") && line.contains(" documents, "))
        .collect();
    assert!(
        inside.iter().any(|line| !line.contains("0/1 files, 0 documents")),
        "no progress inside the file:\n{terminal}"
    );
}
