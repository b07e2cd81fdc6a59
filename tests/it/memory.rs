//! Memory per document: a file of millions of short lines is cleaned in a
//! few hundred bytes a line at most, not the kilobyte a line the cleaner's
//! per-line state (features, scores, a copy of the line table) once took.
//! The full-size figures are `bench/memory`'s; this runs a smaller file and
//! reads the process's peak RSS.

#![cfg(target_os = "linux")]

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::util::{temp_dir, write};

/// Runs `dechaff ARGS` in `dir` and returns its exit status and peak RSS in
/// bytes. The peak is the kernel's high-water mark (`VmHWM`), read until the
/// process ends: a mark only rises, so the last reading misses at most the
/// last few milliseconds' growth.
fn peak_rss(dir: &std::path::Path, args: &[&str]) -> (std::process::ExitStatus, u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dechaff"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dechaff starts");
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_path) {
            if let Some(kb) = status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak = peak.max(kb * 1024);
            }
        }
        if let Some(status) = child.try_wait().expect("wait") {
            return (status, peak);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// What a document of one-byte lines may cost per line, above the base: its
/// two bytes of text, the line table's 6 bytes and the line classifier's 6
/// for each line it judges, with room for the buffers' growth: 8× the
/// document. Before the line table was made compact it took over 90 bytes
/// a line; with a 12-byte entry and a table of scores, 28.
const BYTES_PER_ONE_BYTE_LINE: u64 = 16;

/// What a blank line (one byte) may cost: its byte and the line table's 6.
const BYTES_PER_BLANK_LINE: u64 = 8;

/// The peak RSS of cleaning `input` (written to `name`) less that of
/// cleaning a one-line file: what the document itself costs, above the
/// fixed base (rules, automata, buffers).
fn document_cost(name: &str, input: &[u8]) -> (u64, u64) {
    let dir = temp_dir();
    write(&dir.path().join("tiny.txt"), "A line of its own.\n");
    let (status, base) = peak_rss(dir.path(), &["clean", "tiny.txt", "--out", "tiny", "-q", "-j1"]);
    assert!(status.success(), "{status}");
    write(&dir.path().join(name), input);
    let (status, peak) = peak_rss(dir.path(), &["clean", name, "--out", "out", "-q", "-j1"]);
    assert!(status.success(), "{status}");
    assert!(base > 0 && peak > 0, "no peak RSS read");
    (base, peak.saturating_sub(base))
}

/// Regression: two million one-byte lines (4 MB) took 1.4 GB: the cleaner
/// kept 45 features per line, a copy of the line table for the heuristics,
/// and a hash table sized by the lines rather than the distinct ones, and
/// the provenance record was serialised into one string before being written.
/// Then the line table's 48 bytes a line (and 8 more for its fate, 16 for
/// each candidate's scores) still made one-byte lines cost 50 times their size.
#[test]
fn one_byte_lines_cost_a_bounded_multiple_of_their_size() {
    let input = "a\n".repeat(2_000_000);
    let (base, cost) = document_cost("lines.txt", input.as_bytes());
    assert_cost_under(
        "one-byte lines",
        base,
        cost,
        BYTES_PER_ONE_BYTE_LINE * input.len() as u64 / 2,
    );
}

#[test]
fn blank_lines_cost_a_bounded_multiple_of_their_size() {
    let input = "\n".repeat(4_000_000);
    let (base, cost) = document_cost("blank.txt", input.as_bytes());
    assert_cost_under("blank lines", base, cost, BYTES_PER_BLANK_LINE * input.len() as u64);
}

/// Fails when a document's own `cost` over the run's `base` reaches `limit` (bytes each).
#[track_caller]
fn assert_cost_under(what: &str, base: u64, cost: u64, limit: u64) {
    eprintln!("{what}: {} MB over a base of {} MB", cost >> 20, base >> 20);
    assert!(
        cost < limit,
        "{what}: {} MB over the base of {} MB, over {} MB",
        cost >> 20,
        base >> 20,
        limit >> 20
    );
}

/// A JSONL record of short lines is held as its line, its decoded text, the
/// cleaned text and the rendered output line, besides the cleaner's state.
#[test]
fn a_record_of_short_lines_costs_a_bounded_multiple_of_its_size() {
    let text = "ab cd\n".repeat(500_000);
    let record = format!(
        "{{\"id\": \"r\", \"text\": {}}}\n",
        serde_json::to_string(&text).unwrap()
    );
    let (base, cost) = document_cost("record.jsonl", record.as_bytes());
    assert_cost_under("record", base, cost, 8 * record.len() as u64);
}

/// Regression: a removed span that could not merge with its neighbour was
/// held until its document's record was written: the engine's removal and
/// the record's span with its excerpt, 200 bytes and more. A page of lines
/// that two rules remove in turn has a span per line: a 32 MB page took
/// 3.2 GB. Spans are now walked from the line table and serialised as they
/// are made, into a buffer that spills to a temporary file, so such a page
/// costs what one-byte lines cost.
#[test]
fn spans_that_cannot_merge_cost_what_their_lines_cost() {
    // `a` goes to the line classifier, `|` to a phrase rule (menu separators).
    let spans = 2_000_000;
    let input = "a\n|\n".repeat(spans / 2);
    let (base, cost) = document_cost("alternating.txt", input.as_bytes());
    assert_cost_under("unmerged spans", base, cost, BYTES_PER_ONE_BYTE_LINE * spans as u64);
}

/// What a worker's memo of the lines it has seen takes once full (16 MiB
/// of their text and their entries): part of the base, which a one-line
/// file's run does not fill, so a test of distinct lines allows for it.
const MEMO_FULL_BYTES: u64 = 36 << 20;

/// Regression: each kept line with a trailing space gives a whitespace
/// span, and those were held too (56 bytes a line): 64 MiB of such lines
/// took 12.7 times their size. Now the bound of every other shape holds.
#[test]
fn whitespace_spans_cost_a_bounded_multiple_of_their_lines() {
    let input: String = (0..1_000_000).map(|i| format!("{i:07} \n")).collect();
    let (base, cost) = document_cost("trailing.txt", input.as_bytes());
    assert_cost_under("whitespace spans", base, cost, 8 * input.len() as u64 + MEMO_FULL_BYTES);
}

/// Regression: in corpus mode every line's count was held twice (4 bytes
/// each), and each line that recurred across documents was a candidate
/// entry of 8 bytes more, grown by doubling: one-byte lines that three
/// documents share cost 30 bytes a line, 15 times their size. A line's count
/// now takes 2 bytes and the candidates are summed by count: about 16 bytes
/// a line in all (`bench/memory`'s figures); the bound leaves 6 for the
/// allocator's slack.
#[test]
fn lines_that_recur_across_documents_cost_a_bounded_multiple_in_corpus_mode() {
    let dir = temp_dir();
    for k in 0..3 {
        write(&dir.path().join(format!("tiny/{k}.txt")), "A line of its own.\n");
    }
    let (status, base) = peak_rss(
        dir.path(),
        &["clean", "tiny", "--out", "tiny-out", "-q", "-j1", "--corpus"],
    );
    assert!(status.success(), "{status}");
    let lines = 2_000_000;
    let page = "a\n".repeat(lines);
    for k in 0..3 {
        write(&dir.path().join(format!("pages/{k}.txt")), &page);
    }
    let (status, peak) = peak_rss(dir.path(), &["clean", "pages", "--out", "out", "-q", "-j1", "--corpus"]);
    assert!(status.success(), "{status}");
    assert_cost_under(
        "recurring one-byte lines, corpus mode",
        base,
        peak.saturating_sub(base),
        (BYTES_PER_ONE_BYTE_LINE + 6) * lines as u64,
    );
}
