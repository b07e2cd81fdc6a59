//! `dechaff explain`: a document with every removal marked.
//!
//! The engine renders to a `String` and never prints; the binary decides
//! where it goes and whether colour is on. Kept lines are printed as they
//! are; a removed run of lines is printed with `-` in the margin and its
//! rule id; an inline cut is shown in place as `[-text-]{rule}`.

use crate::clean::Cleaned;
use crate::rules::RuleSet;

const RED: &str = "\x1b[31m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// Renders `text` with the removals of `cleaned` marked.
pub fn render(text: &str, cleaned: &Cleaned, rules: &RuleSet, colour: bool) -> String {
    let (red, dim, reset) = if colour {
        (RED, DIM, RESET)
    } else {
        ("", "", "")
    };
    let mut out = String::with_capacity(text.len() + 64 * cleaned.removals.len());
    let mut cursor = 0;
    for removal in &cleaned.removals {
        let id = &rules.rules()[removal.rule].id;
        let start = removal.bytes.start.max(cursor);
        out.push_str(&text[cursor..start]);
        let removed = &text[start..removal.bytes.end];
        let whole_lines = start == 0 || text.as_bytes()[start - 1] == b'\n';
        if whole_lines {
            let body = removed.strip_suffix('\n').unwrap_or(removed);
            let body = body.strip_suffix('\r').unwrap_or(body);
            for (i, line) in body.split('\n').enumerate() {
                let tag = if i == 0 {
                    format!("  {dim}[{id}]{reset}")
                } else {
                    String::new()
                };
                out.push_str(&format!("{red}- {line}{reset}{tag}\n"));
            }
        } else {
            out.push_str(&format!("{red}[-{removed}-]{reset}{dim}{{{id}}}{reset}"));
        }
        cursor = removal.bytes.end;
    }
    out.push_str(&text[cursor..]);
    if !out.ends_with('\n') && !out.is_empty() {
        out.push('\n');
    }
    out
}
