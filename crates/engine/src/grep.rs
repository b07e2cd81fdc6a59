//! Whole-line rules written out as patterns for line filters such as ripgrep.
//!
//! A line rule asks one question of each line: does its whole trimmed text
//! match? A line filter can ask the same question, so the line rules of a rule
//! set can be handed to `rg -v -f FILE` to drop the same lines. That is how the
//! benchmark compares dechaff with ripgrep on equal terms: the same patterns
//! over the same text. Each pattern is the rule's trigger as dechaff compiles
//! it, in Rust regex syntax (which ripgrep uses), anchored to the whole line
//! with the blanks at its edges allowed: `^[^\S\n]*(?i:BODY)[^\S\n]*$`
//! (`(?:BODY)` when the rule is case-sensitive, literal rules escaped and joined
//! with `|`, word boundaries made ASCII as in the compiled matcher).
//!
//! What a line filter cannot see is left out, not approximated: block, tail
//! and inline rules (they span lines or cut inside one) are skipped and
//! counted, and the patterns carry neither a rule's `max-length` nor its
//! position window. Nor does a line filter fold lines: where dechaff matches
//! `Share\u{a0}\u{a0}This` or a curly quote against a rule that spells a space
//! or a straight quote, the exported pattern does not.

use regex_syntax::ast::{self, AssertionKind, Ast, Visitor};

use crate::matcher::trigger_body;
use crate::rules::{RuleKind, RuleSet};

/// The line rules of a rule set as standalone regexes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinePatterns {
    /// One pattern per line rule, in rule order.
    pub patterns: Vec<String>,
    /// Ids of the rules that are not line rules and have no line-wise form.
    pub skipped: Vec<String>,
}

/// Writes every line rule of `rules` as a regex a line filter accepts.
pub fn line_patterns(rules: &RuleSet) -> LinePatterns {
    let mut exported = LinePatterns::default();
    for rule in rules.rules() {
        if rule.kind != RuleKind::Line {
            exported.skipped.push(rule.id.clone());
            continue;
        }
        // The flags go on the group, not before the pattern: ripgrep 13 joins
        // the patterns of a file with `|`, and a bare `(?i)` would reach into
        // every pattern after it.
        let group = if rule.case_sensitive { "(?:" } else { "(?i:" };
        let body = ascii_word_boundaries(&trigger_body(&rule.trigger));
        exported.patterns.push(format!(r"^[^\S\n]*{group}{body})[^\S\n]*$"));
    }
    exported
}

/// Rewrites every word-boundary assertion of `pattern` as its ASCII form
/// (`\b` becomes `(?-u:\b)`), as the matcher does when it compiles the rule.
/// The pattern was validated when its pack was loaded; should it not parse
/// here all the same, it is returned unchanged.
fn ascii_word_boundaries(pattern: &str) -> String {
    let Ok(parsed) = ast::parse::Parser::new().parse(pattern) else {
        return pattern.to_string();
    };
    let Ok(mut spans) = ast::visit(&parsed, WordBoundaries::default());
    spans.sort_unstable();
    let mut rewritten = String::with_capacity(pattern.len() + 8 * spans.len());
    let mut cursor = 0;
    for (start, end) in spans {
        rewritten.push_str(&pattern[cursor..start]);
        rewritten.push_str("(?-u:");
        rewritten.push_str(&pattern[start..end]);
        rewritten.push(')');
        cursor = end;
    }
    rewritten.push_str(&pattern[cursor..]);
    rewritten
}

/// Collects the byte spans of the word-boundary assertions of a pattern.
#[derive(Default)]
struct WordBoundaries(Vec<(usize, usize)>);

impl Visitor for WordBoundaries {
    type Output = Vec<(usize, usize)>;
    type Err = std::convert::Infallible;

    fn finish(self) -> Result<Self::Output, Self::Err> {
        Ok(self.0)
    }

    fn visit_pre(&mut self, node: &Ast) -> Result<(), Self::Err> {
        if let Ast::Assertion(assertion) = node {
            let word_boundary = !matches!(
                assertion.kind,
                AssertionKind::StartLine | AssertionKind::EndLine | AssertionKind::StartText | AssertionKind::EndText
            );
            if word_boundary {
                self.0.push((assertion.span.start.offset, assertion.span.end.offset));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fold;
    use crate::rules::RuleSetBuilder;
    use regex_automata::meta::Regex;

    #[test]
    fn word_boundaries_become_ascii() {
        assert_eq!(ascii_word_boundaries(r"\bby\b (\w+)"), r"(?-u:\b)by(?-u:\b) (\w+)");
        assert_eq!(ascii_word_boundaries(r"a\\b\B"), r"a\\b(?-u:\B)");
        assert_eq!(ascii_word_boundaries(r"^x$"), r"^x$");
    }

    #[test]
    fn literal_rules_are_escaped_and_other_kinds_skipped() {
        let pack = r#"
[pack]
name = "t"
version = "1"
description = "test"

[[rule]]
id = "t.ad"
description = "ad label"
literals = ["Ad (sponsored)", "Advert."]

[[rule]]
id = "t.credit"
description = "credit"
case-sensitive = true
pattern = 'REUTERS/\w+'

[[rule]]
id = "t.reply"
kind = "tail"
description = "comment form"
literals = ["Leave a Reply"]
"#;
        let rules = RuleSetBuilder::new()
            .no_default_rules(true)
            .add_text("t.toml", pack)
            .build()
            .unwrap();
        let exported = line_patterns(&rules);
        assert_eq!(
            exported.patterns,
            [
                r"^[^\S\n]*(?i:Ad \(sponsored\)|Advert\.)[^\S\n]*$",
                r"^[^\S\n]*(?:REUTERS/\w+)[^\S\n]*$",
            ]
        );
        assert_eq!(exported.skipped, ["t.reply"]);
    }

    /// Every shipped line rule, exported, still matches the key of each of its
    /// one-line must-match examples and none of its must-not-match examples
    /// short enough for the rule to try.
    #[test]
    fn exported_shipped_patterns_agree_with_their_examples() {
        let rules = RuleSet::shipped().unwrap();
        let exported = line_patterns(&rules);
        let line_rules = rules.rules().iter().filter(|r| r.kind == RuleKind::Line);
        let mut checked = 0;
        for (rule, pattern) in line_rules.zip(&exported.patterns) {
            let regex = Regex::new(pattern).unwrap_or_else(|e| panic!("{}: {pattern}: {e}", rule.id));
            let mut key = String::new();
            for example in rule.must_match.iter().filter(|e| !e.text.contains('\n')) {
                fold::fold_into(&example.text, &mut key, usize::MAX);
                assert!(regex.is_match(&key), "{}: {pattern} misses {key:?}", rule.id);
                checked += 1;
            }
            for example in &rule.must_not_match {
                for line in example.text.lines() {
                    fold::fold_into(line, &mut key, usize::MAX);
                    if key.len() <= rule.max_length {
                        assert!(!regex.is_match(&key), "{}: {pattern} matches {key:?}", rule.id);
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 100, "only {checked} examples checked");
    }
}
