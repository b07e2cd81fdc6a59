//! `rules test`: every rule's examples, run through the real engine.
//!
//! Each rule is compiled alone, with position windows switched off (an
//! example is a line out of its document), and each example is cleaned as a
//! whole document. A `must-match` example must lose all of its text (for an
//! inline rule: some of it); a `must-not-match` example must lose nothing.

use super::{Example, RuleKind, RuleSet};
use crate::clean::CleanerBuilder;
use crate::error::{Error, ErrorKind, Result};

/// One example that disagrees with its rule.
#[derive(Debug)]
pub struct ExampleFailure {
    /// The rule id.
    pub rule: String,
    /// The error, naming file, line, column, rule and example.
    pub error: Error,
}

pub(super) fn run(rules: &RuleSet) -> Result<Vec<ExampleFailure>> {
    let mut failures = Vec::new();
    for rule in rules.rules() {
        let single = RuleSet {
            packs: Vec::new(),
            rules: vec![rule.clone()],
            disabled: Vec::new(),
            fingerprint: String::new(),
            corpus: None,
        };
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
        for example in &rule.must_match {
            let cleaned = cleaner.clean(&example.text);
            let ok = match rule.kind {
                RuleKind::Inline => !cleaned.removals.is_empty(),
                _ => cleaned.text.trim().is_empty() && !cleaned.removals.is_empty(),
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
            if !cleaned.removals.is_empty() {
                fail(
                    example,
                    "must-not-match example: the rule removes text from it".to_string(),
                );
            }
        }
    }
    Ok(failures)
}
