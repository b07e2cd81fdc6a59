//! Cleaning trees of files: planning, the parallel run, atomic output.
//!
//! A run is planned first ([`plan`]): the inputs are walked in sorted order,
//! each file gets its output path under `--out`, and everything that would
//! make the run unsafe (output inside an input, an input inside the output,
//! two inputs mapping to one output) is refused before a byte is written.
//!
//! [`run`] then cleans the files on a rayon pool of `jobs` workers. Workers
//! take the next file index from a shared counter, so results arrive nearly in
//! order and the collector, on the calling thread, buffers only the few that
//! arrive early before writing their provenance lines in input order. Each
//! output is written to a temporary file beside its target and renamed, and
//! provenance lines go to a partial file that is renamed when the run ends, so
//! a killed run never leaves a half-written file under a final name. The bytes
//! written do not depend on the number of workers.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use crate::clean::Cleaner;
use crate::decode::{decode, EncodingChoice};
use crate::error::{Error, ErrorKind, Result};
use crate::provenance::{InputStats, ProvenanceText, Record, RulesStamp, Status};
use crate::rules::RuleSet;

/// The provenance file's name inside `--out`.
pub const PROVENANCE_FILE: &str = "provenance.jsonl";
/// Where provenance lines go while the run is under way.
const PROVENANCE_PARTIAL: &str = ".provenance.jsonl.partial";

/// Everything a `clean` run needs besides the cleaner, validated.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Files and directories to clean.
    pub inputs: Vec<PathBuf>,
    /// The output directory.
    pub out: PathBuf,
    /// Worker threads (at least 1).
    pub jobs: usize,
    /// How to decode.
    pub encoding: EncodingChoice,
    /// How much removed text provenance stores.
    pub provenance_text: ProvenanceText,
    /// Over-budget documents fail instead of being written with a warning.
    pub strict: bool,
    /// Follow symbolic links while walking.
    pub follow_links: bool,
}

/// One file of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The input path (argument joined with the walked relative path).
    pub source: PathBuf,
    /// Where its clean text goes.
    pub output: PathBuf,
    /// Set when the walk already failed for this entry (missing input, unreadable directory, link).
    pub problem: Option<Problem>,
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

/// How one file went, reported in input order.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// The record that was written to provenance.
    pub record: Record,
}

/// Receives each file's outcome, in input order, on the calling thread.
pub trait Reporter {
    /// Called once per file, in input order.
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
    /// Files written with a warning.
    pub warned: usize,
    /// Input bytes of the files read.
    pub bytes_in: u64,
    /// Output bytes written.
    pub bytes_out: u64,
    /// Removed spans, over all files.
    pub removed_spans: usize,
}

/// Walks the inputs and maps every file to its output; refuses unsafe layouts.
pub fn plan(config: &RunConfig) -> Result<Plan> {
    let out_abs = absolute_resolved(&config.out)?;
    let mut jobs = Vec::new();
    for input in &config.inputs {
        let Ok(input_abs) = fs::canonicalize(input) else {
            let cause = fs::metadata(input)
                .err()
                .map_or("cannot be resolved".to_string(), |e| e.to_string());
            jobs.push(Job {
                source: input.clone(),
                output: PathBuf::new(),
                problem: Some(Problem::Error(cause)),
            });
            continue;
        };
        if out_abs.starts_with(&input_abs) {
            return Err(config_error(format!(
                "--out {} is inside the input {}; dechaff never writes inside an input",
                config.out.display(),
                input.display()
            )));
        }
        if input_abs.starts_with(&out_abs) {
            return Err(config_error(format!(
                "the input {} is inside --out {}; its outputs could overwrite it",
                input.display(),
                config.out.display()
            )));
        }
        if input_abs.is_dir() {
            walk_directory(input, config, &out_abs, &mut jobs);
        } else {
            let name = input
                .file_name()
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("input"));
            jobs.push(Job {
                source: input.clone(),
                output: config.out.join(name),
                problem: None,
            });
        }
    }
    check_collisions(&jobs, &config.out)?;
    Ok(Plan {
        jobs,
        out: config.out.clone(),
    })
}

fn walk_directory(root: &Path, config: &RunConfig, out_abs: &Path, jobs: &mut Vec<Job>) {
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
                jobs.push(Job {
                    source: entry.path().to_path_buf(),
                    output: config.out.join(relative),
                    problem: Some(Problem::Error(
                        "symbolic link into --out; dechaff never reads its own outputs".to_string(),
                    )),
                });
            }
            Ok(entry) if entry.file_type().is_dir() => {}
            Ok(entry) => {
                let relative = entry.path().strip_prefix(root).unwrap_or(entry.path());
                let output = config.out.join(relative);
                // Regression: this asked only whether the entry is a link, so
                // --follow still skipped every link to a file.
                let problem = (entry.path_is_symlink() && !config.follow_links).then(|| {
                    Problem::Skipped("symbolic link, not followed (pass --follow to follow links)".to_string())
                });
                let problem = problem.or_else(|| {
                    (!entry.file_type().is_file()).then(|| Problem::Skipped("not a regular file".to_string()))
                });
                jobs.push(Job {
                    source: entry.path().to_path_buf(),
                    output,
                    problem,
                });
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
                    Ok(relative) if !relative.as_os_str().is_empty() => config.out.join(relative),
                    _ => PathBuf::new(),
                };
                jobs.push(Job {
                    source,
                    output,
                    problem: Some(Problem::Error(cause)),
                });
            }
        }
    }
}

/// Whether `path` resolves to `out_abs` or somewhere inside it.
fn leads_into(path: &Path, out_abs: &Path) -> bool {
    fs::canonicalize(path).is_ok_and(|resolved| resolved.starts_with(out_abs))
}

fn check_collisions(jobs: &[Job], out: &Path) -> Result<()> {
    let reserved = [out.join(PROVENANCE_FILE), out.join(PROVENANCE_PARTIAL)];
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

/// What a worker hands the collector.
struct Finished {
    index: usize,
    record: Record,
}

/// Cleans every job of `plan`; writes outputs and `provenance.jsonl`.
/// Per-file failures are recorded and reported, never returned: the error
/// result is for failures of the run itself (the output directory).
pub fn run(plan: &Plan, config: &RunConfig, cleaner: &Cleaner, reporter: &mut dyn Reporter) -> Result<Summary> {
    fs::create_dir_all(&plan.out).map_err(|e| Error::io(&plan.out, e))?;
    let partial_path = plan.out.join(PROVENANCE_PARTIAL);
    let partial = fs::File::create(&partial_path).map_err(|e| Error::io(&partial_path, e))?;
    let mut provenance = std::io::BufWriter::new(partial);
    let stamp = RulesStamp::of(cleaner.rules(), cleaner.config());
    let jobs = config.jobs.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .thread_name(|i| format!("dechaff-worker-{i}"))
        .build()
        .map_err(|e| config_error(format!("cannot start {jobs} worker threads: {e}")))?;

    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::sync_channel::<Finished>(jobs * 4);
    let mut summary = Summary {
        files: plan.jobs.len(),
        ..Summary::default()
    };
    let mut write_error: Option<Error> = None;

    pool.in_place_scope(|scope| {
        for _ in 0..jobs {
            let sender = sender.clone();
            let mut cleaner = cleaner.clone();
            let rules = cleaner.shared_rules();
            let (next, stamp) = (&next, &stamp);
            scope.spawn(move |_| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = plan.jobs.get(index) else {
                    break;
                };
                let record = clean_one(job, config, &mut cleaner, &rules, stamp);
                if sender.send(Finished { index, record }).is_err() {
                    break;
                }
            });
        }
        drop(sender);

        let mut pending: BTreeMap<usize, Record> = BTreeMap::new();
        let mut expected = 0;
        for finished in receiver.iter() {
            pending.insert(finished.index, finished.record);
            while let Some(record) = pending.remove(&expected) {
                expected += 1;
                tally(&mut summary, &record);
                if write_error.is_none() {
                    let line = record.to_json_line();
                    let written = writeln!(provenance, "{line}").and_then(|()| provenance.flush());
                    if let Err(e) = written {
                        write_error = Some(Error::io(&partial_path, e));
                    }
                }
                reporter.file_done(&FileReport { record });
            }
        }
    });
    if let Some(error) = write_error {
        return Err(error);
    }
    drop(provenance);
    let final_path = plan.out.join(PROVENANCE_FILE);
    fs::rename(&partial_path, &final_path).map_err(|e| Error::io(&final_path, e))?;
    Ok(summary)
}

fn tally(summary: &mut Summary, record: &Record) {
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

/// Cleans one file into a record; writes its output when all went well.
fn clean_one(job: &Job, config: &RunConfig, cleaner: &mut Cleaner, rules: &RuleSet, stamp: &RulesStamp) -> Record {
    let mut record = Record::new(job.source.to_string_lossy().into_owned(), stamp);
    let fail = |mut record: Record, status: Status, message: String| {
        record.status = status;
        record.error = Some(message);
        record.removed.clear();
        record.whitespace.clear();
        record.cleaned = None;
        record.output = None;
        record
    };
    match &job.problem {
        Some(Problem::Error(message)) => {
            remove_stale(&job.output);
            return fail(record, Status::Error, message.clone());
        }
        Some(Problem::Skipped(message)) => {
            remove_stale(&job.output);
            return fail(record, Status::Skipped, message.clone());
        }
        None => {}
    }
    let raw = match fs::read(&job.source) {
        Ok(raw) => raw,
        Err(e) => {
            remove_stale(&job.output);
            return fail(record, Status::Error, e.to_string());
        }
    };
    let decoded = match decode(&raw, config.encoding) {
        Ok(decoded) => decoded,
        Err(e) => {
            remove_stale(&job.output);
            record.input = Some(InputStats::undecoded(&raw));
            return fail(record, Status::Error, e.to_string());
        }
    };
    let budget = cleaner.config().removal_budget;
    let cleaned = cleaner.clean(&decoded.text);
    record.describe_cleaning(&raw, &decoded, cleaned, rules, config.provenance_text);
    if cleaned.over_budget {
        let message = format!(
            "the rules removed {:.1}% of the text, over the removal budget of {:.1}%",
            cleaned.removed_share * 100.0,
            budget * 100.0
        );
        if config.strict {
            remove_stale(&job.output);
            return fail(record, Status::Error, format!("{message} (--strict)"));
        }
        record.warnings.push(message);
    }
    if let Err(e) = write_atomically(&job.output, cleaned.text.as_bytes()) {
        remove_stale(&job.output);
        return fail(record, Status::Error, e.to_string());
    }
    record.output = Some(job.output.to_string_lossy().into_owned());
    record
}

/// A failed file must not leave an older run's output looking current.
fn remove_stale(output: &Path) {
    if !output.as_os_str().is_empty() {
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
    write_atomically_with(target, |file| file.write_all(bytes))
}

/// [`write_atomically`] with the writing done by `write`: any error it
/// returns, like any error creating, flushing or renaming, leaves `target`
/// untouched and the temporary file removed.
fn write_atomically_with(target: &Path, write: impl FnOnce(&mut fs::File) -> std::io::Result<()>) -> Result<()> {
    static TEMPORARY_FILES: AtomicUsize = AtomicUsize::new(0);
    let parent = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    let number = TEMPORARY_FILES.fetch_add(1, Ordering::Relaxed);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut cut = name.len().min(200);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    let temporary = parent.join(format!(".{}.dechaff-{}-{number}.tmp", &name[..cut], std::process::id()));
    let result = fs::File::create(&temporary)
        .and_then(|mut file| write(&mut file).and_then(|()| file.flush()))
        .and_then(|()| fs::rename(&temporary, target));
    if let Err(e) = result {
        let _ = fs::remove_file(&temporary);
        return Err(Error::io(target, e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A disk that fills up half way through a file: the error names the
    /// target, and neither the target nor a temporary file is left.
    #[test]
    fn a_failed_write_leaves_no_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("sub/page.txt");
        let error = write_atomically_with(&target, |file| {
            file.write_all(b"half a docu")?;
            Err(std::io::Error::from_raw_os_error(28))
        })
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("{}: No space left on device (os error 28)", target.display())
        );
        assert_eq!(fs::read_dir(dir.path().join("sub")).unwrap().count(), 0);
        // An older output stays as it was: a failed write never truncates it.
        fs::write(&target, "older output\n").unwrap();
        write_atomically_with(&target, |_| Err(std::io::Error::from_raw_os_error(28))).unwrap_err();
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
