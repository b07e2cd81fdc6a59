//! The bad-input corpus: every class of input a cleaner meets unattended,
//! each with the behaviour it must get.
//!
//! Small cases are committed under `fixtures/bad/` (written for these tests,
//! no third-party text); big ones (a 50 MB line, a million lines), links,
//! FIFOs and names that are not UTF-8 are made here in a temporary tree.
//! The promise throughout: a text file in any common encoding is cleaned; a
//! file that is not text is refused with a message naming it and a record,
//! and the run goes on; nothing hangs; nothing of the article is lost.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dechaff_run::provenance::{rebuild_input, Record};
use serde_json::Value;

use crate::util::{dechaff_in, provenance, record_for, temp_dir, write, Run};

/// `fixtures/bad/NAME`.
fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bad").join(name)
}

/// The article of the text fixtures, as every decoded one must come out:
/// the share label under it is removed, the rest is kept.
const ARTICLE: &str = "Title of the page\n\nThe first paragraph of the article.\n";

/// Copies the committed text and binary fixtures (not the rule files) into `dir/in`.
fn copy_fixtures(dir: &Path) -> PathBuf {
    let input = dir.join("in");
    fs::create_dir_all(&input).unwrap();
    for entry in fs::read_dir(fixture("")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e != "toml") {
            fs::copy(&path, input.join(path.file_name().unwrap())).unwrap();
        }
    }
    input
}

/// The output of `name` as text.
fn output(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join("out").join(name)).unwrap_or_else(|e| panic!("out/{name}: {e}"))
}

/// Runs `dechaff ARGS` in `dir`, killing it if it runs longer than `limit`:
/// a hang must fail the test, not stall the suite.
#[track_caller]
fn dechaff_within(dir: &Path, args: &[&str], limit: Duration) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dechaff"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the dechaff binary runs");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("dechaff {args:?} ran longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

#[test]
fn every_text_fixture_is_cleaned_in_its_encoding_and_binaries_are_refused() {
    let dir = temp_dir();
    copy_fixtures(dir.path());
    let run = dechaff_in(dir.path(), ["clean", "in", "--out", "out", "--provenance-text", "full"]);
    // The two binary files fail; everything else is cleaned.
    run.assert_code(1);
    let records = provenance(&dir.path().join("out"));
    let record = |name: &str| record_for(&records, &format!("in/{name}")).clone();
    let encoding = |name: &str| record(name)["input"]["encoding"].as_str().unwrap().to_string();

    // Nothing, blanks, and nothing but boilerplate all give an empty output.
    for name in ["empty.txt", "whitespace-only.txt", "boilerplate-only.txt"] {
        assert_eq!(record(name)["status"], "ok", "{name}");
        assert_eq!(output(dir.path(), name), "", "{name}");
    }
    assert_eq!(record("empty.txt")["input"]["bytes"], 0);
    assert_eq!(
        record("whitespace-only.txt")["whitespace"],
        serde_json::json!([[0, 14, "  \n\t\n\u{a0}\n\r\n   \n"]])
    );
    // Emptying a document is over any budget: it is flagged, never silent.
    run.assert_stderr_line(
        "dechaff: in/boilerplate-only.txt: warning: the rules removed 100.0% of the text, \
         over the removal budget of 50.0%",
    );

    // Every encoding, with or without a byte-order mark, yields the article.
    for (name, expected) in [
        ("utf16le-bom.txt", "UTF-16LE"),
        ("utf16be-bom.txt", "UTF-16BE"),
        ("utf16le-nobom.txt", "UTF-16LE"),
        ("utf16be-nobom.txt", "UTF-16BE"),
        ("crlf.txt", "UTF-8"),
    ] {
        assert_eq!(encoding(name), expected, "{name}");
        assert_eq!(output(dir.path(), name), ARTICLE, "{name}");
        assert_eq!(record(name)["removed"][0]["rule"], "social.share-label", "{name}");
    }
    assert_eq!(encoding("windows-1252.txt"), "windows-1252");
    assert_eq!(
        output(dir.path(), "windows-1252.txt"),
        "Le caf\u{e9} de la r\u{e9}publique est ferm\u{e9} \u{e0} cause de la gr\u{e8}ve \
         g\u{e9}n\u{e9}rale.\n\nL\u{2019}entr\u{e9}e co\u{fb}te 5 \u{20ac}.\n"
    );
    assert_eq!(encoding("shift-jis.txt"), "Shift_JIS");
    assert!(output(dir.path(), "shift-jis.txt").starts_with("\u{6771}\u{4eac}\u{306e}\u{5929}\u{6c17}"));
    assert!(!output(dir.path(), "shift-jis.txt").contains("Share"));

    // UTF-8 with one stray byte: UTF-8, the byte replaced, and said so.
    let invalid = record("invalid-utf8.txt");
    assert_eq!(
        (
            invalid["input"]["encoding"].as_str(),
            invalid["input"]["lossy"].as_bool()
        ),
        (Some("UTF-8"), Some(true))
    );
    let text = output(dir.path(), "invalid-utf8.txt");
    assert!(text.starts_with("R\u{e9}sum\u{e9} de la r\u{e9}union"), "{text}");
    assert!(text.contains("A stray byte \u{fffd} here."), "{text}");

    // Lone CR (classic Mac) line ends are not line breaks yet: the file is
    // one line, kept whole (only the final CR is trimmed). Nothing is lost.
    let lone_cr = fs::read_to_string(fixture("lone-cr.txt")).unwrap();
    assert_eq!(output(dir.path(), "lone-cr.txt"), lone_cr.trim_end());
    assert_eq!(record("lone-cr.txt")["removed"], serde_json::json!([]));

    // Binary files are refused, named, recorded, and have no output.
    for (name, offset) in [("nul-bytes.bin", 9), ("pixel.png", 8)] {
        let cause = format!("binary file (NUL byte at offset {offset}); not cleaned");
        run.assert_stderr_line(&format!("dechaff: in/{name}: {cause}"));
        assert_eq!(record(name)["status"], "error");
        assert_eq!(record(name)["error"], cause.as_str());
        assert!(!dir.path().join("out").join(name).exists(), "{name} has an output");
    }

    // Every cleaned file's record rebuilds its decoded input exactly.
    for value in records.iter().filter(|r| r["status"] == "ok") {
        let typed: Record = serde_json::from_value(value.clone()).unwrap();
        let written = fs::read_to_string(dir.path().join(typed.output.as_ref().unwrap())).unwrap();
        let raw = fs::read(dir.path().join(&typed.source)).unwrap();
        let decoded = dechaff_run::decode::decode(&raw, dechaff_run::decode::EncodingChoice::Detect).unwrap();
        assert_eq!(
            rebuild_input(&written, &typed).as_deref(),
            Some(decoded.text.as_ref()),
            "{}",
            typed.source
        );
    }
}

#[test]
fn boilerplate_only_fails_under_strict() {
    let dir = temp_dir();
    fs::create_dir_all(dir.path().join("in")).unwrap();
    fs::copy(fixture("boilerplate-only.txt"), dir.path().join("in/b.txt")).unwrap();
    let run = dechaff_in(dir.path(), ["clean", "in", "--out", "out", "--strict"]);
    run.assert_code(1);
    assert!(!dir.path().join("out/b.txt").exists());
    assert_eq!(provenance(&dir.path().join("out"))[0]["status"], "error");
}

/// One line of 50 MB: no quadratic step anywhere (a line is folded,
/// searched and cut once), the whole-line rules skip it, the inline rule
/// still cuts inside it, and the rest is kept byte for byte.
#[test]
fn a_50_mb_line_is_cleaned_in_one_pass() {
    let dir = temp_dir();
    let filler = "The quick brown fox jumps over the lazy dog. ".repeat(50_000_000 / 45);
    let line = format!("Write to [email protected] now. {filler}Share This\n");
    write(&dir.path().join("in/line.txt"), &line);
    let run = dechaff_within(
        dir.path(),
        &["clean", "in", "--out", "out", "-q"],
        Duration::from_secs(300),
    );
    run.assert_code(0);
    let written = fs::read(dir.path().join("out/line.txt")).unwrap();
    let expected = format!("Write to now. {filler}Share This\n");
    assert!(written == expected.as_bytes(), "the long line was not kept whole");
    let records = provenance(&dir.path().join("out"));
    assert_eq!(records[0]["removed"][0]["rule"], "contact.cloudflare-email");
}

/// A million one-word lines: the line machinery and the heuristics stay
/// linear (a page of one repeated line once made the classifier quadratic).
#[test]
fn a_million_tiny_lines() {
    let dir = temp_dir();
    let mut text = String::with_capacity(2_100_000);
    for i in 0..1_000_000 {
        text.push_str(if i % 1000 == 999 { "Share This\n" } else { "a\n" });
    }
    write(&dir.path().join("in/lines.txt"), &text);

    // Phrase rules alone: exactly the thousand share labels go.
    let run = dechaff_within(
        dir.path(),
        &["clean", "in", "--out", "out", "-q", "--no-heuristics"],
        Duration::from_secs(300),
    );
    run.assert_code(0);
    let written = fs::read_to_string(dir.path().join("out/lines.txt")).unwrap();
    assert_eq!(written, "a\n".repeat(999_000));
    let records = provenance(&dir.path().join("out"));
    assert_eq!(records[0]["input"]["lines"], 1_000_000);
    assert_eq!(records[0]["cleaned"]["lines"], 999_000);
    assert_eq!(records[0]["removed"].as_array().unwrap().len(), 1000);

    // With the heuristics (the default) the page is no article at all; what
    // matters is that it finishes, and every removed line is accounted for.
    let run = dechaff_within(
        dir.path(),
        &["clean", "in", "--out", "out-default", "-q"],
        Duration::from_secs(300),
    );
    run.assert_code(0);
    let records = provenance(&dir.path().join("out-default"));
    let removed_lines: u64 = records[0]["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["lines"][1].as_u64().unwrap() - r["lines"][0].as_u64().unwrap() + 1)
        .sum();
    let kept_lines = records[0]["cleaned"]["lines"].as_u64().unwrap();
    assert!(kept_lines >= 1, "a page is never emptied by the heuristics");
    assert_eq!(removed_lines + kept_lines, 1_000_000);
}

/// Makes a FIFO with the system's `mkfifo` (std has no call for it).
#[cfg(unix)]
fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// A FIFO inside a walked directory would block the run forever if it were
/// opened (no one writes to it): it is passed over as not a regular file.
#[cfg(unix)]
#[test]
fn a_fifo_in_a_directory_is_skipped_not_opened() {
    let dir = temp_dir();
    write(&dir.path().join("in/a.txt"), "First file.\n");
    mkfifo(&dir.path().join("in/pipe"));
    let run = dechaff_within(dir.path(), &["clean", "in", "--out", "out"], Duration::from_secs(60));
    run.assert_code(0);
    run.assert_stderr_line("dechaff: in/pipe: skipped: not a regular file");
    let records = provenance(&dir.path().join("out"));
    assert_eq!(record_for(&records, "in/pipe")["status"], "skipped");
    assert!(!dir.path().join("out/pipe").exists());
}

/// A FIFO named on the command line is read like any stream, as `cat`
/// would (`dechaff clean <(zcat page.gz)` passes one).
#[cfg(unix)]
#[test]
fn a_fifo_named_on_the_command_line_is_read() {
    let dir = temp_dir();
    let pipe = dir.path().join("stream");
    mkfifo(&pipe);
    let writer_path = pipe.clone();
    let writer = std::thread::spawn(move || {
        let mut fifo = fs::OpenOptions::new().write(true).open(writer_path).unwrap();
        fifo.write_all(b"Streamed text.\nShare This\n").unwrap();
    });
    let run = dechaff_within(
        dir.path(),
        &["clean", "stream", "--out", "out"],
        Duration::from_secs(60),
    );
    run.assert_code(0);
    writer.join().unwrap();
    assert_eq!(output(dir.path(), "stream"), "Streamed text.\n");
}

/// A file that goes away, or turns into a directory, between the plan (the
/// walk) and the read: a clear error naming it, the others cleaned, no
/// output for it, an error record, and the run's summary counts it.
#[test]
fn files_that_vanish_or_change_kind_between_walk_and_read() {
    let dir = temp_dir();
    let input = dir.path().join("in");
    for name in ["a.txt", "b.txt", "c.txt"] {
        write(&input.join(name), format!("Text of {name}.\n"));
    }
    let out = dir.path().join("out");
    let config = dechaff_run::plan::RunConfig {
        inputs: vec![input.clone()],
        out: out.clone(),
        jobs: 2,
        ..dechaff_run::plan::RunConfig::new(Vec::new(), PathBuf::new())
    };
    let cleaner = dechaff_engine::Cleaner::with_shipped_rules().unwrap();
    // A first run leaves outputs, which must not survive as if current.
    let plan = dechaff_run::plan::plan(&config).unwrap();
    dechaff_run::pipeline::run(
        &plan,
        &config,
        &cleaner,
        &mut |_: &dechaff_run::pipeline::FileReport| {},
    )
    .unwrap();
    assert!(out.join("a.txt").exists() && out.join("b.txt").exists());

    let plan = dechaff_run::plan::plan(&config).unwrap();
    fs::remove_file(input.join("a.txt")).unwrap();
    fs::remove_file(input.join("b.txt")).unwrap();
    fs::create_dir(input.join("b.txt")).unwrap();
    let mut reported = Vec::new();
    let summary = dechaff_run::pipeline::run(
        &plan,
        &config,
        &cleaner,
        &mut |report: &dechaff_run::pipeline::FileReport| {
            reported.push((report.record.source.clone(), report.record.error.clone()));
        },
    )
    .unwrap();
    assert_eq!((summary.ok, summary.failed), (1, 2));
    let source = |name: &str| input.join(name).display().to_string();
    let gone = std::io::Error::from_raw_os_error(2).to_string();
    let is_dir = std::io::Error::from_raw_os_error(21).to_string();
    assert_eq!(
        reported,
        [
            (source("a.txt"), Some(gone)),
            (source("b.txt"), Some(is_dir)),
            (source("c.txt"), None)
        ]
    );
    assert!(
        !out.join("a.txt").exists() && !out.join("b.txt").exists(),
        "stale outputs remain"
    );
    assert_eq!(fs::read_to_string(out.join("c.txt")).unwrap(), "Text of c.txt.\n");
    let records = provenance(&out);
    assert_eq!(records.iter().filter(|r| r["status"] == "error").count(), 2);
}

/// Links are not followed by default, whether they loop or lead outside
/// the input; with `--follow` a loop is an error for that entry alone and a
/// link outside is read like any file.
#[cfg(unix)]
#[test]
fn symlink_loops_and_links_out_of_the_tree() {
    use std::os::unix::fs::symlink;
    let dir = temp_dir();
    write(&dir.path().join("in/a.txt"), "First file.\n");
    write(&dir.path().join("elsewhere/page.txt"), "A page outside the input.\n");
    symlink(".", dir.path().join("in/loop")).unwrap();
    symlink("../elsewhere/page.txt", dir.path().join("in/outside.txt")).unwrap();

    let run = dechaff_within(dir.path(), &["clean", "in", "--out", "out"], Duration::from_secs(60));
    run.assert_code(0);
    let records = provenance(&dir.path().join("out"));
    for name in ["in/loop", "in/outside.txt"] {
        let record = record_for(&records, name);
        assert_eq!(record["status"], "skipped", "{name}");
        assert_eq!(
            record["error"], "symbolic link, not followed (pass --follow to follow links)",
            "{name}"
        );
    }
    assert!(!dir.path().join("out/outside.txt").exists());

    let run = dechaff_within(
        dir.path(),
        &["clean", "in", "--out", "out2", "--follow"],
        Duration::from_secs(60),
    );
    run.assert_code(1);
    let records = provenance(&dir.path().join("out2"));
    let looped = record_for(&records, "in/loop");
    assert_eq!(looped["status"], "error");
    assert_eq!(looped["error"], "symbolic link loop back to in");
    assert_eq!(
        fs::read_to_string(dir.path().join("out2/outside.txt")).unwrap(),
        "A page outside the input.\n"
    );
    assert_eq!(record_for(&records, "in/a.txt")["status"], "ok");
}

/// Names are bytes on Unix: an output keeps its input's name exactly, and
/// two names that differ only in bytes that are not UTF-8 stay two files.
/// (Provenance writes paths as UTF-8 strings, with such bytes replaced by
/// U+FFFD, so their records are told apart only by their order.)
#[cfg(target_os = "linux")]
#[test]
fn file_names_that_are_not_utf8() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = temp_dir();
    let latin1 = OsStr::from_bytes(b"caf\xe9.txt");
    let other = OsStr::from_bytes(b"caf\xe8.txt");
    write(&dir.path().join("in").join(latin1), "First.\n");
    write(&dir.path().join("in").join(other), "Second.\n");
    let run = dechaff_within(dir.path(), &["clean", "in", "--out", "out"], Duration::from_secs(60));
    run.assert_code(0);
    let out = dir.path().join("out");
    assert_eq!(fs::read_to_string(out.join(latin1)).unwrap(), "First.\n");
    assert_eq!(fs::read_to_string(out.join(other)).unwrap(), "Second.\n");
    let records = provenance(&out);
    let sources: Vec<&str> = records.iter().map(|r| r["source"].as_str().unwrap()).collect();
    assert_eq!(sources, ["in/caf\u{fffd}.txt", "in/caf\u{fffd}.txt"]);
    assert!(records.iter().all(|r| r["status"] == "ok"));
}

/// Runs `rules check` on a fixture and returns the run.
fn check_rules(name: &str) -> Run {
    let dir = temp_dir();
    dechaff_in(dir.path(), ["rules", "check", fixture(name).to_str().unwrap()])
}

#[test]
fn a_huge_regex_is_refused_at_load_time_with_exit_78() {
    let run = check_rules("huge-regex.toml");
    run.assert_code(78);
    assert_eq!(
        run.first_stderr_line(),
        format!(
            "dechaff: {}:11:11: rule huge.bomb: regex too large or invalid: heap usage during \
             NFA compilation exceeded limit of 4194304",
            fixture("huge-regex.toml").display()
        )
    );
    let run = check_rules("long-pattern.toml");
    run.assert_code(78);
    assert_eq!(
        run.first_stderr_line(),
        format!(
            "dechaff: {}:10:11: rule long.pattern: pattern is 9000 bytes, over the limit of 8192",
            fixture("long-pattern.toml").display()
        )
    );
}

/// An inline pattern that matches the empty string removes nothing, and
/// searching again after each empty match made a long line quadratic.
#[test]
fn an_inline_rule_that_matches_the_empty_string_is_refused() {
    let run = check_rules("empty-match-inline.toml");
    run.assert_code(78);
    assert_eq!(
        run.first_stderr_line(),
        format!(
            "dechaff: {}:13:11: rule empty.optional: an inline pattern must not match the empty \
             string (it would remove nothing)",
            fixture("empty-match-inline.toml").display()
        )
    );
}

/// Nested quantifiers take exponential time in a backtracking engine; in
/// dechaff's automata a 100 KB line of `a` with no `b` costs a linear scan.
#[test]
fn a_catastrophic_regex_runs_in_linear_time() {
    check_rules("catastrophic-regex.toml").assert_code(0);
    let dir = temp_dir();
    let line = "a".repeat(100_000);
    write(&dir.path().join("in/a.txt"), format!("{line}\n{line}\n"));
    let rules = fixture("catastrophic-regex.toml");
    let run = dechaff_within(
        dir.path(),
        &["clean", "in", "--out", "out", "--rules", rules.to_str().unwrap()],
        Duration::from_secs(120),
    );
    run.assert_code(0);
    assert_eq!(output(dir.path(), "a.txt"), format!("{line}\n{line}\n"));
}

/// A rule that matches every line empties every document: each one is
/// flagged by the removal budget, and fails under `--strict`.
#[test]
fn a_rule_that_matches_everything_is_caught_by_the_removal_budget() {
    let dir = temp_dir();
    write(&dir.path().join("in/a.txt"), "An article.\nIts second line.\n");
    let rules = fixture("match-everything.toml");
    let rules = rules.to_str().unwrap();
    let run = dechaff_in(dir.path(), ["clean", "in", "--out", "out", "--rules", rules]);
    run.assert_code(0);
    run.assert_stderr_line(
        "dechaff: in/a.txt: warning: the rules removed 100.0% of the text, over the removal budget of 50.0%",
    );
    let records = provenance(&dir.path().join("out"));
    let warnings: &Value = &records[0]["warnings"];
    assert_eq!(warnings.as_array().map(Vec::len), Some(1));

    let run = dechaff_in(
        dir.path(),
        ["clean", "in", "--out", "out", "--rules", rules, "--strict"],
    );
    run.assert_code(1);
    assert!(!dir.path().join("out/a.txt").exists());
}
