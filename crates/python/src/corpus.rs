//! Corpus mode's first pass in Python: counts that can be merged and saved.
//!
//! A Python pipeline counts its shards in separate processes and merges the
//! counts later. The counts are the engine's [`CorpusCounts`], the table
//! `dechaff clean --corpus` counts into, with the engine's merge and byte
//! layout; a group is named by a string, keyed as the CLI keys its groups
//! ([`GroupKey::of`]), so merged counts equal one pass over all the
//! documents and the cleaner asks them exactly as the CLI asks its own.

use std::sync::{Arc, Mutex};

use dechaff_engine::corpus::{CorpusCounter as EngineCounter, CorpusCounts, GroupKey};
use dechaff_engine::LineEvidence;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use rayon::prelude::*;

use crate::DechaffError;

/// Counts, per group of documents, how many documents hold each line
/// (after corpus normalisation): corpus mode's first pass.
///
/// Counts from separate processes can be merged (`merge`) and stored
/// (`to_bytes`/`from_bytes`); a `Cleaner(corpus=counter)` then removes the
/// lines `dechaff clean --corpus` would remove from the same documents.
#[pyclass(module = "dechaff._dechaff", frozen)]
pub struct CorpusCounter {
    counts: Mutex<CorpusCounts>,
}

impl CorpusCounter {
    /// A snapshot of the counts, for a cleaner.
    pub(crate) fn snapshot(&self) -> Arc<CorpusCounts> {
        Arc::new(self.lock().clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CorpusCounts> {
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
            counts: Mutex::new(CorpusCounts::empty(min_chars)),
        })
    }

    /// Lines shorter than this (normalised characters) are not counted.
    #[getter]
    fn min_chars(&self) -> usize {
        self.lock().min_chars()
    }

    /// Counts one document of `group`; each distinct line counts once.
    fn add(&self, py: Python<'_>, text: &str, group: &str) {
        py.detach(|| self.lock().add_document(GroupKey::of(group), text, &mut Vec::new()));
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
        // Counted apart on the threads into the engine's shared counter, then
        // merged in: the lock on these counts is taken once.
        let batch = EngineCounter::new(self.min_chars());
        py.detach(|| {
            crate::cleaner::in_pool(jobs, || {
                texts
                    .par_iter()
                    .zip(&groups)
                    .for_each_init(Vec::new, |keys, (text, group)| {
                        if let Some(group) = group {
                            batch.add_document(GroupKey::of(group), text, keys);
                        }
                    })
            })?;
            self.lock()
                .merge(&batch.finish())
                .map_err(|e| PyValueError::new_err(e.to_string()))
        })
    }

    /// Adds another counter's counts to this one's.
    fn merge(&self, other: &Bound<'_, CorpusCounter>) -> PyResult<()> {
        let other = other.get();
        if std::ptr::eq(self, other) {
            let copy = self.lock().clone();
            return self
                .lock()
                .merge(&copy)
                .map_err(|e| PyValueError::new_err(e.to_string()));
        }
        let theirs = other.lock().clone();
        self.lock()
            .merge(&theirs)
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// The counts as bytes (the engine's versioned, canonical layout: equal
    /// counts give equal bytes, whatever merges made them).
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let bytes = py.detach(|| self.lock().to_bytes());
        PyBytes::new(py, &bytes)
    }

    /// Counts saved by `to_bytes`.
    #[staticmethod]
    fn from_bytes(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        let bytes: Vec<u8> = data
            .extract()
            .map_err(|_| PyTypeError::new_err("from_bytes wants bytes"))?;
        let counts = CorpusCounts::from_bytes(&bytes).map_err(|e| DechaffError::new_err(e.to_string()))?;
        Ok(CorpusCounter {
            counts: Mutex::new(counts),
        })
    }

    /// Documents counted in `group`.
    fn documents(&self, group: &str) -> u32 {
        self.lock().documents(GroupKey::of(group))
    }

    /// How many documents of `group` hold `line` (after normalisation).
    fn recurrence(&self, group: &str, line: &str) -> u32 {
        self.lock().evidence(Some(GroupKey::of(group))).recurrence(line)
    }

    /// How many groups were counted (the counts keep a hash of each group's
    /// name, not the name).
    fn group_count(&self) -> usize {
        self.lock().group_count()
    }

    /// Distinct (group, line) pairs counted.
    fn distinct_lines(&self) -> usize {
        self.lock().distinct_lines()
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
            "CorpusCounter(min_chars={}, groups={}, distinct_lines={})",
            counts.min_chars(),
            counts.group_count(),
            counts.distinct_lines()
        )
    }
}
