//! What the cleaner learns from a line's text alone, remembered per worker.
//!
//! Two thirds of the cleaner's time goes to questions whose answers depend
//! on nothing but a line's bytes: which whole-line and inline patterns match
//! it, and its counts and shapes for the line classifier. Web pages repeat
//! lines: a site's menus, footers and share bars are on every page, and on
//! one copy of the development sets 55% of the non-blank lines repeat an
//! earlier line verbatim. So each worker's cleaner keeps a bounded memo from
//! a line's text to those answers, across documents.
//!
//! The memo never changes a result: an answer is stored only as it was
//! computed, and is found again only for a line whose bytes are compared
//! equal to the stored ones, not for one that merely shares its hash (two
//! lines with one 64-bit hash: the second is simply not remembered). What a
//! worker has seen before therefore changes only the time, never the output,
//! whatever the thread count or the order of the inputs.
//!
//! It is bounded: lines up to [`MEMO_LINE_BYTES`] long, [`MEMO_TEXT_BYTES`]
//! of their text and [`MEMO_ENTRIES`] lines. A full memo learns no more lines
//! until the document ends; the next one starts it again, empty, which costs
//! no more than the lines it then relearns. Within a document each line's
//! entry is kept (4 bytes a line, for documents up to [`MEMO_DOCUMENT_LINES`]
//! lines), so that the classifier finds what the matching pass learnt
//! without looking the line up again.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::ops::Range;

use crate::corpus::PrehashedKey;
use crate::lines::line_hash;

/// The longest line remembered, in bytes. Longer lines are paragraphs,
/// which seldom repeat; they would fill the memo with text seen once.
pub(crate) const MEMO_LINE_BYTES: usize = 1024;

/// The most text the memo holds. One copy of both development sets has 12
/// MB of distinct lines up to [`MEMO_LINE_BYTES`].
const MEMO_TEXT_BYTES: usize = 16 << 20;

/// The most lines the memo holds (one copy of both development sets: 131 k
/// distinct non-blank lines).
const MEMO_ENTRIES: usize = 192 << 10;

/// The longest document, in lines, whose lines' entries are kept while it
/// is cleaned; a longer one looks its lines up again.
const MEMO_DOCUMENT_LINES: usize = 1 << 20;

/// In [`LineMemo::line_entries`]: a line not looked up yet, and one that is
/// not remembered.
const NOT_LOOKED_UP: u32 = u32::MAX;
const NOT_REMEMBERED: u32 = u32::MAX - 1;

/// An inline rule's match, in bytes of the line's trimmed content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InlineMatch {
    pub rule: u32,
    pub start: u32,
    pub end: u32,
}

/// A remembered line. Ranges index the memo's arenas.
#[derive(Debug, Clone)]
struct Entry<Traits> {
    text: (u32, u32),
    /// Whole-line pattern indices that match, sorted, once searched.
    patterns: Option<(u32, u32)>,
    /// Inline matches, once searched.
    inline: Option<(u32, u32)>,
    /// What the classifier counts of it (`Traits`), and the stop-word
    /// languages of its words, once counted.
    traits: Option<(Traits, (u32, u32))>,
}

/// A per-worker memo of line answers; see the module's documentation.
/// `Traits` is what the line classifier counts of a line by itself.
#[derive(Debug)]
pub(crate) struct LineMemo<Traits> {
    index: HashMap<u64, u32, BuildHasherDefault<PrehashedKey>>,
    entries: Vec<Entry<Traits>>,
    text: Vec<u8>,
    patterns: Vec<u32>,
    inline: Vec<InlineMatch>,
    words: Vec<u32>,
    /// Per line of the document being cleaned: its entry, [`NOT_LOOKED_UP`]
    /// or [`NOT_REMEMBERED`]; empty for a document of over [`MEMO_DOCUMENT_LINES`].
    line_entries: Vec<u32>,
}

/// An entry of the memo, valid until the next document begins (which may
/// empty the memo).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EntryId(u32);

fn range(r: (u32, u32)) -> Range<usize> {
    r.0 as usize..r.1 as usize
}

/// Appends `items` to `arena`, giving their range.
fn push_all<T: Copy>(arena: &mut Vec<T>, items: &[T]) -> (u32, u32) {
    let start = arena.len() as u32;
    arena.extend_from_slice(items);
    (start, arena.len() as u32)
}

impl<Traits> Default for LineMemo<Traits> {
    fn default() -> Self {
        LineMemo {
            index: HashMap::default(),
            entries: Vec::new(),
            text: Vec::new(),
            patterns: Vec::new(),
            inline: Vec::new(),
            words: Vec::new(),
            line_entries: Vec::new(),
        }
    }
}

impl<Traits: Copy> LineMemo<Traits> {
    /// Readies the memo for a document of `lines` lines: empties it if it is
    /// full.
    pub fn begin_document(&mut self, lines: usize) {
        if !self.has_room(MEMO_LINE_BYTES) {
            self.clear();
        }
        self.line_entries.clear();
        if lines <= MEMO_DOCUMENT_LINES {
            self.line_entries.resize(lines, NOT_LOOKED_UP);
        }
    }

    /// The entry of line `index` of the document, whose text is `line`.
    pub fn line_entry(&mut self, index: usize, line: &str) -> Option<EntryId> {
        match self.line_entries.get(index) {
            Some(&NOT_REMEMBERED) => None,
            Some(&NOT_LOOKED_UP) | None => {
                let found = self.entry(line);
                if let Some(slot) = self.line_entries.get_mut(index) {
                    *slot = found.map_or(NOT_REMEMBERED, |id| id.0);
                }
                found
            }
            Some(&id) => Some(EntryId(id)),
        }
    }

    /// The entry of `line`, made empty if the line is new; `None` for a line
    /// that is not remembered (too long, its hash taken by another line, or
    /// new to a full memo).
    fn entry(&mut self, line: &str) -> Option<EntryId> {
        if line.len() > MEMO_LINE_BYTES {
            return None;
        }
        let hash = line_hash(line.as_bytes());
        if let Some(&id) = self.index.get(&hash) {
            let entry = &self.entries[id as usize];
            return (&self.text[range(entry.text)] == line.as_bytes()).then_some(EntryId(id));
        }
        if !self.has_room(line.len()) {
            return None;
        }
        let id = self.entries.len() as u32;
        self.entries.push(Entry {
            text: push_all(&mut self.text, line.as_bytes()),
            patterns: None,
            inline: None,
            traits: None,
        });
        self.index.insert(hash, id);
        Some(EntryId(id))
    }

    /// Whether one more line of `bytes` bytes fits.
    fn has_room(&self, bytes: usize) -> bool {
        self.entries.len() < MEMO_ENTRIES && self.text.len() + bytes <= MEMO_TEXT_BYTES
    }

    fn clear(&mut self) {
        self.index.clear();
        self.entries.clear();
        self.text.clear();
        self.patterns.clear();
        self.inline.clear();
        self.words.clear();
    }

    /// The whole-line patterns that match the entry's line, if searched.
    pub fn patterns(&self, id: EntryId) -> Option<&[u32]> {
        self.entries[id.0 as usize].patterns.map(|r| &self.patterns[range(r)])
    }

    pub fn set_patterns(&mut self, id: EntryId, patterns: &[u32]) {
        self.entries[id.0 as usize].patterns = Some(push_all(&mut self.patterns, patterns));
    }

    /// The inline matches on the entry's line, if searched.
    pub fn inline(&self, id: EntryId) -> Option<&[InlineMatch]> {
        self.entries[id.0 as usize].inline.map(|r| &self.inline[range(r)])
    }

    pub fn set_inline(&mut self, id: EntryId, matches: &[InlineMatch]) {
        self.entries[id.0 as usize].inline = Some(push_all(&mut self.inline, matches));
    }

    /// The entry's line traits and its words' stop-word languages, if counted.
    pub fn traits(&self, id: EntryId) -> Option<(Traits, &[u32])> {
        self.entries[id.0 as usize]
            .traits
            .map(|(traits, words)| (traits, &self.words[range(words)]))
    }

    pub fn set_traits(&mut self, id: EntryId, traits: Traits, words: &[u32]) {
        self.entries[id.0 as usize].traits = Some((traits, push_all(&mut self.words, words)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_found_again_only_for_the_same_bytes() {
        let mut memo = LineMemo::<()>::default();
        let share = memo.entry("Share this").expect("short enough");
        memo.set_patterns(share, &[3, 7]);
        let other = memo.entry("Share that").expect("short enough");
        assert_ne!(share, other);
        assert_eq!(memo.patterns(other), None);
        let again = memo.entry("Share this").expect("remembered");
        assert_eq!(memo.patterns(again), Some(&[3, 7][..]));
        assert_eq!(memo.entry(&"a".repeat(MEMO_LINE_BYTES + 1)), None);
    }

    #[test]
    fn a_full_memo_learns_no_more_until_the_next_document_starts_it_again() {
        let mut memo = LineMemo::<()>::default();
        memo.begin_document(0);
        for i in 0..MEMO_ENTRIES {
            let id = memo.entry(&format!("line {i}")).expect("room for it");
            memo.set_patterns(id, &[i as u32]);
        }
        assert_eq!(memo.entry("one line too many"), None);
        let id = memo.entry("line 7").expect("still remembered");
        assert_eq!(memo.patterns(id), Some(&[7][..]));
        memo.begin_document(0);
        let id = memo.entry("line 7").expect("learnt again");
        assert_eq!(memo.patterns(id), None);
    }

    #[test]
    fn a_document_s_lines_keep_their_entries() {
        let mut memo = LineMemo::<()>::default();
        memo.begin_document(3);
        let first = memo.line_entry(0, "Share this").expect("short enough");
        assert_eq!(memo.line_entry(1, &"a".repeat(MEMO_LINE_BYTES + 1)), None);
        assert_eq!(memo.line_entry(2, "Share this"), Some(first));
        // Kept by line: asked again, the line is not looked up (nor its text read).
        assert_eq!(memo.line_entry(0, "anything"), Some(first));
        assert_eq!(memo.line_entry(1, "short now"), None);
    }
}
