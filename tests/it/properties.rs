//! Properties of cleaning that must hold for every input, checked on
//! generated documents (proptest) rather than on a handful of examples.
//!
//! - What is kept is the input's lines, in order, each trimmed and at most
//!   cut inside by inline rules: nothing is added, moved or rewritten.
//! - With full provenance text, output + removed spans + whitespace spans
//!   rebuild the decoded input exactly, for any bytes that decode.
//! - A run writes the same bytes whatever `jobs` is and whatever order the
//!   inputs are given in, and a cleaner reused over documents in any order
//!   gives each the result a fresh one gives.
//! - Cleaning an output again with phrase rules removes nothing, but for
//!   two shapes pinned below: a block that fits its `max-lines` only once
//!   lines inside it are gone, and an inline cut that leaves a line a line
//!   rule matches.
//!
//! The documents are built from the shapes that break cleaners: boilerplate
//! lines of every rule kind, the same phrases inside sentences, blank lines
//! made of spaces, tabs, NBSP and zero-width characters, CRLF, no final
//! newline. Case counts are kept small so the whole file runs in seconds.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use dechaff_engine::{Cleaner, CleanerBuilder, RuleSetBuilder};
use dechaff_run::decode::{decode, EncodingChoice};
use dechaff_run::pipeline::{self, FileReport};
use dechaff_run::plan::RunConfig;
use dechaff_run::provenance::{rebuild_input, ProvenanceText, Record, RulesStamp, SpanDestination};
use proptest::prelude::*;

use crate::corpus::TEST_PACK;
use crate::util::temp_dir;

thread_local! {
    /// One cleaner per test thread, reused across cases as the pipeline
    /// reuses one per worker: building a fresh one per case would spend the
    /// time budget warming regex caches.
    static SHARED: std::cell::RefCell<Cleaner> = std::cell::RefCell::new(cleaner());
}

/// Runs `f` with this thread's shared cleaner.
fn with_cleaner<T>(f: impl FnOnce(&mut Cleaner) -> T) -> T {
    SHARED.with(|cleaner| f(&mut cleaner.borrow_mut()))
}

/// The shipped packs plus the tests' pack (one rule of each kind).
fn cleaner() -> Cleaner {
    static CLEANER: OnceLock<Cleaner> = OnceLock::new();
    CLEANER
        .get_or_init(|| {
            let rules = RuleSetBuilder::new().add_text("it.toml", TEST_PACK).build().unwrap();
            CleanerBuilder::new().build(rules).unwrap()
        })
        .clone()
}

/// One line of a scraped-looking page.
fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "The minister met the general on Tuesday.",
            "Prices rose by 3% in the second quarter, the bank said.",
            "Please share this with your family.",
            "Leave a reply below if you agree.",
            "She wrote to [email protected] about it.",
            "caf\u{e9} \u{201c}quoted\u{201d} na\u{ef}ve \u{6771}\u{4eac}",
            "Sign up for our newsletter",
            "Unsubscribe at any time.",
            "Email address",
        ])
        .prop_map(str::to_string),
        3 => prop::sample::select(vec![
            "Share This",
            "Share\u{a0}on Facebook",
            "  Tweet this  ",
            "Leave a Reply",
            "Leave a Comment",
            "[email protected]",
            "Related Articles",
            "Comments",
            "Advertisement",
            "Copyright 2020 The Daily Paper. All rights reserved.",
            "Share\u{200b} This",
        ])
        .prop_map(str::to_string),
        2 => prop::sample::select(vec!["", " ", "\t", "\u{a0}", "\u{200b}", "  \t "]).prop_map(str::to_string),
        1 => "[a-zA-Z \u{e9}\u{a0}\u{200b}\\[\\].@]{0,40}",
    ]
}

/// A document of up to 40 such lines, with LF or CRLF, with or without a
/// final newline.
fn document() -> impl Strategy<Value = String> {
    (prop::collection::vec(line(), 0..40), any::<bool>(), any::<bool>()).prop_map(|(lines, crlf, final_newline)| {
        let end = if crlf { "\r\n" } else { "\n" };
        let mut text = lines.join(end);
        if final_newline && !text.is_empty() {
            text.push_str(end);
        }
        text
    })
}

/// True when `short` can be made from `long` by deleting characters.
fn is_subsequence(short: &str, long: &str) -> bool {
    let mut rest = long.chars();
    short.chars().all(|c| rest.any(|l| l == c))
}

/// Cleans `text` and returns the output with a full-text record of it.
fn clean_with_record(cleaner: &mut Cleaner, raw: &[u8], text: &str) -> (String, Record) {
    let rules = cleaner.shared_rules();
    let stamp = RulesStamp::of(&rules, cleaner.config());
    let decoded = decode(raw, EncodingChoice::Detect).unwrap();
    assert_eq!(decoded.text, text);
    let cleaned = cleaner.clean(text);
    let mut record = Record::new("doc".into(), &stamp);
    record
        .describe_cleaning(
            dechaff_run::provenance::InputStats::undecoded(raw),
            text,
            (decoded.encoding, decoded.lossy),
            &cleaned,
            &rules,
            ProvenanceText::Full,
            SpanDestination::Record,
        )
        .unwrap();
    (cleaned.text.clone(), record)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every output line is an input line, trimmed and perhaps cut inside,
    /// and the output lines come in input order.
    #[test]
    fn kept_lines_are_input_lines_in_order(text in document()) {
        let output = with_cleaner(|cleaner| cleaner.clean(&text).text.clone());
        let mut input_lines = text.split('\n');
        for kept in output.split('\n').filter(|l| !l.is_empty()) {
            let found = input_lines.any(|original| is_subsequence(kept, original.trim()));
            prop_assert!(found, "output line {kept:?} is not an input line in order\noutput: {output:?}");
        }
    }

    #[test]
    fn output_and_spans_rebuild_the_document(text in document()) {
        let (output, record) = with_cleaner(|cleaner| clean_with_record(cleaner, text.as_bytes(), &text));
        prop_assert_eq!(rebuild_input(&output, &record), Some(text));
    }

    /// The same for any bytes at all that decode (in whatever encoding).
    #[test]
    fn output_and_spans_rebuild_any_decodable_bytes(raw in prop::collection::vec(any::<u8>(), 0..300)) {
        let Ok(decoded) = decode(&raw, EncodingChoice::Detect) else {
            return Ok(());
        };
        let text = decoded.text.into_owned();
        let (output, record) = with_cleaner(|cleaner| clean_with_record(cleaner, &raw, &text));
        prop_assert_eq!(rebuild_input(&output, &record), Some(text));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// A cleaner carries nothing from one document to the next that changes
    /// a result: one reused over the documents in any order, its memo of
    /// the lines it has seen warm, gives each what a new cleaner gives it.
    #[test]
    fn a_reused_cleaner_gives_the_same_in_any_order(
        docs in prop::collection::vec(document(), 1..8),
        seed in any::<u64>(),
    ) {
        let expected: Vec<_> = docs.iter().map(|doc| cleaner().clean(doc).collect()).collect();
        let mut shuffled = cleaner();
        for i in shuffle((0..docs.len()).collect(), seed) {
            let again = shuffled.clean(&docs[i]);
            prop_assert_eq!(&again.text, &expected[i].text);
            prop_assert_eq!(&again.removals(), &expected[i].removals);
            prop_assert_eq!(&again.whitespace(), &expected[i].whitespace);
        }
    }

    /// Cleaners of one engine (a cleaner and its clones, the pipeline's
    /// workers) share what they learn of lines; taking another's answer for
    /// a line gives each document what a cleaner on its own gives it.
    #[test]
    fn cleaners_that_share_what_they_learn_give_the_same_in_any_order(
        docs in prop::collection::vec(document(), 1..8),
        seed in any::<u64>(),
    ) {
        // An engine of its own, cleaning one document at a time: nothing shared.
        static ALONE: OnceLock<Cleaner> = OnceLock::new();
        static SHARING: OnceLock<Cleaner> = OnceLock::new();
        let build = || CleanerBuilder::new().build(RuleSetBuilder::new().add_text("it.toml", TEST_PACK).build().unwrap()).unwrap();
        let alone = ALONE.get_or_init(build);
        let expected: Vec<_> = docs.iter().map(|doc| alone.clone().clean(doc).collect()).collect();
        // Two workers of another engine, taking the documents in turn; what
        // they learnt in earlier cases is shared too.
        let sharing = SHARING.get_or_init(build);
        let mut workers = [sharing.clone(), sharing.clone()];
        for (turn, i) in shuffle((0..docs.len()).collect(), seed).into_iter().enumerate() {
            let again = workers[turn % 2].clean(&docs[i]);
            prop_assert_eq!(&again.text, &expected[i].text);
            prop_assert_eq!(&again.removals(), &expected[i].removals);
            prop_assert_eq!(&again.whitespace(), &expected[i].whitespace);
        }
    }
}

/// `items` in an order picked by `seed` (Fisher-Yates with an LCG).
fn shuffle<T>(mut items: Vec<T>, mut seed: u64) -> Vec<T> {
    for i in (1..items.len()).rev() {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        items.swap(i, (seed >> 33) as usize % (i + 1));
    }
    items
}

/// Phrase rules: the tests' pack alone, its tail rule's position window
/// opened up, and without its block rule. A block's `max-lines` counts
/// input lines, so a block that is too long only because of a share label
/// or blank lines inside it fits once the first pass has removed them, and
/// a second pass removes it (`a_block_can_fit_only_after_a_first_pass`).
fn phrase_cleaner() -> Cleaner {
    static CLEANER: OnceLock<Cleaner> = OnceLock::new();
    CLEANER
        .get_or_init(|| {
            let rules = RuleSetBuilder::new()
                .no_default_rules(true)
                .add_text("it.toml", TEST_PACK)
                .disable("it.newsletter")
                .build()
                .unwrap();
            let config = dechaff_engine::CleanConfig {
                tail_min_position: 0.0,
                ..dechaff_engine::CleanConfig::default()
            };
            CleanerBuilder::new().config(config).build(rules).unwrap()
        })
        .clone()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Cleaning the output again removes nothing: the rules found all they
    /// would ever find the first time.
    #[test]
    fn cleaning_twice_removes_nothing_more(text in document()) {
        let mut cleaner = phrase_cleaner();
        let once = cleaner.clean(&text).text.clone();
        let twice = cleaner.clean(&once);
        prop_assert!(twice.removals().is_empty(), "second pass removed {:?} from {once:?}", twice.removals());
        prop_assert_eq!(&twice.text, &once);
    }
}

/// A cleaner of the test pack alone (no shipped packs), for the two
/// regressions below that need exactly its rules.
fn test_pack_alone() -> Cleaner {
    let rules = RuleSetBuilder::new()
        .no_default_rules(true)
        .add_text("it.toml", TEST_PACK)
        .build()
        .unwrap();
    CleanerBuilder::new().build(rules).unwrap()
}

/// Where cleaning is not idempotent, and why that is accepted: a block rule's
/// `max-lines` counts the lines of the input. A newsletter box of seven
/// lines is over its rule's six, so it stays; the share label inside it goes;
/// in the output the box has six lines and a second pass takes it. Nothing
/// of the article is at stake (both ends of the box still match), and
/// counting only the lines that will be kept would make a block's reach
/// depend on every other rule.
#[test]
fn a_block_can_fit_only_after_a_first_pass() {
    let text = "Sign up for our newsletter\nline\nline\nShare This\nline\nline\nUnsubscribe at any time.\nBody.\n";
    let mut cleaner = test_pack_alone();
    let once = cleaner.clean(text).text.clone();
    assert_eq!(once, text.replace("Share This\n", ""));
    assert_eq!(cleaner.clean(&once).text, "Body.\n");
}

/// The other place: an inline cut can leave a line that a line rule
/// matches. Lines are matched once, before any cut, so the first pass cuts
/// the residue and keeps "Share This"; the second removes it. Found by
/// `cleaning_twice_removes_nothing_more` (whose documents no longer hold
/// this shape, so that it checks the rest).
#[test]
fn an_inline_cut_can_leave_a_line_that_a_line_rule_matches() {
    let mut cleaner = test_pack_alone();
    let once = cleaner.clean("Body.\nShare [email protected] This\n").text.clone();
    assert_eq!(once, "Body.\nShare This\n");
    assert_eq!(cleaner.clean(&once).text, "Body.\n");
}

/// Writes `docs` as `in/d{i}.txt` and returns their paths.
fn write_tree(root: &Path, docs: &[String]) -> Vec<PathBuf> {
    let input = root.join("in");
    fs::create_dir_all(&input).unwrap();
    docs.iter()
        .enumerate()
        .map(|(i, doc)| {
            let path = input.join(format!("d{i}.txt"));
            fs::write(&path, doc).unwrap();
            path
        })
        .collect()
}

/// What a pipeline run left: each output's bytes by source, and each
/// record's JSON (the output directory taken out) in the order reported.
struct PipelineRun {
    outputs: BTreeMap<String, Vec<u8>>,
    records: Vec<(String, String)>,
}

/// Runs the library pipeline over `inputs` into `out` with `jobs` workers.
fn run_pipeline(inputs: Vec<PathBuf>, out: &Path, jobs: usize) -> PipelineRun {
    let config = RunConfig {
        inputs,
        out: out.to_path_buf(),
        jobs,
        provenance_text: ProvenanceText::Full,
        ..RunConfig::new(Vec::new(), PathBuf::new())
    };
    let plan = dechaff_run::plan::plan(&config).unwrap();
    pipeline::run(&plan, &config, &cleaner(), &mut |_: &FileReport| {}).unwrap();
    // The records as provenance has them: their spans are not kept once written.
    let records = fs::read_to_string(out.join("provenance.jsonl"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| {
            let record: Record = serde_json::from_str(line).unwrap();
            (record.source, line.replace(&out.display().to_string(), "<OUT>"))
        })
        .collect();
    let outputs = plan
        .jobs
        .iter()
        .map(|job| (job.source.display().to_string(), fs::read(&job.output).unwrap()))
        .collect();
    PipelineRun { outputs, records }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any number of workers and any order of the inputs on the command
    /// line: the same bytes in every output, the same record for every file,
    /// and the records in the order the inputs were given.
    #[test]
    fn the_same_bytes_for_any_jobs_and_any_input_order(
        docs in prop::collection::vec(document(), 1..8),
        jobs in 1usize..6,
        seed in any::<u64>(),
    ) {
        let dir = temp_dir();
        let inputs = write_tree(dir.path(), &docs);
        let expected = run_pipeline(inputs.clone(), &dir.path().join("one"), 1);
        let shuffled = shuffle(inputs, seed);
        let actual = run_pipeline(shuffled.clone(), &dir.path().join("many"), jobs);
        prop_assert_eq!(&actual.outputs, &expected.outputs);
        let order: Vec<String> = shuffled.iter().map(|p| p.display().to_string()).collect();
        let sources: Vec<String> = actual.records.iter().map(|(source, _)| source.clone()).collect();
        prop_assert_eq!(sources, order);
        let by_source: BTreeMap<_, _> = actual.records.into_iter().collect();
        let expected_by_source: BTreeMap<_, _> = expected.records.into_iter().collect();
        prop_assert_eq!(by_source, expected_by_source);
    }
}
