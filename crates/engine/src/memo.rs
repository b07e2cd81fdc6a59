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
//!
//! Workers also share what they learn ([`SharedMemo`], one per engine):
//! each worker's memo answers a line first seen by another worker, so that
//! two workers do not each pay for every line's first sight. A worker looks
//! its document's new lines up in the shared table under one read lock when
//! the document begins, and adds what it learnt under one write lock when
//! it ends. Neither waits for the other: a document that begins while the
//! table is being added to makes do with the worker's own memo, and a
//! worker that finds the table busy adds its lines after a later document
//! (it waits only once many are waiting). The shared table holds answers
//! computed the same way, so it too changes only the time. It is used only
//! while two or more cleaners of one engine clean; bounded like a worker's
//! memo, and emptied when full.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{RwLock, TryLockError};

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

/// Lines a worker may have learnt and not yet added to the shared memo
/// before it waits for the table to be free.
const TEACH_WITHOUT_WAITING: usize = 16 << 10;

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
    hash: u64,
    text: (u32, u32),
    /// Whole-line pattern indices that match, sorted, once searched.
    patterns: Option<(u32, u32)>,
    /// Inline matches, once searched.
    inline: Option<(u32, u32)>,
    /// What the classifier counts of it (`Traits`), and the stop-word
    /// languages of its words, once counted.
    traits: Option<(Traits, (u32, u32))>,
}

/// Remembered lines and their answers: the storage of a worker's memo and
/// of the shared one. `Traits` is what the line classifier counts of a line
/// by itself.
#[derive(Debug)]
struct MemoTable<Traits> {
    index: HashMap<u64, u32, BuildHasherDefault<PrehashedKey>>,
    entries: Vec<Entry<Traits>>,
    text: Vec<u8>,
    patterns: Vec<u32>,
    inline: Vec<InlineMatch>,
    words: Vec<u32>,
}

/// A per-worker memo of line answers; see the module's documentation.
#[derive(Debug)]
pub(crate) struct LineMemo<Traits> {
    table: MemoTable<Traits>,
    /// Per line of the document being cleaned: its entry, [`NOT_LOOKED_UP`]
    /// or [`NOT_REMEMBERED`]; empty for a document of over [`MEMO_DOCUMENT_LINES`].
    line_entries: Vec<u32>,
    /// Entries below this were offered to the shared memo or came from it.
    offered: usize,
}

/// What the workers of one engine learn of lines, shared; see the module's
/// documentation.
#[derive(Debug)]
pub(crate) struct SharedMemo<Traits> {
    table: RwLock<MemoTable<Traits>>,
    /// Cleaners of the engine that have cleaned and still exist.
    cleaners: AtomicUsize,
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

impl<Traits> Default for MemoTable<Traits> {
    fn default() -> Self {
        MemoTable {
            index: HashMap::default(),
            entries: Vec::new(),
            text: Vec::new(),
            patterns: Vec::new(),
            inline: Vec::new(),
            words: Vec::new(),
        }
    }
}

impl<Traits> Default for LineMemo<Traits> {
    fn default() -> Self {
        LineMemo {
            table: MemoTable::default(),
            line_entries: Vec::new(),
            offered: 0,
        }
    }
}

impl<Traits> Default for SharedMemo<Traits> {
    fn default() -> Self {
        SharedMemo {
            table: RwLock::new(MemoTable::default()),
            cleaners: AtomicUsize::new(0),
        }
    }
}

impl<Traits> SharedMemo<Traits> {
    /// A cleaner of the engine begins to clean.
    pub fn join(&self) {
        self.cleaners.fetch_add(1, Ordering::Relaxed);
    }

    /// A cleaner that had cleaned is gone.
    pub fn leave(&self) {
        self.cleaners.fetch_sub(1, Ordering::Relaxed);
    }

    /// Whether sharing can pay: with one cleaner, whatever it would put in
    /// the shared table it already holds itself.
    fn in_use(&self) -> bool {
        self.cleaners.load(Ordering::Relaxed) > 1
    }
}

impl<Traits: Copy> MemoTable<Traits> {
    /// The entry of `line` (whose hash is `hash`), if remembered.
    fn find(&self, hash: u64, line: &[u8]) -> Option<u32> {
        let &id = self.index.get(&hash)?;
        (&self.text[range(self.entries[id as usize].text)] == line).then_some(id)
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

    /// A new entry for `line`, with no answers yet. The caller checked that
    /// the hash is not taken and that there is room.
    fn push(&mut self, hash: u64, line: &[u8]) -> u32 {
        let id = self.entries.len() as u32;
        self.entries.push(Entry {
            hash,
            text: push_all(&mut self.text, line),
            patterns: None,
            inline: None,
            traits: None,
        });
        self.index.insert(hash, id);
        id
    }

    /// Copies the answers of `from`'s entry `from_id` into entry `id`.
    fn copy_answers(&mut self, id: u32, from: &MemoTable<Traits>, from_id: u32) {
        let source = &from.entries[from_id as usize];
        let patterns = source
            .patterns
            .map(|r| push_all(&mut self.patterns, &from.patterns[range(r)]));
        let inline = source
            .inline
            .map(|r| push_all(&mut self.inline, &from.inline[range(r)]));
        let traits = source
            .traits
            .map(|(traits, words)| (traits, push_all(&mut self.words, &from.words[range(words)])));
        let entry = &mut self.entries[id as usize];
        entry.patterns = patterns;
        entry.inline = inline;
        entry.traits = traits;
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

    /// Looks the document's lines (`(index, text)`, as
    /// [`LineMemo::line_entry`] takes them) up at once, and those that are
    /// new to this memo in `shared` too, under one read lock, taking what it
    /// holds of them.
    pub fn learn_from<'t>(&mut self, shared: &SharedMemo<Traits>, lines: impl Iterator<Item = (usize, &'t str)>) {
        if !shared.in_use() {
            return;
        }
        // Never waits: while another worker adds to the table, this document
        // makes do with the worker's own memo.
        let Ok(table) = shared.table.try_read() else {
            return;
        };
        for (index, line) in lines {
            if self.line_entries.get(index) == Some(&NOT_LOOKED_UP) {
                let found = self.entry_from(line, Some(&table));
                self.line_entries[index] = found.map_or(NOT_REMEMBERED, |id| id.0);
            }
        }
    }

    /// Adds to `shared`, under one write lock, the lines this memo learnt
    /// since it last did (or since it began, if it has not); a shared table
    /// without room for them is emptied first. Lines the shared table holds
    /// already, those this memo took from it among them, are passed over.
    pub fn teach(&mut self, shared: &SharedMemo<Traits>) {
        // Alone, a cleaner keeps what it learns to offer once another joins.
        let waiting = self.table.entries.len() - self.offered;
        if !shared.in_use() || waiting == 0 {
            return;
        }
        // Waits only when much is waiting: with many workers the table is
        // seldom free of readers, and what is not added now is added next time.
        let table = match shared.table.try_write() {
            Ok(table) => Ok(table),
            Err(TryLockError::WouldBlock) if waiting < TEACH_WITHOUT_WAITING => return,
            Err(_) => shared.table.write(),
        };
        let Ok(mut table) = table else {
            return;
        };
        let new = self.offered..self.table.entries.len();
        self.offered = self.table.entries.len();
        let bytes: usize = self.table.entries[new.clone()]
            .iter()
            .map(|e| (e.text.1 - e.text.0) as usize)
            .sum();
        if table.entries.len() + new.len() > MEMO_ENTRIES || table.text.len() + bytes > MEMO_TEXT_BYTES {
            table.clear();
        }
        for id in new {
            let entry = &self.table.entries[id];
            if table.index.contains_key(&entry.hash) || !table.has_room(0) {
                continue;
            }
            let shared_id = table.push(entry.hash, &self.table.text[range(entry.text)]);
            table.copy_answers(shared_id, &self.table, id as u32);
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
        self.entry_from(line, None)
    }

    /// [`LineMemo::entry`]; a new entry takes what `shared` knows of the line.
    fn entry_from(&mut self, line: &str, shared: Option<&MemoTable<Traits>>) -> Option<EntryId> {
        if line.len() > MEMO_LINE_BYTES {
            return None;
        }
        let hash = line_hash(line.as_bytes());
        if self.table.index.contains_key(&hash) {
            return self.table.find(hash, line.as_bytes()).map(EntryId);
        }
        if !self.has_room(line.len()) {
            return None;
        }
        let id = self.table.push(hash, line.as_bytes());
        if let Some(shared) = shared {
            if let Some(from) = shared.find(hash, line.as_bytes()) {
                self.table.copy_answers(id, shared, from);
            }
        }
        Some(EntryId(id))
    }

    /// Whether one more line of `bytes` bytes fits.
    fn has_room(&self, bytes: usize) -> bool {
        self.table.has_room(bytes)
    }

    fn clear(&mut self) {
        self.table.clear();
        self.offered = 0;
    }

    /// The whole-line patterns that match the entry's line, if searched.
    pub fn patterns(&self, id: EntryId) -> Option<&[u32]> {
        let table = &self.table;
        table.entries[id.0 as usize].patterns.map(|r| &table.patterns[range(r)])
    }

    pub fn set_patterns(&mut self, id: EntryId, patterns: &[u32]) {
        let table = &mut self.table;
        table.entries[id.0 as usize].patterns = Some(push_all(&mut table.patterns, patterns));
    }

    /// The inline matches on the entry's line, if searched.
    pub fn inline(&self, id: EntryId) -> Option<&[InlineMatch]> {
        let table = &self.table;
        table.entries[id.0 as usize].inline.map(|r| &table.inline[range(r)])
    }

    pub fn set_inline(&mut self, id: EntryId, matches: &[InlineMatch]) {
        let table = &mut self.table;
        table.entries[id.0 as usize].inline = Some(push_all(&mut table.inline, matches));
    }

    /// The entry's line traits and its words' stop-word languages, if counted.
    pub fn traits(&self, id: EntryId) -> Option<(Traits, &[u32])> {
        let table = &self.table;
        table.entries[id.0 as usize]
            .traits
            .map(|(traits, words)| (traits, &table.words[range(words)]))
    }

    pub fn set_traits(&mut self, id: EntryId, traits: Traits, words: &[u32]) {
        let table = &mut self.table;
        table.entries[id.0 as usize].traits = Some((traits, push_all(&mut table.words, words)));
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
    fn a_worker_finds_what_another_learnt_once_two_clean() {
        let shared = SharedMemo::<u8>::default();
        let (mut first, mut second) = (LineMemo::<u8>::default(), LineMemo::<u8>::default());
        let lines = ["Share this", "Prices rose by 3%."];
        let learn = |memo: &mut LineMemo<u8>, shared: &SharedMemo<u8>| {
            memo.begin_document(lines.len());
            memo.learn_from(shared, lines.iter().copied().enumerate());
        };

        // One cleaner alone: nothing goes to the shared table.
        shared.join();
        learn(&mut first, &shared);
        let share = first.line_entry(0, lines[0]).expect("short enough");
        first.set_patterns(share, &[3, 7]);
        first.set_traits(share, 5, &[1, 2]);
        first.teach(&shared);
        assert!(shared.table.read().unwrap().entries.is_empty());

        // A second one: what the first learns from now on is shared.
        shared.join();
        learn(&mut first, &shared);
        let prices = first.line_entry(1, lines[1]).expect("short enough");
        first.set_inline(
            prices,
            &[InlineMatch {
                rule: 4,
                start: 0,
                end: 6,
            }],
        );
        first.teach(&shared);
        learn(&mut second, &shared);
        let found = second.line_entry(1, lines[1]).expect("taken from the shared table");
        assert_eq!(
            second.inline(found),
            Some(
                &[InlineMatch {
                    rule: 4,
                    start: 0,
                    end: 6
                }][..]
            )
        );
        assert_eq!(second.patterns(found), None);
        // Learnt before sharing began, offered with the next document: the
        // first line is shared too.
        let share = second.line_entry(0, lines[0]).expect("taken from the shared table");
        assert_eq!(second.patterns(share), Some(&[3, 7][..]));
        assert_eq!(second.traits(share), Some((5, &[1, 2][..])));

        // One of them gone: each is on its own again.
        shared.leave();
        let mut third = LineMemo::<u8>::default();
        learn(&mut third, &shared);
        assert_eq!(third.line_entry(1, lines[1]).and_then(|id| third.inline(id)), None);
    }

    #[test]
    fn a_busy_shared_table_is_not_waited_for() {
        let shared = SharedMemo::<u8>::default();
        shared.join();
        shared.join();
        let mut memo = LineMemo::<u8>::default();
        memo.begin_document(1);
        let id = memo.line_entry(0, "Share this").expect("short enough");
        memo.set_patterns(id, &[3]);
        {
            // Another worker reads: the line waits for a later document.
            let _reading = shared.table.read().unwrap();
            memo.teach(&shared);
        }
        assert!(shared.table.read().unwrap().entries.is_empty());
        memo.teach(&shared);
        assert_eq!(shared.table.read().unwrap().entries.len(), 1);

        // Another worker writes: the document goes on with its own memo.
        let mut other = LineMemo::<u8>::default();
        other.begin_document(1);
        {
            let _writing = shared.table.write().unwrap();
            other.learn_from(&shared, std::iter::once((0, "Share this")));
        }
        assert_eq!(
            other.line_entry(0, "Share this").and_then(|id| other.patterns(id)),
            None
        );
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
