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
    fn scores_are_numbers_with_a_fraction() {
        assert_eq!(number(1.0), "1.0");
        assert_eq!(number(5.0), "5.0");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(f32::NAN), "0.0");
        assert!(number(f32::INFINITY).parse::<f64>().unwrap().is_finite());
    }
}
