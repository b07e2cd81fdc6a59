//! `dechaff report`: one self-contained HTML page about one or more runs.
//!
//! The page is made from the runs' `stats.json` files alone, so that a
//! report on a corpus of many shards reads a few kilobytes per shard, not
//! its provenance. It must open offline, from a mail attachment or an
//! artifact store: the plots are inline SVG drawn by `plotters`, the page is
//! a `minijinja` template compiled into the binary with HTML escaping on,
//! and the only script is the few lines that sort the rule table.

use std::path::{Path, PathBuf};

use minijinja::{context, Environment};
use plotters::prelude::*;
use serde::Serialize;

use dechaff_run::stats::{self, RunStats};

const PAGE: &str = include_str!("page.html");

/// Reads the stats of every argument (a run directory's `stats*.json`, or a
/// stats file) and merges them.
pub fn load(paths: &[PathBuf]) -> Result<RunStats, String> {
    let mut merged: Option<RunStats> = None;
    for path in paths {
        for file in stats_files(path)? {
            let stats = RunStats::read(&file).map_err(|e| e.to_string())?;
            match &mut merged {
                Some(merged) => merged.merge(stats),
                None => merged = Some(stats),
            }
        }
    }
    merged.ok_or_else(|| "no stats to read".to_string())
}

/// The stats files of a run directory (`stats.json`, or one per shard), or the file itself.
fn stats_files(path: &Path) -> Result<Vec<PathBuf>, String> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|file| {
            let name = file.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with("stats.") && name.ends_with(".json")
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!(
            "{}: no stats.json here: is it the --out of a dechaff clean run?",
            path.display()
        ));
    }
    Ok(files)
}

#[derive(Serialize)]
struct RuleRow {
    id: String,
    action: String,
    documents: u64,
    spans: u64,
    lines: u64,
    bytes: u64,
    bytes_human: String,
    share: String,
    share_value: f64,
    examples: Vec<String>,
}

#[derive(Serialize)]
struct DocumentRow {
    name: String,
    removed: String,
    share: String,
    spans: u64,
    command: String,
}

#[derive(Serialize)]
struct CountRow {
    reason: String,
    count: u64,
}

/// The page for `stats`.
pub fn render(stats: &RunStats) -> Result<String, String> {
    let decoded = stats.bytes.decoded_in;
    let mut rules: Vec<RuleRow> = stats
        .rules
        .iter()
        .map(|(id, rule)| RuleRow {
            id: id.clone(),
            action: rule.action.clone(),
            documents: rule.removal.documents,
            spans: rule.removal.spans,
            lines: rule.removal.lines,
            bytes: rule.removal.bytes,
            bytes_human: crate::human_bytes(rule.removal.bytes),
            share: percent(stats::share(rule.removal.bytes, decoded)),
            share_value: stats::share(rule.removal.bytes, decoded),
            examples: rule.examples.clone(),
        })
        .collect();
    // Most bytes first: the rules that matter most head the table.
    rules.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.id.cmp(&b.id)));
    let top_documents: Vec<DocumentRow> = stats
        .top_documents
        .iter()
        .map(|doc| DocumentRow {
            name: match (&doc.record, &doc.id) {
                (Some(index), Some(id)) => format!("{} record {index} ({id})", doc.source),
                (Some(index), None) => format!("{} record {index}", doc.source),
                _ => doc.source.clone(),
            },
            removed: crate::human_bytes(doc.removed_bytes),
            share: percent(stats::share(doc.removed_bytes, doc.decoded_bytes)),
            spans: doc.spans,
            command: match doc.record {
                Some(index) => format!("dechaff explain {} --record {index}", shell_quote(&doc.source)),
                None => format!("dechaff explain {}", shell_quote(&doc.source)),
            },
        })
        .collect();
    let counts = |map: &std::collections::BTreeMap<String, u64>| -> Vec<CountRow> {
        let mut rows: Vec<CountRow> = map
            .iter()
            .map(|(reason, count)| CountRow {
                reason: reason.clone(),
                count: *count,
            })
            .collect();
        rows.sort_by_key(|row| std::cmp::Reverse(row.count));
        rows
    };
    let runs: Vec<_> = stats
        .runs
        .iter()
        .map(|run| {
            let packs: Vec<String> = run
                .rules
                .packs
                .iter()
                .map(|p| format!("{} {}", p.name, p.version))
                .collect();
            context! {
                inputs => run.inputs,
                out => run.out,
                shard => run.shard,
                fingerprint => run.rules.fingerprint,
                packs => packs.join(", "),
                settings => serde_json::to_string(&run.rules.settings).unwrap_or_default(),
            }
        })
        .collect();
    let share_labels: Vec<String> = (0..stats.removed_share_histogram.len())
        .map(|i| format!("{}%", i * 100 / stats.removed_share_histogram.len().max(1)))
        .collect();
    let position_labels: Vec<String> = (0..stats.removed_bytes_by_position.len())
        .map(|i| format!("{}%", i * 100 / stats.removed_bytes_by_position.len().max(1)))
        .collect();
    let share_plot = bar_chart(
        &stats.removed_share_histogram,
        &share_labels,
        "share of the document removed",
        "documents",
    )?;
    let position_plot = bar_chart(
        &stats.removed_bytes_by_position,
        &position_labels,
        "position in the document",
        "bytes removed",
    )?;
    let spans: u64 = stats.rules.values().map(|r| r.removal.spans).sum();
    let seconds = &stats.seconds;
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.add_template("page.html", PAGE).map_err(|e| e.to_string())?;
    let page = env.get_template("page.html").map_err(|e| e.to_string())?;
    page.render(context! {
        tool => stats.runs.first().map(|r| format!("{} {}", r.tool.name, r.tool.version)).unwrap_or_default(),
        runs => runs,
        totals => context! {
            files => stats.files.planned,
            files_ok => stats.files.ok,
            files_failed => stats.files.failed,
            files_skipped => stats.files.skipped,
            documents => stats.documents.written,
            rejected => stats.documents.rejected,
            with_warnings => stats.documents.with_warnings,
            changed => stats.documents.changed,
            decoded_in => crate::human_bytes(stats.bytes.decoded_in),
            stored_in => crate::human_bytes(stats.bytes.stored_in),
            cleaned_out => crate::human_bytes(stats.bytes.cleaned_out),
            removed => crate::human_bytes(stats.bytes.removed_by_rules),
            removed_share => percent(stats.removed_share()),
            spans => spans,
        },
        seconds => context! {
            counting => format!("{:.2}", seconds.counting),
            resume_check => format!("{:.2}", seconds.resume_check),
            cleaning => format!("{:.2}", seconds.cleaning),
            total => format!("{:.2}", seconds.total),
        },
        rules => rules,
        actions => stats.actions.iter().map(|(name, a)| context! {
            name => name, documents => a.documents, spans => a.spans, bytes => crate::human_bytes(a.bytes),
        }).collect::<Vec<_>>(),
        share_plot => share_plot,
        position_plot => position_plot,
        top_documents => top_documents,
        warnings => counts(&stats.warnings),
        rejects => counts(&stats.rejects),
    })
    .map_err(|e| format!("the report template: {e:#}"))
}

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// `text` as one shell word.
fn shell_quote(text: &str) -> String {
    let plain = text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-+,:=@".contains(&b));
    if plain && !text.is_empty() {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// A bar chart of `values` as an SVG element.
fn bar_chart(values: &[u64], labels: &[String], x_title: &str, y_title: &str) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 320)).into_drawing_area();
        let draw = |e: &dyn std::fmt::Display| format!("drawing a plot: {e}");
        root.fill(&WHITE).map_err(|e| draw(&e))?;
        let top = values.iter().copied().max().unwrap_or(0).max(1);
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d((0..values.len()).into_segmented(), 0u64..top + top / 10 + 1)
            .map_err(|e| draw(&e))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc(x_title)
            .y_desc(y_title)
            .x_labels(values.len().min(10))
            .x_label_formatter(&|value| match value {
                SegmentValue::Exact(i) | SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
                SegmentValue::Last => String::new(),
            })
            .draw()
            .map_err(|e| draw(&e))?;
        chart
            .draw_series(
                Histogram::vertical(&chart)
                    .style(RGBColor(0x3a, 0x6e, 0xa5).filled())
                    .margin(2)
                    .data(values.iter().enumerate().map(|(i, v)| (i, *v))),
            )
            .map_err(|e| draw(&e))?;
        root.present().map_err(|e| draw(&e))?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_quote("a/b-1.jsonl"), "a/b-1.jsonl");
        assert_eq!(shell_quote("it's here.txt"), r"'it'\''s here.txt'");
    }
}
