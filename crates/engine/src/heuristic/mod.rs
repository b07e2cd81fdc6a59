//! Structural heuristics: judging lines by their shape when no phrase rule knows them.
//!
//! Phrase rules catch the boilerplate people have written down; most of a
//! scraped page's chaff is a site's own menu, footer and link lists, which
//! only their shape gives away. This module holds the heuristics that
//! `kind = "heuristic"` rules configure, run after the phrase rules on what
//! they left:
//!
//! - **comment-thread**: a comment section's heading ("12 Comments", "Leave
//!   a Reply") below the article, confirmed by comment furniture ("Reply",
//!   "says:", time stamps) in the lines after it, cuts the rest of the page;
//! - **line-classifier**: in the spirit of jusText, but for plain text. Each
//!   line gets a first score from a linear model over its own features (length,
//!   stop-word density in the page's language, final punctuation, capitals,
//!   digits, URL/date/menu shapes, position) and its neighbours'; then a
//!   second linear model rescores it from the first scores around it and from
//!   where it stands relative to the page's main region, the run of lines with
//!   the largest total content score. Short lines inside the region (headings,
//!   captions) are carried by the good lines around them, and short runs at
//!   the edges go. A line whose second score is at or below the threshold is
//!   removed, and provenance records its probability of being boilerplate;
//! - **repeated-passage**: a passage the page prints a second time (a post
//!   again under its comments) goes the second time.
//!
//! Both models' weights are data, fitted by `tools/fit-heuristics.py`. The
//! classifier never empties a page: when it would leave no line of prose,
//! it keeps the main region instead (see [`crate::clean`]).

pub(crate) mod features;
mod repeated;
mod stopwords;

use std::collections::VecDeque;

use regex_automata::meta::{self, Regex};
use regex_automata::util::syntax;
use regex_automata::{Input, MatchKind, PatternSet};

#[cfg(test)]
use features::WORDS;
use features::{COMMENT_META, NEIGHBOUR, NEXT, PREV, RECURRING, REPEATS, RULE_REMOVED_NEAR, TERMINAL};
pub use features::{CONTEXT_COUNT, CONTEXT_FEATURES, LINE_COUNT, LINE_FEATURES};
use stopwords::StopWords;

use crate::error::{Error, ErrorKind, Result};

/// A linear model over named features, as written in a rule file: each
/// feature is standardised with its mean and scale, then weighted.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearModel {
    /// The intercept.
    pub bias: f32,
    /// `(mean, scale, weight)` per feature, in the order of the feature list.
    pub terms: Vec<(f32, f32, f32)>,
}

impl LinearModel {
    /// Reads `[name, mean, scale, weight]` rows: `bias` once (its mean and
    /// scale are ignored), and every name of `names` exactly once.
    pub fn from_rows(rows: &[(String, f64, f64, f64)], names: &[&str]) -> std::result::Result<LinearModel, String> {
        let mut bias = None;
        let mut terms: Vec<Option<(f32, f32, f32)>> = vec![None; names.len()];
        for (name, mean, scale, weight) in rows {
            // Checked as the model holds them, in f32: 1e39 is a finite f64
            // and an infinite f32, and one NaN or infinity makes every score
            // NaN, which silently turned the classifier off.
            let finite = |value: f64| (value as f32).is_finite();
            if name == "bias" {
                if !finite(*weight) {
                    return Err(format!("weight \"bias\" must be a finite number, not {weight}"));
                }
                if bias.replace(*weight as f32).is_some() {
                    return Err("weight \"bias\" is given twice".into());
                }
                continue;
            }
            let Some(index) = names.iter().position(|n| n == name) else {
                return Err(format!("unknown feature {name:?}; known: bias, {}", names.join(", ")));
            };
            if !(*scale as f32 > 0.0 && finite(*scale) && finite(*mean) && finite(*weight)) {
                return Err(format!(
                    "feature {name:?}: scale must be positive and every number finite"
                ));
            }
            if terms[index]
                .replace((*mean as f32, *scale as f32, *weight as f32))
                .is_some()
            {
                return Err(format!("feature {name:?} is given twice"));
            }
        }
        let missing: Vec<&str> = names
            .iter()
            .zip(&terms)
            .filter(|(_, t)| t.is_none())
            .map(|(n, _)| *n)
            .collect();
        if !missing.is_empty() {
            return Err(format!("features without a weight: {}", missing.join(", ")));
        }
        Ok(LinearModel {
            bias: bias.ok_or("no \"bias\" row")?,
            terms: terms.into_iter().map(Option::unwrap).collect(),
        })
    }

    /// The model's score of `x` (a log-odds of content).
    pub fn score(&self, x: &[f32]) -> f32 {
        self.bias
            + self
                .terms
                .iter()
                .zip(x)
                .map(|(&(mean, scale, weight), &value)| weight * (value - mean) / scale)
                .sum::<f32>()
    }
}

/// What one `kind = "heuristic"` rule does, with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Heuristic {
    /// The line classifier.
    LineClassifier {
        /// A line whose second score (log-odds of content) is at or below this goes.
        threshold: f32,
        /// The first model, over [`LINE_FEATURES`].
        line: LinearModel,
        /// The second model, over [`CONTEXT_FEATURES`].
        context: LinearModel,
    },
    /// The comment-section cut.
    CommentThread {
        /// Whole-line pattern of a comment section's heading, folded.
        header: String,
        /// Pattern found anywhere in a line of comment furniture, folded.
        furniture: String,
        /// How many lines after the heading are searched for furniture.
        window: usize,
        /// How many furniture lines confirm the heading.
        min_count: usize,
    },
    /// The repeated-passage cut.
    RepeatedPassage {
        /// How many lines, kept in both copies, a repeated run must hold.
        min_lines: usize,
    },
}

impl Heuristic {
    /// The name used in rule files (`heuristic = "…"`).
    pub fn name(&self) -> &'static str {
        match self {
            Heuristic::LineClassifier { .. } => "line-classifier",
            Heuristic::CommentThread { .. } => "comment-thread",
            Heuristic::RepeatedPassage { .. } => "repeated-passage",
        }
    }
}

/// Lines of at least this many words count as prose for the comment cut
/// (two must stand above a comment heading) and for the never-empty guard.
pub(crate) const PROSE_WORDS: u32 = 12;

/// The classifier never removes a line of at least this many words that
/// ends as a sentence does; teasers and comments of that length are left to
/// the phrase rules, corpus mode and the comment cuts.
pub(crate) const SENTENCE_WORDS: u32 = 20;

use crate::lines::line_hash;
/// One line of the document: the cleaner's line table, which the
/// heuristics read as it is (a copy of it for them took 32 bytes a line).
pub(crate) use crate::lines::{Line, LineTable};
use crate::memo;

/// The memo of line answers, with what the classifier counts of a line.
pub(crate) type LineMemo = memo::LineMemo<LineTraits>;

/// What the workers of one engine share of it.
pub(crate) type SharedMemo = memo::SharedMemo<LineTraits>;

/// The line classifier's threshold and its two models.
type Classifier = (f32, LinearModel, LinearModel);

/// The heuristic rules of a rule set, compiled.
#[derive(Debug)]
pub(crate) struct Heuristics {
    stop: StopWords,
    shapes: Regex,
    /// `(rule index, weights)` of the line classifier, if one is in force.
    classifier: Option<(u32, Box<Classifier>)>,
    /// `(rule index, header, furniture, window, min count)` of each comment cut.
    comment_threads: Vec<(u32, Regex, Regex, usize, usize)>,
    /// `(rule index, min lines)` of the repeated-passage cut, if one is in force.
    repeated: Option<(u32, usize)>,
}

fn compile(pattern: &str, anchored_line: bool) -> Result<Regex> {
    let pattern = pattern.replace(r"\b", r"(?-u:\b)");
    let pattern = if anchored_line {
        format!("^(?:{pattern})$")
    } else {
        pattern
    };
    Regex::builder()
        .syntax(syntax::Config::new().case_insensitive(true))
        .build(&pattern)
        .map_err(|e| Error::new(ErrorKind::RulesTooLarge(e.to_string())))
}

impl Heuristics {
    /// Compiles the heuristic rules among `rules` (`(index, heuristic)`);
    /// `None` when there are none.
    pub(crate) fn compile<'a>(rules: impl Iterator<Item = (u32, &'a Heuristic)>) -> Result<Option<Heuristics>> {
        let mut classifier = None;
        let mut comment_threads = Vec::new();
        let mut repeated = None;
        for (index, heuristic) in rules {
            match heuristic {
                Heuristic::LineClassifier {
                    threshold,
                    line,
                    context,
                } => {
                    // One classifier judges each line; a second would only
                    // be a second opinion nobody asked for, so the first wins.
                    if classifier.is_none() {
                        classifier = Some((index, Box::new((*threshold, line.clone(), context.clone()))));
                    }
                }
                Heuristic::CommentThread {
                    header,
                    furniture,
                    window,
                    min_count,
                } => comment_threads.push((
                    index,
                    compile(header, true)?,
                    compile(furniture, false)?,
                    *window,
                    *min_count,
                )),
                // One cut removes a copy once; a second would find none left.
                Heuristic::RepeatedPassage { min_lines } => {
                    repeated.get_or_insert((index, *min_lines));
                }
            }
        }
        if classifier.is_none() && comment_threads.is_empty() && repeated.is_none() {
            return Ok(None);
        }
        let shapes: Vec<String> = features::SHAPES
            .iter()
            .map(|(_, p)| p.replace(r"\b", r"(?-u:\b)"))
            .collect();
        // ASCII classes: the shapes are digits, Latin month names and ASCII
        // punctuation, and Unicode `\d`, `\s` and `\b` would make the lazy
        // DFA's states many times larger for nothing.
        let shapes = Regex::builder()
            .syntax(syntax::Config::new().case_insensitive(true).unicode(false))
            .configure(
                meta::Config::new()
                    .match_kind(MatchKind::All)
                    .hybrid_cache_capacity(16 << 20),
            )
            .build_many(&shapes)
            .map_err(|e| Error::new(ErrorKind::RulesTooLarge(e.to_string())))?;
        Ok(Some(Heuristics {
            stop: StopWords::new(),
            shapes,
            classifier,
            comment_threads,
            repeated,
        }))
    }
}

/// A worker's buffers for the heuristics. Per line of a document they hold
/// a few bytes (a candidate's first score, word count and two flags; a line
/// hash per distinct line): the line features are scored as they are made,
/// with a window of two candidates for the neighbour features, and the
/// context features as they are needed. Keeping every candidate's 45
/// features took 200 bytes a line, gigabytes for a file of a few million
/// short lines.
#[derive(Debug)]
pub(crate) struct HeuristicScratch {
    shape_cache: meta::Cache,
    header_caches: Vec<(meta::Cache, meta::Cache)>,
    patterns: PatternSet,
    /// Per candidate, in line order: what the context model and the guards
    /// need once its line features are scored; once it is judged, its
    /// removal score.
    scored: ScoredLines,
    /// When set, every candidate's features and scores are kept below, for
    /// [`crate::Cleaner::judged_lines`] (fitting the model wants them).
    pub keep: bool,
    /// Indices of the lines the classifier judged (kept with `keep`).
    pub candidates: Vec<usize>,
    /// Per candidate: line features (kept with `keep`).
    pub line_features: Vec<[f32; LINE_COUNT]>,
    /// Per candidate: context features (kept with `keep`).
    pub context_features: Vec<[f32; CONTEXT_COUNT]>,
    /// Per candidate: the final score, log-odds of content (kept with `keep`).
    pub second: Vec<f32>,
    /// Per line of the document: how many documents of the page's group hold
    /// the line (corpus mode), saturating at 65,535 (its logarithm is the
    /// feature: 11.1 there); 0 or absent when unknown. The caller fills it
    /// before [`Heuristics::classify`]. Two bytes a line: on a page of
    /// one-byte lines four would be two more times its size.
    pub recurring: Vec<u16>,
    /// The stop-word languages of one line's words.
    line_words: Vec<u32>,
    /// Lines per line hash, sized by the distinct lines.
    hash_counts: HashCounts,
    /// The stop-word languages (bits) of the page's first [`LANGUAGE_WORDS`]
    /// words, in line order, removed lines' included.
    word_languages: Vec<u32>,
    /// The page's language, as the bit of its stop-word list.
    language: u32,
    /// The first line of each distinct prose line, for the repeated-passage cut.
    first_lines: repeated::FirstLines,
}

/// What is kept of a candidate line once its line features are scored.
#[derive(Debug, Clone, Copy)]
struct Scored {
    /// The line model's score; once the context model has judged the line
    /// and no other line's context reads it, its removal score (NaN if kept).
    first: f32,
    /// The word count in the low 14 bits, then whether the line ends as a
    /// sentence does, then its comment-meta feature (a shape, 0 or 1, which
    /// the context model averages around a line). The count saturates at
    /// 16,383 words: a line that long outweighs any window it stands in,
    /// and every test of a count is for a few dozen words.
    words_and_flags: u16,
}

impl Scored {
    const WORDS: u16 = (1 << 14) - 1;
    const TERMINAL: u16 = 1 << 14;
    const COMMENT_META: u16 = 1 << 15;

    fn new(first: f32, words: u32, terminal: bool, comment_meta: bool) -> Scored {
        let flags = if terminal { Scored::TERMINAL } else { 0 } | if comment_meta { Scored::COMMENT_META } else { 0 };
        Scored {
            first,
            words_and_flags: words.min(u32::from(Scored::WORDS)) as u16 | flags,
        }
    }

    fn words(self) -> u32 {
        u32::from(self.words_and_flags & Scored::WORDS)
    }

    fn terminal(self) -> bool {
        self.words_and_flags & Scored::TERMINAL != 0
    }

    fn comment_meta(self) -> f32 {
        if self.words_and_flags & Scored::COMMENT_META != 0 {
            1.0
        } else {
            0.0
        }
    }
}

/// Every candidate's [`Scored`], in line order, in two arrays: six bytes a
/// line, where one array of the struct took eight. With the line table's
/// eight, a page of one-byte lines costs 8× its size.
#[derive(Debug, Default)]
struct ScoredLines {
    first: Vec<f32>,
    words_and_flags: Vec<u16>,
}

impl ScoredLines {
    fn push(&mut self, scored: Scored) {
        self.first.push(scored.first);
        self.words_and_flags.push(scored.words_and_flags);
    }

    fn get(&self, k: usize) -> Scored {
        Scored {
            first: self.first[k],
            words_and_flags: self.words_and_flags[k],
        }
    }

    fn len(&self) -> usize {
        self.first.len()
    }

    fn is_empty(&self) -> bool {
        self.first.is_empty()
    }

    fn clear(&mut self) {
        self.first.clear();
        self.words_and_flags.clear();
    }

    fn reserve_exact(&mut self, additional: usize) {
        self.first.reserve_exact(additional);
        self.words_and_flags.reserve_exact(additional);
    }

    fn release_excess(&mut self) {
        crate::lines::release(&mut self.first);
        crate::lines::release(&mut self.words_and_flags);
    }
}

impl HeuristicScratch {
    /// The score the classifier gave the `k`th line it judged in the last
    /// document, if it removed it: the probability of boilerplate.
    pub(crate) fn removal_score(&self, k: usize) -> f32 {
        self.scored.first[k]
    }

    /// Gives back the per-line buffers a long document grew (see [`crate::lines::release`]).
    pub(crate) fn release_excess(&mut self) {
        use crate::lines::release;
        self.scored.release_excess();
        release(&mut self.candidates);
        release(&mut self.line_features);
        release(&mut self.context_features);
        release(&mut self.second);
        release(&mut self.recurring);
        release(&mut self.line_words);
        self.hash_counts.release_excess();
        release(&mut self.word_languages);
        self.first_lines.release_excess();
    }

    pub(crate) fn new(heuristics: &Heuristics) -> HeuristicScratch {
        HeuristicScratch {
            shape_cache: heuristics.shapes.create_cache(),
            header_caches: heuristics
                .comment_threads
                .iter()
                .map(|(_, h, f, _, _)| (h.create_cache(), f.create_cache()))
                .collect(),
            patterns: PatternSet::new(heuristics.shapes.pattern_len()),
            scored: ScoredLines::default(),
            keep: false,
            candidates: Vec::new(),
            line_features: Vec::new(),
            context_features: Vec::new(),
            second: Vec::new(),
            recurring: Vec::new(),
            line_words: Vec::new(),
            hash_counts: HashCounts::default(),
            word_languages: Vec::new(),
            language: 0,
            first_lines: repeated::FirstLines::default(),
        }
    }
}

impl Heuristics {
    /// The first comment heading that a comment-thread rule confirms:
    /// `(line, rule, furniture lines found)`. The heading must stand below
    /// prose that no rule removed: two lines of `PROSE_WORDS`, or one
    /// paragraph of 50 words, at least one ending as a sentence does. The heading itself may be one a
    /// phrase rule removed ("270 Comments" is in the comments pack): it still
    /// marks where the thread starts, and skipping it left whole threads in.
    pub(crate) fn comment_thread(
        &self,
        text: &str,
        lines: &LineTable,
        scratch: &mut HeuristicScratch,
    ) -> Option<(usize, u32, usize)> {
        if self.comment_threads.is_empty() {
            return None;
        }
        let mut prose_above = 0;
        // At least one prose line above must end as a sentence does: a list of
        // headlines ("6 hrs ago Why Build is Microsoft's most important event
        // ever") above an "Add a Comment" box is no article, and the article
        // may follow the box.
        let mut sentences_above = 0;
        // One long paragraph is an article too (Slashdot's summary is one line).
        let mut prose_words_above = 0;
        // The counts above only grow, so once they allow a heading they
        // always will, and the lines below need no more counting: counting
        // the words of every line was most of this pass's time.
        let mut armed = false;
        let mut recurring_headings = 0;
        for (index, line) in lines.iter().enumerate() {
            if line.is_blank() {
                continue;
            }
            let content = line.content(text);
            if armed && content.len() <= 200 {
                for ((rule, header, furniture, window, min_count), (header_cache, furniture_cache)) in
                    self.comment_threads.iter().zip(scratch.header_caches.iter_mut())
                {
                    let below = || lines.range(index + 1..lines.len());
                    if !matches(header, header_cache, content) {
                        continue;
                    }
                    // The thread first: it reads `window` lines, the heading's
                    // recurrence the rest of the page.
                    let (found, comments) =
                        thread_structure(text, below(), *window, |l| matches(furniture, furniture_cache, l));
                    if found < *min_count || comments < 2 {
                        continue;
                    }
                    if a_thread_heading(content, text, below()) {
                        return Some((index, *rule, found));
                    }
                    // On a page of comments each with its byline every byline
                    // is a heading, and reading to the page's end from each was
                    // quadratic; a page whose headings recur this often is a
                    // page of posts, and keeping it whole is the safe failure.
                    recurring_headings += 1;
                    if recurring_headings >= MOST_RECURRING_HEADINGS {
                        return None;
                    }
                }
            }
            if armed || line.removed() {
                continue;
            }
            let words = features::count_words(content, 50);
            if words >= PROSE_WORDS as usize {
                prose_above += 1;
                prose_words_above += words;
                sentences_above += features::ends_a_sentence(content) as usize;
                armed = (prose_above >= 2 || prose_words_above >= 50) && sentences_above >= 1;
            }
        }
        None
    }

    /// Removes the later copy of every passage the page prints twice (see
    /// the `repeated` module); run on what the other heuristics left.
    pub(crate) fn repeated_passages(&self, text: &str, lines: &mut LineTable, scratch: &mut HeuristicScratch) {
        if let Some((rule, min_lines)) = self.repeated {
            // The classifier has counted the page's line hashes; without it
            // they are counted here.
            if self.classifier.is_none() {
                count_line_hashes(text, lines, &mut scratch.hash_counts);
            }
            repeated::remove_repeated_passages(
                text,
                lines,
                rule,
                min_lines,
                &scratch.hash_counts,
                &mut scratch.first_lines,
            );
        }
    }

    /// Scores every non-blank line that is not removed yet, marks it
    /// judged, and marks those it judges boilerplate removed in `lines`, with
    /// their score (the probability of boilerplate) left for
    /// [`HeuristicScratch::removal_score`]: in place, as a list of the
    /// removals took 12 bytes a line more on a page of millions of lines.
    /// `scratch.recurring` may hold corpus counts per line of the document.
    pub(crate) fn classify(
        &self,
        text: &str,
        lines: &mut LineTable,
        scratch: &mut HeuristicScratch,
        memo: &mut LineMemo,
    ) {
        let Some((rule, weights)) = &self.classifier else {
            return;
        };
        let (threshold, line_model, context_model) = &**weights;
        self.score_lines(text, lines, scratch, memo, line_model);
        let HeuristicScratch {
            scored,
            keep,
            context_features,
            second,
            ..
        } = scratch;
        context_features.clear();
        second.clear();
        let region = main_region(scored);
        let mut kept_prose = false;
        let mut region_lines = (usize::MAX, 0);
        // A candidate's first score gives way to its removal score (NaN when
        // kept) once no context window reaches it: CONTEXT_REACH candidates on.
        let mut settled: VecDeque<f32> = VecDeque::with_capacity(CONTEXT_REACH + 1);
        let mut k = 0;
        for index in 0..lines.len() {
            if lines.is_blank(index) || lines.removed(index) {
                continue;
            }
            lines.mark_judged(index);
            let c = context_of(scored, region, k);
            let z = context_model.score(&c);
            if *keep {
                context_features.push(c);
                second.push(z);
            }
            if region.0 <= k && k <= region.1 {
                region_lines = (region_lines.0.min(index), index);
            }
            let candidate = scored.get(k);
            // A full sentence is prose wherever it stands: a model fitted on
            // one kind of page scored the paragraphs of other kinds (a
            // tutorial, a review, an article at the page's foot) as chaff.
            let sentence = candidate.words() >= SENTENCE_WORDS && candidate.terminal();
            if z <= *threshold && !sentence {
                lines.remove(index, *rule);
                settled.push_back(1.0 / (1.0 + z.exp()));
            } else {
                settled.push_back(f32::NAN);
            }
            if settled.len() > CONTEXT_REACH {
                let done = k - CONTEXT_REACH;
                scored.first[done] = settled.pop_front().expect("more than CONTEXT_REACH settled");
            }
            kept_prose |= z > *threshold && candidate.words() >= PROSE_WORDS;
            k += 1;
        }
        for (done, score) in (k - settled.len()..k).zip(settled) {
            scored.first[done] = score;
        }
        // Never empty a page: when nothing of prose would be left, keep the
        // main region (the lines the context model saw as inside it) instead.
        // No other rule has this one's index, so what it marks is what it removed.
        if !kept_prose && !scored.is_empty() && region_lines.0 <= region_lines.1 {
            for index in region_lines.0..=region_lines.1 {
                if lines.rule(index) == Some(*rule) {
                    lines.keep(index);
                }
            }
        }
    }

    /// Scores the line features of every candidate, in line order, into
    /// `scratch.scored` (and, with `scratch.keep`, keeps them).
    fn score_lines(
        &self,
        text: &str,
        lines: &LineTable,
        scratch: &mut HeuristicScratch,
        memo: &mut LineMemo,
        line_model: &LinearModel,
    ) {
        let HeuristicScratch {
            shape_cache,
            patterns,
            scored,
            keep,
            candidates,
            line_features,
            recurring,
            line_words,
            hash_counts,
            word_languages,
            language,
            ..
        } = scratch;
        scored.clear();
        // At most a line each; reserved at once rather than grown by copying.
        scored.reserve_exact(lines.len());
        candidates.clear();
        line_features.clear();

        // The page's language, from the stop-word look-ups of its first
        // LANGUAGE_WORDS words in line order, removed lines' included.
        word_languages.clear();
        for (index, line) in lines.iter().enumerate().filter(|(_, l)| !l.is_blank()) {
            if word_languages.len() >= LANGUAGE_WORDS {
                break;
            }
            let content = line.content(text);
            if line.removed() {
                features::bare_words(content, |bare| {
                    word_languages.push(self.stop.languages(bare));
                    word_languages.len() < LANGUAGE_WORDS
                });
            } else {
                self.traits_of(index, content, memo, shape_cache, patterns, line_words);
                word_languages.extend_from_slice(line_words);
            }
        }
        *language = page_language(&word_languages[..word_languages.len().min(LANGUAGE_WORDS)]);

        // Lines repeated within the page (every "Reply", every "Share"):
        // each line's hash is counted in a table (open addressing, at most
        // half full, grown by doubling), so a line's copies are its hash's
        // count. The table grows with the distinct lines, not with all of
        // them: a million copies of one line take one slot.
        count_line_hashes(text, lines, hash_counts);

        let len = text.len().max(1) as f32;
        // The candidate before this one, waiting for its next neighbour's features.
        let mut pending: Option<([f32; LINE_COUNT], u32, usize)> = None;
        let mut finish = |x: [f32; LINE_COUNT], words: u32, index: usize| {
            // The comment-meta feature is a shape's flag: 0 or 1.
            debug_assert!(x[COMMENT_META] == 0.0 || x[COMMENT_META] == 1.0);
            scored.push(Scored::new(
                line_model.score(&x),
                words,
                x[TERMINAL] > 0.0,
                x[COMMENT_META] > 0.0,
            ));
            if *keep {
                line_features.push(x);
                candidates.push(index);
            }
        };
        for (index, line) in lines.iter().enumerate() {
            if line.is_blank() || line.removed() {
                continue;
            }
            let content = line.content(text);
            let LineTraits { mut counts, shapes } =
                self.traits_of(index, content, memo, shape_cache, patterns, line_words);
            counts.stops = features::count_stops(line_words, *language);
            let mut x = [0.0f32; LINE_COUNT];
            features::own_features(&counts, line.start() as f32 / len, &mut x);
            for (shape, &(feature, _)) in features::SHAPES.iter().enumerate() {
                if shapes & (1 << shape) != 0 {
                    x[feature] = 1.0;
                }
            }
            // Comment furniture ("Ann says:", "May 3, 2012 at 10:41 am") is a
            // short line; a paragraph that mentions a time ("he needed a
            // 61:25 second half") is prose, and flagging it made whole
            // race reports look like comment threads.
            if counts.words >= PROSE_WORDS {
                x[COMMENT_META] = 0.0;
            }
            let copies = hash_counts.copies(line_hash(content.as_bytes()));
            x[REPEATS] = (copies as f32).ln();
            let near =
                |range: std::ops::Range<usize>| lines.range(range).filter(|l| l.removed() && !l.is_blank()).count();
            x[RULE_REMOVED_NEAR] =
                (near(index.saturating_sub(3)..index) + near(index + 1..(index + 4).min(lines.len()))) as f32;
            // ln(documents holding the line): 0 for a line only this page has, and
            // for every line outside corpus mode, so the weight moves nothing there.
            x[RECURRING] = recurring.get(index).map_or(0.0, |&r| (r.max(1) as f32).ln());
            // The neighbour features: this line's of the one before, and the
            // one before's of this one, which completes it.
            if let Some((mut before, words, before_index)) = pending.take() {
                for (slot, &feature) in NEIGHBOUR.iter().enumerate() {
                    x[PREV + slot] = before[feature];
                    before[NEXT + slot] = x[feature];
                }
                finish(before, words, before_index);
            }
            pending = Some((x, counts.words, index));
        }
        if let Some((last, words, index)) = pending {
            finish(last, words, index);
        }
    }
}

/// What the classifier counts of a line by itself, remembered per line text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineTraits {
    pub counts: features::LineCounts,
    /// Bit `i` set when shape `i` matched.
    pub shapes: u32,
}

// A line's shapes are remembered as the bits of a `u32`.
const _: () = assert!(features::SHAPES.len() <= 32);

impl Heuristics {
    /// What the classifier counts of `line`, line `index` of the document,
    /// by itself, from the memo when the worker has counted the same text
    /// before; its words' stop-word languages are left in `words`.
    fn traits_of(
        &self,
        index: usize,
        line: &str,
        memo: &mut LineMemo,
        shape_cache: &mut meta::Cache,
        patterns: &mut PatternSet,
        words: &mut Vec<u32>,
    ) -> LineTraits {
        words.clear();
        let entry = memo.line_entry(index, line);
        if let Some((traits, known)) = entry.and_then(|id| memo.traits(id)) {
            words.extend_from_slice(known);
            return traits;
        }
        let counts = features::count_line(line, &self.stop, words);
        patterns.clear();
        self.shapes
            .which_overlapping_matches_with(shape_cache, &Input::new(line), patterns);
        let shapes = patterns.iter().fold(0u32, |bits, shape| bits | 1 << shape.as_usize());
        let traits = LineTraits { counts, shapes };
        if let Some(id) = entry {
            memo.set_traits(id, traits, words);
        }
        traits
    }
}

#[cfg(test)]
impl Heuristics {
    /// The line features alone, kept: what the tests look at.
    fn features(&self, text: &str, lines: &LineTable, scratch: &mut HeuristicScratch) {
        let (_, weights) = self.classifier.as_ref().expect("a classifier");
        scratch.keep = true;
        self.score_lines(text, lines, scratch, &mut LineMemo::default(), &weights.1);
    }
}

/// An open-addressing table from a line hash (or half of one) to a `u32`
/// that is never 0 in a used slot: a power of two long and at most half
/// full, grown by doubling, in two arrays rather than one of pairs (twelve
/// bytes a slot, not sixteen, on a page of millions of distinct lines).
#[derive(Debug, Default)]
pub(crate) struct HashSlots<K> {
    keys: Vec<K>,
    /// The slot's value; 0 marks a free slot.
    values: Vec<u32>,
    used: usize,
}

/// A key of [`HashSlots`]: a hash, whose top bits pick its first slot.
pub(crate) trait SlotKey: Copy + Default + Eq {
    fn home(self, bits: u32) -> usize;
}

impl SlotKey for u64 {
    fn home(self, bits: u32) -> usize {
        (self >> (64 - bits)) as usize
    }
}

impl SlotKey for u32 {
    fn home(self, bits: u32) -> usize {
        (self >> (32 - bits)) as usize
    }
}

impl<K: SlotKey> HashSlots<K> {
    /// Empties the table, `slots` long (a power of two).
    pub(crate) fn reset(&mut self, slots: usize) {
        self.keys.clear();
        self.keys.resize(slots, K::default());
        self.values.clear();
        self.values.resize(slots, 0);
        self.used = 0;
    }

    /// The slot of `key`: its own, or the free one where it goes.
    fn slot(&self, key: K) -> usize {
        let mut slot = key.home(self.keys.len().trailing_zeros());
        while self.values[slot] != 0 && self.keys[slot] != key {
            slot = (slot + 1) & (self.keys.len() - 1);
        }
        slot
    }

    /// The value of `key`; 0 when it has none.
    pub(crate) fn get(&self, key: K) -> u32 {
        self.values[self.slot(key)]
    }

    /// The value of `key`, to set: 0 for a key new to the table, which the
    /// caller must set to something else.
    pub(crate) fn value_mut(&mut self, key: K) -> &mut u32 {
        let mut slot = self.slot(key);
        if self.values[slot] == 0 {
            self.used += 1;
            if self.used * 2 > self.keys.len() {
                let size = self.keys.len() * 2;
                let keys = std::mem::replace(&mut self.keys, vec![K::default(); size]);
                let values = std::mem::replace(&mut self.values, vec![0; size]);
                for (key, value) in keys.into_iter().zip(values).filter(|&(_, value)| value != 0) {
                    let free = self.slot(key);
                    self.keys[free] = key;
                    self.values[free] = value;
                }
                slot = self.slot(key);
            }
            self.keys[slot] = key;
        }
        &mut self.values[slot]
    }

    /// Gives back what a long document grew (see [`crate::lines::release`]).
    pub(crate) fn release_excess(&mut self) {
        crate::lines::release(&mut self.keys);
        crate::lines::release(&mut self.values);
    }
}

/// Lines per hash, for every non-blank line of the page.
pub(crate) type HashCounts = HashSlots<u64>;

impl HashCounts {
    /// How many lines have hash `h`.
    pub(crate) fn copies(&self, h: u64) -> u32 {
        self.get(h)
    }
}

/// Counts every non-blank line's hash into `table`.
fn count_line_hashes(text: &str, lines: &LineTable, table: &mut HashCounts) {
    table.reset(1024);
    for line in lines.iter().filter(|l| !l.is_blank()) {
        *table.value_mut(line_hash(line.content(text).as_bytes())) += 1;
    }
}

/// How many of a page's first words decide its language.
const LANGUAGE_WORDS: usize = 1000;

/// The stop-word list (as a bit) that covers most of `word_languages`, the
/// languages of the page's first words.
fn page_language(word_languages: &[u32]) -> u32 {
    let mut hits = [0u32; 32];
    for &languages in word_languages {
        let mut bits = languages;
        while bits != 0 {
            hits[bits.trailing_zeros() as usize] += 1;
            bits &= bits - 1;
        }
    }
    // Ties go to the earlier list, English first.
    let best = (0..stopwords::LISTS.len()).fold(0, |best, i| if hits[i] > hits[best] { i } else { best });
    1 << best
}

/// How many headings of a page may be found to recur below (a multi-post
/// page's labels, see [`a_thread_heading`]) before the page is left uncut.
const MOST_RECURRING_HEADINGS: usize = 64;

/// Whether a line that reads as a comment heading can start a thread: not
/// when it counts no comments ("Comments (0)", "No comments"), and not when
/// a line below is the same heading with another count: "Comments (2)" and
/// "Comments (5)" under the posts of a multi-post blog page are labels of
/// the posts, and cutting at the first cut every later post. The same
/// heading again with the same count ("See all 104 Comments" above and
/// below a thread) is one thread's.
fn a_thread_heading(heading: &str, text: &str, below: impl Iterator<Item = Line>) -> bool {
    let zero = heading.split(|c: char| !c.is_alphanumeric()).any(|w| w == "0")
        || heading.get(..3).is_some_and(|head| head.eq_ignore_ascii_case("no "));
    if zero {
        return false;
    }
    // Compared as they are read, not collected: a page of many posts, each
    // with its count, compares every count with every line below it.
    fn shape(line: &str) -> impl Iterator<Item = char> + '_ {
        line.chars()
            .filter(|c| !c.is_ascii_digit())
            .flat_map(char::to_lowercase)
    }
    !below
        .filter(|l| !l.is_blank() && l.content(text).len() <= heading.len() + 8)
        .map(|l| l.content(text))
        .any(|line| shape(line).eq(shape(heading)) && !line.eq_ignore_ascii_case(heading))
}

/// How many lines below a comment heading its thread's first furniture line
/// must stand: a thread may be read further down (long comments put their
/// bylines far apart), but a heading whose first furniture is further off
/// is a link above the article, and the furniture another list's.
const FIRST_FURNITURE_LINES: usize = 30;

/// Reads the first `window` lines of `below` (blank lines skipped) for a comment
/// thread's structure: returns how many lines are furniture and how many
/// comments they make, a comment being a run of furniture lines (an author
/// line, a time stamp, "Reply") with a body line after it. One count or
/// label followed by prose is not a thread; two comments are; nor is
/// anything whose first furniture stands past [`FIRST_FURNITURE_LINES`].
fn thread_structure(
    text: &str,
    below: impl Iterator<Item = Line>,
    window: usize,
    mut is_furniture: impl FnMut(&str) -> bool,
) -> (usize, usize) {
    let (mut found, mut comments) = (0, 0);
    // Whether the last line was furniture, and whether a furniture run is
    // still waiting for its body.
    let mut waiting = false;
    for (read, line) in below.take(window).enumerate().filter(|(_, l)| !l.is_blank()) {
        if found == 0 && read >= FIRST_FURNITURE_LINES {
            return (0, 0);
        }
        if is_furniture(line.content(text)) {
            found += 1;
            waiting = true;
        } else if waiting {
            comments += 1;
            waiting = false;
        }
    }
    // A thread's last comment may end with its furniture ("Reply") at the
    // window's edge; it counts when a comment came before it.
    if waiting && comments >= 1 {
        comments += 1;
    }
    (found, comments)
}

fn matches(regex: &Regex, cache: &mut meta::Cache, haystack: &str) -> bool {
    regex
        .search_half_with(cache, &Input::new(haystack).earliest(true))
        .is_some()
}

/// The score given to a neighbour that does not exist.
const EDGE_SCORE: f32 = -3.0;

/// The weight of a candidate of `words` words in the context windows.
fn weight(words: u32) -> f32 {
    ((words + 1) as f32).sqrt()
}

/// The main region, as candidate indices: the run of lines with the largest
/// total of (probability of content − ½) × √words (Kadane's algorithm).
fn main_region(scored: &ScoredLines) -> (usize, usize) {
    let (mut best, mut region) = (f32::MIN, (0, 0));
    let (mut sum, mut start) = (0.0f32, 0);
    for k in 0..scored.len() {
        let candidate = scored.get(k);
        let value = (sigmoid(candidate.first) - 0.5) * weight(candidate.words());
        if sum <= 0.0 {
            sum = value;
            start = k;
        } else {
            sum += value;
        }
        if sum > best {
            best = sum;
            region = (start, k);
        }
    }
    region
}

/// How many candidates on either side of one its context features read.
const CONTEXT_REACH: usize = 8;

/// The context features of candidate `k`, from the first scores around it.
fn context_of(scored: &ScoredLines, region: (usize, usize), k: usize) -> [f32; CONTEXT_COUNT] {
    let n = scored.len();
    let at = |k: isize| {
        if k >= 0 && (k as usize) < n {
            scored.first[k as usize]
        } else {
            EDGE_SCORE
        }
    };
    let window = |k: usize, half: usize| {
        let (lo, hi) = (k.saturating_sub(half), (k + half + 1).min(n));
        let (mut total, mut weights) = (0.0, 0.0);
        for candidate in (lo..hi).map(|j| scored.get(j)) {
            total += candidate.first * weight(candidate.words());
            weights += weight(candidate.words());
        }
        total / weights
    };
    let mut c = [0.0; CONTEXT_COUNT];
    let i = k as isize;
    c[0] = scored.first[k];
    c[1] = at(i - 1);
    c[2] = at(i + 1);
    c[3] = at(i - 2);
    c[4] = at(i + 2);
    c[5] = window(k, 3);
    c[6] = window(k, CONTEXT_REACH);
    let (lo, hi) = (k.saturating_sub(6), (k + 7).min(n));
    c[7] = (lo..hi).map(|j| scored.get(j).comment_meta()).sum::<f32>() / (hi - lo) as f32;
    let inside = region.0 <= k && k <= region.1;
    c[8] = if inside { 1.0 } else { 0.0 };
    let distance = if inside {
        0
    } else if k < region.0 {
        region.0 - k
    } else {
        k - region.1
    };
    c[9] = (distance as f32).ln_1p();
    c[10] = if k + 1 == region.0 { 1.0 } else { 0.0 };
    c[11] = if inside {
        (k - region.0) as f32 / (region.1 - region.0).max(1) as f32
    } else {
        0.0
    };
    c
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// The language code of a stop-word bit.
#[cfg(test)]
fn language_code(bit: u32) -> &'static str {
    StopWords::code(bit.trailing_zeros() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(names: &[&str], weights: &[(&str, f64)]) -> LinearModel {
        let mut rows: Vec<(String, f64, f64, f64)> = names.iter().map(|n| (n.to_string(), 0.0, 1.0, 0.0)).collect();
        rows.push(("bias".into(), 0.0, 1.0, 0.0));
        for (name, weight) in weights {
            rows.iter_mut().find(|r| r.0 == *name).unwrap().3 = *weight;
        }
        LinearModel::from_rows(&rows, names).unwrap()
    }

    #[test]
    fn a_model_needs_every_feature_once_and_nothing_else() {
        let rows = |list: &[&str]| -> Vec<(String, f64, f64, f64)> {
            list.iter().map(|n| (n.to_string(), 0.0, 1.0, 1.0)).collect()
        };
        let names = ["a", "b"];
        assert!(LinearModel::from_rows(&rows(&["bias", "a", "b"]), &names).is_ok());
        let missing = LinearModel::from_rows(&rows(&["bias", "a"]), &names).unwrap_err();
        assert!(missing.contains("without a weight: b"), "{missing}");
        let unknown = LinearModel::from_rows(&rows(&["bias", "a", "b", "c"]), &names).unwrap_err();
        assert!(unknown.contains("unknown feature \"c\""), "{unknown}");
        let twice = LinearModel::from_rows(&rows(&["bias", "a", "a", "b"]), &names).unwrap_err();
        assert!(twice.contains("twice"), "{twice}");
        let mut zero = rows(&["bias", "a", "b"]);
        zero[1].2 = 0.0;
        assert!(LinearModel::from_rows(&zero, &names).is_err());
    }

    #[test]
    fn a_model_standardises_then_weighs() {
        let rows = vec![("bias".to_string(), 0.0, 1.0, 1.0), ("a".to_string(), 2.0, 4.0, 2.0)];
        let m = LinearModel::from_rows(&rows, &["a"]).unwrap();
        assert!((m.score(&[6.0]) - 3.0).abs() < 1e-6);
    }

    fn views(text: &str) -> LineTable {
        let mut lines = LineTable::default();
        lines.split(text);
        lines
    }

    /// A toy classifier: words and stop-word density first, then the scores
    /// around a line and a bonus for standing inside the main region.
    fn toy() -> Heuristics {
        let line = model(LINE_FEATURES, &[("words", 1.0), ("stop-density", 4.0), ("bias", -3.0)]);
        let context = model(
            CONTEXT_FEATURES,
            &[("score", 1.0), ("window3", 1.0), ("in-region", 3.0)],
        );
        Heuristics::compile(std::iter::once((
            0,
            &Heuristic::LineClassifier {
                threshold: 0.0,
                line,
                context,
            },
        )))
        .unwrap()
        .unwrap()
    }

    #[test]
    fn the_main_region_is_the_run_of_prose_and_edges_are_outside_it() {
        let text = "Home\nNews\nSport\n\
            The minister was in the city on Tuesday and he said that the talks would go on.\n\
            Sub heading\n\
            It is not the first time that the two sides have met in the city of Tripoli.\n\
            Privacy Policy\nContact\n";
        let h = toy();
        let mut lines = views(text);
        let mut scratch = HeuristicScratch::new(&h);
        scratch.keep = true;
        h.classify(text, &mut lines, &mut scratch, &mut LineMemo::default());
        let region: Vec<f32> = scratch.context_features.iter().map(|c| c[8]).collect();
        assert_eq!(region, [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0]);
        assert_eq!(scratch.context_features[2][10], 1.0, "the line just before the region");
        assert_eq!(scratch.context_features[0][9], (4.0f32).ln());
        let removed: Vec<usize> = (0..lines.len()).filter(|&i| lines.removed(i)).collect();
        assert_eq!(removed, [0, 1, 2, 6, 7]);
        assert!(lines.iter().all(|line| line.judged()), "no line is blank");
        assert!(
            removed
                .iter()
                .all(|&k| scratch.removal_score(k) > 0.5 && scratch.removal_score(k) <= 1.0),
            "scores are probabilities of boilerplate"
        );
        assert!(scratch.removal_score(3).is_nan(), "a kept line has none");
    }

    #[test]
    fn repeats_and_neighbours_are_counted() {
        let text = "Reply\nA long line of text that is in the middle of it all.\nReply\n";
        let h = toy();
        let lines = views(text);
        let mut scratch = HeuristicScratch::new(&h);
        scratch.keep = true;
        h.features(text, &lines, &mut scratch);
        assert_eq!(scratch.line_features[0][REPEATS], 2f32.ln());
        assert_eq!(scratch.line_features[1][REPEATS], 0.0);
        assert_eq!(scratch.line_features[1][PREV], scratch.line_features[0][WORDS]);
        assert_eq!(scratch.line_features[1][NEXT], scratch.line_features[2][WORDS]);
        assert_eq!(
            scratch.line_features[0][COMMENT_META], 1.0,
            "'Reply' is comment furniture"
        );
    }

    #[test]
    fn every_line_counts_the_lines_with_its_text() {
        let texts = [
            "Reply",
            "Share",
            "Reply",
            "A longer line of its own.",
            "Reply",
            "Share",
            "Like",
        ];
        let mut page: String = texts.iter().map(|t| format!("{t}\n\n")).collect();
        page.push_str(&"Report\n".repeat(500));
        let h = toy();
        let lines = views(&page);
        let mut scratch = HeuristicScratch::new(&h);
        scratch.keep = true;
        h.features(&page, &lines, &mut scratch);
        for (k, &index) in scratch.candidates.iter().enumerate() {
            let text = lines.get(index).content(&page);
            let copies = lines.iter().filter(|l| l.content(&page) == text).count();
            assert_eq!(scratch.line_features[k][REPEATS], (copies as f32).ln(), "{text:?}");
        }
        assert_eq!(scratch.candidates.len(), 507);
    }

    #[test]
    fn a_time_stamp_is_comment_furniture_on_a_short_line_only() {
        let text = "May 3, 2012 at 10:41 am
\
            Once he saw that the pace was too slow (he needed a 61:25 second half), he pressed on and ran the rest alone.\n";
        let h = toy();
        let lines = views(text);
        let mut scratch = HeuristicScratch::new(&h);
        scratch.keep = true;
        h.features(text, &lines, &mut scratch);
        assert_eq!(scratch.line_features[0][COMMENT_META], 1.0);
        assert_eq!(scratch.line_features[1][COMMENT_META], 0.0, "a paragraph is prose");
        assert_eq!(scratch.line_features[1][11], 1.0, "it still holds a time");
    }

    #[test]
    fn the_page_language_picks_the_stop_word_list() {
        let h = toy();
        let mut scratch = HeuristicScratch::new(&h);
        scratch.keep = true;
        let mut language = |text: &str, lines: &LineTable| {
            h.features(text, lines, &mut scratch);
            language_code(scratch.language)
        };
        let german = "Der Minister ist in der Stadt und hat mit den Leuten gesprochen.\n";
        assert_eq!(language(german, &views(german)), "de");
        let english = "The minister was in the city and he spoke with the people.\n";
        assert_eq!(language(english, &views(english)), "en");
        // A removed line's words count, and only the first thousand words do.
        let mut lines = views(german);
        lines.remove(0, 0);
        assert_eq!(language(german, &lines), "de");
        // 960 English words, then 2,600 German ones.
        let late_german = format!("{}{}", english.repeat(80), german.repeat(200));
        assert_eq!(language(&late_german, &views(&late_german)), "en");
        let early_german = format!("{}{english}", german.repeat(100));
        assert_eq!(language(&early_german, &views(&early_german)), "de");
    }

    /// A line long enough to count as prose above a comment heading.
    const PROSE_LINE: &str = "This is a line of prose with more than twelve words in it, as articles have.\n";

    /// A comment-thread heuristic alone: "N comments" confirmed by two furniture lines within ten.
    fn comment_thread_heuristics() -> Heuristics {
        Heuristics::compile(std::iter::once((
            3,
            &Heuristic::CommentThread {
                header: r"\d+ comments".into(),
                furniture: r"^reply$|says:$".into(),
                window: 10,
                min_count: 2,
            },
        )))
        .unwrap()
        .unwrap()
    }

    #[test]
    fn a_comment_heading_needs_prose_above_and_furniture_below() {
        let h = comment_thread_heuristics();
        let prose = PROSE_LINE;
        let page = format!("{prose}{prose}3 Comments\nAnn says:\nNice.\nReply\n");
        let mut scratch = HeuristicScratch::new(&h);
        scratch.keep = true;
        assert_eq!(h.comment_thread(&page, &views(&page), &mut scratch), Some((2, 3, 2)));
        let no_furniture = format!("{prose}{prose}3 Comments\nAnn\nNice.\n");
        assert_eq!(
            h.comment_thread(&no_furniture, &views(&no_furniture), &mut scratch),
            None
        );
        let at_top = format!("3 Comments\nAnn says:\nReply\n{prose}{prose}");
        assert_eq!(h.comment_thread(&at_top, &views(&at_top), &mut scratch), None);
    }

    /// Headings that recur below, each over what reads as a thread, are a
    /// page of posts: past MOST_RECURRING_HEADINGS of them the page stays
    /// whole, so that no page reads to its end from every one of thousands.
    #[test]
    fn a_page_of_recurring_headings_is_left_whole() {
        let h = comment_thread_heuristics();
        let mut scratch = HeuristicScratch::new(&h);
        let page = |posts: usize| {
            let mut page = PROSE_LINE.repeat(2);
            for k in 1..=posts {
                page.push_str(&format!("{k} Comments\nAnn says:\nNice.\nReply\n"));
            }
            page
        };
        let few = page(MOST_RECURRING_HEADINGS);
        let last_heading = 2 + 4 * (MOST_RECURRING_HEADINGS - 1);
        assert_eq!(
            h.comment_thread(&few, &views(&few), &mut scratch),
            Some((last_heading, 3, 2))
        );
        let many = page(MOST_RECURRING_HEADINGS + 1);
        assert_eq!(h.comment_thread(&many, &views(&many), &mut scratch), None);
    }

    /// A list of headlines is not an article: an "Add a Comment" box under a
    /// headline list, with the article below it, must not cut the article.
    /// One long paragraph is an article, though (a Slashdot summary).
    #[test]
    fn the_prose_above_a_comment_heading_must_hold_a_sentence() {
        let h = comment_thread_heuristics();
        let headline = "6 hrs ago Web designers rejoice as a type foundry buys a webfont start-up in Berlin\n";
        let page = format!("{headline}{headline}3 Comments\nAnn says:\nNice.\nReply\n");
        let mut scratch = HeuristicScratch::new(&h);
        scratch.keep = true;
        assert_eq!(h.comment_thread(&page, &views(&page), &mut scratch), None);
        let summary = "Hugh writes that the value of each click on an advert fell by a sixth last quarter, \
            and that the firms which sell the adverts answer by showing more of them on every page they own, \
            which readers and the advertisers themselves say only makes the old problem worse for everyone involved.\n";
        let page = format!("{summary}3 Comments\nAnn says:\nNice.\nReply\n");
        assert_eq!(h.comment_thread(&page, &views(&page), &mut scratch), Some((1, 3, 2)));
    }

    /// The comments pack removes "3 Comments" before the heuristics run; the
    /// cut used to skip removed lines and so left the whole thread in.
    #[test]
    fn a_heading_the_phrase_rules_removed_still_starts_the_cut_but_removed_prose_does_not_count() {
        let h = comment_thread_heuristics();
        let prose = PROSE_LINE;
        let page = format!("{prose}{prose}3 Comments\nAnn says:\nNice.\nReply\n");
        let mut lines = views(&page);
        lines.remove(2, 0);
        let mut scratch = HeuristicScratch::new(&h);
        scratch.keep = true;
        assert_eq!(h.comment_thread(&page, &lines, &mut scratch), Some((2, 3, 2)));
        lines.remove(0, 0);
        assert_eq!(h.comment_thread(&page, &lines, &mut scratch), None);
    }
}
