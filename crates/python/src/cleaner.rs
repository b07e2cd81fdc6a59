//! `Cleaner`, `Cleaned` and `Removal`: the engine's cleaner as Python objects.

use std::collections::HashMap;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use dechaff_engine::corpus::{CorpusCounts, CorpusSettings, GroupBy, GroupKey};
use dechaff_engine::hash::sha256_hex;
use dechaff_engine::{CleanConfig, CleanerBuilder, RuleSet, RuleSetBuilder};
use dechaff_run::provenance::{InputStats, Manifest, ProvenanceText, Record, RulesStamp, SpanDestination};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use rayon::prelude::*;

use crate::corpus::CorpusCounter;
use crate::{engine_error, DechaffError};

/// The encoding a record names for text that came in as a Python `str`: it
/// is handed over as UTF-8, as the CLI's decoder names UTF-8 input.
pub(crate) const ENCODING: &str = "UTF-8";

/// What every clone of one Python `Cleaner` shares.
pub(crate) struct Shared {
    /// Never cleans: cloned when the pool is empty.
    template: Mutex<dechaff_engine::Cleaner>,
    /// Idle cleaners with grown scratch buffers.
    idle: Mutex<Vec<dechaff_engine::Cleaner>>,
    pub(crate) rules: Arc<RuleSet>,
    pub(crate) stamp: RulesStamp,
    corpus: Option<Arc<CorpusCounts>>,
}

impl Shared {
    pub(crate) fn checkout(&self) -> Lease<'_> {
        let popped = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let cleaner = popped.unwrap_or_else(|| self.template.lock().unwrap_or_else(|e| e.into_inner()).clone());
        Lease {
            shared: self,
            cleaner: Some(cleaner),
        }
    }

    /// Cleans one document; `group` matters in corpus mode only.
    pub(crate) fn clean<'c>(
        &self,
        cleaner: &'c mut dechaff_engine::Cleaner,
        text: &'c str,
        group: Option<&str>,
    ) -> dechaff_engine::Cleaned<'c> {
        match &self.corpus {
            Some(counts) => cleaner.clean_with(text, &counts.evidence(group.map(GroupKey::of))),
            None => cleaner.clean(text),
        }
    }

    pub(crate) fn warnings(&self, cleaned: &dechaff_engine::CleanSummary) -> Vec<String> {
        if !cleaned.over_budget {
            return Vec::new();
        }
        vec![dechaff_run::pipeline::over_budget_message(
            cleaned.removed_share,
            self.stamp.settings.removal_budget,
        )]
    }
}

/// A cleaner taken from the pool; goes back on drop.
pub(crate) struct Lease<'a> {
    shared: &'a Shared,
    cleaner: Option<dechaff_engine::Cleaner>,
}

impl Lease<'_> {
    pub(crate) fn cleaner(&mut self) -> &mut dechaff_engine::Cleaner {
        self.cleaner.as_mut().expect("a lease holds its cleaner until dropped")
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(cleaner) = self.cleaner.take() {
            let mut idle = self.shared.idle.lock().unwrap_or_else(|e| e.into_inner());
            // Enough for every rayon worker and a few Python threads; more
            // would only hold scratch memory.
            if idle.len() < rayon::current_num_threads().max(1) * 2 + 4 {
                idle.push(cleaner);
            }
        }
    }
}

/// Runs `work` on the global rayon pool, or on a pool of `jobs` threads.
pub(crate) fn in_pool<T: Send>(jobs: Option<usize>, work: impl FnOnce() -> T + Send) -> PyResult<T> {
    match jobs {
        None => Ok(work()),
        Some(0) => Err(PyValueError::new_err("jobs must be at least 1")),
        Some(n) => {
            static POOLS: Mutex<Option<HashMap<usize, Arc<rayon::ThreadPool>>>> = Mutex::new(None);
            let pool = {
                let mut pools = POOLS.lock().unwrap_or_else(|e| e.into_inner());
                let pools = pools.get_or_insert_with(HashMap::new);
                match pools.get(&n) {
                    Some(pool) => Arc::clone(pool),
                    None => {
                        let pool = rayon::ThreadPoolBuilder::new()
                            .num_threads(n)
                            .thread_name(|i| format!("dechaff-{i}"))
                            .build()
                            .map_err(|e| DechaffError::new_err(format!("cannot start {n} threads: {e}")))?;
                        let pool = Arc::new(pool);
                        pools.insert(n, Arc::clone(&pool));
                        pool
                    }
                }
            };
            Ok(pool.install(work))
        }
    }
}

/// The paths of the `rules` argument: one path, or a sequence of paths.
fn rule_paths(rules: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<PathBuf>> {
    let Some(rules) = rules else { return Ok(Vec::new()) };
    if rules.is_none() {
        return Ok(Vec::new());
    }
    if let Ok(path) = rules.extract::<PathBuf>() {
        return Ok(vec![path]);
    }
    let mut paths = Vec::new();
    for item in rules
        .try_iter()
        .map_err(|_| PyTypeError::new_err("rules must be a path or a sequence of paths"))?
    {
        paths.push(
            item?
                .extract::<PathBuf>()
                .map_err(|_| PyTypeError::new_err("rules must be a path or a sequence of paths"))?,
        );
    }
    Ok(paths)
}

fn share(name: &str, value: f64) -> PyResult<f64> {
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(PyValueError::new_err(format!("{name} {value} is outside 0..=1")))
    }
}

/// Strips boilerplate from documents. Built once (the rules are compiled
/// here), then used from any number of threads.
#[pyclass(module = "dechaff._dechaff", frozen)]
pub struct Cleaner {
    shared: Arc<Shared>,
}

#[pymethods]
impl Cleaner {
    #[new]
    #[pyo3(signature = (
        rules = None,
        *,
        disable = Vec::new(),
        no_default_rules = false,
        heuristics = true,
        removal_budget = 0.5,
        tail_min_position = 0.5,
        corpus = None,
        min_docs = CorpusSettings::default().min_docs,
        max_doc_share = CorpusSettings::default().max_doc_share,
        group_by = "dir".to_string(),
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        rules: Option<&Bound<'_, PyAny>>,
        disable: Vec<String>,
        no_default_rules: bool,
        heuristics: bool,
        removal_budget: f64,
        tail_min_position: f64,
        corpus: Option<&Bound<'_, CorpusCounter>>,
        min_docs: u32,
        max_doc_share: f64,
        group_by: String,
    ) -> PyResult<Self> {
        let config = CleanConfig {
            removal_budget: share("removal_budget", removal_budget)?,
            tail_min_position: share("tail_min_position", tail_min_position)?,
            heuristics,
            ..CleanConfig::default()
        };
        let paths = rule_paths(rules)?;
        let counts = corpus.map(|counter| counter.get().snapshot());
        let settings = match &counts {
            None => None,
            Some(counts) => {
                let settings = CorpusSettings {
                    min_docs,
                    min_chars: counts.min_chars(),
                    max_doc_share,
                    group_by: group_by.parse::<GroupBy>().map_err(PyValueError::new_err)?,
                };
                settings.validate().map_err(PyValueError::new_err)?;
                Some(settings)
            }
        };
        let (cleaner, rules) = py
            .detach(|| -> dechaff_engine::Result<_> {
                let mut builder = RuleSetBuilder::new().no_default_rules(no_default_rules);
                for path in paths {
                    builder = builder.add_path(path);
                }
                for id in disable {
                    builder = builder.disable(id);
                }
                if let Some(settings) = settings {
                    builder = builder.corpus(settings);
                }
                let cleaner = CleanerBuilder::new().config(config).build(builder.build()?)?;
                let rules = cleaner.shared_rules();
                Ok((cleaner, rules))
            })
            .map_err(engine_error)?;
        let stamp = RulesStamp::of(&rules, config);
        Ok(Cleaner {
            shared: Arc::new(Shared {
                template: Mutex::new(cleaner),
                idle: Mutex::new(Vec::new()),
                rules,
                stamp,
                corpus: counts,
            }),
        })
    }

    /// Cleans one document. `group` names its group in corpus mode (for text
    /// files the CLI groups by directory); ignored otherwise.
    #[pyo3(signature = (text, group = None))]
    fn clean(&self, py: Python<'_>, text: String, group: Option<String>) -> Cleaned {
        let shared = &self.shared;
        py.detach(|| {
            let mut lease = shared.checkout();
            let cleaned = shared.clean(lease.cleaner(), &text, group.as_deref()).collect();
            Cleaned::new(Arc::clone(shared), text, cleaned)
        })
    }

    /// Cleans many documents in parallel on Rust threads, the GIL released.
    ///
    /// `texts` is a sequence of `str` (gives a list of `Cleaned`) or a
    /// pyarrow `StringArray`/`LargeStringArray`/`ChunkedArray` of them (gives
    /// an array of the same type holding the kept texts; nulls stay null).
    /// `groups[i]` is the group of `texts[i]` in corpus mode. `jobs` is the
    /// thread count (default: one per core).
    #[pyo3(signature = (texts, groups = None, jobs = None))]
    fn clean_batch<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        groups: Option<Vec<Option<String>>>,
        jobs: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if texts.hasattr("__arrow_c_array__")? || texts.hasattr("chunks")? {
            return crate::arrow::clean_arrow(py, &self.shared, texts, groups, jobs);
        }
        if texts.is_instance_of::<PyString>() {
            return Err(PyTypeError::new_err("clean_batch wants a sequence of str, not one str"));
        }
        let texts: Vec<String> = texts.extract()?;
        check_groups(texts.len(), groups.as_deref())?;
        let shared = &self.shared;
        let results: Vec<Cleaned> = py.detach(|| {
            in_pool(jobs, || {
                texts
                    .into_par_iter()
                    .enumerate()
                    .map_init(
                        || shared.checkout(),
                        |lease, (i, text)| {
                            let group = groups.as_ref().and_then(|g| g[i].as_deref());
                            let cleaned = shared.clean(lease.cleaner(), &text, group).collect();
                            Cleaned::new(Arc::clone(shared), text, cleaned)
                        },
                    )
                    .collect()
            })
        })?;
        Ok(PyList::new(py, results)?.into_any())
    }

    /// Cleans pipeline documents in place: objects with a `text` str and a
    /// `metadata` dict, such as datatrove's `Document`. The texts are cleaned
    /// on Rust threads with the GIL released; each kept document's `text`
    /// becomes its kept text; `metadata[metadata_key]` gets a summary
    /// (`"summary"`: removed bytes, the ids of the rules that removed
    /// something, sorted, and the warnings of an over-budget document), the
    /// record (`"record"`, with the document's `id` as its source) or nothing
    /// (`None`). Returns, per document, why it should be dropped
    /// (`"dechaff_emptied"`, `"dechaff_over_budget"` unless
    /// `keep_over_budget`) or None to keep it, with its text left alone when
    /// dropped; the batch's removals per rule id; and its removed bytes.
    #[pyo3(signature = (docs, groups = None, jobs = None, metadata = Some("summary"), metadata_key = "dechaff", keep_over_budget = false))]
    #[allow(clippy::too_many_arguments)]
    fn clean_documents<'py>(
        &self,
        py: Python<'py>,
        docs: &Bound<'py, PyAny>,
        groups: Option<Vec<Option<String>>>,
        jobs: Option<usize>,
        metadata: Option<&str>,
        metadata_key: &str,
        keep_over_budget: bool,
    ) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyDict>, usize)> {
        crate::documents::clean_documents(
            py,
            &self.shared,
            docs,
            groups,
            jobs,
            crate::documents::Annotation::parse(metadata)?,
            metadata_key,
            keep_over_budget,
        )
    }

    /// The id of every rule in force, in rule order.
    fn rule_ids(&self) -> Vec<String> {
        self.shared.rules.rules().iter().map(|r| r.id.clone()).collect()
    }

    /// The fingerprint of the rules and settings, as records carry it.
    #[getter]
    fn fingerprint(&self) -> String {
        self.shared.stamp.fingerprint.clone()
    }

    /// The run manifest the CLI writes as the first line of provenance:
    /// the packs and their versions, the settings and the tool, which every
    /// record names by `fingerprint`. A dict.
    fn manifest<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let json = Manifest::of(&self.shared.stamp).to_json_line();
        py.import("json")?.call_method1("loads", (json,))
    }

    /// True when the cleaner was built with corpus counts.
    #[getter]
    fn corpus(&self) -> bool {
        self.shared.corpus.is_some()
    }

    fn __repr__(&self) -> String {
        let s = &self.shared.stamp.settings;
        format!(
            "Cleaner(rules={}, heuristics={}, removal_budget={}, tail_min_position={}, corpus={})",
            self.shared.rules.rules().len(),
            if s.heuristics { "True" } else { "False" },
            s.removal_budget,
            s.tail_min_position,
            if self.shared.corpus.is_some() { "True" } else { "False" }
        )
    }
}

pub(crate) fn check_groups(texts: usize, groups: Option<&[Option<String>]>) -> PyResult<()> {
    match groups {
        Some(groups) if groups.len() != texts => Err(PyValueError::new_err(format!(
            "{texts} texts but {} groups",
            groups.len()
        ))),
        _ => Ok(()),
    }
}

/// The result of cleaning one document.
#[pyclass(module = "dechaff._dechaff", frozen)]
pub struct Cleaned {
    shared: Arc<Shared>,
    input: String,
    cleaned: dechaff_engine::OwnedCleaned,
    warnings: Vec<String>,
}

impl Cleaned {
    fn new(shared: Arc<Shared>, input: String, cleaned: dechaff_engine::OwnedCleaned) -> Cleaned {
        let warnings = shared.warnings(&cleaned);
        Cleaned {
            shared,
            input,
            cleaned,
            warnings,
        }
    }
}

/// Character offsets of sorted or unsorted byte offsets into `text`, in one walk.
fn char_offsets(text: &str, bytes: &[usize]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..bytes.len()).collect();
    order.sort_unstable_by_key(|&i| bytes[i]);
    let mut out = vec![0; bytes.len()];
    let (mut at_byte, mut at_char) = (0usize, 0usize);
    for i in order {
        let target = bytes[i];
        at_char += text[at_byte..target].chars().count();
        at_byte = target;
        out[i] = at_char;
    }
    out
}

#[pymethods]
impl Cleaned {
    /// The kept text.
    #[getter]
    fn text(&self) -> &str {
        &self.cleaned.text
    }

    /// The spans the rules removed, in input order.
    #[getter]
    fn removed(&self) -> Vec<Removal> {
        let removals = &self.cleaned.removals;
        let bytes: Vec<usize> = removals.iter().flat_map(|r| [r.bytes.start, r.bytes.end]).collect();
        let chars = char_offsets(&self.input, &bytes);
        removals
            .iter()
            .enumerate()
            .map(|(k, r)| {
                let rule = &self.shared.rules.rules()[r.rule];
                Removal {
                    rule: rule.id.clone(),
                    action: rule.action().to_string(),
                    byte_start: r.bytes.start,
                    byte_end: r.bytes.end,
                    char_start: chars[2 * k],
                    char_end: chars[2 * k + 1],
                    line_start: r.line_start,
                    line_end: r.line_end,
                    score: r.score,
                    text: self.input[r.bytes.clone()].to_string(),
                }
            })
            .collect()
    }

    /// How many spans each rule removed: a dict from rule id to count,
    /// cheaper than `removed` when only the tally is wanted.
    fn rule_counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let counts = PyDict::new(py);
        let rules = self.shared.rules.rules();
        let mut tally: Vec<(usize, usize)> = Vec::new();
        for removal in &self.cleaned.removals {
            match tally.iter_mut().find(|(rule, _)| *rule == removal.rule) {
                Some((_, n)) => *n += 1,
                None => tally.push((removal.rule, 1)),
            }
        }
        for (rule, n) in tally {
            counts.set_item(&rules[rule].id, n)?;
        }
        Ok(counts)
    }

    /// Byte ranges of the input dropped by whitespace normalisation.
    #[getter]
    fn whitespace(&self) -> Vec<(usize, usize)> {
        self.cleaned
            .whitespace
            .iter()
            .map(|r: &Range<usize>| (r.start, r.end))
            .collect()
    }

    /// What a person should look at (the removal budget), as the CLI's record says it.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    /// True when the phrase rules removed more than the removal budget.
    #[getter]
    fn over_budget(&self) -> bool {
        self.cleaned.over_budget
    }

    /// Share of the input's bytes removed by phrase rules (the budget's measure).
    #[getter]
    fn removed_share(&self) -> f64 {
        self.cleaned.removed_share
    }

    /// Bytes removed by rules, heuristics and corpus mode (whitespace not counted).
    #[getter]
    fn removed_bytes(&self) -> usize {
        self.cleaned.removed_bytes
    }

    /// Lines in the input.
    #[getter]
    fn input_lines(&self) -> usize {
        self.cleaned.input_lines
    }

    /// Lines in the output.
    #[getter]
    fn output_lines(&self) -> usize {
        self.cleaned.output_lines
    }

    /// The provenance record, as the CLI writes it to provenance.jsonl for a
    /// text file: a dict. `source` and `output` fill the fields of those
    /// names; `provenance_text` is `"excerpt"` or `"full"`.
    #[pyo3(signature = (source = "".to_string(), output = None, provenance_text = "excerpt"))]
    fn record<'py>(
        &self,
        py: Python<'py>,
        source: String,
        output: Option<String>,
        provenance_text: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let json = self.record_json(source, output, provenance_text)?;
        py.import("json")?.call_method1("loads", (json,))
    }

    /// The provenance record as one line of JSON (no newline).
    #[pyo3(signature = (source = "".to_string(), output = None, provenance_text = "excerpt"))]
    fn record_json(&self, source: String, output: Option<String>, provenance_text: &str) -> PyResult<String> {
        let mode = match provenance_text {
            "excerpt" => ProvenanceText::Excerpt,
            "full" => ProvenanceText::Full,
            other => {
                return Err(PyValueError::new_err(format!(
                    "provenance_text {other:?} is not \"excerpt\" or \"full\""
                )))
            }
        };
        let mut record = Record::new(source, &self.shared.stamp);
        let stored = InputStats::stored(self.input.len() as u64, sha256_hex(self.input.as_bytes()));
        record
            .describe_cleaning(
                stored,
                &self.input,
                (ENCODING, false),
                &self.cleaned,
                &self.shared.rules,
                mode,
                SpanDestination::Record,
            )
            .expect("spans held in the record write no file");
        record.warnings = self.warnings.clone();
        record.output = output;
        Ok(record.to_json_line())
    }

    fn __repr__(&self) -> String {
        format!(
            "Cleaned(removed={}, input_bytes={}, kept_bytes={})",
            self.cleaned.removals.len(),
            self.input.len(),
            self.cleaned.text.len()
        )
    }
}

/// One span removed by a rule. Offsets are into the input: bytes of its
/// UTF-8 form (as provenance records count them) and characters (Python
/// string indices: `text[r.char_start:r.char_end] == r.text`).
#[pyclass(module = "dechaff._dechaff", frozen, get_all)]
pub struct Removal {
    /// The rule id (`pack.rule`).
    rule: String,
    /// `drop-line`, `drop-block`, `drop-tail` or `cut-span`.
    action: String,
    byte_start: usize,
    byte_end: usize,
    char_start: usize,
    char_end: usize,
    /// First line, 1-based.
    line_start: usize,
    /// Last line, 1-based, inclusive.
    line_end: usize,
    /// The rule's score for rules that score (heuristics, corpus counts), else None.
    score: Option<f32>,
    /// The removed text.
    text: String,
}

#[pymethods]
impl Removal {
    fn __repr__(&self) -> String {
        format!(
            "Removal(rule={:?}, action={:?}, bytes={}..{}, lines={}..={})",
            self.rule, self.action, self.byte_start, self.byte_end, self.line_start, self.line_end
        )
    }
}

/// Cleans the non-null texts of a chunk with one leased cleaner, writing
/// the kept texts one after another into `out` and their end offsets into
/// `ends` (`None` for a null).
pub(crate) fn clean_chunk<'t>(
    shared: &Shared,
    texts: impl Iterator<Item = (Option<&'t str>, Option<&'t str>)>,
    out: &mut String,
    ends: &mut Vec<Option<usize>>,
) {
    let mut lease = shared.checkout();
    for (text, group) in texts {
        match text {
            None => ends.push(None),
            Some(text) => {
                let cleaned = shared.clean(lease.cleaner(), text, group);
                out.push_str(&cleaned.text);
                ends.push(Some(out.len()));
            }
        }
    }
}
