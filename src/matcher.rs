//! All rules compiled into a few multi-pattern automata.
//!
//! Line, block and tail rules all ask the same question of a line: does its
//! whole key match? So every such pattern (a line rule, a block's start and
//! end, a tail marker) becomes one anchored pattern of a multi-pattern lazy
//! DFA ([`LineAutomaton`]; consecutive patterns in groups), searched once per
//! line to learn whether any pattern matches and, on the rare lines where one
//! does, once more with overlapping semantics to learn every pattern that
//! matches. Inline rules, which look for spans anywhere, form one
//! multi-pattern `meta::Regex` searched leftmost-first. Never one regex per
//! rule per line.
//!
//! Whole-line patterns have a maximum length: the rule's `max-length`, or the
//! regex's own maximum (from `regex-syntax`) when that is shorter. The longest
//! over all of them is the *gate*: a line whose key is longer cannot match any
//! of them and is not searched at all, and a hit of a pattern on a line longer
//! than that pattern's own maximum is dropped.

use rayon::prelude::*;
use regex_automata::hybrid;
use regex_automata::meta::{self, Regex};
use regex_automata::nfa::thompson::{self, WhichCaptures};
use regex_automata::{Anchored, Input, MatchKind, PatternSet};
use regex_syntax::hir::{Class, Hir, HirKind, Look};

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

/// Whole-line patterns per automaton, among those that stop early
/// ([`Reach::Stops`]). One lazy DFA over every line rule has to hold the
/// product of all their states: with ~190 rules its cache thrashes unless it
/// may grow past 30 MiB per worker. Patterns that die within a few bytes of
/// most lines add few states to each other, so their groups can be large.
const NEAR_PATTERNS_PER_GROUP: usize = 48;

/// Whole-line patterns per automaton among those that read far
/// ([`Reach::Far`]). Patterns like `.*\b(?:word|…)` are all alive at once
/// on every line, so their states multiply: on the devset's real pages a
/// group of 24 of them cost more time building DFA states than it saved in
/// passes (devset, one worker: 2.2 s with 24, 1.2 s with 8, 1.1 s with 4; on
/// the generated 100 MB corpus 3.7 s, 3.7 s and 4.5 s).
const FAR_PATTERNS_PER_GROUP: usize = 8;

/// The lazy DFA's cache per group and worker. A group's DFA on real pages
/// stays well under this; the cap only bounds a pathological input.
const LINE_CACHE_BYTES: usize = 32 << 20;

/// One group of whole-line patterns: a forward lazy DFA over one NFA.
///
/// A `meta::Regex` per group, as before, compiled a forward and a reverse NFA
/// and kept PikeVM, backtracker and reverse-DFA caches per worker, none of
/// which an anchored whole-line question needs; with the Unicode classes of
/// the shipped patterns (`\s`, `\p{L}`, case folding) those NFAs run to tens
/// of thousands of states per group, and the caches are sized by them. One
/// forward DFA answers both questions: whether any pattern matches (the
/// search stops at the first match state, or at the dead state most lines
/// reach within a few bytes) and, for the lines that pass, which ones do. Its
/// match kind is `All`, which the overlapping question needs; for the first
/// question it is the same as leftmost-first, since every pattern ends in `$`
/// and so can only match at the end of the key.
#[derive(Debug)]
pub(crate) struct LineAutomaton {
    /// Index in [`Matcher::line_patterns`] of each of the group's patterns,
    /// ascending; the DFA's pattern `i` is `members[i]`.
    pub members: Vec<u32>,
    /// The longest key any pattern of the group can match, in bytes.
    pub gate: usize,
    dfa: hybrid::dfa::DFA,
}

/// A worker's search state for one [`LineAutomaton`].
#[derive(Debug, Clone)]
pub(crate) struct LineCache(hybrid::dfa::Cache);

impl LineAutomaton {
    /// A fresh search cache for this automaton, one per worker.
    pub fn create_cache(&self) -> LineCache {
        LineCache(self.dfa.create_cache())
    }

    /// Whether any pattern of the group matches the whole of `key`.
    pub fn any_match(&self, cache: &mut LineCache, key: &str) -> bool {
        let input = Input::new(key).anchored(Anchored::Yes).earliest(true);
        match self.dfa.try_search_fwd(&mut cache.0, &input) {
            Ok(found) => found.is_some(),
            Err(e) => unreachable!("{}", search_cannot_fail(e)),
        }
    }

    /// Every pattern of the group that matches the whole of `key`, into
    /// `patterns` (cleared first; indices within the group).
    pub fn which_match(&self, cache: &mut LineCache, key: &str, patterns: &mut PatternSet) {
        patterns.clear();
        let input = Input::new(key).anchored(Anchored::Yes);
        if let Err(e) = self.dfa.try_which_overlapping_matches(&mut cache.0, &input, patterns) {
            unreachable!("{}", search_cannot_fail(e));
        }
    }
}

/// Why a line search cannot fail: a lazy DFA search fails only on a quit
/// byte (set for Unicode word boundaries, which [`ascii_word_boundaries`]
/// removes before compiling), when it gives up after too many cache clears
/// (never: no minimum clear count is set) or for an unsupported anchored
/// mode (anchored searches are always supported).
fn search_cannot_fail(e: regex_automata::MatchError) -> String {
    format!("a whole-line DFA search cannot fail, but did: {e}")
}

/// The compiled rules.
#[derive(Debug)]
pub(crate) struct Matcher {
    /// Groups of consecutive whole-line patterns, in pattern order.
    pub line: Vec<LineAutomaton>,
    pub line_patterns: Vec<LinePattern>,
    /// The longest key any whole-line pattern can match, in bytes.
    pub line_gate: usize,
    pub inline_regex: Option<Regex>,
    /// Pattern index → rule index, for the inline regex.
    pub inline_rules: Vec<u32>,
}

impl Matcher {
    /// Compiles the rules' patterns; the whole-line groups are built side by
    /// side on the current rayon pool, since startup is the serial part of a run.
    pub fn compile(rules: &RuleSet) -> Result<Matcher> {
        // What to parse, in rule order; the parsing itself (most of
        // startup) then runs side by side.
        let mut line_sources: Vec<(u32, String, Role)> = Vec::new();
        let mut inline_sources: Vec<(u32, String)> = Vec::new();
        for (index, rule) in rules.rules().iter().enumerate() {
            let index = index as u32;
            let flags = if rule.case_sensitive { "" } else { "(?i)" };
            let mut line = |body: &str, role: Role| line_sources.push((index, format!("{flags}^(?:{body})$"), role));
            match (&rule.kind, &rule.trigger) {
                (RuleKind::Inline, trigger) => {
                    inline_sources.push((index, format!("{flags}(?:{})", trigger_body(trigger))));
                }
                (RuleKind::Block { .. }, Trigger::Block { start, end }) => {
                    line(start, Role::BlockStart);
                    line(end, Role::BlockEnd);
                }
                (RuleKind::Line, trigger) => line(&trigger_body(trigger), Role::Whole),
                (RuleKind::Tail, trigger) => line(&trigger_body(trigger), Role::TailMarker),
                // Decided by the line's recurrence in the corpus, not by its text.
                (RuleKind::Corpus, _) => {}
                (RuleKind::Protect, trigger) => line(&trigger_body(trigger), Role::Protect),
                // Heuristics judge lines by shape, not by pattern: see crate::heuristic.
                (RuleKind::Heuristic, _) => {}
                (RuleKind::Block { .. }, _) => unreachable!("validated: block rules have start and end"),
            }
        }
        let id = |index: u32| rules.rules()[index as usize].id.as_str();
        let (line_hirs, line_patterns): (Vec<Hir>, Vec<LinePattern>) = line_sources
            .into_par_iter()
            .map(|(index, pattern, role)| {
                let hir = parse(&pattern, id(index))?;
                let max_length = rules.rules()[index as usize].max_length;
                let max_len = hir.properties().maximum_len().map_or(max_length, |m| m.min(max_length));
                Ok((
                    hir,
                    LinePattern {
                        rule: index,
                        role,
                        max_len,
                    },
                ))
            })
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .unzip();
        let line_gate = line_patterns.iter().map(|p| p.max_len).max().unwrap_or(0);
        let inline_rules: Vec<u32> = inline_sources.iter().map(|(index, _)| *index).collect();
        let inline_hirs: Vec<Hir> = inline_sources
            .into_par_iter()
            .map(|(index, pattern)| parse(&pattern, id(index)))
            .collect::<Result<_>>()?;
        Ok(Matcher {
            line: group_by_reach(&line_hirs)
                .into_par_iter()
                .map(|members| {
                    let hirs: Vec<Hir> = members.iter().map(|&m| line_hirs[m as usize].clone()).collect();
                    Ok(LineAutomaton {
                        gate: members
                            .iter()
                            .map(|&m| line_patterns[m as usize].max_len)
                            .max()
                            .unwrap_or(0),
                        dfa: build_line_dfa(&hirs)?,
                        members,
                    })
                })
                .collect::<Result<Vec<_>>>()?,
            line_patterns,
            line_gate,
            inline_regex: build_inline(&inline_hirs)?,
            inline_rules,
        })
    }
}

/// Splits the whole-line patterns into groups, each in ascending pattern order: first the
/// patterns that can read far into a line of prose ([`Reach::Far`]), in
/// groups of [`FAR_PATTERNS_PER_GROUP`], then the others in groups of
/// [`NEAR_PATTERNS_PER_GROUP`].
///
/// A group's anchored search goes on as long as any of its patterns is still
/// alive, so what a line costs is, per group, the bytes its farthest-reaching
/// pattern reads. About one pattern in ten begins with something like `.*`
/// or `[\p{L} ]+` and reads most lines to their end; the rest die within a
/// few bytes of a line that is not theirs. Grouped 24 at a time in rule
/// order, the far readers were spread over six of eight groups, and every
/// line was read to its end six times; grouped by reach, the far readers
/// share four groups and the other groups read a few bytes each. The grouping only moves
/// work: every pattern is still searched on every line it could match.
fn group_by_reach(patterns: &[Hir]) -> Vec<Vec<u32>> {
    let (far, near): (Vec<u32>, Vec<u32>) =
        (0..patterns.len() as u32).partition(|&p| reach(&patterns[p as usize]) == Reach::Far);
    far.chunks(FAR_PATTERNS_PER_GROUP)
        .chain(near.chunks(NEAR_PATTERNS_PER_GROUP))
        .map(<[u32]>::to_vec)
        .collect()
}

/// How far an anchored search of a pattern goes into a line of prose that it
/// does not match, judged from the pattern's leading part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// It can match nothing, or only characters ordinary text is made of:
    /// the search goes on to what follows.
    Passes,
    /// It requires something particular (a literal, a narrow class): the
    /// search on a line that is not the pattern's ends about here.
    Stops,
    /// A repetition of characters ordinary text is made of, unbounded or
    /// long: the search may read on to the end of the line.
    Far,
}

/// A repetition of a broad class up to more than this many times reads far.
const FAR_REPETITION: u32 = 8;

fn reach(hir: &Hir) -> Reach {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Reach::Passes,
        HirKind::Literal(_) => Reach::Stops,
        HirKind::Class(class) => {
            if is_broad(class) {
                Reach::Passes
            } else {
                Reach::Stops
            }
        }
        HirKind::Repetition(repetition) => match reach(&repetition.sub) {
            Reach::Far => Reach::Far,
            Reach::Passes if repetition.max.is_none_or(|max| max > FAR_REPETITION) => Reach::Far,
            Reach::Passes => Reach::Passes,
            Reach::Stops if repetition.min == 0 => Reach::Passes,
            Reach::Stops => Reach::Stops,
        },
        HirKind::Capture(capture) => reach(&capture.sub),
        HirKind::Concat(subs) => subs
            .iter()
            .map(reach)
            .find(|&r| r != Reach::Passes)
            .unwrap_or(Reach::Passes),
        HirKind::Alternation(subs) => {
            let reaches: Vec<Reach> = subs.iter().map(reach).collect();
            if reaches.contains(&Reach::Far) {
                Reach::Far
            } else if reaches.contains(&Reach::Passes) {
                Reach::Passes
            } else {
                Reach::Stops
            }
        }
    }
}

/// Whether a class takes in most letters of ordinary text: at least 20 of
/// the 26 ASCII letters in one case (`.`, `\p{L}`, `\w`, `[^"]`, `\p{Lu}`).
fn is_broad(class: &Class) -> bool {
    let holds = |b: u8| match class {
        Class::Unicode(c) => c
            .ranges()
            .iter()
            .any(|r| r.start() <= b as char && b as char <= r.end()),
        Class::Bytes(c) => c.ranges().iter().any(|r| r.start() <= b && b <= r.end()),
    };
    (b'a'..=b'z').filter(|&b| holds(b)).count() >= 20 || (b'A'..=b'Z').filter(|&b| holds(b)).count() >= 20
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

/// The NFA size limit for `patterns` compiled together.
fn nfa_size_limit(patterns: &[Hir]) -> usize {
    MAX_COMPILED_PATTERN_BYTES.saturating_mul(patterns.len()).min(512 << 20)
}

/// Builds one group's whole-line DFA: a forward NFA without capture states
/// (the question is only which patterns match) and a lazy DFA over it.
fn build_line_dfa(patterns: &[Hir]) -> Result<hybrid::dfa::DFA> {
    let too_large = |e: &dyn std::fmt::Display| Error::new(ErrorKind::RulesTooLarge(e.to_string()));
    let nfa = thompson::Compiler::new()
        .configure(
            thompson::Config::new()
                .which_captures(WhichCaptures::None)
                .nfa_size_limit(Some(nfa_size_limit(patterns))),
        )
        .build_many_from_hir(patterns)
        .map_err(|e| too_large(&e))?;
    hybrid::dfa::DFA::builder()
        .configure(
            hybrid::dfa::Config::new()
                .match_kind(MatchKind::All)
                .cache_capacity(LINE_CACHE_BYTES)
                // A group of very large patterns (each within the rules'
                // own limit) can need more than the cap for its cache to
                // hold a few states; it then gets that much rather than
                // failing to compile.
                .skip_cache_capacity_check(true),
        )
        .build_from_nfa(nfa)
        .map_err(|e| too_large(&e))
}

/// Builds the inline rules' regex, leftmost-first, with the spans of whole
/// matches.
fn build_inline(patterns: &[Hir]) -> Result<Option<Regex>> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let limit = nfa_size_limit(patterns);
    Regex::builder()
        .configure(
            meta::Config::new()
                .match_kind(MatchKind::LeftmostFirst)
                .which_captures(WhichCaptures::Implicit)
                .nfa_size_limit(Some(limit))
                .hybrid_cache_capacity(32 << 20),
        )
        .build_many_from_hir(patterns)
        .map(Some)
        // Each pattern compiled alone at load time; failing together means the
        // set as a whole is too large.
        .map_err(|e| Error::new(ErrorKind::RulesTooLarge(e.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reach_of(pattern: &str) -> Reach {
        reach(&parse(&format!("(?i)^(?:{pattern})$"), "test.rule").expect("a valid pattern"))
    }

    #[test]
    fn a_leading_run_of_any_characters_reads_far() {
        assert_eq!(reach_of(r".*\bcookies\b.*"), Reach::Far);
        assert_eq!(reach_of(r"(?:disclaimer: )?.*registered in england"), Reach::Far);
        assert_eq!(reach_of(r"(?:the )?(?:reuters|[\p{L}]+ (?:bureau|desk))"), Reach::Far);
        assert_eq!(reach_of(r"[\p{L}\d][\p{L}\d .&'-]+\s*[-|:]"), Reach::Far);
        assert_eq!(reach_of(r"share this|.*\bwe use cookies"), Reach::Far);
    }

    #[test]
    fn a_leading_literal_or_narrow_class_stops_early() {
        assert_eq!(reach_of(r"share (?:this|on facebook)[:.!]?"), Reach::Stops);
        assert_eq!(reach_of(r"[\s|»›•·/]*(?:log ?in|sign ?up)"), Reach::Stops);
        assert_eq!(reach_of(r"\d+ comments?.*"), Reach::Stops);
        // A bounded run of letters is a word, not the rest of the line.
        assert_eq!(reach_of(r"\w{1,3}\. more"), Reach::Stops);
    }

    #[test]
    fn a_group_too_large_for_the_cache_cap_still_compiles_and_matches() {
        // Each pattern is within the rules' own size limit; together their
        // NFA needs a larger cache than the cap (about 60 MB) for even a few states.
        let patterns: Vec<Hir> = (0..NEAR_PATTERNS_PER_GROUP)
            .map(|_| parse(r"^(?:\w{150})$", "test.rule").expect("a valid pattern"))
            .collect();
        let nfa = thompson::Compiler::new()
            .configure(thompson::Config::new().which_captures(WhichCaptures::None))
            .build_many_from_hir(&patterns)
            .expect("within the NFA size limit");
        let minimum = hybrid::dfa::Config::new()
            .get_minimum_cache_capacity(&nfa)
            .expect("no Unicode word boundary");
        assert!(minimum > LINE_CACHE_BYTES, "the case needs a cache of {minimum} bytes");
        let automaton = LineAutomaton {
            members: (0..patterns.len() as u32).collect(),
            gate: usize::MAX,
            dfa: build_line_dfa(&patterns).expect("compiles with the minimum cache"),
        };
        let mut cache = automaton.create_cache();
        assert!(automaton.any_match(&mut cache, &"é".repeat(150)));
        assert!(!automaton.any_match(&mut cache, &"a".repeat(149)));
    }

    #[test]
    fn groups_keep_every_pattern_once_in_ascending_order() {
        let patterns: Vec<Hir> = [r".*a", "b", r".*c", "d"]
            .iter()
            .map(|p| parse(&format!("^(?:{p})$"), "test.rule").expect("a valid pattern"))
            .collect();
        assert_eq!(group_by_reach(&patterns), vec![vec![0, 2], vec![1, 3]]);
    }
}
