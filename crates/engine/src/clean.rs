//! The cleaner: decoded text in, kept text and an account of every removed byte out.
//!
//! A [`Cleaner`] is built once from a [`RuleSet`] and then cloned per worker
//! thread: the compiled matcher is shared behind an `Arc`, and each clone owns
//! its scratch buffers (line table, key buffer, regex caches, the output), so
//! cleaning a document allocates nothing once the buffers have grown.
//!
//! Cleaning runs in three passes over the line table:
//! 1. *match*: each non-blank line's key is searched once by the whole-line
//!    automaton (if short enough to match at all) and once by the inline one;
//!    hits are recorded sparsely;
//! 2. *decide*: the earliest tail marker cuts the rest of the document, then
//!    blocks, then line rules, then inline spans, each only where its rule's
//!    position window allows; then, in corpus mode, lines that recur across
//!    the documents of this one's group ([`LineEvidence`]); then the heuristics
//!    ([`crate::heuristic`]) judge what is left: a confirmed comment section is
//!    cut, the line classifier removes lines it scores as boilerplate, and
//!    protected phrases veto any heuristic removal;
//! 3. *emit*: kept lines are written trimmed, runs of blank lines collapse to
//!    one, blank lines at the edges go. Every byte not written is accounted
//!    for, either as a rule's [`Removal`] or as a whitespace span, so the
//!    decoded input can be rebuilt from the output and the provenance.
//!
//! The output is the kept bytes of the input in order, nothing added: a
//! document whose last kept line had no newline ends without one.

use std::ops::Range;
use std::sync::Arc;

use regex_automata::meta;
use regex_automata::Input;

use crate::corpus::{LineEvidence, NoEvidence};
use crate::error::{Error, ErrorKind, Result};
use crate::fold;
use crate::heuristic::{Heuristic, HeuristicScratch, Heuristics};
use crate::heuristic::{LineMemo, SharedMemo};
use crate::lines::{release, release_string, LineTable, MAX_DOCUMENT_BYTES, MAX_RULES};
use crate::matcher::{LineAutomaton, LineCache, Matcher, Role};
use crate::memo::InlineMatch;
use crate::rules::{Rule, RuleKind, RuleSet, Trigger};

/// Settings of the cleaning itself (not of the run around it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CleanConfig {
    /// The largest share of a document's decoded bytes the rules may remove
    /// before the result is flagged (a warning, or an error with `--strict`).
    pub removal_budget: f64,
    /// Where a tail rule's marker may start at the earliest, as a share of the
    /// document, unless the rule sets its own `min-position`.
    pub tail_min_position: f64,
    /// Whether `kind = "heuristic"` rules act (`--no-heuristics` turns them
    /// off, leaving exactly the phrase rules' result).
    pub heuristics: bool,
    /// What the comment-thread cuts do with a page's user comments.
    pub comments: Comments,
}

/// What becomes of a page's user comments. Annotation standards differ
/// (CleanEval's gold keeps a page's comments, Dragnet's leaves them out), and
/// so do users: a corpus of discussion wants them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Comments {
    /// The comment-thread cuts remove a confirmed comment section.
    #[default]
    Drop,
    /// The comment-thread cuts are off; the other rules still judge each line.
    Keep,
}

impl std::str::FromStr for Comments {
    type Err = String;
    fn from_str(text: &str) -> std::result::Result<Comments, String> {
        match text {
            "drop" => Ok(Comments::Drop),
            "keep" => Ok(Comments::Keep),
            other => Err(format!("unknown comment handling {other:?}: expected drop or keep")),
        }
    }
}

impl std::fmt::Display for Comments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Comments::Drop => "drop",
            Comments::Keep => "keep",
        })
    }
}

impl Default for CleanConfig {
    fn default() -> Self {
        CleanConfig {
            removal_budget: 0.5,
            tail_min_position: 0.5,
            heuristics: true,
            comments: Comments::Drop,
        }
    }
}

/// Builds a [`Cleaner`].
#[derive(Debug, Clone)]
pub struct CleanerBuilder {
    config: CleanConfig,
    ignore_positions: bool,
}

impl Default for CleanerBuilder {
    fn default() -> Self {
        CleanerBuilder::new()
    }
}

impl CleanerBuilder {
    /// Default settings.
    pub fn new() -> CleanerBuilder {
        CleanerBuilder {
            config: CleanConfig::default(),
            ignore_positions: false,
        }
    }

    /// Replaces the settings.
    pub fn config(mut self, config: CleanConfig) -> Self {
        self.config = config;
        self
    }

    /// Applies every rule wherever its line stands. Only the example tests
    /// want this: an example is a line out of context.
    pub(crate) fn ignore_positions(mut self, yes: bool) -> Self {
        self.ignore_positions = yes;
        self
    }

    /// Compiles the rules. Fails only if the rules together are too large.
    pub fn build(&self, rules: RuleSet) -> Result<Cleaner> {
        if rules.rules().len() > MAX_RULES {
            return Err(Error::new(ErrorKind::RulesTooLarge(format!(
                "{} rules, and the line table can name at most {MAX_RULES}",
                rules.rules().len()
            ))));
        }
        let matcher = Matcher::compile(&rules)?;
        let corpus = rules.corpus().and_then(|settings| {
            let rule = rules.rules().iter().position(|r| r.kind == RuleKind::Corpus)?;
            Some(CorpusStep {
                rule: rule as u32,
                min_docs: settings.min_docs,
                max_doc_share: settings.max_doc_share,
            })
        });
        let heuristics = if self.config.heuristics {
            Heuristics::compile(
                rules
                    .rules()
                    .iter()
                    .enumerate()
                    .filter_map(|(index, rule)| match &rule.trigger {
                        Trigger::Heuristic(h) => Some((index as u32, &**h)),
                        _ => None,
                    })
                    .filter(|(_, h)| {
                        self.config.comments == Comments::Drop || !matches!(h, Heuristic::CommentThread { .. })
                    }),
            )?
        } else {
            None
        };
        let engine = Arc::new(Engine {
            corpus,
            rules: Arc::new(rules),
            matcher,
            heuristics,
            config: self.config,
            ignore_positions: self.ignore_positions,
            shared_memo: SharedMemo::default(),
        });
        Ok(Cleaner { engine, scratch: None })
    }
}

#[derive(Debug)]
struct Engine {
    rules: Arc<RuleSet>,
    matcher: Matcher,
    /// The heuristic rules, compiled; `None` when there are none or they are off.
    heuristics: Option<Heuristics>,
    config: CleanConfig,
    ignore_positions: bool,
    /// Present when the rules hold corpus mode's synthetic rule.
    corpus: Option<CorpusStep>,
    /// What the cleaners of this engine (a cleaner and its clones) learn of
    /// lines, shared among them.
    shared_memo: SharedMemo,
}

/// Corpus mode's part of the decide pass.
#[derive(Debug, Clone, Copy)]
struct CorpusStep {
    /// Index of `corpus.recurring` in the rules.
    rule: u32,
    min_docs: u32,
    max_doc_share: f64,
}

/// One span removed by a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Removal {
    /// Index of the rule in [`RuleSet::rules`].
    pub rule: usize,
    /// Byte range in the decoded input.
    pub bytes: Range<usize>,
    /// First line, 1-based.
    pub line_start: usize,
    /// Last line, 1-based, inclusive.
    pub line_end: usize,
    /// How strongly the rule judged the span to be boilerplate, for rules that
    /// score (heuristics, corpus counts); `None` for phrase rules, which match or not.
    /// A span of several lines has the lowest score among them.
    pub score: Option<f32>,
}

/// One line the line classifier judged.
#[derive(Debug, Clone, PartialEq)]
pub struct JudgedLine {
    /// The line's index in the document, 0-based.
    pub line: usize,
    /// Its line features, in the order of [`crate::heuristic::LINE_FEATURES`].
    pub line_features: [f32; crate::heuristic::LINE_COUNT],
    /// Its context features, in the order of [`crate::heuristic::CONTEXT_FEATURES`].
    pub context_features: [f32; crate::heuristic::CONTEXT_COUNT],
    /// Its final score: log-odds that the line is content.
    pub score: f32,
}

/// What cleaning one document left: the kept text and its counts. Part of
/// [`Cleaned`], which also gives the removals and whitespace spans.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CleanSummary {
    /// The kept text.
    pub text: String,
    /// Lines in the input.
    pub input_lines: usize,
    /// Lines in the output.
    pub output_lines: usize,
    /// Bytes removed by rules and heuristics (whitespace not counted).
    pub removed_bytes: usize,
    /// Of those, bytes removed by heuristics and corpus mode.
    pub heuristic_bytes: usize,
    /// Share of the input's bytes removed by phrase rules: the removal
    /// budget's measure. Heuristics and corpus mode are left out of it because
    /// taking most of a page (its menus, link lists and comments) is their
    /// ordinary work; their own guards are that they never leave a page
    /// without its main region, and corpus mode's per-document share cap.
    pub removed_share: f64,
    /// True when `removed_share` is above the removal budget.
    pub over_budget: bool,
    /// True when the document was longer than [`MAX_DOCUMENT_BYTES`] and so
    /// was kept whole, uncleaned: keeping too much is the safe way to fail.
    pub too_long: bool,
}

/// The result of cleaning one document, borrowed from the cleaner (and the
/// text) until the next call: the kept text and counts (through `Deref` to
/// [`CleanSummary`]), and every removed byte, as rules' [`Removal`]s and
/// whitespace spans.
///
/// The spans are not held but walked again from the cleaner's line table
/// when asked for: a document of millions of lines that cannot merge into
/// one span would otherwise cost tens of bytes a line. The `for_each_`
/// methods hold nothing; [`Cleaned::removals`] and [`Cleaned::whitespace`]
/// collect them.
#[derive(Clone, Copy)]
pub struct Cleaned<'a> {
    summary: &'a CleanSummary,
    /// `None` for a document kept whole ([`CleanSummary::too_long`]): it has no spans.
    source: Option<SpanSource<'a>>,
}

impl std::ops::Deref for Cleaned<'_> {
    type Target = CleanSummary;

    fn deref(&self) -> &CleanSummary {
        self.summary
    }
}

impl std::fmt::Debug for Cleaned<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cleaned")
            .field("summary", self.summary)
            .field("removals", &self.removals())
            .finish()
    }
}

impl Cleaned<'_> {
    /// The kept text and counts.
    pub fn summary(&self) -> &CleanSummary {
        self.summary
    }

    /// Calls `removal` with what the rules removed, in input order
    /// (adjacent lines removed by one rule are one removal), and
    /// `whitespace` with the byte ranges of the input dropped by whitespace
    /// normalisation, in order (ranges that touch are one).
    pub fn for_each_span(&self, removal: impl FnMut(Removal), whitespace: impl FnMut(Range<usize>)) {
        if let Some(source) = &self.source {
            source.for_each_span(removal, whitespace);
        }
    }

    /// Calls `visit` with what the rules removed ([`Cleaned::for_each_span`]).
    pub fn for_each_removal(&self, visit: impl FnMut(Removal)) {
        self.for_each_span(visit, |_| {});
    }

    /// Calls `visit` with the whitespace spans ([`Cleaned::for_each_span`]).
    pub fn for_each_whitespace(&self, visit: impl FnMut(Range<usize>)) {
        self.for_each_span(|_| {}, visit);
    }

    /// What the rules removed, in input order ([`Cleaned::for_each_removal`], collected).
    pub fn removals(&self) -> Vec<Removal> {
        let mut removals = Vec::new();
        self.for_each_removal(|removal| removals.push(removal));
        removals
    }

    /// The whitespace spans, in order ([`Cleaned::for_each_whitespace`], collected).
    pub fn whitespace(&self) -> Vec<Range<usize>> {
        let mut spans = Vec::new();
        self.for_each_whitespace(|span| spans.push(span));
        spans
    }
}

/// A [`Cleaned`] that no longer borrows the cleaner: its summary and its
/// spans, collected. For callers that keep results across documents (the
/// Python bindings, tests); a run streams the spans instead.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct OwnedCleaned {
    /// The kept text and counts.
    pub summary: CleanSummary,
    /// What the rules removed, in input order.
    pub removals: Vec<Removal>,
    /// Byte ranges of the input dropped by whitespace normalisation, in order.
    pub whitespace: Vec<Range<usize>>,
}

impl std::ops::Deref for OwnedCleaned {
    type Target = CleanSummary;

    fn deref(&self) -> &CleanSummary {
        &self.summary
    }
}

/// A cleaned document's summary and spans, borrowed ([`Cleaned`]) or owned
/// ([`OwnedCleaned`]): what provenance is made from.
pub trait CleanedSpans {
    /// The kept text and counts.
    fn summary(&self) -> &CleanSummary;
    /// Calls `removal` with each removal and `whitespace` with each
    /// whitespace span, each kind in input order.
    fn each_span(&self, removal: &mut dyn FnMut(Removal), whitespace: &mut dyn FnMut(Range<usize>));
}

impl CleanedSpans for Cleaned<'_> {
    fn summary(&self) -> &CleanSummary {
        self.summary
    }

    fn each_span(&self, removal: &mut dyn FnMut(Removal), whitespace: &mut dyn FnMut(Range<usize>)) {
        self.for_each_span(removal, whitespace);
    }
}

impl CleanedSpans for OwnedCleaned {
    fn summary(&self) -> &CleanSummary {
        &self.summary
    }

    fn each_span(&self, removal: &mut dyn FnMut(Removal), whitespace: &mut dyn FnMut(Range<usize>)) {
        self.removals.iter().cloned().for_each(removal);
        self.whitespace.iter().cloned().for_each(whitespace);
    }
}

impl Cleaned<'_> {
    /// The summary and the spans, collected, no longer borrowed.
    pub fn collect(self) -> OwnedCleaned {
        OwnedCleaned {
            summary: self.summary.clone(),
            removals: self.removals(),
            whitespace: self.whitespace(),
        }
    }
}

/// A reusable cleaner. Clone it once per thread: clones share the compiled
/// rules and own fresh scratch buffers.
#[derive(Debug)]
pub struct Cleaner {
    engine: Arc<Engine>,
    /// Made on the first [`Cleaner::clean`]: the automata's search caches
    /// alone take megabytes, and a run makes cleaners that never clean (the
    /// one the others are cloned from, the spare per-worker cleaners for
    /// JSONL and WARC inputs in a run of text files).
    scratch: Option<Scratch>,
}

impl Clone for Cleaner {
    fn clone(&self) -> Self {
        Cleaner {
            engine: Arc::clone(&self.engine),
            scratch: None,
        }
    }
}

impl Drop for Cleaner {
    fn drop(&mut self) {
        if self.scratch.is_some() {
            self.engine.shared_memo.leave();
        }
    }
}

impl Cleaner {
    /// The cleaner's scratch, made on first use; a cleaner that has one
    /// shares what it learns with the engine's other cleaners.
    fn scratch(&mut self) -> &mut Scratch {
        let engine = &*self.engine;
        self.scratch.get_or_insert_with(|| {
            engine.shared_memo.join();
            Scratch::new(engine)
        })
    }
}

/// An inline rule's match on a line; 16 bytes, offsets `u32` as in the line table.
#[derive(Debug)]
struct InlineHit {
    line: u32,
    rule: u32,
    bytes: (u32, u32),
}

impl InlineHit {
    fn line(&self) -> usize {
        self.line as usize
    }

    fn bytes(&self) -> Range<usize> {
        self.bytes.0 as usize..self.bytes.1 as usize
    }
}

#[derive(Debug)]
struct Scratch {
    /// The line table, each line's fate included.
    lines: LineTable,
    /// Per line: documents of the group holding it (corpus mode; 0
    /// otherwise), saturating at `u16::MAX`: two bytes a line, as a page of
    /// one-byte lines must not cost more than a few times its size.
    recurrence: Vec<u16>,
    /// (line, documents holding it) of each line whose count saturates
    /// `recurrence`, in line order: the exact count, which is the score of
    /// its removal.
    recurrence_over: Vec<(u32, u32)>,
    /// Corpus mode's levels: documents holding a line, and the bytes of the
    /// page's lines held by that many (at least `--min-docs`).
    recurrence_levels: Vec<(u32, usize)>,
    key: String,
    /// (line, pattern) of each whole-line pattern that matched, in line order.
    line_hits: Vec<(u32, u32)>,
    inline_hits: Vec<InlineHit>,
    /// The comment-thread cut of the document, if one was made: its rule,
    /// and its evidence (the furniture lines that confirmed it), which is
    /// the score of every line it removed.
    comment_thread: Option<(u32, f32)>,
    heuristic: Option<HeuristicScratch>,
    /// One search cache per whole-line automaton.
    line_caches: Vec<LineCache>,
    inline_cache: Option<meta::Cache>,
    /// What this worker has learnt of lines' texts, across documents.
    memo: LineMemo,
    /// One line's whole-line patterns and inline matches, on their way to the memo.
    line_patterns: Vec<u32>,
    line_inline: Vec<InlineMatch>,
    cleaned: CleanSummary,
}

impl Scratch {
    /// Gives back what the last document grew beyond [`SCRATCH_KEEP_BYTES`]
    /// in any one buffer; below that, buffers are kept so that cleaning
    /// allocates nothing once they have grown.
    fn release_excess(&mut self) {
        self.lines.release_excess();
        release(&mut self.recurrence);
        release(&mut self.recurrence_over);
        release(&mut self.recurrence_levels);
        release(&mut self.line_hits);
        release(&mut self.inline_hits);
        release_string(&mut self.cleaned.text);
        release_string(&mut self.key);
        if let Some(heuristic) = self.heuristic.as_mut() {
            heuristic.release_excess();
        }
    }

    fn new(engine: &Engine) -> Scratch {
        let matcher = &engine.matcher;
        Scratch {
            lines: LineTable::default(),
            recurrence: Vec::new(),
            recurrence_over: Vec::new(),
            recurrence_levels: Vec::new(),
            key: String::new(),
            line_hits: Vec::new(),
            inline_hits: Vec::new(),
            comment_thread: None,
            heuristic: engine.heuristics.as_ref().map(HeuristicScratch::new),
            line_caches: matcher.line.iter().map(LineAutomaton::create_cache).collect(),
            inline_cache: matcher.inline_regex.as_ref().map(|r| r.create_cache()),
            memo: LineMemo::default(),
            line_patterns: Vec::new(),
            line_inline: Vec::new(),
            cleaned: CleanSummary::default(),
        }
    }
}

impl Cleaner {
    /// A cleaner with the shipped rules and default settings.
    pub fn with_shipped_rules() -> Result<Cleaner> {
        CleanerBuilder::new().build(RuleSet::shipped()?)
    }

    /// The rules this cleaner applies.
    pub fn rules(&self) -> &RuleSet {
        &self.engine.rules
    }

    /// The rules, shared: for callers that keep them across [`Cleaner::clean`] calls.
    pub fn shared_rules(&self) -> Arc<RuleSet> {
        Arc::clone(&self.engine.rules)
    }

    /// The settings this cleaner was built with.
    pub fn config(&self) -> CleanConfig {
        self.engine.config
    }

    /// Keeps, from the next [`Cleaner::clean`] call on, what the line
    /// classifier saw of each line, for [`Cleaner::judged_lines`]. Off by
    /// default: the features take about 200 bytes a line.
    pub fn keep_judged_lines(&mut self, keep: bool) {
        let scratch = self.scratch();
        if let Some(heuristic) = scratch.heuristic.as_mut() {
            heuristic.keep = keep;
        }
    }

    /// What the line classifier saw of each line it judged in the last
    /// [`Cleaner::clean`] call: the features and scores its weights are fitted
    /// on (`examples/heuristic_features.rs`). Empty when no classifier is in
    /// force, or unless [`Cleaner::keep_judged_lines`] asked for them.
    pub fn judged_lines(&self) -> Vec<JudgedLine> {
        let Some(h) = self.scratch.as_ref().and_then(|s| s.heuristic.as_ref()) else {
            return Vec::new();
        };
        (0..h.candidates.len())
            .map(|k| JudgedLine {
                line: h.candidates[k],
                line_features: h.line_features[k],
                context_features: h.context_features.get(k).copied().unwrap_or_default(),
                score: h.second.get(k).copied().unwrap_or(f32::NAN),
            })
            .collect()
    }

    /// Cleans one decoded document.
    pub fn clean<'a>(&'a mut self, text: &'a str) -> Cleaned<'a> {
        self.clean_with(text, &NoEvidence)
    }

    /// Cleans one decoded document, with what the rest of the corpus says
    /// about its lines (corpus mode: see [`crate::corpus`]).
    pub fn clean_with<'a>(&'a mut self, text: &'a str, evidence: &dyn LineEvidence) -> Cleaned<'a> {
        self.scratch();
        let engine = &*self.engine;
        let scratch = self.scratch.as_mut().expect("made just above");
        scratch.release_excess();
        if text.len() > MAX_DOCUMENT_BYTES {
            keep_whole(text, &mut scratch.cleaned);
            return Cleaned {
                summary: &scratch.cleaned,
                source: None,
            };
        }
        scratch.lines.split(text);
        find_hits(engine, text, scratch);
        decide(engine, text, scratch, evidence);
        emit(engine, text, scratch);
        scratch.memo.teach(&engine.shared_memo);
        let scratch: &'a Scratch = scratch;
        Cleaned {
            summary: &scratch.cleaned,
            source: Some(SpanSource::of(engine, text, scratch)),
        }
    }
}

/// The result for a document too long for the line table: the text as it
/// came, nothing removed.
fn keep_whole(text: &str, cleaned: &mut CleanSummary) {
    *cleaned = CleanSummary {
        text: text.to_string(),
        input_lines: memchr::memchr_iter(b'\n', text.as_bytes()).count() + usize::from(!text.ends_with('\n')),
        too_long: true,
        ..CleanSummary::default()
    };
    cleaned.output_lines = cleaned.input_lines;
}

fn find_hits(engine: &Engine, text: &str, scratch: &mut Scratch) {
    let matcher = &engine.matcher;
    let Scratch {
        lines,
        key,
        line_hits,
        inline_hits,
        line_caches,
        inline_cache,
        memo,
        line_patterns,
        line_inline,
        ..
    } = scratch;
    line_hits.clear();
    inline_hits.clear();
    memo.begin_document(lines.len());
    memo.learn_from(
        &engine.shared_memo,
        (0..lines.len()).filter_map(|index| {
            let line = lines.get(index);
            (!line.is_blank()).then(|| (index, line.content(text)))
        }),
    );
    if matcher.line.is_empty() && matcher.inline_regex.is_none() {
        return;
    }
    let windowed_inline = matcher.inline_rules.iter().any(|&rule| {
        let rule = &engine.rules.rules()[rule as usize];
        rule.min_position.is_some() || rule.max_position.is_some()
    });
    let inline_wanted = matcher.inline_regex.is_some();
    let fold_limit = if inline_wanted { usize::MAX } else { matcher.line_gate };
    for index in 0..lines.len() {
        let line = lines.get(index);
        if line.is_blank() {
            continue;
        }
        let trimmed = line.trimmed(text);
        let (raw, base) = (&text[trimmed.clone()], trimmed.start);
        // What a worker has already learnt of this line's text, if anything.
        let entry = memo.line_entry(index, raw);
        let first_hit = line_hits.len();
        let known_patterns = match entry.and_then(|id| memo.patterns(id)) {
            Some(patterns) => {
                line_hits.extend(patterns.iter().map(|&pattern| (index as u32, pattern)));
                claim_for_line_rules(engine, text, lines, line_hits, first_hit);
                true
            }
            None => false,
        };
        // Inline matches are remembered only when no inline rule has a
        // position window: with one, what is found depends on where the line stands.
        let known_inline = match entry.filter(|_| !windowed_inline).and_then(|id| memo.inline(id)) {
            Some(matches) => {
                inline_hits.extend(matches.iter().map(|m| InlineHit {
                    line: index as u32,
                    rule: m.rule,
                    bytes: (base as u32 + m.start, base as u32 + m.end),
                }));
                true
            }
            None => !inline_wanted,
        };
        if known_patterns && known_inline {
            continue;
        }
        let (line_key, identity): (&str, bool) = match fold::fold_key(raw, key, fold_limit) {
            fold::KeyFold::Identity => (raw, true),
            fold::KeyFold::Folded => (key.as_str(), false),
            fold::KeyFold::TooLong => {
                // Too long for any whole-line pattern, and no inline rule to look for.
                if let Some(id) = entry {
                    memo.set_patterns(id, &[]);
                }
                continue;
            }
        };

        if !known_patterns {
            for (automaton, cache) in matcher.line.iter().zip(line_caches.iter_mut()) {
                if line_key.len() <= automaton.gate && automaton.any_match(cache, line_key) {
                    automaton.which_match(cache, line_key, |pattern| {
                        if line_key.len() <= matcher.line_patterns[pattern as usize].max_len {
                            line_hits.push((index as u32, pattern));
                        }
                    });
                }
            }
            // Groups are not consecutive runs of patterns (see
            // `matcher::plan_groups`); the decide pass wants a line's hits in
            // pattern order, each once (a pattern split into anchored branches
            // and a contains core is in two groups, and a contains core can
            // match at several places). The memo gets them without repeats;
            // `line_hits` loses its repeats once all lines are searched.
            line_hits[first_hit..].sort_unstable();
            if let Some(id) = entry {
                line_patterns.clear();
                line_patterns.extend(line_hits[first_hit..].iter().map(|&(_, pattern)| pattern));
                line_patterns.dedup();
                memo.set_patterns(id, line_patterns);
            }
            claim_for_line_rules(engine, text, lines, line_hits, first_hit);
        }
        if known_inline {
            continue;
        }
        // A rule's window depends on where its line starts, not on where in
        // the line it matches. When no inline rule may act on this line, the
        // search below would restart one character after every match it
        // must pass over, each restart scanning on to the end of the line:
        // quadratic in the line's length (a rule with a window and a pattern
        // like `b+c|b` took minutes on a 100 KB line).
        let any_inline_allowed = !windowed_inline
            || matcher
                .inline_rules
                .iter()
                .any(|&rule| position_allows(engine, &engine.rules.rules()[rule as usize], line.start(), text.len()));
        let first_inline = inline_hits.len();
        if let (true, Some(regex), Some(cache)) = (any_inline_allowed, &matcher.inline_regex, inline_cache.as_mut()) {
            let mut input = Input::new(line_key);
            while let Some(found) = regex.search_with(cache, &input) {
                let (key_start, key_end) = (found.start(), found.end());
                let rule = matcher.inline_rules[found.pattern().as_usize()];
                if !position_allows(engine, &engine.rules.rules()[rule as usize], line.start(), text.len()) {
                    // This rule may not act here; another may match at or after the
                    // same place, so search again one character further on.
                    match next_char(line_key, key_start) {
                        Some(next) => input.set_start(next),
                        None => break,
                    }
                    continue;
                }
                if key_end > key_start {
                    let (source_start, source_end) = if identity {
                        (key_start, key_end)
                    } else {
                        fold::key_span_to_source(raw, key_start, key_end)
                    };
                    inline_hits.push(InlineHit {
                        line: index as u32,
                        rule,
                        bytes: ((base + source_start) as u32, (base + source_end) as u32),
                    });
                }
                // Step past the match (past one char for an empty one).
                let next = if key_end > key_start {
                    Some(key_end)
                } else {
                    next_char(line_key, key_end)
                };
                match next {
                    Some(next) => input.set_start(next),
                    None => break,
                }
            }
        }
        if let (Some(id), false) = (entry, windowed_inline) {
            line_inline.clear();
            line_inline.extend(inline_hits[first_inline..].iter().map(|hit| InlineMatch {
                rule: hit.rule,
                start: hit.bytes.0 - base as u32,
                end: hit.bytes.1 - base as u32,
            }));
            memo.set_inline(id, line_inline);
        }
    }
    // The hits are in line order and each line's sorted, so repeats are neighbours.
    line_hits.dedup();
}

/// Turns the line rules' hits among a line's hits (`line_hits[first_hit..]`,
/// in pattern order) into a claim on the line by the first whose rule may act
/// there, and drops them: the first rule in rule order wins, and a page that
/// a line rule removes line by line no longer holds a hit (eight bytes) for
/// each line besides its line table entry.
fn claim_for_line_rules(
    engine: &Engine,
    text: &str,
    lines: &mut LineTable,
    line_hits: &mut Vec<(u32, u32)>,
    first_hit: usize,
) {
    let patterns = &engine.matcher.line_patterns;
    let mut claim = None;
    let mut kept = first_hit;
    for hit in first_hit..line_hits.len() {
        let (line, pattern) = line_hits[hit];
        let p = patterns[pattern as usize];
        if p.role != Role::Whole {
            line_hits[kept] = line_hits[hit];
            kept += 1;
        } else if claim.is_none()
            && position_allows(
                engine,
                &engine.rules.rules()[p.rule as usize],
                lines.start(line as usize),
                text.len(),
            )
        {
            claim = Some((line, p.rule));
        }
    }
    line_hits.truncate(kept);
    if let Some((line, rule)) = claim {
        lines.claim(line as usize, rule);
    }
}

/// The offset one character past `at` in `key`, or `None` at its end.
fn next_char(key: &str, at: usize) -> Option<usize> {
    key[at..].chars().next().map(|c| at + c.len_utf8())
}

/// Whether `rule` may act on a line starting at byte `start` of a `len`-byte document.
fn position_allows(engine: &Engine, rule: &Rule, start: usize, len: usize) -> bool {
    if engine.ignore_positions {
        return true;
    }
    let position = start as f64 / len.max(1) as f64;
    let default_min = if rule.kind == RuleKind::Tail {
        engine.config.tail_min_position
    } else {
        0.0
    };
    position >= rule.min_position.unwrap_or(default_min) && position <= rule.max_position.unwrap_or(1.0)
}

fn decide(engine: &Engine, text: &str, scratch: &mut Scratch, evidence: &dyn LineEvidence) {
    let rules = engine.rules.rules();
    let patterns = &engine.matcher.line_patterns;
    let Scratch {
        lines,
        line_hits,
        inline_hits,
        ..
    } = scratch;
    // Takes the line's start rather than the line: the passes below mark lines as they go.
    let allows = |rule: u32, line_start: usize| position_allows(engine, &rules[rule as usize], line_start, text.len());

    // The earliest allowed tail marker ends the document.
    let tail = line_hits.iter().find(|&&(line, pattern)| {
        let p = patterns[pattern as usize];
        p.role == Role::TailMarker && allows(p.rule, lines.start(line as usize))
    });
    let tail_start = tail.map_or(lines.len(), |&(line, _)| line as usize);

    // Blocks, in order; a start inside an earlier block is ignored.
    for (hit_index, &(start_line, pattern)) in line_hits.iter().enumerate() {
        let start_line = start_line as usize;
        let p = patterns[pattern as usize];
        if p.role != Role::BlockStart || start_line >= tail_start || lines.removed(start_line) {
            continue;
        }
        if !allows(p.rule, lines.start(start_line)) {
            continue;
        }
        let RuleKind::Block { max_lines } = rules[p.rule as usize].kind else {
            continue;
        };
        let last_allowed = (start_line + max_lines - 1).min(tail_start.saturating_sub(1));
        let end = line_hits[hit_index + 1..]
            .iter()
            .take_while(|&&(line, _)| line as usize <= last_allowed)
            .find(|&&(line, other)| {
                let o = patterns[other as usize];
                line as usize > start_line && o.rule == p.rule && o.role == Role::BlockEnd
            });
        if let Some(&(end_line, _)) = end {
            for line in start_line..=end_line as usize {
                lines.remove(line, p.rule);
            }
        }
    }

    // Line rules: each line's claim (`claim_for_line_rules`) stands unless a
    // block took the line; at and past a tail marker the tail takes it.
    for line in 0..tail_start {
        lines.settle_claim(line);
    }

    if let Some(&(_, pattern)) = tail {
        for line in tail_start..lines.len() {
            lines.remove(line, patterns[pattern as usize].rule);
        }
    }

    // Inline hits survive only on kept lines where their rule may act. A line
    // that has nothing but blanks left once its hits are cut goes whole.
    inline_hits.retain(|hit| !lines.removed(hit.line()));
    let mut index = 0;
    while index < inline_hits.len() {
        let line_index = inline_hits[index].line();
        let mut end = index;
        while end < inline_hits.len() && inline_hits[end].line() == line_index {
            end += 1;
        }
        let trimmed = lines.get(line_index).trimmed(text);
        let mut cursor = trimmed.start;
        let mut anything_left = false;
        for hit in &inline_hits[index..end] {
            anything_left |= text[cursor..hit.bytes().start].chars().any(|c| !fold::is_blank(c));
            cursor = hit.bytes().end;
        }
        anything_left |= text[cursor..trimmed.end].chars().any(|c| !fold::is_blank(c));
        if !anything_left {
            lines.remove(line_index, inline_hits[index].rule);
        }
        index = end;
    }
    remove_recurring(engine, text, scratch, evidence);
    if let Some(heuristics) = &engine.heuristics {
        apply_heuristics(engine, heuristics, text, scratch);
    }
    protect(engine, scratch);
    let Scratch { lines, inline_hits, .. } = scratch;
    inline_hits.retain(|hit| !lines.removed(hit.line()));
}

/// Corpus mode: removes every kept line held by at least `min-docs` documents
/// of the group, all copies. A document may lose at most `max-doc-share` of
/// its remaining bytes this way; lines go from the most widely shared down,
/// a whole count level at a time, and the first level that does not fit
/// stops it. A site's footer (on every page) goes first; a document whose
/// own text recurs (a syndicated or duplicated article) keeps that text.
fn remove_recurring(engine: &Engine, text: &str, scratch: &mut Scratch, evidence: &dyn LineEvidence) {
    let Some(step) = engine.corpus else {
        return;
    };
    let Scratch {
        lines,
        recurrence,
        recurrence_over,
        recurrence_levels,
        ..
    } = scratch;
    recurrence.clear();
    recurrence.resize(lines.len(), 0);
    recurrence_over.clear();
    recurrence_levels.clear();
    // The bytes of each level, found without a list of the lines: a page of
    // millions of recurring lines would hold one entry each. The levels are
    // kept in order and searched: a page holds a few (each count needs that
    // many documents), but a large group can give one thousands.
    let mut kept_bytes = 0usize;
    for (index, line) in lines.iter().enumerate() {
        if line.is_blank() || line.removed() {
            continue;
        }
        let content = line.content(text);
        kept_bytes += content.len();
        let count = evidence.recurrence(content);
        recurrence[index] = count.min(u16::MAX as u32) as u16;
        if count >= u16::MAX as u32 {
            recurrence_over.push((index as u32, count));
        }
        if count >= step.min_docs {
            match recurrence_levels.binary_search_by_key(&count, |&(level, _)| level) {
                Ok(k) => recurrence_levels[k].1 += content.len(),
                Err(k) => recurrence_levels.insert(k, (count, content.len())),
            }
        }
    }
    let allowance = step.max_doc_share * kept_bytes as f64;
    let mut removed = 0usize;
    let mut lowest_removed = None;
    // From the most widely shared level down.
    for &(count, bytes) in recurrence_levels.iter().rev() {
        if (removed + bytes) as f64 > allowance {
            break;
        }
        removed += bytes;
        lowest_removed = Some(count);
    }
    let Some(lowest_removed) = lowest_removed else {
        return;
    };
    for index in 0..lines.len() {
        if recurrence[index] != 0
            && !lines.is_blank(index)
            && !lines.removed(index)
            && count_of(recurrence, recurrence_over, index) >= lowest_removed
        {
            lines.remove(index, step.rule);
        }
    }
}

/// The documents holding line `index` (corpus mode): its `recurrence`, or,
/// where that saturates, its exact count in `over`.
fn count_of(recurrence: &[u16], over: &[(u32, u32)], index: usize) -> u32 {
    match recurrence[index] {
        u16::MAX => over
            .binary_search_by_key(&(index as u32), |&(line, _)| line)
            .map_or(u16::MAX as u32, |k| over[k].1),
        count => count as u32,
    }
}

/// Runs the heuristics on what the phrase rules left, then lets protected
/// phrases veto their removals.
fn apply_heuristics(engine: &Engine, heuristics: &Heuristics, text: &str, scratch: &mut Scratch) {
    let Scratch {
        lines,
        comment_thread,
        recurrence,
        heuristic,
        memo,
        ..
    } = scratch;
    let heuristic = heuristic.as_mut().expect("scratch made for these heuristics");
    // Corpus counts are one more feature of a line; without corpus mode they
    // are all unknown. Lent to the classifier, not copied, and taken back below.
    heuristic.recurring.clear();
    if engine.corpus.is_some() {
        std::mem::swap(&mut heuristic.recurring, recurrence);
    }
    *comment_thread = None;
    if let Some((start, rule, evidence)) = heuristics.comment_thread(text, lines, heuristic) {
        *comment_thread = Some((rule, evidence as f32));
        for index in start..lines.len() {
            if !lines.removed(index) {
                lines.remove(index, rule);
            }
        }
    }
    heuristics.classify(text, lines, heuristic, memo);
    heuristics.repeated_passages(text, lines, heuristic);
    if engine.corpus.is_some() {
        std::mem::swap(&mut heuristic.recurring, recurrence);
    }
}

/// Protected phrases: a line a heuristic or corpus mode removed goes back if
/// it matches one. Phrase rules are not vetoed: they name what they remove.
fn protect(engine: &Engine, scratch: &mut Scratch) {
    let rules = engine.rules.rules();
    let patterns = &engine.matcher.line_patterns;
    let Scratch { lines, line_hits, .. } = scratch;
    for &(index, pattern) in line_hits.iter() {
        let index = index as usize;
        let p = patterns[pattern as usize];
        if p.role != Role::Protect {
            continue;
        }
        if let Some(rule) = lines.rule(index) {
            if matches!(rules[rule as usize].kind, RuleKind::Heuristic | RuleKind::Corpus) {
                lines.keep(index);
            }
        }
    }
}

fn emit(engine: &Engine, text: &str, scratch: &mut Scratch) {
    let mut output = std::mem::take(&mut scratch.cleaned.text);
    output.clear();
    let source = SpanSource::of(engine, text, scratch);
    let rules = engine.rules.rules();
    let (mut heuristic_bytes, mut removed_bytes) = (0, 0);
    let output_lines = source.walk(|piece| match piece {
        Piece::Kept(bytes) => output.push_str(&text[bytes]),
        Piece::Newline => output.push('\n'),
        Piece::Removed { rule, bytes, .. } => {
            removed_bytes += bytes.len();
            if matches!(rules[rule as usize].kind, RuleKind::Heuristic | RuleKind::Corpus) {
                heuristic_bytes += bytes.len();
            }
        }
        Piece::Whitespace(_) => {}
    });
    let cleaned = &mut scratch.cleaned;
    cleaned.text = output;
    cleaned.input_lines = scratch.lines.len();
    cleaned.output_lines = output_lines;
    cleaned.removed_bytes = removed_bytes;
    cleaned.heuristic_bytes = heuristic_bytes;
    cleaned.removed_share = if text.is_empty() {
        0.0
    } else {
        (removed_bytes - heuristic_bytes) as f64 / text.len() as f64
    };
    cleaned.over_budget = cleaned.removed_share > engine.config.removal_budget;
}

/// One piece of a cleaned document, in input order: what the output copies,
/// what a rule removed (one line, or a cut inside one), what whitespace
/// normalisation dropped.
enum Piece {
    /// Input bytes the output copies.
    Kept(Range<usize>),
    /// A newline the output holds where the input had one (a line ending
    /// found again from its trimmed content, or the blank line kept between
    /// paragraphs).
    Newline,
    /// Bytes a rule removed, on the 1-based `line`, with its score (NaN when the rule does not score).
    Removed {
        rule: u32,
        bytes: Range<usize>,
        line: usize,
        score: f32,
    },
    /// Bytes whitespace normalisation dropped.
    Whitespace(Range<usize>),
}

/// What a cleaned document's spans are made from: its line table and what
/// the passes left beside it. The output, the removals and the whitespace
/// spans are each one walk of it ([`SpanSource::walk`]), so they agree by
/// construction, and no span is held: a document of millions of lines that
/// cannot merge into one span would otherwise hold tens of bytes a line.
#[derive(Clone, Copy)]
struct SpanSource<'a> {
    engine: &'a Engine,
    text: &'a str,
    lines: &'a LineTable,
    inline_hits: &'a [InlineHit],
    /// Corpus mode's counts, the scores of its removals ([`count_of`]).
    recurrence: &'a [u16],
    recurrence_over: &'a [(u32, u32)],
    comment_thread: Option<(u32, f32)>,
    heuristic: Option<&'a HeuristicScratch>,
}

impl<'a> SpanSource<'a> {
    fn of(engine: &'a Engine, text: &'a str, scratch: &'a Scratch) -> SpanSource<'a> {
        SpanSource {
            engine,
            text,
            lines: &scratch.lines,
            inline_hits: &scratch.inline_hits,
            recurrence: &scratch.recurrence,
            recurrence_over: &scratch.recurrence_over,
            comment_thread: scratch.comment_thread,
            heuristic: scratch.heuristic.as_ref(),
        }
    }

    /// Calls `visit` with every piece of the document, in input order;
    /// returns the output's line count.
    fn walk(&self, mut visit: impl FnMut(Piece)) -> usize {
        let SpanSource {
            engine,
            text,
            lines,
            inline_hits,
            recurrence,
            recurrence_over,
            comment_thread,
            heuristic,
        } = *self;
        let mut output_lines = 0;
        let is_content = |i: usize| !lines.removed(i) && !lines.is_blank(i);
        let first_content = (0..lines.len()).find(|&i| is_content(i));
        let last_content = (0..lines.len()).rev().find(|&i| is_content(i));

        // A removed line's score is kept by the pass that removed it, not in a
        // table of its own (four bytes a line): corpus mode's is the line's
        // count, the comment-thread cut's its evidence, the classifier's in its
        // judged lines, in order.
        let corpus_rule = engine.corpus.map(|step| step.rule);
        let score_of = |index: usize, rule: u32, judged: Option<usize>| match judged {
            Some(k) => heuristic.map_or(f32::NAN, |h| h.removal_score(k)),
            None if Some(rule) == corpus_rule => count_of(recurrence, recurrence_over, index) as f32,
            None => match comment_thread {
                Some((thread_rule, evidence)) if thread_rule == rule => evidence,
                _ => f32::NAN,
            },
        };
        let mut judged = 0;

        let mut previous_was_blank = true;
        let mut inline_cursor = 0;
        for (index, line) in lines.iter().enumerate() {
            let number = index + 1;
            let (content_end, end) = (line.content_end(text), line.end());
            let judged_index = line.judged().then(|| {
                judged += 1;
                judged - 1
            });
            match line.rule() {
                Some(rule) => visit(Piece::Removed {
                    rule,
                    bytes: line.start()..end,
                    line: number,
                    score: score_of(index, rule, judged_index),
                }),
                None if line.is_blank() => {
                    let inside = first_content.is_some_and(|f| index > f) && last_content.is_some_and(|l| index < l);
                    if inside && !previous_was_blank {
                        visit(Piece::Whitespace(line.start()..content_end));
                        visit(Piece::Newline);
                        output_lines += 1;
                        previous_was_blank = true;
                    } else {
                        visit(Piece::Whitespace(line.start()..end));
                    }
                }
                None => {
                    // Found again from the text (see `lines`): only a kept line needs it.
                    let trimmed = line.trimmed(text);
                    visit(Piece::Whitespace(line.start()..trimmed.start));
                    let mut cursor = trimmed.start;
                    while inline_cursor < inline_hits.len() && inline_hits[inline_cursor].line() < index {
                        inline_cursor += 1;
                    }
                    while inline_cursor < inline_hits.len() && inline_hits[inline_cursor].line() == index {
                        let hit = &inline_hits[inline_cursor];
                        let mut cut = hit.bytes();
                        // Cutting a word out of a sentence leaves two spaces; take one with it,
                        // unless the line's next cut starts at that space (matches side by side:
                        // taking it would cut that byte twice).
                        let next_cut = inline_hits
                            .get(inline_cursor + 1)
                            .filter(|next| next.line() == index)
                            .map(|next| next.bytes().start);
                        let space_before = cut.start > cursor && text.as_bytes()[cut.start - 1] == b' ';
                        let space_after = cut.end < trimmed.end
                            && text.as_bytes()[cut.end] == b' '
                            && next_cut.is_none_or(|start| start > cut.end);
                        if space_after && (space_before || cut.start == trimmed.start) {
                            cut.end += 1;
                        } else if space_before && cut.end == trimmed.end {
                            cut.start -= 1;
                        }
                        visit(Piece::Kept(cursor..cut.start));
                        visit(Piece::Removed {
                            rule: hit.rule,
                            bytes: cut.clone(),
                            line: number,
                            score: f32::NAN,
                        });
                        cursor = cut.end;
                        inline_cursor += 1;
                    }
                    visit(Piece::Kept(cursor..trimmed.end));
                    visit(Piece::Whitespace(trimmed.end..content_end));
                    if end > content_end {
                        visit(Piece::Newline);
                    }
                    output_lines += 1;
                    previous_was_blank = false;
                }
            }
        }
        output_lines
    }

    /// Calls `removal` with each removal in input order, adjacent lines
    /// removed by one rule as one, and `whitespace` with each whitespace
    /// span, spans that touch as one: one walk for both.
    fn for_each_span(&self, mut removal: impl FnMut(Removal), mut whitespace: impl FnMut(Range<usize>)) {
        let mut pending_removal: Option<Removal> = None;
        let mut pending_space: Option<Range<usize>> = None;
        self.walk(|piece| match piece {
            Piece::Removed {
                rule,
                bytes,
                line,
                score,
            } => {
                if bytes.is_empty() {
                    return;
                }
                let score = (!score.is_nan()).then_some(score);
                if let Some(last) = pending_removal.as_mut() {
                    // Adjacent lines removed by one rule are one span: most removals
                    // are runs of menu lines, and a span per line made provenance
                    // larger than the text. A merged span keeps its weakest line's
                    // score, so that a threshold applied to spans never removes a
                    // line that scored below it (`dechaff explain` gives each line's).
                    if last.rule == rule as usize && last.bytes.end == bytes.start && last.line_end + 1 >= line {
                        last.bytes.end = bytes.end;
                        last.line_end = line;
                        last.score = match (last.score, score) {
                            (Some(a), Some(b)) => Some(a.min(b)),
                            (a, b) => a.or(b),
                        };
                        return;
                    }
                }
                let next = Removal {
                    rule: rule as usize,
                    bytes,
                    line_start: line,
                    line_end: line,
                    score,
                };
                if let Some(done) = pending_removal.replace(next) {
                    removal(done);
                }
            }
            Piece::Whitespace(span) => {
                if span.is_empty() {
                    return;
                }
                match pending_space.as_mut() {
                    Some(last) if last.end == span.start => last.end = span.end,
                    _ => {
                        if let Some(done) = pending_space.replace(span) {
                            whitespace(done);
                        }
                    }
                }
            }
            Piece::Kept(_) | Piece::Newline => {}
        });
        if let Some(done) = pending_removal {
            removal(done);
        }
        if let Some(done) = pending_space {
            whitespace(done);
        }
    }
}

/// Puts dropped pieces `(byte_start, byte_end, text)` back between the kept
/// bytes of `output`; `None` if the pieces overlap, run past the output, or
/// a text's length disagrees with its offsets.
pub fn interleave(output: &str, mut pieces: Vec<(usize, usize, &str)>) -> Option<String> {
    pieces.sort_by_key(|&(start, _, _)| start);
    let mut rebuilt = String::with_capacity(output.len() * 2);
    let mut rest = output;
    let mut cursor = 0;
    for (start, end, text) in pieces {
        let kept = start.checked_sub(cursor)?;
        rebuilt.push_str(rest.get(..kept)?);
        rest = &rest[kept..];
        if text.len() != end - start {
            return None;
        }
        rebuilt.push_str(text);
        cursor = end;
    }
    rebuilt.push_str(rest);
    Some(rebuilt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSetBuilder;

    fn cleaner(pack: &str) -> Cleaner {
        let rules = RuleSetBuilder::new()
            .no_default_rules(true)
            .add_text("test.toml", pack)
            .build()
            .unwrap();
        CleanerBuilder::new().build(rules).unwrap()
    }

    const PACK: &str = r#"
[pack]
name = "t"
version = "1"
description = "test"

[[rule]]
id = "t.share"
description = "share label"
literals = ["Share This"]

[[rule]]
id = "t.email"
kind = "inline"
description = "cloudflare residue"
pattern = '\[email protected\]'

[[rule]]
id = "t.box"
kind = "block"
description = "box"
start = 'subscribe to .+'
end = 'you have successfully subscribed!?'
max-lines = 5

[[rule]]
id = "t.reply"
kind = "tail"
description = "comment form"
literals = ["Leave a Reply"]
"#;

    /// Rebuilds the input from the output, the removals and the whitespace spans.
    fn rebuild(input: &str, cleaned: &OwnedCleaned) -> String {
        let spans = cleaned
            .removals
            .iter()
            .map(|r| r.bytes.clone())
            .chain(cleaned.whitespace.iter().cloned());
        let pieces = spans.map(|span| (span.start, span.end, &input[span])).collect();
        interleave(&cleaned.text, pieces).expect("spans fit the output")
    }

    #[test]
    fn every_byte_is_kept_or_accounted_for() {
        let input = "  Title \r\n\n\nBody with [email\u{a0}protected] inside.\nShare\u{a0}This\n\nSubscribe to X\n\nYou have successfully subscribed!\nMore body.\n\n\nLeave a Reply\nName";
        let mut cleaner = cleaner(PACK);
        let cleaned = cleaner.clean(input).collect();
        assert_eq!(cleaned.text, "Title\n\nBody with inside.\n\nMore body.\n");
        assert_eq!(rebuild(input, &cleaned), input);
        let ids: Vec<&str> = cleaned
            .removals
            .iter()
            .map(|r| cleaner.rules().rules()[r.rule].id.as_str())
            .collect();
        assert_eq!(ids, ["t.email", "t.share", "t.box", "t.reply"]);
    }

    #[test]
    fn tail_marker_early_in_the_document_is_ignored() {
        let input = "Leave a Reply\nbody one\nbody two\nbody three\n";
        let mut cleaner = cleaner(PACK);
        assert_eq!(cleaner.clean(input).text, input);
    }

    #[test]
    fn unterminated_block_removes_nothing() {
        let input = "a\nSubscribe to X\nb\nc\nd\ne\nf\nYou have successfully subscribed\n";
        let mut cleaner = cleaner(PACK);
        assert!(cleaner.clean(input).removals().is_empty());
    }

    /// Counts of a made-up group, by normalised line.
    struct Counts(&'static [(&'static str, u32)]);

    impl LineEvidence for Counts {
        fn recurrence(&self, line: &str) -> u32 {
            let key = crate::corpus::normalize(line);
            self.0.iter().find(|(l, _)| *l == key).map_or(0, |&(_, n)| n)
        }
    }

    fn corpus_cleaner(max_doc_share: f64) -> Cleaner {
        let settings = crate::corpus::CorpusSettings {
            max_doc_share,
            ..Default::default()
        };
        let rules = RuleSetBuilder::new()
            .no_default_rules(true)
            .add_text("test.toml", PACK)
            .corpus(settings)
            .build()
            .unwrap();
        CleanerBuilder::new().build(rules).unwrap()
    }

    #[test]
    fn recurring_lines_go_after_the_phrase_rules_with_their_counts() {
        let input = "Site Menu\nShare This\nA story of its own.\nsite menu!\nFooter 2012\nOnce elsewhere\n";
        let counts = Counts(&[
            ("site menu", 40),
            ("share this", 40),
            ("footer 0", 7),
            ("once elsewhere", 2),
        ]);
        let mut cleaner = corpus_cleaner(0.9);
        let cleaned = cleaner.clean_with(input, &counts).collect();
        assert_eq!(cleaned.text, "A story of its own.\nOnce elsewhere\n");
        assert_eq!(rebuild(input, &cleaned), input);
        let rules = cleaner.rules();
        let removed: Vec<(&str, Option<f32>, usize, usize)> = cleaned
            .removals
            .iter()
            .map(|r| (rules.rules()[r.rule].id.as_str(), r.score, r.line_start, r.line_end))
            .collect();
        // The share label is the phrase rule's; both copies of the menu go;
        // the second menu and the footer below it are one span, with the
        // lower of their counts.
        assert_eq!(
            removed,
            [
                ("corpus.recurring", Some(40.0), 1, 1),
                ("t.share", None, 2, 2),
                ("corpus.recurring", Some(7.0), 4, 5),
            ]
        );
        // Without evidence, corpus mode removes nothing.
        assert_eq!(cleaner.clean(input).removals().len(), 1);
    }

    #[test]
    fn the_document_share_cap_stops_at_the_first_count_level_that_does_not_fit() {
        // 4 + 59 of 67 bytes would pass 90 %: the menu goes, the paragraph stays.
        let input = "Menu\nA duplicated paragraph, long enough to be most of the page.\nOurs\n";
        let counts = Counts(&[
            ("menu", 50),
            ("a duplicated paragraph long enough to be most of the page", 3),
        ]);
        let mut cleaner = corpus_cleaner(0.9);
        assert_eq!(
            cleaner.clean_with(input, &counts).text,
            "A duplicated paragraph, long enough to be most of the page.\nOurs\n"
        );
        let mut uncapped = corpus_cleaner(1.0);
        assert_eq!(uncapped.clean_with(input, &counts).text, "Ours\n");
    }

    /// Regression: an inline rule limited to the top of the document, with a
    /// pattern whose search scans to the end of the line before it settles
    /// on a short match, made every line below the window quadratic: each
    /// match it could not use restarted the search one character further.
    #[test]
    fn inline_rule_outside_its_window_costs_one_pass_per_line() {
        let pack = "[pack]\nname = \"q\"\nversion = \"1\"\ndescription = \"test\"\n\n\
                    [[rule]]\nid = \"q.run\"\nkind = \"inline\"\ndescription = \"a run of b\"\n\
                    pattern = 'b+c|b'\nmax-position = 0.0\n";
        let mut cleaner = cleaner(pack);
        let input = format!("x\n{}\n", "b".repeat(200_000));
        let started = std::time::Instant::now();
        assert_eq!(cleaner.clean(&input).text, input);
        // Quadratic, this took hours; linear, well under a second even unoptimised.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn empty_and_blank_documents() {
        let mut cleaner = cleaner(PACK);
        assert_eq!(cleaner.clean("").text, "");
        let cleaned = cleaner.clean(" \n\t\n").collect();
        assert_eq!(cleaned.text, "");
        assert_eq!(rebuild(" \n\t\n", &cleaned), " \n\t\n");
    }

    #[test]
    fn inline_matches_side_by_side_are_each_cut_once() {
        // Five characters at a time: each match ends where the next begins,
        // some of them at a space a cut would otherwise take with it.
        let mut cleaner = cleaner(
            r#"
[pack]
name = "t"
version = "1"
description = "test"

[[rule]]
id = "t.five"
kind = "inline"
description = "any five characters"
pattern = '.....'
"#,
        );
        for text in [
            "Body text with [email protected] inside.\n",
            "Title\n\nShare This\nLeave a Reply\nName\n",
        ] {
            let cleaned = cleaner.clean(text).collect();
            let mut cuts: Vec<Range<usize>> = cleaned.removals.iter().map(|r| r.bytes.clone()).collect();
            cuts.extend(cleaned.whitespace.iter().cloned());
            cuts.sort_by_key(|r| r.start);
            for pair in cuts.windows(2) {
                assert!(pair[0].end <= pair[1].start, "{text:?}: {pair:?} overlap");
            }
            let pieces = cuts.iter().map(|r| (r.start, r.end, &text[r.clone()])).collect();
            assert_eq!(interleave(&cleaned.text, pieces).as_deref(), Some(text), "{text:?}");
        }
    }
}
