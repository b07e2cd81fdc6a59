//! The per-file provenance record, and the run's manifest.
//!
//! One JSON object per input file says what came in (hashes, encoding,
//! lossiness), what went out, and every span that was removed, with byte
//! offsets into the decoded input and the rule that removed it, in the spirit
//! of dolma's attribute spans: the cleaning can be audited and redone. With
//! [`ProvenanceText::Full`] the removed text and the whitespace dropped by
//! normalisation are stored whole, so the decoded input can be rebuilt from
//! the output and the record alone.
//!
//! JSONL and WARC inputs hold many documents per file. Each document gets a
//! record of its own, naming its place in the file ([`DocumentLocation`]),
//! and the file gets a closing record that counts its documents
//! ([`DocumentCounts`]) and carries the hashes `--resume` compares. A
//! document's record also travels inside the output record, under
//! `metadata.dechaff`, whole or summed up ([`Record::metadata_json`]).
//!
//! What every record of a run shares (the packs, the settings, the tool) is
//! said once, in the [`Manifest`] that opens the provenance file; a record
//! names it by the rules' fingerprint. Repeating it in each record made it a
//! third of a record's size.

use std::borrow::Cow;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use dechaff_engine::clean::{interleave, CleanConfig, CleanedSpans, Comments};

use crate::span_log::{push_element, SpanLog, SpanTally, SpillBuffer};
use dechaff_engine::hash::sha256_hex;
use dechaff_engine::rules::{PackVersion, RuleSet};

/// The schema version written in every record. Bump it when a field changes meaning.
pub const SCHEMA: &str = "dechaff.provenance/2";

/// The schema of what an output record carries under `metadata.dechaff`:
/// a shape of its own ([`Record::metadata_json`]), so a tag of its own.
pub const METADATA_SCHEMA: &str = "dechaff.metadata/2";

/// The schema of the manifest line that opens a provenance file.
pub const MANIFEST_SCHEMA: &str = "dechaff.manifest/2";

/// How much of a document's provenance its output record carries under
/// `metadata.dechaff` (`--metadata`). The run's provenance file has all of
/// it whatever this says: repeating every span in every output record
/// doubled the size of a run's output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Metadata {
    /// Nothing: the record goes out as it came, with only its text cleaned.
    None,
    /// The rules' fingerprint, the removed bytes, the ids of the rules that
    /// removed them, and the warnings.
    #[default]
    Summary,
    /// The summary and the document's whole record: where it came from,
    /// input and output stats, every removed span and whitespace span.
    Full,
}

/// How much removed text a record stores.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProvenanceText {
    /// The first characters of each removed span.
    #[default]
    Excerpt,
    /// Every removed byte, and the text of whitespace spans.
    Full,
}

/// Characters kept of a removed span in excerpt mode.
const EXCERPT_CHARS: usize = 80;

/// Whether a file was cleaned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Cleaned and written.
    Ok,
    /// Not written; `error` says why.
    Error,
    /// Deliberately not read (a symbolic link without `--follow`); `error` says why.
    Skipped,
    /// Cleaned, then not written because a document filter (`--drop`) took
    /// it out; `dropped` says which, `error` says more.
    Dropped,
}

/// One provenance record.
#[derive(Debug, Serialize, Deserialize)]
pub struct Record {
    /// [`SCHEMA`].
    pub schema: String,
    /// The input path as given (directory argument joined with the file's relative path).
    pub source: String,
    /// For a document of a JSONL or WARC input: where in `source` it stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<DocumentLocation>,
    /// The path written, when one was.
    pub output: Option<String>,
    /// `ok`, `error` or `skipped`.
    pub status: Status,
    /// Why the file failed, was skipped or was dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// For a dropped document: the filter that dropped it (`empty`, `over-budget`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropped: Option<crate::filters::DropReason>,
    /// Things a person should look at although the file was written (removal budget).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// For a JSONL or WARC input file: what became of its records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documents: Option<DocumentCounts>,
    /// For a refused document: its first bytes, as the reject file shows them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<RejectedBytes>,
    /// The input, when it could be read.
    pub input: Option<InputStats>,
    /// The output, when one was written.
    pub cleaned: Option<OutputStats>,
    /// Spans removed by rules, in input order.
    pub removed: Vec<RemovedSpan>,
    /// Spans dropped by whitespace normalisation: `[byte_start, byte_end]`, or
    /// `[byte_start, byte_end, text]` with full provenance text.
    pub whitespace: Vec<WhitespaceSpan>,
    /// The fingerprint of the rules applied ([`RulesStamp::fingerprint`]):
    /// the run's [`Manifest`] says what they were.
    pub rules: String,
    /// The spans as a run writes them, serialised as they were made, when
    /// [`Record::describe_cleaning`] was asked for them: `removed` and
    /// `whitespace` above are then empty unless also asked for, and
    /// [`Record::write_json_line`] writes these in their place.
    #[serde(skip)]
    pub span_log: Option<SpanLog>,
    /// The removed spans summed up, made with them by
    /// [`Record::describe_cleaning`]; see [`Record::tally`].
    #[serde(skip)]
    pub span_tally: Option<SpanTally>,
}

/// Where [`Record::describe_cleaning`] puts a document's spans (their
/// tally is always made).
#[derive(Debug, Clone, Copy)]
pub enum SpanDestination<'a> {
    /// In the record's `removed` and `whitespace` (what output formats that
    /// carry spans read, and callers that keep records).
    Record,
    /// Serialised into a [`SpanLog`] spilling to `directory` past
    /// `spill_bytes` an array: what a run writes to provenance, in bounded
    /// memory.
    Log {
        /// Where a spilled log's unnamed temporary file is made.
        directory: &'a std::path::Path,
        /// Bytes an array holds in memory before it spills.
        spill_bytes: usize,
    },
    /// Nowhere: only the tally is kept (no provenance is written).
    Nowhere,
}

/// The first line of a provenance file: what every record of the run
/// shares. Records name it by `rules.fingerprint`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_SCHEMA`].
    pub schema: String,
    /// The rules and settings.
    pub rules: RulesStamp,
    /// The tool that applied them.
    pub tool: ToolStamp,
}

impl Manifest {
    /// The manifest of a run with `rules`.
    pub fn of(rules: &RulesStamp) -> Manifest {
        Manifest {
            schema: MANIFEST_SCHEMA.to_string(),
            rules: rules.clone(),
            tool: ToolStamp::current(),
        }
    }

    /// One JSON line and its newline.
    pub fn to_json_line(&self) -> String {
        let mut line = serde_json::to_string(self).expect("a manifest always serializes");
        line.push('\n');
        line
    }
}

/// Where a document stands inside a JSONL or WARC input.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct DocumentLocation {
    /// 0-based ordinal of the record in its file; every record counts,
    /// refused ones and WARC records that are not documents included.
    pub index: u64,
    /// 1-based line, for JSONL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// 0-based row group, for Parquet (where `index` is the row in the file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_group: Option<u64>,
    /// Byte offset of the record's first byte in the decompressed stream.
    pub offset: u64,
    /// The record's id (JSONL `--id-field`, WARC `WARC-Record-ID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The record's URL (JSONL `url` or `metadata.url`, WARC `WARC-Target-URI`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl std::fmt::Display for DocumentLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.row_group) {
            (Some(line), _) => write!(f, "line {line}"),
            (None, Some(group)) => write!(f, "row {} (row group {group})", self.index),
            (None, None) => write!(f, "record at offset {}", self.offset),
        }
    }
}

/// What became of the records of a JSONL or WARC input file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct DocumentCounts {
    /// Records read (non-blank JSONL lines, WARC records of every type).
    pub records: u64,
    /// Documents cleaned and written.
    pub written: u64,
    /// Records refused: malformed, too large, over budget with `--strict`, timed out.
    pub rejected: u64,
    /// Documents cleaned and then dropped by a document filter (`--drop`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped: u64,
    /// WARC records that are not documents (`warcinfo`, `request`, binary payloads).
    pub not_documents: u64,
}

fn is_zero(count: &u64) -> bool {
    *count == 0
}

/// The first bytes of a refused record.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RejectedBytes {
    /// Its size in the decompressed stream.
    pub bytes: u64,
    /// Its first bytes (at most 64 KiB), as UTF-8 with invalid bytes replaced;
    /// empty for a refused WARC body or text file.
    pub excerpt: String,
}

/// What came in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InputStats {
    /// Size in bytes as read.
    pub bytes: u64,
    /// SHA-256 of the bytes as read, hex.
    pub sha256: String,
    /// Encoding used to decode it.
    pub encoding: Option<String>,
    /// True when bytes had to be replaced while decoding.
    pub lossy: bool,
    /// Size of the decoded text in bytes: offsets in `removed` and `whitespace` point into it.
    pub decoded_bytes: Option<u64>,
    /// Lines in the decoded text.
    pub lines: Option<u64>,
}

impl InputStats {
    /// What is known of bytes that were read but not decoded: size and hash.
    pub fn undecoded(raw: &[u8]) -> InputStats {
        InputStats::stored(raw.len() as u64, sha256_hex(raw))
    }

    /// What is known of bytes read but not decoded, from their size and hash.
    pub fn stored(bytes: u64, sha256: String) -> InputStats {
        InputStats {
            bytes,
            sha256,
            encoding: None,
            lossy: false,
            decoded_bytes: None,
            lines: None,
        }
    }
}

/// What went out.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutputStats {
    /// Size in bytes.
    pub bytes: u64,
    /// Lines.
    pub lines: u64,
    /// SHA-256 of the bytes written, hex.
    pub sha256: String,
}

/// One removal: a line, a run of adjacent lines removed by one rule, or a
/// cut inside a line.
///
/// The rule id is shared by a document's spans and the action is a name
/// the tool knows: a page of a million spans held two strings of its own
/// per span.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RemovedSpan {
    /// The rule id.
    pub rule: Arc<str>,
    /// `drop-line`, `drop-block`, `drop-tail`, `cut-span`, `drop-recurring` or `classify`.
    pub action: Cow<'static, str>,
    /// First and last line, 1-based, inclusive.
    pub lines: (usize, usize),
    /// Start and end (exclusive), in bytes of the decoded input.
    pub bytes: (usize, usize),
    /// The rule's score for this span, for rules that score (heuristics,
    /// corpus counts): for a span of several lines, the lowest of theirs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
    /// The removed text, or its beginning followed by `…`.
    pub text: String,
}

/// A whitespace span: `[start, end]` or `[start, end, text]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum WhitespaceSpan {
    /// Offsets only.
    Range(usize, usize),
    /// Offsets and the dropped text.
    WithText(usize, usize, String),
}

/// The rules behind a record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RulesStamp {
    /// SHA-256 over the rule set's fingerprint ([`RuleSet::fingerprint`]: packs
    /// and disabled ids) and the cleaning settings: two records with the same
    /// fingerprint were cleaned by the same rules in the same way.
    pub fingerprint: String,
    /// Each effective pack's name and version.
    pub packs: Vec<PackVersionOwned>,
    /// The cleaning settings that change what the rules remove.
    pub settings: CleanSettings,
}

/// The settings recorded with the rules.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CleanSettings {
    /// `--removal-budget`.
    pub removal_budget: f64,
    /// `--tail-min-position`.
    pub tail_min_position: f64,
    /// Corpus mode's settings, when it was on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corpus: Option<CorpusStamp>,
    /// False with `--no-heuristics`.
    #[serde(default = "heuristics_on")]
    pub heuristics: bool,
    /// `"keep"` with `--comments keep`; absent when comments are dropped, the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
}

fn heuristics_on() -> bool {
    true
}

/// Corpus mode's settings as recorded (`dechaff clean --corpus`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CorpusStamp {
    /// `--min-docs`.
    pub min_docs: u32,
    /// `--min-chars`.
    pub min_chars: usize,
    /// `--max-doc-share`.
    pub max_doc_share: f64,
    /// `--group-by`: `dir`, `host` or `field:NAME`.
    pub group_by: String,
}

/// A pack's name and version (deserializable twin of [`PackVersion`]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PackVersionOwned {
    /// Pack name.
    pub name: String,
    /// Pack version.
    pub version: String,
}

/// The tool behind a record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ToolStamp {
    /// `dechaff`.
    pub name: String,
    /// The crate version.
    pub version: String,
}

impl RulesStamp {
    /// The stamp for a rule set applied with `config`.
    pub fn of(rules: &RuleSet, config: CleanConfig) -> RulesStamp {
        // The corpus settings need no hashing of their own: they are the text
        // of the synthetic pack `corpus`, which the rules' fingerprint covers.
        let settings = CleanSettings {
            removal_budget: config.removal_budget,
            tail_min_position: config.tail_min_position,
            corpus: rules.corpus().map(|corpus| CorpusStamp {
                min_docs: corpus.min_docs,
                min_chars: corpus.min_chars,
                max_doc_share: corpus.max_doc_share,
                group_by: corpus.group_by.to_string(),
            }),
            heuristics: config.heuristics,
            comments: (config.comments != Comments::Drop).then(|| config.comments.to_string()),
        };
        let mut hasher = Sha256::new();
        hasher.update(rules.fingerprint().as_bytes());
        hasher.update(config.removal_budget.to_le_bytes());
        hasher.update(config.tail_min_position.to_le_bytes());
        hasher.update([u8::from(config.heuristics)]);
        // Hashed only when not the default, so that default fingerprints stay as they were.
        if config.comments != Comments::Drop {
            hasher.update(b"comments=");
            hasher.update(config.comments.to_string().as_bytes());
        }
        RulesStamp {
            settings,
            fingerprint: hex::encode(hasher.finalize()),
            packs: rules
                .pack_versions()
                .into_iter()
                .map(|PackVersion { name, version }| PackVersionOwned { name, version })
                .collect(),
        }
    }
}

impl ToolStamp {
    /// This build.
    pub fn current() -> ToolStamp {
        ToolStamp {
            // The tool's name, not this crate's: every crate of the workspace
            // shares one version, and provenance names the tool that ran.
            name: "dechaff".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

impl Record {
    /// A record with nothing filled in but the source and the stamps.
    pub fn new(source: String, rules: &RulesStamp) -> Record {
        Record {
            schema: SCHEMA.to_string(),
            source,
            document: None,
            output: None,
            status: Status::Ok,
            error: None,
            dropped: None,
            warnings: Vec::new(),
            documents: None,
            rejected: None,
            input: None,
            cleaned: None,
            removed: Vec::new(),
            whitespace: Vec::new(),
            rules: rules.fingerprint.clone(),
            span_log: None,
            span_tally: None,
        }
    }

    /// Fills in what cleaning found: input stats, removals, whitespace,
    /// output stats. `stored` is the input's size and hash as read, `text`
    /// the decoded text that was cleaned; `spans` says where the spans go
    /// (the tally is always made). Fails only when a span log could not
    /// spill to its temporary file.
    #[allow(clippy::too_many_arguments)]
    pub fn describe_cleaning(
        &mut self,
        stored: InputStats,
        text: &str,
        decoding: (&str, bool),
        cleaned: &dyn CleanedSpans,
        rules: &RuleSet,
        text_mode: ProvenanceText,
        spans: SpanDestination<'_>,
    ) -> std::io::Result<()> {
        let summary = cleaned.summary();
        let (encoding, lossy) = decoding;
        self.input = Some(InputStats {
            encoding: Some(encoding.to_string()),
            lossy,
            decoded_bytes: Some(text.len() as u64),
            lines: Some(summary.input_lines as u64),
            ..stored
        });
        self.removed.clear();
        self.whitespace.clear();
        let (mut removed_log, mut whitespace_log) = match spans {
            SpanDestination::Log { directory, spill_bytes } => (
                Some(SpillBuffer::new(directory, spill_bytes)),
                Some(SpillBuffer::new(directory, spill_bytes)),
            ),
            SpanDestination::Record | SpanDestination::Nowhere => (None, None),
        };
        let in_record = matches!(spans, SpanDestination::Record);
        let mut tally = SpanTally::new();
        let (mut removed_failed, mut whitespace_failed): (Option<std::io::Error>, Option<std::io::Error>) =
            (None, None);
        // Each rule's id once per document, shared by its spans; a page names
        // a handful of rules, so a scan beats hashing each span's rule.
        let mut ids: Vec<(usize, Arc<str>)> = Vec::new();
        let decoded = text.len() as u64;
        let (removed, whitespace) = (&mut self.removed, &mut self.whitespace);
        cleaned.each_span(
            &mut |removal| {
                let rule = &rules.rules()[removal.rule];
                let text_removed = &text[removal.bytes.clone()];
                let id = match ids.iter().find(|(index, _)| *index == removal.rule) {
                    Some((_, id)) => Arc::clone(id),
                    None => {
                        let id: Arc<str> = Arc::from(rule.id.as_str());
                        ids.push((removal.rule, Arc::clone(&id)));
                        id
                    }
                };
                let span = RemovedSpan {
                    rule: id,
                    action: Cow::Borrowed(rule.action()),
                    lines: (removal.line_start, removal.line_end),
                    bytes: (removal.bytes.start, removal.bytes.end),
                    score: removal.score,
                    text: match text_mode {
                        ProvenanceText::Full => text_removed.to_string(),
                        ProvenanceText::Excerpt => excerpt(text_removed),
                    },
                };
                tally.add(&span.rule, &span.action, span.bytes, span.lines, &span.text, decoded);
                if let Some(log) = &mut removed_log {
                    if removed_failed.is_none() {
                        removed_failed = push_element(log, &span).err();
                    }
                }
                if in_record {
                    removed.push(span);
                }
            },
            &mut |span| {
                let span = match text_mode {
                    ProvenanceText::Full => WhitespaceSpan::WithText(span.start, span.end, text[span].to_string()),
                    ProvenanceText::Excerpt => WhitespaceSpan::Range(span.start, span.end),
                };
                if let Some(log) = &mut whitespace_log {
                    if whitespace_failed.is_none() {
                        whitespace_failed = push_element(log, &span).err();
                    }
                }
                if in_record {
                    whitespace.push(span);
                }
            },
        );
        let failed = removed_failed.or(whitespace_failed);
        self.span_log = removed_log
            .zip(whitespace_log)
            .map(|(removed, whitespace)| SpanLog { removed, whitespace });
        self.span_tally = Some(tally);
        self.cleaned = Some(OutputStats {
            bytes: summary.text.len() as u64,
            lines: summary.output_lines as u64,
            sha256: sha256_hex(summary.text.as_bytes()),
        });
        match failed {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// The removed spans summed up: the tally made with them, or, for a
    /// record read back from provenance, one made from its `removed`.
    pub fn tally(&self) -> Cow<'_, SpanTally> {
        match &self.span_tally {
            Some(tally) => Cow::Borrowed(tally),
            None => {
                let decoded = self.input.as_ref().and_then(|i| i.decoded_bytes).unwrap_or(0);
                let mut tally = SpanTally::new();
                for span in &self.removed {
                    tally.add(&span.rule, &span.action, span.bytes, span.lines, &span.text, decoded);
                }
                Cow::Owned(tally)
            }
        }
    }

    /// Drops the spans, wherever they are held (a record that failed keeps none).
    pub fn clear_spans(&mut self) {
        self.removed.clear();
        self.whitespace.clear();
        self.span_log = None;
        self.span_tally = None;
    }

    /// One JSON line, without the newline.
    pub fn to_json_line(&self) -> String {
        assert!(
            self.span_log.is_none(),
            "a record with a span log is written with write_json_line"
        );
        serde_json::to_string(self).expect("a record always serializes")
    }

    /// The record as one JSON line and its newline, written to `out`; a
    /// record with a [`SpanLog`] gets its logged spans copied in place of
    /// its (empty) `removed` and `whitespace`, the same bytes as if they had
    /// been held. Fails only if `out` (or reading a spilled log) does.
    pub fn write_json_line(&mut self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        if self.span_log.is_none() {
            serde_json::to_writer(&mut *out, &*self)?;
            return out.write_all(b"\n");
        }
        // The fields after `cleaned`, as serde writes them with both arrays
        // empty: the record's head is what comes before.
        let rules = serde_json::to_string(&self.rules)?;
        let tail = format!(",\"removed\":[],\"whitespace\":[],\"rules\":{rules}}}");
        let spans = std::mem::take(&mut self.span_log);
        let head = serde_json::to_vec(&*self)?;
        self.span_log = spans;
        let log = self.span_log.as_mut().expect("put back");
        let head = head
            .strip_suffix(tail.as_bytes())
            .expect("the spans and the fingerprint close a record");
        out.write_all(head)?;
        out.write_all(b",\"removed\":[")?;
        log.removed.copy_to(out)?;
        out.write_all(b"],\"whitespace\":[")?;
        log.whitespace.copy_to(out)?;
        out.write_all(b"],\"rules\":")?;
        out.write_all(rules.as_bytes())?;
        out.write_all(b"}\n")
    }

    /// What the output record of this record's document carries under
    /// `metadata.dechaff`, or `None` for [`Metadata::None`]. Both shapes are
    /// [`METADATA_SCHEMA`]; the full one adds fields to the summary, and
    /// leaves out the run-wide parts (output path, pack list, settings) that
    /// the run's provenance holds.
    pub fn metadata_json(&self, metadata: Metadata) -> Option<String> {
        #[derive(Serialize)]
        struct Summary<'a> {
            schema: &'a str,
            fingerprint: &'a str,
            removed_bytes: usize,
            rules: Vec<&'a str>,
            #[serde(skip_serializing_if = "<[String]>::is_empty")]
            warnings: &'a [String],
        }
        #[derive(Serialize)]
        struct Full<'a> {
            #[serde(flatten)]
            summary: Summary<'a>,
            source: &'a str,
            #[serde(flatten)]
            document: &'a Option<DocumentLocation>,
            input: &'a Option<InputStats>,
            cleaned: &'a Option<OutputStats>,
            removed: &'a [RemovedSpan],
            whitespace: &'a [WhitespaceSpan],
        }
        if metadata == Metadata::None {
            return None;
        }
        let tally = self.tally();
        let mut rules: Vec<&str> = tally.rules.iter().map(|rule| &*rule.rule).collect();
        rules.sort_unstable();
        let summary = Summary {
            schema: METADATA_SCHEMA,
            fingerprint: &self.rules,
            removed_bytes: tally.bytes as usize,
            rules,
            warnings: &self.warnings,
        };
        let json = match metadata {
            Metadata::Full => serde_json::to_string(&Full {
                summary,
                source: &self.source,
                document: &self.document,
                input: &self.input,
                cleaned: &self.cleaned,
                removed: &self.removed,
                whitespace: &self.whitespace,
            }),
            _ => serde_json::to_string(&summary),
        };
        Some(json.expect("a record always serializes"))
    }

    /// Where the record's document stands, for messages: `PATH`, `PATH:LINE`
    /// for JSONL, `PATH@OFFSET` for WARC.
    pub fn location(&self) -> String {
        match &self.document {
            None => self.source.clone(),
            Some(DocumentLocation { line: Some(line), .. }) => format!("{}:{line}", self.source),
            Some(location) => format!("{}@{}", self.source, location.offset),
        }
    }
}

/// The start of `text`, trimmed, cut at a character boundary, `…` if cut.
/// Built with `push_str` rather than `format!`, whose formatting machinery
/// cost more than the copy for the half a million spans of a 100 MB run.
fn excerpt(text: &str) -> String {
    let text = text.trim_end();
    // A text of at most EXCERPT_CHARS bytes has at most as many characters.
    let cut = if text.len() > EXCERPT_CHARS {
        text.char_indices().nth(EXCERPT_CHARS).map(|(cut, _)| cut)
    } else {
        None
    };
    match cut {
        Some(cut) => {
            let mut excerpt = String::with_capacity(cut + '…'.len_utf8());
            excerpt.push_str(&text[..cut]);
            excerpt.push('…');
            excerpt
        }
        None => text.to_string(),
    }
}

/// Rebuilds the decoded input from the output text and a full-text record;
/// `None` if the record lacks the text to do it. This is the check that a
/// record accounts for every byte.
pub fn rebuild_input(output: &str, record: &Record) -> Option<String> {
    let mut pieces: Vec<(usize, usize, &str)> = record
        .removed
        .iter()
        .map(|r| (r.bytes.0, r.bytes.1, r.text.as_str()))
        .collect();
    for span in &record.whitespace {
        match span {
            WhitespaceSpan::WithText(start, end, text) => pieces.push((*start, *end, text.as_str())),
            WhitespaceSpan::Range(..) => return None,
        }
    }
    interleave(output, pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The excerpt as `format!` built it before.
    fn formatted_excerpt(text: &str) -> String {
        let text = text.trim_end();
        match text.char_indices().nth(EXCERPT_CHARS) {
            Some((cut, _)) => format!("{}…", &text[..cut]),
            None => text.to_string(),
        }
    }

    #[test]
    fn excerpts_keep_eighty_characters_and_mark_the_cut() {
        for text in [
            String::new(),
            "Share this\n".to_string(),
            "x".repeat(80),
            "x".repeat(81),
            format!("{}  \n\n", "x".repeat(81)),
            "é".repeat(45),
            "é".repeat(80),
            "é".repeat(81),
            format!("{}日本語", "a".repeat(79)),
        ] {
            assert_eq!(excerpt(&text), formatted_excerpt(&text), "{text:?}");
        }
        assert_eq!(excerpt(&"é".repeat(81)).chars().count(), 81);
        assert!(excerpt(&"é".repeat(81)).ends_with('…'));
    }

    #[test]
    fn a_json_line_is_the_record_and_a_newline() {
        let mut record = Record::new(
            "a.txt".into(),
            &RulesStamp::of(&RuleSet::shipped().unwrap(), CleanConfig::default()),
        );
        let mut out = b"earlier\n".to_vec();
        record.write_json_line(&mut out).unwrap();
        assert_eq!(out, format!("earlier\n{}\n", record.to_json_line()).into_bytes());
    }

    /// The record of `text`, its spans held in the record or logged with `limit`.
    fn record_line(text: &str, mode: ProvenanceText, log: Option<(&std::path::Path, usize)>) -> (Vec<u8>, bool) {
        let mut cleaner = dechaff_engine::Cleaner::with_shipped_rules().unwrap();
        let rules = cleaner.shared_rules();
        let stamp = RulesStamp::of(&rules, cleaner.config());
        let cleaned = cleaner.clean(text);
        let mut record = Record::new("a.txt".into(), &stamp);
        let spans = match log {
            Some((directory, spill_bytes)) => SpanDestination::Log { directory, spill_bytes },
            None => SpanDestination::Record,
        };
        let stored = InputStats::stored(text.len() as u64, sha256_hex(text.as_bytes()));
        record
            .describe_cleaning(stored, text, ("utf-8", false), &cleaned, &rules, mode, spans)
            .unwrap();
        let spilled = record.span_log.as_ref().is_some_and(|log| log.removed.spilled());
        let mut out = Vec::new();
        record.write_json_line(&mut out).unwrap();
        (out, spilled)
    }

    #[test]
    fn logged_spans_are_written_as_held_ones_are_in_memory_or_spilled() {
        let directory = tempfile::tempdir().unwrap();
        let text = "Story line one.\n  Share This  \n\n\n\nMenu\n|\nHome\n|\nThe story goes on, long enough to keep.\n"
            .repeat(200);
        for mode in [ProvenanceText::Excerpt, ProvenanceText::Full] {
            let (held, _) = record_line(&text, mode, None);
            let (in_memory, spilled) = record_line(&text, mode, Some((directory.path(), usize::MAX)));
            assert!(!spilled);
            assert_eq!(String::from_utf8_lossy(&in_memory), String::from_utf8_lossy(&held));
            let (on_disk, spilled) = record_line(&text, mode, Some((directory.path(), 64)));
            assert!(spilled, "a 64-byte limit spills");
            assert_eq!(String::from_utf8_lossy(&on_disk), String::from_utf8_lossy(&held));
            let record: Record = serde_json::from_slice(&held).unwrap();
            assert!(
                record.removed.len() >= 200 && record.whitespace.len() >= 200,
                "{mode:?}"
            );
        }
        // The temporary files had no name: nothing is left in the directory.
        assert_eq!(std::fs::read_dir(directory.path()).unwrap().count(), 0);
    }
}
