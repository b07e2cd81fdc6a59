//! WARC and WET files: `conversion` and `response` records become documents.
//!
//! The header grammar is the `warc` crate's (`warc::parser::headers`); the
//! framing around it is done here, because the crate's readers buffer a whole
//! body, give no offsets, and cannot find their feet again after a broken
//! record. Here a header block is read a line at a time up to
//! [`MAX_HEADER_BYTES`], a body only up to `--max-doc-bytes` (the rest is
//! skipped), every record's byte offset in the decompressed stream is known,
//! and after a broken record the reader skips to the next line that starts a
//! record (`WARC/1.`), so one bad record costs one record.
//!
//! A `response` record's body is an HTTP message: its status line and headers
//! are skipped and the payload decoded as text. Binary payloads (images) and
//! every other record type are counted as not being documents.

use std::io::{self, BufRead, Read};
use std::path::Path;
use std::sync::Arc;

use super::{
    compress, BadRecord, BadRecordKind, Compression, Document, Envelope, Item, ReadSettings, StreamError, WarcHeaders,
    RAW_EXCERPT_BYTES,
};
use crate::decode::decode;
use dechaff_engine::hash::sha256_hex;

use crate::provenance::DocumentLocation;

/// A header block longer than this is a broken record, not a reason to buffer on.
pub const MAX_HEADER_BYTES: usize = 1024 * 1024;

pub(super) struct WarcReader {
    stream: Box<dyn BufRead + Send>,
    source: Arc<Path>,
    compression: Compression,
    settings: ReadSettings,
    /// Decompressed bytes consumed so far.
    offset: u64,
    /// Records started so far.
    index: u64,
    /// A record-start line found while resynchronising, not yet parsed.
    pending_line: Option<(u64, Vec<u8>)>,
    line: Vec<u8>,
}

/// Why a record ended the way it did.
enum Failure {
    /// The stream itself broke.
    Stream(io::Error),
    /// This record is broken; resynchronise.
    Broken(String),
    /// The stream ended inside this record.
    Truncated(String),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        Failure::Stream(e)
    }
}

impl WarcReader {
    pub(super) fn new(
        stream: Box<dyn BufRead + Send>,
        source: Arc<Path>,
        compression: Compression,
        settings: ReadSettings,
    ) -> WarcReader {
        WarcReader {
            stream,
            source,
            compression,
            settings,
            offset: 0,
            index: 0,
            pending_line: None,
            line: Vec::new(),
        }
    }

    /// Reads one line (at most `limit` bytes kept); returns the bytes consumed.
    fn read_line(&mut self, limit: usize) -> io::Result<usize> {
        self.line.clear();
        let mut consumed = 0;
        loop {
            let available = self.stream.fill_buf()?;
            if available.is_empty() {
                return Ok(consumed);
            }
            let (n, done) = match memchr::memchr(b'\n', available) {
                Some(end) => (end + 1, true),
                None => (available.len(), false),
            };
            let keep = n.min(limit.saturating_sub(self.line.len()));
            self.line.extend_from_slice(&available[..keep]);
            self.stream.consume(n);
            consumed += n;
            self.offset += n as u64;
            if done {
                return Ok(consumed);
            }
        }
    }

    /// Skips to the next line that starts a record; `None` at the end of the stream.
    fn next_record_start(&mut self) -> io::Result<Option<(u64, Vec<u8>)>> {
        if let Some(pending) = self.pending_line.take() {
            return Ok(Some(pending));
        }
        loop {
            let start = self.offset;
            if self.read_line(MAX_HEADER_BYTES)? == 0 {
                return Ok(None);
            }
            if self.line.starts_with(b"WARC/") {
                return Ok(Some((start, std::mem::take(&mut self.line))));
            }
        }
    }

    pub(super) fn next_item(&mut self) -> Option<Result<Item, StreamError>> {
        loop {
            let (start, first_line) = match self.next_record_start() {
                Ok(Some(found)) => found,
                Ok(None) => return None,
                Err(e) => {
                    return Some(Err(StreamError {
                        location: self.location_here(self.offset),
                        message: compress::describe_stream_error(self.compression, &e),
                    }))
                }
            };
            let mut location = self.location_here(start);
            self.index += 1;
            match self.read_record(first_line, &mut location) {
                Ok(Some(item)) => return Some(Ok(item)),
                Ok(None) => continue,
                Err(Failure::Stream(e)) => {
                    return Some(Err(StreamError {
                        location,
                        message: compress::describe_stream_error(self.compression, &e),
                    }))
                }
                Err(Failure::Broken(message)) => {
                    return Some(Ok(Item::Bad(Box::new(BadRecord {
                        raw_bytes: self.offset - start,
                        location,
                        reason: BadRecordKind::BrokenWarc(message),
                        raw_excerpt: Vec::new(),
                    }))))
                }
                Err(Failure::Truncated(message)) => {
                    return Some(Err(StreamError {
                        location,
                        message: format!("truncated WARC record: {message}"),
                    }))
                }
            }
        }
    }

    fn location_here(&self, offset: u64) -> DocumentLocation {
        DocumentLocation {
            index: self.index,
            offset,
            ..DocumentLocation::default()
        }
    }

    /// Reads the record whose first line is `first_line`. `Ok(None)` for a
    /// record that is not a document.
    fn read_record(&mut self, first_line: Vec<u8>, location: &mut DocumentLocation) -> Result<Option<Item>, Failure> {
        let mut block = first_line;
        loop {
            let line_start = self.offset;
            if self.read_line(MAX_HEADER_BYTES)? == 0 {
                return Err(Failure::Truncated(
                    "the stream ends inside the header block".to_string(),
                ));
            }
            if self.line.starts_with(b"WARC/") {
                // A new record begins before this one's headers ended.
                self.pending_line = Some((line_start, std::mem::take(&mut self.line)));
                return Err(Failure::Broken(
                    "the header block has no blank line after it".to_string(),
                ));
            }
            block.extend_from_slice(&self.line);
            if self.line == b"\r\n" || self.line == b"\n" {
                break;
            }
            if block.len() > MAX_HEADER_BYTES {
                return Err(Failure::Broken(format!(
                    "header block longer than {MAX_HEADER_BYTES} bytes"
                )));
            }
        }
        let headers = parse_headers(&block)?;
        location.id = headers.get("WARC-Record-ID").map(str::to_string);
        location.url = headers.get("WARC-Target-URI").map(str::to_string);
        let length: u64 = match headers.get("Content-Length").map(|v| v.trim().parse::<u64>()) {
            Some(Ok(length)) => length,
            Some(Err(_)) => return Err(Failure::Broken("Content-Length is not a number".to_string())),
            None => return Err(Failure::Broken("no Content-Length header".to_string())),
        };
        let record_type = headers.get("WARC-Type").unwrap_or("").to_ascii_lowercase();
        let wanted = matches!(record_type.as_str(), "conversion" | "response");
        let limit = self.settings.max_doc_bytes;
        // A body within the limit is held, even a record that is not a
        // document: when its Content-Length is too long, the next record's
        // start is found inside it and read again (below), rather than
        // swallowed.
        let body = if length <= limit {
            let mut body = Vec::with_capacity(length as usize);
            (&mut self.stream).take(length).read_to_end(&mut body)?;
            self.offset += body.len() as u64;
            if (body.len() as u64) < length {
                if let Some(at) = record_start_inside(&body) {
                    return Err(self.give_back(length, &body, at, Vec::new()));
                }
                return Err(Failure::Truncated(format!(
                    "Content-Length is {length} but the stream ends after {} bytes of body",
                    body.len()
                )));
            }
            Some(body)
        } else {
            let skipped = io::copy(&mut (&mut self.stream).take(length), &mut io::sink())?;
            self.offset += skipped;
            if skipped < length {
                return Err(Failure::Truncated(format!(
                    "Content-Length is {length} but the stream ends after {skipped} bytes of body"
                )));
            }
            None
        };
        let mut after = Vec::new();
        if let Err(failure) = self.check_record_end(&mut after) {
            return Err(match (&body, &failure) {
                (Some(body), Failure::Broken(_)) => match record_start_inside(body) {
                    Some(at) if !after.is_empty() => self.give_back(length, body, at, after),
                    _ => failure,
                },
                _ => failure,
            });
        }
        let body = body.filter(|_| wanted);
        if !wanted {
            let kind = if record_type.is_empty() {
                "untyped"
            } else {
                record_type.as_str()
            };
            return Ok(Some(Item::NotADocument(format!("WARC {kind} record"))));
        }
        let Some(body) = body else {
            return Ok(Some(Item::Bad(Box::new(BadRecord {
                location: location.clone(),
                reason: BadRecordKind::TooLarge { bytes: length, limit },
                raw_bytes: length,
                raw_excerpt: block[..block.len().min(RAW_EXCERPT_BYTES)].to_vec(),
            }))));
        };
        let payload = if record_type == "response" {
            http_payload(&body)
        } else {
            &body[..]
        };
        let decoded = match decode(payload, self.settings.encoding) {
            Ok(decoded) => decoded,
            Err(_) if record_type == "response" => {
                return Ok(Some(Item::NotADocument(
                    "WARC response with a binary payload".to_string(),
                )))
            }
            Err(e) => {
                return Ok(Some(Item::Bad(Box::new(BadRecord {
                    location: location.clone(),
                    reason: BadRecordKind::Undecodable(e.to_string()),
                    raw_bytes: length,
                    raw_excerpt: block[..block.len().min(RAW_EXCERPT_BYTES)].to_vec(),
                }))))
            }
        };
        Ok(Some(Item::Document(Box::new(Document {
            source: Arc::clone(&self.source),
            location: location.clone(),
            encoding: decoded.encoding,
            lossy: decoded.lossy,
            text: decoded.text.into_owned(),
            raw_bytes: length,
            raw_sha256: sha256_hex(&body),
            envelope: Envelope::Warc(headers),
        }))))
    }

    /// A record ends with two line ends (`\r\n\r\n`); a missing pair at the
    /// very end of the stream is tolerated, anything else means the
    /// Content-Length was wrong. The lines read are appended to `after`, left
    /// empty when one was too long to keep whole.
    fn check_record_end(&mut self, after: &mut Vec<u8>) -> Result<(), Failure> {
        let mut whole = true;
        let result = (|| {
            for _ in 0..2 {
                let line_start = self.offset;
                let consumed = self.read_line(MAX_HEADER_BYTES)?;
                if consumed == 0 {
                    return Ok(());
                }
                whole &= consumed == self.line.len();
                after.extend_from_slice(&self.line);
                if self.line != b"\r\n" && self.line != b"\n" {
                    if self.line.starts_with(b"WARC/") {
                        self.pending_line = Some((line_start, std::mem::take(&mut self.line)));
                    }
                    return Err(Failure::Broken(
                        "the body does not end where Content-Length says (no blank line after it)".to_string(),
                    ));
                }
            }
            Ok(())
        })();
        if !whole {
            after.clear();
        }
        result
    }

    /// A Content-Length too long took in the start of the next record: the
    /// bytes from `body[at..]` on (and `after`, the lines read past the
    /// body) go back in front of the stream to be read again, and this
    /// record is broken. One wrong length costs one record, not two.
    fn give_back(&mut self, length: u64, body: &[u8], at: usize, after: Vec<u8>) -> Failure {
        let mut again = body[at..].to_vec();
        again.extend_from_slice(&after);
        self.offset -= again.len() as u64;
        self.pending_line = None;
        let rest = std::mem::replace(&mut self.stream, Box::new(io::empty()));
        self.stream = Box::new(io::Cursor::new(again).chain(rest));
        Failure::Broken(format!(
            "Content-Length is {length} but the next record starts {at} bytes into the body"
        ))
    }
}

/// Where a record starts inside `body`, when it does: a `WARC/1.` line after
/// a blank line (the end of the record before it).
fn record_start_inside(body: &[u8]) -> Option<usize> {
    memchr::memmem::find_iter(body, b"\nWARC/1.")
        .map(|newline| newline + 1)
        .find(|&at| body[..at].ends_with(b"\r\n\r\n") || body[..at].ends_with(b"\n\n"))
}

fn parse_headers(block: &[u8]) -> Result<WarcHeaders, Failure> {
    let line_of = |rest: &[u8]| {
        block[..block.len() - rest.len()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    };
    let not_a_header = |rest: &[u8]| Failure::Broken(format!("header line {} is not `Name: value`", line_of(rest)));
    let (rest, (version, fields, _)) = warc::parser::headers(block).map_err(|e| match &e {
        nom::Err::Error(inner) | nom::Err::Failure(inner) => not_a_header(inner.input),
        nom::Err::Incomplete(_) => Failure::Broken("the header block ends early".to_string()),
    })?;
    // The parser stops at the first line that is not a header; only the
    // blank line that ends the block may follow.
    if rest != b"\r\n" && rest != b"\n" {
        return Err(not_a_header(rest));
    }
    Ok(WarcHeaders {
        version: version.to_string(),
        fields: fields
            .into_iter()
            .map(|(name, value)| (name.to_string(), String::from_utf8_lossy(value).into_owned()))
            .collect(),
    })
}

/// The payload of an HTTP response: what follows the first blank line, when
/// the body starts with a status line.
fn http_payload(body: &[u8]) -> &[u8] {
    if !body.starts_with(b"HTTP/") {
        return body;
    }
    let crlf = memchr::memmem::find(body, b"\r\n\r\n").map(|i| i + 4);
    let lf = memchr::memmem::find(body, b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => &body[a.min(b)..],
        (Some(a), None) | (None, Some(a)) => &body[a..],
        (None, None) => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{Documents, Reader};

    pub(crate) fn record(kind: &str, uri: &str, body: &str) -> String {
        format!(
            "WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Target-URI: {uri}\r\nWARC-Record-ID: <urn:uuid:{uri}>\r\nContent-Length: {}\r\n\r\n{body}\r\n\r\n",
            body.len()
        )
    }

    fn items(input: &str) -> Vec<Result<Item, StreamError>> {
        let reader = WarcReader::new(
            Box::new(io::Cursor::new(input.as_bytes().to_vec())),
            Arc::from(Path::new("a.warc")),
            Compression::None,
            ReadSettings::default(),
        );
        let mut documents = Documents {
            reader: Reader::Warc(reader),
            tally: Default::default(),
            finished: false,
        };
        std::iter::from_fn(|| documents.next_item()).collect()
    }

    #[test]
    fn conversion_and_response_records_are_documents_and_the_rest_are_counted() {
        let input = [
            record("warcinfo", "", "software: test"),
            record("conversion", "https://a.example/x", "Title\nBody line.\n"),
            record("request", "https://b.example/", "GET / HTTP/1.1\r\n\r\n"),
            record(
                "response",
                "https://b.example/",
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nPayload text.\n",
            ),
        ]
        .concat();
        let all = items(&input);
        assert_eq!(all.len(), 4);
        assert!(matches!(&all[0], Ok(Item::NotADocument(why)) if why == "WARC warcinfo record"));
        let Ok(Item::Document(first)) = &all[1] else {
            panic!("{:?}", all[1])
        };
        assert_eq!(first.text, "Title\nBody line.\n");
        assert_eq!(first.host().as_deref(), Some("a.example"));
        assert_eq!(
            first.location.offset,
            record("warcinfo", "", "software: test").len() as u64
        );
        assert_eq!(first.field("warc-type").as_deref(), Some("conversion"));
        let Ok(Item::Document(response)) = &all[3] else {
            panic!("{:?}", all[3])
        };
        assert_eq!(response.text, "Payload text.\n");
    }

    #[test]
    fn a_broken_record_costs_that_record_only() {
        let good = record("conversion", "https://a.example/", "Kept.\n");
        let wrong_length = good.replace("Content-Length: 6", "Content-Length: 3");
        let bad_header = "WARC/1.0\r\nthis is not a header\r\n\r\nbody\r\n\r\n".to_string();
        let bad_header_len = bad_header.len();
        let input = [good.clone(), wrong_length, bad_header, good].concat();
        let all = items(&input);
        let summary: Vec<String> = all
            .iter()
            .map(|item| match item {
                Ok(Item::Document(d)) => format!("doc@{}", d.location.offset),
                Ok(Item::Bad(b)) => format!("bad@{}: {}", b.location.offset, b.reason),
                other => format!("{other:?}"),
            })
            .collect();
        let len = record("conversion", "https://a.example/", "Kept.\n").len();
        assert_eq!(
            summary,
            [
                "doc@0".to_string(),
                format!(
                    "bad@{len}: broken WARC record: the body does not end where Content-Length says (no blank line after it)"
                ),
                format!("bad@{}: broken WARC record: header line 2 is not `Name: value`", 2 * len),
                format!("doc@{}", 2 * len + bad_header_len),
            ]
        );
    }

    #[test]
    fn a_record_cut_short_ends_the_stream_with_its_offset() {
        let good = record("conversion", "https://a.example/", "Kept.\n");
        let cut = record("conversion", "https://b.example/", "A body that the file cuts off.");
        let input = format!("{good}{}", &cut[..cut.len() - 12]);
        let all = items(&input);
        assert!(matches!(&all[0], Ok(Item::Document(_))));
        let Err(error) = &all[1] else { panic!("{:?}", all[1]) };
        assert_eq!(error.location.offset, good.len() as u64);
        assert!(
            error.message.starts_with("truncated WARC record: Content-Length is 30"),
            "{}",
            error.message
        );
    }

    /// Regression: a Content-Length longer than the body took in the next
    /// record (or, at the end of the stream, ended it as truncated): the
    /// record with the wrong length is refused and the next one is read.
    #[test]
    fn a_content_length_too_long_does_not_swallow_the_next_record() {
        let first = record("conversion", "https://a.example/", "Short.\n");
        let second = record("conversion", "https://b.example/", "Second body.\n");
        let third = record("conversion", "https://c.example/", "Third body.\n");
        let summary = |input: &str| -> Vec<String> {
            items(input)
                .iter()
                .map(|item| match item {
                    Ok(Item::Document(d)) => format!("doc@{}: {}", d.location.offset, d.text.trim_end()),
                    Ok(Item::Bad(b)) => format!("bad@{}: {}", b.location.offset, b.reason),
                    Err(e) => format!("err@{}: {}", e.location.offset, e.message),
                    Ok(other) => format!("{other:?}"),
                })
                .collect()
        };
        let bad = |length: usize| {
            format!(
                "bad@0: broken WARC record: Content-Length is {length} but the next record starts {} bytes into the body",
                "Short.\n\r\n\r\n".len()
            )
        };
        // Into the middle of the next record's body.
        let long = first.replace("Content-Length: 7", "Content-Length: 80");
        assert_eq!(
            summary(&[long.clone(), second.clone(), third.clone()].concat()),
            [
                bad(80),
                format!("doc@{}: Second body.", long.len()),
                format!("doc@{}: Third body.", long.len() + second.len()),
            ]
        );
        // Past the end of the stream.
        let longer = first.replace("Content-Length: 7", "Content-Length: 9999");
        assert_eq!(
            summary(&[longer.clone(), second.clone()].concat()),
            [bad(9999), format!("doc@{}: Second body.", longer.len())]
        );
    }
}
