//! The line table: six bytes per line of the document being cleaned,
//! read by every pass of the cleaner and by the heuristics.
//!
//! A document of millions of one-byte lines is as large as its line table:
//! at 48 bytes a line (five `usize` offsets and a flag, then a separate
//! fate per line) a 40 MB file of one-byte lines held close to 2 GB of it.
//! So a line keeps only what cannot be derived cheaply: where it starts, and
//! its state (its fate, whether it is blank, whether the line classifier
//! judged it). A line ends where the next one starts (or the
//! document ends); where its content starts and ends without blanks is found
//! again when asked: most lines start and end with a visible ASCII
//! character, one byte to look at at each edge. Offsets are `u32`, which is
//! why a document may be at most [`MAX_DOCUMENT_BYTES`] long.

use std::ops::Range;

use crate::fold;

/// The longest document the cleaner cleans, in bytes of decoded text: line
/// offsets are kept as `u32`. A longer text is kept whole (see
/// [`crate::CleanSummary::too_long`]); the run layer refuses such documents
/// before they are read, through its document size limit.
pub const MAX_DOCUMENT_BYTES: usize = u32::MAX as usize;

/// How many rules a line table can name: any index but `u32::MAX`.
pub(crate) const MAX_RULES: usize = u32::MAX as usize;

/// A line's flags and fate in 16 bits: whether it is blank, whether the
/// line classifier judged it, whether its fate is only a line rule's pending
/// claim (which blocks and tails may still override), and in the low 13
/// bits the fate: [`State::KEPT`], or which of the rules the document's
/// lines name removed it (see [`LineTable::fate_rules`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct State(u16);

impl State {
    const FATE: u16 = (1 << 13) - 1;
    const KEPT: u16 = State::FATE;
    const PENDING: u16 = 1 << 13;
    const JUDGED: u16 = 1 << 14;
    const BLANK: u16 = 1 << 15;

    fn with_fate(self, fate: u16, pending: bool) -> State {
        let pending = if pending { State::PENDING } else { 0 };
        State(self.0 & !(State::FATE | State::PENDING) | fate | pending)
    }
}

/// How many rules a document's fates name before they are kept whole: each
/// fate set looks its rule up among them, one by one.
const NARROW_RULES: usize = 256;
const _: () = assert!(NARROW_RULES < State::KEPT as usize);

/// The document's lines, in order: six bytes a line. A document of
/// millions of one-byte lines is as large as its line table, so a line
/// keeps its start and its [`State`], and a document names the rules that
/// remove its lines once, in `fate_rules`.
#[derive(Debug, Default)]
pub(crate) struct LineTable {
    starts: Vec<u32>,
    states: Vec<u16>,
    /// The rules named by lines' fates, by the fates' 13-bit numbers.
    fate_rules: Vec<u32>,
    /// Once a document names more than [`NARROW_RULES`] rules (a pack of
    /// thousands, hundreds of them removing lines of one page): every
    /// line's rule whole, `u32::MAX` for kept; the states' fates are then unused.
    wide_fates: Vec<u32>,
    /// The length of the text split: where the last line ends.
    text_len: u32,
}

/// One line, as the table gives it: where it starts and ends, its flags
/// and the rule that removed it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line {
    start: u32,
    /// Past its newline, if it has one.
    end: u32,
    state: State,
    /// The rule that removed it, `u32::MAX` for none (or a pending claim).
    rule: u32,
}

impl LineTable {
    /// Splits `text` (at most [`MAX_DOCUMENT_BYTES`] long) into lines at
    /// `\n`; every line starts kept.
    pub(crate) fn split(&mut self, text: &str) {
        debug_assert!(text.len() <= MAX_DOCUMENT_BYTES);
        self.starts.clear();
        self.states.clear();
        self.fate_rules.clear();
        self.wide_fates.clear();
        self.text_len = text.len() as u32;
        // Counted first and reserved exactly: grown by doubling, a table of
        // millions of lines was copied into one twice its size, both held.
        let count = memchr::memchr_iter(b'\n', text.as_bytes()).count() + usize::from(!text.ends_with('\n'));
        self.starts.reserve_exact(count);
        self.states.reserve_exact(count);
        let mut start = 0;
        let mut push = |start: usize, content_end: usize| {
            let content = &text[start..content_end];
            // Most lines start with a visible ASCII character: one byte to look at.
            let blank =
                !content.bytes().next().is_some_and(|b| b.is_ascii_graphic()) && content.chars().all(fold::is_blank);
            self.starts.push(start as u32);
            self.states
                .push(if blank { State::KEPT | State::BLANK } else { State::KEPT });
        };
        for newline in memchr::memchr_iter(b'\n', text.as_bytes()) {
            push(start, newline);
            start = newline + 1;
        }
        if start < text.len() {
            push(start, text.len());
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.starts.len()
    }

    /// Line `index`.
    pub(crate) fn get(&self, index: usize) -> Line {
        let end = self.starts.get(index + 1).copied().unwrap_or(self.text_len);
        self.line(index, end)
    }

    fn line(&self, index: usize, end: u32) -> Line {
        let state = State(self.states[index]);
        Line {
            start: self.starts[index],
            end,
            state,
            rule: self.rule_of(index, state).unwrap_or(u32::MAX),
        }
    }

    /// The lines in `range`, in order.
    pub(crate) fn range(&self, range: Range<usize>) -> impl Iterator<Item = Line> + '_ {
        let ends = self
            .starts
            .get(range.start + 1..)
            .unwrap_or_default()
            .iter()
            .copied()
            .chain(std::iter::once(self.text_len));
        range.zip(ends).map(|(index, end)| self.line(index, end))
    }

    /// Every line, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Line> + '_ {
        self.range(0..self.len())
    }

    /// Where line `index` starts.
    pub(crate) fn start(&self, index: usize) -> usize {
        self.starts[index] as usize
    }

    pub(crate) fn is_blank(&self, index: usize) -> bool {
        self.states[index] & State::BLANK != 0
    }

    /// Removed by a phrase rule, or by a heuristic that ran earlier.
    pub(crate) fn removed(&self, index: usize) -> bool {
        self.rule(index).is_some()
    }

    /// The rule that removed line `index`, if one did.
    pub(crate) fn rule(&self, index: usize) -> Option<u32> {
        self.rule_of(index, State(self.states[index]))
    }

    fn rule_of(&self, index: usize, state: State) -> Option<u32> {
        if state.0 & State::PENDING != 0 {
            return None;
        }
        if !self.wide_fates.is_empty() {
            let rule = self.wide_fates[index];
            return (rule != u32::MAX).then_some(rule);
        }
        let fate = state.0 & State::FATE;
        (fate != State::KEPT).then(|| self.fate_rules[fate as usize])
    }

    /// Gives line `index` the fate `rule` (`u32::MAX` for kept), settled or pending.
    fn set_fate(&mut self, index: usize, rule: u32, pending: bool) {
        let state = State(self.states[index]);
        if !self.wide_fates.is_empty() {
            self.wide_fates[index] = rule;
            self.states[index] = state.with_fate(State::KEPT, pending).0;
            return;
        }
        let fate = if rule == u32::MAX {
            State::KEPT
        } else if let Some(known) = self.fate_rules.iter().position(|&r| r == rule) {
            known as u16
        } else if self.fate_rules.len() < NARROW_RULES {
            self.fate_rules.push(rule);
            (self.fate_rules.len() - 1) as u16
        } else {
            self.widen();
            return self.set_fate(index, rule, pending);
        };
        self.states[index] = state.with_fate(fate, pending).0;
    }

    /// Moves every line's fate into `wide_fates`.
    fn widen(&mut self) {
        let fates: Vec<u32> = self
            .states
            .iter()
            .map(|&state| match state & State::FATE {
                State::KEPT => u32::MAX,
                fate => self.fate_rules[fate as usize],
            })
            .collect();
        self.wide_fates = fates;
    }

    /// Marks line `index` removed by rule `rule` (below [`MAX_RULES`]).
    pub(crate) fn remove(&mut self, index: usize, rule: u32) {
        debug_assert!((rule as usize) < MAX_RULES);
        self.set_fate(index, rule, false);
    }

    /// Records that line rule `rule` (below [`MAX_RULES`]) will remove line
    /// `index` unless a block or tail rule removes it first: see
    /// [`LineTable::settle_claim`]. Until then the line counts as kept.
    pub(crate) fn claim(&mut self, index: usize, rule: u32) {
        debug_assert!((rule as usize) < MAX_RULES);
        self.set_fate(index, rule, true);
    }

    /// Removes line `index` by the line rule that claimed it, if one did and
    /// nothing removed it since.
    pub(crate) fn settle_claim(&mut self, index: usize) {
        self.states[index] &= !State::PENDING;
    }

    /// Marks line `index` kept again.
    pub(crate) fn keep(&mut self, index: usize) {
        self.set_fate(index, u32::MAX, false);
    }

    /// Marks line `index` as one the line classifier judged: its score is
    /// the classifier's, in judged-line order.
    pub(crate) fn mark_judged(&mut self, index: usize) {
        self.states[index] |= State::JUDGED;
    }

    /// Gives back the table's memory when it grew beyond [`SCRATCH_KEEP_BYTES`].
    pub(crate) fn release_excess(&mut self) {
        release(&mut self.starts);
        release(&mut self.states);
        release(&mut self.wide_fates);
    }
}

impl Line {
    /// Where the line starts in the document.
    pub(crate) fn start(&self) -> usize {
        self.start as usize
    }

    /// Where the line ends, past its newline if it has one.
    pub(crate) fn end(&self) -> usize {
        self.end as usize
    }

    /// Where the line's content ends, before its newline.
    pub(crate) fn content_end(&self, text: &str) -> usize {
        // Only the last line can end without a newline.
        if self.end > self.start && text.as_bytes()[self.end as usize - 1] == b'\n' {
            self.end as usize - 1
        } else {
            self.end as usize
        }
    }

    /// The byte range in `text` (the document) of the line's content
    /// without blank characters at either end; empty for a blank line.
    pub(crate) fn trimmed(&self, text: &str) -> Range<usize> {
        let start = self.start as usize;
        if self.is_blank() {
            return start..start;
        }
        let end = self.content_end(text);
        let bytes = text.as_bytes();
        let lead = if bytes[start].is_ascii_graphic() {
            0
        } else {
            text[start..end]
                .char_indices()
                .find(|&(_, c)| !fold::is_blank(c))
                .map_or(0, |(i, _)| i)
        };
        let trail_end = if bytes[end - 1].is_ascii_graphic() {
            end
        } else {
            text[start..end]
                .char_indices()
                .rev()
                .find(|&(_, c)| !fold::is_blank(c))
                .map_or(end, |(i, c)| start + i + c.len_utf8())
        };
        start + lead..trail_end
    }

    /// The trimmed content.
    pub(crate) fn content<'a>(&self, text: &'a str) -> &'a str {
        &text[self.trimmed(text)]
    }

    pub(crate) fn is_blank(&self) -> bool {
        self.state.0 & State::BLANK != 0
    }

    /// Removed by a phrase rule, or by a heuristic that ran earlier.
    pub(crate) fn removed(&self) -> bool {
        self.rule != u32::MAX
    }

    /// The rule that removed the line, if one did.
    pub(crate) fn rule(&self) -> Option<u32> {
        self.removed().then_some(self.rule)
    }

    /// Whether the line classifier judged the line.
    pub(crate) fn judged(&self) -> bool {
        self.state.0 & State::JUDGED != 0
    }
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
    fn a_line_takes_six_bytes() {
        assert_eq!(std::mem::size_of::<u32>() + std::mem::size_of::<State>(), 6);
        let mut lines = table(&"a\n".repeat(1000));
        lines.remove(3, 1_000_000);
        assert_eq!(
            (lines.starts.len(), lines.states.len(), lines.wide_fates.len()),
            (1000, 1000, 0)
        );
    }

    #[test]
    fn a_document_naming_thousands_of_rules_keeps_every_fate() {
        let count = 3 * NARROW_RULES;
        let mut lines = table(&"a\n".repeat(count));
        lines.claim(0, 7);
        for index in 1..count {
            lines.remove(index, (index * 5) as u32);
        }
        assert!(!lines.wide_fates.is_empty(), "past NARROW_RULES rules, fates are whole");
        assert_eq!(lines.rule(0), None, "a claim stays pending");
        lines.settle_claim(0);
        assert_eq!(lines.rule(0), Some(7));
        assert!((1..count).all(|index| lines.rule(index) == Some((index * 5) as u32)));
        lines.keep(9);
        assert!(!lines.removed(9) && lines.get(9).rule().is_none());
        assert_eq!(lines.get(10).rule(), Some(50));
        lines.split("b\n");
        assert!(
            lines.wide_fates.is_empty() && !lines.removed(0),
            "the next document starts narrow"
        );
    }

    fn table(text: &str) -> LineTable {
        let mut lines = LineTable::default();
        lines.split(text);
        lines
    }

    #[test]
    fn blanks_at_either_end_are_found_again() {
        let text = "\u{a0} ab \u{200b}\r\n\t\n x\n";
        let lines = table(text);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines.get(0).content(text), "ab");
        assert!(!lines.is_blank(0));
        assert_eq!(lines.get(1).trimmed(text), 11..11);
        assert!(lines.is_blank(1) && lines.get(1).is_blank());
        assert_eq!(lines.get(2).trimmed(text), 14..15);
    }

    #[test]
    fn line_ends_come_from_the_next_line_or_the_document() {
        let text = "ab\n\ncd";
        let lines = table(text);
        let ends: Vec<_> = lines.iter().map(|l| (l.content_end(text), l.end())).collect();
        assert_eq!(ends, [(2, 3), (3, 4), (6, 6)]);
        let terminated = "ab\n";
        let lines = table(terminated);
        assert_eq!(lines.len(), 1);
        assert_eq!((lines.get(0).content_end(terminated), lines.get(0).end()), (2, 3));
        assert_eq!(lines.range(1..1).count(), 0);
    }

    #[test]
    fn a_claim_is_settled_or_overridden() {
        let mut lines = table("a\nb\nc\n");
        lines.claim(0, 3);
        lines.claim(1, 3);
        assert!(!lines.removed(0) && lines.rule(0).is_none(), "a claim is not a removal");
        lines.remove(1, 5);
        lines.settle_claim(0);
        lines.settle_claim(1);
        lines.settle_claim(2);
        assert_eq!((lines.rule(0), lines.rule(1), lines.rule(2)), (Some(3), Some(5), None));
    }

    #[test]
    fn a_fate_keeps_the_other_flags() {
        let mut lines = table("a\n\nb\n");
        lines.mark_judged(0);
        lines.remove(0, 7);
        lines.remove(1, 0);
        assert_eq!(lines.rule(0), Some(7));
        assert!(lines.get(0).judged() && !lines.get(2).judged());
        assert!(lines.is_blank(1) && lines.removed(1));
        lines.keep(0);
        assert!(!lines.removed(0) && lines.get(0).judged());
    }
}
