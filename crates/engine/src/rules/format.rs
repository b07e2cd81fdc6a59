//! The rule file as written: serde shapes and their validation.
//!
//! Everything a rule author can get wrong is caught here, while the file's text
//! is at hand, so that each message carries `file:line:column` and the rule id:
//! unknown fields (serde), a missing or superfluous field for the rule's kind,
//! an id outside its pack, a regex that does not parse, a position outside
//! `0..=1`. Regexes are parsed with `regex-syntax` so a syntax error points at
//! the offending character inside the pattern, not at the pattern's start.

use serde::Deserialize;
use toml::Spanned;

use super::{Example, Pack, Rule, RuleKind, Trigger};
use crate::error::{Error, Result, SourceLocation};

/// Patterns longer than this are refused: a rule file is data a person reads.
const MAX_PATTERN_BYTES: usize = 8 * 1024;
/// The compiled size a single pattern may take; a `{1000}{1000}` bomb fails here.
pub(crate) const MAX_COMPILED_PATTERN_BYTES: usize = 4 * 1024 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct PackFile {
    pack: PackMeta,
    #[serde(default, rename = "rule")]
    rules: Vec<RuleSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct PackMeta {
    name: Spanned<String>,
    version: String,
    description: String,
    #[serde(default)]
    license: Option<String>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "kebab-case")]
enum KindName {
    Line,
    Inline,
    Block,
    Tail,
    Heuristic,
    Protect,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "kebab-case")]
enum HeuristicName {
    LineClassifier,
    CommentThread,
    RepeatedPassage,
}

/// `[name, mean, scale, weight]`, one feature of a linear model.
type WeightRow = (String, f64, f64, f64);

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RuleSpec {
    id: Spanned<String>,
    #[serde(default)]
    kind: Option<Spanned<KindName>>,
    description: Spanned<String>,
    #[serde(default)]
    pattern: Option<Spanned<String>>,
    #[serde(default)]
    literals: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    start: Option<Spanned<String>>,
    #[serde(default)]
    end: Option<Spanned<String>>,
    #[serde(default)]
    max_lines: Option<Spanned<usize>>,
    #[serde(default)]
    max_length: Option<Spanned<usize>>,
    #[serde(default)]
    min_position: Option<Spanned<f64>>,
    #[serde(default)]
    max_position: Option<Spanned<f64>>,
    #[serde(default)]
    case_sensitive: bool,
    #[serde(default)]
    heuristic: Option<Spanned<HeuristicName>>,
    #[serde(default)]
    threshold: Option<Spanned<f64>>,
    #[serde(default)]
    min_count: Option<Spanned<usize>>,
    #[serde(default)]
    weights: Option<Spanned<Vec<WeightRow>>>,
    #[serde(default)]
    context_weights: Option<Spanned<Vec<WeightRow>>>,
    #[serde(default)]
    must_match: Vec<Spanned<String>>,
    #[serde(default)]
    must_not_match: Vec<Spanned<String>>,
}

/// Where a pack's text came from, for messages.
pub(crate) struct PackSource<'a> {
    file: &'a str,
    text: &'a str,
    /// Parse and compile every pattern here, where its file, line and column
    /// are known. Off only for the packs built into the binary (see
    /// [`super::RuleSetBuilder::verify_shipped_patterns`]).
    verify_patterns: bool,
    /// The offset where each line of `text` starts. Every rule and example
    /// keeps its location; counting lines from the top of the file for each
    /// of them was quadratic in the pack's length, a tenth of startup.
    line_starts: Vec<usize>,
}

impl<'a> PackSource<'a> {
    pub fn new(file: &'a str, text: &'a str, verify_patterns: bool) -> PackSource<'a> {
        let line_starts = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|newline| newline + 1))
            .collect();
        PackSource {
            file,
            text,
            verify_patterns,
            line_starts,
        }
    }

    /// What [`SourceLocation::at`] says of `offset`, from the line index.
    fn at(&self, offset: usize) -> SourceLocation {
        let offset = self.text.floor_char_boundary(offset.min(self.text.len()));
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let line_start = self.line_starts[line - 1];
        SourceLocation {
            file: self.file.to_string(),
            line,
            column: self.text[line_start..offset].chars().count() + 1,
        }
    }

    fn error(&self, offset: usize, rule: Option<&str>, message: impl Into<String>) -> Error {
        Error::rule_file(self.at(offset), rule, message)
    }
}

/// Parses and validates one pack. Rules keep their source locations so that
/// `rules test` can point at a failing example.
pub(crate) fn parse_pack(source: &PackSource<'_>) -> Result<Pack> {
    let file: PackFile = toml::from_str(source.text).map_err(|e| {
        let offset = e.span().map_or(0, |span| span.start);
        let rule = enclosing_rule_id(source.text, offset);
        source.error(offset, rule.as_deref(), e.message().trim().to_string())
    })?;
    let pack_name = file.pack.name.get_ref().clone();
    if !is_valid_id_segment(&pack_name) {
        return Err(source.error(
            file.pack.name.span().start,
            None,
            format!("pack name {pack_name:?} must be lowercase letters, digits and '-'"),
        ));
    }
    let mut rules = Vec::with_capacity(file.rules.len());
    let mut seen = std::collections::HashMap::new();
    for spec in file.rules {
        let rule = validate_rule(source, &pack_name, spec)?;
        if let Some(first) = seen.insert(rule.id.clone(), rule.location.clone()) {
            return Err(Error::rule_file(
                rule.location.clone(),
                Some(&rule.id),
                format!("duplicate rule id (first defined at {first})"),
            ));
        }
        rules.push(rule);
    }
    Ok(Pack {
        name: pack_name,
        version: file.pack.version,
        description: file.pack.description,
        license: file.pack.license,
        origin: source.file.to_string(),
        text: source.text.to_string(),
        rules,
    })
}

/// The id of the `[[rule]]` table that holds byte `offset`, read from the raw
/// text: serde's error for an unknown or mistyped field comes before the
/// rule has been built, but the message should still name it.
fn enclosing_rule_id(text: &str, offset: usize) -> Option<String> {
    let before = &text[..text.floor_char_boundary(offset)];
    let header = before.rfind("[[rule]]")?;
    let table_end = text[header + 8..].find("\n[").map_or(text.len(), |i| header + 8 + i);
    text[header..table_end].lines().find_map(|line| {
        let value = line.trim().strip_prefix("id")?.trim_start().strip_prefix('=')?.trim();
        let quoted = value.strip_prefix('"').and_then(|v| v.split('"').next());
        let literal = value.strip_prefix('\'').and_then(|v| v.split('\'').next());
        quoted.or(literal).map(str::to_string)
    })
}

fn is_valid_id_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !segment.starts_with('-')
}

fn validate_rule(source: &PackSource<'_>, pack: &str, spec: RuleSpec) -> Result<Rule> {
    let id = spec.id.get_ref().clone();
    let id_at = spec.id.span().start;
    let err = |offset: usize, message: String| source.error(offset, Some(&id), message);
    match id.split_once('.') {
        Some((prefix, name)) if prefix == pack && is_valid_id_segment(name) => {}
        _ => {
            return Err(err(
                id_at,
                format!("id must be \"{pack}.<name>\" with lowercase letters, digits and '-' in the name"),
            ))
        }
    }
    let kind_name = spec.kind.as_ref().map_or(KindName::Line, |k| *k.get_ref());
    let kind_at = spec.kind.as_ref().map_or(id_at, |k| k.span().start);
    if spec.description.get_ref().trim().is_empty() {
        return Err(err(spec.description.span().start, "description is empty".into()));
    }

    let field_not_allowed = |name: &str, offset: usize| {
        err(
            offset,
            format!(
                "field '{name}' does not apply to a rule of kind '{}'",
                kind_label(kind_name)
            ),
        )
    };
    let compile = |pattern: &Spanned<String>| compile_check(source, &id, pattern, spec.case_sensitive);

    if kind_name != KindName::Heuristic {
        let heuristic_only = [
            ("heuristic", spec.heuristic.as_ref().map(|v| v.span().start)),
            ("threshold", spec.threshold.as_ref().map(|v| v.span().start)),
            ("min-count", spec.min_count.as_ref().map(|v| v.span().start)),
            ("weights", spec.weights.as_ref().map(|v| v.span().start)),
            ("context-weights", spec.context_weights.as_ref().map(|v| v.span().start)),
        ];
        if let Some((field, at)) = heuristic_only.iter().find_map(|(f, at)| at.map(|at| (f, at))) {
            return Err(field_not_allowed(field, at));
        }
    }
    let (kind, trigger) = match kind_name {
        KindName::Heuristic => validate_heuristic(source, &id, kind_at, &spec)?,
        KindName::Line | KindName::Inline | KindName::Tail | KindName::Protect => {
            if let Some(start) = &spec.start {
                return Err(field_not_allowed("start", start.span().start));
            }
            if let Some(end) = &spec.end {
                return Err(field_not_allowed("end", end.span().start));
            }
            if let Some(max_lines) = &spec.max_lines {
                return Err(field_not_allowed("max-lines", max_lines.span().start));
            }
            let trigger = match (&spec.pattern, &spec.literals) {
                (Some(pattern), None) => Trigger::Pattern(compile(pattern)?),
                (None, Some(literals)) => {
                    if literals.get_ref().is_empty() {
                        return Err(err(literals.span().start, "'literals' is empty".into()));
                    }
                    let mut list = Vec::with_capacity(literals.get_ref().len());
                    for literal in literals.get_ref() {
                        // A literal is a line: fold it into a key exactly as lines are.
                        let mut folded = String::new();
                        crate::fold::fold_into(literal.get_ref(), &mut folded, usize::MAX);
                        if folded.is_empty() {
                            return Err(err(literal.span().start, "empty literal".into()));
                        }
                        list.push(folded);
                    }
                    Trigger::Literals(list)
                }
                (Some(pattern), Some(_)) => {
                    return Err(err(
                        pattern.span().start,
                        "give either 'pattern' or 'literals', not both".into(),
                    ))
                }
                (None, None) => return Err(err(kind_at, "a rule of this kind needs 'pattern' or 'literals'".into())),
            };
            let kind = match kind_name {
                KindName::Line => RuleKind::Line,
                KindName::Inline => RuleKind::Inline,
                KindName::Protect => RuleKind::Protect,
                _ => RuleKind::Tail,
            };
            (kind, trigger)
        }
        KindName::Block => {
            if let Some(pattern) = &spec.pattern {
                return Err(field_not_allowed("pattern", pattern.span().start));
            }
            if let Some(literals) = &spec.literals {
                return Err(field_not_allowed("literals", literals.span().start));
            }
            let (Some(start), Some(end)) = (&spec.start, &spec.end) else {
                return Err(err(kind_at, "a block rule needs 'start' and 'end'".into()));
            };
            let max_lines = match &spec.max_lines {
                Some(max) if *max.get_ref() < 2 || *max.get_ref() > 200 => {
                    return Err(err(
                        max.span().start,
                        format!("max-lines {} is outside 2..=200", max.get_ref()),
                    ))
                }
                Some(max) => *max.get_ref(),
                None => super::DEFAULT_BLOCK_MAX_LINES,
            };
            (
                RuleKind::Block { max_lines },
                Trigger::Block {
                    start: compile(start)?,
                    end: compile(end)?,
                },
            )
        }
    };

    // An inline pattern that can match nothing removes nothing there, and
    // the cleaner searches again one character further on after each empty
    // match: a pattern like `(?:b*c)?` made a long line quadratic.
    if let (RuleKind::Inline, Trigger::Pattern(folded), Some(pattern)) = (kind, &trigger, &spec.pattern) {
        if matches_empty(folded, spec.case_sensitive) {
            return Err(err(
                pattern.span().start,
                "an inline pattern must not match the empty string (it would remove nothing)".into(),
            ));
        }
    }

    let position = |value: &Option<Spanned<f64>>, name: &str| -> Result<Option<f64>> {
        match value {
            Some(v) if !(0.0..=1.0).contains(v.get_ref()) => {
                Err(err(v.span().start, format!("{name} {} is outside 0..=1", v.get_ref())))
            }
            Some(v) => Ok(Some(*v.get_ref())),
            None => Ok(None),
        }
    };
    let max_length = match &spec.max_length {
        Some(length) if kind == RuleKind::Inline => return Err(field_not_allowed("max-length", length.span().start)),
        Some(length) if *length.get_ref() == 0 || *length.get_ref() > super::MAX_LINE_LENGTH_LIMIT => {
            return Err(err(
                length.span().start,
                format!(
                    "max-length {} is outside 1..={}",
                    length.get_ref(),
                    super::MAX_LINE_LENGTH_LIMIT
                ),
            ))
        }
        Some(length) => *length.get_ref(),
        None => super::DEFAULT_MAX_LINE_LENGTH,
    };
    let min_position = position(&spec.min_position, "min-position")?;
    let max_position = position(&spec.max_position, "max-position")?;
    if let (Some(min), Some(max)) = (min_position, max_position) {
        if min > max {
            return Err(err(id_at, format!("min-position {min} is above max-position {max}")));
        }
    }
    let examples = |list: Vec<Spanned<String>>| -> Vec<Example> {
        list.into_iter()
            .map(|example| Example {
                location: source.at(example.span().start),
                text: example.into_inner(),
            })
            .collect()
    };
    Ok(Rule {
        location: source.at(id_at),
        id,
        pack: pack.to_string(),
        description: spec.description.into_inner(),
        kind,
        trigger,
        max_length,
        min_position,
        max_position,
        case_sensitive: spec.case_sensitive,
        must_match: examples(spec.must_match),
        must_not_match: examples(spec.must_not_match),
    })
}

/// Whether a pattern that [`compile_check`] accepted can match the empty string.
fn matches_empty(folded: &str, case_sensitive: bool) -> bool {
    regex_syntax::ParserBuilder::new()
        .case_insensitive(!case_sensitive)
        .build()
        .parse(folded)
        .is_ok_and(|hir| hir.properties().minimum_len() == Some(0))
}

fn kind_label(kind: KindName) -> &'static str {
    match kind {
        KindName::Line => "line",
        KindName::Inline => "inline",
        KindName::Block => "block",
        KindName::Tail => "tail",
        KindName::Heuristic => "heuristic",
        KindName::Protect => "protect",
    }
}

/// The fields of a `kind = "heuristic"` rule: `heuristic` names which one,
/// and each takes its own parameters. Fields of other kinds are refused.
fn validate_heuristic(
    source: &PackSource<'_>,
    id: &str,
    kind_at: usize,
    spec: &RuleSpec,
) -> Result<(RuleKind, Trigger)> {
    use crate::heuristic::{Heuristic, LinearModel, CONTEXT_FEATURES, LINE_FEATURES};
    let err = |offset: usize, message: String| source.error(offset, Some(id), message);
    let Some(name) = &spec.heuristic else {
        return Err(err(
            kind_at,
            "a heuristic rule needs 'heuristic' (line-classifier, comment-thread or repeated-passage)".into(),
        ));
    };
    let not_for = |field: &str, offset: usize| {
        err(
            offset,
            format!(
                "field '{field}' does not apply to heuristic '{}'",
                match name.get_ref() {
                    HeuristicName::LineClassifier => "line-classifier",
                    HeuristicName::CommentThread => "comment-thread",
                    HeuristicName::RepeatedPassage => "repeated-passage",
                }
            ),
        )
    };
    let forbid = |fields: &[(&str, Option<usize>)]| -> Result<()> {
        match fields.iter().find_map(|(f, at)| at.map(|at| (f, at))) {
            Some((field, at)) => Err(not_for(field, at)),
            None => Ok(()),
        }
    };
    let span = |v: &Option<Spanned<String>>| v.as_ref().map(|v| v.span().start);
    forbid(&[
        ("literals", spec.literals.as_ref().map(|v| v.span().start)),
        ("end", span(&spec.end)),
        ("max-length", spec.max_length.as_ref().map(|v| v.span().start)),
        ("min-position", spec.min_position.as_ref().map(|v| v.span().start)),
        ("max-position", spec.max_position.as_ref().map(|v| v.span().start)),
    ])?;
    let heuristic = match name.get_ref() {
        HeuristicName::LineClassifier => {
            forbid(&[
                ("pattern", span(&spec.pattern)),
                ("start", span(&spec.start)),
                ("max-lines", spec.max_lines.as_ref().map(|v| v.span().start)),
                ("min-count", spec.min_count.as_ref().map(|v| v.span().start)),
            ])?;
            let model = |rows: &Option<Spanned<Vec<WeightRow>>>, field: &str, names: &[&str]| match rows {
                None => Err(err(kind_at, format!("a line-classifier needs '{field}'"))),
                Some(rows) => LinearModel::from_rows(rows.get_ref(), names)
                    .map_err(|m| err(rows.span().start, format!("{field}: {m}"))),
            };
            let threshold = match &spec.threshold {
                None => return Err(err(kind_at, "a line-classifier needs 'threshold'".into())),
                Some(t) if !(*t.get_ref() as f32).is_finite() => {
                    return Err(err(t.span().start, "threshold must be a finite number".into()))
                }
                Some(t) => *t.get_ref() as f32,
            };
            Heuristic::LineClassifier {
                threshold,
                line: model(&spec.weights, "weights", LINE_FEATURES)?,
                context: model(&spec.context_weights, "context-weights", CONTEXT_FEATURES)?,
            }
        }
        HeuristicName::CommentThread => {
            forbid(&[
                ("threshold", spec.threshold.as_ref().map(|v| v.span().start)),
                ("weights", spec.weights.as_ref().map(|v| v.span().start)),
                ("context-weights", spec.context_weights.as_ref().map(|v| v.span().start)),
            ])?;
            let (Some(start), Some(pattern)) = (&spec.start, &spec.pattern) else {
                return Err(err(
                    kind_at,
                    "a comment-thread needs 'start' (the heading) and 'pattern' (comment furniture)".into(),
                ));
            };
            let window = match &spec.max_lines {
                Some(max) if *max.get_ref() < 2 || *max.get_ref() > 200 => {
                    return Err(err(
                        max.span().start,
                        format!("max-lines {} is outside 2..=200", max.get_ref()),
                    ))
                }
                Some(max) => *max.get_ref(),
                None => 40,
            };
            let min_count = match &spec.min_count {
                Some(count) if *count.get_ref() == 0 || *count.get_ref() > window => {
                    return Err(err(
                        count.span().start,
                        format!("min-count {} is outside 1..={window}", count.get_ref()),
                    ))
                }
                Some(count) => *count.get_ref(),
                None => 2,
            };
            Heuristic::CommentThread {
                header: compile_check(source, id, start, false)?,
                furniture: compile_check(source, id, pattern, false)?,
                window,
                min_count,
            }
        }
        HeuristicName::RepeatedPassage => {
            forbid(&[
                ("pattern", span(&spec.pattern)),
                ("start", span(&spec.start)),
                ("max-lines", spec.max_lines.as_ref().map(|v| v.span().start)),
                ("threshold", spec.threshold.as_ref().map(|v| v.span().start)),
                ("weights", spec.weights.as_ref().map(|v| v.span().start)),
                ("context-weights", spec.context_weights.as_ref().map(|v| v.span().start)),
            ])?;
            let min_lines = match &spec.min_count {
                Some(count) if *count.get_ref() < 2 || *count.get_ref() > 200 => {
                    return Err(err(
                        count.span().start,
                        format!("min-count {} is outside 2..=200", count.get_ref()),
                    ))
                }
                Some(count) => *count.get_ref(),
                None => 5,
            };
            Heuristic::RepeatedPassage { min_lines }
        }
    };
    Ok((RuleKind::Heuristic, Trigger::Heuristic(Box::new(heuristic))))
}

/// Checks that `pattern` parses and compiles within the size limit, and returns
/// it folded the way lines are. The error points at the bad character when the
/// pattern is written as a one-line TOML string.
fn compile_check(source: &PackSource<'_>, id: &str, pattern: &Spanned<String>, case_sensitive: bool) -> Result<String> {
    let text = pattern.get_ref();
    let span = pattern.span();
    if text.len() > MAX_PATTERN_BYTES {
        return Err(source.error(
            span.start,
            Some(id),
            format!("pattern is {} bytes, over the limit of {MAX_PATTERN_BYTES}", text.len()),
        ));
    }
    let folded = crate::fold::fold_pattern(text);
    if !source.verify_patterns {
        return Ok(folded);
    }
    let mut parser = regex_syntax::ParserBuilder::new()
        .case_insensitive(!case_sensitive)
        .build();
    if let Err(error) = parser.parse(&folded) {
        let (message, inner) = match &error {
            regex_syntax::Error::Parse(e) => (e.kind().to_string(), Some(e.span().start.offset)),
            regex_syntax::Error::Translate(e) => (e.kind().to_string(), Some(e.span().start.offset)),
            other => (other.to_string(), None),
        };
        // In a literal string ('…') the pattern's characters stand verbatim after
        // the opening quote, so the offset inside the pattern is an offset in the file.
        let raw = &source.text[span.clone()];
        let offset = match inner {
            Some(inner) if raw.starts_with('\'') && !raw.starts_with("'''") && folded.len() == text.len() => {
                span.start + 1 + inner
            }
            _ => span.start,
        };
        return Err(source.error(offset, Some(id), format!("regex parse error: {message}")));
    }
    // Compile the NFA once to enforce the size limit here, where the location is known.
    use regex_automata::nfa::thompson;
    let built = thompson::Compiler::new()
        .syntax(regex_automata::util::syntax::Config::new().case_insensitive(!case_sensitive))
        .configure(
            thompson::Config::new()
                .nfa_size_limit(Some(MAX_COMPILED_PATTERN_BYTES))
                .which_captures(thompson::WhichCaptures::None),
        )
        .build(&folded);
    if let Err(e) = built {
        let message = e.to_string().lines().next().unwrap_or("").to_string();
        return Err(source.error(span.start, Some(id), format!("regex too large or invalid: {message}")));
    }
    Ok(folded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_index_places_every_offset_where_counting_from_the_top_does() {
        let text = "[pack]\nname = \"é\"\n\n# ünïcödé — “quotes”\r\nid = 'x'\n";
        let source = PackSource::new("p.toml", text, true);
        // Every offset, on char boundaries or not, and past the end.
        for offset in 0..=text.len() + 2 {
            let (indexed, counted) = (source.at(offset), SourceLocation::at("p.toml", text, offset));
            assert_eq!(
                (indexed.line, indexed.column),
                (counted.line, counted.column),
                "offset {offset}"
            );
        }
    }
}
