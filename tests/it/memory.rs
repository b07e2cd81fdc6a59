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

/// Regression: two million one-byte lines (4 MB) took 1.4 GB: the cleaner
/// kept 45 features per line, a copy of the line table for the heuristics,
/// and a hash table sized by the lines rather than the distinct ones, and
/// the provenance record was serialised into one string before being written.
#[test]
fn two_million_one_byte_lines_stay_within_a_bounded_memory() {
    let dir = temp_dir();
    write(&dir.path().join("lines.txt"), "a\n".repeat(2_000_000));
    let (status, peak) = peak_rss(dir.path(), &["clean", "lines.txt", "--out", "out", "-q", "-j1"]);
    assert!(status.success(), "{status}");
    assert!(peak > 0, "no peak RSS read");
    let limit = 900 << 20;
    assert!(peak < limit, "peak RSS {} MB, over {} MB", peak >> 20, limit >> 20);
}
