//! `dechaff eval`: the arithmetic pinned on a fixture set whose figures were
//! worked out by hand (fixtures/eval/README.md), for tables and JSON alike.
//!
//! The set: `a` loses a menu word's neighbours to a good rule and a gold
//! sentence to a bad one, `b` is cleaned to nothing, `c` is untouched gold,
//! `d` has no gold and is not scored. Token counts (input/gold/output/tp):
//! a 17/12/8/7, b 2/3/0/0, c 5/5/5/5.

use serde_json::Value;

use std::path::Path;

use crate::util::dechaff_in;

const SET: &str = "fixtures/eval";
const PACK: &str = "fixtures/eval/pack.toml";

/// Runs in the repository root, where the fixture paths resolve.
fn dechaff<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(args: I) -> crate::util::Run {
    dechaff_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

fn eval_json(extra: &[&str]) -> Value {
    let mut args = vec!["eval", SET, "--no-default-rules", "--rules", PACK, "--json"];
    args.extend_from_slice(extra);
    let run = dechaff(&args);
    run.assert_code(0);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

#[track_caller]
fn assert_near(value: &Value, expected: f64) {
    let actual = value.as_f64().unwrap_or_else(|| panic!("not a number: {value}"));
    assert!((actual - expected).abs() < 1e-9, "{actual} != {expected}");
}

#[test]
fn figures_match_the_hand_computed_ones() {
    let report = eval_json(&[]);
    assert_eq!(report["documents"], 3, "d has no gold and is skipped");
    assert_eq!(report["tokens"]["input"], 24);
    assert_eq!(report["tokens"]["gold"], 20);
    assert_eq!(report["tokens"]["output"], 13);
    assert_eq!(report["tokens"]["true_positives"], 12);
    // micro: 12/13, 12/20, and F1 = 2·12/(13+20).
    assert_near(&report["micro"]["precision"], 12.0 / 13.0);
    assert_near(&report["micro"]["recall"], 0.6);
    assert_near(&report["micro"]["f1"], 24.0 / 33.0);
    // macro: a = 7/8, 7/12, F1 14/20; b = 0 (empty output); c = 1.
    assert_near(&report["macro"]["precision"], (7.0 / 8.0 + 0.0 + 1.0) / 3.0);
    assert_near(&report["macro"]["recall"], (7.0 / 12.0 + 0.0 + 1.0) / 3.0);
    assert_near(&report["macro"]["f1"], (0.7 + 0.0 + 1.0) / 3.0);
    // Boilerplate: a has 5 tokens (Home, Share×2, This×2) and keeps "Home";
    // b has 2 and keeps none; c has none.
    assert_near(&report["boilerplate_removed"], 1.0 - 1.0 / 7.0);
    assert_near(&report["boilerplate_removed_macro"], (0.8 + 1.0) / 2.0);
    assert_near(&report["kept"], 13.0 / 24.0);
    assert_eq!(report["empty_outputs"], 1);
    assert!(report.get("rules").is_none(), "rules only with --by-rule");
}

#[test]
fn by_rule_charges_lost_gold_tokens_to_the_rule_that_removed_them() {
    let report = eval_json(&["--by-rule"]);
    let rules = report["rules"].as_array().unwrap();
    let rows: Vec<(&str, u64, u64, f64)> = rules
        .iter()
        .map(|r| {
            (
                r["rule"].as_str().unwrap(),
                r["hits"].as_u64().unwrap(),
                r["tokens_removed"].as_u64().unwrap(),
                r["error_rate"].as_f64().unwrap(),
            )
        })
        .collect();
    // Two separate "Share This" lines in a and one in b; the wrong rule took a's
    // five-token gold sentence.
    assert_eq!(rows, [("t.share", 3, 6, 0.0), ("t.effect", 1, 5, 1.0)]);
}

#[test]
fn tables_show_the_same_figures() {
    let run = dechaff([
        "eval",
        SET,
        "--no-default-rules",
        "--rules",
        PACK,
        "--by-rule",
        "-j",
        "1",
    ]);
    run.assert_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["3", "|", "0.923", "0.600", "0.727", "|", "0.625", "0.528", "0.567", "|", "0.857", "0.900", "0.542", "1"]
    );
    let rule_rows: Vec<Vec<&str>> = lines[3..].iter().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(
        rule_rows,
        [
            vec!["rule", "hits", "tokens", "error"],
            vec!["t.share", "3", "6", "0.000"],
            vec!["t.effect", "1", "5", "1.000"],
            vec!["(all", "rules)", "4", "11", "0.455"],
        ]
    );
}

#[test]
fn a_folder_without_gold_is_a_usage_error() {
    let run = dechaff(["eval", "fixtures/seeds"]);
    run.assert_code(2);
    assert!(
        run.first_stderr_line()
            .contains("needs input/<id>.txt and gold/<id>.txt"),
        "{}",
        run.stderr
    );
}

#[test]
fn figures_do_not_depend_on_the_number_of_workers() {
    assert_eq!(
        eval_json(&["--by-rule", "-j", "1"]),
        eval_json(&["--by-rule", "-j", "4"])
    );
}

/// `--per-doc`: one row per scored document, worst F1 first, with the
/// tokens each rule removed from it and how many of those were gold.
#[test]
fn per_doc_lists_the_worst_documents_first() {
    let dir = crate::util::temp_dir();
    let table = dir.path().join("per-doc.tsv");
    let run = dechaff([
        "eval",
        SET,
        "--no-default-rules",
        "--rules",
        PACK,
        "--per-doc",
        table.to_str().unwrap(),
    ]);
    run.assert_code(0);
    let table = std::fs::read_to_string(&table).unwrap();
    let rows: Vec<Vec<&str>> = table.lines().map(|line| line.split('\t').collect()).collect();
    assert_eq!(
        rows[0],
        [
            "id",
            "precision",
            "recall",
            "f1",
            "gold_tokens",
            "output_tokens",
            "gold_tokens_lost",
            "rules"
        ]
    );
    let ids: Vec<&str> = rows[1..].iter().map(|row| row[0]).collect();
    assert_eq!(ids, ["b", "a", "c"]);
    assert_eq!(rows[2][1..7], ["0.875", "0.583", "0.700", "12", "8", "5"]);
    assert_eq!(rows[3][3], "1.000");
    let to_stdout = dechaff(["eval", SET, "--no-default-rules", "--rules", PACK, "--per-doc", "-"]);
    assert!(
        to_stdout.stdout.starts_with(&table),
        "the table comes before the summary"
    );
}
