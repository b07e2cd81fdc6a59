//! All rules compiled into a few multi-pattern automata.
//!
//! Line, block and tail rules all ask the same question of a line: does its
//! whole key match? So every such pattern (a line rule, a block's start and
//! end, a tail marker) becomes one anchored pattern of a multi-pattern lazy
//! DFA ([`LineAutomaton`]; patterns in groups), searched once per line to
//! learn whether any pattern matches and, on the rare lines where one does,
//! once more with overlapping semantics to learn every pattern that matches.
//! A branch `.*X.*` (the line contains X) is searched as `X`, unanchored, in
//! a group of such cores ([`split_contains`]). Inline rules, which look for
//! spans anywhere, form one multi-pattern `meta::Regex` searched
//! leftmost-first. Never one regex per rule per line.
//!
//! Whole-line patterns have a maximum length: the rule's `max-length`, or the
//! regex's own maximum (from `regex-syntax`) when that is shorter. The longest
//! over all of them is the *gate*: a line whose key is longer cannot match any
//! of them and is not searched at all, and a hit of a pattern on a line longer
//! than that pattern's own maximum is dropped.

use rayon::prelude::*;
use regex_automata::hybrid;
use regex_automata::hybrid::dfa::OverlappingState;
use regex_automata::meta::{self, Regex};
use regex_automata::nfa::thompson::{self, WhichCaptures};
use regex_automata::{Anchored, Input, MatchKind};
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
/// most lines add few states to each other, so their groups can be large,
/// and fewer groups mean fewer searches per line: the shipped packs' 176
/// such patterns in two groups rather than four took the generated 100 MB
/// corpus from 2.08 to 1.93 s of CPU (one worker, `--no-heuristics`), the
/// devset from 0.71 to 0.68 s. The groups are filled evenly (see
/// [`plan_groups`]), so this is an upper bound.
const NEAR_PATTERNS_PER_GROUP: usize = 96;

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
    /// `Yes` for whole-line patterns; `No` for a group of *contains* cores
    /// (see [`split_contains`]), which match anywhere in the key.
    anchored: Anchored,
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
        let input = Input::new(key).anchored(self.anchored).earliest(true);
        match self.dfa.try_search_fwd(&mut cache.0, &input) {
            Ok(found) => found.is_some(),
            Err(e) => unreachable!("{}", search_cannot_fail(e)),
        }
    }

    /// Calls `each` with the index in [`Matcher::line_patterns`] of every
    /// pattern of the group that matches the whole of `key` (a contains
    /// core: anywhere in it), in no particular order and possibly more than
    /// once.
    ///
    /// The matches are taken one at a time from an overlapping search rather
    /// than gathered into a `PatternSet`: a set has a slot per pattern, and
    /// reading back the one or two matches of a line scanned every slot of
    /// the group on every line that matched at all.
    pub fn which_match(&self, cache: &mut LineCache, key: &str, mut each: impl FnMut(u32)) {
        let input = Input::new(key).anchored(self.anchored);
        let mut state = OverlappingState::start();
        loop {
            if let Err(e) = self.dfa.try_search_overlapping_fwd(&mut cache.0, &input, &mut state) {
                unreachable!("{}", search_cannot_fail(e));
            }
            match state.get_match() {
                Some(found) => each(self.members[found.pattern().as_usize()]),
                None => break,
            }
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
        // Each pattern is split (see `split_contains`) where it is parsed,
        // side by side: the split takes the HIR apart, and cloning large
        // Unicode classes one pattern after another lengthened startup.
        let (line_splits, line_patterns): (Vec<SplitPattern>, Vec<LinePattern>) = line_sources
            .into_par_iter()
            .map(|(index, pattern, role)| {
                let hir = parse(&pattern, id(index))?;
                let max_length = rules.rules()[index as usize].max_length;
                let max_len = hir.properties().maximum_len().map_or(max_length, |m| m.min(max_length));
                Ok((
                    split_contains(hir),
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
            line: plan_groups(line_splits)
                .into_par_iter()
                .map(|group| {
                    Ok(LineAutomaton {
                        gate: group
                            .members
                            .iter()
                            .map(|&m| line_patterns[m as usize].max_len)
                            .max()
                            .unwrap_or(0),
                        anchored: group.anchored,
                        dfa: build_line_dfa(&group.hirs)?,
                        members: group.members,
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

/// Contains cores per automaton (see [`split_contains`]).
const CONTAINS_PATTERNS_PER_GROUP: usize = 32;

/// One automaton to build: the patterns it searches and how.
#[derive(Debug, PartialEq)]
struct GroupPlan {
    /// Pattern indices, ascending.
    members: Vec<u32>,
    /// What the automaton searches for each member.
    hirs: Vec<Hir>,
    anchored: Anchored,
}

/// Splits the whole-line patterns into groups, each in ascending pattern
/// order: first the anchored patterns that can read far into a line of prose
/// ([`Reach::Far`]), then the other anchored ones, then the contains cores,
/// searched unanchored; each kind in evenly filled groups of at most
/// [`FAR_PATTERNS_PER_GROUP`], [`NEAR_PATTERNS_PER_GROUP`] and
/// [`CONTAINS_PATTERNS_PER_GROUP`].
///
/// A group's anchored search goes on as long as any of its patterns is still
/// alive, so what a line costs is, per group, the bytes its farthest-reaching
/// pattern reads. About one pattern in seven begins with something like `.*`
/// or `[\p{L} ]+` and reads most lines to their end; the rest die within a
/// few words of a line that is not theirs. Grouped 24 at a time in rule
/// order, the far readers were spread over six of eight groups, and every
/// line was read to its end six times; grouped by reach, they shared four
/// groups. Most of them are `.*X.*` (a line that contains X), which a single
/// unanchored search answers for all of them at once, and of the rest half
/// only read a word or a few before they need a particular one ([`reach`]
/// tells them apart), so five far readers are left, in one group. The
/// grouping only moves work: every pattern is still searched on every line
/// it could match.
fn plan_groups(patterns: Vec<SplitPattern>) -> Vec<GroupPlan> {
    let mut far = Vec::new();
    let mut near = Vec::new();
    let mut contains = Vec::new();
    for (index, split) in patterns.into_iter().enumerate() {
        let index = index as u32;
        if let Some(anchored) = split.anchored {
            if reach(&anchored) == Reach::Far {
                far.push((index, anchored));
            } else {
                near.push((index, anchored));
            }
        }
        if let Some(core) = split.contains {
            contains.push((index, core));
        }
    }
    // As many groups as `most_per_group` needs, evenly filled: 182 patterns
    // at most 96 a group make two groups, not 96 + 86, nor 88 + 88 + 6.
    let plans = |patterns: Vec<(u32, Hir)>, most_per_group: usize, anchored: Anchored| {
        let per_group = patterns
            .len()
            .div_ceil(patterns.len().div_ceil(most_per_group).max(1))
            .max(1);
        let mut patterns = patterns.into_iter().peekable();
        std::iter::from_fn(move || {
            patterns.peek()?;
            let (members, hirs) = patterns.by_ref().take(per_group).unzip();
            Some(GroupPlan {
                members,
                hirs,
                anchored,
            })
        })
    };
    plans(far, FAR_PATTERNS_PER_GROUP, Anchored::Yes)
        .chain(plans(near, NEAR_PATTERNS_PER_GROUP, Anchored::Yes))
        .chain(plans(contains, CONTAINS_PATTERNS_PER_GROUP, Anchored::No))
        .collect()
}

/// A whole-line pattern as it is searched: its anchored part, its contains
/// core, or both (see [`split_contains`]).
#[derive(Debug, PartialEq)]
struct SplitPattern {
    /// `^(?:…)$` over the branches that are not contains branches.
    anchored: Option<Hir>,
    /// The contains branches' cores, as one alternation.
    contains: Option<Hir>,
}

/// Splits a whole-line pattern `^(?:B1|B2|…)$` into the branches that are
/// searched anchored, as `^(?:…)$`, and the *contains cores*: a branch
/// `.*X.*` matches a line exactly when `X` matches anywhere in it, since a
/// key holds no line feed for `.` to stop at, and so its core `X` is searched
/// unanchored. An anchored search of `.*X.*` reads every line to its end
/// whatever it holds, and the lazy DFA over a group of them tracks every
/// pattern's progress at once; one unanchored search for all the cores reads
/// each line once, and stops at the first core it finds.
fn split_contains(pattern: Hir) -> SplitPattern {
    let mut parts = into_concat_parts(pattern);
    let whole_line = parts.len() >= 2
        && matches!(parts[0].kind(), HirKind::Look(Look::Start))
        && matches!(parts[parts.len() - 1].kind(), HirKind::Look(Look::End));
    if !whole_line {
        return SplitPattern {
            anchored: Some(Hir::concat(parts)),
            contains: None,
        };
    }
    let end = parts.pop();
    let start = parts.remove(0);
    let body = Hir::concat(parts);
    let branches = match body.kind() {
        HirKind::Alternation(_) => match body.into_kind() {
            HirKind::Alternation(branches) => branches,
            _ => unreachable!("matched as an alternation"),
        },
        _ => vec![body],
    };
    let (mut anchored, mut cores) = (Vec::new(), Vec::new());
    for branch in branches {
        match contains_core(&branch) {
            Some(core) => cores.push(core),
            None => anchored.push(branch),
        }
    }
    SplitPattern {
        anchored: (!anchored.is_empty()).then(|| {
            Hir::concat(vec![
                start,
                Hir::alternation(anchored),
                end.expect("checked: two parts or more"),
            ])
        }),
        contains: (!cores.is_empty()).then(|| Hir::alternation(cores)),
    }
}

/// `X` for a branch `.*X.*` (either run may be lazy; the trailing run may
/// end each alternative of `X` instead), or `None`.
fn contains_core(branch: &Hir) -> Option<Hir> {
    let parts = into_concat_parts(branch.clone());
    let (first, rest) = parts.split_first()?;
    if !is_any_run(first) {
        return None;
    }
    without_trailing_any_run(&Hir::concat(rest.to_vec()))
}

/// `X` for `X.*`, where the run may end every alternative of `X`.
fn without_trailing_any_run(hir: &Hir) -> Option<Hir> {
    if is_any_run(hir) {
        return Some(Hir::empty());
    }
    match hir.kind() {
        HirKind::Capture(capture) => without_trailing_any_run(&capture.sub),
        HirKind::Concat(subs) => {
            let (last, init) = subs.split_last()?;
            let mut core = init.to_vec();
            core.push(without_trailing_any_run(last)?);
            Some(Hir::concat(core))
        }
        HirKind::Alternation(subs) => subs
            .iter()
            .map(without_trailing_any_run)
            .collect::<Option<Vec<_>>>()
            .map(Hir::alternation),
        _ => None,
    }
}

/// The parts of a concatenation (captures seen through), or the one HIR.
fn into_concat_parts(hir: Hir) -> Vec<Hir> {
    match hir.kind() {
        HirKind::Capture(_) | HirKind::Concat(_) => match hir.into_kind() {
            HirKind::Capture(capture) => into_concat_parts(*capture.sub),
            HirKind::Concat(subs) => subs,
            _ => unreachable!("matched as a capture or a concatenation"),
        },
        _ => vec![hir],
    }
}

/// Whether `hir` is `.*`: any run of characters but a line feed (or any
/// run at all).
fn is_any_run(hir: &Hir) -> bool {
    let HirKind::Repetition(repetition) = hir.kind() else {
        return false;
    };
    let HirKind::Class(class) = repetition.sub.kind() else {
        return false;
    };
    let only_line_feed_left_out = match class {
        Class::Unicode(class) => {
            let mut left_out = class.clone();
            left_out.negate();
            left_out.ranges().iter().all(|r| r.start() == '\n' && r.end() == '\n')
        }
        Class::Bytes(class) => {
            let mut left_out = class.clone();
            left_out.negate();
            left_out.ranges().iter().all(|r| r.start() == b'\n' && r.end() == b'\n')
        }
    };
    repetition.min == 0 && repetition.max.is_none() && only_line_feed_left_out
}

/// How far an anchored search of a pattern goes into a line of prose that it
/// does not match, judged from the pattern's leading part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// It can match nothing, or only what ordinary text is made of (a
    /// letter, a space, a word): the search goes on to what follows.
    Passes,
    /// It requires something particular (a literal word, a narrow class):
    /// the search on a line that is not the pattern's ends about here.
    Stops,
    /// A repetition, unbounded or long, of something that takes in both
    /// letters and spaces: the search may read on across the line's words
    /// to its end.
    Far,
}

/// A repetition of a broad class up to more than this many times reads far.
const FAR_REPETITION: u32 = 8;

fn reach(hir: &Hir) -> Reach {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Reach::Passes,
        // A space is as ordinary as a letter: `(?:\w+ )*` reads every word.
        HirKind::Literal(literal) if literal.0.iter().all(|&b| b == b' ') => Reach::Passes,
        HirKind::Literal(_) => Reach::Stops,
        HirKind::Class(class) => {
            if is_broad(class) || class_holds(class, b' ') {
                Reach::Passes
            } else {
                Reach::Stops
            }
        }
        HirKind::Repetition(repetition) => match reach(&repetition.sub) {
            Reach::Far => Reach::Far,
            // A run of letters alone (`[\p{L}'.-]*`) is one word: the search
            // goes on at the next space or stop, as after any word; a run of
            // spaces and bullets (`[\s|•]*`) reads the blanks. Only a run that
            // takes both crosses the words of a line.
            Reach::Passes
                if repetition.max.is_none_or(|max| max > FAR_REPETITION)
                    && can_match(&repetition.sub, &|class| is_broad(class), &|b| b.is_ascii_alphabetic())
                    && can_match(&repetition.sub, &|class| class_holds(class, b' '), &|b| b == b' ') =>
            {
                Reach::Far
            }
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

/// Whether some class of `hir` passes `class_test` or some literal byte
/// passes `byte_test`.
fn can_match(hir: &Hir, class_test: &dyn Fn(&Class) -> bool, byte_test: &dyn Fn(u8) -> bool) -> bool {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => false,
        HirKind::Literal(literal) => literal.0.iter().any(|&b| byte_test(b)),
        HirKind::Class(class) => class_test(class),
        HirKind::Repetition(repetition) => can_match(&repetition.sub, class_test, byte_test),
        HirKind::Capture(capture) => can_match(&capture.sub, class_test, byte_test),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => {
            subs.iter().any(|sub| can_match(sub, class_test, byte_test))
        }
    }
}

/// Whether `class` matches the ASCII byte `b`.
fn class_holds(class: &Class, b: u8) -> bool {
    match class {
        Class::Unicode(c) => c
            .ranges()
            .iter()
            .any(|r| r.start() <= b as char && b as char <= r.end()),
        Class::Bytes(c) => c.ranges().iter().any(|r| r.start() <= b && b <= r.end()),
    }
}

/// Whether a class takes in most letters of ordinary text: at least 20 of
/// the 26 ASCII letters in one case (`.`, `\p{L}`, `\w`, `[^"]`, `\p{Lu}`).
fn is_broad(class: &Class) -> bool {
    (b'a'..=b'z').filter(|&b| class_holds(class, b)).count() >= 20
        || (b'A'..=b'Z').filter(|&b| class_holds(class, b)).count() >= 20
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
    let hir = regex_syntax::Parser::new().parse(pattern).map_err(|e| {
        Error::new(ErrorKind::RulePattern {
            rule: rule.to_string(),
            message: e.to_string(),
        })
    })?;
    Ok(ascii_word_boundaries(hir))
}

/// Replaces Unicode word boundaries by ASCII ones. The lazy DFA cannot
/// evaluate a Unicode `\b` on non-ASCII text and hands such searches to the
/// PikeVM, which made whole-line matching some fifty times slower on real
/// pages; an ASCII `\b` keeps every search in the DFA. Rule patterns use
/// `\b` around English and Latin-script words, where the two agree.
fn ascii_word_boundaries(hir: Hir) -> Hir {
    // Most subtrees have no word boundary; rebuilding them would copy their
    // classes for nothing (it was an eighth of startup).
    if !hir.properties().look_set().contains_word_unicode() {
        return hir;
    }
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
    fn reach_tells_far_readers_from_patterns_that_stop_early() {
        let cases = [
            // A leading run of letters and spaces reads a line to its end.
            (r".*\bcookies\b.*", Reach::Far),
            (r"(?:disclaimer: )?.*registered in england", Reach::Far),
            (r"(?:\w+\s)*(?:bureau|desk)", Reach::Far),
            (r"[\p{L}\d][\p{L}\d .&'-]+\s*[-|:]", Reach::Far),
            (r"share this|.*\bwe use cookies", Reach::Far),
            // A leading literal or narrow class stops early.
            (r"share (?:this|on facebook)[:.!]?", Reach::Stops),
            (r"[\s|»›•·/]*(?:log ?in|sign ?up)", Reach::Stops),
            (r"\d+ comments?.*", Reach::Stops),
            // A bounded run of letters is a word, not the rest of the line.
            (r"\w{1,3}\. more", Reach::Stops),
            // A word, or a few, then something particular: the search ends
            // after the first words of a line that is not the pattern's.
            (r"(?:the )?(?:reuters|[\p{L}]+ (?:bureau|desk))", Reach::Stops),
            (r"[\w.+-]+@[\w-]+", Reach::Stops),
            (r"(?:[\p{Lu}][\p{L}'.-]*\s){1,3}(?:ist|war)", Reach::Stops),
            // A run of blanks and bullets reads the blanks only.
            (r"[\s|•·»›-]*(?:e-?mail|mail):?", Reach::Stops),
        ];
        for (pattern, expected) in cases {
            assert_eq!(reach_of(pattern), expected, "{pattern}");
        }
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
            anchored: Anchored::Yes,
            dfa: build_line_dfa(&patterns).expect("compiles with the minimum cache"),
        };
        let mut cache = automaton.create_cache();
        assert!(automaton.any_match(&mut cache, &"é".repeat(150)));
        assert!(!automaton.any_match(&mut cache, &"a".repeat(149)));
    }

    fn whole_line(pattern: &str) -> Hir {
        parse(&format!("(?i)^(?:{pattern})$"), "test.rule").expect("a valid pattern")
    }

    #[test]
    fn groups_keep_every_pattern_in_ascending_order() {
        let patterns: Vec<Hir> = [r".*a", "b", r".*c", "d", r".*\be\b.*"].map(whole_line).to_vec();
        let members: Vec<(Vec<u32>, Anchored)> = plan_groups(patterns.into_iter().map(split_contains).collect())
            .into_iter()
            .map(|g| (g.members, g.anchored))
            .collect();
        assert_eq!(
            members,
            vec![
                (vec![0, 2], Anchored::Yes),
                (vec![1, 3], Anchored::Yes),
                (vec![4], Anchored::No)
            ]
        );
    }

    #[test]
    fn contains_branches_become_unanchored_cores_and_the_rest_stays_whole_line() {
        let split = |pattern: &str| {
            let split = split_contains(whole_line(pattern));
            (split.anchored, split.contains)
        };
        let core = |pattern: &str| parse(&format!("(?i){pattern}"), "test.rule").expect("a valid pattern");
        // Every branch a contains branch, the runs lazy or inside the alternation.
        assert_eq!(split(r".*\bcookies\b.*"), (None, Some(core(r"\bcookies\b"))));
        assert_eq!(
            split(r".*?(?:we use cookies.*|cookie policy.*)"),
            (None, Some(core(r"we use cookies|cookie policy")))
        );
        // Mixed: the anchored branches keep `^…$`.
        assert_eq!(
            split(r".*\bcookies\b.*|accept all"),
            (Some(whole_line("accept all")), Some(core(r"\bcookies\b")))
        );
        // A suffix or a prefix is not a contains branch; nor is a class narrower than `.`.
        for anchored in [r".*cookies", r"cookies.*", r"[^.]*cookies.*", r"\d+ comments?.*"] {
            assert_eq!(split(anchored), (Some(whole_line(anchored)), None), "{anchored}");
        }
    }

    #[test]
    fn a_contains_core_matches_the_lines_its_whole_line_pattern_matches() {
        let patterns = [
            r".*\bwe use cookies\b.*",
            r"share this|.*\b(?:tweet|pin) it\b.*",
            r".*a.*b.*",
        ];
        let hirs: Vec<Hir> = patterns.map(whole_line).to_vec();
        let lines = [
            "we use cookies",
            "Note: we use cookies on this site.",
            "we use cookiesx",
            "share this",
            "please share this now",
            "tweet it",
            "go on, pin it!",
            "spin it",
            "ab",
            "b a",
            "xaxbx",
            "",
        ];
        let searched = |groups: &[GroupPlan], line: &str| -> Vec<u32> {
            let mut found = Vec::new();
            for group in groups {
                let automaton = LineAutomaton {
                    members: group.members.clone(),
                    gate: usize::MAX,
                    anchored: group.anchored,
                    dfa: build_line_dfa(&group.hirs).expect("compiles"),
                };
                let mut cache = automaton.create_cache();
                automaton.which_match(&mut cache, line, |pattern| found.push(pattern));
            }
            found.sort_unstable();
            found.dedup();
            found
        };
        let unsplit: Vec<GroupPlan> = vec![GroupPlan {
            members: vec![0, 1, 2],
            hirs: hirs.clone(),
            anchored: Anchored::Yes,
        }];
        let split = plan_groups(hirs.iter().cloned().map(split_contains).collect());
        assert!(split.iter().any(|g| g.anchored == Anchored::No));
        for line in lines {
            assert_eq!(searched(&split, line), searched(&unsplit, line), "{line:?}");
        }
    }
}
