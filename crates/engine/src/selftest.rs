//! `rules test`: every rule's examples, run through the real engine.
//!
//! Each rule is compiled alone, with position windows switched off (an
//! example is a line out of its document), and each example is cleaned as a
//! whole document. A `must-match` example must lose all of its text (for an
//! inline rule: some of it); a `must-not-match` example must lose nothing.
//!
//! A heuristic judges a line by its place in a page, so its examples are
//! whole pages: in a `must-match` page the lines marked `- ` at the start (as
//! `dechaff explain` prints them) must be removed by the rule, and every other
//! line kept; a `must-not-match` page must lose nothing. A protect rule's
//! examples are lines it must and must not match, tested as a line rule's.

use crate::clean::CleanerBuilder;
use crate::error::{Error, ErrorKind, Result};
use crate::rules::{Example, RuleKind, RuleSet};

/// One example that disagrees with its rule.
#[derive(Debug)]
pub struct ExampleFailure {
    /// The rule id.
    pub rule: String,
    /// The error, naming file, line, column, rule and example.
    pub error: Error,
}

impl RuleSet {
    /// Runs every rule's `must-match` and `must-not-match` examples through
    /// the real engine with that rule alone, and returns every disagreement.
    pub fn test_examples(&self) -> Result<Vec<ExampleFailure>> {
        run(self)
    }
}

fn run(rules: &RuleSet) -> Result<Vec<ExampleFailure>> {
    let mut failures = Vec::new();
    for rule in rules.rules() {
        let mut alone = rule.clone();
        if alone.kind == RuleKind::Protect {
            // A protect rule matches lines exactly as a line rule would.
            alone.kind = RuleKind::Line;
        }
        let single = RuleSet::of_one_rule(alone);
        let mut cleaner = CleanerBuilder::new().ignore_positions(true).build(single)?;
        let mut fail = |example: &Example, message: String| {
            failures.push(ExampleFailure {
                rule: rule.id.clone(),
                error: Error::new(ErrorKind::RuleExample {
                    location: example.location.clone(),
                    rule: rule.id.clone(),
                    message: format!("{message}: {:?}", example.text),
                }),
            });
        };
        if rule.kind == RuleKind::Heuristic {
            for example in &rule.must_match {
                if let Some(message) = check_marked_page(&mut cleaner, &example.text) {
                    fail(example, format!("must-match page: {message}"));
                }
            }
            for example in &rule.must_not_match {
                if let Some(removal) = cleaner.clean(&example.text).removals().first() {
                    let line = example.text.lines().nth(removal.line_start - 1).unwrap_or("");
                    fail(
                        example,
                        format!(
                            "must-not-match page: the rule removes line {} ({line:?})",
                            removal.line_start
                        ),
                    );
                }
            }
            continue;
        }
        for example in &rule.must_match {
            let cleaned = cleaner.clean(&example.text);
            let ok = match rule.kind {
                RuleKind::Inline => !cleaned.removals().is_empty(),
                _ => cleaned.text.trim().is_empty() && !cleaned.removals().is_empty(),
            };
            if !ok {
                let what = if rule.kind == RuleKind::Inline {
                    "removes nothing from"
                } else {
                    "does not remove all of"
                };
                fail(
                    example,
                    format!(
                        "must-match example: the rule {what} it (kept {:?})",
                        cleaned.text.trim()
                    ),
                );
            }
        }
        for example in &rule.must_not_match {
            let cleaned = cleaner.clean(&example.text);
            if !cleaned.removals().is_empty() {
                fail(
                    example,
                    "must-not-match example: the rule removes text from it".to_string(),
                );
            }
        }
    }
    Ok(failures)
}

/// Cleans a page whose lines to be removed are marked `- `; returns what
/// disagrees, or `None`.
fn check_marked_page(cleaner: &mut crate::Cleaner, marked: &str) -> Option<String> {
    let mut page = String::with_capacity(marked.len());
    let mut expected = Vec::new();
    for line in marked.lines() {
        let (text, marked) = match line.strip_prefix("- ") {
            Some(rest) => (rest, true),
            None => (line, false),
        };
        page.push_str(text);
        page.push('\n');
        expected.push(marked && !text.trim().is_empty());
    }
    let cleaned = cleaner.clean(&page);
    let mut removed = vec![false; expected.len()];
    for removal in &cleaned.removals() {
        for line in removal.line_start..=removal.line_end {
            removed[line - 1] = true;
        }
    }
    let lines: Vec<&str> = page.lines().collect();
    let mut problems = Vec::new();
    for (index, (&want, &got)) in expected.iter().zip(&removed).enumerate() {
        if lines[index].trim().is_empty() {
            continue;
        }
        if want && !got {
            problems.push(format!("kept marked line {} ({:?})", index + 1, lines[index]));
        } else if got && !want {
            problems.push(format!("removed unmarked line {} ({:?})", index + 1, lines[index]));
        }
    }
    if expected.iter().all(|&m| !m) {
        problems.push("no line is marked '- '".to_string());
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}
