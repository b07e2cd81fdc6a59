//! A document's spans on their way to provenance, held in bounded memory.
//!
//! A document of millions of lines that cannot merge into one span (lines
//! two rules remove in turn, kept lines each with a trailing space) has a
//! provenance record dozens of times its own size. Held as span structs
//! until the record was written, such a document took 97 times its size in
//! memory. So a worker serialises each span as the engine walks it
//! ([`SpanLog`]), into a buffer that moves to an unnamed temporary file
//! once it is large ([`SpillBuffer`]), and sums up what the run's
//! statistics need as it goes ([`SpanTally`]); the collector copies the
//! serialised spans into the record's line.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Bins of removal by position in the run's statistics: a tenth of the document each.
pub const POSITION_BINS: usize = 10;

/// Removed-text examples kept per rule in the run's statistics.
pub const EXAMPLES_PER_RULE: usize = 3;

/// Serialised spans held in memory before they move to a temporary file:
/// records of ordinary pages stay in memory, and a worker's share of memory
/// for spans stays at about this much whatever the document.
pub const SPILL_BYTES: usize = 1 << 20;

/// What one rule removed from one document.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleTally {
    /// The rule id.
    pub rule: Arc<str>,
    /// The rule's action.
    pub action: Cow<'static, str>,
    /// Spans, bytes and lines removed.
    pub spans: u64,
    /// Bytes removed.
    pub bytes: u64,
    /// Lines removed (a cut inside a line counts its line).
    pub lines: u64,
    /// The texts of its first spans, distinct, at most [`EXAMPLES_PER_RULE`].
    pub examples: Vec<String>,
}

/// A document's removed spans summed up: what the run's statistics and
/// summary need of them, made span by span ([`SpanTally::add`]) wherever
/// the spans come from (a cleaning, or a record read back by `--resume`).
#[derive(Debug, Clone, PartialEq)]
pub struct SpanTally {
    /// Spans removed.
    pub spans: u64,
    /// Bytes removed.
    pub bytes: u64,
    /// Per rule, in the order of each one's first span.
    pub rules: Vec<RuleTally>,
    /// Removed bytes by where their span starts, in [`POSITION_BINS`] bins
    /// of the decoded document.
    pub by_position: [u64; POSITION_BINS],
}

impl SpanTally {
    /// An empty tally.
    pub fn new() -> SpanTally {
        SpanTally {
            spans: 0,
            bytes: 0,
            rules: Vec::new(),
            by_position: [0; POSITION_BINS],
        }
    }

    /// Counts one span of a document of `decoded` bytes: rule `rule` with
    /// `action` removed `bytes` over `lines` (first and last, 1-based),
    /// `text` being what provenance shows of it. `action` is a `Cow` so that
    /// the tally keeps a name the tool knows borrowed, as the span does.
    #[allow(clippy::ptr_arg)]
    pub fn add(
        &mut self,
        rule: &Arc<str>,
        action: &Cow<'static, str>,
        bytes: (usize, usize),
        lines: (usize, usize),
        text: &str,
        decoded: u64,
    ) {
        let length = (bytes.1 - bytes.0) as u64;
        self.spans += 1;
        self.bytes += length;
        // A page names a handful of rules: a scan beats a map, and a
        // document's spans share each rule's id, so the pointers mostly decide.
        let tally = match self
            .rules
            .iter()
            .position(|tally| Arc::ptr_eq(&tally.rule, rule) || tally.rule == *rule)
        {
            Some(k) => &mut self.rules[k],
            None => {
                self.rules.push(RuleTally {
                    rule: Arc::clone(rule),
                    action: action.clone(),
                    spans: 0,
                    bytes: 0,
                    lines: 0,
                    examples: Vec::new(),
                });
                self.rules.last_mut().expect("just pushed")
            }
        };
        tally.spans += 1;
        tally.bytes += length;
        tally.lines += (lines.1 + 1).saturating_sub(lines.0) as u64;
        if tally.examples.len() < EXAMPLES_PER_RULE && !tally.examples.iter().any(|e| e == text) {
            tally.examples.push(text.to_string());
        }
        if let Some(bin) = (bytes.0 as u64 * POSITION_BINS as u64).checked_div(decoded) {
            self.by_position[(bin as usize).min(POSITION_BINS - 1)] += length;
        }
    }
}

impl Default for SpanTally {
    fn default() -> SpanTally {
        SpanTally::new()
    }
}

/// Bytes written to memory until they pass a limit, then to an unnamed
/// temporary file in a directory the run writes anyway (`O_TMPFILE` where
/// the system has it: nothing is left behind, even by a killed run).
#[derive(Debug)]
pub struct SpillBuffer {
    memory: Vec<u8>,
    file: Option<File>,
    limit: usize,
    directory: PathBuf,
}

impl SpillBuffer {
    /// An empty buffer that moves to a temporary file in `directory` past `limit` bytes.
    pub fn new(directory: &Path, limit: usize) -> SpillBuffer {
        SpillBuffer {
            memory: Vec::new(),
            file: None,
            limit,
            directory: directory.to_path_buf(),
        }
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.memory.is_empty() && self.file.is_none()
    }

    /// Whether the bytes moved to a temporary file.
    pub fn spilled(&self) -> bool {
        self.file.is_some()
    }

    /// Moves what memory holds to the file (made on the first call).
    fn spill(&mut self) -> io::Result<()> {
        let file = match &mut self.file {
            Some(file) => file,
            None => self.file.insert(tempfile::tempfile_in(&self.directory)?),
        };
        file.write_all(&self.memory)?;
        self.memory.clear();
        Ok(())
    }

    /// Writes everything, in order, to `out`.
    pub fn copy_to(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if let Some(file) = &mut self.file {
            file.seek(SeekFrom::Start(0))?;
            io::copy(&mut Read::by_ref(file), out)?;
        }
        out.write_all(&self.memory)
    }
}

/// A document's `removed` and `whitespace` arrays as their JSON elements,
/// comma-separated, without the brackets: what
/// [`crate::provenance::Record::write_json_line`] puts between them.
#[derive(Debug)]
pub struct SpanLog {
    /// The `removed` array's elements.
    pub removed: SpillBuffer,
    /// The `whitespace` array's elements.
    pub whitespace: SpillBuffer,
}

impl SpanLog {
    /// An empty log spilling to `directory` past `limit` bytes an array.
    pub fn new(directory: &Path, limit: usize) -> SpanLog {
        SpanLog {
            removed: SpillBuffer::new(directory, limit),
            whitespace: SpillBuffer::new(directory, limit),
        }
    }
}

/// Appends `element` to the JSON array elements `out` holds. Serialised
/// straight into the memory buffer (serde makes many small writes, each
/// cheapest on a `Vec`), which spills once the element is whole.
pub fn push_element<T: serde::Serialize>(out: &mut SpillBuffer, element: &T) -> io::Result<()> {
    if !out.is_empty() {
        out.memory.push(b',');
    }
    serde_json::to_writer(&mut out.memory, element).map_err(io::Error::from)?;
    if out.memory.len() >= out.limit {
        out.spill()?;
        // A record that spilled once is a large one: what its buffer grew
        // to goes back rather than staying with the worker.
        out.memory.shrink_to(out.limit);
    }
    Ok(())
}
