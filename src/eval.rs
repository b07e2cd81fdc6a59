//! Scoring the cleaner against human gold main text.
//!
//! An evaluation set is a folder with `input/<id>.txt` (scraped pages) and
//! `gold/<id>.txt` (the main text a person marked). Every input is cleaned in
//! memory and compared with its gold as a *bag of whitespace tokens*, the
//! measure of the web-content-extraction benchmarks (and of the devset's own
//! `score.py`, whose figures these agree with):
//!
//! - per document, `tp = |output ∩ gold|` (multisets), `P = tp/|output|`,
//!   `R = tp/|gold|`; an empty output scores 0;
//! - *micro* figures pool the counts over documents, *macro* figures average
//!   the per-document ones;
//! - the input's boilerplate is the multiset `input − gold`; the share of it
//!   the output no longer holds is "boilerplate removed".
//!
//! Per rule, every removal's tokens are charged in document order against the
//! gold tokens the output lost (`gold − output`): a removed token still owed
//! there was gold content, so a rule's *error rate* is the share of the tokens
//! it removed that the gold wanted kept.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use dechaff_engine::corpus::GroupBy;
use dechaff_engine::{Cleaner, LineEvidence, NoEvidence};
use dechaff_run::corpus_pass::{count_recurring_lines, PlanCounts};
use dechaff_run::decode::{self, EncodingChoice};
use dechaff_run::plan::{plan_for_reading, RunConfig};
use dechaff_run::{Error, ErrorKind, Result};

/// One document of an evaluation set.
#[derive(Debug, Clone)]
pub struct EvalDocument {
    /// The file stem shared by input and gold.
    pub id: String,
    /// `input/<id>.txt`.
    pub input: PathBuf,
    /// `gold/<id>.txt`.
    pub gold: PathBuf,
}

/// The documents of a folder with `input/` and `gold/`, sorted by id.
///
/// An id counts when both files exist, as in the devset's `score.py`; a folder
/// without either subfolder, or with no pair at all, is an error.
pub fn load_set(dir: &Path) -> Result<Vec<EvalDocument>> {
    let input_dir = dir.join("input");
    let gold_dir = dir.join("gold");
    for sub in [&input_dir, &gold_dir] {
        if !sub.is_dir() {
            return Err(Error::usage(format!(
                "{}: an evaluation set needs input/<id>.txt and gold/<id>.txt, and {} is not a directory",
                dir.display(),
                sub.display()
            )));
        }
    }
    let entries = std::fs::read_dir(&gold_dir).map_err(|source| unreadable(&gold_dir, source))?;
    let mut documents = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| unreadable(&gold_dir, source))?;
        let name = entry.file_name();
        let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".txt")) else {
            continue;
        };
        let input = input_dir.join(&name);
        if input.is_file() {
            documents.push(EvalDocument {
                id: id.to_string(),
                input,
                gold: entry.path(),
            });
        }
    }
    if documents.is_empty() {
        return Err(Error::usage(format!(
            "{}: no <id>.txt present in both input/ and gold/",
            dir.display()
        )));
    }
    documents.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(documents)
}

/// Token counts of one document.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DocumentCounts {
    /// Tokens in the input.
    pub input: u64,
    /// Tokens in the gold.
    pub gold: u64,
    /// Tokens in the output.
    pub output: u64,
    /// Output tokens matched by gold tokens (multiset intersection).
    pub true_positives: u64,
    /// Tokens of `input − gold`: the input's boilerplate.
    pub boilerplate: u64,
    /// Boilerplate tokens the output still holds.
    pub boilerplate_kept: u64,
}

impl DocumentCounts {
    /// Precision; 0 for an empty output.
    pub fn precision(&self) -> f64 {
        ratio(self.true_positives, self.output)
    }

    /// Recall; for an empty gold, 1 if the output is empty too, else 0.
    pub fn recall(&self) -> f64 {
        if self.gold == 0 {
            return if self.output == 0 { 1.0 } else { 0.0 };
        }
        ratio(self.true_positives, self.gold)
    }

    /// Harmonic mean of precision and recall; 0 when both are 0.
    pub fn f1(&self) -> f64 {
        f1(self.precision(), self.recall())
    }
}

/// One document's result.
#[derive(Debug, Clone)]
pub struct DocumentScore {
    /// The document's id.
    pub id: String,
    /// Its token counts.
    pub counts: DocumentCounts,
    /// What each rule that fired on it removed.
    pub rules: Vec<RuleScore>,
}

/// What one rule did over the whole set.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleScore {
    /// The rule id.
    pub rule: String,
    /// Removals (spans in provenance) the rule made.
    pub hits: u64,
    /// Whitespace tokens in those removals.
    pub tokens_removed: u64,
    /// Of those, tokens that were gold content.
    pub gold_tokens_removed: u64,
}

impl RuleScore {
    /// The share of the removed tokens that were gold content.
    pub fn error_rate(&self) -> f64 {
        ratio(self.gold_tokens_removed, self.tokens_removed)
    }
}

/// Pooled and averaged figures over a set of documents.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Documents scored.
    pub documents: usize,
    /// Precision over pooled counts.
    pub micro_precision: f64,
    /// Recall over pooled counts.
    pub micro_recall: f64,
    /// F1 of the micro precision and recall.
    pub micro_f1: f64,
    /// Mean per-document precision.
    pub macro_precision: f64,
    /// Mean per-document recall.
    pub macro_recall: f64,
    /// Mean per-document F1.
    pub macro_f1: f64,
    /// Share of the pooled boilerplate tokens the outputs removed.
    pub boilerplate_removed: f64,
    /// Mean per-document share of boilerplate removed, over documents with any.
    pub boilerplate_removed_macro: f64,
    /// Output tokens over input tokens.
    pub kept: f64,
    /// Documents whose output has no token.
    pub empty_outputs: usize,
    /// Tokens over all inputs, golds and outputs.
    pub tokens: DocumentCounts,
}

impl Summary {
    /// Aggregates per-document counts.
    pub fn of(documents: &[DocumentScore]) -> Summary {
        let mut pooled = DocumentCounts::default();
        let (mut precision, mut recall, mut f1_sum) = (0.0, 0.0, 0.0);
        let (mut boilerplate_removed_sum, mut with_boilerplate) = (0.0, 0usize);
        for doc in documents {
            let c = doc.counts;
            pooled.input += c.input;
            pooled.gold += c.gold;
            pooled.output += c.output;
            pooled.true_positives += c.true_positives;
            pooled.boilerplate += c.boilerplate;
            pooled.boilerplate_kept += c.boilerplate_kept;
            precision += c.precision();
            recall += c.recall();
            f1_sum += c.f1();
            if c.boilerplate > 0 {
                boilerplate_removed_sum += 1.0 - ratio(c.boilerplate_kept, c.boilerplate);
                with_boilerplate += 1;
            }
        }
        let n = documents.len().max(1) as f64;
        let micro_precision = ratio(pooled.true_positives, pooled.output);
        let micro_recall = ratio(pooled.true_positives, pooled.gold);
        Summary {
            documents: documents.len(),
            micro_precision,
            micro_recall,
            micro_f1: f1(micro_precision, micro_recall),
            macro_precision: precision / n,
            macro_recall: recall / n,
            macro_f1: f1_sum / n,
            boilerplate_removed: if pooled.boilerplate == 0 {
                0.0
            } else {
                1.0 - ratio(pooled.boilerplate_kept, pooled.boilerplate)
            },
            boilerplate_removed_macro: if with_boilerplate == 0 {
                0.0
            } else {
                boilerplate_removed_sum / with_boilerplate as f64
            },
            kept: ratio(pooled.output, pooled.input),
            empty_outputs: documents.iter().filter(|d| d.counts.output == 0).count(),
            tokens: pooled,
        }
    }
}

/// The result of an evaluation.
#[derive(Debug, Clone)]
pub struct Report {
    /// Every document, in id order.
    pub documents: Vec<DocumentScore>,
    /// Every rule that fired, by hits (most first), then id.
    pub rules: Vec<RuleScore>,
    /// Figures over all documents.
    pub summary: Summary,
}

/// Cleans every document of `set` with clones of `cleaner` on `jobs` threads
/// and scores the outputs against the gold. The figures do not depend on `jobs`.
///
/// When the cleaner's rules carry corpus mode, the set is one corpus: a first
/// pass counts the lines of every input (the set's `input/` folder is the one
/// group, as `clean --corpus --group-by dir` would make it), and each document
/// is cleaned with those counts.
pub fn evaluate(set: &[EvalDocument], cleaner: &Cleaner, encoding: EncodingChoice, jobs: usize) -> Result<Report> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()
        .map_err(|e| Error::new(ErrorKind::Threads(format!("cannot start {jobs} worker threads: {e}"))))?;
    let corpus = match cleaner.rules().corpus() {
        Some(settings) if settings.group_by != GroupBy::Dir => {
            return Err(Error::usage(format!(
                "eval: an evaluation set's inputs are plain text in one folder; --group-by {} cannot apply",
                settings.group_by
            )))
        }
        Some(settings) => {
            // The documents scored, as `clean --corpus` reads them: one group, their folder.
            let mut config = RunConfig::new(set.iter().map(|d| d.input.clone()).collect(), PathBuf::from("-"));
            config.read.encoding = encoding;
            let plan = plan_for_reading(&config)?;
            Some(pool.install(|| count_recurring_lines(&plan, &config, settings))?)
        }
        None => None,
    };
    let corpus = corpus.as_ref();
    let next = AtomicUsize::new(0);
    let results: Vec<Result<(usize, DocumentScore, Vec<RuleScore>)>> = pool
        .broadcast(|_| {
            let mut cleaner = cleaner.clone();
            let mut done = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(document) = set.get(index) else {
                    break;
                };
                done.push(score_document(document, &mut cleaner, encoding, corpus).map(|(s, r)| (index, s, r)));
            }
            done
        })
        .into_iter()
        .flatten()
        .collect();

    let mut scored = Vec::with_capacity(set.len());
    for result in results {
        scored.push(result?);
    }
    scored.sort_by_key(|(index, _, _)| *index);
    let mut by_rule: HashMap<String, RuleScore> = HashMap::new();
    let mut documents = Vec::with_capacity(scored.len());
    for (_, document, rules) in scored {
        documents.push(document);
        for rule in rules {
            let entry = by_rule.entry(rule.rule.clone()).or_insert_with(|| RuleScore {
                rule: rule.rule.clone(),
                hits: 0,
                tokens_removed: 0,
                gold_tokens_removed: 0,
            });
            entry.hits += rule.hits;
            entry.tokens_removed += rule.tokens_removed;
            entry.gold_tokens_removed += rule.gold_tokens_removed;
        }
    }
    let mut rules: Vec<RuleScore> = by_rule.into_values().collect();
    rules.sort_by(|a, b| b.hits.cmp(&a.hits).then_with(|| a.rule.cmp(&b.rule)));
    let summary = Summary::of(&documents);
    Ok(Report {
        documents,
        rules,
        summary,
    })
}

/// The per-document table (`eval --per-doc`), worst F1 first (ties by id):
/// tab-separated, one header line, then per document its id, precision,
/// recall, F1, gold and output tokens, gold tokens lost, and the tokens
/// each rule removed (`rule:tokens/gold`, gold being the gold tokens among them).
pub fn per_document_table(report: &Report) -> String {
    use std::fmt::Write as _;
    let mut documents: Vec<&DocumentScore> = report.documents.iter().collect();
    documents.sort_by(|a, b| a.counts.f1().total_cmp(&b.counts.f1()).then_with(|| a.id.cmp(&b.id)));
    let mut out = String::from("id\tprecision\trecall\tf1\tgold_tokens\toutput_tokens\tgold_tokens_lost\trules\n");
    for document in documents {
        let c = &document.counts;
        let rules: Vec<String> = document
            .rules
            .iter()
            .map(|r| format!("{}:{}/{}", r.rule, r.tokens_removed, r.gold_tokens_removed))
            .collect();
        let _ = writeln!(
            out,
            "{}\t{:.3}\t{:.3}\t{:.3}\t{}\t{}\t{}\t{}",
            document.id,
            c.precision(),
            c.recall(),
            c.f1(),
            c.gold,
            c.output,
            c.gold - c.true_positives,
            rules.join(" ")
        );
    }
    out
}

/// An evaluation set's file that cannot be read: the evaluation cannot go on.
fn unreadable(path: &Path, source: std::io::Error) -> Error {
    Error::new(ErrorKind::Input {
        path: path.to_path_buf(),
        message: source.to_string(),
    })
}

fn score_document(
    document: &EvalDocument,
    cleaner: &mut Cleaner,
    encoding: EncodingChoice,
    corpus: Option<&PlanCounts>,
) -> Result<(DocumentScore, Vec<RuleScore>)> {
    let input_bytes = std::fs::read(&document.input).map_err(|source| unreadable(&document.input, source))?;
    let gold_bytes = std::fs::read(&document.gold).map_err(|source| unreadable(&document.gold, source))?;
    let decoded = decode::decode(&input_bytes, encoding).map_err(|e| {
        Error::new(ErrorKind::Input {
            path: document.input.clone(),
            message: e.to_string(),
        })
    })?;
    let text = decoded.text.as_ref();
    let gold_text = String::from_utf8_lossy(&gold_bytes);
    let rules = cleaner.shared_rules();
    let group = document.input.parent().unwrap_or(Path::new("")).to_string_lossy();
    let evidence = corpus.map(|counts| counts.evidence_in(&group));
    let evidence: &dyn LineEvidence = match &evidence {
        Some(evidence) => evidence,
        None => &NoEvidence,
    };
    let cleaned = cleaner.clean_with(text, evidence);

    let input = bag(text);
    let gold = bag(&gold_text);
    let output = bag(&cleaned.text);
    let mut counts = DocumentCounts {
        input: size(&input),
        gold: size(&gold),
        output: size(&output),
        ..DocumentCounts::default()
    };
    for (token, &n) in &output {
        let g = gold.get(token).copied().unwrap_or(0);
        counts.true_positives += u64::from(n.min(g));
        // Output tokens beyond the gold's are boilerplate kept, up to the input's surplus.
        let surplus_in_input = input.get(token).copied().unwrap_or(0).saturating_sub(g);
        counts.boilerplate_kept += u64::from(n.saturating_sub(g).min(surplus_in_input));
    }
    counts.boilerplate = input
        .iter()
        .map(|(token, &n)| u64::from(n.saturating_sub(gold.get(token).copied().unwrap_or(0))))
        .sum();

    // Gold tokens the output lost, charged to the removals in document order.
    let mut lost: HashMap<&str, u32> = gold
        .iter()
        .filter_map(|(token, &g)| {
            let missing = g.saturating_sub(output.get(token).copied().unwrap_or(0));
            (missing > 0).then_some((*token, missing))
        })
        .collect();
    let mut per_rule: Vec<RuleScore> = Vec::new();
    for removal in &cleaned.removals() {
        let id = &rules.rules()[removal.rule].id;
        let position = match per_rule.iter().position(|r| &r.rule == id) {
            Some(position) => position,
            None => {
                per_rule.push(RuleScore {
                    rule: id.clone(),
                    hits: 0,
                    tokens_removed: 0,
                    gold_tokens_removed: 0,
                });
                per_rule.len() - 1
            }
        };
        let score = &mut per_rule[position];
        score.hits += 1;
        for token in tokens(&text[removal.bytes.clone()]) {
            score.tokens_removed += 1;
            if let Some(owed) = lost.get_mut(token) {
                if *owed > 0 {
                    *owed -= 1;
                    score.gold_tokens_removed += 1;
                }
            }
        }
    }
    Ok((
        DocumentScore {
            id: document.id.clone(),
            counts,
            rules: per_rule.clone(),
        },
        per_rule,
    ))
}

/// Whitespace tokens as Python's `str.split()` makes them: Unicode white space
/// plus the four ASCII information separators, which Python also splits on.
pub fn tokens(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
        .filter(|t| !t.is_empty())
}

fn bag(text: &str) -> HashMap<&str, u32> {
    let mut bag = HashMap::new();
    for token in tokens(text) {
        *bag.entry(token).or_insert(0) += 1;
    }
    bag
}

fn size(bag: &HashMap<&str, u32>) -> u64 {
    bag.values().map(|&n| u64::from(n)).sum()
}

fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

fn f1(precision: f64, recall: f64) -> f64 {
    if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_split_like_python() {
        let text = "a\u{a0}b\u{1f}c\u{3000}d  e\n\tf\u{200b}g";
        // U+200B (zero width space) is not white space, in Python or here.
        assert_eq!(
            tokens(text).collect::<Vec<_>>(),
            ["a", "b", "c", "d", "e", "f\u{200b}g"]
        );
    }

    #[test]
    fn empty_gold_and_empty_output_score_as_score_py_does() {
        let both_empty = DocumentCounts::default();
        assert_eq!(
            (both_empty.precision(), both_empty.recall(), both_empty.f1()),
            (0.0, 1.0, 0.0)
        );
        let output_only = DocumentCounts {
            output: 3,
            ..DocumentCounts::default()
        };
        assert_eq!((output_only.recall(), output_only.f1()), (0.0, 0.0));
    }
}
