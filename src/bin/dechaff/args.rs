//! The command line: clap's raw arguments, turned into validated settings.
//!
//! Nothing here reaches the engine as clap types: [`RuleArgs::rule_set`] and
//! [`CleanArgs::run_config`] produce the library's own config types, and every
//! range or label is checked here so that the engine sees only valid values.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
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
        let mut builder = RuleSetBuilder::new().no_default_rules(self.no_default_rules);
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
    /// Apply the phrase rules only: no line classifier, no comment-thread cut
    #[arg(long)]
    pub no_heuristics: bool,
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
    pub cleaner: CleanerArgs,
}

impl CleanArgs {
    pub fn run_config(&self) -> Result<RunConfig, String> {
        let jobs = match self.jobs {
            Some(0) => return Err("--jobs must be at least 1".to_string()),
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
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
