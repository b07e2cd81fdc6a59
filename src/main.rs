//! The `dechaff` binary: parses arguments, runs the engine, prints, and maps
//! outcomes to exit codes. All printing happens here.

mod args;
mod eval;
mod explain;
mod induce;
mod report;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use dechaff_engine::corpus::CorpusSettings;
use dechaff_engine::{CleanConfig, Cleaner, CleanerBuilder, RuleSet};
use dechaff_run::corpus_pass::{self, PlanCounts};
use dechaff_run::display::escaped_text;
use dechaff_run::input::Compression;
use dechaff_run::output::StreamEncoder;
use dechaff_run::pipeline::{self, FileReport, Reporter};
use dechaff_run::plan::{self, RunConfig};
use dechaff_run::provenance::Status;
use dechaff_run::sink::JsonLines;
use dechaff_run::ErrorKind;

use args::{
    CleanArgs, Cli, ColourChoice, Command, EvalArgs, ExplainArgs, ExplainFormat, InduceArgs, ReportArgs, RuleArgs,
    RulesCommand, StatsCommand,
};

/// Exit codes, after BSD sysexits where one fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    /// Every file cleaned.
    Ok,
    /// Some file failed (or some rule example failed); the rest was done.
    Failed,
    /// The command line or the run's layout is wrong.
    Usage,
    /// An earlier run's provenance, read by `--resume`, is malformed (EX_DATAERR).
    ResumeData,
    /// The worker threads could not be started (EX_OSERR).
    Threads,
    /// Writing the output (a file under `--out`, provenance, standard
    /// output) failed and stopped the run (EX_IOERR).
    Output,
    /// A rule file is malformed (EX_CONFIG).
    RuleData,
    /// A signal stopped the run: 128 plus its number, as a shell reports it.
    Signal(usize),
}

impl Exit {
    fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Failed => 1,
            Exit::Usage => 2,
            Exit::ResumeData => 65,
            Exit::Threads => 71,
            Exit::Output => 74,
            Exit::RuleData => 78,
            Exit::Signal(signal) => u8::try_from(128 + signal).unwrap_or(u8::MAX),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let exit = match cli.command {
        Command::Clean(args) => clean(&args),
        Command::Explain(args) => explain(&args),
        Command::Report(args) => report(&args),
        Command::Stats { command } => stats(command),
        Command::Eval(args) => eval(&args),
        Command::Induce(args) => induce(&args),
        Command::Rules { command } => rules(command),
    };
    ExitCode::from(exit.code())
}

/// Prints `dechaff: <error>` for an engine error and returns its exit code:
/// rule data, or a setting out of range (a usage error).
fn fail(error: &dechaff_engine::Error) -> Exit {
    eprintln!("dechaff: {error}");
    engine_exit(error)
}

fn engine_exit(error: &dechaff_engine::Error) -> Exit {
    if error.is_rule_error() {
        Exit::RuleData
    } else {
        Exit::Usage
    }
}

/// Prints `dechaff: <error>` for an error that stopped a run and returns the
/// exit code of its kind.
fn fail_run(error: &dechaff_run::Error) -> Exit {
    eprintln!("dechaff: {error}");
    match error.kind() {
        ErrorKind::Engine(error) => engine_exit(error),
        ErrorKind::Usage(_) => Exit::Usage,
        ErrorKind::Io { .. } => Exit::Output,
        ErrorKind::Resume { .. } => Exit::ResumeData,
        ErrorKind::Threads(_) => Exit::Threads,
        ErrorKind::Stopped { signal } => Exit::Signal(*signal),
        _ => Exit::Failed,
    }
}

/// Asks `stop` to end the run on SIGINT or SIGTERM (what Slurm sends
/// before a requeue): the run finishes what is under way and leaves its
/// provenance for `--resume`. A second signal ends the process at once,
/// with the same exit code.
fn stop_on_signals(stop: &plan::StopRequest) -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let signalled = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        // Registered first, so that it sees the flag as the signal before this one left it.
        signal_hook::flag::register_conditional_shutdown(signal, 128 + signal, signalled.clone())?;
        signal_hook::flag::register(signal, signalled.clone())?;
        signal_hook::flag::register_usize(signal, stop.0.clone(), signal as usize)?;
    }
    Ok(())
}

fn usage(message: &str) -> Exit {
    eprintln!("dechaff: {message}");
    Exit::Usage
}

fn load_rules(args: &RuleArgs) -> Result<RuleSet, Exit> {
    args.checked_rule_set().map_err(|e| fail(&e))
}

/// The effective rules (with corpus mode's rule when it is on), compiled.
fn build_cleaner(rules: &RuleArgs, corpus: Option<CorpusSettings>, config: CleanConfig) -> Result<Cleaner, Exit> {
    let rules = rules.rule_set_with_corpus(corpus).map_err(|e| fail(&e))?;
    CleanerBuilder::new().config(config).build(rules).map_err(|e| fail(&e))
}

fn clean(args: &CleanArgs) -> Exit {
    let (config, clean_config, corpus) = match (args.run_config(), args.cleaner.clean_config(), args.corpus.settings())
    {
        (Ok(config), Ok(clean_config), Ok(corpus)) => (config, clean_config, corpus),
        (Err(message), _, _) | (_, Err(message), _) | (_, _, Err(message)) => return usage(&message),
    };
    let cleaner = match build_cleaner(&args.cleaner.rules, corpus, clean_config) {
        Ok(cleaner) => cleaner,
        Err(exit) => return exit,
    };
    let plan = match plan::plan(&config) {
        Ok(plan) => plan,
        Err(e) => return fail_run(&e),
    };
    if let Err(e) = stop_on_signals(&config.stop) {
        eprintln!("dechaff: cannot handle SIGINT and SIGTERM: {e}");
        return Exit::Threads;
    }
    let show_progress = !args.quiet && std::io::stderr().is_terminal();
    let mut progress = Progress::new(plan.jobs.len(), show_progress);
    progress.warnings = !args.quiet;
    let outcome = if config.writes_to_stdout() {
        let attributes = pipeline::record_output(&config);
        let compression = config.compress.unwrap_or(Compression::None);
        match StreamEncoder::new(std::io::stdout(), compression) {
            Ok(stream) => {
                let sink = JsonLines::new(stream, "standard output", attributes);
                pipeline::run_into(&plan, &config, &cleaner, &sink, &mut progress).and_then(|summary| {
                    let stream = sink.into_inner()?;
                    stream
                        .finish()
                        .map_err(|e| dechaff_run::Error::io("standard output", e))?;
                    Ok(summary)
                })
            }
            Err(e) => Err(dechaff_run::Error::io("standard output", e)),
        }
    } else {
        pipeline::run(&plan, &config, &cleaner, &mut progress)
    };
    let summary = match outcome {
        Ok(summary) => summary,
        Err(e) if e.is_broken_pipe() => {
            // The reader of --out - went away (`| head`): not a failure.
            progress.clear();
            return Exit::Ok;
        }
        Err(e) => {
            progress.clear();
            // A setting that does not fit the inputs (corpus mode's grouping)
            // is refused before anything is written, like any usage error.
            return fail_run(&e);
        }
    };
    progress.clear();
    let elapsed = progress.started.elapsed().as_secs_f64();
    if !args.quiet && args.json.as_deref() != Some(std::path::Path::new("-")) {
        for line in summary_lines(&summary, &config, elapsed) {
            eprintln!("dechaff: {line}");
        }
    }
    if let Some(target) = &args.json {
        let json = format!("{}\n", summary_json(&summary, &config, elapsed));
        let written = if target.as_os_str() == "-" {
            std::io::stderr().write_all(json.as_bytes()).map_err(|e| e.to_string())
        } else {
            dechaff_run::output::write_file(target, dechaff_run::input::Compression::None, json.as_bytes())
                .map_err(|e| e.to_string())
        };
        if let Err(e) = written {
            eprintln!("dechaff: {}: {e}", target.display());
            return Exit::Output;
        }
    }
    if summary.has_failures() {
        Exit::Failed
    } else {
        Exit::Ok
    }
}

/// The summary at the end of a run, each count with what it counts.
fn summary_lines(summary: &pipeline::Summary, config: &RunConfig, elapsed: f64) -> Vec<String> {
    let files = format!(
        "{} files ({} ok, {} failed, {} skipped)",
        summary.files, summary.ok, summary.failed, summary.skipped
    );
    let Some(stats) = &summary.stats else {
        return vec![files];
    };
    let out = if config.writes_to_stdout() {
        format!("{} of text to standard output", human_bytes(stats.bytes.cleaned_out))
    } else {
        format!(
            "{} of text out ({} written)",
            human_bytes(stats.bytes.cleaned_out),
            human_bytes(summary.bytes_out)
        )
    };
    let mut lines = vec![
        format!(
            "{files}; {} documents written, {} rejected, {}{} with warnings",
            stats.documents.written,
            stats.documents.rejected,
            // Counted when a filter is on: then "0 dropped" is news too.
            if config.drop.any() {
                format!("{} dropped, ", stats.documents.dropped.values().sum::<u64>())
            } else {
                String::new()
            },
            stats.documents.with_warnings
        ),
        format!(
            "{} read, {} of text in, {out}; rules removed {} ({:.1}% of the text) in {} spans from {} documents; {elapsed:.2}s",
            human_bytes(stats.bytes.stored_in),
            human_bytes(stats.bytes.decoded_in),
            human_bytes(stats.bytes.removed_by_rules),
            stats.removed_share() * 100.0,
            summary.removed_spans,
            stats.documents.changed,
        ),
    ];
    if config.resume {
        lines.push(format!(
            "--resume: {} files cleaned again, {} files copied forward by --resume",
            summary.files - summary.resumed,
            summary.resumed
        ));
    }
    lines
}

/// The summary as one JSON object, for schedulers (`clean --json`).
fn summary_json(summary: &pipeline::Summary, config: &RunConfig, elapsed: f64) -> serde_json::Value {
    let stats = summary.stats.as_ref();
    serde_json::json!({
        "ok": !summary.has_failures(),
        "files": {
            "planned": summary.files,
            "ok": summary.ok,
            "failed": summary.failed,
            "skipped": summary.skipped,
            "resumed": summary.resumed,
            "dropped": stats.map_or(0, |s| s.files.dropped),
        },
        "documents": stats.map(|s| &s.documents),
        "bytes": stats.map(|s| &s.bytes),
        "bytes_written": summary.bytes_out,
        "spans_removed": summary.removed_spans,
        "removed_share": stats.map(|s| s.removed_share()),
        "seconds": elapsed,
        "stats": (!config.writes_to_stdout())
            .then(|| config.out.join(dechaff_run::stats::file_name(config.shard)).to_string_lossy().into_owned()),
    })
}

/// The progress line on a terminal (indicatif, redrawn at most ten times a
/// second, hidden when stderr is not a terminal), and per-file messages everywhere.
///
/// It counts bytes as records arrive, not only as files end, so that it
/// advances inside one big JSONL or WARC input: a record's size is added
/// when it is done, and the file's stored size replaces the sum of its
/// records when the file ends (for a compressed input they differ).
struct Progress {
    bar: indicatif::ProgressBar,
    /// Input bytes of the files done, and of the records done in the file under way.
    bytes: u64,
    /// Bytes counted for the records of the file under way.
    bytes_in_file: u64,
    /// Documents done.
    documents: u64,
    /// Per-document warnings are printed (not with `-q`).
    warnings: bool,
    started: Instant,
    /// Shows corpus mode's counting pass on the bar.
    counting: Box<dyn Fn(u64, u64) + Send + Sync>,
}

impl Progress {
    fn new(total: usize, enabled: bool) -> Progress {
        let bar = if enabled {
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(total as u64),
                indicatif::ProgressDrawTarget::stderr_with_hz(10),
            );
            bar.set_style(
                indicatif::ProgressStyle::with_template("{pos}/{len} files, {msg}")
                    .expect("the progress template is valid"),
            );
            bar
        } else {
            indicatif::ProgressBar::hidden()
        };
        let counting_bar = bar.clone();
        Progress {
            bar,
            bytes: 0,
            bytes_in_file: 0,
            documents: 0,
            warnings: true,
            started: Instant::now(),
            counting: Box::new(move |documents, bytes| {
                counting_bar.set_message(format!(
                    "counting lines for --corpus: {documents} documents, {} of text",
                    human_bytes(bytes)
                ))
            }),
        }
    }

    fn clear(&mut self) {
        self.bar.finish_and_clear();
    }
}

impl Reporter for Progress {
    fn counting(&self) -> Option<&(dyn Fn(u64, u64) + Sync)> {
        Some(&*self.counting)
    }

    fn file_done(&mut self, report: &FileReport) {
        let record = &report.record;
        let size = record.input.as_ref().map_or(0, |i| i.bytes);
        if record.document.is_some() {
            self.documents += 1;
            self.bytes += size;
            self.bytes_in_file += size;
        } else {
            self.bar.inc(1);
            self.documents += u64::from(record.documents.is_none());
            self.bytes = self.bytes - self.bytes_in_file + size;
            self.bytes_in_file = 0;
        }
        // A message per 64 documents: formatting one per record would cost the collecting thread.
        if !self.bar.is_hidden() && (record.document.is_none() || self.documents.is_multiple_of(64)) {
            let rate = self.bytes as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
            self.bar.set_message(format!(
                "{} documents, {}, {}/s",
                self.documents,
                human_bytes(self.bytes),
                human_bytes(rate as u64)
            ));
        }
        let message = match record.status {
            Status::Ok if self.warnings => record.warnings.first().map(|w| format!("warning: {w}")),
            Status::Ok => None,
            Status::Error => record.error.clone(),
            Status::Skipped => record.error.as_ref().map(|e| format!("skipped: {e}")),
            // A decision, not a failure: it shows with the warnings.
            Status::Dropped if self.warnings => record
                .dropped
                .map(|reason| format!("dropped ({reason}): {}", record.error.as_deref().unwrap_or(""))),
            Status::Dropped => None,
        };
        if let Some(message) = message {
            self.bar
                .suspend(|| eprintln!("dechaff: {}: {message}", escaped_text(&record.location())));
        }
    }
}

/// A byte count as people read it, in decimal units (`28.2 kB`).
fn human_bytes(bytes: u64) -> String {
    bytesize::ByteSize::b(bytes).display().si().to_string()
}

fn explain(args: &ExplainArgs) -> Exit {
    let (clean_config, read, corpus) = match (args.cleaner.clean_config(), args.read_settings(), args.corpus()) {
        (Ok(c), Ok(r), Ok(k)) => (c, r, k),
        (Err(message), ..) | (_, Err(message), _) | (.., Err(message)) => return usage(&message),
    };
    let mut cleaner = match build_cleaner(&args.cleaner.rules, corpus.clone(), clean_config) {
        Ok(cleaner) => cleaner,
        Err(exit) => return exit,
    };
    if let Some(line) = &args.line {
        let verdicts = explain::explain_line(line, &mut cleaner);
        let text = match args.format {
            ExplainFormat::Text => explain::render_line_verdicts(line, &verdicts),
            ExplainFormat::Json => format!("{}\n", serde_json::json!({ "line": line, "rules": verdicts })),
        };
        return print_stdout(&text);
    }
    let file = args.file.as_deref().expect("clap requires FILE unless --line is given");
    let selection = match (&args.record, &args.id) {
        (Some(index), _) => explain::Selection::Index(*index),
        (None, Some(id)) => explain::Selection::Id(id.clone()),
        (None, None) => explain::Selection::Whole,
    };
    let mut counts = None;
    let result = (|| -> anyhow::Result<String> {
        let document = explain::pick_document(file, args.records.input_format.map(Into::into), &read, &selection)
            .map_err(anyhow::Error::msg)?;
        let rules = cleaner.shared_rules();
        let cleaned = match &corpus {
            None => cleaner.clean(&document.text),
            Some(settings) => {
                let counts: &PlanCounts = counts.insert(count_directory_of(file, read.encoding, settings)?);
                cleaner.clean_with(
                    &document.text,
                    &counts.evidence_in(&directory_of(file).to_string_lossy()),
                )
            }
        };
        match args.format {
            ExplainFormat::Text => {
                let colour = match args.color {
                    ColourChoice::Always => true,
                    ColourChoice::Never => false,
                    ColourChoice::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
                };
                Ok(dechaff_engine::explain::render(
                    &document.text,
                    &cleaned,
                    &rules,
                    colour,
                ))
            }
            ExplainFormat::Json => {
                let cleaned = cleaned.collect();
                let record = explain::record_of(&document, &cleaned, &cleaner);
                let explained = explain::ExplainedDocument {
                    record: &record,
                    removed_share: cleaned.removed_share,
                    kept: &cleaned.text,
                };
                Ok(format!("{}\n", serde_json::to_string(&explained)?))
            }
        }
    })();
    match result {
        Ok(rendered) => print_stdout(&rendered),
        Err(e) => {
            eprintln!("dechaff: {e:#}");
            Exit::Failed
        }
    }
}

fn report(args: &ReportArgs) -> Exit {
    let stats = match report::load(&args.runs) {
        Ok(stats) => stats,
        Err(message) => return usage(&message),
    };
    let page = match report::render(&stats) {
        Ok(page) => page,
        Err(message) => {
            eprintln!("dechaff: {message}");
            return Exit::Failed;
        }
    };
    match dechaff_run::output::write_file(&args.out, dechaff_run::input::Compression::None, page.as_bytes()) {
        Ok(()) => Exit::Ok,
        Err(e) => fail_run(&e),
    }
}

fn stats(command: StatsCommand) -> Exit {
    match command {
        StatsCommand::Merge { runs, out } => {
            let stats = match report::load(&runs) {
                Ok(stats) => stats,
                Err(message) => return usage(&message),
            };
            match dechaff_run::output::write_file(
                &out,
                dechaff_run::input::Compression::None,
                stats.to_json().as_bytes(),
            ) {
                Ok(()) => Exit::Ok,
                Err(e) => fail_run(&e),
            }
        }
    }
}

/// The directory holding `file`, as `clean` names a document's group: the
/// path as given, `.` for a bare file name.
fn directory_of(file: &std::path::Path) -> std::path::PathBuf {
    match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    }
}

/// Corpus counts over the directory holding `file`, walked and grouped as
/// `clean --corpus` would walk and group it, so that `explain` shows what
/// `clean` removes.
fn count_directory_of(
    file: &std::path::Path,
    encoding: dechaff_run::decode::EncodingChoice,
    settings: &CorpusSettings,
) -> anyhow::Result<PlanCounts> {
    let mut config = RunConfig::new(vec![directory_of(file)], std::path::PathBuf::from("-"));
    config.read.encoding = encoding;
    let plan = plan::plan_for_reading(&config)?;
    Ok(corpus_pass::count_recurring_lines(&plan, &config, settings)?)
}

fn eval(args: &EvalArgs) -> Exit {
    let (clean_config, encoding, jobs, corpus) =
        match (args.clean_config(), args.cleaner.encoding(), args.jobs(), args.corpus()) {
            (Ok(c), Ok(e), Ok(j), Ok(k)) => (c, e, j, k),
            (Err(message), ..) | (_, Err(message), ..) | (_, _, Err(message), _) | (.., Err(message)) => {
                return usage(&message)
            }
        };
    let cleaner = match build_cleaner(&args.cleaner.rules, corpus, clean_config) {
        Ok(cleaner) => cleaner,
        Err(exit) => return exit,
    };
    let set = match eval::load_set(&args.data_dir) {
        Ok(set) => set,
        Err(e) => return fail_run(&e),
    };
    let report = match eval::evaluate(&set, &cleaner, encoding, jobs) {
        Ok(report) => report,
        Err(e) => return fail_run(&e),
    };
    if let Some(path) = &args.per_doc {
        let table = eval::per_document_table(&report);
        let exit = if path.as_os_str() == "-" {
            print_stdout(&table)
        } else {
            match dechaff_run::output::write_file(path, dechaff_run::input::Compression::None, table.as_bytes()) {
                Ok(()) => Exit::Ok,
                Err(e) => fail_run(&e),
            }
        };
        if exit != Exit::Ok {
            return exit;
        }
    }
    let text = if args.json {
        eval_json(&report, args.by_rule)
    } else {
        eval_tables(&report, args.by_rule)
    };
    print_stdout(&text)
}

fn eval_tables(report: &eval::Report, by_rule: bool) -> String {
    use std::fmt::Write as _;
    let s = &report.summary;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>5} | {:>6} {:>6} {:>6} | {:>6} {:>6} {:>6} | {:>6} {:>6} {:>6} {:>5}",
        "docs", "mic-P", "mic-R", "mic-F1", "mac-P", "mac-R", "mac-F1", "BPrem", "BPremM", "kept", "empty"
    );
    let _ = writeln!(
        out,
        "{:>5} | {:6.3} {:6.3} {:6.3} | {:6.3} {:6.3} {:6.3} | {:6.3} {:6.3} {:6.3} {:>5}",
        s.documents,
        s.micro_precision,
        s.micro_recall,
        s.micro_f1,
        s.macro_precision,
        s.macro_recall,
        s.macro_f1,
        s.boilerplate_removed,
        s.boilerplate_removed_macro,
        s.kept,
        s.empty_outputs
    );
    if by_rule {
        let width = report
            .rules
            .iter()
            .map(|r| r.rule.len())
            .max()
            .unwrap_or(0)
            .max("(all rules)".len());
        let _ = writeln!(out);
        let _ = writeln!(out, "{:width$} {:>7} {:>9} {:>7}", "rule", "hits", "tokens", "error");
        for rule in &report.rules {
            let _ = writeln!(
                out,
                "{:width$} {:>7} {:>9} {:>7.3}",
                rule.rule,
                rule.hits,
                rule.tokens_removed,
                rule.error_rate()
            );
        }
        let removed: u64 = report.rules.iter().map(|r| r.tokens_removed).sum();
        let gold: u64 = report.rules.iter().map(|r| r.gold_tokens_removed).sum();
        let _ = writeln!(
            out,
            "{:width$} {:>7} {:>9} {:>7.3}",
            "(all rules)",
            report.rules.iter().map(|r| r.hits).sum::<u64>(),
            removed,
            if removed == 0 {
                0.0
            } else {
                gold as f64 / removed as f64
            }
        );
    }
    out
}

fn eval_json(report: &eval::Report, by_rule: bool) -> String {
    let s = &report.summary;
    let mut value = serde_json::json!({
        "documents": s.documents,
        "micro": {"precision": s.micro_precision, "recall": s.micro_recall, "f1": s.micro_f1},
        "macro": {"precision": s.macro_precision, "recall": s.macro_recall, "f1": s.macro_f1},
        "boilerplate_removed": s.boilerplate_removed,
        "boilerplate_removed_macro": s.boilerplate_removed_macro,
        "kept": s.kept,
        "empty_outputs": s.empty_outputs,
        "empty_output_ids": report
            .documents
            .iter()
            .filter(|d| d.counts.output == 0)
            .map(|d| d.id.as_str())
            .collect::<Vec<_>>(),
        "tokens": {
            "input": s.tokens.input,
            "gold": s.tokens.gold,
            "output": s.tokens.output,
            "true_positives": s.tokens.true_positives,
        },
    });
    if by_rule {
        value["rules"] = report
            .rules
            .iter()
            .map(|r| {
                serde_json::json!({
                    "rule": r.rule,
                    "hits": r.hits,
                    "tokens_removed": r.tokens_removed,
                    "gold_tokens_removed": r.gold_tokens_removed,
                    "error_rate": r.error_rate(),
                })
            })
            .collect();
    }
    format!("{value}\n")
}

fn induce(args: &InduceArgs) -> Exit {
    let (config, settings) = match args.configs() {
        Ok(configs) => configs,
        Err(message) => return usage(&message),
    };
    let started = Instant::now();
    // The walk is planned as for `clean`, without an output tree.
    let plan = match plan::plan_for_reading(&config) {
        Ok(plan) => plan,
        Err(e) => return fail_run(&e),
    };
    let induced = match induce::induce(&plan, &config, &settings) {
        Ok(induced) => induced,
        Err(e) => return fail_run(&e),
    };
    let exit = match &args.out {
        Some(path) => {
            match dechaff_run::output::write_file(path, dechaff_run::input::Compression::None, induced.pack.as_bytes())
            {
                Ok(()) => Exit::Ok,
                Err(e) => {
                    eprintln!("dechaff: {e}");
                    Exit::Failed
                }
            }
        }
        None => print_stdout(&induced.pack),
    };
    if !args.quiet {
        let literal = if induced.literal_rules > 0 {
            format!(" ({} as literals)", induced.literal_rules)
        } else {
            String::new()
        };
        eprintln!(
            "dechaff: {} rules{literal} from {} recurring lines; {} documents in {} groups, {:.2}s",
            induced.rules,
            induced.recurring,
            induced.documents,
            induced.groups,
            started.elapsed().as_secs_f64()
        );
    }
    exit
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn print_stdout(text: &str) -> Exit {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => Exit::Ok,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Exit::Ok,
        Err(e) => {
            eprintln!("dechaff: stdout: {e}");
            Exit::Failed
        }
    }
}

fn rules(command: RulesCommand) -> Exit {
    match command {
        RulesCommand::List(args) => {
            let rules = match load_rules(&args) {
                Ok(rules) => rules,
                Err(exit) => return exit,
            };
            let mut out = String::new();
            for rule in rules.rules() {
                out.push_str(&format!(
                    "{}\t{}\t{}\t{}\n",
                    rule.id,
                    rule.pack,
                    rule.kind.name(),
                    rule.description
                ));
            }
            print_stdout(&out)
        }
        RulesCommand::Check { path, rules } => {
            let loaded = match load_for_path(path, &rules) {
                Ok(loaded) => loaded,
                Err(exit) => return exit,
            };
            if let Err(e) = CleanerBuilder::new().build(loaded.clone()) {
                return fail(&e);
            }
            print_stdout(&format!(
                "ok: {} packs, {} rules\n",
                loaded.packs().len(),
                loaded.rules().len()
            ))
        }
        RulesCommand::Test { path, rules } => {
            let loaded = match load_for_path(path, &rules) {
                Ok(loaded) => loaded,
                Err(exit) => return exit,
            };
            let failures = match loaded.test_examples() {
                Ok(failures) => failures,
                Err(e) => return fail(&e),
            };
            let examples: usize = loaded
                .rules()
                .iter()
                .map(|r| r.must_match.len() + r.must_not_match.len())
                .sum();
            for failure in &failures {
                eprintln!("dechaff: {}", failure.error);
            }
            if failures.is_empty() {
                print_stdout(&format!(
                    "ok: {} rules, {examples} examples passed\n",
                    loaded.rules().len()
                ))
            } else {
                eprintln!("dechaff: {} of {examples} examples failed", failures.len());
                Exit::Failed
            }
        }
        RulesCommand::Patterns(args) => {
            let rules = match load_rules(&args) {
                Ok(rules) => rules,
                Err(exit) => return exit,
            };
            let exported = dechaff_engine::grep::line_patterns(&rules);
            if !exported.skipped.is_empty() {
                eprintln!(
                    "dechaff: {} block, tail and inline rules have no line-wise pattern and are left out",
                    exported.skipped.len()
                );
            }
            let mut out = String::new();
            for pattern in &exported.patterns {
                out.push_str(pattern);
                out.push('\n');
            }
            print_stdout(&out)
        }
        RulesCommand::Show { id, rules } => {
            let loaded = match load_rules(&rules) {
                Ok(loaded) => loaded,
                Err(exit) => return exit,
            };
            match loaded.get(&id) {
                Some(rule) => print_stdout(&describe_rule(rule)),
                None => fail(&dechaff_engine::Error::new(dechaff_engine::ErrorKind::UnknownRule(id))),
            }
        }
    }
}

/// With a PATH, only the packs there; without, the effective packs.
fn load_for_path(path: Option<std::path::PathBuf>, args: &RuleArgs) -> Result<RuleSet, Exit> {
    match path {
        Some(path) => {
            let args = RuleArgs {
                rules: vec![path],
                no_default_rules: true,
                disable: args.disable.clone(),
            };
            load_rules(&args)
        }
        None => load_rules(args),
    }
}

fn describe_heuristic(heuristic: &dechaff_engine::heuristic::Heuristic) -> String {
    use dechaff_engine::heuristic::{Heuristic, CONTEXT_FEATURES, LINE_FEATURES};
    let mut out = format!("  heuristic: {}\n", heuristic.name());
    match heuristic {
        Heuristic::LineClassifier {
            threshold,
            line,
            context,
        } => {
            out.push_str(&format!("  threshold: {threshold}\n"));
            for (title, model, names) in [
                ("weights", line, LINE_FEATURES),
                ("context-weights", context, CONTEXT_FEATURES),
            ] {
                out.push_str(&format!("  {title}: bias {}\n", model.bias));
                for (name, (mean, scale, weight)) in names.iter().zip(&model.terms) {
                    out.push_str(&format!("    {name}: mean {mean} scale {scale} weight {weight}\n"));
                }
            }
        }
        Heuristic::CommentThread {
            header,
            furniture,
            window,
            min_count,
        } => out.push_str(&format!(
            "  start: {header}\n  pattern: {furniture}\n  max-lines: {window}\n  min-count: {min_count}\n"
        )),
        Heuristic::RepeatedPassage { min_lines } => out.push_str(&format!("  min-count: {min_lines}\n")),
    }
    out
}

fn describe_rule(rule: &dechaff_engine::rules::Rule) -> String {
    use dechaff_engine::rules::Trigger;
    let mut out = format!(
        "{}\n  pack: {}\n  kind: {}\n  defined at: {}\n  description: {}\n",
        rule.id,
        rule.pack,
        rule.kind.name(),
        rule.location,
        rule.description
    );
    match &rule.trigger {
        Trigger::Pattern(p) => out.push_str(&format!("  pattern: {p}\n")),
        Trigger::Literals(l) => out.push_str(&format!("  literals: {l:?}\n")),
        Trigger::Block { start, end } => out.push_str(&format!("  start: {start}\n  end: {end}\n")),
        Trigger::Recurrence => out.push_str("  trigger: recurrence across the documents of a group\n"),
        Trigger::Heuristic(h) => out.push_str(&describe_heuristic(h)),
    }
    if !matches!(
        rule.kind,
        dechaff_engine::rules::RuleKind::Inline | dechaff_engine::rules::RuleKind::Heuristic
    ) {
        out.push_str(&format!("  max-length: {}\n", rule.max_length));
    }
    if let dechaff_engine::rules::RuleKind::Block { max_lines } = rule.kind {
        out.push_str(&format!("  max-lines: {max_lines}\n"));
    }
    if let Some(min) = rule.min_position {
        out.push_str(&format!("  min-position: {min}\n"));
    }
    if let Some(max) = rule.max_position {
        out.push_str(&format!("  max-position: {max}\n"));
    }
    if rule.case_sensitive {
        out.push_str("  case-sensitive: true\n");
    }
    for example in &rule.must_match {
        out.push_str(&format!("  must-match: {:?}\n", example.text));
    }
    for example in &rule.must_not_match {
        out.push_str(&format!("  must-not-match: {:?}\n", example.text));
    }
    out
}
