//! Cleaning trees of files: planning, the parallel run, atomic output.
//!
//! A run is planned first ([`plan`]): the inputs are walked in sorted order,
//! each file gets its format (text, JSONL, WARC; from its name or
//! `--input-format`) and its output path under `--out`, and everything that
//! would make the run unsafe (output inside an input, an input inside the
//! output, two inputs mapping to one output) is refused before a byte is
//! written. `--shard I/N` then keeps the files whose output name hashes to
//! shard I, so that N machines split one input tree with no coordinator.
//!
//! [`run`] cleans the jobs in input order on a rayon pool of `jobs` workers.
//! A stretch of text files is cleaned a file per worker: workers take the
//! next file index from a shared counter, so results arrive nearly in order
//! and the collector, on the calling thread, buffers only the few that
//! arrive early. A JSONL or WARC file is read as a stream of documents and
//! cleaned in bounded batches ([`crate::stream`]), so one huge shard still
//! uses every worker and never sits in memory whole. Either way every
//! provenance line is written in input order, so the bytes written do not
//! depend on the number of workers.
//!
//! Each output is written to a temporary file beside its target and renamed,
//! and provenance lines go, flushed, to a partial file that is renamed when
//! the run ends, so a killed run never leaves a half-written file under a
//! final name. `--resume` reads what a killed or finished run left
//! ([`crate::resume`]) and copies forward every file whose input, rules and
//! output still match, redoing the rest.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::clean::{Cleaner, LineEvidence};
use crate::corpus::{CorpusCounter, CorpusCounts, CorpusSettings, GroupBy, GroupKey};
use crate::error::{Error, ErrorKind, Result};
use crate::input::{self, BadRecordKind, Compression, Document, Documents, InputFormat, Item, ReadSettings};
use crate::output;
use crate::provenance::{InputStats, ProvenanceText, Record, RejectedBytes, RulesStamp, Status};
use crate::resume::{self, Previous};
use crate::rules::RuleSet;

/// The provenance file's name inside `--out`.
pub const PROVENANCE_FILE: &str = "provenance.jsonl";

/// Everything a `clean` run needs besides the cleaner, validated.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Files and directories to clean; `-` is standard input.
    pub inputs: Vec<PathBuf>,
    /// The output directory, or `-` for JSONL on standard output.
    pub out: PathBuf,
    /// Worker threads (at least 1).
    pub jobs: usize,
    /// How records become documents: fields, size limit, decoding.
    pub read: ReadSettings,
    /// How much removed text provenance stores.
    pub provenance_text: ProvenanceText,
    /// Over-budget documents fail instead of being written with a warning.
    pub strict: bool,
    /// Follow symbolic links while walking.
    pub follow_links: bool,
    /// Every input is this format, whatever its name (`--input-format`).
    pub input_format: Option<InputFormat>,
    /// Outputs are compressed this way instead of like their input (`--compress`).
    pub compress: Option<Compression>,
    /// Write dolma-style attribute files instead of cleaned documents (`--attributes`).
    pub attributes: bool,
    /// Clean only this share of the inputs (`--shard I/N`).
    pub shard: Option<ShardSpec>,
    /// Copy forward what a previous run finished (`--resume`).
    pub resume: bool,
    /// Where refused records go, one JSON line each (`--rejects`).
    pub rejects: Option<PathBuf>,
    /// A document whose cleaning takes longer is not written (`--doc-timeout`).
    pub doc_timeout: Option<Duration>,
}

impl RunConfig {
    /// A configuration with the defaults of the command line.
    pub fn new(inputs: Vec<PathBuf>, out: PathBuf) -> RunConfig {
        RunConfig {
            inputs,
            out,
            jobs: 1,
            read: ReadSettings::default(),
            provenance_text: ProvenanceText::Excerpt,
            strict: false,
            follow_links: false,
            input_format: None,
            compress: None,
            attributes: false,
            shard: None,
            resume: false,
            rejects: None,
            doc_timeout: None,
        }
    }

    /// True when cleaned records go to standard output (`--out -`).
    pub fn writes_to_stdout(&self) -> bool {
        self.out == Path::new("-")
    }
}

/// One of N deterministic parts of the inputs: `--shard I/N`, I from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardSpec {
    /// Which part, 1-based.
    pub index: u64,
    /// How many parts.
    pub count: u64,
}

impl ShardSpec {
    /// Parses `I/N` with 1 ≤ I ≤ N.
    pub fn parse(text: &str) -> std::result::Result<ShardSpec, String> {
        let bad = || format!("--shard {text:?} is not I/N with 1 <= I <= N (e.g. 3/100)");
        let (index, count) = text.split_once('/').ok_or_else(bad)?;
        let index: u64 = index.trim().parse().map_err(|_| bad())?;
        let count: u64 = count.trim().parse().map_err(|_| bad())?;
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(ShardSpec { index, count })
    }

    /// Whether the file whose output path, relative to `--out`, is `key`
    /// belongs to this part. The first 8 bytes of the key's SHA-256 decide,
    /// so the split is the same on every machine and in every run, whatever
    /// else the input tree holds and wherever it is mounted.
    pub fn takes(&self, key: &Path) -> bool {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(key.to_string_lossy().as_bytes());
        let value = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
        value % self.count == self.index - 1
    }
}

/// The names of the provenance files of a run, inside `--out`.
#[derive(Debug, Clone)]
pub struct ProvenanceNames {
    /// Where provenance lands when the run ends (`provenance.jsonl`, or
    /// `provenance.I-of-N.jsonl` with `--shard`, so that the parts of a split
    /// run can share one `--out`).
    pub final_name: String,
    /// Where provenance lines go while the run is under way.
    pub partial: String,
    /// What `--resume` carried over from earlier runs, while this one is under way.
    pub previous: String,
}

impl ProvenanceNames {
    /// The names for `config`.
    pub fn for_run(config: &RunConfig) -> ProvenanceNames {
        let final_name = match config.shard {
            Some(ShardSpec { index, count }) => format!("provenance.{index}-of-{count}.jsonl"),
            None => PROVENANCE_FILE.to_string(),
        };
        ProvenanceNames {
            partial: format!(".{final_name}.partial"),
            previous: format!(".{final_name}.previous"),
            final_name,
        }
    }
}

/// One file of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The input path (argument joined with the walked relative path), or `-`.
    pub source: PathBuf,
    /// Where its clean text goes.
    pub output: PathBuf,
    /// Set when the walk already failed for this entry (missing input, unreadable directory, link).
    pub problem: Option<Problem>,
    /// What the input holds.
    pub format: InputFormat,
    /// How it is compressed; `None` for standard input, where it is sniffed.
    pub compression: Option<Compression>,
}

/// Why a job cannot be cleaned, found while walking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// An error: the run will exit non-zero.
    Error(String),
    /// Deliberately passed over (a symbolic link without `--follow`).
    Skipped(String),
}

/// The files of a run, in order.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The jobs in input order.
    pub jobs: Vec<Job>,
    /// The output directory.
    pub out: PathBuf,
}

/// How one file or document went, reported in input order.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// The record that was written to provenance. A JSONL or WARC input
    /// gives one per document (`record.document` set) and then one for the file.
    pub record: Record,
}

/// Receives each file's and each document's outcome, in input order, on the calling thread.
pub trait Reporter {
    /// Called once per record, in input order.
    fn file_done(&mut self, report: &FileReport);
}

impl<F: FnMut(&FileReport)> Reporter for F {
    fn file_done(&mut self, report: &FileReport) {
        self(report)
    }
}

/// Totals of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
    /// Files copied forward by `--resume` without being cleaned again.
    pub resumed: usize,
}

impl Summary {
    /// True when something failed: a file, or a record.
    pub fn has_failures(&self) -> bool {
        self.failed > 0 || self.rejected > 0
    }
}

/// Walks the inputs and maps every file to its output; refuses unsafe layouts.
pub fn plan(config: &RunConfig) -> Result<Plan> {
    plan_walk(config)
}

/// Walks the inputs as [`plan`] does, for a command that only reads them
/// (`induce`): `config.out` is not looked at, and the jobs' outputs are only names.
pub fn plan_for_reading(config: &RunConfig) -> Result<Plan> {
    let reading = RunConfig {
        out: PathBuf::from("-"),
        attributes: false,
        shard: None,
        ..config.clone()
    };
    plan_walk(&reading)
}

fn plan_walk(config: &RunConfig) -> Result<Plan> {
    let to_stdout = config.writes_to_stdout();
    // Outputs of a run to standard output are only names: they key --shard.
    let base = if to_stdout { PathBuf::new() } else { config.out.clone() };
    let out_abs = if to_stdout {
        None
    } else {
        Some(absolute_resolved(&config.out)?)
    };
    let mut jobs = Vec::new();
    for input in &config.inputs {
        if input::is_stdin(input) {
            let format = config.input_format.unwrap_or(InputFormat::Jsonl);
            let name = match format {
                InputFormat::Text => "stdin.txt",
                InputFormat::Jsonl | InputFormat::Warc => "stdin.jsonl",
            };
            let compression = config.compress.unwrap_or(Compression::None);
            jobs.push(Job {
                source: input.clone(),
                output: base.join(format!("{name}{}", compression.extension())),
                problem: None,
                format,
                compression: None,
            });
            continue;
        }
        let Ok(input_abs) = fs::canonicalize(input) else {
            let cause = fs::metadata(input)
                .err()
                .map_or("cannot be resolved".to_string(), |e| e.to_string());
            jobs.push(Job {
                source: input.clone(),
                output: PathBuf::new(),
                problem: Some(Problem::Error(cause)),
                format: InputFormat::Text,
                compression: Some(Compression::None),
            });
            continue;
        };
        let out_abs = out_abs.as_deref().unwrap_or(Path::new("/nonexistent/standard output"));
        if out_abs.starts_with(&input_abs) {
            return Err(config_error(format!(
                "--out {} is inside the input {}; dechaff never writes inside an input",
                config.out.display(),
                input.display()
            )));
        }
        if input_abs.starts_with(out_abs) {
            return Err(config_error(format!(
                "the input {} is inside --out {}; its outputs could overwrite it",
                input.display(),
                config.out.display()
            )));
        }
        if input_abs.is_dir() {
            walk_directory(input, &base, config, out_abs, &mut jobs);
        } else {
            let name = input
                .file_name()
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("input"));
            jobs.push(Job::new(input.clone(), base.join(name), None, config));
        }
    }
    if !to_stdout {
        check_collisions(&jobs, config)?;
    }
    if config.attributes {
        if let Some(job) = jobs
            .iter()
            .find(|job| job.format == InputFormat::Text && job.problem.is_none())
        {
            return Err(config_error(format!(
                "--attributes needs JSONL or WARC inputs; {} is read as text (see --input-format)",
                job.source.display()
            )));
        }
    }
    if let Some(shard) = config.shard {
        jobs.retain(|job| shard.takes(job.output.strip_prefix(&base).unwrap_or(&job.source)));
    }
    Ok(Plan {
        jobs,
        out: config.out.clone(),
    })
}

impl Job {
    /// The job for the file `source`, whose output would be `output` if its
    /// name did not change: the format and compression come from the name
    /// (or `--input-format`), and the output's name follows them.
    fn new(source: PathBuf, output: PathBuf, problem: Option<Problem>, config: &RunConfig) -> Job {
        let name = source
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let format = config.input_format.unwrap_or_else(|| InputFormat::from_name(&name));
        let compression = Compression::from_name(&name);
        let written = config.compress.unwrap_or(compression);
        let output_name = output
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let output = match (format, output_name.is_empty()) {
            (_, true) => output,
            // A text file written as it was stored keeps its name byte for
            // byte (a name that is not UTF-8 must not become a lossy one).
            (InputFormat::Text, false) if written == compression => output,
            (InputFormat::Text, false) => {
                output.with_file_name(input::text_output_name(&output_name, compression, written))
            }
            (InputFormat::Jsonl | InputFormat::Warc, false) => {
                output.with_file_name(input::shard_output_name(&output_name, compression, written))
            }
        };
        Job {
            source,
            output,
            problem,
            format,
            compression: Some(compression),
        }
    }
}

fn walk_directory(root: &Path, base: &Path, config: &RunConfig, out_abs: &Path, jobs: &mut Vec<Job>) {
    let mut walker = walkdir::WalkDir::new(root)
        .follow_links(config.follow_links)
        .sort_by_file_name()
        .into_iter();
    while let Some(entry) = walker.next() {
        match entry {
            // With --follow, a link may lead into --out: reading the outputs
            // of this very run as inputs, and writing outputs of outputs.
            Ok(entry) if config.follow_links && entry.path_is_symlink() && leads_into(entry.path(), out_abs) => {
                if entry.file_type().is_dir() {
                    walker.skip_current_dir();
                }
                let relative = entry.path().strip_prefix(root).unwrap_or(entry.path());
                jobs.push(Job::new(
                    entry.path().to_path_buf(),
                    base.join(relative),
                    Some(Problem::Error(
                        "symbolic link into --out; dechaff never reads its own outputs".to_string(),
                    )),
                    config,
                ));
            }
            Ok(entry) if entry.file_type().is_dir() => {}
            Ok(entry) => {
                let relative = entry.path().strip_prefix(root).unwrap_or(entry.path());
                let output = base.join(relative);
                // Regression: this asked only whether the entry is a link, so
                // --follow still skipped every link to a file.
                let problem = (entry.path_is_symlink() && !config.follow_links).then(|| {
                    Problem::Skipped("symbolic link, not followed (pass --follow to follow links)".to_string())
                });
                let problem = problem.or_else(|| {
                    (!entry.file_type().is_file()).then(|| Problem::Skipped("not a regular file".to_string()))
                });
                jobs.push(Job::new(entry.path().to_path_buf(), output, problem, config));
            }
            Err(error) => {
                let source = error.path().map_or_else(|| root.to_path_buf(), Path::to_path_buf);
                let cause = match (error.loop_ancestor(), error.io_error()) {
                    (Some(ancestor), _) => {
                        format!("symbolic link loop back to {}", ancestor.display())
                    }
                    (None, Some(io)) => io.to_string(),
                    (None, None) => error.to_string(),
                };
                // An entry inside the tree still has an output path, so that an
                // older run's output for it can be removed.
                let output = match source.strip_prefix(root) {
                    Ok(relative) if !relative.as_os_str().is_empty() => base.join(relative),
                    _ => PathBuf::new(),
                };
                jobs.push(Job::new(source, output, Some(Problem::Error(cause)), config));
            }
        }
    }
}

/// Whether `path` resolves to `out_abs` or somewhere inside it.
fn leads_into(path: &Path, out_abs: &Path) -> bool {
    fs::canonicalize(path).is_ok_and(|resolved| resolved.starts_with(out_abs))
}

fn check_collisions(jobs: &[Job], config: &RunConfig) -> Result<()> {
    let names = ProvenanceNames::for_run(config);
    let reserved = [
        config.out.join(&names.final_name),
        config.out.join(&names.partial),
        config.out.join(&names.previous),
    ];
    let mut seen: BTreeMap<&Path, &Path> = BTreeMap::new();
    for job in jobs.iter().filter(|job| job.problem.is_none()) {
        if reserved.contains(&job.output) {
            return Err(config_error(format!(
                "{} would be written to {}, which dechaff keeps for provenance",
                job.source.display(),
                job.output.display()
            )));
        }
        if let Some(first) = seen.insert(&job.output, &job.source) {
            return Err(config_error(format!(
                "{} and {} would both be written to {}; clean them in separate runs",
                first.display(),
                job.source.display(),
                job.output.display()
            )));
        }
    }
    Ok(())
}

fn config_error(message: String) -> Error {
    Error::new(ErrorKind::Config(message))
}

/// The absolute form of `path` with every existing ancestor resolved through
/// links, so that `out/../in` and a link to an input are recognised.
fn absolute_resolved(path: &Path) -> Result<PathBuf> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map_err(|e| Error::io(".", e))?.join(path)
    };
    let mut existing = absolute.clone();
    let mut missing = Vec::new();
    loop {
        if let Ok(resolved) = fs::canonicalize(&existing) {
            let mut result = resolved;
            for part in missing.iter().rev() {
                result.push(part);
            }
            return Ok(normalize(&result));
        }
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                missing.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => return Ok(normalize(&absolute)),
        }
    }
}

fn normalize(path: &Path) -> PathBuf {
    let mut result = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                result.pop();
            }
            Component::CurDir => {}
            other => result.push(other),
        }
    }
    result
}

/// Where every record of the run goes, in input order, on the calling thread:
/// provenance, the reject file, standard output, the summary, the reporter.
pub(crate) struct Collector<'a> {
    provenance: Option<(std::io::BufWriter<fs::File>, PathBuf)>,
    /// The provenance line being written, kept from record to record.
    line: Vec<u8>,
    rejects: Option<(std::io::BufWriter<fs::File>, PathBuf)>,
    stdout: Option<std::io::BufWriter<Box<dyn Write + Send>>>,
    pub(crate) summary: Summary,
    reporter: &'a mut dyn Reporter,
}

impl Collector<'_> {
    /// Writes `record`'s provenance line and, for a refused document, its
    /// reject line; counts it; reports it.
    pub(crate) fn record(&mut self, record: Record) -> Result<()> {
        if let Some((writer, path)) = &mut self.provenance {
            self.line.clear();
            record.write_json_line(&mut self.line);
            writer.write_all(&self.line).map_err(|e| Error::io(&*path, e))?;
            if record.document.is_none() {
                // A finished file is on disk before the next one starts.
                writer.flush().map_err(|e| Error::io(&*path, e))?;
            }
        }
        self.account(record)
    }

    /// A provenance line of a previous run, copied forward as it was.
    pub(crate) fn replay(&mut self, line: &str) -> Result<()> {
        if let Some((writer, path)) = &mut self.provenance {
            writeln!(writer, "{line}").map_err(|e| Error::io(&*path, e))?;
        }
        let record: Record = serde_json::from_str(line).map_err(|e| {
            Error::new(ErrorKind::Config(format!(
                "--resume: a provenance line does not parse: {e}"
            )))
        })?;
        if record.document.is_none() {
            self.summary.resumed += 1;
        }
        self.account(record)
    }

    fn account(&mut self, record: Record) -> Result<()> {
        if let Some(line) = reject_line(&record) {
            if let Some((writer, path)) = &mut self.rejects {
                writeln!(writer, "{line}")
                    .and_then(|()| writer.flush())
                    .map_err(|e| Error::io(&*path, e))?;
            }
        }
        tally(&mut self.summary, &record);
        self.reporter.file_done(&FileReport { record });
        Ok(())
    }

    /// A cleaned record for standard output.
    pub(crate) fn stdout_line(&mut self, line: &str) -> Result<()> {
        if let Some(stdout) = &mut self.stdout {
            stdout
                .write_all(line.as_bytes())
                .and_then(|()| stdout.write_all(b"\n"))
                .map_err(|e| Error::io("standard output", e))?;
        }
        Ok(())
    }

    fn flush_stdout(&mut self) -> Result<()> {
        if let Some(stdout) = &mut self.stdout {
            stdout.flush().map_err(|e| Error::io("standard output", e))?;
        }
        Ok(())
    }
}

/// The reject file's line for a refused document (or a stream that broke):
/// where it was, why, and its first bytes. `None` for anything else.
pub fn reject_line(record: &Record) -> Option<String> {
    let location = record.document.as_ref()?;
    if record.status != Status::Error {
        return None;
    }
    #[derive(serde::Serialize)]
    struct RejectLine<'a> {
        source: &'a str,
        #[serde(flatten)]
        location: &'a crate::provenance::DocumentLocation,
        reason: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        bytes: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        record: Option<&'a str>,
    }
    let line = RejectLine {
        source: &record.source,
        location,
        reason: record.error.as_deref().unwrap_or(""),
        bytes: record.rejected.as_ref().map(|r| r.bytes),
        record: record.rejected.as_ref().map(|r| r.excerpt.as_str()),
    };
    Some(serde_json::to_string(&line).expect("a reject line always serializes"))
}

/// Cleans every job of `plan`; writes outputs and provenance.
/// Per-file and per-document failures are recorded and reported, never
/// returned: the error result is for failures of the run itself (the output
/// directory, the provenance file, standard output).
pub fn run(plan: &Plan, config: &RunConfig, cleaner: &Cleaner, reporter: &mut dyn Reporter) -> Result<Summary> {
    let names = ProvenanceNames::for_run(config);
    let to_stdout = config.writes_to_stdout();
    let previous = match (config.resume, to_stdout) {
        (true, false) => Some(Previous::load(&plan.out, &names)?),
        _ => None,
    };
    let provenance = if to_stdout {
        None
    } else {
        fs::create_dir_all(&plan.out).map_err(|e| Error::io(&plan.out, e))?;
        let partial_path = plan.out.join(&names.partial);
        let partial = fs::File::create(&partial_path).map_err(|e| Error::io(&partial_path, e))?;
        Some((std::io::BufWriter::new(partial), partial_path))
    };
    let rejects = match &config.rejects {
        Some(path) => {
            let file = fs::File::create(path).map_err(|e| Error::io(path, e))?;
            Some((std::io::BufWriter::new(file), path.clone()))
        }
        None => None,
    };
    let stdout = to_stdout.then(|| {
        let raw: Box<dyn Write + Send> = Box::new(std::io::stdout());
        std::io::BufWriter::with_capacity(256 * 1024, raw)
    });
    let mut collector = Collector {
        provenance,
        line: Vec::new(),
        rejects,
        stdout,
        summary: Summary {
            files: plan.jobs.len(),
            ..Summary::default()
        },
        reporter,
    };
    let stamp = RulesStamp::of(cleaner.rules(), cleaner.config());
    let jobs = config.jobs.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .thread_name(|i| format!("dechaff-worker-{i}"))
        .build()
        .map_err(|e| config_error(format!("cannot start {jobs} worker threads: {e}")))?;

    let corpus = match cleaner.rules().corpus() {
        Some(settings) => Some(pool.install(|| count_recurring_lines(plan, config, settings))?),
        None => None,
    };
    let corpus = corpus.as_ref();

    let reused: Vec<Option<resume::Entry>> = match &previous {
        Some(previous) => {
            use rayon::prelude::*;
            let reused: Vec<Option<resume::Entry>> =
                pool.install(|| plan.jobs.par_iter().map(|job| previous.reusable(job, &stamp)).collect());
            let redone: Vec<&Job> = plan
                .jobs
                .iter()
                .zip(&reused)
                .filter(|(_, entry)| entry.is_none())
                .map(|(job, _)| job)
                .collect();
            resume::remove_stale_temporaries(&redone);
            reused
        }
        None => vec![None; plan.jobs.len()],
    };

    // One cleaner per worker for the documents of JSONL and WARC inputs.
    let document_cleaners: Vec<std::sync::Mutex<Cleaner>> =
        (0..jobs).map(|_| std::sync::Mutex::new(cleaner.clone())).collect();
    let mut start = 0;
    while start < plan.jobs.len() {
        if let (Some(entry), Some(previous)) = (&reused[start], &previous) {
            previous.replay(entry, |line| collector.replay(line))?;
            start += 1;
            continue;
        }
        if plan.jobs[start].format != InputFormat::Text {
            crate::stream::clean_documents(
                &plan.jobs[start],
                config,
                &document_cleaners,
                &stamp,
                corpus,
                &pool,
                &mut collector,
            )?;
            start += 1;
            continue;
        }
        let end = (start..plan.jobs.len())
            .find(|&i| reused[i].is_some() || plan.jobs[i].format != InputFormat::Text)
            .unwrap_or(plan.jobs.len());
        clean_text_files(
            &plan.jobs[start..end],
            config,
            cleaner,
            &stamp,
            corpus,
            &pool,
            &mut collector,
        )?;
        start = end;
    }

    collector.flush_stdout()?;
    if let Some((writer, partial_path)) = collector.provenance.take() {
        let file = writer
            .into_inner()
            .map_err(|e| Error::io(&partial_path, e.into_error()))?;
        drop(file);
        let final_path = plan.out.join(&names.final_name);
        fs::rename(&partial_path, &final_path).map_err(|e| Error::io(&final_path, e))?;
        if previous.is_some() {
            let _ = fs::remove_file(plan.out.join(&names.previous));
        }
    }
    if let Some((mut writer, path)) = collector.rejects.take() {
        writer.flush().map_err(|e| Error::io(&path, e))?;
    }
    Ok(collector.summary)
}

/// What a worker hands the collector.
struct Finished {
    index: usize,
    record: Record,
    stdout_line: Option<String>,
}

/// Cleans a stretch of text files, a file per worker, and hands the records
/// to the collector in input order.
fn clean_text_files(
    jobs: &[Job],
    config: &RunConfig,
    cleaner: &Cleaner,
    stamp: &RulesStamp,
    corpus: Option<&PlanCounts>,
    pool: &rayon::ThreadPool,
    collector: &mut Collector<'_>,
) -> Result<()> {
    let workers = config.jobs.max(1).min(jobs.len());
    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::sync_channel::<Finished>(workers * 4);
    let mut result = Ok(());
    pool.in_place_scope(|scope| {
        for _ in 0..workers {
            let sender = sender.clone();
            let mut cleaner = cleaner.clone();
            let rules = cleaner.shared_rules();
            let next = &next;
            scope.spawn(move |_| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(index) else {
                    break;
                };
                let (record, stdout_line) = clean_one(job, config, &mut cleaner, &rules, stamp, corpus);
                if sender
                    .send(Finished {
                        index,
                        record,
                        stdout_line,
                    })
                    .is_err()
                {
                    break;
                }
            });
        }
        drop(sender);

        let mut pending: BTreeMap<usize, Finished> = BTreeMap::new();
        let mut expected = 0;
        for finished in receiver.iter() {
            pending.insert(finished.index, finished);
            while let Some(finished) = pending.remove(&expected) {
                expected += 1;
                if result.is_err() {
                    continue;
                }
                if let Some(line) = &finished.stdout_line {
                    result = collector.stdout_line(line);
                }
                if result.is_ok() {
                    result = collector.record(finished.record);
                }
                if result.is_err() {
                    // Stop handing out files; the ones under way finish.
                    next.store(jobs.len(), Ordering::Relaxed);
                }
            }
        }
    });
    result
}

fn tally(summary: &mut Summary, record: &Record) {
    if record.document.is_some() {
        match record.status {
            Status::Ok => summary.documents += 1,
            Status::Error | Status::Skipped => summary.rejected += 1,
        }
        if !record.warnings.is_empty() {
            summary.warned += 1;
        }
        summary.removed_spans += record.removed.len();
        return;
    }
    match record.status {
        Status::Ok => summary.ok += 1,
        Status::Error => summary.failed += 1,
        Status::Skipped => summary.skipped += 1,
    }
    if !record.warnings.is_empty() {
        summary.warned += 1;
    }
    summary.bytes_in += record.input.as_ref().map_or(0, |i| i.bytes);
    summary.bytes_out += record.cleaned.as_ref().map_or(0, |c| c.bytes);
    summary.removed_spans += record.removed.len();
}

/// Marks `record` as not written, with `message`.
pub(crate) fn fail(mut record: Record, status: Status, message: String) -> Record {
    record.status = status;
    record.error = Some(message);
    record.removed.clear();
    record.whitespace.clear();
    record.cleaned = None;
    record.output = None;
    record
}

/// Cleans one text file into a record; writes its output when all went well
/// (or returns its JSONL line, when the run writes to standard output).
fn clean_one(
    job: &Job,
    config: &RunConfig,
    cleaner: &mut Cleaner,
    rules: &RuleSet,
    stamp: &RulesStamp,
    corpus: Option<&PlanCounts>,
) -> (Record, Option<String>) {
    let record = Record::new(job.source.to_string_lossy().into_owned(), stamp);
    match &job.problem {
        Some(Problem::Error(message)) => {
            remove_stale(&job.output, config);
            return (fail(record, Status::Error, message.clone()), None);
        }
        Some(Problem::Skipped(message)) => {
            remove_stale(&job.output, config);
            return (fail(record, Status::Skipped, message.clone()), None);
        }
        None => {}
    }
    let (record, line) = clean_text(job, config, cleaner, rules, corpus, record);
    if record.status != Status::Ok {
        remove_stale(&job.output, config);
    }
    (record, line)
}

fn clean_text(
    job: &Job,
    config: &RunConfig,
    cleaner: &mut Cleaner,
    rules: &RuleSet,
    corpus: Option<&PlanCounts>,
    mut record: Record,
) -> (Record, Option<String>) {
    let opened = Documents::open(&job.source, Some(InputFormat::Text), job.compression, &config.read);
    let mut documents = match opened {
        Ok((documents, _, _)) => documents,
        Err(e) => return (fail(record, Status::Error, e.to_string()), None),
    };
    let item = documents.next_item();
    let (bytes, sha256) = documents.stored();
    let document = match item {
        Some(Ok(Item::Document(document))) => document,
        Some(Ok(Item::Bad(bad))) => {
            record.input = Some(InputStats::stored(bytes, sha256));
            return (fail(record, Status::Error, bad.reason.to_string()), None);
        }
        Some(Ok(Item::NotADocument(why))) => return (fail(record, Status::Skipped, why), None),
        Some(Err(e)) => return (fail(record, Status::Error, e.message), None),
        None => return (fail(record, Status::Error, "nothing could be read".to_string()), None),
    };
    let budget = cleaner.config().removal_budget;
    let started = Instant::now();
    let cleaned = match corpus {
        Some(corpus) => cleaner.clean_with(&document.text, &corpus.evidence_for(&document)),
        None => cleaner.clean(&document.text),
    };
    let elapsed = started.elapsed();
    record.describe_cleaning(
        InputStats::stored(bytes, sha256),
        &document.text,
        (document.encoding, document.lossy),
        cleaned,
        rules,
        config.provenance_text,
    );
    if let Some(limit) = config.doc_timeout.filter(|limit| elapsed > *limit) {
        let reason = BadRecordKind::TimedOut {
            seconds: elapsed.as_secs_f64(),
            limit: limit.as_secs_f64(),
        };
        return (fail(record, Status::Error, reason.to_string()), None);
    }
    if cleaned.over_budget {
        let message = over_budget_message(cleaned.removed_share, budget);
        if config.strict {
            return (fail(record, Status::Error, format!("{message} (--strict)")), None);
        }
        record.warnings.push(message);
    }
    if config.writes_to_stdout() {
        let line = output::document_line(&document, &cleaned.text, &record.embedded_json())
            .expect("a text document has no metadata to refuse");
        return (record, Some(line));
    }
    let compression = config.compress.unwrap_or(job.compression.unwrap_or(Compression::None));
    if let Err(e) = output::write_file(&job.output, compression, cleaned.text.as_bytes()) {
        return (fail(record, Status::Error, e.to_string()), None);
    }
    record.output = Some(job.output.to_string_lossy().into_owned());
    (record, None)
}

/// The warning (or, with `--strict`, the error) for a document over the removal budget.
pub(crate) fn over_budget_message(removed_share: f64, budget: f64) -> String {
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

/// A failed file must not leave an older run's output looking current.
pub(crate) fn remove_stale(output: &Path, config: &RunConfig) {
    if !output.as_os_str().is_empty() && !config.writes_to_stdout() {
        let _ = fs::remove_file(output);
    }
}

/// Writes `bytes` to a temporary file beside `target` and renames it into place.
///
/// The temporary file is named `.NAME.dechaff-PID-N.tmp`, with NAME cut to
/// its first 200 bytes: a target whose name is near the file system's limit
/// (255 bytes) must not fail because its temporary name is longer, and N
/// keeps two targets that share those 200 bytes apart. A run killed
/// mid-write can leave such a file behind, never a partial file under a
/// target's name.
pub fn write_atomically(target: &Path, bytes: &[u8]) -> Result<()> {
    output::write_file(target, Compression::None, bytes)
}

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
        self.group_by.group_of(document).map(|name| GroupKey::of(&name))
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
    let only_text = plan.jobs.iter().all(|job| job.format == InputFormat::Text);
    if only_text && !settings.group_by.works_on_plain_text() {
        return Err(config_error(format!(
            "--group-by {} needs documents that carry a URL or fields (JSONL or WARC input); \
             plain-text files have only their path: use --group-by dir",
            settings.group_by
        )));
    }
    use rayon::prelude::*;
    let counter = CorpusCounter::new(settings.min_chars);
    let names: std::sync::Mutex<BTreeMap<String, GroupKey>> = std::sync::Mutex::new(BTreeMap::new());
    plan.jobs.par_iter().for_each_init(Vec::new, |keys, job| {
        for_each_document(job, config, |document| {
            let Some(name) = settings.group_by.group_of(document) else {
                return;
            };
            let key = GroupKey::of(&name);
            counter.add_document(key, &document.text, keys);
            let mut names = names.lock().unwrap_or_else(|e| e.into_inner());
            names.entry(name).or_insert(key);
        });
    });
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
pub(crate) fn for_each_document(job: &Job, config: &RunConfig, mut use_document: impl FnMut(&Document)) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A write abandoned half way (the error path of every writer) leaves
    /// neither a temporary file nor a changed target.
    #[test]
    fn an_abandoned_write_leaves_no_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("sub/page.txt");
        let mut file = output::AtomicFile::create(&target, Compression::None).unwrap();
        file.write_all(b"half a docu").unwrap();
        drop(file);
        assert_eq!(fs::read_dir(dir.path().join("sub")).unwrap().count(), 0);
        // An older output stays as it was: an abandoned write never truncates it.
        fs::write(&target, "older output\n").unwrap();
        let mut file = output::AtomicFile::create(&target, Compression::None).unwrap();
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
            write_atomically(&target, b"text\n").unwrap();
            assert_eq!(fs::read(&target).unwrap(), b"text\n");
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }
}
