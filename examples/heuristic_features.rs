//! Prints what the line classifier sees of every line it judges, for
//! `tools/fit-heuristics.py` to fit its weights on.
//!
//! ```text
//! cargo run --release --example heuristic_features -- DIR [--rules PACK.toml] [--corpus [MIN_DOCS]]
//! ```
//!
//! Cleans every `*.txt` in DIR (sorted) with the shipped rules (a `--rules`
//! pack named like a shipped one replaces it, as with `dechaff clean`) and
//! prints one tab-separated row per judged line: the file's stem, the line's
//! index (0-based), its line features, its context features and its final
//! score, after a header row naming the columns.
//!
//! With `--corpus`, the files are cleaned as `dechaff clean --corpus` cleans
//! them (one group: DIR, the default settings, or MIN_DOCS), so that lines
//! recurring across files are removed first and the `recurring` feature
//! holds each line's corpus count, as the classifier sees it in corpus mode.

use std::path::PathBuf;

use dechaff_engine::corpus::{CorpusCounter, CorpusSettings, GroupKey};
use dechaff_engine::heuristic::{CONTEXT_FEATURES, LINE_FEATURES};
use dechaff_engine::{CleanerBuilder, NoEvidence, RuleSetBuilder};

fn main() -> anyhow::Result<()> {
    let args = std::env::args().skip(1);
    let mut dir = None;
    let mut builder = RuleSetBuilder::new();
    let mut corpus = None;
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        if arg == "--corpus" {
            let mut settings = CorpusSettings::default();
            if let Some(min_docs) = args.next_if(|a| a.parse::<u32>().is_ok()) {
                settings.min_docs = min_docs.parse()?;
            }
            corpus = Some(settings);
        } else if arg == "--rules" {
            builder = builder.add_path(args.next().ok_or_else(|| anyhow::anyhow!("--rules needs a path"))?);
        } else {
            dir = Some(PathBuf::from(arg));
        }
    }
    let dir = dir.ok_or_else(|| anyhow::anyhow!("usage: heuristic_features DIR [--rules PACK.toml]"))?;
    if let Some(settings) = &corpus {
        builder = builder.corpus(settings.clone());
    }
    let mut cleaner = CleanerBuilder::new().build(builder.build()?)?;
    cleaner.keep_judged_lines(true);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|p| p.extension().is_some_and(|e| e == "txt"));
    files.sort();
    let mut out = String::new();
    out.push_str("id\tline");
    for name in LINE_FEATURES.iter().chain(CONTEXT_FEATURES) {
        out.push('\t');
        out.push_str(name);
    }
    out.push_str("\tfinal\n");
    let mut texts = Vec::with_capacity(files.len());
    for file in &files {
        let raw = std::fs::read(file)?;
        let decoded = dechaff_run::decode::decode(&raw, dechaff_run::decode::EncodingChoice::Detect)
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        texts.push(decoded.text.into_owned());
    }
    // Corpus mode's first pass, as `clean --corpus` makes it: every file of DIR in one group.
    let group = GroupKey::of(&dir.to_string_lossy());
    let counts = corpus.as_ref().map(|settings| {
        let counter = CorpusCounter::new(settings.min_chars);
        let mut keys = Vec::new();
        for text in &texts {
            counter.add_document(group, text, &mut keys);
        }
        counter.finish()
    });
    for (file, text) in files.iter().zip(&texts) {
        match &counts {
            Some(counts) => cleaner.clean_with(text, &counts.evidence(Some(group))),
            None => cleaner.clean_with(text, &NoEvidence),
        };
        let stem = file.file_stem().unwrap_or_default().to_string_lossy();
        for judged in cleaner.judged_lines() {
            out.push_str(&format!("{stem}\t{}", judged.line));
            for value in judged.line_features.iter().chain(&judged.context_features) {
                out.push_str(&format!("\t{value}"));
            }
            out.push_str(&format!("\t{}\n", judged.score));
        }
    }
    print!("{out}");
    Ok(())
}
