//! The `dechaff` binary: parses arguments, runs the engine, prints, and maps
//! outcomes to exit codes. All printing happens here.

mod args;
mod eval;
mod induce;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use dechaff_engine::corpus::CorpusSettings;
use dechaff_engine::{CleanConfig, Cleaner, CleanerBuilder, RuleSet};
use dechaff_run::corpus_pass::{self, PlanCounts};
use dechaff_run::input::Compression;
use dechaff_run::output::StreamEncoder;
use dechaff_run::pipeline::{self, FileReport, Reporter};
use dechaff_run::plan::{self, RunConfig};
use dechaff_run::provenance::Status;
use dechaff_run::sink::JsonLines;
use dechaff_run::ErrorKind;

use args::{CleanArgs, Cli, ColourChoice, Command, EvalArgs, ExplainArgs, InduceArgs, RuleArgs, RulesCommand};

/// Exit codes, after BSD sysexits where one fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    /// Every file cleaned.
    Ok = 0,
    /// Some file failed (or some rule example failed); the rest was done.
    Failed = 1,
    /// The command line or the run's layout is wrong.
    Usage = 2,
    /// An earlier run's provenance, read by `--resume`, is malformed (EX_DATAERR).
    ResumeData = 65,
    /// The worker threads could not be started (EX_OSERR).
    Threads = 71,
    /// Writing the output (a file under `--out`, provenance, standard
    /// output) failed and stopped the run (EX_IOERR).
    Output = 74,
    /// A rule file is malformed (EX_CONFIG).
    RuleData = 78,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let exit = match cli.command {
        Command::Clean(args) => clean(&args),
        Command::Explain(args) => explain(&args),
        Command::Eval(args) => eval(&args),
        Command::Induce(args) => induce(&args),
        Command::Rules { command } => rules(command),
    };
    ExitCode::from(exit as u8)
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
        _ => Exit::Failed,
    }
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
    let show_progress = !args.quiet && std::io::stderr().is_terminal();
    let mut progress = Progress::new(plan.jobs.len(), show_progress);
    let outcome = if config.writes_to_stdout() {
        let attributes = pipeline::attributes_of(&config);
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
    if !args.quiet {
        let elapsed = progress.started.elapsed().as_secs_f64();
        eprintln!(
            "dechaff: {} files ({} ok, {} failed, {} skipped, {} with warnings), {} in, {} out, {} spans removed, {:.2}s",
            summary.files,
            summary.ok,
            summary.failed,
            summary.skipped,
            summary.warned,
            human_bytes(summary.bytes_in),
            human_bytes(summary.bytes_out),
            summary.removed_spans,
            elapsed
        );
        if summary.documents + summary.rejected > 0 || summary.resumed > 0 {
            eprintln!(
                "dechaff: {} documents written, {} records rejected, {} files copied forward by --resume",
                summary.documents, summary.rejected, summary.resumed
            );
        }
    }
    if summary.has_failures() {
        Exit::Failed
    } else {
        Exit::Ok
    }
}

/// The progress line on a terminal (indicatif, redrawn at most ten times a
/// second, hidden when stderr is not a terminal), and per-file messages everywhere.
struct Progress {
    bar: indicatif::ProgressBar,
    /// Input bytes of the files done.
    bytes: u64,
    started: Instant,
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
        Progress {
            bar,
            bytes: 0,
            started: Instant::now(),
        }
    }

    fn clear(&mut self) {
        self.bar.finish_and_clear();
    }
}

impl Reporter for Progress {
    fn file_done(&mut self, report: &FileReport) {
        let record = &report.record;
        if record.document.is_none() {
            self.bar.inc(1);
            self.bytes += record.input.as_ref().map_or(0, |i| i.bytes);
            let rate = self.bytes as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
            self.bar
                .set_message(format!("{}, {}/s", human_bytes(self.bytes), human_bytes(rate as u64)));
        }
        let message = match record.status {
            Status::Ok => record.warnings.first().map(|w| format!("warning: {w}")),
            Status::Error => record.error.clone(),
            Status::Skipped => record.error.as_ref().map(|e| format!("skipped: {e}")),
        };
        if let Some(message) = message {
            self.bar
                .suspend(|| eprintln!("dechaff: {}: {message}", record.location()));
        }
    }
}

/// A byte count as people read it, in decimal units (`28.2 kB`).
fn human_bytes(bytes: u64) -> String {
    bytesize::ByteSize::b(bytes).display().si().to_string()
}

fn explain(args: &ExplainArgs) -> Exit {
    let (clean_config, encoding, corpus) = match (args.cleaner.clean_config(), args.cleaner.encoding(), args.corpus()) {
        (Ok(c), Ok(e), Ok(k)) => (c, e, k),
        (Err(message), ..) | (_, Err(message), _) | (.., Err(message)) => return usage(&message),
    };
    let mut cleaner = match build_cleaner(&args.cleaner.rules, corpus.clone(), clean_config) {
        Ok(cleaner) => cleaner,
        Err(exit) => return exit,
    };
    let mut counts = None;
    let result = (|| -> anyhow::Result<String> {
        let raw = std::fs::read(&args.file).with_context(|| args.file.display().to_string())?;
        let decoded =
            dechaff_run::decode::decode(&raw, encoding).map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
        let rules = cleaner.shared_rules();
        let cleaned = match &corpus {
            None => cleaner.clean(&decoded.text),
            Some(settings) => {
                let counts: &PlanCounts = counts.insert(count_directory_of(&args.file, encoding, settings)?);
                cleaner.clean_with(
                    &decoded.text,
                    &counts.evidence_in(&directory_of(&args.file).to_string_lossy()),
                )
            }
        };
        let colour = match args.color {
            ColourChoice::Always => true,
            ColourChoice::Never => false,
            ColourChoice::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        };
        Ok(dechaff_engine::explain::render(&decoded.text, cleaned, &rules, colour))
    })();
    match result {
        Ok(rendered) => print_stdout(&rendered),
        Err(e) => {
            eprintln!("dechaff: {e:#}");
            Exit::Failed
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
