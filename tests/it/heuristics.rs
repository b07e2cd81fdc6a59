//! The structural heuristics on small pages written for the purpose: a menu
//! above the article, a footer below it, a comment thread at the end.
//!
//! Most tests load the shipped `heuristics` pack alone (`--no-default-rules
//! --rules rules/heuristics.toml`), so that what goes is the heuristics'
//! doing and not a phrase rule's; the weights are the fitted ones, so these
//! tests also pin that the shipped model keeps an article's title, its
//! subheading and every sentence.

use std::path::{Path, PathBuf};

use crate::util::{dechaff_in, manifest, provenance, record_for, temp_dir, write};

const PAGE: &str = "Home\nNews\nWorld\nBusiness\nSport\nWeather\nTravel\nContact us\n\n\
Floods force thousands from their homes in the north\n\n\
Heavy rain over the weekend caused rivers across the north of the country to burst their banks, and thousands of people had to leave their homes.\n\n\
The army was sent in on Sunday to help with the rescue, and the government said it would pay for the damage to houses and farms.\n\n\
What happens next\n\n\
Forecasters said more rain was on the way, and warned that the worst of the floods may not be over until the end of the week.\n\n\
Most read\nPrices rise again\nBanks cut rates\nPrivacy Policy\nTerms of Use\n\n\
2 Comments\nAnn says:\nMay 3, 2012 at 10:41 am\n\
A good report, and a sad one. I hope the people in the north get the help that they need.\n\
Reply\nBob says:\nMay 3, 2012 at 11:02 am\n\
The government should have seen this coming after last year.\nReply\n";

/// What the article is: every line of it must survive.
const ARTICLE: &[&str] = &[
    "Floods force thousands from their homes in the north",
    "Heavy rain over the weekend caused rivers across the north of the country to burst their banks, and thousands of people had to leave their homes.",
    "The army was sent in on Sunday to help with the rescue, and the government said it would pay for the damage to houses and farms.",
    "What happens next",
    "Forecasters said more rain was on the way, and warned that the worst of the floods may not be over until the end of the week.",
];

fn heuristics_pack() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("rules")
        .join("heuristics.toml")
}

/// Cleans PAGE with `args` added; returns the output text and its record.
fn clean(args: &[&str]) -> (String, serde_json::Value) {
    let dir = temp_dir();
    write(&dir.path().join("in/page.txt"), PAGE);
    let mut all = vec!["clean", "in", "--out", "out", "-q"];
    all.extend_from_slice(args);
    dechaff_in(dir.path(), all).assert_code(0);
    let text = std::fs::read_to_string(dir.path().join("out/page.txt")).unwrap();
    let records = provenance(&dir.path().join("out"));
    let mut record = record_for(&records, "in/page.txt").clone();
    // The record names the run's manifest by fingerprint; the tests read both together.
    let manifest = manifest(&dir.path().join("out"));
    assert_eq!(record["rules"], manifest["rules"]["fingerprint"]);
    record["rules"] = manifest["rules"].clone();
    (text, record)
}

fn alone() -> Vec<String> {
    vec![
        "--no-default-rules".into(),
        "--rules".into(),
        heuristics_pack().display().to_string(),
    ]
}

#[test]
fn menu_footer_and_comments_go_and_the_article_with_its_headings_stays() {
    let args = alone();
    let (text, _) = clean(&args.iter().map(String::as_str).collect::<Vec<_>>());
    for line in ARTICLE {
        assert!(text.lines().any(|l| l == *line), "lost article line {line:?}:\n{text}");
    }
    for gone in [
        "Home",
        "News",
        "Sport",
        "Privacy Policy",
        "Terms of Use",
        "Banks cut rates",
        "Most read",
    ] {
        assert!(!text.lines().any(|l| l == gone), "kept {gone:?}:\n{text}");
    }
    for comment in [
        "2 Comments",
        "Ann says:",
        "Reply",
        "The government should have seen this coming after last year.",
    ] {
        assert!(!text.contains(comment), "kept the comment line {comment:?}:\n{text}");
    }
}

#[test]
fn provenance_names_the_heuristic_its_action_and_its_score() {
    let args = alone();
    let (_, record) = clean(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let removed = record["removed"].as_array().unwrap();
    let classified: Vec<&serde_json::Value> = removed
        .iter()
        .filter(|r| r["rule"] == "heuristics.boilerplate-line")
        .collect();
    // Adjacent lines the classifier removed are one span.
    let lines: u64 = classified
        .iter()
        .map(|r| r["lines"][1].as_u64().unwrap() - r["lines"][0].as_u64().unwrap() + 1)
        .sum();
    assert!(lines >= 5 && classified.len() < 5, "{removed:#?}");
    for removal in &classified {
        assert_eq!(removal["action"], "classify");
        let score = removal["score"].as_f64().expect("a classifier removal has a score");
        assert!(score > 0.5 && score <= 1.0, "probability of boilerplate: {score}");
    }
    let thread: Vec<&serde_json::Value> = removed
        .iter()
        .filter(|r| r["rule"] == "heuristics.comment-thread")
        .collect();
    assert_eq!(thread.len(), 1, "{removed:#?}");
    assert_eq!(thread[0]["action"], "drop-tail");
    assert_eq!(thread[0]["text"].as_str().unwrap().lines().next(), Some("2 Comments"));
    assert!(thread[0]["score"].as_f64().unwrap() >= 2.0, "furniture lines found");
}

#[test]
fn no_heuristics_gives_exactly_the_phrase_rules_result() {
    let (with_flag, record) = clean(&["--no-heuristics"]);
    let (without_pack, _) = clean(&["--disable", "heuristics"]);
    assert_eq!(with_flag, without_pack);
    assert!(
        record["removed"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| !r["rule"].as_str().unwrap().starts_with("heuristics.") && r.get("score").is_none()),
        "{record:#}"
    );
    assert_eq!(record["rules"]["settings"]["heuristics"], false);
    let (with_heuristics, _) = clean(&[]);
    assert!(
        with_heuristics.len() < with_flag.len(),
        "the heuristics remove more than the rules alone"
    );
}

#[test]
fn a_protected_phrase_vetoes_a_heuristic_removal() {
    let dir = temp_dir();
    let pack = dir.path().join("keep.toml");
    write(
        &pack,
        "[pack]\nname = \"keep\"\nversion = \"1\"\ndescription = \"test\"\n\n\
         [[rule]]\nid = \"keep.sport\"\ndescription = \"the sport menu entry\"\nkind = \"protect\"\nliterals = [\"Sport\"]\n",
    );
    let mut args = alone();
    args.extend(["--rules".to_string(), pack.display().to_string()]);
    let (text, _) = clean(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(text.lines().any(|l| l == "Sport"), "{text}");
    assert!(!text.lines().any(|l| l == "News"), "{text}");
}

#[test]
fn explain_shows_heuristic_scores() {
    let dir = temp_dir();
    write(&dir.path().join("page.txt"), PAGE);
    let mut args = vec![
        "explain".to_string(),
        "page.txt".into(),
        "--color".into(),
        "never".into(),
    ];
    args.extend(alone());
    let run = dechaff_in(dir.path(), &args);
    run.assert_code(0);
    let home = run.stdout.lines().next().unwrap();
    assert!(home.starts_with("- Home  [heuristics.boilerplate-line 0."), "{home}");
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("- 2 Comments  [heuristics.comment-thread ")),
        "{}",
        run.stdout
    );
    assert!(run.stdout.lines().any(|l| l == "What happens next"), "{}", run.stdout);
}

#[test]
fn a_page_without_prose_is_not_emptied() {
    let dir = temp_dir();
    let list = "Home\nNews\nSport\nWeather\nContact us\nPrivacy Policy\n";
    write(&dir.path().join("in/list.txt"), list);
    let mut args = vec![
        "clean".to_string(),
        "in".into(),
        "--out".into(),
        "out".into(),
        "-q".into(),
    ];
    args.extend(alone());
    dechaff_in(dir.path(), &args).assert_code(0);
    let text = std::fs::read_to_string(dir.path().join("out/list.txt")).unwrap();
    assert!(!text.trim().is_empty(), "the classifier emptied a page");
}
