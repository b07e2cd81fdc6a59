//! Every way a command can go wrong, with its exit code and message pinned.
//!
//! Exit codes: 78 for bad rule data, 2 for a wrong command line or an unsafe
//! layout (refused before a byte is written), 1 when some file failed and the
//! rest was done. Rule-file messages are pinned whole, position included:
//! `dechaff: FILE:LINE:COL: rule ID: MESSAGE`, where the column is the
//! character a person has to fix.

use std::fs;
use std::path::{Path, PathBuf};

use crate::util::{dechaff, dechaff_in, files_under, provenance, record_for, temp_dir, write};

/// The first lines of every pack below, so that line numbers in the
/// expected messages can be read off the texts: line 9 is the first line
/// after them.
const HEAD: &str = "[pack]\n\
                    name = \"x\"\n\
                    version = \"1\"\n\
                    description = \"test\"\n\
                    \n\
                    [[rule]]\n\
                    id = \"x.y\"\n\
                    description = \"d\"\n";

/// Writes `text` as a pack, runs `rules check` on it, and checks exit code
/// 78 and the first line of stderr, `dechaff: PATH:` followed by `expected`.
#[track_caller]
fn assert_rule_file_error(text: &str, expected: &str) {
    let dir = temp_dir();
    let path = dir.path().join("bad.toml");
    write(&path, text);
    let run = dechaff(["rules", "check", path.to_str().unwrap()]);
    run.assert_code(78);
    assert_eq!(
        run.first_stderr_line(),
        format!("dechaff: {}:{expected}", path.display())
    );
    assert_eq!(run.stdout, "", "nothing on stdout for a bad pack");
}

#[test]
fn invalid_regex_points_at_the_character_regex_syntax_blames() {
    assert_rule_file_error(
        &format!("{HEAD}pattern = '(unclosed'\n"),
        "9:12: rule x.y: regex parse error: unclosed group",
    );
    // Inside the pattern, not at its start.
    assert_rule_file_error(
        &format!("{HEAD}pattern = 'ab[z-a]cd'\n"),
        "9:15: rule x.y: regex parse error: invalid character class range, \
         the start must be <= the end",
    );
    // Columns count characters: 'é' is two bytes and one column.
    assert_rule_file_error(
        &format!("{HEAD}pattern = 'café(x'\n"),
        "9:16: rule x.y: regex parse error: unclosed group",
    );
    // A block's end pattern is checked like any other.
    assert_rule_file_error(
        &HEAD.replace(
            "description = \"d\"\n",
            "kind = \"block\"\ndescription = \"d\"\nstart = 'a'\nend = 'b{2,1}'\n",
        ),
        "11:9: rule x.y: regex parse error: invalid repetition count range, \
         the start must be <= the end",
    );
}

#[test]
fn invalid_regex_in_clean_rules_exits_78_before_writing() {
    let dir = temp_dir();
    let pack = dir.path().join("bad.toml");
    write(&pack, format!("{HEAD}pattern = '(unclosed'\n"));
    write(&dir.path().join("in/a.txt"), "Some text.\n");
    let out = dir.path().join("out");
    let run = dechaff([
        "clean",
        dir.path().join("in").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--rules",
        pack.to_str().unwrap(),
    ]);
    run.assert_code(78);
    assert_eq!(
        run.first_stderr_line(),
        format!(
            "dechaff: {}:9:12: rule x.y: regex parse error: unclosed group",
            pack.display()
        )
    );
    assert!(!out.exists(), "--out was created although the rules are bad");
}

/// Runs `rules check` on `text` and returns the pack's path and the first
/// line of stderr, split at `, expected one of `: serde lists every known
/// field there, and that list grows with the format.
fn unknown_field_message(text: &str) -> (String, String, String) {
    let dir = temp_dir();
    let path = dir.path().join("bad.toml");
    write(&path, text);
    let run = dechaff(["rules", "check", path.to_str().unwrap()]);
    run.assert_code(78);
    let line = run.first_stderr_line();
    let (head, known) = line.split_once(", expected one of ").unwrap_or((line, ""));
    (path.display().to_string(), head.to_string(), known.to_string())
}

/// The message must name the rule whose table holds the unknown field, as
/// every other message about a rule does.
#[test]
fn unknown_field_in_a_rule_names_the_field_its_position_and_the_rule() {
    let (path, head, known) = unknown_field_message(&format!("{HEAD}colour = \"red\"\npattern = 'a'\n"));
    assert_eq!(head, format!("dechaff: {path}:9:1: rule x.y: unknown field `colour`"));
    assert!(
        known.starts_with("`id`, `kind`, `description`, `pattern`, `literals`") && known.contains("`must-not-match`"),
        "the known fields: {known}"
    );
}

#[test]
fn unknown_field_in_the_pack_table() {
    let (path, head, known) =
        unknown_field_message("[pack]\nname = \"x\"\nversion = \"1\"\ndescription = \"test\"\nhomepage = \"h\"\n");
    assert_eq!(head, format!("dechaff: {path}:5:1: unknown field `homepage`"));
    assert_eq!(known, "`name`, `version`, `description`, `license`");
}

#[test]
fn line_rule_without_pattern_or_literals() {
    // Without a `kind`, the rule's id is the place to point at.
    assert_rule_file_error(
        &format!("{HEAD}must-match = [\"a\"]\n"),
        "7:6: rule x.y: a rule of this kind needs 'pattern' or 'literals'",
    );
    assert_rule_file_error(
        &HEAD.replacen("description = \"d\"", "kind = \"tail\"\ndescription = \"d\"", 1),
        "8:8: rule x.y: a rule of this kind needs 'pattern' or 'literals'",
    );
}

#[test]
fn block_rule_without_end() {
    assert_rule_file_error(
        &HEAD.replace(
            "description = \"d\"\n",
            "kind = \"block\"\ndescription = \"d\"\nstart = 'a'\n",
        ),
        "8:8: rule x.y: a block rule needs 'start' and 'end'",
    );
}

#[test]
fn rule_id_not_prefixed_by_the_pack_name() {
    assert_rule_file_error(
        &format!("{}pattern = 'a'\n", HEAD.replace("x.y", "other.y")),
        "7:6: rule other.y: id must be \"x.<name>\" with lowercase letters, digits and '-' \
         in the name",
    );
}

#[test]
fn duplicate_rule_ids_name_both_places() {
    let dir = temp_dir();
    let path = dir.path().join("bad.toml");
    write(
        &path,
        format!("{HEAD}pattern = 'a'\n\n[[rule]]\nid = \"x.y\"\ndescription = \"e\"\npattern = 'b'\n"),
    );
    let run = dechaff(["rules", "check", path.to_str().unwrap()]);
    run.assert_code(78);
    let p = path.display();
    assert_eq!(
        run.first_stderr_line(),
        format!("dechaff: {p}:12:6: rule x.y: duplicate rule id (first defined at {p}:7:6)")
    );
}

#[test]
fn position_outside_zero_to_one() {
    assert_rule_file_error(
        &format!("{HEAD}pattern = 'a'\nmin-position = 1.5\n"),
        "10:16: rule x.y: min-position 1.5 is outside 0..=1",
    );
    assert_rule_file_error(
        &format!("{HEAD}pattern = 'a'\nmax-position = -0.25\n"),
        "10:16: rule x.y: max-position -0.25 is outside 0..=1",
    );
}

#[test]
fn invalid_toml_syntax() {
    // An unterminated string: the parser blames the end of its line. It is
    // in the [pack] table, so no rule is named.
    assert_rule_file_error(
        "[pack]\nname = \"x\"\nversion = \"1\"\ndescription = \"test\n\n[[rule]]\nid = \"x.y\"\ndescription = \"d\"\npattern = 'a'\n",
        "4:20: invalid basic string",
    );
}

#[test]
fn failing_rule_example_is_named_where_it_is_written() {
    let dir = temp_dir();
    let path = dir.path().join("examples.toml");
    write(
        &path,
        format!(
            "{HEAD}literals = [\"Share This\"]\n\
             must-match = [\"Share This\", \"Share that\"]\n\
             must-not-match = [\"Share This\"]\n"
        ),
    );
    let run = dechaff(["rules", "test", path.to_str().unwrap()]);
    run.assert_code(1);
    let p = path.display();
    run.assert_stderr_line(&format!(
        "dechaff: {p}:10:29: rule x.y: must-match example: the rule does not remove all of it \
         (kept \"Share that\"): \"Share that\""
    ));
    run.assert_stderr_line(&format!(
        "dechaff: {p}:11:19: rule x.y: must-not-match example: the rule removes text from it: \
         \"Share This\""
    ));
    run.assert_stderr_line("dechaff: 2 of 3 examples failed");
}

/// A `--rules` path that cannot be read is a rule-data problem (78), and the
/// message says that it was the rules that could not be read.
#[test]
fn missing_rules_path() {
    let dir = temp_dir();
    let path = dir.path().join("nosuch.toml");
    let cause = fs::metadata(&path).unwrap_err().to_string();
    for args in [
        &["rules", "list", "--rules", path.to_str().unwrap()][..],
        &["rules", "check", path.to_str().unwrap()],
        &["clean", "in", "--out", "out", "--rules", path.to_str().unwrap()],
    ] {
        let run = dechaff(args);
        run.assert_code(78);
        assert_eq!(
            run.first_stderr_line(),
            format!("dechaff: {}: cannot read rules: {cause}", path.display()),
            "{args:?}"
        );
    }
}

#[test]
fn disabling_an_unknown_rule() {
    let run = dechaff(["rules", "list", "--disable", "nosuch.rule"]);
    run.assert_code(78);
    assert_eq!(
        run.first_stderr_line(),
        "dechaff: no rule or pack named \"nosuch.rule\""
    );

    let dir = temp_dir();
    write(&dir.path().join("in/a.txt"), "Text.\n");
    let run = dechaff_in(dir.path(), ["clean", "in", "--out", "out", "--disable", "nosuch.rule"]);
    run.assert_code(78);
    assert_eq!(
        run.first_stderr_line(),
        "dechaff: no rule or pack named \"nosuch.rule\""
    );
    assert!(!dir.path().join("out").exists());
}

#[test]
fn missing_input_fails_alone() {
    let dir = temp_dir();
    write(&dir.path().join("in/a.txt"), "Kept text.\n");
    write(&dir.path().join("in/sub/b.txt"), "More kept text.\n");
    let run = dechaff_in(dir.path(), ["clean", "does/not/exist", "in", "--out", "out"]);
    run.assert_code(1);
    let cause = fs::metadata(dir.path().join("does/not/exist")).unwrap_err().to_string();
    assert_eq!(run.first_stderr_line(), format!("dechaff: does/not/exist: {cause}"));
    let out = dir.path().join("out");
    assert_eq!(fs::read_to_string(out.join("a.txt")).unwrap(), "Kept text.\n");
    assert_eq!(fs::read_to_string(out.join("sub/b.txt")).unwrap(), "More kept text.\n");
    let records = provenance(&out);
    assert_eq!(records.len(), 3);
    let missing = record_for(&records, "does/not/exist");
    assert_eq!(missing["status"], "error");
    assert_eq!(missing["error"], cause.as_str());
    assert_eq!(missing["output"], serde_json::Value::Null);
    assert_eq!(record_for(&records, "in/a.txt")["status"], "ok");
    assert_eq!(record_for(&records, "in/sub/b.txt")["status"], "ok");
}

/// Snapshot of a tree: every file with its bytes.
fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    files_under(root)
        .into_iter()
        .map(|relative| {
            let bytes = fs::read(root.join(&relative)).unwrap_or_default();
            (relative, bytes)
        })
        .collect()
}

#[test]
fn output_inside_an_input_is_refused_before_writing() {
    let dir = temp_dir();
    write(&dir.path().join("in/a.txt"), "Text.\nShare This\n");
    write(&dir.path().join("in/sub/b.txt"), "Text.\n");
    std::os::unix::fs::symlink("in", dir.path().join("link")).unwrap();
    let before = snapshot(&dir.path().join("in"));
    for (out, input) in [
        ("in", "in"),
        ("in/sub/o", "in"),
        ("in/sub", "in"),
        ("in/../in/o", "in"),
        ("link/o", "in"),
        ("in/sub/o", "in/sub"),
    ] {
        let run = dechaff_in(dir.path(), ["clean", input, "--out", out]);
        run.assert_code(2);
        assert_eq!(
            run.first_stderr_line(),
            format!(
                "dechaff: --out {out} is inside the input {input}; \
                 dechaff never writes inside an input"
            )
        );
        assert_eq!(
            snapshot(&dir.path().join("in")),
            before,
            "--out {out} changed the input tree"
        );
    }
}

#[test]
fn input_inside_the_output_is_refused_before_writing() {
    let dir = temp_dir();
    write(&dir.path().join("out/in/a.txt"), "Text.\nShare This\n");
    let before = snapshot(&dir.path().join("out"));
    let run = dechaff_in(dir.path(), ["clean", "out/in", "--out", "out"]);
    run.assert_code(2);
    assert_eq!(
        run.first_stderr_line(),
        "dechaff: the input out/in is inside --out out; its outputs could overwrite it"
    );
    assert_eq!(snapshot(&dir.path().join("out")), before);
}

/// A tree with two good files around a bad one.
fn tree_with(dir: &Path, bad_name: &str, bad: impl FnOnce(&Path)) -> PathBuf {
    let input = dir.join("in");
    write(&input.join("a.txt"), "First file.\n");
    bad(&input.join(bad_name));
    write(&input.join("c.txt"), "Third file.\n");
    input
}

/// Runs `clean in --out out EXTRA` in `dir` and checks that the bad file
/// failed alone, with `dechaff: PATH: cause` on stderr and an error record.
#[track_caller]
fn assert_fails_alone(dir: &Path, bad_name: &str, cause: &str, extra: &[&str]) {
    let mut args = vec!["clean", "in", "--out", "out"];
    args.extend(extra);
    let run = dechaff_in(dir, &args);
    run.assert_code(1);
    let source = format!("in/{bad_name}");
    run.assert_stderr_line(&format!("dechaff: {source}: {cause}"));
    let out = dir.join("out");
    assert_eq!(fs::read_to_string(out.join("a.txt")).unwrap(), "First file.\n");
    assert_eq!(fs::read_to_string(out.join("c.txt")).unwrap(), "Third file.\n");
    assert!(
        fs::symlink_metadata(out.join(bad_name)).is_err(),
        "an output was written for the failing file"
    );
    let records = provenance(&out);
    let sources: Vec<&str> = records.iter().map(|r| r["source"].as_str().unwrap()).collect();
    assert_eq!(sources, ["in/a.txt", source.as_str(), "in/c.txt"]);
    let record = record_for(&records, &source);
    assert_eq!(record["status"], "error");
    assert_eq!(record["error"], cause);
    assert_eq!(record["output"], serde_json::Value::Null);
    assert_eq!(record["cleaned"], serde_json::Value::Null);
}

#[test]
fn binary_file_is_refused_and_the_rest_is_cleaned() {
    let dir = temp_dir();
    tree_with(dir.path(), "b.txt", |path| write(path, b"GIF89a\x00\x01 data"));
    assert_fails_alone(
        dir.path(),
        "b.txt",
        "binary file (NUL byte at offset 6); not cleaned",
        &[],
    );
    // The refused file was read: its record says what came in.
    let records = provenance(&dir.path().join("out"));
    let record = record_for(&records, "in/b.txt");
    assert_eq!(record["input"]["bytes"], 13);
}

#[test]
fn broken_link_followed_fails_alone() {
    let dir = temp_dir();
    let input = tree_with(dir.path(), "b.txt", |path| {
        std::os::unix::fs::symlink("nowhere.txt", path).unwrap();
    });
    let cause = fs::metadata(input.join("b.txt")).unwrap_err().to_string();
    assert_fails_alone(dir.path(), "b.txt", &cause, &["--follow"]);
}

/// A file that opens but cannot be read. Mode 000 is no test here (CI runs as
/// root, which reads through it), so the test reads `/proc/self/mem`: the
/// reading process's own memory at offset 0, which is never mapped, so every
/// user gets EIO.
#[test]
fn unreadable_file_fails_alone() {
    let dir = temp_dir();
    let input = dir.path().join("in");
    write(&input.join("a.txt"), "First file.\n");
    let run = dechaff_in(dir.path(), ["clean", "in", "/proc/self/mem", "--out", "out"]);
    run.assert_code(1);
    run.assert_stderr_line("dechaff: /proc/self/mem: Input/output error (os error 5)");
    let out = dir.path().join("out");
    assert_eq!(fs::read_to_string(out.join("a.txt")).unwrap(), "First file.\n");
    assert!(
        fs::symlink_metadata(out.join("mem")).is_err(),
        "an output was written for the unreadable file"
    );
    let records = provenance(&out);
    let record = record_for(&records, "/proc/self/mem");
    assert_eq!(record["status"], "error");
    assert_eq!(record["error"], "Input/output error (os error 5)");
    assert_eq!(record_for(&records, "in/a.txt")["status"], "ok");
}

/// A file that fails must not leave an older run's output under its name,
/// looking current. Regression: failures found while walking (a link that
/// has gone broken, an input that has gone missing) kept the old output,
/// because only failures found while reading removed it.
#[test]
fn stale_output_of_a_file_that_now_fails_while_walking_is_removed() {
    let dir = temp_dir();
    let input = tree_with(dir.path(), "b.txt", |path| write(path, "Second file.\n"));
    dechaff_in(dir.path(), ["clean", "in", "--out", "out", "--follow"]).assert_code(0);
    let stale = dir.path().join("out/b.txt");
    assert!(stale.exists());
    fs::remove_file(input.join("b.txt")).unwrap();
    std::os::unix::fs::symlink("nowhere.txt", input.join("b.txt")).unwrap();
    dechaff_in(dir.path(), ["clean", "in", "--out", "out", "--follow"]).assert_code(1);
    assert!(
        !stale.exists(),
        "out/b.txt from the earlier run is still there though in/b.txt failed"
    );
}

#[test]
fn bad_numbers_on_the_command_line() {
    let dir = temp_dir();
    write(&dir.path().join("in/a.txt"), "Text.\n");
    for (flag, value, message) in [
        ("--jobs", "0", "dechaff: --jobs must be at least 1"),
        ("--removal-budget", "2", "dechaff: --removal-budget 2 is outside 0..=1"),
        (
            "--tail-min-position",
            "1.5",
            "dechaff: --tail-min-position 1.5 is outside 0..=1",
        ),
        (
            "--encoding",
            "nosuch",
            "dechaff: --encoding \"nosuch\" is not an encoding label \
             (try utf-8, windows-1252, shift_jis)",
        ),
    ] {
        let run = dechaff_in(dir.path(), ["clean", "in", "--out", "out", flag, value]);
        run.assert_code(2);
        assert_eq!(run.first_stderr_line(), message);
        assert!(!dir.path().join("out").exists(), "{flag} {value} wrote --out");
    }
}

#[test]
fn usage_errors_from_the_argument_parser_exit_2() {
    let dir = temp_dir();
    write(&dir.path().join("in/a.txt"), "Text.\n");
    for args in [
        &["clean", "in"][..],
        &["clean", "--out", "out"],
        &["clean", "in", "--out", "out", "--provenance-text", "bogus"],
        &["clean", "in", "--out", "out", "--jobs", "many"],
        &["explain"],
        &["rules"],
        &["nosuch-command"],
    ] {
        let run = dechaff_in(dir.path(), args);
        run.assert_code(2);
        // clap prints an error, or the subcommand's help when none is named.
        assert!(
            run.stderr.starts_with("error: ") || run.stderr.contains("Usage: dechaff rules"),
            "{args:?}: stderr {:?}",
            run.stderr
        );
        assert_eq!(run.stdout, "", "{args:?}");
        assert!(!dir.path().join("out").exists());
    }
}

#[test]
fn explain_on_a_missing_file() {
    let dir = temp_dir();
    let run = dechaff_in(dir.path(), ["explain", "nosuch.txt"]);
    run.assert_code(1);
    let cause = fs::metadata(dir.path().join("nosuch.txt")).unwrap_err().to_string();
    assert_eq!(run.first_stderr_line(), format!("dechaff: nosuch.txt: {cause}"));
    assert_eq!(run.stdout, "");
}

#[test]
fn rules_show_an_unknown_id() {
    let run = dechaff(["rules", "show", "NOSUCH"]);
    assert_ne!(run.code, Some(0));
    assert_eq!(run.first_stderr_line(), "dechaff: no rule or pack named \"NOSUCH\"");
    assert_eq!(run.stdout, "");
}

#[test]
fn rules_show_an_id_from_rules_list() {
    let list = dechaff(["rules", "list"]);
    list.assert_code(0);
    let id = list
        .stdout
        .lines()
        .next()
        .and_then(|line| line.split('\t').next())
        .expect("rules list prints at least one rule");
    let run = dechaff(["rules", "show", id]);
    run.assert_code(0);
    assert_eq!(run.stdout.lines().next(), Some(id));
    assert!(run.stdout.contains("  description: "), "{}", run.stdout);
}

/// A pack that removes four lines of five: over any budget of one half.
const GREEDY_PACK: &str = "[pack]\nname = \"greedy\"\nversion = \"1\"\ndescription = \"test\"\n\n\
                           [[rule]]\nid = \"greedy.share\"\ndescription = \"share label\"\n\
                           literals = [\"Share This\"]\n";
const GREEDY_DOC: &str = "keep one\nShare This\nShare This\nShare This\nShare This\n";

fn clean_greedy(dir: &Path, strict: bool) -> crate::util::Run {
    write(&dir.join("greedy.toml"), GREEDY_PACK);
    write(&dir.join("in/doc.txt"), GREEDY_DOC);
    write(&dir.join("in/fine.txt"), "one\ntwo\nthree\nShare This\n");
    let mut args = vec![
        "clean",
        "in",
        "--out",
        "out",
        "--rules",
        "greedy.toml",
        "--no-default-rules",
    ];
    if strict {
        args.push("--strict");
    }
    dechaff_in(dir, args)
}

#[test]
fn over_budget_without_strict_is_written_with_a_warning() {
    let dir = temp_dir();
    let run = clean_greedy(dir.path(), false);
    run.assert_code(0);
    let warning = "the rules removed 83.0% of the text, over the removal budget of 50.0%";
    run.assert_stderr_line(&format!("dechaff: in/doc.txt: warning: {warning}"));
    assert_eq!(
        fs::read_to_string(dir.path().join("out/doc.txt")).unwrap(),
        "keep one\n"
    );
    let records = provenance(&dir.path().join("out"));
    let record = record_for(&records, "in/doc.txt");
    assert_eq!(record["status"], "ok");
    assert_eq!(record["warnings"], serde_json::json!([warning]));
    // A document within the budget has no warnings at all.
    let fine = record_for(&records, "in/fine.txt");
    assert!(
        fine.get("warnings").is_none(),
        "warnings for a document within the budget: {fine}"
    );
}

#[test]
fn over_budget_with_strict_fails_and_writes_nothing_for_it() {
    let dir = temp_dir();
    // An earlier run without --strict left an output; --strict must take it away.
    clean_greedy(dir.path(), false).assert_code(0);
    assert!(dir.path().join("out/doc.txt").exists());
    let run = clean_greedy(dir.path(), true);
    run.assert_code(1);
    run.assert_stderr_line(
        "dechaff: in/doc.txt: the rules removed 83.0% of the text, over the removal budget \
         of 50.0% (--strict)",
    );
    assert!(!dir.path().join("out/doc.txt").exists());
    assert_eq!(
        fs::read_to_string(dir.path().join("out/fine.txt")).unwrap(),
        "one\ntwo\nthree\n"
    );
    let records = provenance(&dir.path().join("out"));
    let record = record_for(&records, "in/doc.txt");
    assert_eq!(record["status"], "error");
    assert_eq!(record["output"], serde_json::Value::Null);
    assert_eq!(record_for(&records, "in/fine.txt")["status"], "ok");
}

#[test]
fn heuristic_rule_without_its_name() {
    assert_rule_file_error(
        &HEAD.replace("description = \"d\"\n", "kind = \"heuristic\"\ndescription = \"d\"\n"),
        "8:8: rule x.y: a heuristic rule needs 'heuristic' (line-classifier, comment-thread or repeated-passage)",
    );
}

#[test]
fn repeated_passage_of_one_line() {
    assert_rule_file_error(
        &format!(
            "{}heuristic = \"repeated-passage\"\nmin-count = 1\n",
            HEAD.replace("description = \"d\"\n", "kind = \"heuristic\"\ndescription = \"d\"\n")
        ),
        "11:13: rule x.y: min-count 1 is outside 2..=200",
    );
}

#[test]
fn classifier_weight_for_an_unknown_feature() {
    let weights = "heuristic = \"line-classifier\"\nthreshold = 0.0\n\
                   weights = [[\"bias\", 0.0, 1.0, 0.5], [\"wordz\", 0.0, 1.0, 1.0]]\n";
    let text = format!(
        "{}{weights}",
        HEAD.replace("description = \"d\"\n", "kind = \"heuristic\"\ndescription = \"d\"\n")
    );
    let run_dir = temp_dir();
    let path = run_dir.path().join("bad.toml");
    write(&path, &text);
    let run = dechaff(["rules", "check", path.to_str().unwrap()]);
    run.assert_code(78);
    let line = run.first_stderr_line();
    assert!(
        line.starts_with(&format!(
            "dechaff: {}:12:11: rule x.y: weights: unknown feature \"wordz\"; known: bias, words,",
            path.display()
        )),
        "{line}"
    );
}

#[test]
fn heuristic_field_on_a_line_rule() {
    assert_rule_file_error(
        &format!("{HEAD}pattern = 'a'\nthreshold = 0.5\n"),
        "10:13: rule x.y: field 'threshold' does not apply to a rule of kind 'line'",
    );
}
