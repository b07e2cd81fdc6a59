//! The one document pipeline: every input, every output, one scheduler.
//!
//! A run is a stream of tasks in input order, made by one producer: a text
//! file is one task (its worker opens, reads, decodes and cleans it), a
//! JSONL or WARC input is read by the producer record by record, each record
//! a task, between a task that opens the input's output and one that closes
//! it. The producer cuts the stream into chunks, bounded in tasks and in the
//! bytes of records read, and the scheduler cleans a chunk on every worker
//! (rayon, one cleaner per worker) while, on the other side of a
//! `rayon::join`, it hands the previous chunk's outcomes to the collector in
//! input order and reads the next chunk. So reading, cleaning and writing
//! overlap, memory stays at about two chunks plus the largest document, and
//! every byte written is in input order, whatever `--jobs` is.
//!
//! Every document, from a text file or a record, is cleaned by one function,
//! `clean_document`, and goes out through a [`Sink`]: the output tree,
//! JSON lines on standard output, attribute files, or memory. Provenance
//! records and reject lines are written by one [`Collector`].
//!
//! Each output is written to a temporary file beside its target and renamed,
//! and provenance lines go, flushed, to a partial file that is renamed when
//! the run ends, so a killed run never leaves a half-written file under a
//! final name. `--resume` reads what a killed or finished run left
//! ([`crate::resume`]) and copies forward every file whose input, rules and
//! output still match, redoing the rest.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rayon::prelude::*;

use dechaff_engine::{Cleaned, Cleaner, RuleSet};

use crate::corpus_pass::{count_recurring_lines, count_recurring_lines_reporting, PlanCounts};
use crate::dropped::dropped_line;
use crate::error::{Error, ErrorKind, Result};
use crate::filters::DropReason;
use crate::input::{
    BadRecordKind, Compression, Document, Documents, Envelope, InputFormat, Item, ParquetLayout, StreamError,
    RAW_EXCERPT_BYTES,
};
use crate::lock;
use crate::output::{Placement, StreamEncoder};
use crate::plan::{Job, Plan, Problem, ProvenanceNames, RunConfig};
use crate::provenance::{
    DocumentCounts, InputStats, Manifest, Record, RejectedBytes, RulesStamp, SpanDestination, Status,
};
use crate::resume::{self, Previous};
use crate::sink::{OutputTree, RecordOutput, RefusedRecord, Rendered, Shape, Sink};
use crate::span_log::SPILL_BYTES;
use crate::stats::{self, RunStats};

/// A chunk holds at most this many bytes of records read (one larger record is a chunk alone).
pub const CHUNK_BYTES: u64 = 8 * 1024 * 1024;
/// A chunk holds at most this many records.
pub const CHUNK_RECORDS: usize = 4096;
/// A chunk holds at most this many text files per worker: enough that the
/// wait for the last file of a chunk is a small share of the chunk, few
/// enough that the outcomes held (records, or whole lines for standard
/// output) stay small.
pub const CHUNK_FILES_PER_WORKER: usize = 64;

/// How one file or document went, reported in input order.
#[derive(Debug)]
pub struct FileReport {
    /// The record that was written to provenance. A JSONL or WARC input
    /// gives one per document (`record.document` set) and then one for the file.
    /// Its spans went to provenance and are not kept (unless the sink read
    /// them): [`Record::tally`] sums them up.
    pub record: Record,
}

/// Receives each file's and each document's outcome, in input order, on the calling thread.
pub trait Reporter: Send {
    /// Called once per record, in input order.
    fn file_done(&mut self, report: &FileReport);

    /// What corpus mode's counting pass calls, from its workers, now and
    /// then with the documents counted so far and their bytes of text.
    fn counting(&self) -> Option<&(dyn Fn(u64, u64) + Sync)> {
        None
    }
}

impl<F: FnMut(&FileReport) + Send> Reporter for F {
    fn file_done(&mut self, report: &FileReport) {
        self(report)
    }
}

/// Totals of a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Files planned.
    pub files: usize,
    /// Files cleaned and written.
    pub ok: usize,
    /// Files that failed.
    pub failed: usize,
    /// Files skipped (links not followed).
    pub skipped: usize,
    /// Files and documents written with a warning.
    pub warned: usize,
    /// Input bytes of the files read (as stored, compressed or not).
    pub bytes_in: u64,
    /// Output bytes written.
    pub bytes_out: u64,
    /// Removed spans, over all files.
    pub removed_spans: usize,
    /// Documents of JSONL and WARC inputs cleaned and written.
    pub documents: usize,
    /// Records of JSONL and WARC inputs refused (each one is in `--rejects`).
    pub rejected: usize,
    /// Documents (records and text files) dropped by a document filter
    /// (`--drop`; each one is in `--dropped`).
    pub dropped: usize,
    /// Files copied forward by `--resume` without being cleaned again.
    pub resumed: usize,
    /// The run's statistics, as written to `stats.json` (`None` only for a
    /// default summary that no run filled in).
    pub stats: Option<RunStats>,
}

impl Summary {
    /// True when something failed: a file, or a record.
    pub fn has_failures(&self) -> bool {
        self.failed > 0 || self.rejected > 0
    }
}

/// Where every record of the run goes, in input order, on the calling thread:
/// provenance, the reject file, the summary, the reporter.
pub struct Collector<'a> {
    provenance: Option<(std::io::BufWriter<fs::File>, PathBuf)>,
    rejects: Option<(std::io::BufWriter<fs::File>, PathBuf)>,
    dropped: Option<(std::io::BufWriter<fs::File>, PathBuf)>,
    summary: Summary,
    stats: RunStats,
    reporter: &'a mut dyn Reporter,
}

impl Collector<'_> {
    /// Writes a dropped document's line to `--dropped`, if it is given.
    fn dropped(&mut self, line: &str) -> Result<()> {
        if let Some((writer, path)) = &mut self.dropped {
            writeln!(writer, "{line}").map_err(|e| Error::io(&*path, e))?;
        }
        Ok(())
    }

    /// Writes `record`'s provenance line and, for a refused document, its
    /// reject line; counts it; reports it.
    fn record(&mut self, mut record: Record) -> Result<()> {
        if let Some((writer, path)) = &mut self.provenance {
            // Straight into the file's buffer: a record with a span per line
            // of a file of millions of lines is gigabytes as one string.
            record.write_json_line(writer).map_err(|e| Error::io(&*path, e))?;
            // Its spans are written: what stays is the tally.
            record.span_log = None;
            if record.document.is_none() {
                // A finished file is on disk before the next one starts.
                writer.flush().map_err(|e| Error::io(&*path, e))?;
            }
        }
        self.account(record, false)
    }

    /// A provenance line of a previous run, copied forward as it was.
    fn replay(&mut self, line: &str, from: &std::path::Path) -> Result<()> {
        if let Some((writer, path)) = &mut self.provenance {
            writeln!(writer, "{line}").map_err(|e| Error::io(&*path, e))?;
        }
        let record: Record = serde_json::from_str(line).map_err(|e| {
            Error::new(ErrorKind::Resume {
                path: from.to_path_buf(),
                message: format!("a provenance line does not parse: {e}"),
            })
        })?;
        if record.document.is_none() {
            self.summary.resumed += 1;
        }
        self.account(record, true)
    }

    fn account(&mut self, record: Record, resumed: bool) -> Result<()> {
        if let Some(line) = reject_line(&record) {
            if let Some((writer, path)) = &mut self.rejects {
                writeln!(writer, "{line}")
                    .and_then(|()| writer.flush())
                    .map_err(|e| Error::io(&*path, e))?;
            }
        }
        tally(&mut self.summary, &record);
        self.stats.add(&record, resumed);
        self.reporter.file_done(&FileReport { record });
        Ok(())
    }
}

/// The reject file's line for a refused document (or a stream that broke):
/// where it was, why, and its first bytes. A text file is a document too:
/// one that was read and then refused (over the size limit, past
/// `--doc-timeout`, over the budget with `--strict`) gets a line without a
/// location. `None` for anything else.
pub fn reject_line(record: &Record) -> Option<String> {
    if record.status != Status::Error {
        return None;
    }
    let text_file_refused = record.document.is_none() && record.documents.is_none() && record.input.is_some();
    if record.document.is_none() && !text_file_refused {
        return None;
    }
    #[derive(serde::Serialize)]
    struct RejectLine<'a> {
        source: &'a str,
        #[serde(flatten)]
        location: Option<&'a crate::provenance::DocumentLocation>,
        reason: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        bytes: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        record: Option<&'a str>,
    }
    let line = RejectLine {
        source: &record.source,
        location: record.document.as_ref(),
        reason: record.error.as_deref().unwrap_or(""),
        bytes: match &record.rejected {
            Some(rejected) => Some(rejected.bytes),
            None if text_file_refused => record.input.as_ref().map(|input| input.bytes),
            None => None,
        },
        record: record.rejected.as_ref().map(|r| r.excerpt.as_str()),
    };
    Some(serde_json::to_string(&line).expect("a reject line always serializes"))
}

/// Cleans every job of `plan` into the output tree under `config.out`
/// ([`OutputTree`]) and writes provenance there. Per-file and per-document
/// failures are recorded and reported, never returned: the error result is
/// for failures of the run itself (the output directory, the provenance
/// file). A run to a stream (`--out -`) is [`run_into`] with the caller's
/// [`crate::sink::JsonLines`]: this crate never opens standard output itself.
pub fn run(plan: &Plan, config: &RunConfig, cleaner: &Cleaner, reporter: &mut dyn Reporter) -> Result<Summary> {
    if config.writes_to_stdout() {
        return Err(Error::usage(
            "--out - writes to a stream: call pipeline::run_into with a JsonLines sink",
        ));
    }
    let sink =
        OutputTree::new(config.compress, record_output(config)).placed(Placement::below(&plan.out, config.durable));
    run_into(plan, config, cleaner, &sink, reporter)
}

/// Writes the finished provenance `partial` to `target` compressed with
/// `compression`, through a temporary beside it, so that `target` is whole
/// or absent.
fn compress_provenance(partial: &Path, target: &Path, compression: Compression) -> Result<()> {
    let name = target.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let temporary = target.with_file_name(format!(".{name}.tmp"));
    let write = || -> std::io::Result<()> {
        let mut source = fs::File::open(partial)?;
        let file = fs::File::create(&temporary)?;
        let mut encoder = StreamEncoder::new(std::io::BufWriter::new(file), compression)?;
        std::io::copy(&mut source, &mut encoder)?;
        let file = encoder.finish()?.into_inner().map_err(|e| e.into_error())?;
        // Flushed to the disk before it takes its name, as the plain one is.
        file.sync_all()
    };
    if let Err(e) = write() {
        let _ = fs::remove_file(&temporary);
        return Err(Error::io(target, e));
    }
    fs::rename(&temporary, target).map_err(|e| Error::io(target, e))
}

/// What `config` makes of each record: attribute lines (`--attributes`), or
/// cleaned records with `--metadata`'s share of provenance.
pub fn record_output(config: &RunConfig) -> RecordOutput {
    if config.attributes {
        RecordOutput::Attributes(config.read.id_field.clone())
    } else {
        RecordOutput::Documents(config.metadata)
    }
}

/// Cleans every job of `plan` into `sink`. Provenance is written under
/// `plan.out` unless the run writes to standard output (`--out -`).
pub fn run_into(
    plan: &Plan,
    config: &RunConfig,
    cleaner: &Cleaner,
    sink: &dyn Sink,
    reporter: &mut dyn Reporter,
) -> Result<Summary> {
    let started = Instant::now();
    let names = ProvenanceNames::for_run(config);
    let to_stdout = config.writes_to_stdout();
    // Both locks are taken before anything is read or written, so a second
    // run into the same output stops at once and touches nothing.
    let partial = if to_stdout {
        None
    } else {
        fs::create_dir_all(&plan.out).map_err(|e| Error::io(&plan.out, e))?;
        let partial_path = plan.out.join(&names.partial);
        let file = lock::open_locked(&partial_path, "the provenance of a run under way")?;
        Some((file, partial_path))
    };
    let rejects = match &config.rejects {
        Some(path) => {
            let mut file = lock::open_locked(path, "--rejects")?;
            lock::truncate(&mut file, path)?;
            Some((std::io::BufWriter::new(file), path.clone()))
        }
        None => None,
    };
    let dropped = match &config.dropped {
        Some(path) => {
            let mut file = lock::open_locked(path, "--dropped")?;
            lock::truncate(&mut file, path)?;
            Some((std::io::BufWriter::new(file), path.clone()))
        }
        None => None,
    };
    let previous = match (config.resume, to_stdout) {
        (true, false) => Some(Previous::load(&plan.out, &names)?),
        _ => None,
    };
    let stamp = RulesStamp::of(cleaner.rules(), cleaner.config());
    let provenance = match partial {
        Some((mut file, partial_path)) => {
            lock::truncate(&mut file, &partial_path)?;
            let mut writer = std::io::BufWriter::new(file);
            writer
                .write_all(Manifest::of(&stamp).to_json_line().as_bytes())
                .map_err(|e| Error::io(&partial_path, e))?;
            Some((writer, partial_path))
        }
        None => None,
    };
    let mut collector = Collector {
        provenance,
        rejects,
        dropped,
        summary: Summary {
            files: plan.jobs.len(),
            ..Summary::default()
        },
        stats: RunStats::for_run(config, &stamp, plan.jobs.len() as u64),
        reporter,
    };
    let workers = config.jobs.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .thread_name(|i| format!("dechaff-worker-{i}"))
        .build()
        .map_err(|e| {
            Error::new(ErrorKind::Threads(format!(
                "cannot start {workers} worker threads: {e}"
            )))
        })?;

    let phase = Instant::now();
    let counting = collector.reporter.counting();
    let corpus = match cleaner.rules().corpus() {
        Some(settings) => Some(pool.install(|| match counting {
            Some(progress) => count_recurring_lines_reporting(plan, config, settings, progress),
            None => count_recurring_lines(plan, config, settings),
        })?),
        None => None,
    };
    collector.stats.seconds.counting = phase.elapsed().as_secs_f64();
    let phase = Instant::now();

    let reused: Vec<Option<resume::Entry>> = match &previous {
        Some(previous) => {
            let reused: Vec<Option<resume::Entry>> = pool.install(|| {
                plan.jobs
                    .par_iter()
                    .map(|job| previous.reusable(job, &stamp, config.dropped.is_some()))
                    .collect()
            });
            let redone: Vec<&Job> = plan
                .jobs
                .iter()
                .zip(&reused)
                .filter(|(_, entry)| entry.is_none())
                .map(|(job, _)| job)
                .collect();
            resume::remove_stale_temporaries(&plan.out, &redone);
            reused
        }
        None => vec![None; plan.jobs.len()],
    };
    collector.stats.seconds.resume_check = phase.elapsed().as_secs_f64();
    let phase = Instant::now();

    let rules = cleaner.shared_rules();
    let context = Context {
        jobs: &plan.jobs,
        config,
        stamp: &stamp,
        corpus: corpus.as_ref(),
        rules: &rules,
        sink,
        span_log: (!to_stdout).then_some(plan.out.as_path()),
    };
    // One cleaner per worker, kept for the whole run so that their warmed-up
    // caches serve every input; a worker only ever locks its own.
    let cleaners: Vec<Mutex<Cleaner>> = (0..workers).map(|_| Mutex::new(cleaner.clone())).collect();
    let mut producer = Producer {
        plan,
        config,
        reused: &reused,
        next_job: 0,
        open: None,
        files_per_chunk: CHUNK_FILES_PER_WORKER * workers,
        stopped: false,
    };
    let mut ordered = Ordered {
        context: &context,
        previous: previous.as_ref(),
        reused: &reused,
        collector: &mut collector,
        open: None,
        failed: None,
    };

    let mut chunk = producer.next_chunk();
    let mut cleaned: Option<Vec<Outcome>> = None;
    loop {
        let last = chunk.is_empty();
        let tasks = std::mem::take(&mut chunk);
        let (outcomes, next) = pool.install(|| {
            rayon::join(
                || {
                    tasks
                        .into_par_iter()
                        .map(|task| {
                            let worker = rayon::current_thread_index().unwrap_or(0) % cleaners.len();
                            let mut cleaner = cleaners[worker].lock().unwrap_or_else(|e| e.into_inner());
                            process(task, &mut cleaner, &context)
                        })
                        .collect::<Vec<Outcome>>()
                },
                || {
                    if let Some(outcomes) = cleaned.take() {
                        ordered.take_all(outcomes);
                    }
                    if last || ordered.failed.is_some() {
                        Vec::new()
                    } else {
                        producer.next_chunk()
                    }
                },
            )
        });
        if last {
            break;
        }
        cleaned = Some(outcomes);
        chunk = next;
    }
    if let Some(error) = ordered.failed.take() {
        return Err(error);
    }

    sink.finish()?;
    let stopped = producer.stopped.then(|| config.stop.requested()).flatten();
    collector.stats.seconds.cleaning = phase.elapsed().as_secs_f64();
    if let Some((writer, partial_path)) = collector.provenance.take() {
        let file = writer
            .into_inner()
            .map_err(|e| Error::io(&partial_path, e.into_error()))?;
        // Provenance reaches the disk before it takes its final name (or,
        // for a stopped run, before the run says it stopped).
        file.sync_all().map_err(|e| Error::io(&partial_path, e))?;
        if stopped.is_none() {
            let final_path = plan.out.join(&names.final_name);
            if names.compression == Compression::None {
                // Renamed while still locked, so no other run takes the name
                // in between; the lock goes with the file below.
                fs::rename(&partial_path, &final_path).map_err(|e| Error::io(&final_path, e))?;
            } else {
                // Compressed only now, in one pass: the partial file is the
                // journal `--resume` reads after a kill, and a compressed
                // stream cut by a kill would lose its last frame.
                compress_provenance(&partial_path, &final_path, names.compression)?;
                fs::remove_file(&partial_path).map_err(|e| Error::io(&partial_path, e))?;
            }
            for other in &names.other_names {
                let _ = fs::remove_file(plan.out.join(other));
            }
            if previous.is_some() {
                let _ = fs::remove_file(plan.out.join(&names.previous));
            }
            if let Ok(dir) = fs::File::open(&plan.out) {
                let _ = dir.sync_all();
            }
        }
        drop(file);
    }
    for (writer, path) in [collector.rejects.take(), collector.dropped.take()]
        .into_iter()
        .flatten()
    {
        let file = writer.into_inner().map_err(|e| Error::io(&path, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&path, e))?;
    }
    if let Some(signal) = stopped {
        return Err(Error::new(ErrorKind::Stopped { signal }));
    }
    collector.stats.seconds.total = started.elapsed().as_secs_f64();
    if !to_stdout {
        let path = plan.out.join(stats::file_name(config.shard));
        crate::output::write_file(&path, Compression::None, collector.stats.to_json().as_bytes())?;
    }
    let mut summary = collector.summary;
    summary.stats = Some(collector.stats);
    Ok(summary)
}

/// One step of the run, in input order, as the producer makes it.
enum Task {
    /// A job that an earlier run finished (`--resume`): copied forward.
    Replay(usize),
    /// A job whose walk failed or that is skipped.
    Problem(usize),
    /// A text file: its worker opens, reads, decodes and cleans it.
    TextFile(usize),
    /// A JSONL, WARC or Parquet input was opened (with its stored
    /// compression, and a Parquet input's layout), or could not be.
    Begin(usize, Result<Compression, String>, Option<Arc<ParquetLayout>>),
    /// One record of the JSONL or WARC input begun last.
    Record(usize, Item),
    /// The input begun last ended, or its stream broke; its stored size and hash.
    End(usize, Option<StreamError>, (u64, String)),
    /// The input begun last is given up unfinished: the run was stopped.
    Abandon(usize),
}

/// What a task became, handed to the collecting side in input order.
enum Outcome {
    /// Copy job N's lines forward from the earlier run.
    Replay(usize),
    /// A whole job's record (a text file, or a job that failed before it
    /// began), and what its document became if it was written.
    File(Record, Option<Rendered>),
    /// See [`Task::Begin`].
    Begin(usize, Result<Compression, String>, Option<Arc<ParquetLayout>>),
    /// A record's provenance, and what it became unless it was refused.
    Document(Record, Option<Rendered>),
    /// A record that is not a document (a WARC `request`): counted only.
    NotADocument,
    /// See [`Task::End`].
    End(usize, Option<StreamError>, (u64, String)),
    /// See [`Task::Abandon`].
    Abandon(usize),
}

/// Reads the run's inputs, in order, into chunks of tasks.
struct Producer<'a> {
    plan: &'a Plan,
    config: &'a RunConfig,
    reused: &'a [Option<resume::Entry>],
    next_job: usize,
    /// The JSONL or WARC input being read, and its job.
    open: Option<(usize, Documents)>,
    files_per_chunk: usize,
    /// The run was asked to stop and no more is read.
    stopped: bool,
}

impl Producer<'_> {
    /// The next chunk; empty when every input has been read.
    fn next_chunk(&mut self) -> Vec<Task> {
        let mut tasks = Vec::new();
        let (mut bytes, mut records, mut files) = (0u64, 0usize, 0usize);
        let records_full = |bytes: u64, records: usize| bytes >= CHUNK_BYTES || records >= CHUNK_RECORDS;
        loop {
            let unread = self.open.is_some() || self.next_job < self.plan.jobs.len();
            if unread && self.config.stop.requested().is_some() {
                // No new document is taken; an input begun is given up whole,
                // its output discarded, to be redone by --resume.
                self.stopped = true;
                if let Some((job, _)) = self.open.take() {
                    tasks.push(Task::Abandon(job));
                }
                return tasks;
            }
            if let Some((job, documents)) = &mut self.open {
                if records_full(bytes, records) {
                    return tasks;
                }
                let job = *job;
                match documents.next_item() {
                    Some(Ok(item)) => {
                        bytes += match &item {
                            Item::Document(document) => document.raw_bytes + document.text.len() as u64,
                            Item::Bad(bad) => bad.raw_excerpt.len() as u64,
                            Item::NotADocument(_) => 0,
                        };
                        records += 1;
                        tasks.push(Task::Record(job, item));
                    }
                    ended => {
                        let broken = ended.and_then(Result::err);
                        tasks.push(Task::End(job, broken, documents.stored()));
                        self.open = None;
                    }
                }
                continue;
            }
            let index = self.next_job;
            let Some(job) = self.plan.jobs.get(index) else {
                return tasks;
            };
            if files >= self.files_per_chunk || records_full(bytes, records) {
                return tasks;
            }
            self.next_job += 1;
            files += 1;
            if self.reused[index].is_some() {
                tasks.push(Task::Replay(index));
            } else if job.problem.is_some() {
                tasks.push(Task::Problem(index));
            } else if job.format == InputFormat::Text && !self.parquet_by_content(job) {
                tasks.push(Task::TextFile(index));
            } else {
                let format = match job.format {
                    InputFormat::Text => InputFormat::Parquet,
                    format => format,
                };
                match Documents::open(&job.source, Some(format), job.compression, &self.config.read) {
                    Ok((documents, _, compression)) => {
                        tasks.push(Task::Begin(index, Ok(compression), documents.parquet_layout()));
                        self.open = Some((index, documents));
                    }
                    Err(e) => tasks.push(Task::Begin(index, Err(e.to_string()), None)),
                }
            }
        }
    }
}

impl Producer<'_> {
    /// Whether `job`, a text file by its name, is a Parquet file by its
    /// first bytes (`PAR1`): Spark and other writers do not always name
    /// their parts `.parquet`. Not asked under `--input-format`, which says
    /// what every input is, nor of a compressed file (Parquet compresses
    /// inside).
    fn parquet_by_content(&self, job: &Job) -> bool {
        self.config.input_format.is_none()
            && job.compression == Some(Compression::None)
            && crate::input::parquet::starts_like_parquet(&job.source)
    }
}

/// What every worker needs to turn a task into an outcome.
struct Context<'a> {
    jobs: &'a [Job],
    config: &'a RunConfig,
    stamp: &'a RulesStamp,
    /// Corpus mode's counts, when it is on.
    corpus: Option<&'a PlanCounts>,
    rules: &'a RuleSet,
    sink: &'a dyn Sink,
    /// Where a worker's span logs spill (the provenance file's directory),
    /// when provenance is written.
    span_log: Option<&'a Path>,
}

impl Context<'_> {
    fn new_record(&self, job: &Job) -> Record {
        Record::new(job.source.to_string_lossy().into_owned(), self.stamp)
    }
}

/// On a worker: one task's outcome.
fn process(task: Task, cleaner: &mut Cleaner, context: &Context<'_>) -> Outcome {
    match task {
        Task::Replay(index) => Outcome::Replay(index),
        Task::Problem(index) => {
            let job = &context.jobs[index];
            context.sink.remove_stale(job);
            let (status, message) = match &job.problem {
                Some(Problem::Skipped(message)) => (Status::Skipped, message.clone()),
                Some(Problem::Error(message)) => (Status::Error, message.clone()),
                None => unreachable!("a problem task has a problem"),
            };
            Outcome::File(fail(context.new_record(job), status, message), None)
        }
        Task::TextFile(index) => {
            let job = &context.jobs[index];
            let (record, rendered) = clean_text_file(job, cleaner, context);
            if record.status != Status::Ok {
                context.sink.remove_stale(job);
            }
            Outcome::File(record, rendered)
        }
        Task::Begin(index, opened, layout) => Outcome::Begin(index, opened, layout),
        Task::Record(index, item) => {
            let job = &context.jobs[index];
            match item {
                Item::Document(document) => {
                    let input = InputStats::stored(document.raw_bytes, document.raw_sha256.clone());
                    let (record, rendered) = clean_document(job, Shape::Record, &document, input, cleaner, context);
                    Outcome::Document(record, rendered)
                }
                Item::Bad(bad) => {
                    // A bad record has no path of its own: it comes from the input being cleaned.
                    let mut record = context.new_record(job);
                    record.document = Some(bad.location.clone());
                    let mut record = fail(record, Status::Error, bad.reason.to_string());
                    record.rejected = Some(rejected_bytes(bad.raw_bytes, &bad.raw_excerpt));
                    let refused = RefusedRecord {
                        raw: Some(bad.raw_excerpt.as_slice()),
                        id: bad.location.id.as_deref(),
                    };
                    Outcome::Document(record, context.sink.render_refused(job, refused))
                }
                Item::NotADocument(_) => Outcome::NotADocument,
            }
        }
        Task::End(index, broken, stored) => Outcome::End(index, broken, stored),
        Task::Abandon(index) => Outcome::Abandon(index),
    }
}

/// Reads, decodes and cleans a text file: a stream of one document.
fn clean_text_file(job: &Job, cleaner: &mut Cleaner, context: &Context<'_>) -> (Record, Option<Rendered>) {
    let mut record = context.new_record(job);
    let opened = Documents::open(
        &job.source,
        Some(InputFormat::Text),
        job.compression,
        &context.config.read,
    );
    let mut documents = match opened {
        Ok((documents, _, _)) => documents,
        Err(e) => return (fail(record, Status::Error, e.to_string()), None),
    };
    let item = documents.next_item();
    let (bytes, sha256) = documents.stored();
    match item {
        Some(Ok(Item::Document(document))) => clean_document(
            job,
            Shape::WholeFile,
            &document,
            InputStats::stored(bytes, sha256),
            cleaner,
            context,
        ),
        Some(Ok(Item::Bad(bad))) => {
            // A stream refused part-way was not read to its end: its size
            // and hash are not known, and a prefix's would mislead.
            let read_whole = !matches!(bad.reason, BadRecordKind::OverLimit { .. });
            record.input = read_whole.then(|| InputStats::stored(bytes, sha256));
            (fail(record, Status::Error, bad.reason.to_string()), None)
        }
        Some(Ok(Item::NotADocument(why))) => (fail(record, Status::Skipped, why), None),
        Some(Err(e)) => (fail(record, Status::Error, e.message), None),
        None => (fail(record, Status::Error, "nothing could be read".to_string()), None),
    }
}

/// Cleans one document, from a text file or a record, into its provenance
/// record and what the sink made of it (`None` when it was refused).
fn clean_document(
    job: &Job,
    shape: Shape,
    document: &Document,
    input: InputStats,
    cleaner: &mut Cleaner,
    context: &Context<'_>,
) -> (Record, Option<Rendered>) {
    let config = context.config;
    let mut record = Record::new(document.source.to_string_lossy().into_owned(), context.stamp);
    if shape == Shape::Record {
        record.document = Some(document.location.clone());
    }
    let refuse = |record: Record, reason: String| {
        let mut record = fail(record, Status::Error, reason);
        if shape == Shape::WholeFile {
            return (record, None);
        }
        record.rejected = Some(rejected_bytes(document.raw_bytes, excerpt_of(document)));
        let raw = match &document.envelope {
            Envelope::Jsonl(jsonl) => Some(jsonl.line.as_bytes()),
            _ => None,
        };
        let refused = RefusedRecord {
            raw,
            id: document.location.id.as_deref(),
        };
        (record, context.sink.render_refused(job, refused))
    };
    let budget = cleaner.config().removal_budget;
    let started = Instant::now();
    let cleaned: Cleaned = match context.corpus {
        Some(corpus) => cleaner.clean_with(&document.text, &corpus.evidence_for(document)),
        None => cleaner.clean(&document.text),
    };
    let elapsed = started.elapsed();
    // Spans held in the record are written from it: a log beside them
    // would be a second copy.
    let spans = match context.span_log {
        _ if context.sink.reads_spans(shape) => SpanDestination::Record,
        Some(directory) => SpanDestination::Log {
            directory,
            spill_bytes: SPILL_BYTES,
        },
        None => SpanDestination::Nowhere,
    };
    let described = record.describe_cleaning(
        input,
        &document.text,
        (document.encoding, document.lossy),
        &cleaned,
        context.rules,
        config.provenance_text,
        spans,
    );
    if let Err(e) = described {
        let directory = context.span_log.map(|d| d.display().to_string()).unwrap_or_default();
        return refuse(
            record,
            format!("its provenance could not be written to a temporary file in {directory}: {e}"),
        );
    }
    if let Some(limit) = config.doc_timeout.filter(|limit| elapsed > *limit) {
        let reason = BadRecordKind::TimedOut {
            seconds: elapsed.as_secs_f64(),
            limit: limit.as_secs_f64(),
        };
        return refuse(record, reason.to_string());
    }
    if let Some(reason) = config.drop.reason(&cleaned.text, cleaned.over_budget) {
        record.status = Status::Dropped;
        record.dropped = Some(reason);
        record.error = Some(match reason {
            DropReason::Empty => "nothing is left after cleaning".to_string(),
            DropReason::OverBudget => over_budget_message(cleaned.removed_share, budget),
        });
        // The line is made here, on a worker, and written in input order.
        let line = config
            .dropped
            .is_some()
            .then(|| Rendered::Dropped(dropped_line(document, shape == Shape::Record, reason)));
        return (record, line);
    }
    if cleaned.over_budget {
        let message = over_budget_message(cleaned.removed_share, budget);
        if config.strict {
            return refuse(record, format!("{message} (--strict)"));
        }
        record.warnings.push(message);
    }
    let rendered = match context.sink.render(job, shape, document, &cleaned.text, &record) {
        Ok(rendered) => rendered,
        Err(reason) => return refuse(record, reason),
    };
    record.output = match (&rendered, shape) {
        (Rendered::Written(name), _) => Some(name.clone()),
        (_, Shape::Record) => context.sink.output_name(job),
        (_, Shape::WholeFile) => None,
    };
    (record, Some(rendered))
}

/// The raw bytes of a document worth keeping in the reject file: a JSONL
/// line as written; nothing for a WARC body or text file (the offset finds it).
fn excerpt_of(document: &Document) -> &[u8] {
    match &document.envelope {
        Envelope::Jsonl(record) => {
            let line = record.line.as_bytes();
            &line[..line.len().min(RAW_EXCERPT_BYTES)]
        }
        _ => &[],
    }
}

/// The collecting side: takes outcomes in input order and puts them in
/// place through the sink and the collector.
struct Ordered<'a, 'c> {
    context: &'a Context<'a>,
    previous: Option<&'a Previous>,
    reused: &'a [Option<resume::Entry>],
    collector: &'a mut Collector<'c>,
    /// The JSONL or WARC input under way.
    open: Option<OpenInput>,
    /// What stopped the run, if something did.
    failed: Option<Error>,
}

/// A JSONL or WARC input between its begin and its end.
struct OpenInput {
    index: usize,
    counts: DocumentCounts,
}

impl Ordered<'_, '_> {
    fn take_all(&mut self, outcomes: Vec<Outcome>) {
        for outcome in outcomes {
            if self.failed.is_some() {
                return;
            }
            if let Err(error) = self.take(outcome) {
                if let Some(open) = self.open.take() {
                    // Dropped unfinished: no half file stays under a final name.
                    let _ = self.context.sink.end(&self.context.jobs[open.index], false);
                }
                self.failed = Some(error);
            }
        }
    }

    fn counts(&mut self) -> &mut DocumentCounts {
        &mut self
            .open
            .as_mut()
            .expect("records come between an input's begin and end")
            .counts
    }

    fn take(&mut self, outcome: Outcome) -> Result<()> {
        let sink = self.context.sink;
        match outcome {
            Outcome::Replay(index) => {
                let previous = self.previous.expect("replays come from --resume");
                let entry = self.reused[index].as_ref().expect("a replayed job has an entry");
                let collector = &mut *self.collector;
                previous.replay(entry, |line| collector.replay(line, previous.path()))
            }
            Outcome::File(record, rendered) => {
                match rendered {
                    Some(Rendered::Dropped(line)) => self.collector.dropped(&line)?,
                    Some(rendered) => sink.accept(rendered)?,
                    None => {}
                }
                self.collector.record(record)
            }
            Outcome::Begin(index, opened, layout) => {
                let job = &self.context.jobs[index];
                let begun = opened.and_then(|compression| match &layout {
                    Some(layout) => sink.begin_table(job, layout),
                    None => sink.begin(job, compression),
                });
                match begun {
                    Ok(()) => {
                        self.open = Some(OpenInput {
                            index,
                            counts: DocumentCounts::default(),
                        });
                        Ok(())
                    }
                    Err(message) => {
                        sink.remove_stale(job);
                        self.collector
                            .record(fail(self.context.new_record(job), Status::Error, message))
                    }
                }
            }
            // The records and end of an input whose output could not begin:
            // its failure is recorded, nothing of it is written.
            Outcome::Document(..) | Outcome::NotADocument | Outcome::End(..) if self.open.is_none() => Ok(()),
            Outcome::Document(record, rendered) => {
                let counts = self.counts();
                counts.records += 1;
                match record.status {
                    Status::Ok => counts.written += 1,
                    Status::Dropped => counts.dropped += 1,
                    Status::Error | Status::Skipped => counts.rejected += 1,
                }
                // A refused record may still have a line to write: its
                // place in an attribute file.
                match rendered {
                    Some(Rendered::Dropped(line)) => self.collector.dropped(&line)?,
                    Some(rendered) => sink.accept(rendered)?,
                    None => {}
                }
                self.collector.record(record)
            }
            Outcome::NotADocument => {
                let counts = self.counts();
                counts.records += 1;
                counts.not_documents += 1;
                Ok(())
            }
            Outcome::Abandon(index) => {
                // Its documents' lines stay in the partial provenance, a
                // group without its file record, which --resume redoes.
                self.open = None;
                let _ = sink.end(&self.context.jobs[index], false);
                Ok(())
            }
            Outcome::End(index, broken, (bytes, sha256)) => {
                let job = &self.context.jobs[index];
                let mut counts = self.open.take().expect("an end follows its begin").counts;
                let mut file_record = self.context.new_record(job);
                file_record.input = Some(InputStats::stored(bytes, sha256));
                if let Some(error) = &broken {
                    // The record being read when the stream broke is refused like any
                    // other, so that the reject file and the counts show it.
                    counts.records += 1;
                    counts.rejected += 1;
                    let mut record = self.context.new_record(job);
                    record.document = Some(error.location.clone());
                    self.collector
                        .record(fail(record, Status::Error, error.message.clone()))?;
                }
                match sink.end(job, true) {
                    Ok(Some(stats)) => {
                        file_record.cleaned = Some(stats);
                        file_record.output = sink.output_name(job);
                    }
                    Ok(None) => {}
                    Err(message) => {
                        file_record.documents = Some(counts);
                        return self.collector.record(fail(file_record, Status::Error, message));
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
                self.collector.record(file_record)
            }
        }
    }
}

fn tally(summary: &mut Summary, record: &Record) {
    if record.document.is_some() {
        match record.status {
            Status::Ok => summary.documents += 1,
            Status::Dropped => summary.dropped += 1,
            Status::Error | Status::Skipped => summary.rejected += 1,
        }
        if !record.warnings.is_empty() {
            summary.warned += 1;
        }
        summary.removed_spans += record.tally().spans as usize;
        return;
    }
    match record.status {
        Status::Ok => summary.ok += 1,
        Status::Error => summary.failed += 1,
        Status::Skipped => summary.skipped += 1,
        // A text file is a document: dropped, it is neither written nor failed.
        Status::Dropped => summary.dropped += 1,
    }
    if !record.warnings.is_empty() {
        summary.warned += 1;
    }
    summary.bytes_in += record.input.as_ref().map_or(0, |i| i.bytes);
    summary.bytes_out += record.cleaned.as_ref().map_or(0, |c| c.bytes);
    summary.removed_spans += record.tally().spans as usize;
}

/// Marks `record` as not written, with `message`.
pub(crate) fn fail(mut record: Record, status: Status, message: String) -> Record {
    record.status = status;
    record.error = Some(message);
    record.clear_spans();
    record.cleaned = None;
    record.output = None;
    record
}

/// The warning (or, with `--strict`, the error) for a document over the removal budget.
pub fn over_budget_message(removed_share: f64, budget: f64) -> String {
    format!(
        "the rules removed {:.1}% of the text, over the removal budget of {:.1}%",
        removed_share * 100.0,
        budget * 100.0
    )
}

/// The first bytes of a refused record, as the reject file shows them.
pub(crate) fn rejected_bytes(bytes: u64, excerpt: &[u8]) -> RejectedBytes {
    RejectedBytes {
        bytes,
        excerpt: String::from_utf8_lossy(excerpt).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A write abandoned half way (the error path of every writer) leaves
    /// neither a temporary file nor a changed target.
    #[test]
    fn an_abandoned_write_leaves_no_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("sub/page.txt");
        let mut file = crate::output::AtomicFile::create(&target, Compression::None).unwrap();
        file.write_all(b"half a docu").unwrap();
        drop(file);
        assert_eq!(fs::read_dir(dir.path().join("sub")).unwrap().count(), 0);
        // An older output stays as it was: an abandoned write never truncates it.
        fs::write(&target, "older output\n").unwrap();
        let mut file = crate::output::AtomicFile::create(&target, Compression::None).unwrap();
        file.write_all(b"new").unwrap();
        drop(file);
        assert_eq!(fs::read_to_string(&target).unwrap(), "older output\n");
        assert_eq!(fs::read_dir(dir.path().join("sub")).unwrap().count(), 1);
    }

    /// Regression: the temporary name was `.NAME.dechaff-PID.tmp` with all
    /// of NAME, which goes over the 255-byte limit for a file name of about
    /// 230 bytes or more, so such a file failed with "File name too long"
    /// although its own name is fine.
    #[test]
    fn a_target_with_a_name_near_the_limit_is_written() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["x".repeat(255), format!("{}{}", "x".repeat(199), "\u{e9}".repeat(28))] {
            let target = dir.path().join(&name);
            crate::output::write_file(&target, Compression::None, b"text\n").unwrap();
            assert_eq!(fs::read(&target).unwrap(), b"text\n");
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }
}
