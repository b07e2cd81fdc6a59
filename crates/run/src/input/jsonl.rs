//! JSONL shards: one JSON object per line, read a line at a time.
//!
//! A line is read into a buffer that never grows past `--max-doc-bytes`: a
//! longer line is skipped to its newline and refused, so one 200 MB record
//! costs a refusal, not 200 MB. Each field's raw JSON is kept as written
//! (`serde_json`'s `RawValue`), so the record goes back out with every field
//! but the text byte for byte, in its order. A record with a top-level key
//! twice is refused: which copy a reader takes varies (most take the last),
//! and cleaning one while the other went out raw leaked uncleaned text.

use std::fmt;
use std::io::{self, BufRead};
use std::path::Path;
use std::sync::Arc;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::{
    compress, BadRecord, BadRecordKind, Compression, Document, Envelope, Item, JsonlRecord, ReadSettings, StreamError,
    RAW_EXCERPT_BYTES,
};
use dechaff_engine::hash::sha256_hex;

use crate::provenance::DocumentLocation;

/// A buffer that held a huge line is given back rather than kept for the next one.
const KEEP_CAPACITY: usize = 4 * 1024 * 1024;

pub(super) struct JsonlReader {
    stream: Box<dyn BufRead + Send>,
    source: Arc<Path>,
    compression: Compression,
    settings: ReadSettings,
    /// Lines read so far (the next line's number is this plus one).
    line: u64,
    /// Decompressed bytes consumed so far.
    offset: u64,
    /// Records (non-blank lines) seen so far.
    index: u64,
    buffer: Vec<u8>,
}

enum Line {
    /// A line of this many bytes, line end included, is in the buffer.
    Read(u64),
    /// A line was consumed but not kept: bytes consumed, and its length without the line end.
    TooLong {
        consumed: u64,
        content: u64,
    },
    End,
}

impl JsonlReader {
    pub(super) fn new(
        stream: Box<dyn BufRead + Send>,
        source: Arc<Path>,
        compression: Compression,
        settings: ReadSettings,
    ) -> JsonlReader {
        JsonlReader {
            stream,
            source,
            compression,
            settings,
            line: 0,
            offset: 0,
            index: 0,
            buffer: Vec::new(),
        }
    }

    pub(super) fn next_item(&mut self) -> Option<Result<Item, StreamError>> {
        loop {
            if self.buffer.capacity() > KEEP_CAPACITY {
                self.buffer = Vec::new();
            }
            let location = DocumentLocation {
                index: self.index,
                line: Some(self.line + 1),
                offset: self.offset,
                ..DocumentLocation::default()
            };
            let read = match read_line_bounded(&mut *self.stream, &mut self.buffer, self.settings.max_doc_bytes) {
                Ok(read) => read,
                Err(e) => {
                    return Some(Err(StreamError {
                        location,
                        message: compress::describe_stream_error(self.compression, &e),
                    }))
                }
            };
            self.line += 1;
            match read {
                Line::End => return None,
                Line::TooLong { consumed, content } => {
                    self.offset += consumed;
                    self.index += 1;
                    return Some(Ok(Item::Bad(Box::new(BadRecord {
                        location,
                        reason: BadRecordKind::TooLarge {
                            bytes: content,
                            limit: self.settings.max_doc_bytes,
                        },
                        raw_bytes: content,
                        raw_excerpt: std::mem::take(&mut self.buffer),
                    }))));
                }
                Line::Read(bytes) => {
                    self.offset += bytes;
                    let mut end = self.buffer.len();
                    for terminator in [b'\n', b'\r'] {
                        if end > 0 && self.buffer[end - 1] == terminator {
                            end -= 1;
                        }
                    }
                    if self.buffer[..end].iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    self.index += 1;
                    // The record keeps the line itself: a large record is held once, not twice.
                    let mut line = std::mem::take(&mut self.buffer);
                    line.truncate(end);
                    return Some(Ok(parse_record(line, location, &self.source, &self.settings)));
                }
            }
        }
    }
}

/// Reads one line (with its `\n`) into `buffer`, unless it is longer than
/// `limit` bytes: then it is consumed without being kept, and its first
/// [`RAW_EXCERPT_BYTES`] stay in the buffer for the reject file.
fn read_line_bounded(stream: &mut dyn BufRead, buffer: &mut Vec<u8>, limit: u64) -> io::Result<Line> {
    buffer.clear();
    let mut total: u64 = 0;
    let mut over = false;
    loop {
        let available = match stream.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(match (total, over) {
                (0, _) => Line::End,
                (_, true) => Line::TooLong {
                    consumed: total,
                    content: total,
                },
                (_, false) => Line::Read(total),
            });
        }
        let (chunk, done) = match memchr::memchr(b'\n', available) {
            Some(end) => (&available[..=end], true),
            None => (available, false),
        };
        let n = chunk.len();
        total += n as u64;
        let content = total - u64::from(done);
        if !over && content > limit {
            over = true;
            let keep = RAW_EXCERPT_BYTES.saturating_sub(buffer.len()).min(n);
            buffer.extend_from_slice(&chunk[..keep]);
            buffer.truncate(RAW_EXCERPT_BYTES);
            buffer.shrink_to(RAW_EXCERPT_BYTES);
        } else if !over {
            buffer.extend_from_slice(chunk);
        }
        stream.consume(n);
        if done {
            return Ok(if over {
                Line::TooLong {
                    consumed: total,
                    content,
                }
            } else {
                Line::Read(total)
            });
        }
    }
}

/// The top-level fields of a JSON object, in order, each as written.
struct Fields<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Fields<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldsVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for FieldsVisitor<'a> {
            type Value = Fields<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Fields<'a>, M::Error> {
                let mut fields = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, &'de RawValue>()? {
                    fields.push((key, value));
                }
                Ok(Fields(fields))
            }
        }
        deserializer.deserialize_map(FieldsVisitor(std::marker::PhantomData))
    }
}

/// The top-level fields of the JSON object `raw`, each as written; `None`
/// when `raw` is not an object.
pub(crate) fn object_fields(raw: &str) -> Option<Vec<(String, &RawValue)>> {
    serde_json::from_str::<Fields<'_>>(raw)
        .ok()
        .map(|Fields(fields)| fields)
}

/// The JSON type of a raw value, from its first byte.
pub(crate) fn json_type(raw: &str) -> &'static str {
    match raw.trim_start().as_bytes().first() {
        Some(b'{') => "object",
        Some(b'[') => "array",
        Some(b'"') => "string",
        Some(b't' | b'f') => "boolean",
        Some(b'n') => "null",
        _ => "number",
    }
}

fn parse_record(owned: Vec<u8>, mut location: DocumentLocation, source: &Arc<Path>, settings: &ReadSettings) -> Item {
    let line = &owned[..];
    let bad = |location: DocumentLocation, reason: BadRecordKind| {
        Item::Bad(Box::new(BadRecord {
            location,
            reason,
            raw_bytes: line.len() as u64,
            raw_excerpt: line[..line.len().min(RAW_EXCERPT_BYTES)].to_vec(),
        }))
    };
    let text = match std::str::from_utf8(line) {
        Ok(text) => text,
        Err(e) => {
            return bad(
                location,
                BadRecordKind::NotUtf8 {
                    offset: e.valid_up_to(),
                },
            )
        }
    };
    if !text.trim_start().starts_with('{') {
        return match serde_json::from_str::<IgnoredAny>(text) {
            Ok(_) => bad(location, BadRecordKind::NotAnObject(json_type(text))),
            Err(e) => bad(location, BadRecordKind::MalformedJson(e.to_string())),
        };
    }
    let fields = match serde_json::from_str::<Fields<'_>>(text) {
        Ok(Fields(fields)) => fields,
        Err(e) => return bad(location, BadRecordKind::MalformedJson(e.to_string())),
    };
    if let Some(key) = duplicate_key(&fields) {
        return bad(location, BadRecordKind::DuplicateKey(key.to_string()));
    }
    let find = |name: &str| fields.iter().position(|(key, _)| key == name);
    location.id = find(&settings.id_field).and_then(|i| scalar_text(fields[i].1.get()));
    location.url = find("url")
        .and_then(|i| serde_json::from_str::<String>(fields[i].1.get()).ok())
        .or_else(|| {
            let metadata = fields[find("metadata")?].1.get();
            let (_, url) = object_fields(metadata)?.into_iter().find(|(key, _)| key == "url")?;
            serde_json::from_str::<String>(url.get()).ok()
        });
    let Some(text_field) = find(&settings.text_field) else {
        return bad(location, BadRecordKind::MissingTextField(settings.text_field.clone()));
    };
    let raw_text = fields[text_field].1.get();
    let document_text = match serde_json::from_str::<String>(raw_text) {
        Ok(document_text) => document_text,
        Err(e) if json_type(raw_text) == "string" => {
            return bad(
                location,
                BadRecordKind::TextFieldBadString {
                    field: settings.text_field.clone(),
                    message: match lone_surrogate(raw_text) {
                        Some(escape) => format!("{escape} is half of a UTF-16 surrogate pair, without its other half"),
                        None => e.to_string(),
                    },
                },
            )
        }
        Err(_) => {
            return bad(
                location,
                BadRecordKind::TextFieldNotString {
                    field: settings.text_field.clone(),
                    found: json_type(raw_text),
                },
            )
        }
    };
    let base = text.as_ptr() as usize;
    let ranges = fields
        .into_iter()
        .map(|(key, raw)| {
            let start = raw.get().as_ptr() as usize - base;
            (key, start..start + raw.get().len())
        })
        .collect();
    let raw_bytes = line.len() as u64;
    let raw_sha256 = sha256_hex(line);
    Item::Document(Box::new(Document {
        source: Arc::clone(source),
        location,
        text: document_text,
        encoding: "UTF-8",
        lossy: false,
        raw_bytes,
        raw_sha256,
        envelope: Envelope::Jsonl(JsonlRecord {
            line: String::from_utf8(owned).expect("checked to be UTF-8 above"),
            fields: ranges,
            text_field,
        }),
    }))
}

/// The first `\\uXXXX` escape of the JSON string `raw` that is a UTF-16
/// surrogate without its pair (which decodes to no character).
fn lone_surrogate(raw: &str) -> Option<&str> {
    let bytes = raw.as_bytes();
    let escape_at = |at: usize| -> Option<u16> {
        let hex = raw.get(at + 2..at + 6)?;
        (bytes[at + 1] == b'u').then(|| u16::from_str_radix(hex, 16).ok())?
    };
    let mut at = 0;
    while at + 1 < bytes.len() {
        if bytes[at] != b'\\' {
            at += 1;
            continue;
        }
        match escape_at(at) {
            Some(0xD800..=0xDBFF) if matches!(escape_at(at + 6), Some(0xDC00..=0xDFFF)) => at += 12,
            Some(0xD800..=0xDFFF) => return raw.get(at..at + 6),
            Some(_) => at += 6,
            None => at += 2,
        }
    }
    None
}

/// The first key that appears twice among `fields`. A record has few keys,
/// so sorting references to them costs less than hashing.
fn duplicate_key<'a>(fields: &'a [(String, &RawValue)]) -> Option<&'a str> {
    if fields.len() < 2 {
        return None;
    }
    let mut keys: Vec<(&str, usize)> = fields
        .iter()
        .enumerate()
        .map(|(i, (key, _))| (key.as_str(), i))
        .collect();
    keys.sort_unstable();
    // Of the repeated keys, name the one whose second copy comes first.
    keys.windows(2)
        .filter(|pair| pair[0].0 == pair[1].0)
        .min_by_key(|pair| pair[1].1)
        .map(|pair| pair[0].0)
}

/// A string's value, or a number as written; other JSON has no text form as an id.
fn scalar_text(raw: &str) -> Option<String> {
    match json_type(raw) {
        "string" => serde_json::from_str::<String>(raw).ok(),
        "number" => Some(raw.trim().to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{Documents, InputFormat};

    fn items(input: &str, settings: &ReadSettings) -> Vec<Result<Item, StreamError>> {
        let reader = JsonlReader::new(
            Box::new(io::Cursor::new(input.as_bytes().to_vec())),
            Arc::from(Path::new("shard.jsonl")),
            Compression::None,
            settings.clone(),
        );
        let mut documents = Documents {
            reader: super::super::Reader::Jsonl(reader),
            tally: Default::default(),
            finished: false,
        };
        std::iter::from_fn(|| documents.next_item()).collect()
    }

    fn reason(item: &Result<Item, StreamError>) -> String {
        match item {
            Ok(Item::Bad(bad)) => format!("{}: {}", bad.location, bad.reason),
            other => panic!("not a bad record: {other:?}"),
        }
    }

    #[test]
    fn fields_keep_their_raw_json_and_order() {
        let line = "{\"z\": [1, 2.50], \"text\":\"A\\nB\", \"id\": 7, \"metadata\": {\"url\": \"https://Ex.org/a\"}}\n";
        let all = items(line, &ReadSettings::default());
        let Ok(Item::Document(document)) = &all[0] else {
            panic!("{all:?}")
        };
        assert_eq!(document.text, "A\nB");
        assert_eq!(document.location.id.as_deref(), Some("7"));
        assert_eq!(document.host().as_deref(), Some("ex.org"));
        let Envelope::Jsonl(record) = &document.envelope else {
            panic!()
        };
        assert_eq!(record.raw("z"), Some("[1, 2.50]"));
        let names: Vec<&str> = record.fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["z", "text", "id", "metadata"]);
        assert_eq!(document.field("z").as_deref(), Some("[1, 2.50]"));
        let _ = InputFormat::Jsonl;
    }

    #[test]
    fn bad_lines_are_refused_with_their_line_and_the_rest_is_read() {
        let input =
            "{\"text\":\"ok\"}\n\n{\"text\": 3}\n{\"id\":1}\n[1]\n{\"text\":\"unterminated}\n{\"text\":\"fine\"}";
        let all = items(input, &ReadSettings::default());
        assert_eq!(all.len(), 6);
        assert_eq!(
            reason(&all[1]),
            "line 3: the \"text\" field is a number, not a string (--text-field)"
        );
        assert_eq!(
            reason(&all[2]),
            "line 4: the record has no \"text\" field (--text-field)"
        );
        assert_eq!(reason(&all[3]), "line 5: the record is an array, not an object");
        assert!(reason(&all[4]).starts_with("line 6: malformed JSON: EOF while parsing a string"));
        assert!(matches!(&all[5], Ok(Item::Document(d)) if d.text == "fine" && d.location.index == 5));
    }

    /// Regression: `{"text": A, "text": B}` had A cleaned and B passed through
    /// raw, and most readers (Python's `json`, pandas) take B.
    #[test]
    fn a_record_with_a_key_twice_is_refused_by_name() {
        let input = "{\"text\":\"A\",\"id\":1,\"text\":\"Share This B\"}\n{\"id\":2,\"meta\":{\"a\":1,\"a\":2},\"text\":\"C\"}\n";
        let all = items(input, &ReadSettings::default());
        assert_eq!(
            reason(&all[0]),
            "line 1: the key \"text\" appears more than once in the record"
        );
        // A nested object is passed through as written and is not the text.
        assert!(matches!(&all[1], Ok(Item::Document(d)) if d.text == "C"));
    }

    /// Regression: a lone surrogate escape was reported as `the "text" field
    /// is a string, not a string`.
    #[test]
    fn a_lone_surrogate_in_the_text_is_named_as_such() {
        let all = items(
            "{\"text\":\"a\\\\u00e9\\ud83d\\ude00\\ud800b\"}\n{\"text\":\"\\\\ud800 \\ud83d\\ude00\"}\n",
            &ReadSettings::default(),
        );
        let message = reason(&all[0]);
        // An escaped backslash before `u` and a whole pair are no surrogate escapes.
        assert!(matches!(&all[1], Ok(Item::Document(d)) if d.text == "\\ud800 \u{1f600}"));
        assert!(
            message == "line 1: the \"text\" field is not a valid JSON string: \\ud800 is half of a UTF-16 surrogate pair, without its other half",
            "{message}"
        );
    }

    #[test]
    fn a_line_over_the_limit_is_skipped_without_being_held() {
        let settings = ReadSettings {
            max_doc_bytes: 100,
            ..ReadSettings::default()
        };
        let long = format!("{{\"text\":\"{}\"}}\n{{\"text\":\"after\"}}\n", "x".repeat(100_000));
        let all = items(&long, &settings);
        assert_eq!(
            reason(&all[0]),
            "line 1: the record is 100011 bytes, over --max-doc-bytes 100; not cleaned"
        );
        assert!(matches!(&all[1], Ok(Item::Document(d)) if d.text == "after" && d.location.offset == 100_012));
    }
}
