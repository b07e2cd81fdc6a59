//! A run's statistics: what came in, what went out, which rule removed how
//! much, and where in the documents it was removed.
//!
//! [`RunStats`] is filled record by record from what the pipeline's
//! collector already holds (the provenance records, in input order), so it
//! costs the hot path nothing but a pass over each record's removed spans on
//! the collecting thread. A run writes it as `stats.json` beside provenance;
//! the stats of several runs (the shards of one corpus) [`RunStats::merge`]
//! into one, since every figure is a sum, a histogram, or a bounded list.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::plan::{RunConfig, ShardSpec};
use crate::provenance::{Record, RulesStamp, Status, ToolStamp};
use crate::span_log::RuleTally;

/// The schema version written in every stats file. Bump it when a field changes meaning.
pub const STATS_SCHEMA: &str = "dechaff.stats/1";

/// The stats file's name inside `--out` for a run with `shard`: `stats.json`,
/// or `stats.I-of-N.json` so that the parts of a split run can share one `--out`.
pub fn file_name(shard: Option<ShardSpec>) -> String {
    match shard {
        Some(ShardSpec { index, count }) => format!("stats.{index}-of-{count}.json"),
        None => "stats.json".to_string(),
    }
}

/// Bins of the histogram of the share removed per document: 5% each.
pub const SHARE_BINS: usize = 20;
pub use crate::span_log::{EXAMPLES_PER_RULE, POSITION_BINS};
/// Documents kept in the list of those that lost the most.
pub const TOP_DOCUMENTS: usize = 25;

/// The statistics of one run, or of several merged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStats {
    /// [`STATS_SCHEMA`].
    pub schema: String,
    /// What each run that went into these figures was asked to do.
    pub runs: Vec<RunSettings>,
    /// Files, counted by what became of them.
    pub files: FileCounts,
    /// Documents (a text file, or a record of a JSONL or WARC input), counted by what became of them.
    pub documents: DocumentTotals,
    /// Bytes in and out.
    pub bytes: ByteCounts,
    /// Per rule id: what it removed.
    pub rules: BTreeMap<String, RuleStats>,
    /// Per action (`drop-line`, `drop-block`, `drop-tail`, `cut-span`): what it removed.
    pub actions: BTreeMap<String, Removal>,
    /// Warnings, counted by reason (numbers in the message replaced by `N`).
    pub warnings: BTreeMap<String, u64>,
    /// Refused records and failed files, counted by reason (numbers replaced by `N`).
    pub rejects: BTreeMap<String, u64>,
    /// Documents by the share of their decoded bytes removed: bin `i` holds
    /// shares in `[i/20, (i+1)/20)`, the last bin also 100%.
    pub removed_share_histogram: Vec<u64>,
    /// Bytes removed by where the span starts in its document: bin `i` holds
    /// spans starting in the `i`-th tenth.
    pub removed_bytes_by_position: Vec<u64>,
    /// The documents that lost the most bytes, most first.
    pub top_documents: Vec<DocumentLoss>,
    /// Wall-clock seconds per phase, summed over merged runs.
    pub seconds: PhaseSeconds,
}

/// What one run was asked to do.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunSettings {
    /// The inputs, as given.
    pub inputs: Vec<String>,
    /// `--out`.
    pub out: String,
    /// `--shard I/N`, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// `--jobs`.
    pub jobs: usize,
    /// The rules and settings, with their fingerprint, as provenance records them.
    pub rules: RulesStamp,
    /// The tool that ran.
    pub tool: ToolStamp,
}

/// Two runs' settings are equal when they were asked the same of the same
/// rules: the rules' fingerprint covers the packs and the settings.
impl PartialEq for RunSettings {
    fn eq(&self, other: &RunSettings) -> bool {
        (
            &self.inputs,
            &self.out,
            &self.shard,
            self.jobs,
            &self.rules.fingerprint,
            &self.tool.version,
        ) == (
            &other.inputs,
            &other.out,
            &other.shard,
            other.jobs,
            &other.rules.fingerprint,
            &other.tool.version,
        )
    }
}

/// Files by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCounts {
    /// Files planned.
    pub planned: u64,
    /// Cleaned and written.
    pub ok: u64,
    /// Failed (nothing written for them).
    pub failed: u64,
    /// Skipped (links not followed).
    pub skipped: u64,
    /// Text files dropped by a document filter (`--drop`), nothing written for them.
    #[serde(default)]
    pub dropped: u64,
    /// Copied forward by `--resume`, included in the other counts.
    pub resumed: u64,
}

/// Documents by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentTotals {
    /// Cleaned and written.
    pub written: u64,
    /// Refused records (each one is in `--rejects`) and text files that failed.
    pub rejected: u64,
    /// Documents (records and text files) dropped by a document filter
    /// (`--drop`), counted by reason (`empty`, `over-budget`).
    #[serde(default)]
    pub dropped: BTreeMap<String, u64>,
    /// Written with a warning.
    pub with_warnings: u64,
    /// Written documents from which at least one span was removed.
    pub changed: u64,
}

/// Byte totals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByteCounts {
    /// Input files as stored (compressed or not).
    pub stored_in: u64,
    /// Decoded text of the documents written.
    pub decoded_in: u64,
    /// Text of the documents written, after cleaning.
    pub cleaned_out: u64,
    /// Removed by rules (the rest of `decoded_in - cleaned_out` is whitespace normalisation).
    pub removed_by_rules: u64,
}

/// What a rule or an action removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removal {
    /// Documents it removed something from.
    pub documents: u64,
    /// Spans removed.
    pub spans: u64,
    /// Bytes removed.
    pub bytes: u64,
    /// Lines removed (a cut inside a line counts its line).
    pub lines: u64,
}

/// What a rule removed, with examples.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleStats {
    /// The rule's action.
    pub action: String,
    /// What it removed.
    #[serde(flatten)]
    pub removal: Removal,
    /// The first few removed texts (as provenance stores them: excerpts unless `--provenance-text full`).
    pub examples: Vec<String>,
}

/// A document and what it lost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentLoss {
    /// The input path.
    pub source: String,
    /// For a record of a JSONL or WARC input: its 0-based index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<u64>,
    /// The record's id, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Decoded bytes.
    pub decoded_bytes: u64,
    /// Bytes removed by rules.
    pub removed_bytes: u64,
    /// Spans removed.
    pub spans: u64,
}

/// Wall-clock seconds per phase.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PhaseSeconds {
    /// Corpus mode's counting pass (0 without `--corpus`).
    pub counting: f64,
    /// Checking what `--resume` can copy forward.
    pub resume_check: f64,
    /// Reading, cleaning and writing.
    pub cleaning: f64,
    /// The whole run.
    pub total: f64,
}

impl RunStats {
    /// Empty statistics for a run of `config` with `rules` over `planned` files.
    pub fn for_run(config: &RunConfig, rules: &RulesStamp, planned: u64) -> RunStats {
        let settings = RunSettings {
            inputs: config.inputs.iter().map(|p| p.to_string_lossy().into_owned()).collect(),
            out: config.out.to_string_lossy().into_owned(),
            shard: config.shard.map(|s| format!("{}/{}", s.index, s.count)),
            jobs: config.jobs,
            rules: rules.clone(),
            tool: ToolStamp::current(),
        };
        RunStats::new(settings, planned)
    }

    /// Empty statistics for a run with `settings` over `planned` files.
    pub fn new(settings: RunSettings, planned: u64) -> RunStats {
        RunStats {
            schema: STATS_SCHEMA.to_string(),
            runs: vec![settings],
            files: FileCounts {
                planned,
                ..FileCounts::default()
            },
            documents: DocumentTotals::default(),
            bytes: ByteCounts::default(),
            rules: BTreeMap::new(),
            actions: BTreeMap::new(),
            warnings: BTreeMap::new(),
            rejects: BTreeMap::new(),
            removed_share_histogram: vec![0; SHARE_BINS],
            removed_bytes_by_position: vec![0; POSITION_BINS],
            top_documents: Vec::new(),
            seconds: PhaseSeconds::default(),
        }
    }

    /// Counts one provenance record. `resumed` is true for a record copied forward by `--resume`.
    pub fn add(&mut self, record: &Record, resumed: bool) {
        for warning in &record.warnings {
            *self.warnings.entry(reason_key(warning)).or_default() += 1;
        }
        if let Some(reason) = record.dropped {
            *self.documents.dropped.entry(reason.to_string()).or_default() += 1;
            if record.document.is_none() {
                self.files.dropped += 1;
                self.files.resumed += u64::from(resumed);
                self.bytes.stored_in += record.input.as_ref().map_or(0, |i| i.bytes);
            }
            return;
        }
        if record.status != Status::Ok {
            if let Some(error) = &record.error {
                *self.rejects.entry(reason_key(error)).or_default() += 1;
            }
        }
        // A JSONL or WARC input's closing record counts the file; its documents came before it.
        let is_container = record.document.is_none() && record.documents.is_some();
        if record.document.is_none() {
            match record.status {
                Status::Ok => self.files.ok += 1,
                Status::Error => self.files.failed += 1,
                Status::Skipped => self.files.skipped += 1,
                Status::Dropped => {}
            }
            self.files.resumed += u64::from(resumed);
            self.bytes.stored_in += record.input.as_ref().map_or(0, |i| i.bytes);
            if is_container || record.status == Status::Skipped {
                return;
            }
        }
        if record.status != Status::Ok {
            self.documents.rejected += 1;
            return;
        }
        self.add_document(record);
    }

    fn add_document(&mut self, record: &Record) {
        /// Whether `name` is new to `seen`, which then holds it.
        fn first_sight<'a>(seen: &mut Vec<&'a str>, name: &'a str) -> bool {
            let new = !seen.contains(&name);
            if new {
                seen.push(name);
            }
            new
        }
        let decoded = record.input.as_ref().and_then(|i| i.decoded_bytes).unwrap_or(0);
        self.documents.written += 1;
        self.documents.with_warnings += u64::from(!record.warnings.is_empty());
        let tally = record.tally();
        self.documents.changed += u64::from(tally.spans > 0);
        self.bytes.decoded_in += decoded;
        self.bytes.cleaned_out += record.cleaned.as_ref().map_or(0, |c| c.bytes);
        let removed_bytes = tally.bytes;
        // Actions seen in this document, each once, so that each counts the
        // document once (the tally has each rule once already).
        let mut seen: Vec<&str> = Vec::new();
        for tallied in &tally.rules {
            if !self.rules.contains_key(&*tallied.rule) {
                self.rules.insert(tallied.rule.to_string(), RuleStats::default());
            }
            let rule = self.rules.get_mut(&*tallied.rule).expect("just inserted");
            if rule.action.is_empty() {
                rule.action = tallied.action.to_string();
            }
            add_spans(&mut rule.removal, true, tallied);
            for example in &tallied.examples {
                if rule.examples.len() < EXAMPLES_PER_RULE && !rule.examples.contains(example) {
                    rule.examples.push(example.clone());
                }
            }
            if !self.actions.contains_key(&*tallied.action) {
                self.actions.insert(tallied.action.to_string(), Removal::default());
            }
            let action = self.actions.get_mut(&*tallied.action).expect("just inserted");
            add_spans(action, first_sight(&mut seen, &tallied.action), tallied);
        }
        for (bin, bytes) in tally.by_position.iter().enumerate() {
            self.removed_bytes_by_position[bin] += bytes;
        }
        self.bytes.removed_by_rules += removed_bytes;
        let share = if decoded == 0 {
            0.0
        } else {
            removed_bytes as f64 / decoded as f64
        };
        let bin = ((share * SHARE_BINS as f64) as usize).min(SHARE_BINS - 1);
        self.removed_share_histogram[bin] += 1;
        if removed_bytes > 0 {
            self.consider_top(DocumentLoss {
                source: record.source.clone(),
                record: record.document.as_ref().map(|d| d.index),
                id: record.document.as_ref().and_then(|d| d.id.clone()),
                decoded_bytes: decoded,
                removed_bytes,
                spans: tally.spans,
            });
        }
    }

    /// Keeps `loss` if it is among the [`TOP_DOCUMENTS`] that lost the most.
    fn consider_top(&mut self, loss: DocumentLoss) {
        let full = self.top_documents.len() >= TOP_DOCUMENTS;
        if full
            && self
                .top_documents
                .last()
                .is_some_and(|last| last.removed_bytes >= loss.removed_bytes)
        {
            return;
        }
        // Ties keep input order: the earlier document stays ahead.
        let at = self
            .top_documents
            .partition_point(|kept| kept.removed_bytes >= loss.removed_bytes);
        self.top_documents.insert(at, loss);
        self.top_documents.truncate(TOP_DOCUMENTS);
    }

    /// Adds `other`'s figures to these: the stats of several runs (the
    /// shards of one corpus) become the stats of the whole.
    pub fn merge(&mut self, other: RunStats) {
        self.runs.extend(other.runs);
        let f = &mut self.files;
        f.planned += other.files.planned;
        f.ok += other.files.ok;
        f.failed += other.files.failed;
        f.skipped += other.files.skipped;
        f.dropped += other.files.dropped;
        f.resumed += other.files.resumed;
        let d = &mut self.documents;
        d.written += other.documents.written;
        d.rejected += other.documents.rejected;
        d.with_warnings += other.documents.with_warnings;
        d.changed += other.documents.changed;
        for (reason, count) in other.documents.dropped {
            *d.dropped.entry(reason).or_default() += count;
        }
        let b = &mut self.bytes;
        b.stored_in += other.bytes.stored_in;
        b.decoded_in += other.bytes.decoded_in;
        b.cleaned_out += other.bytes.cleaned_out;
        b.removed_by_rules += other.bytes.removed_by_rules;
        for (id, theirs) in other.rules {
            let ours = self.rules.entry(id).or_default();
            if ours.action.is_empty() {
                ours.action = theirs.action;
            }
            merge_removal(&mut ours.removal, &theirs.removal);
            for example in theirs.examples {
                if ours.examples.len() < EXAMPLES_PER_RULE && !ours.examples.contains(&example) {
                    ours.examples.push(example);
                }
            }
        }
        for (action, theirs) in other.actions {
            merge_removal(self.actions.entry(action).or_default(), &theirs);
        }
        for (reason, n) in other.warnings {
            *self.warnings.entry(reason).or_default() += n;
        }
        for (reason, n) in other.rejects {
            *self.rejects.entry(reason).or_default() += n;
        }
        add_bins(&mut self.removed_share_histogram, &other.removed_share_histogram);
        add_bins(&mut self.removed_bytes_by_position, &other.removed_bytes_by_position);
        for loss in other.top_documents {
            self.consider_top(loss);
        }
        let s = &mut self.seconds;
        s.counting += other.seconds.counting;
        s.resume_check += other.seconds.resume_check;
        s.cleaning += other.seconds.cleaning;
        s.total += other.seconds.total;
    }

    /// The share of the decoded input that rules removed (0 when nothing was decoded).
    pub fn removed_share(&self) -> f64 {
        share(self.bytes.removed_by_rules, self.bytes.decoded_in)
    }

    /// Pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("stats always serialize");
        text.push('\n');
        text
    }

    /// Reads a stats file (a run's `stats.json`, or a merged one).
    pub fn read(path: &Path) -> Result<RunStats> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let stats: RunStats = serde_json::from_str(&text).map_err(|e| {
            Error::new(ErrorKind::Usage(format!(
                "{}: not a dechaff stats file: {e}",
                path.display()
            )))
        })?;
        if stats.schema != STATS_SCHEMA {
            return Err(Error::new(ErrorKind::Usage(format!(
                "{}: stats schema {:?}, this dechaff reads {STATS_SCHEMA:?}",
                path.display(),
                stats.schema
            ))));
        }
        Ok(stats)
    }
}

/// `part / whole`, 0 when `whole` is 0.
pub fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn add_spans(removal: &mut Removal, first_in_document: bool, tally: &RuleTally) {
    removal.documents += u64::from(first_in_document);
    removal.spans += tally.spans;
    removal.bytes += tally.bytes;
    removal.lines += tally.lines;
}

fn merge_removal(ours: &mut Removal, theirs: &Removal) {
    ours.documents += theirs.documents;
    ours.spans += theirs.spans;
    ours.bytes += theirs.bytes;
    ours.lines += theirs.lines;
}

fn add_bins(ours: &mut Vec<u64>, theirs: &[u64]) {
    if ours.len() < theirs.len() {
        ours.resize(theirs.len(), 0);
    }
    for (a, b) in ours.iter_mut().zip(theirs) {
        *a += b;
    }
}

/// A message with its numbers replaced by `N`, so that messages that differ
/// only in a line number, a share or a size count as one reason.
pub fn reason_key(message: &str) -> String {
    let mut key = String::with_capacity(message.len());
    let mut in_number = false;
    for c in message.chars() {
        if c.is_ascii_digit() {
            if !in_number {
                key.push('N');
            }
            in_number = true;
        } else {
            in_number = false;
            key.push(c);
        }
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provenance::{DocumentLocation, InputStats, OutputStats, RemovedSpan};

    fn stamp() -> RulesStamp {
        let rules = dechaff_engine::RuleSet::shipped().unwrap();
        RulesStamp::of(&rules, dechaff_engine::CleanConfig::default())
    }

    fn settings() -> RunSettings {
        RunSettings {
            inputs: vec!["in".into()],
            out: "out".into(),
            shard: None,
            jobs: 1,
            rules: stamp(),
            tool: ToolStamp::current(),
        }
    }

    fn document(index: u64, decoded: u64, spans: &[(&str, usize, usize)]) -> Record {
        let mut record = Record::new("shard.jsonl".into(), &stamp());
        record.document = Some(DocumentLocation {
            index,
            ..DocumentLocation::default()
        });
        record.input = Some(InputStats {
            decoded_bytes: Some(decoded),
            ..InputStats::stored(decoded, String::new())
        });
        let removed: usize = spans.iter().map(|(_, s, e)| e - s).sum();
        record.cleaned = Some(OutputStats {
            bytes: decoded - removed as u64,
            lines: 1,
            sha256: String::new(),
        });
        record.removed = spans
            .iter()
            .map(|(rule, start, end)| RemovedSpan {
                rule: (*rule).into(),
                action: "drop-line".into(),
                lines: (1, 1),
                bytes: (*start, *end),
                score: None,
                text: format!("{rule} text"),
            })
            .collect();
        record
    }

    #[test]
    fn figures_count_documents_rules_and_positions() {
        let mut stats = RunStats::new(settings(), 1);
        stats.add(
            &document(0, 100, &[("a.x", 0, 10), ("a.x", 90, 100), ("b.y", 50, 60)]),
            false,
        );
        stats.add(&document(1, 100, &[]), false);
        let mut refused = document(2, 100, &[]);
        refused.status = Status::Error;
        refused.error = Some("line 3: malformed JSON: EOF at column 17".into());
        stats.add(&refused, false);
        let mut closing = Record::new("shard.jsonl".into(), &stamp());
        closing.documents = Some(Default::default());
        closing.input = Some(InputStats::stored(4096, String::new()));
        stats.add(&closing, false);

        assert_eq!(stats.files.ok, 1);
        assert_eq!(stats.bytes.stored_in, 4096);
        assert_eq!(stats.documents.written, 2);
        assert_eq!(stats.documents.rejected, 1);
        assert_eq!(stats.documents.changed, 1);
        assert_eq!(stats.bytes.decoded_in, 200);
        assert_eq!(stats.bytes.removed_by_rules, 30);
        let a = &stats.rules["a.x"];
        assert_eq!((a.removal.documents, a.removal.spans, a.removal.bytes), (1, 2, 20));
        assert_eq!(a.examples, vec!["a.x text".to_string()]);
        assert_eq!(stats.actions["drop-line"].documents, 1);
        assert_eq!(stats.removed_share_histogram[0], 1);
        assert_eq!(stats.removed_share_histogram[6], 1);
        assert_eq!(stats.removed_bytes_by_position[0], 10);
        assert_eq!(stats.removed_bytes_by_position[5], 10);
        assert_eq!(stats.removed_bytes_by_position[9], 10);
        assert_eq!(stats.rejects["line N: malformed JSON: EOF at column N"], 1);
        assert_eq!(stats.top_documents.len(), 1);
        assert_eq!(stats.top_documents[0].record, Some(0));
    }

    #[test]
    fn merging_two_halves_gives_the_figures_of_the_whole() {
        let documents: Vec<Record> = (0..40)
            .map(|i| document(i, 200, &[("a.x", 0, i as usize), ("b.y", 150, 160)]))
            .collect();
        let mut whole = RunStats::new(settings(), 2);
        let mut first = RunStats::new(settings(), 1);
        let mut second = RunStats::new(settings(), 1);
        for (i, record) in documents.iter().enumerate() {
            whole.add(record, false);
            if i < 17 { &mut first } else { &mut second }.add(record, false);
        }
        first.merge(second);
        first.runs.truncate(1);
        assert_eq!(first, whole);
        assert_eq!(whole.top_documents.len(), TOP_DOCUMENTS);
        assert_eq!(whole.top_documents[0].record, Some(39));
    }

    #[test]
    fn a_stats_file_round_trips() {
        let mut stats = RunStats::new(settings(), 1);
        stats.add(&document(0, 100, &[("a.x", 0, 10)]), false);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stats.json");
        std::fs::write(&path, stats.to_json()).unwrap();
        assert_eq!(RunStats::read(&path).unwrap(), stats);
        std::fs::write(&path, "{}").unwrap();
        let error = RunStats::read(&path).unwrap_err().to_string();
        assert!(error.contains("not a dechaff stats file"), "{error}");
    }
}
