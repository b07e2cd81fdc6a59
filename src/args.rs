//! The command line: clap's raw arguments, turned into validated settings.
//!
//! Nothing here reaches the engine as clap types:
//! [`RuleArgs::rule_set_with_corpus`] and [`CleanArgs::run_config`] produce
//! the library's own config types, and every range or label is checked here
//! so that the engine sees only valid values.

// The fields' doc comments are the `--help` text, where `<id>` is meant as written.
#![allow(rustdoc::invalid_html_tags)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use dechaff_engine::corpus::{CorpusSettings, GroupBy};
use dechaff_engine::{CleanConfig, Comments, RuleSet, RuleSetBuilder};
use dechaff_run::decode::EncodingChoice;
use dechaff_run::filters::{DocumentFilters, DropReason};
use dechaff_run::input::{Compression, InputFormat, ReadSettings};
use dechaff_run::plan::{RunConfig, ShardSpec};
use dechaff_run::provenance::{Metadata, ProvenanceText};
use dechaff_run::select::InputSelection;

use crate::induce::InduceSettings;

/// Strip boilerplate from scraped web text and record every removal
#[derive(Parser, Debug)]
#[command(name = "dechaff", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Clean files and directories into an output tree, with provenance.jsonl
    Clean(Box<CleanArgs>),
    /// Print a document with each removal marked and the rule that made it
    ///
    /// With --corpus, the files of FILE's directory (walked as clean walks a
    /// directory) are counted first, so that the lines clean --corpus would
    /// remove as recurring show with the number of documents holding them.
    Explain(ExplainArgs),
    /// Write one self-contained HTML page about one or more runs (their stats.json)
    ///
    /// Each RUN is the --out of a clean run (every stats*.json in it is read)
    /// or a stats file; several are merged, as the shards of one corpus.
    Report(ReportArgs),
    /// Work with the stats.json files that clean writes
    Stats {
        #[command(subcommand)]
        command: StatsCommand,
    },
    /// Score the cleaner against human gold text (DIR/input/<id>.txt, DIR/gold/<id>.txt)
    Eval(EvalArgs),
    /// Write a candidate rule pack of lines recurring across documents
    Induce(InduceArgs),
    /// List, check, test or show rules
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum StatsCommand {
    /// Merge the stats of several runs (run directories or stats files) into one file
    Merge {
        /// Run directories (every stats*.json in them) or stats files
        #[arg(required = true, value_name = "RUN")]
        runs: Vec<PathBuf>,
        /// Where the merged stats go
        #[arg(short, long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Run directories (every stats*.json in them) or stats files
    #[arg(required = true, value_name = "RUN")]
    pub runs: Vec<PathBuf>,
    /// Where the HTML page goes
    #[arg(short, long, value_name = "FILE", default_value = "report.html")]
    pub out: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum RulesCommand {
    /// One line per effective rule: id, pack, kind, description
    List(RuleArgs),
    /// Load and validate the packs at PATH (or the effective packs)
    Check {
        /// A pack file or a directory of packs; without it, the effective packs
        path: Option<PathBuf>,
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Run every rule's must-match and must-not-match examples
    Test {
        /// A pack file or a directory of packs; without it, the effective packs
        path: Option<PathBuf>,
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Print the line rules as regexes for a line filter (rg -v -f)
    ///
    /// One pattern per line, in Rust regex syntax (ripgrep's): each line rule's
    /// trigger anchored to the whole line, in a `(?i:…)` group unless the rule is
    /// case-sensitive. Block, tail and inline rules have no line-wise form and are
    /// skipped; stderr says how many. A rule's max-length and position window are
    /// not carried over.
    Patterns(RuleArgs),
    /// Print one rule in full
    Show {
        /// The rule id, e.g. social.share-label
        id: String,
        #[command(flatten)]
        rules: RuleArgs,
    },
}

/// Which rules are in force.
#[derive(Args, Debug, Clone, Default)]
pub struct RuleArgs {
    /// Add a rule pack file or a directory of packs (repeatable)
    ///
    /// A pack with the name of a shipped pack replaces it.
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// Leave out the packs built into dechaff
    #[arg(long)]
    pub no_default_rules: bool,
    /// Turn off a rule (pack.rule) or a whole pack (repeatable)
    #[arg(long, value_name = "ID_OR_PACK")]
    pub disable: Vec<String>,
}

impl RuleArgs {
    /// The rules for the `rules` commands, which check: the shipped packs'
    /// patterns are parsed and compiled one by one, as a user pack's are.
    pub fn checked_rule_set(&self) -> dechaff_engine::Result<RuleSet> {
        self.builder().verify_shipped_patterns(true).build()
    }

    /// The rules for cleaning, with corpus mode's rule when `corpus` is
    /// given; the shipped packs are trusted (checked when dechaff is built).
    pub fn rule_set_with_corpus(&self, corpus: Option<CorpusSettings>) -> dechaff_engine::Result<RuleSet> {
        let mut builder = self.builder();
        if let Some(settings) = corpus {
            builder = builder.corpus(settings);
        }
        builder.build()
    }

    fn builder(&self) -> RuleSetBuilder {
        let mut builder = RuleSetBuilder::new().no_default_rules(self.no_default_rules);
        for path in &self.rules {
            builder = builder.add_path(path);
        }
        for id in &self.disable {
            builder = builder.disable(id);
        }
        builder
    }
}

/// How the cleaner treats a document.
#[derive(Args, Debug, Clone)]
pub struct CleanerArgs {
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Decode every input with this encoding (a WHATWG label) instead of detecting
    #[arg(long, value_name = "LABEL")]
    pub encoding: Option<String>,
    /// Flag a document when rules remove more than this share of its bytes
    #[arg(long, value_name = "SHARE", default_value_t = 0.5)]
    pub removal_budget: f64,
    /// Earliest place, as a share of the document, where a tail rule may cut
    #[arg(long, value_name = "SHARE", default_value_t = 0.5)]
    pub tail_min_position: f64,
    /// Apply the phrase rules only: no line classifier, no comment-thread cut
    #[arg(long)]
    pub no_heuristics: bool,
    /// What the comment-thread cuts do with user comments: drop them (the default) or keep them
    ///
    /// Annotation standards differ: CleanEval's gold keeps a page's comments,
    /// Dragnet's does not. With `keep`, the comment-thread cuts are off and
    /// every comment line is judged as any other line is.
    #[arg(long, value_name = "drop|keep", default_value = "drop")]
    pub comments: Comments,
}

impl CleanerArgs {
    pub fn clean_config(&self) -> Result<CleanConfig, String> {
        for (name, value) in [
            ("--removal-budget", self.removal_budget),
            ("--tail-min-position", self.tail_min_position),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(format!("{name} {value} is outside 0..=1"));
            }
        }
        Ok(CleanConfig {
            removal_budget: self.removal_budget,
            tail_min_position: self.tail_min_position,
            heuristics: !self.no_heuristics,
            comments: self.comments,
        })
    }

    pub fn encoding(&self) -> Result<EncodingChoice, String> {
        match &self.encoding {
            None => Ok(EncodingChoice::Detect),
            Some(label) => EncodingChoice::from_label(label).ok_or_else(|| {
                format!("--encoding {label:?} is not an encoding label (try utf-8, windows-1252, shift_jis)")
            }),
        }
    }
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProvenanceTextArg {
    /// The first 80 characters of each removed span
    Excerpt,
    /// Every removed byte, and the whitespace dropped, so the input can be rebuilt
    Full,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormatArg {
    /// One document per file
    Text,
    /// One JSON object per line, the text in --text-field
    Jsonl,
    /// WARC or WET records (conversion and response records)
    Warc,
    /// Parquet, one document per row, the text in --text-field
    Parquet,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataArg {
    /// Nothing added to the record
    None,
    /// Fingerprint, removed bytes, rule ids, warnings
    Summary,
    /// The summary and every removed span
    Full,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropArg {
    /// Nothing but whitespace is left after cleaning
    Empty,
    /// The rules removed more than the removal budget
    OverBudget,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompressArg {
    /// Plain
    None,
    /// Gzip (.gz)
    Gz,
    /// Zstandard (.zst)
    Zst,
}

#[derive(Args, Debug)]
pub struct CleanArgs {
    /// Files and directories to clean (directories recursively); - reads standard input
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Output directory: the input tree is mirrored here, with provenance.jsonl; - writes JSONL to standard output
    #[arg(
        short,
        long,
        value_name = "DIR",
        required_unless_present = "attributes",
        conflicts_with = "attributes"
    )]
    pub out: Option<PathBuf>,
    /// Write dolma attribute files (removed spans per document) to DIR instead of cleaned documents
    ///
    /// For JSONL and WARC inputs. The attribute files mirror the inputs under
    /// DIR, each JSONL input's under its own name and compression, as dolma's
    /// mixer looks for them (clean DATA/documents with --attributes
    /// DATA/attributes/dechaff); provenance.jsonl goes beside them, and the
    /// documents are not rewritten.
    #[arg(long, value_name = "DIR")]
    pub attributes: Option<PathBuf>,
    #[command(flatten)]
    pub records: RecordArgs,
    /// How much provenance each JSONL output record carries under metadata.dechaff
    ///
    /// summary (default): the rules' fingerprint, the bytes removed, the ids
    /// of the rules that removed them, warnings. full: also every removed
    /// span and the input and output stats. none: nothing is added. The run's
    /// provenance file holds everything in every case.
    #[arg(long, value_enum, value_name = "WHAT", default_value = "summary")]
    pub metadata: MetadataArg,
    /// Compress outputs this way [default: like each input]
    ///
    /// Not with --attributes: dolma reads an attribute file compressed as its
    /// document file is.
    #[arg(long, value_enum, value_name = "HOW", conflicts_with = "attributes")]
    pub compress: Option<CompressArg>,
    /// Clean only part I of N of the input files (e.g. 3/100), the same split on every machine
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Copy forward the files a previous run into the same --out finished; redo the rest
    #[arg(long)]
    pub resume: bool,
    /// Write every refused record (with file, line or offset, and reason) to FILE as JSONL
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    /// Do not write documents that are empty after cleaning or over the removal budget (comma list)
    ///
    /// empty: nothing but whitespace is left. over-budget: the rules removed
    /// more than --removal-budget (instead of a warning, or with --strict a
    /// failure). A dropped document is counted in the summary and in
    /// stats.json, its provenance record says "status":"dropped" with the
    /// reason, and it goes to --dropped if given; the run does not fail.
    /// Not with --attributes: dolma's mixer filters documents itself.
    #[arg(
        long,
        value_enum,
        value_name = "WHAT",
        value_delimiter = ',',
        conflicts_with = "attributes"
    )]
    pub drop: Vec<DropArg>,
    /// Write every dropped document (the record as it came, the reason, where it was) to FILE as JSONL
    #[arg(long, value_name = "FILE", requires = "drop")]
    pub dropped: Option<PathBuf>,
    /// Refuse a document (or text file) larger than this (bytes; K, M, G suffixes are binary)
    #[arg(long, value_name = "SIZE", default_value = "64M")]
    pub max_doc_bytes: String,
    /// Do not write a document whose cleaning took longer than SECS seconds
    #[arg(long, value_name = "SECS")]
    pub doc_timeout: Option<f64>,
    /// Flush each output to the disk before it takes its name, so that a machine crash never leaves a partial file
    #[arg(long)]
    pub durable: bool,
    /// Worker threads [default: all cores]
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
    /// No progress bar, no summary line and no per-document warnings (provenance keeps them)
    #[arg(short, long)]
    pub quiet: bool,
    /// Print the summary as one JSON object on standard error (for schedulers), or to FILE
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "-")]
    pub json: Option<PathBuf>,
    /// How much removed text provenance stores
    #[arg(long, value_enum, default_value_t = ProvenanceTextArg::Excerpt)]
    pub provenance_text: ProvenanceTextArg,
    /// Fail a document, instead of warning, when rules remove more than the budget
    #[arg(long)]
    pub strict: bool,
    /// Follow symbolic links while walking directories
    #[arg(long)]
    pub follow: bool,
    /// Walk only files matching GLOB (repeatable)
    ///
    /// A GLOB without `/` is matched against the file name (`*.jsonl.gz`),
    /// one with `/` against the path relative to the directory given
    /// (`2024/**/*.parquet`). Files named on the command line are always read.
    #[arg(long, value_name = "GLOB")]
    pub glob: Vec<String>,
    /// Skip walked files and directories matching GLOB (repeatable)
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Also walk hidden files and Spark/Hadoop markers
    ///
    /// By default a walk passes over names starting with `.` and the files
    /// that Spark, Hadoop and object stores keep beside data: `_SUCCESS`,
    /// `*.crc`, `_committed_*`, `_started_*` and `_temporary/`.
    #[arg(long)]
    pub hidden: bool,
    #[command(flatten)]
    pub corpus: CorpusArgs,
    #[command(flatten)]
    pub cleaner: CleanerArgs,
}

/// Corpus mode's switch and thresholds.
#[derive(Args, Debug, Clone)]
pub struct CorpusArgs {
    /// Remove lines that recur in many documents of a group (reads the inputs twice)
    ///
    /// A first pass counts, per group, how many documents hold each line
    /// (case, digits, punctuation and spacing folded); the cleaning pass then
    /// removes every copy of a line held by at least --min-docs documents.
    #[arg(long)]
    pub corpus: bool,
    /// How corpus mode groups documents: dir, host or field:NAME
    ///
    /// dir: the directory holding the file. host and field:NAME need JSONL or
    /// WARC input.
    #[arg(long, value_name = "dir|host|field:NAME", default_value = "dir", requires = "corpus")]
    pub group_by: String,
    /// Corpus mode removes a line held by at least this many documents of its group
    #[arg(long, value_name = "N", default_value_t = CorpusSettings::default().min_docs, requires = "corpus")]
    pub min_docs: u32,
    /// Corpus mode ignores lines shorter than this (characters, after normalisation)
    #[arg(long, value_name = "N", default_value_t = CorpusSettings::default().min_chars, requires = "corpus")]
    pub min_chars: usize,
    /// The largest share of a document's remaining text that corpus mode may remove
    ///
    /// Lines held by the most documents go first; a whole count level that
    /// would pass the share, and every level below it, stays.
    #[arg(long, value_name = "SHARE", default_value_t = CorpusSettings::default().max_doc_share, requires = "corpus")]
    pub max_doc_share: f64,
}

impl CorpusArgs {
    /// Corpus mode's validated settings, or `None` when it is off.
    pub fn settings(&self) -> Result<Option<CorpusSettings>, String> {
        if !self.corpus {
            return Ok(None);
        }
        let settings = CorpusSettings {
            min_docs: self.min_docs,
            min_chars: self.min_chars,
            max_doc_share: self.max_doc_share,
            group_by: self.group_by.parse::<GroupBy>()?,
        };
        settings.validate().map_err(|m| format!("--{m}"))?;
        Ok(Some(settings))
    }
}

#[derive(Args, Debug)]
pub struct InduceArgs {
    /// Files and directories to mine (directories recursively)
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Write the pack here instead of to standard output
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Keep lines held by at least this many documents of their group
    #[arg(long, value_name = "N", default_value_t = CorpusSettings::default().min_docs)]
    pub min_docs: u32,
    /// Ignore lines shorter than this (characters, after normalisation)
    #[arg(long, value_name = "N", default_value_t = CorpusSettings::default().min_chars)]
    pub min_chars: usize,
    /// How documents are grouped: dir, host or field:NAME
    #[arg(long, value_name = "dir|host|field:NAME", default_value = "dir")]
    pub group_by: String,
    /// Write at most this many rules, the most widely shared lines first
    #[arg(long, value_name = "K", default_value_t = 100)]
    pub limit: usize,
    /// The pack's name; rule ids are NAME.<group>-<line>
    #[arg(long, value_name = "NAME", default_value = "induced")]
    pub pack_name: String,
    /// Worker threads [default: all cores]
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Decode every input with this encoding (a WHATWG label) instead of detecting
    #[arg(long, value_name = "LABEL")]
    pub encoding: Option<String>,
    /// Follow symbolic links while walking directories
    #[arg(long)]
    pub follow: bool,
    /// No summary line
    #[arg(short, long)]
    pub quiet: bool,
}

impl InduceArgs {
    /// The walk's settings (nothing is written under an output directory) and induce's own.
    pub fn configs(&self) -> Result<(RunConfig, InduceSettings), String> {
        let corpus = CorpusSettings {
            min_docs: self.min_docs,
            min_chars: self.min_chars,
            group_by: self.group_by.parse::<GroupBy>()?,
            ..CorpusSettings::default()
        };
        corpus.validate().map_err(|m| format!("--{m}"))?;
        if self.limit == 0 {
            return Err("--limit must be at least 1".to_string());
        }
        let valid_name = !self.pack_name.is_empty()
            && !self.pack_name.starts_with('-')
            && self
                .pack_name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid_name {
            return Err(format!(
                "--pack-name {:?} must be lowercase letters, digits and '-'",
                self.pack_name
            ));
        }
        let encoding = match &self.encoding {
            None => EncodingChoice::Detect,
            Some(label) => EncodingChoice::from_label(label)
                .ok_or_else(|| format!("--encoding {label:?} is not an encoding label (try utf-8, windows-1252)"))?,
        };
        let mut run = RunConfig::new(self.inputs.clone(), PathBuf::from("-"));
        run.jobs = jobs_or_cores(self.jobs)?;
        run.read.encoding = encoding;
        run.follow_links = self.follow;
        let settings = InduceSettings {
            corpus,
            limit: self.limit,
            pack_name: self.pack_name.clone(),
        };
        Ok((run, settings))
    }
}

/// `--jobs`, or every core.
fn jobs_or_cores(jobs: Option<usize>) -> Result<usize, String> {
    match jobs {
        Some(0) => Err("--jobs must be at least 1".to_string()),
        Some(n) => Ok(n),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}

impl CleanArgs {
    pub fn run_config(&self) -> Result<RunConfig, String> {
        let jobs = jobs_or_cores(self.jobs)?;
        let out = match (&self.out, &self.attributes) {
            (_, Some(dir)) if dir.as_os_str() == "-" => return Err("--attributes needs a directory, not -".to_string()),
            (_, Some(dir)) => dir.clone(),
            (Some(out), None) => out.clone(),
            (None, None) => return Err("--out or --attributes is required".to_string()),
        };
        if self.inputs.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
            return Err("standard input (-) can be read only once".to_string());
        }
        if out.as_os_str() == "-" && self.resume {
            return Err("--resume needs an output directory, not --out -".to_string());
        }
        if self.dropped.is_some() && self.dropped == self.rejects {
            return Err("--dropped and --rejects must be different files".to_string());
        }
        let doc_timeout = match self.doc_timeout {
            Some(seconds) if !(seconds > 0.0 && seconds.is_finite()) => {
                return Err(format!("--doc-timeout {seconds} must be a positive number of seconds"))
            }
            Some(seconds) => Some(std::time::Duration::from_secs_f64(seconds)),
            None => None,
        };
        for (name, value) in [
            ("--text-field", &self.records.text_field),
            ("--id-field", &self.records.id_field),
        ] {
            if value.is_empty() {
                return Err(format!("{name} must not be empty"));
            }
        }
        Ok(RunConfig {
            inputs: self.inputs.clone(),
            out,
            jobs,
            read: ReadSettings {
                text_field: self.records.text_field.clone(),
                id_field: self.records.id_field.clone(),
                max_doc_bytes: parse_size(&self.max_doc_bytes)?,
                encoding: self.cleaner.encoding()?,
            },
            provenance_text: match self.provenance_text {
                ProvenanceTextArg::Excerpt => ProvenanceText::Excerpt,
                ProvenanceTextArg::Full => ProvenanceText::Full,
            },
            strict: self.strict,
            follow_links: self.follow,
            input_format: self.records.input_format.map(Into::into),
            compress: self.compress.map(|how| match how {
                CompressArg::None => Compression::None,
                CompressArg::Gz => Compression::Gzip,
                CompressArg::Zst => Compression::Zstd,
            }),
            attributes: self.attributes.is_some(),
            metadata: match self.metadata {
                MetadataArg::None => Metadata::None,
                MetadataArg::Summary => Metadata::Summary,
                MetadataArg::Full => Metadata::Full,
            },
            shard: self.shard.as_deref().map(ShardSpec::parse).transpose()?,
            resume: self.resume,
            rejects: self.rejects.clone(),
            drop: DocumentFilters::of(
                &self
                    .drop
                    .iter()
                    .map(|what| match what {
                        DropArg::Empty => DropReason::Empty,
                        DropArg::OverBudget => DropReason::OverBudget,
                    })
                    .collect::<Vec<_>>(),
            ),
            dropped: self.dropped.clone(),
            doc_timeout,
            durable: self.durable,
            stop: Default::default(),
            select: InputSelection::new(&self.glob, &self.exclude, self.hidden)?,
        })
    }
}

/// Parses `64M`, `200MB`, `1G`, `4096`: binary multiples, at least 1 byte.
fn parse_size(text: &str) -> Result<u64, String> {
    let bad = || format!("--max-doc-bytes {text:?} is not a size (e.g. 4096, 64M, 1G)");
    let trimmed = text.trim();
    let upper = trimmed.to_ascii_uppercase();
    let digits = upper.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &upper[digits.len()..];
    let multiplier: u64 = match unit {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => return Err(bad()),
    };
    let number: u64 = digits.trim().parse().map_err(|_| bad())?;
    let size = number.checked_mul(multiplier).filter(|&n| n > 0).ok_or_else(bad)?;
    if size > MAX_DOC_BYTES_LIMIT {
        return Err(format!(
            "--max-doc-bytes {text:?} is over 1G, the largest document dechaff cleans \
             (decoding can make a document up to 3 times longer, and the cleaner's offsets are 32-bit)"
        ));
    }
    Ok(size)
}

/// The largest `--max-doc-bytes`: the engine cleans documents of at most
/// [`dechaff_engine::MAX_DOCUMENT_BYTES`] (4 GiB) of decoded text, and
/// decoding turns one byte into at most three (a legacy single-byte encoding's
/// `€`, or U+FFFD for an invalid byte).
const MAX_DOC_BYTES_LIMIT: u64 = 1 << 30;
const _: () = assert!(MAX_DOC_BYTES_LIMIT * 3 <= dechaff_engine::MAX_DOCUMENT_BYTES as u64);

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColourChoice {
    Auto,
    Always,
    Never,
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The document to explain: a text file, or a JSONL or WARC input with --record or --id; - reads standard input
    #[arg(required_unless_present = "line")]
    pub file: Option<PathBuf>,
    /// The record to explain, by its 0-based index in the file (as provenance and stats.json count)
    #[arg(long, value_name = "N", conflicts_with_all = ["id", "line"])]
    pub record: Option<u64>,
    /// The record to explain, by its id (the JSONL --id-field, the WARC-Record-ID)
    #[arg(long, value_name = "ID", conflicts_with = "line")]
    pub id: Option<String>,
    /// Explain one line instead of a file: which rule removes it, and why the others do not
    #[arg(long, value_name = "TEXT", conflicts_with = "file")]
    pub line: Option<String>,
    #[command(flatten)]
    pub records: RecordArgs,
    /// text: the document with each removal marked; json: the removals as one JSON object, for tools
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    pub format: ExplainFormat,
    /// Colour the removals
    #[arg(long, value_enum, default_value_t = ColourChoice::Auto)]
    pub color: ColourChoice,
    #[command(flatten)]
    pub corpus: CorpusArgs,
    #[command(flatten)]
    pub cleaner: CleanerArgs,
}

/// How `explain` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    /// The document with each removal marked
    Text,
    /// One JSON object: the document's location, its removals and the kept text
    Json,
}

/// How inputs are read as records: shared by `clean` and `explain`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Read every input as this format instead of going by its name and first bytes
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<InputFormatArg>,
    /// The JSONL field or Parquet column that holds the text
    #[arg(long, value_name = "NAME", default_value = "text")]
    pub text_field: String,
    /// The JSONL field or Parquet column that holds the document id
    #[arg(long, value_name = "NAME", default_value = "id")]
    pub id_field: String,
}

impl From<InputFormatArg> for InputFormat {
    fn from(format: InputFormatArg) -> InputFormat {
        match format {
            InputFormatArg::Text => InputFormat::Text,
            InputFormatArg::Jsonl => InputFormat::Jsonl,
            InputFormatArg::Warc => InputFormat::Warc,
            InputFormatArg::Parquet => InputFormat::Parquet,
        }
    }
}

impl ExplainArgs {
    /// How records of the input become documents, as `clean` reads them.
    pub fn read_settings(&self) -> Result<ReadSettings, String> {
        Ok(ReadSettings {
            text_field: self.records.text_field.clone(),
            id_field: self.records.id_field.clone(),
            encoding: self.cleaner.encoding()?,
            ..ReadSettings::default()
        })
    }

    /// Corpus mode's settings, or `None` when it is off. A file given alone is
    /// grouped with its directory, so only `--group-by dir` makes sense.
    pub fn corpus(&self) -> Result<Option<CorpusSettings>, String> {
        let settings = self.corpus.settings()?;
        if let Some(settings) = &settings {
            if settings.group_by != GroupBy::Dir {
                return Err(format!(
                    "explain takes one text file, whose group is its directory: --group-by {} needs JSONL or WARC \
                     records (use clean --corpus --group-by {} and read the provenance)",
                    settings.group_by, settings.group_by
                ));
            }
        }
        Ok(settings)
    }
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// A folder with input/<id>.txt (scraped pages) and gold/<id>.txt (their main text)
    pub data_dir: PathBuf,
    /// Worker threads [default: all cores]
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Also print a table of every rule that fired: hits, tokens removed, error rate
    #[arg(long)]
    pub by_rule: bool,
    /// Print the figures as one JSON object instead of tables
    #[arg(long)]
    pub json: bool,
    /// Also write the per-document table (P, R, F1, tokens lost per rule), worst first, to FILE (- for stdout)
    #[arg(long, value_name = "FILE")]
    pub per_doc: Option<PathBuf>,
    /// Phrase rules alone: no heuristics, no corpus mode (comparable across versions)
    #[arg(long, conflicts_with_all = ["no_corpus", "min_docs"])]
    pub rules_only: bool,
    /// Leave corpus mode off (by default an evaluation set is one corpus: its input/ folder)
    #[arg(long)]
    pub no_corpus: bool,
    /// Corpus mode removes a line held by at least this many documents of the set
    #[arg(long, value_name = "N", default_value_t = CorpusSettings::default().min_docs)]
    pub min_docs: u32,
    #[command(flatten)]
    pub cleaner: CleanerArgs,
}

impl EvalArgs {
    pub fn jobs(&self) -> Result<usize, String> {
        jobs_or_cores(self.jobs)
    }

    /// The cleaner's settings: `--rules-only` turns the heuristics off.
    pub fn clean_config(&self) -> Result<CleanConfig, String> {
        let mut config = self.cleaner.clean_config()?;
        config.heuristics &= !self.rules_only;
        Ok(config)
    }

    /// Corpus mode's settings, or `None` when it is off.
    pub fn corpus(&self) -> Result<Option<CorpusSettings>, String> {
        if self.rules_only || self.no_corpus {
            return Ok(None);
        }
        let settings = CorpusSettings {
            min_docs: self.min_docs,
            ..CorpusSettings::default()
        };
        settings.validate().map_err(|m| format!("--{m}"))?;
        Ok(Some(settings))
    }
}
