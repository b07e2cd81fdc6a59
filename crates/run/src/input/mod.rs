//! Inputs as streams of documents: text files, JSONL shards, WARC and WET files.
//!
//! Whatever the container, the engine sees a [`Document`]: where it came from
//! (file, record index, line or byte offset, id, URL), its decoded text, and
//! the envelope needed to write the record back with the clean text in it. A
//! text file is one document; a JSONL shard holds one per line; a WARC file
//! one per `conversion` or `response` record. Each is read front to back
//! through [`compress::decompress`], one record at a time, so a shard of any
//! size costs the memory of its largest record, and a record over
//! `max_doc_bytes` is skipped over without being held.
//!
//! What cannot become a document is reported, never dropped: a record that is
//! malformed comes out as a [`BadRecord`] with its location, a stream that
//! breaks (a truncated gzip member, a read error) ends the file with a
//! [`StreamError`], and records that are deliberately not documents (a WARC
//! `request` or `warcinfo` record) are counted as [`Item::NotADocument`].
//!
//! A document also carries what a corpus-level pass needs to group documents:
//! [`Document::directory`] for text files, [`Document::host`] for records
//! with a URL, and [`Document::field`] for any named JSONL field or WARC header.

pub mod compress;
mod jsonl;
pub mod parquet;
mod warc;

use std::borrow::Cow;
use std::fmt;
use std::io::{self, BufRead, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use self::parquet::{ParquetLayout, ParquetRow};
pub use compress::{Compression, StoredTally};
pub(crate) use jsonl::{json_type, object_fields};

use dechaff_engine::corpus::GroupBy;

use crate::decode::{decode, EncodingChoice};
use crate::provenance::DocumentLocation;

/// The container format of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputFormat {
    /// One document per file.
    Text,
    /// One JSON object per line, the text in a named field.
    Jsonl,
    /// WARC or WET records; `conversion` and `response` records are documents.
    Warc,
    /// A Parquet file: one document per row, the text in a named column.
    Parquet,
}

impl InputFormat {
    /// The format a file name says, once its compression extension is taken off:
    /// `.jsonl`, `.ndjson`, `.json` are JSONL; `.warc`, `.wet`, `.arc` are WARC;
    /// `.parquet` and `.pq` are Parquet; anything else is text.
    pub fn from_name(name: &str) -> InputFormat {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".parquet") || lower.ends_with(".pq") {
            return InputFormat::Parquet;
        }
        let stem = Compression::from_name(name).strip_extension(name).to_ascii_lowercase();
        if [".jsonl", ".ndjson", ".json"].iter().any(|e| stem.ends_with(e)) {
            InputFormat::Jsonl
        } else if [".warc", ".wet", ".arc"].iter().any(|e| stem.ends_with(e)) {
            InputFormat::Warc
        } else {
            InputFormat::Text
        }
    }

    /// The format the first decompressed bytes of a stream suggest (standard input).
    pub fn sniff(head: &[u8]) -> InputFormat {
        let start = head.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(head.len());
        let head = &head[start..];
        if head.starts_with(b"{") {
            InputFormat::Jsonl
        } else if head.starts_with(b"WARC/") {
            InputFormat::Warc
        } else if head.starts_with(parquet::PARQUET_MAGIC) {
            InputFormat::Parquet
        } else {
            InputFormat::Text
        }
    }

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            InputFormat::Text => "text",
            InputFormat::Jsonl => "jsonl",
            InputFormat::Warc => "warc",
            InputFormat::Parquet => "parquet",
        }
    }
}

/// How records become documents.
#[derive(Debug, Clone)]
pub struct ReadSettings {
    /// The JSONL field holding the text (`--text-field`).
    pub text_field: String,
    /// The JSONL field holding the id (`--id-field`).
    pub id_field: String,
    /// A record (or text file) larger than this is refused (`--max-doc-bytes`).
    pub max_doc_bytes: u64,
    /// How text files and WARC payloads are decoded (JSONL text is JSON, hence UTF-8).
    pub encoding: EncodingChoice,
}

impl Default for ReadSettings {
    fn default() -> Self {
        ReadSettings {
            text_field: "text".to_string(),
            id_field: "id".to_string(),
            max_doc_bytes: 64 * 1024 * 1024,
            encoding: EncodingChoice::Detect,
        }
    }
}

/// One document, ready to clean.
#[derive(Debug)]
pub struct Document {
    /// The input file (`-` for standard input).
    pub source: Arc<Path>,
    /// Where in the file it stands; index 0 and offset 0 for a text file.
    pub location: DocumentLocation,
    /// The decoded text.
    pub text: String,
    /// The encoding the text was decoded from (`UTF-8` for JSONL).
    pub encoding: &'static str,
    /// True when bytes had to be replaced while decoding.
    pub lossy: bool,
    /// Size of the record as stored in the (decompressed) stream.
    pub raw_bytes: u64,
    /// SHA-256 of the record as stored in the (decompressed) stream, hex.
    pub raw_sha256: String,
    /// What surrounds the text, to write the record back.
    pub envelope: Envelope,
}

/// What surrounds a document's text in its input.
#[derive(Debug)]
pub enum Envelope {
    /// A whole text file.
    Text,
    /// A JSONL record: the line and where each top-level field's value stands in it.
    Jsonl(JsonlRecord),
    /// A WARC record's headers, in file order.
    Warc(WarcHeaders),
    /// A Parquet row: its batch, which holds every other column.
    Parquet(ParquetRow),
}

/// A JSONL record kept as written, so that every field but the text goes
/// back out byte for byte.
#[derive(Debug)]
pub struct JsonlRecord {
    /// The line, without its line end.
    pub line: String,
    /// Each top-level field's name and the byte range of its raw JSON value in `line`.
    pub fields: Vec<(String, Range<usize>)>,
    /// The index in `fields` of the text field.
    pub text_field: usize,
}

impl JsonlRecord {
    /// The raw JSON of field `name`, as written.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, range)| &self.line[range.clone()])
    }
}

/// A WARC record's header fields, in file order.
#[derive(Debug)]
pub struct WarcHeaders {
    /// The version line's value (`1.0`, `1.1`).
    pub version: String,
    /// Each `Name: value`, as written.
    pub fields: Vec<(String, String)>,
}

impl WarcHeaders {
    /// The first value of header `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

impl Document {
    /// The directory the input file is in: the group of a text file.
    pub fn directory(&self) -> &Path {
        self.source.parent().unwrap_or(Path::new(""))
    }

    /// The host of the document's URL as corpus mode groups by it
    /// ([`url_host`]): lower-cased, without user, port or `www.`.
    pub fn host(&self) -> Option<String> {
        self.location.url.as_deref().and_then(url_host)
    }

    /// The name of the document's group under `group_by`: its file's
    /// directory, its URL's host ([`url_host`]), or a named field as
    /// [`Document::field`] gives it (a string's value, any other JSON as
    /// written). `None` when the document lacks what the grouping needs (no
    /// URL, no such field): such a document is left alone by corpus mode,
    /// because pooling them all would compare lines across unrelated sites.
    pub fn group_name(&self, group_by: &GroupBy) -> Option<String> {
        match group_by {
            GroupBy::Dir => Some(self.directory().to_string_lossy().into_owned()),
            GroupBy::Host => self.host(),
            GroupBy::Field(name) => self.field(name),
        }
    }

    /// A named field as text: a JSONL field (a string's value, any other
    /// JSON as written), a Parquet column (a string's, number's or boolean's
    /// value) or a WARC header (case-insensitive). In JSONL and
    /// Parquet a dotted name reaches into objects and structs
    /// (`metadata.lang`) when no top-level field has the whole name.
    pub fn field(&self, name: &str) -> Option<String> {
        match &self.envelope {
            Envelope::Text => None,
            Envelope::Jsonl(record) => record
                .raw(name)
                .map(str::to_string)
                .or_else(|| {
                    name.match_indices('.')
                        .find_map(|(dot, _)| nested_json_field(record.raw(&name[..dot])?, &name[dot + 1..]))
                })
                .map(|raw| serde_json::from_str::<String>(&raw).unwrap_or(raw)),
            Envelope::Warc(headers) => headers.get(name).map(str::to_string),
            Envelope::Parquet(row) => row.field(name),
        }
    }
}

/// The raw JSON at the dotted `path` inside the JSON object `raw`: a key
/// with the whole path first, then each split of it at a dot.
fn nested_json_field(raw: &str, path: &str) -> Option<String> {
    let fields = object_fields(raw)?;
    let get = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, value)| value.get());
    get(path).map(str::to_string).or_else(|| {
        path.match_indices('.')
            .find_map(|(dot, _)| nested_json_field(get(&path[..dot])?, &path[dot + 1..]))
    })
}

/// The host of an absolute URL, lowercased, without port, credentials or a
/// leading `www.`; `None` when the URL has no host.
pub fn url_host(url: &str) -> Option<String> {
    let (_, rest) = url.trim().split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = if host_port.starts_with('[') {
        // An IPv6 literal keeps its colons.
        host_port.split_once(']').map(|(h, _)| &host_port[..h.len() + 1])?
    } else {
        host_port.split(':').next()?
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let host = host.strip_prefix("www.").map(str::to_string).unwrap_or(host);
    (!host.is_empty()).then_some(host)
}

/// A record that could not become a document, and why.
#[derive(Debug, Clone)]
pub struct BadRecord {
    /// Where it stands.
    pub location: DocumentLocation,
    /// Why it was refused.
    pub reason: BadRecordKind,
    /// Its size in the decompressed stream.
    pub raw_bytes: u64,
    /// Its first bytes (at most [`RAW_EXCERPT_BYTES`]), kept for the reject file.
    pub raw_excerpt: Vec<u8>,
}

/// How much of a bad record's bytes the reject file keeps.
pub const RAW_EXCERPT_BYTES: usize = 64 * 1024;

/// Why a record was refused.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum BadRecordKind {
    /// A JSONL line that is not valid JSON.
    MalformedJson(String),
    /// A JSONL line that is valid JSON but not an object.
    NotAnObject(&'static str),
    /// A JSONL line that is not UTF-8.
    NotUtf8 {
        /// Offset of the first bad byte in the line.
        offset: usize,
    },
    /// The text field is missing.
    MissingTextField(String),
    /// The text field holds something other than a string.
    TextFieldNotString {
        /// The field.
        field: String,
        /// What it holds instead (`number`, `null`, …).
        found: &'static str,
    },
    /// The text field is a JSON string that does not decode to text (a lone
    /// UTF-16 surrogate escape such as `"\ud800"`).
    TextFieldBadString {
        /// The field.
        field: String,
        /// The JSON parser's message.
        message: String,
    },
    /// A top-level key appears more than once. Readers disagree on which copy
    /// counts (most take the last), so cleaning one copy and passing the
    /// other through would let uncleaned text out.
    DuplicateKey(String),
    /// `metadata` is neither an object nor null, so `metadata.dechaff` has nowhere to go.
    MetadataNotObject(&'static str),
    /// Over `--max-doc-bytes`.
    TooLarge {
        /// Its size.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// A text file or stream over `--max-doc-bytes` whose size was not known
    /// before reading (compressed, standard input, a device): reading stopped
    /// at the limit rather than expanding the rest only to count it.
    OverLimit {
        /// The limit.
        limit: u64,
    },
    /// A WARC record whose framing or headers are broken.
    BrokenWarc(String),
    /// The payload could not be decoded (binary).
    Undecodable(String),
    /// Cleaning took longer than `--doc-timeout`.
    TimedOut {
        /// Seconds it took.
        seconds: f64,
        /// The limit.
        limit: f64,
    },
}

impl fmt::Display for BadRecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadRecordKind::MalformedJson(message) => write!(f, "malformed JSON: {message}"),
            BadRecordKind::NotAnObject(found) => write!(f, "the record is {}, not an object", a_json(found)),
            BadRecordKind::NotUtf8 { offset } => write!(f, "the line is not UTF-8 (bad byte at column {})", offset + 1),
            BadRecordKind::MissingTextField(field) => write!(f, "the record has no {field:?} field (--text-field)"),
            BadRecordKind::TextFieldNotString { field, found } => {
                write!(
                    f,
                    "the {field:?} field is {}, not a string (--text-field)",
                    a_json(found)
                )
            }
            BadRecordKind::TextFieldBadString { field, message } => {
                write!(f, "the {field:?} field is not a valid JSON string: {message}")
            }
            BadRecordKind::DuplicateKey(key) => {
                write!(f, "the key {key:?} appears more than once in the record")
            }
            BadRecordKind::MetadataNotObject(found) => {
                write!(
                    f,
                    "\"metadata\" is {}, so metadata.dechaff cannot be added (use --attributes)",
                    a_json(found)
                )
            }
            BadRecordKind::TooLarge { bytes, limit } => {
                write!(
                    f,
                    "the record is {bytes} bytes, over --max-doc-bytes {limit}; not cleaned"
                )
            }
            BadRecordKind::OverLimit { limit } => {
                write!(
                    f,
                    "the text is over --max-doc-bytes {limit} (reading stopped there); not cleaned"
                )
            }
            BadRecordKind::BrokenWarc(message) => write!(f, "broken WARC record: {message}"),
            BadRecordKind::Undecodable(message) => f.write_str(message),
            BadRecordKind::TimedOut { seconds, limit } => {
                write!(
                    f,
                    "cleaning took {seconds:.2}s, over --doc-timeout {limit}s; not written"
                )
            }
        }
    }
}

/// `a string`, `an array`, `null`: a JSON type with its article.
fn a_json(found: &str) -> String {
    match found {
        "null" => "null".to_string(),
        "array" | "object" => format!("an {found}"),
        _ => format!("a {found}"),
    }
}

/// The stream of an input broke; nothing after `location` can be read.
#[derive(Debug, Clone)]
pub struct StreamError {
    /// Where reading stopped (the record that was being read).
    pub location: DocumentLocation,
    /// What broke.
    pub message: String,
}

/// What reading an input yields, one at a time.
#[derive(Debug)]
pub enum Item {
    /// A document to clean.
    Document(Box<Document>),
    /// A record refused before cleaning.
    Bad(Box<BadRecord>),
    /// A record that is deliberately not a document (a WARC `request` record),
    /// with why; counted, not cleaned.
    NotADocument(String),
}

/// An open input: its items, in order, and the tally of its stored bytes.
pub struct Documents {
    reader: Reader,
    tally: StoredTally,
    finished: bool,
}

enum Reader {
    Text(Option<TextFile>),
    Jsonl(jsonl::JsonlReader),
    Warc(warc::WarcReader),
    Parquet(Box<parquet::ParquetReader>),
}

struct TextFile {
    stream: Box<dyn BufRead + Send>,
    source: Arc<Path>,
    compression: Compression,
    settings: ReadSettings,
    /// The stored bytes' tally: for an uncompressed file, the raw bytes' hash.
    tally: StoredTally,
    /// The text's size in bytes, when known before reading (an uncompressed file).
    size: Option<u64>,
}

impl Documents {
    /// Opens `path` (`-` for standard input) as `format` compressed with
    /// `compression`. `None` for either sniffs it from the first bytes.
    pub fn open(
        path: &Path,
        format: Option<InputFormat>,
        compression: Option<Compression>,
        settings: &ReadSettings,
    ) -> io::Result<(Documents, InputFormat, Compression)> {
        if path == Path::new("-") {
            return Documents::from_stored(Box::new(io::stdin()), path, format, compression, settings);
        }
        if format == Some(InputFormat::Parquet) {
            let tally = StoredTally::default();
            let reader = parquet::ParquetReader::open(path, settings, &tally)?;
            let documents = Documents {
                reader: Reader::Parquet(Box::new(reader)),
                tally,
                finished: false,
            };
            return Ok((documents, InputFormat::Parquet, Compression::None));
        }
        let file = std::fs::File::open(path)?;
        // Most text files are a few kilobytes: buffers sized for them rather
        // than for a large stream, since every buffer is zeroed before its
        // first read and a run opens thousands of files.
        let size = file.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
        let capacity = usize::try_from(size.unwrap_or(u64::MAX).saturating_add(1))
            .unwrap_or(usize::MAX)
            .clamp(4096, 64 * 1024);
        Documents::from_buffered(
            io::BufReader::with_capacity(capacity, Box::new(file)),
            size,
            path,
            format,
            compression,
            settings,
        )
    }

    /// Reads the stored bytes of `stored` as [`Documents::open`] reads a
    /// file; `path` only names the source in what is read.
    pub fn from_stored(
        stored: Box<dyn Read + Send>,
        path: &Path,
        format: Option<InputFormat>,
        compression: Option<Compression>,
        settings: &ReadSettings,
    ) -> io::Result<(Documents, InputFormat, Compression)> {
        Documents::from_buffered(
            io::BufReader::with_capacity(64 * 1024, stored),
            None,
            path,
            format,
            compression,
            settings,
        )
    }

    /// [`Documents::from_stored`] with the stored stream's buffer chosen by
    /// the caller, and the stored size when it is known.
    fn from_buffered(
        mut stored: io::BufReader<Box<dyn Read + Send>>,
        stored_size: Option<u64>,
        path: &Path,
        format: Option<InputFormat>,
        compression: Option<Compression>,
        settings: &ReadSettings,
    ) -> io::Result<(Documents, InputFormat, Compression)> {
        let compression = match compression {
            Some(compression) => compression,
            None => Compression::sniff(stored.fill_buf()?),
        };
        // The plain stream's buffer is the size of the stored one.
        let plain_buffer = stored.capacity();
        let (mut stream, tally) = compress::decompress(Box::new(stored), compression, plain_buffer)?;
        let format = match format {
            Some(format) => format,
            None => InputFormat::sniff(stream.fill_buf().unwrap_or(&[])),
        };
        let source: Arc<Path> = Arc::from(path);
        let reader = match format {
            InputFormat::Text => Reader::Text(Some(TextFile {
                stream,
                source,
                compression,
                settings: settings.clone(),
                tally: tally.clone(),
                size: stored_size.filter(|_| compression == Compression::None),
            })),
            InputFormat::Jsonl => Reader::Jsonl(jsonl::JsonlReader::new(stream, source, compression, settings.clone())),
            InputFormat::Warc => Reader::Warc(warc::WarcReader::new(stream, source, compression, settings.clone())),
            InputFormat::Parquet => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "a Parquet file needs random access: pass it as a file, not on standard input or compressed",
                ))
            }
        };
        Ok((
            Documents {
                reader,
                tally,
                finished: false,
            },
            format,
            compression,
        ))
    }

    /// The next item; `Err` ends the stream.
    pub fn next_item(&mut self) -> Option<Result<Item, StreamError>> {
        if self.finished {
            return None;
        }
        let item = match &mut self.reader {
            Reader::Text(file) => file.take().map(read_text_file),
            Reader::Jsonl(reader) => reader.next_item(),
            Reader::Warc(reader) => reader.next_item(),
            Reader::Parquet(reader) => reader.next_item(),
        };
        if matches!(item, None | Some(Err(_))) {
            self.finished = true;
        }
        item
    }

    /// The layout of a Parquet input, which its output is written in.
    pub fn parquet_layout(&self) -> Option<Arc<ParquetLayout>> {
        match &self.reader {
            Reader::Parquet(reader) => Some(Arc::clone(reader.layout())),
            _ => None,
        }
    }

    /// Size and SHA-256 of the stored bytes read so far; the whole file once
    /// [`Documents::next_item`] has returned `None`.
    pub fn stored(&self) -> (u64, String) {
        self.tally.finish()
    }
}

impl Iterator for Documents {
    type Item = Result<Item, StreamError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_item()
    }
}

fn read_text_file(mut file: TextFile) -> Result<Item, StreamError> {
    let location = DocumentLocation::default();
    let stream_error = |e: io::Error| StreamError {
        location: DocumentLocation::default(),
        message: compress::describe_stream_error(file.compression, &e),
    };
    let raw =
        match compress::read_bounded(&mut file.stream, file.settings.max_doc_bytes, file.size).map_err(stream_error)? {
            Ok(raw) => raw,
            Err(size) => {
                let limit = file.settings.max_doc_bytes;
                let (reason, raw_bytes) = match size {
                    Some(bytes) => (BadRecordKind::TooLarge { bytes, limit }, bytes),
                    None => (BadRecordKind::OverLimit { limit }, limit.saturating_add(1)),
                };
                return Ok(Item::Bad(Box::new(BadRecord {
                    location,
                    reason,
                    raw_bytes,
                    raw_excerpt: Vec::new(),
                })));
            }
        };
    match decode(&raw, file.settings.encoding) {
        Ok(decoded) => {
            let (encoding, lossy) = (decoded.encoding, decoded.lossy);
            let raw_bytes = raw.len() as u64;
            // An uncompressed file read to its end is its stored bytes, which
            // the tally has hashed on the way in: not hashed a second time.
            let raw_sha256 = match file.compression {
                Compression::None => file.tally.finish().1,
                _ => dechaff_engine::hash::sha256_hex(&raw),
            };
            // Bytes that are UTF-8 as they are become the text without a
            // copy: one allocation of the file's size less per file.
            let as_read = matches!(&decoded.text, Cow::Borrowed(text) if text.len() == raw.len());
            let text = if as_read {
                drop(decoded);
                String::from_utf8(raw).expect("decoded as UTF-8 as it was read")
            } else {
                decoded.text.into_owned()
            };
            Ok(Item::Document(Box::new(Document {
                source: file.source,
                location,
                encoding,
                lossy,
                text,
                raw_bytes,
                raw_sha256,
                envelope: Envelope::Text,
            })))
        }
        Err(e) => Ok(Item::Bad(Box::new(BadRecord {
            location,
            reason: BadRecordKind::Undecodable(e.to_string()),
            raw_bytes: raw.len() as u64,
            raw_excerpt: Vec::new(),
        }))),
    }
}

/// The path of an input as provenance names it.
pub fn display_source(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// Where a job's input is: a path, or standard input.
pub fn is_stdin(path: &Path) -> bool {
    path == Path::new("-")
}

/// The output file name for a JSONL or WARC input named `name` written with
/// `compression`: the input's compression extension comes off, `.jsonl` is
/// added unless the name already ends with it (a `.json` or `.ndjson` name
/// has its extension swapped, since it is JSON lines already), then the new
/// compression's extension (`a.warc.wet.gz` → `a.warc.wet.jsonl.gz`,
/// `b.json.gz` → `b.jsonl.gz`).
pub fn shard_output_name(name: &str, input: Compression, output: Compression) -> String {
    let stem = input.strip_extension(name);
    let lower = stem.to_ascii_lowercase();
    let stem = [".json", ".ndjson"]
        .iter()
        .find(|extension| lower.ends_with(*extension))
        .map_or(stem.as_str(), |extension| &stem[..stem.len() - extension.len()]);
    let jsonl = if lower.ends_with(".jsonl") { "" } else { ".jsonl" };
    format!("{stem}{jsonl}{}", output.extension())
}

/// The output file name for a text input: its compression extension swapped
/// for the output's.
pub fn text_output_name(name: &str, input: Compression, output: Compression) -> String {
    format!("{}{}", input.strip_extension(name), output.extension())
}

/// Where a path's output goes when the output name differs from the input's.
pub fn rename_output(output: &Path, name: String) -> PathBuf {
    output.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_text_files_raw_hash_is_of_its_decompressed_bytes_whatever_its_size() {
        let dir = tempfile::tempdir().unwrap();
        // Around the stored buffer's bounds (4 KiB to 64 KiB), and past them.
        for size in [0usize, 1, 4095, 4096, 70_000, 300_000] {
            let text: String = "abcdefghij\n".chars().cycle().take(size).collect();
            let plain = dir.path().join(format!("plain-{size}.txt"));
            std::fs::write(&plain, &text).unwrap();
            let gzipped = dir.path().join(format!("gzipped-{size}.txt.gz"));
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(text.as_bytes()).unwrap();
            std::fs::write(&gzipped, encoder.finish().unwrap()).unwrap();
            for path in [&plain, &gzipped] {
                let (mut documents, _, _) =
                    Documents::open(path, Some(InputFormat::Text), None, &ReadSettings::default()).unwrap();
                let Some(Ok(Item::Document(document))) = documents.next_item() else {
                    panic!("{} reads as a document", path.display());
                };
                assert_eq!(document.text, text, "{}", path.display());
                assert_eq!(document.raw_bytes, size as u64);
                assert_eq!(
                    document.raw_sha256,
                    dechaff_engine::hash::sha256_hex(text.as_bytes()),
                    "{}",
                    path.display()
                );
                let (stored_bytes, stored_sha256) = documents.stored();
                assert_eq!(stored_bytes, std::fs::metadata(path).unwrap().len());
                let stored = std::fs::read(path).unwrap();
                assert_eq!(stored_sha256, dechaff_engine::hash::sha256_hex(&stored));
            }
        }
    }

    #[test]
    fn formats_come_from_names_under_the_compression() {
        assert_eq!(InputFormat::from_name("a.jsonl.gz"), InputFormat::Jsonl);
        assert_eq!(InputFormat::from_name("CC-MAIN-1.warc.wet.gz"), InputFormat::Warc);
        assert_eq!(InputFormat::from_name("page.txt.zst"), InputFormat::Text);
        assert_eq!(InputFormat::from_name("page"), InputFormat::Text);
    }

    #[test]
    fn output_names_follow_the_compression() {
        assert_eq!(
            shard_output_name("a.warc.wet.gz", Compression::Gzip, Compression::Gzip),
            "a.warc.wet.jsonl.gz"
        );
        assert_eq!(
            shard_output_name("a.jsonl.zst", Compression::Zstd, Compression::None),
            "a.jsonl"
        );
        assert_eq!(
            shard_output_name("a.jsonl", Compression::None, Compression::Gzip),
            "a.jsonl.gz"
        );
        assert_eq!(
            shard_output_name("b.json.gz", Compression::Gzip, Compression::Gzip),
            "b.jsonl.gz"
        );
        assert_eq!(
            shard_output_name("c.NDJSON", Compression::None, Compression::None),
            "c.jsonl"
        );
        assert_eq!(
            text_output_name("p.txt.gz", Compression::Gzip, Compression::None),
            "p.txt"
        );
    }

    #[test]
    fn hosts_lose_user_port_and_case() {
        assert_eq!(
            url_host("https://user@Example.COM:8080/a?b").as_deref(),
            Some("example.com")
        );
        assert_eq!(url_host("http://[::1]:80/").as_deref(), Some("[::1]"));
        assert_eq!(url_host("not a url"), None);
    }

    #[test]
    fn hosts_are_read_from_urls() {
        assert_eq!(
            url_host("http://user:pw@News.Example.org./a").as_deref(),
            Some("news.example.org")
        );
        assert_eq!(url_host("https://[::1]:80/").as_deref(), Some("[::1]"));
        assert_eq!(url_host("example.com/a"), None);
        assert_eq!(url_host("file:///tmp/x"), None);
    }
}
