//! All rules compiled into two regex automata.
//!
//! Line, block and tail rules all ask the same question of a line: does its
//! whole key match? So every such pattern (a line rule, a block's start and
//! end, a tail marker) becomes one anchored pattern of a single multi-pattern
//! `regex_automata::meta::Regex`, searched once per line with overlapping
//! semantics so that one search reports every pattern that matches. Inline
//! rules, which look for spans anywhere, form a second multi-pattern regex
//! searched leftmost-first. Never one regex per rule per line.
//!
//! Whole-line patterns have a maximum length: the rule's `max-length`, or the
//! regex's own maximum (from `regex-syntax`) when that is shorter. The longest
//! over all of them is the *gate*: a line whose key is longer cannot match any
//! of them and is not searched at all, and a hit of a pattern on a line longer
//! than that pattern's own maximum is dropped.

use regex_automata::meta::{self, Regex};
use regex_automata::nfa::thompson::WhichCaptures;
use regex_automata::MatchKind;
use regex_syntax::hir::{Hir, HirKind, Look};

use crate::error::{Error, ErrorKind, Result};
use crate::rules::{RuleKind, RuleSet, Trigger, MAX_COMPILED_PATTERN_BYTES};

/// What a whole-line pattern stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// A line rule: the line goes.
    Whole,
    /// The first line of a block rule.
    BlockStart,
    /// The last line of a block rule.
    BlockEnd,
    /// A tail rule's marker line.
    TailMarker,
    /// A protected phrase: heuristics may not remove the line.
    Protect,
}

/// One whole-line pattern: which rule, in which role.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LinePattern {
    pub rule: u32,
    pub role: Role,
    /// The longest key this pattern is tried on: the rule's `max-length`, or
    /// the regex's own maximum when that is shorter.
    pub max_len: usize,
}

/// Whole-line patterns per automaton. One lazy DFA over every line rule
/// has to hold the product of all their states: with ~190 rules its cache
/// thrashes unless it may grow past 30 MiB per worker. Small groups of
/// consecutive patterns stay small, and most lines leave each group's
/// anchored screen within a few bytes.
const PATTERNS_PER_GROUP: usize = 24;

/// One group of whole-line patterns, compiled twice.
#[derive(Debug)]
pub(crate) struct LineAutomata {
    /// Index in [`Matcher::line_patterns`] of the group's first pattern.
    pub first_pattern: u32,
    /// The longest key any pattern of the group can match, in bytes.
    pub gate: usize,
    /// Leftmost-first: answers "does any pattern match?" in one lazy-DFA
    /// pass, which is all most lines need.
    pub screen: Regex,
    /// Overlapping: asked only for lines the screen passed, to learn every
    /// pattern that matches.
    pub all: Regex,
}

/// The compiled rules.
#[derive(Debug)]
pub(crate) struct Matcher {
    /// Groups of consecutive whole-line patterns, in pattern order.
    pub line: Vec<LineAutomata>,
    pub line_patterns: Vec<LinePattern>,
    /// The longest key any whole-line pattern can match, in bytes.
    pub line_gate: usize,
    pub inline_regex: Option<Regex>,
    /// Pattern index → rule index, for the inline regex.
    pub inline_rules: Vec<u32>,
}

impl Matcher {
    pub fn compile(rules: &RuleSet) -> Result<Matcher> {
        let mut line_hirs = Vec::new();
        let mut line_patterns = Vec::new();
        let mut inline_hirs = Vec::new();
        let mut inline_rules = Vec::new();
        let mut line_gate = 0usize;
        for (index, rule) in rules.rules().iter().enumerate() {
            let index = index as u32;
            let flags = if rule.case_sensitive { "" } else { "(?i)" };
            let mut push_line = |body: String, role: Role| -> Result<()> {
                let hir = parse(&format!("{flags}^(?:{body})$"), &rule.id)?;
                let max_len = hir
                    .properties()
                    .maximum_len()
                    .map_or(rule.max_length, |m| m.min(rule.max_length));
                line_gate = line_gate.max(max_len);
                line_hirs.push(hir);
                line_patterns.push(LinePattern {
                    rule: index,
                    role,
                    max_len,
                });
                Ok(())
            };
            match (&rule.kind, &rule.trigger) {
                (RuleKind::Inline, trigger) => {
                    inline_hirs.push(parse(&format!("{flags}(?:{})", trigger_body(trigger)), &rule.id)?);
                    inline_rules.push(index);
                }
                (RuleKind::Block { .. }, Trigger::Block { start, end }) => {
                    push_line(start.clone(), Role::BlockStart)?;
                    push_line(end.clone(), Role::BlockEnd)?;
                }
                (RuleKind::Line, trigger) => push_line(trigger_body(trigger), Role::Whole)?,
                (RuleKind::Tail, trigger) => push_line(trigger_body(trigger), Role::TailMarker)?,
                // Decided by the line's recurrence in the corpus, not by its text.
                (RuleKind::Corpus, _) => {}
                (RuleKind::Protect, trigger) => push_line(trigger_body(trigger), Role::Protect)?,
                // Heuristics judge lines by shape, not by pattern: see crate::heuristic.
                (RuleKind::Heuristic, _) => {}
                (RuleKind::Block { .. }, _) => unreachable!("validated: block rules have start and end"),
            }
        }
        Ok(Matcher {
            line: line_hirs
                .chunks(PATTERNS_PER_GROUP)
                .zip(line_patterns.chunks(PATTERNS_PER_GROUP))
                .enumerate()
                .map(|(group, (hirs, patterns))| {
                    Ok(LineAutomata {
                        first_pattern: (group * PATTERNS_PER_GROUP) as u32,
                        gate: patterns.iter().map(|p| p.max_len).max().unwrap_or(0),
                        screen: build(hirs, MatchKind::LeftmostFirst, WhichCaptures::Implicit)?.expect("a pattern"),
                        all: build(hirs, MatchKind::All, WhichCaptures::None)?.expect("a pattern"),
                    })
                })
                .collect::<Result<Vec<_>>>()?,
            line_patterns,
            line_gate,
            inline_regex: build(&inline_hirs, MatchKind::LeftmostFirst, WhichCaptures::Implicit)?,
            inline_rules,
        })
    }
}

/// The regex a non-block trigger stands for: the pattern, or the literals
/// escaped and joined as alternatives.
pub(crate) fn trigger_body(trigger: &Trigger) -> String {
    match trigger {
        Trigger::Pattern(pattern) => pattern.clone(),
        Trigger::Literals(literals) => literals
            .iter()
            .map(|l| regex_syntax::escape(l))
            .collect::<Vec<_>>()
            .join("|"),
        Trigger::Block { .. } => unreachable!("block triggers are split into start and end"),
        Trigger::Recurrence => unreachable!("corpus rules are not compiled"),
        Trigger::Heuristic(_) => unreachable!("heuristics have no pattern"),
    }
}

/// Parses a pattern that was validated at load time, with `\b` made ASCII.
fn parse(pattern: &str, rule: &str) -> Result<Hir> {
    let hir = regex_syntax::Parser::new()
        .parse(pattern)
        .map_err(|e| Error::new(ErrorKind::RulesTooLarge(format!("rule {rule}: {e}"))))?;
    Ok(ascii_word_boundaries(hir))
}

/// Replaces Unicode word boundaries by ASCII ones. The lazy DFA cannot
/// evaluate a Unicode `\b` on non-ASCII text and hands such searches to the
/// PikeVM, which made whole-line matching some fifty times slower on real
/// pages; an ASCII `\b` keeps every search in the DFA. Rule patterns use
/// `\b` around English and Latin-script words, where the two agree.
fn ascii_word_boundaries(hir: Hir) -> Hir {
    match hir.into_kind() {
        HirKind::Look(look) => Hir::look(match look {
            Look::WordUnicode => Look::WordAscii,
            Look::WordUnicodeNegate => Look::WordAsciiNegate,
            Look::WordStartUnicode => Look::WordStartAscii,
            Look::WordEndUnicode => Look::WordEndAscii,
            Look::WordStartHalfUnicode => Look::WordStartHalfAscii,
            Look::WordEndHalfUnicode => Look::WordEndHalfAscii,
            other => other,
        }),
        HirKind::Repetition(mut repetition) => {
            repetition.sub = Box::new(ascii_word_boundaries(*repetition.sub));
            Hir::repetition(repetition)
        }
        HirKind::Capture(mut capture) => {
            capture.sub = Box::new(ascii_word_boundaries(*capture.sub));
            Hir::capture(capture)
        }
        HirKind::Concat(subs) => Hir::concat(subs.into_iter().map(ascii_word_boundaries).collect()),
        HirKind::Alternation(subs) => Hir::alternation(subs.into_iter().map(ascii_word_boundaries).collect()),
        HirKind::Empty => Hir::empty(),
        HirKind::Literal(literal) => Hir::literal(literal.0),
        HirKind::Class(class) => Hir::class(class),
    }
}

/// Builds one multi-pattern regex. Capture slots cost memory per NFA state
/// and pattern in every search cache, so the whole-line regex, which only
/// needs to know which patterns matched, keeps none at all.
fn build(patterns: &[Hir], kind: MatchKind, captures: WhichCaptures) -> Result<Option<Regex>> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let limit = MAX_COMPILED_PATTERN_BYTES.saturating_mul(patterns.len()).min(512 << 20);
    Regex::builder()
        .configure(
            meta::Config::new()
                .match_kind(kind)
                .which_captures(captures)
                .nfa_size_limit(Some(limit))
                .hybrid_cache_capacity(32 << 20),
        )
        .build_many_from_hir(patterns)
        .map(Some)
        // Each pattern compiled alone at load time; failing together means the
        // set as a whole is too large.
        .map_err(|e| Error::new(ErrorKind::RulesTooLarge(e.to_string())))
}
