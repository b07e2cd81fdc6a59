//! `dechaff explain`: picking the document to explain out of any input, and
//! explaining a single line against every rule.
//!
//! A record is found through the run layer's readers ([`Documents`]), the
//! same that `clean` reads with, so a record's text, index and id are what
//! `clean`, provenance and `stats.json` say they are, for every input format
//! the readers know.

use std::path::Path;
use std::sync::Arc;

use dechaff_engine::fold;
use dechaff_engine::rules::{RuleKind, RuleSet};
use dechaff_engine::{Cleaner, OwnedCleaned};
use dechaff_run::input::{Documents, InputFormat, Item, ReadSettings};
use dechaff_run::provenance::{InputStats, ProvenanceText, Record, RulesStamp, SpanDestination};
use regex_automata::meta::Regex;
use serde::Serialize;

pub use dechaff_run::input::Document;

/// Which record of a JSONL or WARC input to explain.
#[derive(Debug, Clone)]
pub enum Selection {
    /// The whole input, which must be a text file.
    Whole,
    /// The record with this 0-based index.
    Index(u64),
    /// The record with this id.
    Id(String),
}

/// Reads `path` (`-` for standard input) and returns the document `selection` names.
pub fn pick_document(
    path: &Path,
    format: Option<InputFormat>,
    settings: &ReadSettings,
    selection: &Selection,
) -> Result<Box<Document>, String> {
    let name = dechaff_run::display::escaped(path);
    let (mut documents, format, _) =
        Documents::open(path, format, None, settings).map_err(|e| format!("{name}: {e}"))?;
    match (format, selection) {
        (InputFormat::Text, Selection::Whole) => {}
        (InputFormat::Text, _) => {
            return Err(format!(
                "{name}: a text file is one document: --record and --id pick a record of a JSONL or WARC input"
            ))
        }
        (_, Selection::Whole) => {
            return Err(format!(
                "{name} holds {} records: pick one with --record N (0-based) or --id ID",
                format.name()
            ))
        }
        _ => {}
    }
    let mut records = 0u64;
    while let Some(item) = documents.next_item() {
        let item = item.map_err(|e| format!("{name}: {}: {}", e.location, e.message))?;
        let location = match &item {
            Item::Document(document) => &document.location,
            Item::Bad(bad) => &bad.location,
            Item::NotADocument(_) => {
                records += 1;
                continue;
            }
        };
        records += 1;
        let wanted = match selection {
            Selection::Whole => true,
            Selection::Index(index) => location.index == *index,
            Selection::Id(id) => location.id.as_deref() == Some(id.as_str()),
        };
        if !wanted {
            continue;
        }
        return match item {
            Item::Document(document) => Ok(document),
            Item::Bad(bad) => Err(format!(
                "{name}: {}: clean refuses this record: {}",
                bad.location, bad.reason
            )),
            Item::NotADocument(_) => unreachable!("skipped above"),
        };
    }
    Err(match selection {
        Selection::Whole => format!("{name}: nothing could be read"),
        Selection::Index(index) => format!(
            "{name}: no record {index}: it holds {records} records, 0 to {}",
            records.saturating_sub(1)
        ),
        Selection::Id(id) => format!("{name}: no record has the id {id:?} (among {records} records)"),
    })
}

/// `explain --format json`: what was removed from one document, as provenance records it.
#[derive(Serialize)]
pub struct ExplainedDocument<'a> {
    /// The document's source and, for a record, its place; its removals with their full text.
    #[serde(flatten)]
    pub record: &'a Record,
    /// The share of the decoded text removed by rules.
    pub removed_share: f64,
    /// The text that `clean` keeps.
    pub kept: &'a str,
}

/// The provenance record of `document` cleaned into `cleaned`, with every removed span's whole text.
pub fn record_of(document: &Document, cleaned: &OwnedCleaned, cleaner: &Cleaner) -> Record {
    let stamp = RulesStamp::of(cleaner.rules(), cleaner.config());
    let mut record = Record::new(document.source.to_string_lossy().into_owned(), &stamp);
    if !matches!(document.envelope, dechaff_run::input::Envelope::Text) {
        record.document = Some(document.location.clone());
    }
    record
        .describe_cleaning(
            InputStats::stored(document.raw_bytes, String::new()),
            &document.text,
            (document.encoding, document.lossy),
            cleaned,
            cleaner.rules(),
            ProvenanceText::Full,
            SpanDestination::Record,
        )
        .expect("spans held in the record write no file");
    record
}

/// What one rule makes of a line.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct LineVerdict {
    /// The rule id.
    pub rule: String,
    /// `removes`, `matches`, `too-long`, `position`, `no-match` or `needs-context`.
    pub verdict: &'static str,
    /// Why, in words.
    pub why: String,
}

/// `explain --line`: every rule's verdict on `line` as a document of its
/// own. The rules that remove it come first, then those whose pattern
/// matches but which do not remove it (and why), then the count of the rest.
pub fn explain_line(line: &str, cleaner: &mut Cleaner) -> Vec<LineVerdict> {
    let rules: Arc<RuleSet> = cleaner.shared_rules();
    let text = format!("{}\n", line.trim_end_matches(['\n', '\r']));
    let cleaned = cleaner.clean(&text);
    let removing: Vec<usize> = cleaned.removals().iter().map(|removal| removal.rule).collect();
    let patterns = dechaff_engine::grep::line_patterns(&rules);
    let mut key = String::new();
    fold::fold_into(line, &mut key, usize::MAX);
    let mut line_patterns = patterns.patterns.iter();
    let mut verdicts = Vec::new();
    for (index, rule) in rules.rules().iter().enumerate() {
        let pattern = if rule.kind == RuleKind::Line {
            line_patterns.next()
        } else {
            None
        };
        let (verdict, why) = if removing.contains(&index) {
            ("removes", format!("{} removes this line", rule.action()))
        } else if let Some(pattern) = pattern {
            match Regex::new(pattern) {
                Ok(regex) if regex.is_match(&key) => {
                    if key.len() > rule.max_length {
                        (
                            "too-long",
                            format!(
                                "the pattern matches, but the line's key is {} bytes, over the rule's max-length of {}",
                                key.len(),
                                rule.max_length
                            ),
                        )
                    } else if rule.min_position.is_some() || rule.max_position.is_some() {
                        (
                            "position",
                            format!(
                                "the pattern matches, but the rule applies only between {:.0}% and {:.0}% of a document; alone, the line stands at 0%",
                                rule.min_position.unwrap_or(0.0) * 100.0,
                                rule.max_position.unwrap_or(1.0) * 100.0
                            ),
                        )
                    } else {
                        (
                            "matches",
                            "the pattern matches, but another rule removed the line first".to_string(),
                        )
                    }
                }
                Ok(_) => ("no-match", "the pattern does not match".to_string()),
                Err(e) => ("no-match", format!("the pattern could not be compiled alone: {e}")),
            }
        } else {
            (
                "needs-context",
                format!(
                    "a {} rule looks at more than one line: explain a document to see it",
                    rule.kind.name()
                ),
            )
        };
        verdicts.push(LineVerdict {
            rule: rule.id.clone(),
            verdict,
            why,
        });
    }
    let rank = |verdict: &str| match verdict {
        "removes" => 0,
        "matches" | "too-long" | "position" => 1,
        _ => 2,
    };
    verdicts.sort_by_key(|v| rank(v.verdict));
    verdicts
}

/// `explain --line` as text: the rules that remove or match the line, and a count of the rest.
pub fn render_line_verdicts(line: &str, verdicts: &[LineVerdict]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let removed = verdicts.iter().any(|v| v.verdict == "removes");
    let _ = writeln!(out, "{line:?}: {}", if removed { "removed" } else { "kept" });
    for verdict in verdicts
        .iter()
        .filter(|v| !matches!(v.verdict, "no-match" | "needs-context"))
    {
        let _ = writeln!(out, "  {}: {}", verdict.rule, verdict.why);
    }
    let no_match = verdicts.iter().filter(|v| v.verdict == "no-match").count();
    let context = verdicts.iter().filter(|v| v.verdict == "needs-context").count();
    let _ = writeln!(
        out,
        "  {no_match} other line rules do not match; {context} block, tail, inline and heuristic rules need a document to judge (those that removed the line alone are listed above)"
    );
    out
}
