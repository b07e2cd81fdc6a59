//! Planning a run: which files, in which format, written where.
//!
//! The inputs are walked in sorted order, each file gets its format (text,
//! JSONL, WARC; from its name or `--input-format`) and its output path under
//! `--out`, and everything that would make the run unsafe (output inside an
//! input, an input inside the output, two inputs mapping to one output) is
//! refused before a byte is written. `--shard I/N` then keeps the files whose
//! output name hashes to shard I, so that N machines split one input tree
//! with no coordinator.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use crate::display::escaped;
use crate::error::{Error, Result};
use crate::filters::DocumentFilters;
use crate::input::{self, Compression, InputFormat, ReadSettings};
use crate::provenance::{Metadata, ProvenanceText};
use crate::select::InputSelection;

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
    /// How much provenance each output record carries (`--metadata`).
    pub metadata: Metadata,
    /// Clean only this share of the inputs (`--shard I/N`).
    pub shard: Option<ShardSpec>,
    /// Copy forward what a previous run finished (`--resume`).
    pub resume: bool,
    /// Where refused records go, one JSON line each (`--rejects`).
    pub rejects: Option<PathBuf>,
    /// Which cleaned documents are dropped instead of written (`--drop`).
    pub drop: DocumentFilters,
    /// Where dropped documents go, one JSON line each (`--dropped`).
    pub dropped: Option<PathBuf>,
    /// A document whose cleaning takes longer is not written (`--doc-timeout`).
    pub doc_timeout: Option<Duration>,
    /// Flush every output to the disk before its rename (`--durable`).
    pub durable: bool,
    /// Set by the caller (a signal handler) to stop the run early.
    pub stop: StopRequest,
    /// Which files of a walked directory are inputs (`--glob`, `--exclude`, `--hidden`).
    pub select: InputSelection,
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
            metadata: Metadata::Summary,
            shard: None,
            resume: false,
            rejects: None,
            drop: DocumentFilters::default(),
            dropped: None,
            doc_timeout: None,
            durable: false,
            stop: StopRequest::default(),
            select: InputSelection::default(),
        }
    }

    /// True when cleaned records go to standard output (`--out -`).
    pub fn writes_to_stdout(&self) -> bool {
        self.out == Path::new("-")
    }
}

/// A request to stop a run early, shared with whoever makes it (a signal
/// handler): zero while the run may go on, else the signal's number.
///
/// A stopped run takes no new document, finishes the ones under way,
/// discards an output it had begun, and leaves its provenance as a killed
/// run does, flushed, for `--resume` to continue.
#[derive(Debug, Clone, Default)]
pub struct StopRequest(pub std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl StopRequest {
    /// The signal that asked the run to stop, if one did.
    pub fn requested(&self) -> Option<usize> {
        match self.0.load(std::sync::atomic::Ordering::Relaxed) {
            0 => None,
            signal => Some(signal),
        }
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
    /// run can share one `--out`), with `.gz` or `.zst` under `--compress`.
    pub final_name: String,
    /// How the final file is compressed (`--compress`); the partial and
    /// previous files are plain JSONL, the journal `--resume` reads after a kill.
    pub compression: Compression,
    /// The final names under the other codecs: an earlier run's provenance
    /// left under one of them is removed when this run's takes its name.
    pub other_names: Vec<String>,
    /// Where provenance lines go while the run is under way.
    pub partial: String,
    /// What `--resume` carried over from earlier runs, while this one is under way.
    pub previous: String,
}

impl ProvenanceNames {
    /// The names for `config`.
    pub fn for_run(config: &RunConfig) -> ProvenanceNames {
        let plain = match config.shard {
            Some(ShardSpec { index, count }) => format!("provenance.{index}-of-{count}.jsonl"),
            None => PROVENANCE_FILE.to_string(),
        };
        let compression = config.compress.unwrap_or(Compression::None);
        let other_names = [Compression::None, Compression::Gzip, Compression::Zstd]
            .into_iter()
            .filter(|&other| other != compression)
            .map(|other| format!("{plain}{}", other.extension()))
            .collect();
        ProvenanceNames {
            partial: format!(".{plain}.partial"),
            previous: format!(".{plain}.previous"),
            final_name: format!("{plain}{}", compression.extension()),
            compression,
            other_names,
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
    // Every other file the run writes is held to the same rule as --out.
    let rejects_abs = match &config.rejects {
        Some(rejects) => Some((rejects, absolute_resolved(rejects)?)),
        None => None,
    };
    let dropped_abs = match &config.dropped {
        Some(dropped) => Some((dropped, absolute_resolved(dropped)?)),
        None => None,
    };
    let mut jobs = Vec::new();
    for input in &config.inputs {
        if input::is_stdin(input) {
            let format = config.input_format.unwrap_or(InputFormat::Jsonl);
            let name = match format {
                InputFormat::Text => "stdin.txt",
                InputFormat::Jsonl | InputFormat::Warc | InputFormat::Parquet => "stdin.jsonl",
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
                escaped(&config.out),
                escaped(input)
            )));
        }
        if input_abs.starts_with(out_abs) {
            return Err(config_error(format!(
                "the input {} is inside --out {}; its outputs could overwrite it",
                escaped(input),
                escaped(&config.out)
            )));
        }
        if let Some((rejects, rejects_abs)) = &rejects_abs {
            refuse_overlap("--rejects", rejects, rejects_abs, input, &input_abs)?;
        }
        if let Some((dropped, dropped_abs)) = &dropped_abs {
            refuse_overlap("--dropped", dropped, dropped_abs, input, &input_abs)?;
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
                escaped(&job.source)
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
            // dolma finds a document file's attributes under the same
            // relative path and file name, compression included.
            (InputFormat::Jsonl, false) if config.attributes => output,
            // A text file written as it was stored keeps its name byte for
            // byte (a name that is not UTF-8 must not become a lossy one).
            (InputFormat::Text, false) if written == compression => output,
            (InputFormat::Text, false) => {
                output.with_file_name(input::text_output_name(&output_name, compression, written))
            }
            // A Parquet output keeps its name: --compress sets its pages' codec.
            (InputFormat::Parquet, false) => output,
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
        if let Ok(entry) = &entry {
            // The directory named on the command line is walked, link or not
            // (walkdir follows a root link); it is not an entry of its own.
            // Regression: a linked one was also reported as a skipped link.
            if entry.depth() == 0 {
                continue;
            }
            let relative = entry.path().strip_prefix(root).unwrap_or(entry.path());
            if entry.file_type().is_dir() {
                if !config.select.enters(relative) {
                    walker.skip_current_dir();
                    continue;
                }
            } else if !config.select.takes(relative) {
                continue;
            }
        }
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
                        format!("symbolic link loop back to {}", escaped(ancestor))
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

/// Refuses a file the run writes (`option`, given as `written`, resolved to
/// `written_abs`) that is an input, lies inside an input directory, or
/// holds an input: writing it would destroy or feed back into the input.
fn refuse_overlap(option: &str, written: &Path, written_abs: &Path, input: &Path, input_abs: &Path) -> Result<()> {
    let how = if written_abs == input_abs {
        "is the input"
    } else if written_abs.starts_with(input_abs) {
        "is inside the input"
    } else if input_abs.starts_with(written_abs) {
        "holds the input"
    } else {
        return Ok(());
    };
    Err(config_error(format!(
        "{option} {} {how} {}; dechaff never writes over or inside an input",
        escaped(written),
        escaped(input)
    )))
}

/// Whether `path` resolves to `out_abs` or somewhere inside it.
fn leads_into(path: &Path, out_abs: &Path) -> bool {
    fs::canonicalize(path).is_ok_and(|resolved| resolved.starts_with(out_abs))
}

fn check_collisions(jobs: &[Job], config: &RunConfig) -> Result<()> {
    let names = ProvenanceNames::for_run(config);
    let mut reserved = vec![
        config.out.join(&names.final_name),
        config.out.join(&names.partial),
        config.out.join(&names.previous),
    ];
    reserved.extend(config.rejects.clone());
    let dropped_at = reserved.len();
    reserved.extend(config.dropped.clone());
    let mut seen: BTreeMap<&Path, &Path> = BTreeMap::new();
    for job in jobs.iter().filter(|job| job.problem.is_none()) {
        if let Some(kept) = reserved.iter().position(|path| *path == job.output) {
            let keeper = match kept {
                0..=2 => "provenance",
                _ if kept == dropped_at => "--dropped",
                _ => "--rejects",
            };
            return Err(config_error(format!(
                "{} would be written to {}, which dechaff keeps for {keeper}",
                escaped(&job.source),
                escaped(&job.output)
            )));
        }
        if let Some(first) = seen.insert(&job.output, &job.source) {
            return Err(config_error(format!(
                "{} and {} would both be written to {}; clean them in separate runs",
                escaped(first),
                escaped(&job.source),
                escaped(&job.output)
            )));
        }
    }
    Ok(())
}

fn config_error(message: String) -> Error {
    Error::usage(message)
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
