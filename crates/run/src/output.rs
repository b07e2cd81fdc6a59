//! Writing results: output shards, text files, and the JSON of each record.
//!
//! Every file is written to a temporary name beside its target and renamed
//! when complete ([`AtomicFile`]), so a file under its final name is always
//! whole; that is what lets `--resume` trust an output it finds. Compressed
//! outputs are deterministic: gzip headers carry no time or name, and zstd
//! runs single-threaded at a fixed level, so the bytes do not depend on the
//! machine, the clock or `--jobs`.
//!
//! A JSONL input's record goes back out field by field as it was written,
//! only the text replaced and `metadata.dechaff` added; WARC and text inputs
//! become JSONL records of the same shape (`id`, `text`, `metadata`).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::input::{BadRecordKind, Compression, Document, Envelope};
use crate::output_dir::OutputDir;
use crate::provenance::OutputStats;

/// Zstandard level for outputs: the library's default trade-off.
const ZSTD_LEVEL: i32 = 3;

/// A stream compressed as `--compress` says, such as standard output under
/// `--out -`: the same deterministic encoders as the files. It must be
/// ended with [`StreamEncoder::finish`], which writes the gzip trailer or
/// the end of the zstd frame.
pub enum StreamEncoder<W: Write> {
    /// Plain bytes.
    Plain(W),
    /// Gzip, one member.
    Gzip(flate2::write::GzEncoder<W>),
    /// Zstandard, one frame.
    Zstd(zstd::stream::write::Encoder<'static, W>),
}

impl<W: Write> StreamEncoder<W> {
    /// Starts compressing into `inner`.
    pub fn new(inner: W, compression: Compression) -> io::Result<StreamEncoder<W>> {
        Ok(match compression {
            Compression::None => StreamEncoder::Plain(inner),
            Compression::Gzip => {
                StreamEncoder::Gzip(flate2::write::GzEncoder::new(inner, flate2::Compression::default()))
            }
            Compression::Zstd => StreamEncoder::Zstd(zstd::stream::write::Encoder::new(inner, ZSTD_LEVEL)?),
        })
    }

    /// Ends the compressed stream and flushes it.
    pub fn finish(self) -> io::Result<W> {
        let mut inner = match self {
            StreamEncoder::Plain(inner) => inner,
            StreamEncoder::Gzip(encoder) => encoder.finish()?,
            StreamEncoder::Zstd(encoder) => encoder.finish()?,
        };
        inner.flush()?;
        Ok(inner)
    }
}

impl<W: Write> Write for StreamEncoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            StreamEncoder::Plain(w) => w.write(buf),
            StreamEncoder::Gzip(w) => w.write(buf),
            StreamEncoder::Zstd(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            StreamEncoder::Plain(w) => w.flush(),
            StreamEncoder::Gzip(w) => w.flush(),
            StreamEncoder::Zstd(w) => w.flush(),
        }
    }
}

/// A file written under a temporary name and renamed into place by [`AtomicFile::finish`].
pub struct AtomicFile {
    target: PathBuf,
    /// The directory holding the target, opened without following links.
    dir: Arc<OutputDir>,
    /// The target's name in `dir`.
    name: std::ffi::OsString,
    /// The temporary's name in `dir`.
    temporary: std::ffi::OsString,
    encoder: Option<Encoder>,
    lines: u64,
    /// Flush the file to the disk before its rename, and the directory after.
    durable: bool,
}

enum Encoder {
    Plain(Hashing<io::BufWriter<fs::File>>),
    Gzip(flate2::write::GzEncoder<Hashing<io::BufWriter<fs::File>>>),
    Zstd(zstd::stream::write::Encoder<'static, Hashing<io::BufWriter<fs::File>>>),
}

/// Counts and hashes the bytes that reach the file, compressed or not; the
/// hash only where someone reads it ([`AtomicFile::finish`]).
struct Hashing<W> {
    inner: W,
    bytes: u64,
    hasher: Option<Sha256>,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        if let Some(hasher) = &mut self.hasher {
            hasher.update(&buf[..n]);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The temporary name of `target` while this process writes it:
/// `.NAME.dechaff-PID-N.tmp`, N counting the temporaries this process made.
/// The name's own bytes are kept (a name that is not UTF-8 stays itself) and
/// cut to [`TEMPORARY_NAME_BYTES`] so that the marks fit in 255 bytes; the
/// count keeps two targets apart whose names agree in what is kept, which
/// happened with `caf\xe9.txt` and `caf\xe8.txt` when the name went through
/// lossy UTF-8: both wrote `.caf\u{fffd}.txt…`, and one lost its output.
pub fn temporary_name(target: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static MADE: AtomicU64 = AtomicU64::new(0);
    let made = MADE.fetch_add(1, Ordering::Relaxed);
    let mut name = std::ffi::OsString::from(".");
    name.push(temporary_prefix(target.file_name().unwrap_or_default()));
    name.push(format!("{TEMPORARY_MARK}{}-{made}.tmp", std::process::id()));
    target.with_file_name(name)
}

/// How much of a target's name its temporary name keeps, in bytes.
pub const TEMPORARY_NAME_BYTES: usize = 200;

/// The part of a target's name that its temporary name keeps: at most
/// [`TEMPORARY_NAME_BYTES`], cut at a character boundary when the name is UTF-8.
pub fn temporary_prefix(name: &std::ffi::OsStr) -> std::ffi::OsString {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::{OsStrExt, OsStringExt};
        let bytes = name.as_bytes();
        let cut = match std::str::from_utf8(bytes) {
            Ok(text) => text.floor_char_boundary(TEMPORARY_NAME_BYTES),
            Err(_) => bytes.len().min(TEMPORARY_NAME_BYTES),
        };
        std::ffi::OsString::from_vec(bytes[..cut].to_vec())
    }
    #[cfg(not(unix))]
    {
        let name = name.to_string_lossy();
        std::ffi::OsString::from(&name[..name.floor_char_boundary(TEMPORARY_NAME_BYTES)])
    }
}

/// What every temporary name holds between the target's name and the process id.
pub const TEMPORARY_MARK: &str = ".dechaff-";

impl AtomicFile {
    /// Starts writing `target` with `compression`; the directory holding it
    /// is created if missing and trusted as it is.
    pub fn create(target: &Path, compression: Compression) -> Result<AtomicFile> {
        AtomicFile::open(&Placement::beside(target), target, compression, 256 * 1024, true)
    }

    /// Starts writing `target`, placed as `placement` says.
    pub fn create_placed(placement: &Placement, target: &Path, compression: Compression) -> Result<AtomicFile> {
        AtomicFile::open(placement, target, compression, 256 * 1024, true)
    }

    /// Starts writing `target` through a buffer of `buffer` bytes, hashing
    /// what is written if `hashed`.
    fn open(
        placement: &Placement,
        target: &Path,
        compression: Compression,
        buffer: usize,
        hashed: bool,
    ) -> Result<AtomicFile> {
        let (dir, name) = placement.directory_of(target).map_err(|e| Error::io(target, e))?;
        let temporary = temporary_name(target)
            .file_name()
            .expect("a temporary name has a file name")
            .to_os_string();
        let file = dir
            .create_new(&temporary)
            .map_err(|e| Error::io(dir.path().join(&temporary), e))?;
        let hashing = Hashing {
            inner: io::BufWriter::with_capacity(buffer, file),
            bytes: 0,
            hasher: hashed.then(Sha256::new),
        };
        let encoder = match compression {
            Compression::None => Encoder::Plain(hashing),
            Compression::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(hashing, flate2::Compression::default())),
            Compression::Zstd => {
                Encoder::Zstd(zstd::stream::write::Encoder::new(hashing, ZSTD_LEVEL).map_err(|e| Error::io(target, e))?)
            }
        };
        Ok(AtomicFile {
            target: target.to_path_buf(),
            dir,
            name,
            temporary,
            encoder: Some(encoder),
            lines: 0,
            durable: placement.durable,
        })
    }

    /// Appends bytes.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        let result = match self.encoder.as_mut().expect("not finished") {
            Encoder::Plain(w) => w.write_all(bytes),
            Encoder::Gzip(w) => w.write_all(bytes),
            Encoder::Zstd(w) => w.write_all(bytes),
        };
        result.map_err(|e| Error::io(&self.target, e))
    }

    /// Appends one line and its newline.
    pub fn write_line(&mut self, line: &str) -> Result<()> {
        self.write_all(line.as_bytes())?;
        self.write_all(b"\n")?;
        self.lines += 1;
        Ok(())
    }

    /// Completes the stream, renames the file into place, and says what was
    /// written: the stored size and hash, and the lines written.
    pub fn finish(self) -> Result<OutputStats> {
        let (bytes, lines, hasher) = self.complete()?;
        Ok(OutputStats {
            bytes,
            lines,
            sha256: hex::encode(hasher.expect("a created file is hashed").finalize()),
        })
    }

    /// Completes the stream and renames the file into place: the stored
    /// size, the lines written, and the hasher if the file was hashed.
    fn complete(mut self) -> Result<(u64, u64, Option<Sha256>)> {
        let encoder = self.encoder.take().expect("not finished");
        let hashing = match encoder {
            Encoder::Plain(w) => Ok(w),
            Encoder::Gzip(w) => w.finish(),
            Encoder::Zstd(w) => w.finish(),
        };
        let result = hashing.and_then(|mut hashing| {
            hashing.flush()?;
            let Hashing { inner, bytes, hasher } = hashing;
            let file = inner.into_inner().map_err(|e| e.into_error())?;
            if self.durable {
                // The data reaches the disk before the name does, so a crash
                // never leaves an empty or partial file under a final name.
                file.sync_all()?;
            }
            drop(file);
            self.dir.rename(&self.temporary, &self.name)?;
            if self.durable {
                self.dir.sync()?;
            }
            Ok((bytes, self.lines, hasher))
        });
        if result.is_err() {
            // A full disk or a failed rename leaves neither a half file nor a temporary.
            let _ = self.dir.remove(&self.temporary);
        }
        result.map_err(|e| Error::io(&self.target, e))
    }
}

impl Drop for AtomicFile {
    /// An unfinished file leaves no temporary behind.
    fn drop(&mut self) {
        if self.encoder.is_some() {
            let _ = self.dir.remove(&self.temporary);
        }
    }
}

/// Writes `bytes` to `target` with `compression`, atomically.
///
/// Nobody reads this file's hash (a cleaned text's hash is taken from the
/// text itself, see [`crate::provenance::Record::describe_cleaning`]), so it is not computed:
/// hashing every output a second time was 2% of a run's time. Nor
/// does an uncompressed file get a buffer: its bytes go to the file in one
/// write, and a 256 KiB buffer allocated and freed per file only cost time
/// in the allocator.
pub fn write_file(target: &Path, compression: Compression, bytes: &[u8]) -> Result<()> {
    write_file_placed(&Placement::beside(target), target, compression, bytes)
}

/// Writes `bytes` to `target` as [`write_file`] does, placed as `placement` says.
pub fn write_file_placed(placement: &Placement, target: &Path, compression: Compression, bytes: &[u8]) -> Result<()> {
    let buffer = if compression == Compression::None {
        0
    } else {
        256 * 1024
    };
    let mut file = AtomicFile::open(placement, target, compression, buffer, false)?;
    file.write_all(bytes)?;
    file.complete().map(|_| ())
}

/// Where outputs go and how they are made to last.
#[derive(Debug, Clone)]
pub struct Placement {
    /// The root of the output tree (`--out`): it is trusted as named, and
    /// every directory below it is reached without following a link.
    pub root: PathBuf,
    /// Each output is flushed to the disk before its rename and its
    /// directory after (`--durable`).
    pub durable: bool,
    /// The directories this placement's outputs went to, open, most recent
    /// last; shared by its clones (one run's workers). A file per input
    /// opened its directory afresh each time: seven system calls a file
    /// (create the root, look at it, open it, create and open each level,
    /// close them), more than writing the file itself took.
    directories: Arc<Mutex<OpenDirectories>>,
}

/// Directories open for writing, by path, the most recently used last.
type OpenDirectories = Vec<(PathBuf, Arc<OutputDir>)>;

/// How many open directories a [`Placement`] keeps.
const OPEN_DIRECTORIES: usize = 16;

impl Placement {
    /// Outputs below `root`, durable or not.
    pub fn below(root: &Path, durable: bool) -> Placement {
        Placement {
            root: root.to_path_buf(),
            durable,
            directories: Arc::default(),
        }
    }

    /// The directory that holds `target`, created if missing (see
    /// [`OutputDir::holding`]), and the target's name in it.
    fn directory_of(&self, target: &Path) -> io::Result<(Arc<OutputDir>, std::ffi::OsString)> {
        let parent = target.parent().unwrap_or(Path::new(""));
        let mut directories = self.directories.lock().unwrap_or_else(|e| e.into_inner());
        if let (Some(name), Some(at)) = (
            target.file_name(),
            directories.iter().position(|(path, _)| path == parent),
        ) {
            let entry = directories.remove(at);
            let dir = Arc::clone(&entry.1);
            directories.push(entry);
            return Ok((dir, name.to_os_string()));
        }
        let (dir, name) = OutputDir::holding(&self.root, target, true)?;
        let dir = Arc::new(dir);
        if directories.len() >= OPEN_DIRECTORIES {
            directories.remove(0);
        }
        directories.push((parent.to_path_buf(), Arc::clone(&dir)));
        Ok((dir, name))
    }

    /// A lone file in a directory that is trusted as it is.
    fn beside(target: &Path) -> Placement {
        Placement::below(target.parent().unwrap_or(Path::new("")), false)
    }
}

/// Appends `"key":` to `out`.
fn push_key(out: &mut String, key: &str) {
    push_json_string(out, key);
    out.push(':');
}

fn push_json_string(out: &mut String, text: &str) {
    out.push_str(&serde_json::to_string(text).expect("a string always serializes"));
}

/// The output record of a cleaned document: its input record with the text
/// replaced by `clean` and `embedded` (the document's provenance), when
/// given, under `metadata.dechaff`. Refused when a JSONL record's `metadata`
/// is neither an object nor null and something is to be added to it.
pub fn document_line(
    document: &Document,
    clean: &str,
    embedded: Option<&str>,
) -> std::result::Result<String, BadRecordKind> {
    let mut out = String::with_capacity(clean.len() + embedded.map_or(0, str::len) + 256);
    match &document.envelope {
        Envelope::Jsonl(record) => {
            out.push('{');
            let mut metadata_seen = false;
            for (i, (key, range)) in record.fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_key(&mut out, key);
                let raw = &record.line[range.clone()];
                if i == record.text_field {
                    push_json_string(&mut out, clean);
                } else if let Some(embedded) = embedded.filter(|_| key == "metadata" && !metadata_seen) {
                    metadata_seen = true;
                    push_metadata(&mut out, raw, embedded)?;
                } else {
                    out.push_str(raw);
                }
            }
            if let (false, Some(embedded)) = (metadata_seen, embedded) {
                if !record.fields.is_empty() {
                    out.push(',');
                }
                out.push_str("\"metadata\":{\"dechaff\":");
                out.push_str(embedded);
                out.push('}');
            }
            out.push('}');
        }
        Envelope::Warc(headers) => {
            out.push('{');
            push_key(&mut out, "id");
            push_optional(&mut out, document.location.id.as_deref());
            out.push(',');
            push_key(&mut out, "url");
            push_optional(&mut out, document.location.url.as_deref());
            out.push(',');
            push_key(&mut out, "text");
            push_json_string(&mut out, clean);
            out.push_str(",\"metadata\":{\"warc\":{");
            push_key(&mut out, "version");
            push_json_string(&mut out, &headers.version);
            for (name, value) in &headers.fields {
                out.push(',');
                push_key(&mut out, name);
                push_json_string(&mut out, value);
            }
            out.push('}');
            push_dechaff(&mut out, embedded);
            out.push_str("}}");
        }
        Envelope::Parquet(_) | Envelope::Text => {
            out.push('{');
            push_key(&mut out, "id");
            match &document.envelope {
                // A text file's id is its path; a row's, its id column.
                Envelope::Text => push_json_string(&mut out, &document.source.to_string_lossy()),
                _ => push_optional(&mut out, document.location.id.as_deref()),
            }
            out.push(',');
            push_key(&mut out, "text");
            push_json_string(&mut out, clean);
            if let Some(embedded) = embedded {
                out.push_str(",\"metadata\":{\"dechaff\":");
                out.push_str(embedded);
                out.push('}');
            }
            out.push('}');
        }
    }
    Ok(out)
}

/// `,"dechaff":EMBEDDED` when there is something to embed.
fn push_dechaff(out: &mut String, embedded: Option<&str>) {
    if let Some(embedded) = embedded {
        out.push_str(",\"dechaff\":");
        out.push_str(embedded);
    }
}

fn push_optional(out: &mut String, text: Option<&str>) {
    match text {
        Some(text) => push_json_string(out, text),
        None => out.push_str("null"),
    }
}

/// `metadata` with `dechaff` set: an object keeps its fields as written (an
/// older `dechaff` entry is replaced), null becomes an object.
fn push_metadata(out: &mut String, raw: &str, embedded: &str) -> std::result::Result<(), BadRecordKind> {
    let trimmed = raw.trim();
    if trimmed == "null" {
        out.push_str("{\"dechaff\":");
        out.push_str(embedded);
        out.push('}');
        return Ok(());
    }
    let Some(fields) = crate::input::object_fields(trimmed) else {
        return Err(BadRecordKind::MetadataNotObject(crate::input::json_type(trimmed)));
    };
    out.push('{');
    let mut first = true;
    for (key, value) in fields.iter().filter(|(key, _)| key != "dechaff") {
        if !first {
            out.push(',');
        }
        first = false;
        push_key(out, key);
        out.push_str(value.get());
    }
    if !first {
        out.push(',');
    }
    out.push_str("\"dechaff\":");
    out.push_str(embedded);
    out.push('}');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{Documents, InputFormat, Item, ReadSettings};

    /// Two workers writing `caf\xe9.txt` and `caf\xe8.txt` at once shared one
    /// temporary name, and one of them lost its output (a flaky
    /// `bad_input::file_names_that_are_not_utf8`); so did two long names that
    /// agree in their first 200 bytes.
    #[cfg(unix)]
    #[test]
    fn temporary_names_never_collide_and_keep_the_names_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let latin1 = Path::new(std::ffi::OsStr::from_bytes(b"out/caf\xe9.txt"));
        let other = Path::new(std::ffi::OsStr::from_bytes(b"out/caf\xe8.txt"));
        let (a, b) = (temporary_name(latin1), temporary_name(other));
        assert_ne!(a, b);
        assert!(
            a.file_name().unwrap().as_bytes().starts_with(b".caf\xe9.txt.dechaff-"),
            "{a:?}"
        );
        let long = |last: char| PathBuf::from(format!("out/{}{last}.txt", "x".repeat(240)));
        let (c, d) = (temporary_name(&long('a')), temporary_name(&long('b')));
        assert_ne!(c, d);
        assert!(c.file_name().unwrap().len() <= 255);
        assert_ne!(temporary_name(latin1), a, "the same target twice gets two names too");
    }

    fn document(line: &str) -> Document {
        let path = std::env::temp_dir().join(format!("dechaff-output-test-{}.jsonl", std::process::id()));
        fs::write(&path, line).unwrap();
        let (mut documents, _, _) = Documents::open(
            &path,
            Some(InputFormat::Jsonl),
            Some(Compression::None),
            &ReadSettings::default(),
        )
        .unwrap();
        let item = documents.next_item().unwrap().unwrap();
        let _ = fs::remove_file(&path);
        match item {
            Item::Document(document) => *document,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_field_but_the_text_goes_back_as_written() {
        let doc = document(
            r#"{"id": "a1", "text": "dirty", "n": 1.50, "metadata": {"lang": "en", "dechaff": 0}, "z": [ 1 ]}"#,
        );
        let line = document_line(&doc, "clean", Some("{\"x\":1}")).unwrap();
        assert_eq!(
            line,
            r#"{"id":"a1","text":"clean","n":1.50,"metadata":{"lang":"en","dechaff":{"x":1}},"z":[ 1 ]}"#
        );
    }

    #[test]
    fn metadata_is_added_when_missing_or_null_and_refused_when_not_an_object() {
        let doc = document(r#"{"text": "t"}"#);
        assert_eq!(
            document_line(&doc, "t", Some("{}")).unwrap(),
            r#"{"text":"t","metadata":{"dechaff":{}}}"#
        );
        let doc = document(r#"{"text": "t", "metadata": null}"#);
        assert_eq!(
            document_line(&doc, "t", Some("{}")).unwrap(),
            r#"{"text":"t","metadata":{"dechaff":{}}}"#
        );
        let doc = document(r#"{"text": "t", "metadata": "x"}"#);
        assert_eq!(
            document_line(&doc, "t", Some("{}")).unwrap_err(),
            BadRecordKind::MetadataNotObject("string")
        );
        assert_eq!(
            document_line(&doc, "t", None).unwrap(),
            r#"{"text":"t","metadata":"x"}"#,
            "with nothing to add, metadata stays as it came"
        );
    }

    #[test]
    fn compressed_outputs_are_the_same_bytes_every_time() {
        let dir = std::env::temp_dir().join(format!("dechaff-atomic-{}", std::process::id()));
        let mut hashes = Vec::new();
        for compression in [Compression::Gzip, Compression::Zstd, Compression::Gzip] {
            let target = dir.join(format!("out{}", compression.extension()));
            let mut file = AtomicFile::create(&target, compression).unwrap();
            file.write_line("{\"text\":\"x\"}").unwrap();
            let stats = file.finish().unwrap();
            assert_eq!(stats.bytes, fs::metadata(&target).unwrap().len());
            assert_eq!(stats.lines, 1);
            hashes.push(stats.sha256);
            std::thread::sleep(std::time::Duration::from_millis(1100 * u64::from(hashes.len() == 1)));
        }
        assert_eq!(hashes[0], hashes[2], "a gzip output does not depend on the clock");
        let _ = fs::remove_dir_all(&dir);
    }
}
