//! Rule packs: what the noise looks like, as data.
//!
//! A pack is one TOML file for one family of noise (`rules/social.toml`). The
//! shipped packs are compiled into the binary, so dechaff works with no files
//! beside it; users add packs with [`RuleSetBuilder::add_path`], replace a
//! shipped pack by giving one of the same name, and turn rules or whole packs
//! off with [`RuleSetBuilder::disable`]. The result, a [`RuleSet`], is plain
//! validated data with a fingerprint; [`crate::Cleaner`] compiles it into one
//! matcher.

mod format;
mod shipped;

use rayon::prelude::*;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::corpus::CorpusSettings;
use crate::error::{Error, ErrorKind, Result, SourceLocation};

pub(crate) use format::MAX_COMPILED_PATTERN_BYTES;

/// The longest line (in bytes of its match key) a whole-line pattern is tried
/// on when its rule does not say. Boilerplate lines are short; prose lines
/// longer than this skip the whole-line automaton entirely.
pub const DEFAULT_MAX_LINE_LENGTH: usize = 1000;
/// The largest `max-length` a rule may ask for.
pub const MAX_LINE_LENGTH_LIMIT: usize = 100_000;

/// How many lines a block may span when its rule does not say.
pub const DEFAULT_BLOCK_MAX_LINES: usize = 20;

/// One pack, parsed and validated.
#[derive(Debug, Clone)]
pub struct Pack {
    /// The pack's name; every rule id in it starts with `name.`.
    pub name: String,
    /// The pack's version, recorded in provenance.
    pub version: String,
    /// What family of noise the pack covers.
    pub description: String,
    /// The licence of the pack's data, when it says.
    pub license: Option<String>,
    /// Where it was loaded from: a path, or `<builtin>/NAME.toml`.
    pub origin: String,
    /// The file's text, which the fingerprint is taken over.
    pub text: String,
    /// The rules, in file order.
    pub rules: Vec<Rule>,
}

/// What a rule removes once its trigger fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// The whole line.
    Line,
    /// The matching span inside a line; the rest of the line stays.
    Inline,
    /// From a start line through an end line at most `max_lines` further on.
    Block {
        /// The most lines the block may span, start and end included.
        max_lines: usize,
    },
    /// From a marker line to the end of the document.
    Tail,
    /// A line that recurs across the documents of its group: corpus mode's
    /// synthetic rule `corpus.recurring`, which packs cannot declare.
    Corpus,
    /// A structural heuristic ([`crate::heuristic`]): lines judged by their
    /// shape, after the phrase rules.
    Heuristic,
    /// A protected phrase: a line it matches is never removed by a heuristic.
    Protect,
}

impl RuleKind {
    /// The name used in rule files.
    pub fn name(self) -> &'static str {
        match self {
            RuleKind::Line => "line",
            RuleKind::Inline => "inline",
            RuleKind::Block { .. } => "block",
            RuleKind::Tail => "tail",
            RuleKind::Corpus => "corpus",
            RuleKind::Heuristic => "heuristic",
            RuleKind::Protect => "protect",
        }
    }

    /// The action recorded in provenance for a removal by a rule of this kind.
    pub fn action(self) -> &'static str {
        match self {
            RuleKind::Line => "drop-line",
            RuleKind::Inline => "cut-span",
            RuleKind::Block { .. } => "drop-block",
            RuleKind::Tail => "drop-tail",
            RuleKind::Corpus => "drop-recurring",
            RuleKind::Heuristic => "classify",
            RuleKind::Protect => "protect",
        }
    }
}

/// What a rule looks for, already folded like the lines it will see.
#[derive(Debug, Clone)]
pub enum Trigger {
    /// A regex: over the whole line for line and tail rules, anywhere in it for inline rules.
    Pattern(String),
    /// Literal phrases, matched as whole lines (line, tail) or anywhere (inline).
    Literals(Vec<String>),
    /// A block's first and last line.
    Block {
        /// Matches the whole first line.
        start: String,
        /// Matches the whole last line.
        end: String,
    },
    /// No text to look for: the line's recurrence across its group decides (corpus mode).
    Recurrence,
    /// A heuristic and its parameters.
    Heuristic(Box<crate::heuristic::Heuristic>),
}

/// One example text of a rule, with where it stands in its file.
#[derive(Debug, Clone)]
pub struct Example {
    /// Where the example is written.
    pub location: SourceLocation,
    /// The example: a line, or several lines for block and tail rules.
    pub text: String,
}

/// One rule, validated.
#[derive(Debug, Clone)]
pub struct Rule {
    /// `pack.rule`.
    pub id: String,
    /// The pack's name.
    pub pack: String,
    /// What noise it removes and why that is safe.
    pub description: String,
    /// What it removes.
    pub kind: RuleKind,
    /// What it looks for.
    pub trigger: Trigger,
    /// Whole-line patterns (line, tail, block) are not tried on lines whose
    /// key is longer than this many bytes. Not used by inline rules.
    pub max_length: usize,
    /// The rule applies only to lines starting at or after this share of the document.
    pub min_position: Option<f64>,
    /// The rule applies only to lines starting at or before this share of the document.
    pub max_position: Option<f64>,
    /// Patterns see case as written instead of ignoring it.
    pub case_sensitive: bool,
    /// Texts the rule must remove.
    pub must_match: Vec<Example>,
    /// Texts the rule must leave alone.
    pub must_not_match: Vec<Example>,
    /// Where the rule's id is written.
    pub location: SourceLocation,
}

impl Rule {
    /// The action recorded in provenance for a removal by this rule: its
    /// kind's, except that a comment-thread heuristic cuts a tail and the
    /// repeated-passage cut drops lines.
    pub fn action(&self) -> &'static str {
        match &self.trigger {
            Trigger::Heuristic(h) if matches!(**h, crate::heuristic::Heuristic::CommentThread { .. }) => "drop-tail",
            Trigger::Heuristic(h) if matches!(**h, crate::heuristic::Heuristic::RepeatedPassage { .. }) => "drop-line",
            _ => self.kind.action(),
        }
    }
}

/// The name and version of one effective pack, as provenance records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PackVersion {
    /// Pack name.
    pub name: String,
    /// Pack version.
    pub version: String,
}

/// The effective rules: shipped and added packs, minus disabled rules.
#[derive(Debug, Clone)]
pub struct RuleSet {
    packs: Vec<Pack>,
    rules: Vec<Rule>,
    disabled: Vec<String>,
    fingerprint: String,
    corpus: Option<CorpusSettings>,
}

impl RuleSet {
    /// The shipped packs, all rules enabled.
    pub fn shipped() -> Result<RuleSet> {
        RuleSetBuilder::new().build()
    }

    /// The effective rules in pack order, then file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The packs that were loaded (including rules that were later disabled).
    pub fn packs(&self) -> &[Pack] {
        &self.packs
    }

    /// The rule with this id, if it is effective.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|rule| rule.id == id)
    }

    /// SHA-256, hex, over every pack's name, version and text and the list of
    /// disabled ids: two runs with the same fingerprint applied the same rules.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Each effective pack's name and version.
    pub fn pack_versions(&self) -> Vec<PackVersion> {
        self.packs
            .iter()
            .map(|p| PackVersion {
                name: p.name.clone(),
                version: p.version.clone(),
            })
            .collect()
    }

    /// Corpus mode's settings, when it is on (its rule `corpus.recurring` is
    /// among the effective rules).
    pub fn corpus(&self) -> Option<&CorpusSettings> {
        self.corpus.as_ref()
    }

    /// A set of `rule` alone, as the example self-test compiles each rule.
    pub(crate) fn of_one_rule(rule: Rule) -> RuleSet {
        RuleSet {
            packs: Vec::new(),
            rules: vec![rule],
            disabled: Vec::new(),
            fingerprint: String::new(),
            corpus: None,
        }
    }
}

/// Assembles a [`RuleSet`] from the shipped packs and the user's.
#[derive(Debug, Default)]
pub struct RuleSetBuilder {
    no_default_rules: bool,
    extra: Vec<PathBuf>,
    extra_texts: Vec<(String, String)>,
    disabled: Vec<String>,
    corpus: Option<CorpusSettings>,
    verify_shipped: bool,
}

impl RuleSetBuilder {
    /// Starts with the shipped packs.
    pub fn new() -> RuleSetBuilder {
        RuleSetBuilder::default()
    }

    /// Leaves the shipped packs out.
    pub fn no_default_rules(mut self, yes: bool) -> Self {
        self.no_default_rules = yes;
        self
    }

    /// Adds a pack file, or every `*.toml` in a directory (sorted by name). A
    /// pack with the name of a shipped pack replaces it; two added packs with
    /// one name are an error.
    pub fn add_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.extra.push(path.into());
        self
    }

    /// Adds a pack from text; `origin` names it in messages.
    pub fn add_text(mut self, origin: impl Into<String>, text: impl Into<String>) -> Self {
        self.extra_texts.push((origin.into(), text.into()));
        self
    }

    /// Turns off a rule (`pack.rule`) or a whole pack (`pack`).
    pub fn disable(mut self, id_or_pack: impl Into<String>) -> Self {
        self.disabled.push(id_or_pack.into());
        self
    }

    /// Turns corpus mode on: appends the synthetic pack `corpus`, whose one
    /// rule `corpus.recurring` removes lines recurring across a group's
    /// documents, and whose text (the settings) the fingerprint covers.
    pub fn corpus(mut self, settings: CorpusSettings) -> Self {
        self.corpus = Some(settings);
        self
    }

    /// Parses and compiles the shipped packs' patterns one by one, as a user
    /// pack's always are. Off by default: the shipped packs are compiled into
    /// the binary and checked when it is built and tested (the unit test
    /// `shipped_patterns_pass_the_full_check`, `dechaff rules check`), and
    /// checking them again on every run was half of a run's startup, the part
    /// of a run no second core shortens. Their patterns are still compiled
    /// into the cleaner's automata, which refuse a bad one by rule id.
    pub fn verify_shipped_patterns(mut self, yes: bool) -> Self {
        self.verify_shipped = yes;
        self
    }

    /// Loads, validates and checks everything; the first problem is returned.
    pub fn build(self) -> Result<RuleSet> {
        // The shipped packs are parsed side by side: startup is the serial
        // part of every run.
        let mut packs: Vec<Pack> = if self.no_default_rules {
            Vec::new()
        } else {
            shipped::PACKS
                .par_iter()
                .map(|(name, text)| {
                    let origin = format!("<builtin>/{name}");
                    format::parse_pack(&format::PackSource::new(&origin, text, self.verify_shipped))
                })
                .collect::<Result<_>>()?
        };
        // A user pack named like a shipped one replaces it; two user packs with
        // one name are a mistake, since one would silently hide the other.
        let mut user_packs: Vec<usize> = Vec::new();
        let mut add = |pack: Pack| -> Result<()> {
            let index = packs.iter().position(|p| p.name == pack.name);
            if let Some(earlier) = index.filter(|i| user_packs.contains(i)) {
                return Err(Error::rule_file(
                    SourceLocation::at(&pack.origin, &pack.text, 0),
                    None,
                    format!("pack {:?} is already defined in {}", pack.name, packs[earlier].origin),
                ));
            }
            match index {
                Some(shipped) => packs[shipped] = pack,
                None => packs.push(pack),
            }
            user_packs.push(index.unwrap_or(packs.len() - 1));
            Ok(())
        };
        for path in &self.extra {
            for file in pack_files(path)? {
                let origin = file.display().to_string();
                let text = read_pack_file(&file, &origin)?;
                add(format::parse_pack(&format::PackSource::new(&origin, &text, true))?)?;
            }
        }
        for (origin, text) in &self.extra_texts {
            refuse_oversized_pack(origin, text.len() as u64)?;
            add(format::parse_pack(&format::PackSource::new(origin, text, true))?)?;
        }
        if let Some(settings) = &self.corpus {
            settings
                .validate()
                .map_err(|message| Error::new(ErrorKind::Setting(format!("corpus mode: {message}"))))?;
            if let Some(pack) = packs.iter().find(|p| p.name == CORPUS_PACK) {
                return Err(Error::rule_file(
                    SourceLocation::at(&pack.origin, &pack.text, 0),
                    None,
                    format!("pack name {CORPUS_PACK:?} is kept for corpus mode's own rule; rename the pack"),
                ));
            }
            packs.push(corpus_pack(settings));
        }

        let mut disabled = self.disabled.clone();
        disabled.sort();
        disabled.dedup();
        for id in &disabled {
            let known = packs
                .iter()
                .any(|p| &p.name == id || p.rules.iter().any(|r| &r.id == id));
            if !known {
                return Err(Error::new(ErrorKind::UnknownRule(id.clone())));
            }
        }
        let is_disabled = |rule: &Rule| disabled.iter().any(|d| *d == rule.id || *d == rule.pack);
        let rules: Vec<Rule> = packs
            .iter()
            .flat_map(|p| p.rules.iter())
            .filter(|r| !is_disabled(r))
            .cloned()
            .collect();
        // Ids carry their pack's name, and pack names are unique, so ids are too.
        let fingerprint = fingerprint(&packs, &disabled);
        let corpus = self.corpus.filter(|_| rules.iter().any(|r| r.kind == RuleKind::Corpus));
        Ok(RuleSet {
            packs,
            rules,
            disabled,
            fingerprint,
            corpus,
        })
    }
}

impl RuleSet {
    /// The ids and pack names that were disabled.
    pub fn disabled(&self) -> &[String] {
        &self.disabled
    }
}

/// The name of corpus mode's synthetic pack.
pub const CORPUS_PACK: &str = "corpus";
/// The id of corpus mode's synthetic rule.
pub const CORPUS_RULE: &str = "corpus.recurring";

/// Corpus mode's pack: one rule, no examples, the settings as its text.
fn corpus_pack(settings: &CorpusSettings) -> Pack {
    let origin = "<corpus mode>".to_string();
    let text = settings.pack_text();
    let rule = Rule {
        id: CORPUS_RULE.to_string(),
        pack: CORPUS_PACK.to_string(),
        description: format!(
            "A line held by at least {} documents of its group (--group-by {}), after normalisation; \
             lines under {} characters are not counted, and a document loses at most {} of its text this way",
            settings.min_docs, settings.group_by, settings.min_chars, settings.max_doc_share
        ),
        kind: RuleKind::Corpus,
        trigger: Trigger::Recurrence,
        max_length: DEFAULT_MAX_LINE_LENGTH,
        min_position: None,
        max_position: None,
        case_sensitive: false,
        must_match: Vec::new(),
        must_not_match: Vec::new(),
        location: SourceLocation::at(&origin, &text, 0),
    };
    Pack {
        name: CORPUS_PACK.to_string(),
        version: crate::corpus::NORMALIZATION_VERSION.to_string(),
        description: "Lines recurring across the documents of a group (corpus mode)".to_string(),
        license: None,
        origin,
        text,
        rules: vec![rule],
    }
}

fn pack_files(path: &Path) -> Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path).map_err(|e| rule_path_error(path, e))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(|e| rule_path_error(path, e))? {
        let entry = entry.map_err(|e| rule_path_error(path, e))?;
        let file = entry.path();
        if file.extension().is_some_and(|ext| ext == "toml") && file.is_file() {
            files.push(file);
        }
    }
    files.sort();
    Ok(files)
}

/// The largest rule pack read, in bytes. The shipped packs together are
/// about a tenth of it; a pack far larger is a mistake (a corpus given as
/// `--rules`) or an attack, and parsing and compiling it would take minutes
/// and gigabytes before any error: so it is refused before it is parsed.
pub const MAX_PACK_BYTES: u64 = 4 * 1024 * 1024;

/// Reads a pack file, reading no more than [`MAX_PACK_BYTES`] and one byte.
fn read_pack_file(file: &Path, origin: &str) -> Result<String> {
    use std::io::Read;
    let opened = std::fs::File::open(file).map_err(|e| rule_path_error(file, e))?;
    let mut bytes = Vec::new();
    opened
        .take(MAX_PACK_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| rule_path_error(file, e))?;
    refuse_oversized_pack(origin, bytes.len() as u64)?;
    String::from_utf8(bytes).map_err(|e| {
        rule_path_error(
            file,
            std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not UTF-8: {e}")),
        )
    })
}

fn refuse_oversized_pack(origin: &str, bytes: u64) -> Result<()> {
    if bytes <= MAX_PACK_BYTES {
        return Ok(());
    }
    Err(Error::rule_file(
        SourceLocation::at(origin, "", 0),
        None,
        format!(
            "the pack is larger than {} MiB, the most a rule pack may hold",
            MAX_PACK_BYTES / (1024 * 1024)
        ),
    ))
}

fn rule_path_error(path: &Path, source: std::io::Error) -> Error {
    Error::new(ErrorKind::RulePath {
        path: path.to_path_buf(),
        source,
    })
}

fn fingerprint(packs: &[Pack], disabled: &[String]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"dechaff-rules\0");
    for pack in packs {
        for part in [&pack.name, &pack.version, &pack.text] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
    }
    for id in disabled {
        hasher.update((id.len() as u64).to_le_bytes());
        hasher.update(id.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// The shipped pack files, by file name, for invariant tests.
pub fn shipped_pack_names() -> impl Iterator<Item = &'static str> {
    shipped::PACKS.iter().map(|(name, _)| *name)
}
