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

/// What a removed span that cannot merge with its neighbour costs until
/// its document's record is written: the engine's removal, the record's
/// span (with its excerpt), besides the two lines' own state. A page of
/// lines that two rules remove in turn has a span per line: at 330 bytes a
/// span (two strings of its own each, a list of rule names per span in the
/// statistics) a 32 MB page took 5.3 GB.
const BYTES_PER_UNMERGED_SPAN: u64 = 240;

#[test]
fn spans_that_cannot_merge_cost_a_bounded_amount_each() {
    // `a` goes to the line classifier, `|` to a phrase rule (menu separators).
    let spans = 1_000_000;
    let input = "a\n|\n".repeat(spans / 2);
    let (base, cost) = document_cost("alternating.txt", input.as_bytes());
    assert_cost_under("unmerged spans", base, cost, BYTES_PER_UNMERGED_SPAN * spans as u64);
}
