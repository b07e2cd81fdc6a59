//! Pipeline documents cleaned in place: the datatrove step's batch call.
//!
//! A pipeline step handles each document with a few Python operations
//! (read the text, write it back, note what was removed, count per rule).
//! Done in Python around `clean_batch`, those cost as much as the cleaning
//! itself on short pages, so the whole batch is one call: the texts are read
//! from the documents, cleaned on Rust threads with the GIL released, and
//! written back with their metadata; the per-rule counts of the batch are
//! summed here and returned as one dict.

use dechaff_engine::hash::sha256_hex;
use dechaff_run::provenance::{InputStats, ProvenanceText, Record, SpanDestination};
use pyo3::exceptions::PyValueError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use rayon::prelude::*;

use crate::cleaner::{in_pool, Shared, ENCODING};

/// What a document gets in its metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Annotation {
    /// Nothing.
    None,
    /// Removed bytes, the ids of the rules that removed something, warnings.
    Summary,
    /// The full provenance record, as the CLI writes it.
    Record,
}

impl Annotation {
    pub(crate) fn parse(value: Option<&str>) -> PyResult<Annotation> {
        match value {
            None => Ok(Annotation::None),
            Some("summary") => Ok(Annotation::Summary),
            Some("record") => Ok(Annotation::Record),
            Some(other) => Err(PyValueError::new_err(format!(
                "metadata {other:?} is not \"summary\", \"record\" or None"
            ))),
        }
    }
}

/// What the engine made of one document, reduced to what the step uses.
struct Outcome {
    kept: String,
    removed_bytes: usize,
    over_budget: bool,
    warnings: Vec<String>,
    /// Removals per rule index, in order of first removal.
    hits: Vec<(usize, usize)>,
    /// The provenance record as JSON, when asked for.
    record: Option<String>,
}

/// Python's `str.isspace` for one character: Unicode's White_Space plus the
/// four information separators U+001C..U+001F, which Python also counts.
fn python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Cleans `docs` (objects with `text` and `metadata`, such as datatrove's
/// `Document`) in place; see `Cleaner.clean_documents`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn clean_documents<'py>(
    py: Python<'py>,
    shared: &Shared,
    docs: &Bound<'py, PyAny>,
    groups: Option<Vec<Option<String>>>,
    jobs: Option<usize>,
    annotation: Annotation,
    metadata_key: &str,
    keep_over_budget: bool,
) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyDict>, usize)> {
    let docs: Vec<Bound<'py, PyAny>> = docs.try_iter()?.collect::<PyResult<_>>()?;
    let mut inputs = Vec::with_capacity(docs.len());
    for doc in &docs {
        let text: String = doc.getattr(intern!(py, "text"))?.extract()?;
        let source = match annotation {
            Annotation::Record => doc.getattr(intern!(py, "id"))?.str()?.to_string(),
            _ => String::new(),
        };
        inputs.push((text, source));
    }
    crate::cleaner::check_groups(inputs.len(), groups.as_deref())?;
    let outcomes: Vec<Outcome> = py.detach(|| {
        in_pool(jobs, || {
            inputs
                .par_iter()
                .enumerate()
                .map_init(
                    || shared.checkout(),
                    |lease, (i, (text, source))| {
                        let group = groups.as_ref().and_then(|g| g[i].as_deref());
                        let cleaned = shared.clean(lease.cleaner(), text, group);
                        let mut hits: Vec<(usize, usize)> = Vec::new();
                        cleaned.for_each_removal(|removal| {
                            match hits.iter_mut().find(|(rule, _)| *rule == removal.rule) {
                                Some((_, n)) => *n += 1,
                                None => hits.push((removal.rule, 1)),
                            }
                        });
                        let record = (annotation == Annotation::Record).then(|| {
                            let mut record = Record::new(source.clone(), &shared.stamp);
                            let stored = InputStats::stored(text.len() as u64, sha256_hex(text.as_bytes()));
                            record
                                .describe_cleaning(
                                    stored,
                                    text,
                                    (ENCODING, false),
                                    &cleaned,
                                    &shared.rules,
                                    ProvenanceText::Excerpt,
                                    SpanDestination::Record,
                                )
                                .expect("spans held in the record write no file");
                            record.warnings = shared.warnings(&cleaned);
                            record.to_json_line()
                        });
                        let warnings = shared.warnings(&cleaned);
                        Outcome {
                            kept: cleaned.text.clone(),
                            removed_bytes: cleaned.removed_bytes,
                            over_budget: cleaned.over_budget,
                            warnings,
                            hits,
                            record,
                        }
                    },
                )
                .collect()
        })
    })?;

    let rules = shared.rules.rules();
    let mut tally = vec![0usize; rules.len()];
    let mut removed_bytes = 0;
    let fates = PyList::empty(py);
    let loads = match annotation {
        Annotation::Record => Some(py.import("json")?.getattr("loads")?),
        _ => None,
    };
    for (doc, outcome) in docs.iter().zip(outcomes) {
        removed_bytes += outcome.removed_bytes;
        for &(rule, n) in &outcome.hits {
            tally[rule] += n;
        }
        let annotation_value: Option<Bound<'py, PyAny>> = match annotation {
            Annotation::None => None,
            Annotation::Record => Some(loads.as_ref().expect("json.loads").call1((outcome.record,))?),
            Annotation::Summary => {
                let summary = PyDict::new(py);
                summary.set_item(intern!(py, "removed_bytes"), outcome.removed_bytes)?;
                let mut ids: Vec<&str> = outcome.hits.iter().map(|&(rule, _)| rules[rule].id.as_str()).collect();
                ids.sort_unstable();
                summary.set_item(intern!(py, "rules"), ids)?;
                if outcome.over_budget {
                    summary.set_item(intern!(py, "warnings"), &outcome.warnings)?;
                }
                Some(summary.into_any())
            }
        };
        if let Some(value) = annotation_value {
            doc.getattr(intern!(py, "metadata"))?.set_item(metadata_key, value)?;
        }
        let fate = if outcome.kept.chars().all(python_space) {
            Some("dechaff_emptied")
        } else if outcome.over_budget && !keep_over_budget {
            Some("dechaff_over_budget")
        } else {
            // An excluded document keeps its original text, for a person to check.
            doc.setattr(intern!(py, "text"), PyString::new(py, &outcome.kept))?;
            None
        };
        fates.append(fate)?;
    }
    let counts = PyDict::new(py);
    for (rule, n) in rules.iter().zip(tally) {
        if n > 0 {
            counts.set_item(&rule.id, n)?;
        }
    }
    Ok((fates, counts, removed_bytes))
}

#[cfg(test)]
mod tests {
    use super::python_space;

    #[test]
    fn spaces_are_python_spaces() {
        for c in [
            ' ', '\t', '\n', '\r', '\u{b}', '\u{c}', '\u{1c}', '\u{1f}', '\u{85}', '\u{a0}', '\u{3000}',
        ] {
            assert!(python_space(c), "{c:?}");
        }
        for c in ['a', '\u{200b}', '\u{feff}', '\u{0}'] {
            assert!(!python_space(c), "{c:?}");
        }
    }
}
