//! dolma attribute records: what `--attributes` writes for each document.
//!
//! dolma keeps documents and the spans tagged on them apart: for a document
//! file `…/documents/PATH`, its mixer reads `…/attributes/NAME/PATH`, the same
//! relative path and file name, one line per document line, in the same
//! order, `{"id": …, "attributes": {KEY: [[start, end, score], …]}}`. Its
//! `span_replacement` parses each span's start and end as integers and the
//! score as a number (a string there makes it panic), and slices the text by
//! characters: offsets are Python string indices (Unicode code points),
//! where dechaff's own provenance counts bytes of UTF-8.
//!
//! So a span carries its rule as far as dolma allows: each rule family (the
//! pack, the part of the rule id before its first dot) gets an attribute key
//! of its own, `dechaff__PACK` (`dechaff__social`, `dechaff__photo_credits`,
//! `dechaff__corpus`), and the whitespace dropped by normalisation goes under
//! `dechaff__whitespace`. A mixer can then remove every family, or keep some
//! (leave out `dechaff__bylines` to keep bylines), and threshold the scored
//! families with `min_score`. The score is the rule's own where it scores
//! (the classifier's probability, corpus mode's document count, a comment
//! cut's furniture lines) and 1.0 otherwise. The exact rule id of every span
//! stays in the run's provenance, beside the attribute files.

use std::collections::BTreeMap;

use crate::input::{Document, Envelope};
use crate::provenance::{Record, WhitespaceSpan};

/// What every attribute key dechaff writes begins with.
pub const KEY_PREFIX: &str = "dechaff__";

/// The key of the whitespace dropped by normalisation.
pub const WHITESPACE_KEY: &str = "dechaff__whitespace";

/// The attribute key of a rule's family: `dechaff__` and the rule's pack
/// (the id up to its first dot), lower case, every character other than a
/// letter, digit or `_` made `_`, so that the key is a plain JSONPath name.
pub fn key_of(rule_id: &str) -> String {
    let family = rule_id.split('.').next().unwrap_or(rule_id);
    let mut key = String::with_capacity(KEY_PREFIX.len() + family.len());
    key.push_str(KEY_PREFIX);
    key.extend(family.chars().map(|c| {
        if c.is_ascii_alphanumeric() || c == '_' {
            c.to_ascii_lowercase()
        } else {
            '_'
        }
    }));
    key
}

/// One span to write: byte offsets into the decoded text, its key, its score.
struct ByteSpan<'a> {
    start: usize,
    end: usize,
    key: &'a str,
    score: f32,
}

/// The attribute line of a cleaned document: its id as written in the input
/// (so that dolma's id check holds), and every removed and whitespace span
/// in character offsets of the document's text, by key.
pub fn attribute_line(document: &Document, id_field: &str, record: &Record) -> String {
    let keys: Vec<String> = record.removed.iter().map(|span| key_of(&span.rule)).collect();
    let mut spans: Vec<ByteSpan<'_>> = record
        .removed
        .iter()
        .zip(&keys)
        .map(|(span, key)| ByteSpan {
            start: span.bytes.0,
            end: span.bytes.1,
            key,
            score: span.score.unwrap_or(1.0),
        })
        .chain(record.whitespace.iter().map(|span| {
            let (WhitespaceSpan::Range(start, end) | WhitespaceSpan::WithText(start, end, _)) = span;
            ByteSpan {
                start: *start,
                end: *end,
                key: WHITESPACE_KEY,
                score: 1.0,
            }
        }))
        .collect();
    spans.sort_by_key(|span| (span.start, span.end));

    // The spans never overlap, so one walk over the text turns every byte
    // offset into a character offset.
    let text = document.text.as_str();
    let (mut byte, mut chars) = (0usize, 0usize);
    let mut to_chars = |offset: usize| {
        let offset = offset.clamp(byte, text.len());
        chars += text[byte..offset].chars().count();
        byte = offset;
        chars
    };
    let mut by_key: BTreeMap<&str, Vec<(usize, usize, f32)>> = BTreeMap::new();
    for span in &spans {
        let start = to_chars(span.start);
        let end = to_chars(span.end);
        if end > start {
            by_key.entry(span.key).or_default().push((start, end, span.score));
        }
    }

    let mut out = String::from("{\"id\":");
    match &document.envelope {
        Envelope::Jsonl(jsonl) => out.push_str(jsonl.raw(id_field).unwrap_or("null")),
        _ => match document.location.id.as_deref() {
            Some(id) => out.push_str(&serde_json::to_string(id).expect("a string always serializes")),
            None => out.push_str("null"),
        },
    }
    out.push_str(",\"attributes\":{");
    for (i, (key, spans)) in by_key.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        out.push_str(key);
        out.push_str("\":[");
        for (j, (start, end, score)) in spans.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            out.push_str(&format!("[{start},{end},{}]", number(*score)));
        }
        out.push(']');
    }
    out.push_str("}}");
    out
}

/// The attribute line of a record that was not cleaned (malformed, too
/// large, refused by a limit): its id and no attributes. dolma's mixer reads
/// a documents file and its attribute files line by line in step, and stops
/// at the first line whose ids differ, so every record of the documents file
/// gets a line, in place, even one dechaff could not clean.
///
/// The id is what dolma will read from the documents line: the id field
/// when the record parses as an object (serde_json, as dolma reads it, so
/// that of duplicate keys the last one counts), else the id the reader
/// found, else the top-level id field of the first bytes of a record cut
/// short (over the size limit), else null.
pub fn refused_line(raw_record: Option<&[u8]>, known_id: Option<&str>, id_field: &str) -> String {
    let parsed = raw_record
        .and_then(|raw| serde_json::from_slice::<serde_json::Value>(raw).ok())
        .and_then(|value| match value {
            serde_json::Value::Object(mut fields) => Some(fields.remove(id_field).unwrap_or(serde_json::Value::Null)),
            _ => None,
        });
    let id = match (parsed, known_id) {
        (Some(id), _) => id,
        (None, Some(id)) => serde_json::Value::String(id.to_string()),
        (None, None) => raw_record
            .and_then(|raw| top_level_value(raw, id_field))
            .unwrap_or(serde_json::Value::Null),
    };
    format!("{{\"id\":{id},\"attributes\":{{}}}}")
}

/// The value of top-level key `key` in the first bytes of a JSON object cut
/// short (a record over the size limit, of which only a prefix was kept):
/// the id usually comes before the text. A key inside a string or a nested
/// object does not count; `None` when the key is not in the prefix.
fn top_level_value(prefix: &[u8], key: &str) -> Option<serde_json::Value> {
    let wanted = serde_json::to_string(key).ok()?;
    let (mut depth, mut i) = (0usize, 0usize);
    while i < prefix.len() {
        match prefix[i] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'"' => {
                let start = i;
                i += 1;
                while i < prefix.len() && prefix[i] != b'"' {
                    i += if prefix[i] == b'\\' { 2 } else { 1 };
                }
                let is_key = depth == 1 && prefix.get(start..=i) == Some(wanted.as_bytes());
                let rest = prefix.get(i + 1..)?;
                let after = rest.iter().position(|b| !b.is_ascii_whitespace())?;
                if is_key && rest[after] == b':' {
                    let value = &rest[after + 1..];
                    return serde_json::Deserializer::from_slice(value)
                        .into_iter::<serde_json::Value>()
                        .next()?
                        .ok();
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// A score as a JSON number that dolma's `as_f64` reads: always with a
/// fraction (`1.0`), never `NaN` or an infinity (written as 0.0 and the
/// largest finite value, which no JSON reader refuses).
fn number(score: f32) -> String {
    // f32's shortest form: a classifier's 0.87 stays 0.87, not 0.8700000047683716.
    let score = if score.is_nan() {
        0.0
    } else {
        score.clamp(f32::MIN, f32::MAX)
    };
    let text = format!("{score}");
    if text.contains(['.', 'e', 'E']) {
        text
    } else {
        format!("{text}.0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rules_family_is_its_pack_as_a_plain_key() {
        assert_eq!(key_of("social.share-label"), "dechaff__social");
        assert_eq!(key_of("photo-credits.agency-caption"), "dechaff__photo_credits");
        assert_eq!(key_of("corpus.recurring"), "dechaff__corpus");
        assert_eq!(key_of("My.Pack.rule"), "dechaff__my");
    }

    #[test]
    fn the_id_of_a_record_cut_short_is_its_top_level_key() {
        let prefix = br#"{"meta": {"id": "inner"}, "note": "\"id\": no", "id" : "outer", "text": "abc"#;
        assert_eq!(top_level_value(prefix, "id"), Some(serde_json::json!("outer")));
        assert_eq!(top_level_value(br#"{"text": "abc"#, "id"), None);
        assert_eq!(
            refused_line(Some(br#"{"id": 7, "text": "cut he"#), None, "id"),
            r#"{"id":7,"attributes":{}}"#
        );
    }

    #[test]
    fn scores_are_numbers_with_a_fraction() {
        assert_eq!(number(1.0), "1.0");
        assert_eq!(number(5.0), "5.0");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(f32::NAN), "0.0");
        assert!(number(f32::INFINITY).parse::<f64>().unwrap().is_finite());
    }
}
