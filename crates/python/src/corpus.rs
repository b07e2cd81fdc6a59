//! Corpus mode's first pass in Python: counts that can be merged and saved.
//!
//! The engine's count table keys lines by a hash of (group, line) and cannot
//! be merged or stored; a Python pipeline counts its shards in separate
//! processes and merges the counts later. So this table keeps the group
//! *names* and, per group, the document count of each line's hash
//! ([`dechaff_engine::corpus::line_key`], the engine's normalisation and
//! hash). Counting is a sum, as in the engine, so merged counts equal the
//! counts of one pass over all the documents, and the cleaner asks them
//! through the engine's [`LineEvidence`] exactly as `dechaff clean --corpus`
//! asks its own table.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use dechaff_engine::corpus::{line_key, NORMALIZATION_VERSION};
use dechaff_engine::LineEvidence;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use rayon::prelude::*;

use crate::DechaffError;

/// One group's counts.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Group {
    pub documents: u32,
    /// Line hash → documents of the group holding the line.
    pub lines: HashMap<u64, u32>,
}

/// Counts per group name.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Counts {
    pub min_chars: usize,
    pub groups: HashMap<String, Group>,
}

impl Counts {
    fn add_keys(&mut self, group: &str, keys: &[u64]) {
        let counts = self.groups.entry(group.to_string()).or_default();
        counts.documents = counts.documents.saturating_add(1);
        for &key in keys {
            let count = counts.lines.entry(key).or_insert(0);
            *count = count.saturating_add(1);
        }
    }

    fn merge(&mut self, other: &Counts) {
        for (name, theirs) in &other.groups {
            let ours = self.groups.entry(name.clone()).or_default();
            ours.documents = ours.documents.saturating_add(theirs.documents);
            for (&key, &count) in &theirs.lines {
                let mine = ours.lines.entry(key).or_insert(0);
                *mine = mine.saturating_add(count);
            }
        }
    }

    /// The evidence for a document of `group` (`None`: no group, no evidence).
    pub fn evidence(&self, group: Option<&str>) -> GroupEvidence<'_> {
        GroupEvidence {
            group: group.and_then(|name| self.groups.get(name)),
            min_chars: self.min_chars,
        }
    }
}

/// The distinct counted line hashes of a document, as the engine's first pass
/// takes them: each line split at `\n`, normalised, too-short ones left out.
fn document_keys(text: &str, min_chars: usize, keys: &mut Vec<u64>) {
    keys.clear();
    for line in text.split('\n') {
        let key = line_key(line);
        if key.chars >= min_chars && key.chars > 0 {
            keys.push(key.hash);
        }
    }
    keys.sort_unstable();
    keys.dedup();
}

/// What the counts say about the lines of one document.
pub(crate) struct GroupEvidence<'a> {
    group: Option<&'a Group>,
    min_chars: usize,
}

impl LineEvidence for GroupEvidence<'_> {
    fn recurrence(&self, line: &str) -> u32 {
        let Some(group) = self.group else { return 0 };
        let key = line_key(line);
        if key.chars < self.min_chars || key.chars == 0 {
            return 0;
        }
        group.lines.get(&key.hash).copied().unwrap_or(0)
    }
}

const MAGIC: &[u8] = b"dechaff.corpus-counts/1\n";

fn encode(counts: &Counts) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + counts.groups.values().map(|g| g.lines.len() * 12).sum::<usize>());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&NORMALIZATION_VERSION.to_le_bytes());
    out.extend_from_slice(&(counts.min_chars as u64).to_le_bytes());
    out.extend_from_slice(&(counts.groups.len() as u64).to_le_bytes());
    // Sorted, so that equal counts give equal bytes.
    let mut names: Vec<&String> = counts.groups.keys().collect();
    names.sort();
    for name in names {
        let group = &counts.groups[name];
        out.extend_from_slice(&(name.len() as u64).to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&group.documents.to_le_bytes());
        out.extend_from_slice(&(group.lines.len() as u64).to_le_bytes());
        let mut lines: Vec<(u64, u32)> = group.lines.iter().map(|(&k, &v)| (k, v)).collect();
        lines.sort_unstable();
        for (key, count) in lines {
            out.extend_from_slice(&key.to_le_bytes());
            out.extend_from_slice(&count.to_le_bytes());
        }
    }
    out
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err("corpus counts: the bytes end early".to_string());
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }
    fn len(&mut self) -> Result<usize, String> {
        let n = self.u64()?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.0.len())
            .ok_or_else(|| format!("corpus counts: a length of {n} is longer than the bytes left"))
    }
}

fn decode(bytes: &[u8]) -> Result<Counts, String> {
    let mut r = Reader(bytes);
    if r.take(MAGIC.len()).ok() != Some(MAGIC) {
        return Err("corpus counts: not a dechaff corpus-counts file (bad magic)".to_string());
    }
    let version = r.u32()?;
    if version != NORMALIZATION_VERSION {
        return Err(format!(
            "corpus counts: made with line normalisation {version}, this dechaff uses {NORMALIZATION_VERSION}"
        ));
    }
    let min_chars = r.u64()? as usize;
    let n_groups = r.len()?;
    let mut groups = HashMap::with_capacity(n_groups);
    for _ in 0..n_groups {
        let name_len = r.len()?;
        let name = std::str::from_utf8(r.take(name_len)?)
            .map_err(|_| "corpus counts: a group name is not UTF-8".to_string())?
            .to_string();
        let documents = r.u32()?;
        let n_lines = r.len()?;
        let mut lines = HashMap::with_capacity(n_lines);
        for _ in 0..n_lines {
            let key = r.u64()?;
            lines.insert(key, r.u32()?);
        }
        groups.insert(name, Group { documents, lines });
    }
    if !r.0.is_empty() {
        return Err(format!("corpus counts: {} bytes after the end", r.0.len()));
    }
    Ok(Counts { min_chars, groups })
}

/// Counts, per group of documents, how many documents hold each line
/// (after corpus normalisation): corpus mode's first pass.
///
/// Counts from separate processes can be merged (`merge`) and stored
/// (`to_bytes`/`from_bytes`); a `Cleaner(corpus=counter)` then removes the
/// lines `dechaff clean --corpus` would remove from the same documents.
#[pyclass(module = "dechaff._dechaff", frozen)]
pub struct CorpusCounter {
    counts: Mutex<Counts>,
}

impl CorpusCounter {
    /// A snapshot of the counts, for a cleaner.
    pub(crate) fn snapshot(&self) -> Arc<Counts> {
        Arc::new(self.lock().clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[pymethods]
impl CorpusCounter {
    #[new]
    #[pyo3(signature = (min_chars = 1))]
    fn new(min_chars: usize) -> PyResult<Self> {
        if min_chars == 0 || min_chars > 100_000 {
            return Err(PyValueError::new_err(format!(
                "min_chars {min_chars} is outside 1..=100000"
            )));
        }
        Ok(CorpusCounter {
            counts: Mutex::new(Counts {
                min_chars,
                groups: HashMap::new(),
            }),
        })
    }

    /// Lines shorter than this (normalised characters) are not counted.
    #[getter]
    fn min_chars(&self) -> usize {
        self.lock().min_chars
    }

    /// Counts one document of `group`; each distinct line counts once.
    fn add(&self, py: Python<'_>, text: &str, group: &str) {
        let min_chars = self.min_chars();
        let keys = py.detach(|| {
            let mut keys = Vec::new();
            document_keys(text, min_chars, &mut keys);
            keys
        });
        self.lock().add_keys(group, &keys);
    }

    /// Counts many documents, `groups[i]` being the group of `texts[i]`
    /// (`None`: left out, as corpus mode leaves out documents without a
    /// group), on Rust threads with the GIL released.
    #[pyo3(signature = (texts, groups, jobs = None))]
    fn add_batch(
        &self,
        py: Python<'_>,
        texts: Vec<String>,
        groups: Vec<Option<String>>,
        jobs: Option<usize>,
    ) -> PyResult<()> {
        if texts.len() != groups.len() {
            return Err(PyValueError::new_err(format!(
                "{} texts but {} groups",
                texts.len(),
                groups.len()
            )));
        }
        let min_chars = self.min_chars();
        let keys: Vec<Vec<u64>> = py.detach(|| {
            crate::cleaner::in_pool(jobs, || {
                texts
                    .par_iter()
                    .zip(&groups)
                    .map(|(text, group)| {
                        let mut keys = Vec::new();
                        if group.is_some() {
                            document_keys(text, min_chars, &mut keys);
                        }
                        keys
                    })
                    .collect()
            })
        })?;
        let mut counts = self.lock();
        for (group, keys) in groups.iter().zip(&keys) {
            if let Some(group) = group {
                counts.add_keys(group, keys);
            }
        }
        Ok(())
    }

    /// Adds another counter's counts to this one's.
    fn merge(&self, other: &Bound<'_, CorpusCounter>) -> PyResult<()> {
        let other = other.get();
        if std::ptr::eq(self, other) {
            let copy = self.lock().clone();
            self.lock().merge(&copy);
            return Ok(());
        }
        let theirs = other.lock().clone();
        let mut ours = self.lock();
        if ours.min_chars != theirs.min_chars {
            return Err(PyValueError::new_err(format!(
                "cannot merge counts made with min_chars {} into counts made with min_chars {}",
                theirs.min_chars, ours.min_chars
            )));
        }
        ours.merge(&theirs);
        Ok(())
    }

    /// The counts as bytes (a versioned binary format; equal counts give equal bytes).
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let counts = self.lock().clone();
        let bytes = py.detach(|| encode(&counts));
        PyBytes::new(py, &bytes)
    }

    /// Counts saved by `to_bytes`.
    #[staticmethod]
    fn from_bytes(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        let bytes: Vec<u8> = data
            .extract()
            .map_err(|_| PyTypeError::new_err("from_bytes wants bytes"))?;
        let counts = decode(&bytes).map_err(DechaffError::new_err)?;
        Ok(CorpusCounter {
            counts: Mutex::new(counts),
        })
    }

    /// Documents counted in `group`.
    fn documents(&self, group: &str) -> u32 {
        self.lock().groups.get(group).map_or(0, |g| g.documents)
    }

    /// How many documents of `group` hold `line` (after normalisation).
    fn recurrence(&self, group: &str, line: &str) -> u32 {
        self.lock().evidence(Some(group)).recurrence(line)
    }

    /// The names of the groups counted, sorted.
    fn groups(&self) -> Vec<String> {
        let mut names: Vec<String> = self.lock().groups.keys().cloned().collect();
        names.sort();
        names
    }

    /// Distinct (group, line) pairs counted.
    fn distinct_lines(&self) -> usize {
        self.lock().groups.values().map(|g| g.lines.len()).sum()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<CorpusCounter>() {
            Ok(other) => std::ptr::eq(self, other.get()) || *self.lock() == *other.get().lock(),
            Err(_) => false,
        }
    }

    fn __repr__(&self) -> String {
        let counts = self.lock();
        format!(
            "CorpusCounter(min_chars={}, groups={}, documents={})",
            counts.min_chars,
            counts.groups.len(),
            counts.groups.values().map(|g| u64::from(g.documents)).sum::<u64>()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_round_trip_through_bytes() {
        let mut counts = Counts {
            min_chars: 2,
            groups: HashMap::new(),
        };
        let mut keys = Vec::new();
        document_keys("Menu\nHome\nA sentence.\nMenu\n", 2, &mut keys);
        counts.add_keys("site-a", &keys);
        counts.add_keys("site-b", &keys[..1]);
        let bytes = encode(&counts);
        assert_eq!(decode(&bytes).unwrap(), counts);
        assert!(decode(&bytes[..bytes.len() - 1]).is_err());
    }
}
