//! Corpus mode's first pass: per group, the documents holding each line.
//!
//! Written once and used by every command that cleans in corpus mode:
//! `clean` (before its cleaning pass), `eval`, `explain --corpus` and
//! `induce`. Documents are read exactly as the cleaning pass reads them, so a
//! line is counted in the form the cleaner will ask about.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use dechaff_engine::corpus::{CorpusCounter, CorpusCounts, CorpusSettings, GroupBy, GroupKey};
use dechaff_engine::LineEvidence;

use crate::error::{Error, Result};
use crate::input::{Document, Documents, InputFormat, Item};
use crate::plan::{Job, Plan, RunConfig};

/// The first pass of corpus mode: per group, the documents holding each line.
#[derive(Debug)]
pub struct PlanCounts {
    /// Documents per group and normalised line.
    pub counts: CorpusCounts,
    /// How documents were grouped.
    pub group_by: GroupBy,
    /// Each group's key and name, sorted by name.
    pub group_names: Vec<(GroupKey, String)>,
}

impl PlanCounts {
    /// The group of `document`, if it has one.
    pub fn group_of(&self, document: &Document) -> Option<GroupKey> {
        document.group_name(&self.group_by).map(|name| GroupKey::of(&name))
    }

    /// What the corpus says about the lines of a document of the group named `name`.
    pub fn evidence_in(&self, name: &str) -> impl LineEvidence + '_ {
        self.counts.evidence(Some(GroupKey::of(name)))
    }

    /// What the corpus says about the lines of `document`.
    pub fn evidence_for(&self, document: &Document) -> impl LineEvidence + '_ {
        self.counts.evidence(self.group_of(document))
    }
}

/// Reads and decodes every document of `plan` on the current rayon pool and
/// counts, per group, the documents holding each line. Documents are read
/// one at a time and dropped; a file or record that cannot be read is left
/// out here, and the cleaning pass reports it.
pub fn count_recurring_lines(plan: &Plan, config: &RunConfig, settings: &CorpusSettings) -> Result<PlanCounts> {
    count_recurring_lines_reporting(plan, config, settings, &|_, _| {})
}

/// [`count_recurring_lines`], calling `progress` from the workers now and
/// then with the documents counted so far and their bytes of text.
pub fn count_recurring_lines_reporting(
    plan: &Plan,
    config: &RunConfig,
    settings: &CorpusSettings,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<PlanCounts> {
    let only_text = plan.jobs.iter().all(|job| job.format == InputFormat::Text);
    if only_text && !settings.group_by.works_on_plain_text() {
        return Err(Error::usage(format!(
            "--group-by {} needs documents that carry a URL or fields (JSONL or WARC input); \
             plain-text files have only their path: use --group-by dir",
            settings.group_by
        )));
    }
    use rayon::prelude::*;
    let counter = CorpusCounter::new(settings.min_chars);
    let names: std::sync::Mutex<BTreeMap<String, GroupKey>> = std::sync::Mutex::new(BTreeMap::new());
    let (documents, grouped, text_bytes) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
    plan.jobs.par_iter().for_each_init(Vec::new, |keys, job| {
        for_each_document(job, config, |document| {
            let counted = documents.fetch_add(1, Ordering::Relaxed) + 1;
            let bytes =
                text_bytes.fetch_add(document.text.len() as u64, Ordering::Relaxed) + document.text.len() as u64;
            // Every 64 documents: a report per document would cost more than counting it.
            if counted.is_multiple_of(64) {
                progress(counted, bytes);
            }
            let Some(name) = document.group_name(&settings.group_by) else {
                return;
            };
            grouped.fetch_add(1, Ordering::Relaxed);
            let key = GroupKey::of(&name);
            counter.add_document(key, &document.text, keys);
            let mut names = names.lock().unwrap_or_else(|e| e.into_inner());
            names.entry(name).or_insert(key);
        });
    });
    let documents = documents.into_inner();
    if documents > 0 && grouped.into_inner() == 0 {
        // Every document would stand alone, so corpus mode would remove
        // nothing: a misspelt or absent field is an error, not a quiet no-op.
        let what = match &settings.group_by {
            GroupBy::Field(name) => {
                format!("a {name:?} field (a dotted name reaches into objects and structs, e.g. field:metadata.lang)")
            }
            _ => "a URL".to_string(),
        };
        return Err(Error::usage(format!(
            "--group-by {}: none of the {documents} documents has {what}, so corpus mode would remove nothing",
            settings.group_by
        )));
    }
    let group_names = names
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|(name, key)| (key, name))
        .collect();
    Ok(PlanCounts {
        counts: counter.finish(),
        group_by: settings.group_by.clone(),
        group_names,
    })
}

/// Calls `use_document` with each document of a job, decoded as the cleaning
/// pass decodes it; skips what cannot be read (the cleaning pass reports it).
pub fn for_each_document(job: &Job, config: &RunConfig, mut use_document: impl FnMut(&Document)) {
    if job.problem.is_some() {
        return;
    }
    let Ok((mut documents, _, _)) = Documents::open(&job.source, Some(job.format), job.compression, &config.read)
    else {
        return;
    };
    while let Some(item) = documents.next_item() {
        match item {
            Ok(Item::Document(document)) => use_document(&document),
            Ok(_) => {}
            Err(_) => break,
        }
    }
}
