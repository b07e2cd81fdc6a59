//! Cleaning the documents of one JSONL or WARC input, in bounded parallel batches.
//!
//! The input is read on the calling thread a batch at a time (up to
//! [`BATCH_BYTES`] of records, or [`BATCH_RECORDS`] records), the batch is
//! cleaned on every worker, and the results are written in input order:
//! output line, provenance record, reject line. The next batch is read while
//! the current one is cleaned, so reading and cleaning overlap, and memory
//! stays at about two batches plus the largest document, whatever the size
//! of the shard. Batches are cut by the input alone, so the bytes written do
//! not depend on `--jobs`.

use std::sync::Mutex;
use std::time::Instant;

use rayon::prelude::*;

use crate::clean::Cleaner;
use crate::error::Result;
use crate::input::{BadRecordKind, Document, Documents, Item, StreamError};
use crate::output::{self, AtomicFile};
use crate::pipeline::{
    fail, over_budget_message, rejected_bytes, remove_stale, Collector, Job, PlanCounts, Problem, RunConfig,
};
use crate::provenance::{DocumentCounts, InputStats, Record, RulesStamp, Status};
use crate::rules::RuleSet;

/// A batch holds at most this many bytes of records (one larger record is a batch alone).
pub const BATCH_BYTES: u64 = 8 * 1024 * 1024;
/// A batch holds at most this many records.
pub const BATCH_RECORDS: usize = 4096;

/// What became of one record.
enum Outcome {
    /// Cleaned: its record and its output line.
    Written(Record, String),
    /// Refused: its record (status error).
    Rejected(Record),
    /// Not a document (a WARC `request` record).
    NotADocument,
}

/// A batch of items read, and how reading ended if it did.
struct Batch {
    items: Vec<Item>,
    end: Option<Option<StreamError>>,
}

fn read_batch(documents: &mut Documents) -> Batch {
    let mut items = Vec::new();
    let mut bytes = 0;
    while bytes < BATCH_BYTES && items.len() < BATCH_RECORDS {
        match documents.next_item() {
            None => return Batch { items, end: Some(None) },
            Some(Err(e)) => {
                return Batch {
                    items,
                    end: Some(Some(e)),
                }
            }
            Some(Ok(item)) => {
                bytes += match &item {
                    Item::Document(document) => document.raw_bytes + document.text.len() as u64,
                    Item::Bad(bad) => bad.raw_excerpt.len() as u64,
                    Item::NotADocument(_) => 0,
                };
                items.push(item);
            }
        }
    }
    Batch { items, end: None }
}

/// Cleans the documents of `job` and writes its output file (or standard
/// output), then the file's own record. `cleaners` holds one cleaner per
/// worker of `pool`, kept for the whole run so that their warmed-up caches
/// serve every shard.
pub(crate) fn clean_documents(
    job: &Job,
    config: &RunConfig,
    cleaners: &[Mutex<Cleaner>],
    stamp: &RulesStamp,
    corpus: Option<&PlanCounts>,
    pool: &rayon::ThreadPool,
    collector: &mut Collector<'_>,
) -> Result<()> {
    let source = job.source.to_string_lossy().into_owned();
    let mut file_record = Record::new(source.clone(), stamp);
    if let Some(Problem::Error(message) | Problem::Skipped(message)) = &job.problem {
        remove_stale(&job.output, config);
        let status = match job.problem {
            Some(Problem::Skipped(_)) => Status::Skipped,
            _ => Status::Error,
        };
        return collector.record(fail(file_record, status, message.clone()));
    }
    let (mut documents, _, compression) =
        match Documents::open(&job.source, Some(job.format), job.compression, &config.read) {
            Ok(opened) => opened,
            Err(e) => {
                remove_stale(&job.output, config);
                return collector.record(fail(file_record, Status::Error, e.to_string()));
            }
        };
    let to_stdout = config.writes_to_stdout();
    let mut output = if to_stdout {
        None
    } else {
        let written = config.compress.unwrap_or(compression);
        match AtomicFile::create(&job.output, written) {
            Ok(file) => Some(file),
            Err(e) => {
                remove_stale(&job.output, config);
                return collector.record(fail(file_record, Status::Error, e.to_string()));
            }
        }
    };
    let output_name = if to_stdout {
        "-".to_string()
    } else {
        job.output.to_string_lossy().into_owned()
    };

    let rules = cleaners[0].lock().expect("the first worker's cleaner").shared_rules();
    let context = Context {
        config,
        stamp,
        corpus,
        rules: &rules,
        source: &source,
        output_name: &output_name,
    };
    let mut counts = DocumentCounts::default();
    let broken: Option<StreamError>;
    let mut batch = read_batch(&mut documents);
    loop {
        let ended = batch.end.is_some();
        let items = std::mem::take(&mut batch.items);
        let (outcomes, next) = pool.install(|| {
            rayon::join(
                || {
                    items
                        .into_par_iter()
                        .map(|item| {
                            let worker = rayon::current_thread_index().unwrap_or(0) % cleaners.len();
                            let mut cleaner = cleaners[worker].lock().expect("a worker's own cleaner");
                            process(item, &mut cleaner, &context)
                        })
                        .collect::<Vec<Outcome>>()
                },
                || (!ended).then(|| read_batch(&mut documents)),
            )
        });
        for outcome in outcomes {
            counts.records += 1;
            match outcome {
                Outcome::Written(record, line) => {
                    counts.written += 1;
                    match &mut output {
                        Some(file) => file.write_line(&line)?,
                        None => collector.stdout_line(&line)?,
                    }
                    collector.record(record)?;
                }
                Outcome::Rejected(record) => {
                    counts.rejected += 1;
                    collector.record(record)?;
                }
                Outcome::NotADocument => counts.not_documents += 1,
            }
        }
        match next {
            Some(next) => batch = next,
            None => {
                broken = batch.end.take().flatten();
                break;
            }
        }
    }

    let (bytes, sha256) = documents.stored();
    file_record.input = Some(InputStats::stored(bytes, sha256));
    if let Some(error) = &broken {
        // The record being read when the stream broke is refused like any
        // other, so that the reject file and the counts show it.
        counts.records += 1;
        counts.rejected += 1;
        let mut record = Record::new(source.clone(), stamp);
        record.document = Some(error.location.clone());
        collector.record(fail(record, Status::Error, error.message.clone()))?;
    }
    if let Some(file) = output {
        match file.finish() {
            Ok(stats) => {
                file_record.cleaned = Some(stats);
                file_record.output = Some(output_name);
            }
            Err(e) => {
                file_record.documents = Some(counts);
                return collector.record(fail(file_record, Status::Error, e.to_string()));
            }
        }
    }
    file_record.documents = Some(counts);
    if let Some(error) = broken {
        file_record.status = Status::Error;
        file_record.error = Some(format!(
            "stopped at {}: {}; the records before it were cleaned and written",
            error.location, error.message
        ));
    }
    collector.record(file_record)
}

/// What every worker needs to turn an item into an outcome.
struct Context<'a> {
    config: &'a RunConfig,
    stamp: &'a RulesStamp,
    /// Corpus mode's counts, when it is on.
    corpus: Option<&'a PlanCounts>,
    rules: &'a RuleSet,
    source: &'a str,
    output_name: &'a str,
}

fn process(item: Item, cleaner: &mut Cleaner, context: &Context<'_>) -> Outcome {
    let document = match item {
        Item::Document(document) => document,
        Item::NotADocument(_) => return Outcome::NotADocument,
        Item::Bad(bad) => {
            // A bad record has no path of its own: it comes from the input being cleaned.
            let mut record = Record::new(context.source.to_string(), context.stamp);
            record.document = Some(bad.location.clone());
            let mut record = fail(record, Status::Error, bad.reason.to_string());
            record.rejected = Some(rejected_bytes(bad.raw_bytes, &bad.raw_excerpt));
            return Outcome::Rejected(record);
        }
    };
    clean_document(&document, cleaner, context)
}

fn clean_document(document: &Document, cleaner: &mut Cleaner, context: &Context<'_>) -> Outcome {
    let config = context.config;
    let mut record = Record::new(document.source.to_string_lossy().into_owned(), context.stamp);
    record.document = Some(document.location.clone());
    let refuse = |record: Record, reason: String| {
        let mut record = fail(record, Status::Error, reason);
        record.rejected = Some(rejected_bytes(document.raw_bytes, excerpt_of(document)));
        Outcome::Rejected(record)
    };
    let budget = cleaner.config().removal_budget;
    let started = Instant::now();
    let cleaned = match context.corpus {
        Some(corpus) => cleaner.clean_with(&document.text, &corpus.evidence_for(document)),
        None => cleaner.clean(&document.text),
    };
    let elapsed = started.elapsed();
    record.describe_cleaning(
        InputStats::stored(document.raw_bytes, document.raw_sha256.clone()),
        &document.text,
        (document.encoding, document.lossy),
        cleaned,
        context.rules,
        config.provenance_text,
    );
    if let Some(limit) = config.doc_timeout.filter(|limit| elapsed > *limit) {
        let reason = BadRecordKind::TimedOut {
            seconds: elapsed.as_secs_f64(),
            limit: limit.as_secs_f64(),
        };
        return refuse(record, reason.to_string());
    }
    if cleaned.over_budget {
        let message = over_budget_message(cleaned.removed_share, budget);
        if config.strict {
            return refuse(record, format!("{message} (--strict)"));
        }
        record.warnings.push(message);
    }
    let line = if config.attributes {
        output::attribute_line(document, &config.read.id_field, &record)
    } else {
        match output::document_line(document, &cleaned.text, &record.embedded_json()) {
            Ok(line) => line,
            Err(reason) => return refuse(record, reason.to_string()),
        }
    };
    record.output = Some(context.output_name.to_string());
    Outcome::Written(record, line)
}

/// The raw bytes of a document worth keeping in the reject file: a JSONL
/// line as written; nothing for a WARC body or text file (the offset finds it).
fn excerpt_of(document: &Document) -> &[u8] {
    match &document.envelope {
        crate::input::Envelope::Jsonl(record) => {
            let line = record.line.as_bytes();
            &line[..line.len().min(crate::input::RAW_EXCERPT_BYTES)]
        }
        _ => &[],
    }
}
