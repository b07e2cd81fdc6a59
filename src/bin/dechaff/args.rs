//! The command line: clap's raw arguments, turned into validated settings.
//!
//! Nothing here reaches the engine as clap types: [`RuleArgs::rule_set`] and
//! [`CleanArgs::run_config`] produce the library's own config types, and every
//! range or label is checked here so that the engine sees only valid values.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use dechaff::corpus::induce::InduceSettings;
use dechaff::corpus::{CorpusSettings, GroupBy};
use dechaff::decode::EncodingChoice;
use dechaff::pipeline::RunConfig;
use dechaff::provenance::ProvenanceText;
use dechaff::{CleanConfig, RuleSet, RuleSetBuilder};

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
    Clean(CleanArgs),
    /// Print a document with each removal marked and the rule that made it
    Explain(ExplainArgs),
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
    pub fn rule_set(&self) -> dechaff::Result<RuleSet> {
        self.rule_set_with_corpus(None)
    }

    /// The rules, with corpus mode's rule when `corpus` is given.
    pub fn rule_set_with_corpus(&self, corpus: Option<CorpusSettings>) -> dechaff::Result<RuleSet> {
        let mut builder = RuleSetBuilder::new().no_default_rules(self.no_default_rules);
        if let Some(settings) = corpus {
            builder = builder.corpus(settings);
        }
        for path in &self.rules {
            builder = builder.add_path(path);
        }
        for id in &self.disable {
            builder = builder.disable(id);
        }
        builder.build()
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

#[derive(Args, Debug)]
pub struct CleanArgs {
    /// Files and directories to clean (directories recursively)
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Output directory: the input tree is mirrored here, with provenance.jsonl
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,
    /// Worker threads [default: all cores]
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
    /// No progress bar and no summary line
    #[arg(short, long)]
    pub quiet: bool,
    /// How much removed text provenance stores
    #[arg(long, value_enum, default_value_t = ProvenanceTextArg::Excerpt)]
    pub provenance_text: ProvenanceTextArg,
    /// Fail a document, instead of warning, when rules remove more than the budget
    #[arg(long)]
    pub strict: bool,
    /// Follow symbolic links while walking directories
    #[arg(long)]
    pub follow: bool,
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
        let run = RunConfig {
            inputs: self.inputs.clone(),
            out: PathBuf::new(),
            jobs: jobs_or_cores(self.jobs)?,
            encoding,
            provenance_text: ProvenanceText::Excerpt,
            strict: false,
            follow_links: self.follow,
        };
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
        Ok(RunConfig {
            inputs: self.inputs.clone(),
            out: self.out.clone(),
            jobs,
            encoding: self.cleaner.encoding()?,
            provenance_text: match self.provenance_text {
                ProvenanceTextArg::Excerpt => ProvenanceText::Excerpt,
                ProvenanceTextArg::Full => ProvenanceText::Full,
            },
            strict: self.strict,
            follow_links: self.follow,
        })
    }
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColourChoice {
    Auto,
    Always,
    Never,
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The document to explain
    pub file: PathBuf,
    /// Colour the removals
    #[arg(long, value_enum, default_value_t = ColourChoice::Auto)]
    pub color: ColourChoice,
    #[command(flatten)]
    pub cleaner: CleanerArgs,
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
    #[command(flatten)]
    pub cleaner: CleanerArgs,
}

impl EvalArgs {
    pub fn jobs(&self) -> Result<usize, String> {
        jobs_or_cores(self.jobs)
    }
}
