//! The line table: one 12-byte entry per line of the document being cleaned,
//! read by every pass of the cleaner and by the heuristics.
//!
//! A document of millions of one-byte lines is as large as its line table:
//! at 48 bytes a line (five `usize` offsets and a flag, then a separate
//! fate per line) a 40 MB file of one-byte lines held close to 2 GB of it.
//! So an entry holds only what cannot be derived cheaply: where the line
//! starts, where its content ends without its trailing blanks, and its fate.
//! Where the content starts, past leading blanks, is found again when asked
//! (most lines start with a visible ASCII character: one byte to look at);
//! a line's end is where the next one starts (or the document ends). Offsets
//! are `u32`, which is why a document may be at most [`MAX_DOCUMENT_BYTES`] long.

use std::ops::Range;

use crate::fold;

/// The longest document the cleaner cleans, in bytes of decoded text: line
/// offsets are kept as `u32`. A longer text is kept whole (see
/// [`crate::Cleaned::too_long`]); the run layer refuses such documents
/// before they are read, through its document size limit.
pub const MAX_DOCUMENT_BYTES: usize = u32::MAX as usize;

/// What became of a line: kept, or removed by the rule at an index of the
/// rule set. Four bytes: the rule index with one value set aside for "kept".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fate(u32);

impl Fate {
    /// Not removed (yet).
    pub(crate) const KEPT: Fate = Fate(u32::MAX);

    /// Removed by rule `rule` (any index but `u32::MAX`, which no rule set reaches).
    pub(crate) fn removed_by(rule: u32) -> Fate {
        debug_assert!(rule != u32::MAX);
        Fate(rule)
    }

    /// The rule that removed the line, if one did.
    pub(crate) fn rule(self) -> Option<u32> {
        (self != Fate::KEPT).then_some(self.0)
    }
}

/// One line of the document.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineView {
    start: u32,
    /// Where the content ends before trailing blanks; `start` for a blank line.
    trimmed_end: u32,
    pub(crate) fate: Fate,
}

impl LineView {
    /// A kept line starting at `start` whose trimmed content is `trimmed`;
    /// all offsets below [`MAX_DOCUMENT_BYTES`].
    pub(crate) fn new(start: usize, trimmed: Range<usize>) -> LineView {
        LineView {
            start: start as u32,
            trimmed_end: if trimmed.is_empty() { start } else { trimmed.end } as u32,
            fate: Fate::KEPT,
        }
    }

    /// Where the line starts in the document.
    pub(crate) fn start(&self) -> usize {
        self.start as usize
    }

    /// The byte range in `text` (the document) of the line's content
    /// without blank characters at either end; empty for a blank line.
    pub(crate) fn trimmed(&self, text: &str) -> Range<usize> {
        let (start, end) = (self.start as usize, self.trimmed_end as usize);
        if start == end || text.as_bytes()[start].is_ascii_graphic() {
            return start..end;
        }
        let lead = text[start..end]
            .char_indices()
            .find(|&(_, c)| !fold::is_blank(c))
            .map_or(0, |(i, _)| i);
        start + lead..end
    }

    /// The trimmed content.
    pub(crate) fn content<'a>(&self, text: &'a str) -> &'a str {
        &text[self.trimmed(text)]
    }

    pub(crate) fn is_blank(&self) -> bool {
        self.start == self.trimmed_end
    }

    /// Removed by a phrase rule, or by a heuristic that ran earlier.
    pub(crate) fn removed(&self) -> bool {
        self.fate != Fate::KEPT
    }

    /// Marks the line removed by rule `rule`.
    pub(crate) fn remove(&mut self, rule: u32) {
        self.fate = Fate::removed_by(rule);
    }
}

/// The end of line `index` (past its newline, if it has one) and the end of
/// its content (before the newline), in `text` split into `lines`.
pub(crate) fn line_ends(text: &str, lines: &[LineView], index: usize) -> (usize, usize) {
    let end = lines.get(index + 1).map_or(text.len(), LineView::start);
    // Only the last line can end without a newline.
    let content_end = if end > lines[index].start() && text.as_bytes()[end - 1] == b'\n' {
        end - 1
    } else {
        end
    };
    (content_end, end)
}

/// Scratch buffers holding more than this many bytes are given back before
/// the next document: a worker that once cleaned a document of millions of
/// lines should not keep their hundreds of megabytes for the rest of the run.
pub(crate) const SCRATCH_KEEP_BYTES: usize = 16 << 20;

/// Empties `buffer` and gives back its memory when its capacity is above
/// [`SCRATCH_KEEP_BYTES`]; below, it is kept to be reused.
pub(crate) fn release<T>(buffer: &mut Vec<T>) {
    if buffer.capacity().saturating_mul(std::mem::size_of::<T>()) > SCRATCH_KEEP_BYTES {
        *buffer = Vec::new();
    }
}

/// [`release`] for a string.
pub(crate) fn release_string(buffer: &mut String) {
    if buffer.capacity() > SCRATCH_KEEP_BYTES {
        *buffer = String::new();
    }
}

/// A line's identity, 64-bit: within one page for the classifier's repeat
/// counts, and in a worker's memo of line answers (`crate::memo`). It reads
/// eight bytes a step (FNV-1a, one byte a step, was a tenth of the
/// classifier's time on long lines) and ends with MurmurHash3's finaliser so that every input bit
/// reaches every output bit; the length is mixed in so that a line and the
/// same line with trailing zero bytes differ.
pub(crate) fn line_hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = (bytes.len() as u64).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        h = (h.rotate_left(23) ^ word).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(23) ^ u64::from_le_bytes(last)).wrapping_mul(K);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_entry_takes_twelve_bytes() {
        assert_eq!(std::mem::size_of::<LineView>(), 12);
        assert_eq!(std::mem::size_of::<Fate>(), 4);
    }

    #[test]
    fn leading_blanks_are_found_again() {
        let text = "\u{a0} ab \n\t\n";
        let lines = [LineView::new(0, 3..5), LineView::new(7, 7..7)];
        assert_eq!(lines[0].trimmed(text), 3..5);
        assert_eq!(lines[0].content(text), "ab");
        assert!(!lines[0].is_blank());
        assert_eq!(lines[1].trimmed(text), 7..7);
        assert!(lines[1].is_blank());
    }

    #[test]
    fn line_ends_come_from_the_next_line_or_the_document() {
        let text = "ab\n\ncd";
        let lines = [LineView::new(0, 0..2), LineView::new(3, 3..3), LineView::new(4, 4..6)];
        assert_eq!(line_ends(text, &lines, 0), (2, 3));
        assert_eq!(line_ends(text, &lines, 1), (3, 4));
        assert_eq!(line_ends(text, &lines, 2), (6, 6));
        let terminated = "ab\n";
        assert_eq!(line_ends(terminated, &lines[..1], 0), (2, 3));
    }
}
