//! `dechaff explain`: a document with every removal marked.
//!
//! The engine renders to a `String` and never prints; the binary decides
//! where it goes and whether colour is on. Kept lines are printed as they
//! are; a removed run of lines is printed with `-` in the margin and its
//! rule id; an inline cut is shown in place as `[-text-]{rule}`. A removal
//! by a rule that scores (a heuristic) carries its score after the id,
//! `[heuristics.boilerplate-line 0.93]`: for the line classifier the line's
//! probability of being boilerplate, for the comment cut the number of
//! comment-furniture lines that confirmed it.

use crate::clean::Cleaned;
use std::ops::Range;

use crate::rules::{RuleKind, RuleSet};

const RED: &str = "\x1b[31m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// Renders `text` with the removals of `cleaned` marked.
pub fn render(text: &str, cleaned: &Cleaned, rules: &RuleSet, colour: bool) -> String {
    let (red, dim, reset) = if colour { (RED, DIM, RESET) } else { ("", "", "") };
    let mut out = String::with_capacity(text.len() + 64 * cleaned.removals().len());
    let mut cursor = 0;
    for removal in &cleaned.removals() {
        let rule = &rules.rules()[removal.rule];
        let label = match removal.score {
            Some(score) if score.fract() == 0.0 => format!("{} {score}", rule.id),
            Some(score) => format!("{} {score:.2}", rule.id),
            None => rule.id.clone(),
        };
        let start = removal.bytes.start.max(cursor);
        out.push_str(&text[cursor..start]);
        let removed = &text[start..removal.bytes.end];
        if rule.kind == RuleKind::Inline && !covers_whole_lines(text, &removal.bytes) {
            out.push_str(&format!("{red}[-{removed}-]{reset}{dim}{{{label}}}{reset}"));
        } else {
            let body = removed.strip_suffix('\n').unwrap_or(removed);
            for (i, line) in body.split('\n').enumerate() {
                // A CR left in would return the cursor and hide the line under its tag.
                let line = line.strip_suffix('\r').unwrap_or(line);
                let tag = if i == 0 {
                    format!("  {dim}[{label}]{reset}")
                } else {
                    String::new()
                };
                out.push_str(&format!("{red}- {line}{reset}{tag}\n"));
            }
        }
        cursor = removal.bytes.end;
    }
    out.push_str(&text[cursor..]);
    if !out.ends_with('\n') && !out.is_empty() {
        out.push('\n');
    }
    out
}

/// True when `span` starts at a line start and ends at a line end: an inline
/// rule that left nothing of its line removed the line whole.
fn covers_whole_lines(text: &str, span: &Range<usize>) -> bool {
    let starts_line = span.start == 0 || text.as_bytes()[span.start - 1] == b'\n';
    let ends_line = span.end == text.len() || text.as_bytes()[span.end - 1] == b'\n';
    starts_line && ends_line
}
