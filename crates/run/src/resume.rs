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

use std::collections::{BTreeMap, HashMap};
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
use crate::plan::{Job, ProvenanceNames};
use crate::provenance::{Record, RulesStamp, Status};

/// What earlier runs finished, gathered into one file.
#[derive(Debug)]
pub(crate) struct Previous {
    path: PathBuf,
    entries: HashMap<String, Entry>,
}

/// One finished file of an earlier run: where its lines are, and its record.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    range: Range<u64>,
    record: Box<Record>,
}

/// Enough of a provenance line to group it.
#[derive(Deserialize)]
struct Peek {
    source: String,
    #[serde(default)]
    document: Option<IgnoredAny>,
}

/// The finished groups of one provenance file: source, byte range, file record.
fn scan(path: &Path) -> Result<Vec<(String, Range<u64>, Record)>> {
    let file = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::with_capacity(1024 * 1024, file);
    let mut groups = Vec::new();
    let mut current: Option<(String, u64)> = None;
    let mut offset = 0u64;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(|e| Error::io(path, e))?;
        if n == 0 || line.last() != Some(&b'\n') {
            // The end, or a line torn by a kill.
            break;
        }
        let start = offset;
        offset += n as u64;
        let Ok(peek) = serde_json::from_slice::<Peek>(&line) else {
            current = None;
            continue;
        };
        if current.as_ref().is_none_or(|(source, _)| *source != peek.source) {
            current = Some((peek.source.clone(), start));
        }
        if peek.document.is_none() {
            let (source, group_start) = current.take().expect("set above");
            if let Ok(record) = serde_json::from_slice::<Record>(&line) {
                groups.push((source, group_start..offset, record));
            }
        }
    }
    Ok(groups)
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
        let mut chosen: HashMap<String, (usize, Range<u64>, Record)> = HashMap::new();
        for (rank, path) in candidates.iter().enumerate() {
            if !path.is_file() {
                continue;
            }
            for (source, range, record) in scan(path)? {
                chosen.entry(source).or_insert((rank, range, record));
            }
        }
        let path = out.join(&names.previous);
        let temporary = out.join(format!("{}.tmp", names.previous));
        // Copy file by file in offset order, so each source file is read once, front to back.
        let mut order: BTreeMap<(usize, u64), String> = BTreeMap::new();
        for (source, (rank, range, _)) in &chosen {
            order.insert((*rank, range.start), source.clone());
        }
        let mut entries = HashMap::new();
        fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
        let mut writer = std::io::BufWriter::new(fs::File::create(&temporary).map_err(|e| Error::io(&temporary, e))?);
        let mut written = 0u64;
        let mut open: Option<(usize, fs::File)> = None;
        for ((rank, _), source) in order {
            let (_, range, record) = chosen.remove(&source).expect("in the order");
            if open.as_ref().is_none_or(|(r, _)| *r != rank) {
                let file = fs::File::open(&candidates[rank]).map_err(|e| Error::io(&candidates[rank], e))?;
                open = Some((rank, file));
            }
            let (_, file) = open.as_mut().expect("opened above");
            file.seek(SeekFrom::Start(range.start))
                .map_err(|e| Error::io(&candidates[rank], e))?;
            let length = range.end - range.start;
            let copied = std::io::copy(&mut Read::by_ref(file).take(length), &mut writer)
                .map_err(|e| Error::io(&temporary, e))?;
            entries.insert(
                source,
                Entry {
                    range: written..written + copied,
                    record: Box::new(record),
                },
            );
            written += copied;
        }
        writer.flush().map_err(|e| Error::io(&temporary, e))?;
        drop(writer);
        fs::rename(&temporary, &path).map_err(|e| Error::io(&path, e))?;
        Ok(Previous { path, entries })
    }

    /// The earlier run's entry for `job`, when it can be copied forward as it is.
    pub(crate) fn reusable(&self, job: &Job, stamp: &RulesStamp) -> Option<Entry> {
        if job.problem.is_some() || input::is_stdin(&job.source) {
            return None;
        }
        let entry = self.entries.get(job.source.to_string_lossy().as_ref())?;
        let record = &entry.record;
        let output = job.output.to_string_lossy();
        if record.status != Status::Ok
            || record.rules.fingerprint != stamp.fingerprint
            || record.output.as_deref() != Some(output.as_ref())
        {
            return None;
        }
        let written = fs::metadata(&job.output).ok().filter(|m| m.is_file())?;
        // A shard's record gives its stored size; a text file's, the size of
        // its clean text, which is the stored size unless compressed.
        let stored_size_known = record.documents.is_some() || Compression::from_name(&output) == Compression::None;
        if stored_size_known && record.cleaned.as_ref().map(|c| c.bytes) != Some(written.len()) {
            return None;
        }
        let input = record.input.as_ref()?;
        let (bytes, sha256) = hash_file(&job.source)?;
        (bytes == input.bytes && sha256 == input.sha256).then(|| entry.clone())
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

fn hash_file(path: &Path) -> Option<(u64, String)> {
    let mut file = fs::File::open(path).ok()?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 256 * 1024];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buffer).ok()?;
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
pub(crate) fn remove_stale_temporaries(jobs: &[&Job]) {
    let mut by_directory: HashMap<&Path, Vec<std::ffi::OsString>> = HashMap::new();
    for job in jobs {
        if let (Some(parent), Some(name)) = (job.output.parent(), job.output.file_name()) {
            by_directory.entry(parent).or_default().push(temporary_prefix(name));
        }
    }
    for (directory, names) in by_directory {
        let Ok(listing) = fs::read_dir(directory) else {
            continue;
        };
        for entry in listing.flatten() {
            let name = entry.file_name();
            let Some(kept) = kept_name(&name) else {
                continue;
            };
            if names.iter().any(|n| n.as_os_str() == kept) {
                let _ = fs::remove_file(entry.path());
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
