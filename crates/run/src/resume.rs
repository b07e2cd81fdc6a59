//! `--resume`: copy forward what an earlier run finished, redo the rest.
//!
//! Provenance is the journal. Every run appends a file's lines (its
//! documents' records, then the file's own record) to the partial provenance
//! file and flushes it once the file's output has been renamed into place,
//! so after a kill the partial file holds whole groups for the files that
//! were finished and, at worst, a torn group for the one under way.
//!
//! On `--resume` the groups that end in their file's record are gathered
//! from the partial file of a killed run, from what an earlier resumed run
//! had carried over, and from the provenance of a finished run, preferring
//! the newest, and written together to the `previous` file before anything
//! else is touched; so a resumed run may itself be killed and resumed. A
//! file is copied forward, lines and all, only when its record says `ok`,
//! its rule fingerprint is this run's, its output exists under the recorded
//! name (with the recorded size where that is the stored size), and its
//! input still has the recorded size and SHA-256. Everything else is redone.
//! Since every group is copied as it was written and every redone file
//! gives the bytes it gave before, the resumed run ends with the outputs
//! and provenance an uninterrupted run would have written.
//!
//! What is not compared: options other than the rules and their settings
//! (`--text-field`, `--provenance-text`, `--strict`, …). Resume with the
//! command line of the run being resumed.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::IgnoredAny;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::input::{self, Compression};
use crate::output::{temporary_prefix, TEMPORARY_MARK};
use crate::output_dir::OutputDir;
use crate::plan::{Job, ProvenanceNames};
use crate::provenance::{Record, RulesStamp, Status};

/// What earlier runs finished, gathered into one file, with a compact
/// index of it: 40 bytes per file, whatever its records hold (a record is
/// read back from the file when its job is checked), so that resuming a
/// run of a million files stays under 300 MB (`bench/resume-memory`).
#[derive(Debug)]
pub(crate) struct Previous {
    path: PathBuf,
    /// The output tree: its outputs are opened without following links.
    root: PathBuf,
    entries: HashMap<SourceKey, Entry>,
}

/// The first 16 bytes of the SHA-256 of a record's `source`: the index's
/// key, a quarter of an average path's size. The record read back is
/// checked to name the source, so a collision could only cost a redo.
type SourceKey = [u8; 16];

fn source_key(source: &str) -> SourceKey {
    Sha256::digest(source.as_bytes())[..16].try_into().expect("16 bytes")
}

/// One finished file of an earlier run: where its lines are, and where its
/// file record (the group's last line) starts.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    range: Range<u64>,
    record_at: u64,
}

/// Enough of a provenance line to group it.
#[derive(Deserialize)]
struct Peek {
    source: String,
    #[serde(default)]
    document: Option<IgnoredAny>,
}

/// Reads the provenance file `path` one line at a time and calls `group`
/// with each finished group: the source, the byte range of its lines, and
/// where its file record starts. A torn or unparseable group is passed
/// over. This is the one place that reads an earlier run's provenance; a
/// new provenance layout plugs in here.
fn scan(path: &Path, mut group: impl FnMut(&str, Range<u64>, u64)) -> Result<()> {
    let mut reader = open_provenance(path)?;
    let mut current: Option<(String, u64)> = None;
    let mut offset = 0u64;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(|e| Error::io(path, e))?;
        if n == 0 || line.last() != Some(&b'\n') {
            // The end, or a line torn by a kill.
            return Ok(());
        }
        let start = offset;
        offset += n as u64;
        let Ok(peek) = serde_json::from_slice::<Peek>(&line) else {
            current = None;
            continue;
        };
        if current.as_ref().is_none_or(|(source, _)| *source != peek.source) {
            current = Some((peek.source, start));
        }
        if peek.document.is_none() {
            let (source, group_start) = current.take().expect("set above");
            group(&source, group_start..offset, start);
        }
    }
}

/// Opens a provenance file for reading from its start: plain, or
/// decompressed when its name ends in `.gz` or `.zst` (the final file of a
/// run with `--compress`). Offsets are offsets into the plain text.
fn open_provenance(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    let file = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let compression = Compression::from_name(&path.to_string_lossy());
    let (reader, _) =
        input::compress::decompress(Box::new(file), compression, 1024 * 1024).map_err(|e| Error::io(path, e))?;
    Ok(reader)
}

/// A group found by [`scan`] in the candidate file of rank `rank`.
#[derive(Clone, Copy)]
struct Found {
    rank: u8,
    range: (u64, u64),
    record_at: u64,
}

impl Previous {
    /// The file the earlier runs' finished groups were gathered into.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Gathers what the runs before this one finished under `out`, and
    /// writes it to the `previous` file.
    pub(crate) fn load(out: &Path, names: &ProvenanceNames) -> Result<Previous> {
        let candidates = [&names.partial, &names.previous, &names.final_name].map(|name| out.join(name));
        let mut chosen: HashMap<SourceKey, Found> = HashMap::new();
        for (rank, path) in candidates.iter().enumerate() {
            if !path.is_file() {
                continue;
            }
            scan(path, |source, range, record_at| {
                chosen.entry(source_key(source)).or_insert(Found {
                    rank: rank as u8,
                    range: (range.start, range.end),
                    record_at,
                });
            })?;
        }
        let path = out.join(&names.previous);
        let temporary = out.join(format!("{}.tmp", names.previous));
        // Copy group by group in file and offset order, so each candidate is read once, front to back.
        // Consumed, not drained: its table is freed before `entries` takes
        // its own, so the two never stand together (a million files: 100 MB).
        let mut order: Vec<(SourceKey, Found)> = chosen.into_iter().collect();
        order.sort_unstable_by_key(|(_, found)| (found.rank, found.range.0));
        let mut entries = HashMap::with_capacity(order.len());
        fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
        let mut writer = std::io::BufWriter::new(fs::File::create(&temporary).map_err(|e| Error::io(&temporary, e))?);
        let mut written = 0u64;
        // Each candidate is read forward only (a compressed one cannot seek):
        // the reader and how far into the plain text it stands.
        let mut open: Option<(u8, Box<dyn BufRead + Send>, u64)> = None;
        for (key, found) in order {
            let rank = found.rank;
            let from = &candidates[usize::from(rank)];
            if open.as_ref().is_none_or(|(r, _, _)| *r != rank) {
                open = Some((rank, open_provenance(from)?, 0));
            }
            let (_, reader, at) = open.as_mut().expect("opened above");
            let (start, end) = found.range;
            std::io::copy(&mut Read::by_ref(reader).take(start - *at), &mut std::io::sink())
                .map_err(|e| Error::io(from, e))?;
            let copied = std::io::copy(&mut Read::by_ref(reader).take(end - start), &mut writer)
                .map_err(|e| Error::io(&temporary, e))?;
            *at = start + copied;
            entries.insert(
                key,
                Entry {
                    range: written..written + copied,
                    record_at: written + (found.record_at - start),
                },
            );
            written += copied;
        }
        writer.flush().map_err(|e| Error::io(&temporary, e))?;
        drop(writer);
        fs::rename(&temporary, &path).map_err(|e| Error::io(&path, e))?;
        Ok(Previous {
            path,
            root: out.to_path_buf(),
            entries,
        })
    }

    /// The file record of `entry`, read back from the previous file.
    fn record(&self, entry: &Entry) -> Option<Record> {
        let mut file = fs::File::open(&self.path).ok()?;
        file.seek(SeekFrom::Start(entry.record_at)).ok()?;
        let mut line = Vec::new();
        file.take(entry.range.end - entry.record_at)
            .read_to_end(&mut line)
            .ok()?;
        serde_json::from_slice(&line).ok()
    }

    /// The earlier run's entry for `job`, when it can be copied forward as
    /// it is: its record says `ok` with this run's rules, its input has the
    /// recorded size and SHA-256, and so has its output, read under the
    /// recorded name without following a link. A text file that a filter
    /// dropped is copied forward too when its input is unchanged and
    /// nothing stands under its output name.
    ///
    /// With `writes_dropped` (`--dropped`), an input that had a document
    /// dropped is done again: provenance does not hold the dropped record,
    /// which the dropped file of this run must, so only the input gives it back.
    pub(crate) fn reusable(&self, job: &Job, stamp: &RulesStamp, writes_dropped: bool) -> Option<Entry> {
        if job.problem.is_some() || input::is_stdin(&job.source) {
            return None;
        }
        let source = job.source.to_string_lossy();
        let entry = self.entries.get(&source_key(&source))?;
        let record = self.record(entry)?;
        let output = job.output.to_string_lossy();
        if record.source != source || record.rules != stamp.fingerprint {
            return None;
        }
        let had_drops = record.status == Status::Dropped || record.documents.as_ref().is_some_and(|d| d.dropped > 0);
        if had_drops && writes_dropped {
            return None;
        }
        if record.status == Status::Dropped && record.documents.is_none() {
            return self.reusable_dropped_file(job, &record, entry);
        }
        if record.status != Status::Ok || record.output.as_deref() != Some(output.as_ref()) {
            return None;
        }
        let cleaned = record.cleaned.as_ref()?;
        // A shard's record gives the hash of its stored bytes; a text
        // file's, the hash of its clean text, which is stored compressed
        // when its name says so.
        let stored = if record.documents.is_some() {
            Compression::None
        } else {
            Compression::from_name(&output)
        };
        let (dir, name) = OutputDir::holding(&self.root, &job.output, false).ok()?;
        let written = dir.open_file(&name).ok()?;
        if !written.metadata().ok()?.is_file() {
            return None;
        }
        let (reader, _) = input::compress::decompress(Box::new(written), stored, 256 * 1024).ok()?;
        if hash_stream(reader)? != (cleaned.bytes, cleaned.sha256.clone()) {
            return None;
        }
        let input = record.input.as_ref()?;
        let (bytes, sha256) = hash_stream(fs::File::open(&job.source).ok()?)?;
        (bytes == input.bytes && sha256 == input.sha256).then(|| entry.clone())
    }

    /// A dropped text file's entry, when its input is unchanged and no file
    /// stands under its output name (the run that dropped it removed any).
    fn reusable_dropped_file(&self, job: &Job, record: &Record, entry: &Entry) -> Option<Entry> {
        // Anything else than "not found" (a link, a directory it cannot
        // open) is left to a new run to deal with.
        let absent = match OutputDir::holding(&self.root, &job.output, false) {
            Ok((dir, name)) => dir
                .open_file(&name)
                .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound),
            Err(_) => false,
        };
        let input = record.input.as_ref()?;
        let (bytes, sha256) = hash_stream(fs::File::open(&job.source).ok()?)?;
        (absent && bytes == input.bytes && sha256 == input.sha256).then(|| entry.clone())
    }

    /// Calls `line` with each provenance line of `entry`, in order.
    pub(crate) fn replay(&self, entry: &Entry, mut line: impl FnMut(&str) -> Result<()>) -> Result<()> {
        let mut file = fs::File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        file.seek(SeekFrom::Start(entry.range.start))
            .map_err(|e| Error::io(&self.path, e))?;
        let reader = BufReader::new(file.take(entry.range.end - entry.range.start));
        for text in reader.lines() {
            line(&text.map_err(|e| Error::io(&self.path, e))?)?;
        }
        Ok(())
    }
}

/// The size and SHA-256 of everything `reader` gives.
fn hash_stream(mut reader: impl Read) -> Option<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 256 * 1024];
    let mut bytes = 0u64;
    loop {
        let n = reader.read(&mut buffer).ok()?;
        if n == 0 {
            return Some((bytes, hex::encode(hasher.finalize())));
        }
        bytes += n as u64;
        hasher.update(&buffer[..n]);
    }
}

/// Removes what a killed run left half-written for the outputs of `jobs`
/// (`.NAME.dechaff-PID-N.tmp` beside each, NAME cut as
/// [`temporary_prefix`] cuts it). Only these jobs' temporaries go: other
/// parts of a `--shard` split may be writing into the same directories.
pub(crate) fn remove_stale_temporaries(root: &Path, jobs: &[&Job]) {
    let mut by_directory: HashMap<&Path, Vec<std::ffi::OsString>> = HashMap::new();
    for job in jobs {
        if let (Some(parent), Some(name)) = (job.output.parent(), job.output.file_name()) {
            by_directory.entry(parent).or_default().push(temporary_prefix(name));
        }
    }
    for (directory, names) in by_directory {
        // The directory is reached as outputs are, never through a link.
        let Ok((dir, _)) = OutputDir::holding(root, &directory.join("x"), false) else {
            continue;
        };
        let Ok(listing) = dir.names() else {
            continue;
        };
        for name in listing {
            let Some(kept) = kept_name(&name) else {
                continue;
            };
            if names.iter().any(|n| n.as_os_str() == kept) {
                let _ = dir.remove(&name);
            }
        }
    }
}

/// The target's name that a temporary name `.NAME.dechaff-….tmp` keeps.
fn kept_name(temporary: &std::ffi::OsStr) -> Option<&std::ffi::OsStr> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let bytes = temporary.as_bytes();
        let rest = bytes.strip_prefix(b".").filter(|_| bytes.ends_with(b".tmp"))?;
        let mark = TEMPORARY_MARK.as_bytes();
        let cut = rest.windows(mark.len()).rposition(|w| w == mark)?;
        Some(std::ffi::OsStr::from_bytes(&rest[..cut]))
    }
    #[cfg(not(unix))]
    {
        let text = temporary.to_str()?;
        let rest = text.strip_prefix('.').filter(|_| text.ends_with(".tmp"))?;
        Some(std::ffi::OsStr::new(&rest[..rest.rfind(TEMPORARY_MARK)?]))
    }
}
