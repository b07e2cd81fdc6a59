//! Repeated passages: a run of lines that a page prints twice.
//!
//! Some blog platforms print a post twice on its own page: once as the
//! article and once more below it (under the comment heading, or as the
//! hidden preview a feed widget left in the text). The second copy is prose
//! like the first, so the classifier, which never removes a sentence, keeps
//! it, and the page's text holds the article twice. A run of lines that
//! repeats, in order and word for word, lines the page has already kept,
//! and that is long enough to be a passage, goes the second time.
//!
//! Runs are found from their anchors, lines of prose ([`PROSE_WORDS`] words
//! or more): the first place of each distinct prose line is kept in a table
//! (eight bytes a slot, half of a 64-bit line hash and a line number; a
//! clash of halves only hides a copy, since the lines are compared), and a prose
//! line seen before is followed forward, and a few lines back, for as long as
//! the two copies agree. A paragraph printed twice in a row, or a reply that
//! quotes a few lines of another, is shorter than a passage and stays.

use super::features::count_words;
use super::{HashCounts, HashSlots, LineTable, PROSE_WORDS};
use crate::lines::line_hash;

/// How many words a repeated run must hold, counted over the lines kept in
/// both copies, to be a passage.
pub(crate) const PASSAGE_WORDS: usize = 100;

/// How many lines above its first prose line a run is followed back: the
/// title and dateline over a post's first paragraph.
const REACH_BACK: usize = 8;

/// The first line holding each distinct prose line's hash: the high half
/// of its hash to its index plus one.
pub(crate) type FirstLines = HashSlots<u32>;

impl FirstLines {
    /// The first line with hash `h`, or `None` after recording `index` as it.
    fn first_or_insert(&mut self, h: u32, index: usize) -> Option<usize> {
        let value = u32::try_from(index + 1).ok()?;
        let first = self.value_mut(h);
        if *first != 0 {
            return Some(*first as usize - 1);
        }
        *first = value;
        None
    }
}

/// How many blank lines a run may step over between two of its lines: a
/// longer gap ends it, so that no run reads more than this many lines per
/// line it holds, whatever the page's blank lines.
const MAX_GAP: usize = 32;

/// The next non-blank line after `index`, at most [`MAX_GAP`] blank lines on.
fn next_text(lines: &LineTable, index: usize) -> Option<usize> {
    (index + 1..lines.len()).take(MAX_GAP + 1).find(|&i| !lines.is_blank(i))
}

/// The non-blank line before `index`, at most [`MAX_GAP`] blank lines back.
fn previous_text(lines: &LineTable, index: usize) -> Option<usize> {
    (0..index).rev().take(MAX_GAP + 1).find(|&i| !lines.is_blank(i))
}

/// Removes with `rule` the kept lines of every later copy of a passage: a
/// run of non-blank lines equal, in order, to an earlier run, counting at
/// least `min_lines` lines and [`PASSAGE_WORDS`] words kept in both copies.
/// A copy's line goes only where its original is kept, so the page keeps
/// one copy of every line. Each line is read a bounded number of times: the
/// scan goes on after the run it followed, whether it removed it or not.
pub(crate) fn remove_repeated_passages(
    text: &str,
    lines: &mut LineTable,
    rule: u32,
    min_lines: usize,
    copies: &HashCounts,
    table: &mut FirstLines,
) {
    table.reset(64);
    let content = |lines: &LineTable, i: usize| lines.get(i).content(text);
    let kept_words = |lines: &LineTable, a: usize, b: usize| {
        (!lines.removed(a) && !lines.removed(b)).then(|| count_words(content(lines, a), usize::MAX))
    };
    let mut index = 0;
    while index < lines.len() {
        if lines.is_blank(index) {
            index += 1;
            continue;
        }
        let line = content(lines, index);
        let prose = PROSE_WORDS as usize;
        // Only a line the page holds twice can anchor a copy (`copies`
        // counts every line's hash), and `prose` words need `prose - 1`
        // blanks between them: most lines are not counted.
        if line.len() < 2 * prose - 1 {
            index += 1;
            continue;
        }
        let hash = line_hash(line.as_bytes());
        if copies.copies(hash) < 2 || count_words(line, prose) < prose {
            index += 1;
            continue;
        }
        let half = (hash >> 32) as u32;
        let Some(first) = table.first_or_insert(half, index) else {
            index += 1;
            continue;
        };
        if content(lines, first) != line {
            index += 1;
            continue;
        }
        // Forward from the anchor, the original staying above the copy.
        let (mut passage_lines, mut words) = (0, 0);
        let (mut a, mut b) = (first, index);
        loop {
            if let Some(w) = kept_words(lines, a, b) {
                passage_lines += 1;
                words += w;
            }
            match (next_text(lines, a), next_text(lines, b)) {
                (Some(na), Some(nb)) if na < index && content(lines, na) == content(lines, nb) => (a, b) = (na, nb),
                _ => break,
            }
        }
        let (original_end, end) = (a, b);
        // Back from the anchor, the copy staying below the original.
        let (mut a, mut b) = (first, index);
        for _ in 0..REACH_BACK {
            match (previous_text(lines, a), previous_text(lines, b)) {
                (Some(pa), Some(pb)) if pb > original_end && content(lines, pa) == content(lines, pb) => {
                    (a, b) = (pa, pb);
                    if let Some(w) = kept_words(lines, a, b) {
                        passage_lines += 1;
                        words += w;
                    }
                }
                _ => break,
            }
        }
        if passage_lines >= min_lines && words >= PASSAGE_WORDS {
            loop {
                if !lines.removed(a) && !lines.removed(b) {
                    lines.remove(b, rule);
                }
                if b == end {
                    break;
                }
                a = next_text(lines, a).expect("the original runs as far as its copy");
                b = next_text(lines, b).expect("the copy runs to its end");
            }
        }
        index = end + 1;
    }
}
