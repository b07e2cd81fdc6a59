//! Prints what the line classifier sees of every line it judges, for
//! `tools/fit-heuristics.py` to fit its weights on.
//!
//! ```text
//! cargo run --release --example heuristic_features -- DIR [--rules PACK.toml]
//! ```
//!
//! Cleans every `*.txt` in DIR (sorted) with the shipped rules (a `--rules`
//! pack named like a shipped one replaces it, as with `dechaff clean`) and
//! prints one tab-separated row per judged line: the file's stem, the line's
//! index (0-based), its line features, its context features and its final
//! score, after a header row naming the columns.

use std::path::PathBuf;

use dechaff::heuristic::{CONTEXT_FEATURES, LINE_FEATURES};
use dechaff::{CleanerBuilder, RuleSetBuilder};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let mut builder = RuleSetBuilder::new();
    while let Some(arg) = args.next() {
        if arg == "--rules" {
            builder = builder.add_path(args.next().ok_or_else(|| anyhow::anyhow!("--rules needs a path"))?);
        } else {
            dir = Some(PathBuf::from(arg));
        }
    }
    let dir = dir.ok_or_else(|| anyhow::anyhow!("usage: heuristic_features DIR [--rules PACK.toml]"))?;
    let mut cleaner = CleanerBuilder::new().build(builder.build()?)?;
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
    for file in files {
        let raw = std::fs::read(&file)?;
        let decoded = dechaff::decode::decode(&raw, dechaff::decode::EncodingChoice::Detect)
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        cleaner.clean(&decoded.text);
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
