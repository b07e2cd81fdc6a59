//! Corpus mode: lines that recur across the documents of a group.
//!
//! Most chaff in a real dump is site-specific: a site's menu, its footer, its
//! "About" blurb. No phrase rule knows them, but each recurs, word for word,
//! on every page of its site, while an article's sentences do not. So a run in
//! corpus mode reads its inputs twice. The first pass counts, for every
//! *group* of documents (a directory, a host), in how many documents each
//! normalised line occurs; the second cleans as usual and removes, in every
//! document, each line held by at least `min-docs` documents of its group: all
//! copies, not "keep the first", since the first copy is as much chaff as the
//! others.
//!
//! Three decisions shape this module:
//! - **Lines are compared after normalisation** ([`normalize`]): case folded,
//!   every run of digits folded to one `0`, punctuation and whitespace folded
//!   to single spaces between words, zero-width characters dropped. A footer
//!   whose year or share count changes from page to page is still one line.
//!   A sentence (more than a dozen words) or an expression ("5 % 2 = 1")
//!   keeps its digits: there the numbers are what the line says.
//! - **Only a 64-bit hash of each line is kept** ([`line_hash`]): FNV-1a over
//!   the normalised UTF-8 bytes, finished with MurmurHash3's 64-bit mixer. The
//!   function is written out here, so its values are the same on every
//!   platform and Rust version (std's `DefaultHasher` promises neither), and
//!   unit tests pin a few of them. The count table maps `hash(group, line)` to
//!   a document count, about two dozen bytes per distinct line (see the README
//!   for the measured figure), and never holds text.
//! - **Counting is a sum**, so the counts do not depend on the thread count or
//!   the input order: workers add each document's distinct lines into a
//!   table split into shards, each behind its own lock, and nothing else is
//!   recorded.
//!
//! Counts made apart are merged and stored as bytes by [`CorpusCounts`]'s
//! `merge`, `to_bytes` and `from_bytes` (the `counts_file` module).
//!
//! The cleaner consumes the counts through [`LineEvidence`];
//! [`GroupEvidence`] is the implementation for one document's group.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::str::FromStr;
use std::sync::Mutex;

use crate::fold;

mod counts_file;
pub use counts_file::{CountsError, COUNTS_FORMAT_VERSION};

/// What is known about a document's lines from outside the document.
///
/// In corpus mode the first pass counts, per group of documents, how many
/// documents hold each line; the cleaner asks for one document's lines
/// through this trait, so that it needs neither the counts' layout nor the
/// document's group.
pub trait LineEvidence {
    /// How many documents of this document's group hold `line` after corpus
    /// normalisation ([`normalize`]); 0 when unknown.
    fn recurrence(&self, line: &str) -> u32;
}

/// No evidence: every line is unknown to the rest of the corpus.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEvidence;

impl LineEvidence for NoEvidence {
    fn recurrence(&self, _line: &str) -> u32 {
        0
    }
}

/// Corpus mode's settings, validated by [`CorpusSettings::validate`].
#[derive(Debug, Clone, PartialEq)]
pub struct CorpusSettings {
    /// A line goes when at least this many documents of its group hold it
    /// (the document itself included).
    pub min_docs: u32,
    /// Lines whose normalised form has fewer characters than this are never
    /// counted and never removed by corpus mode.
    pub min_chars: usize,
    /// The largest share of a document's remaining text (the bytes of its
    /// lines still kept after the phrase rules) that corpus mode may remove.
    /// Past it, lines are removed from the most widely shared down, and the
    /// first count level that does not fit stops the removal; see the README.
    pub max_doc_share: f64,
    /// How documents are grouped.
    pub group_by: GroupBy,
}

impl Default for CorpusSettings {
    /// The defaults measured on the devset (README, "Corpus mode").
    fn default() -> Self {
        CorpusSettings {
            min_docs: 3,
            min_chars: 1,
            max_doc_share: 0.9,
            group_by: GroupBy::Dir,
        }
    }
}

impl CorpusSettings {
    /// Checks every value, naming the bad one in the message.
    pub fn validate(&self) -> Result<(), String> {
        if self.min_docs < 2 {
            return Err(format!(
                "min-docs {} is below 2: every line occurs in at least one document",
                self.min_docs
            ));
        }
        if self.min_chars == 0 || self.min_chars > 100_000 {
            return Err(format!("min-chars {} is outside 1..=100000", self.min_chars));
        }
        if !(self.max_doc_share > 0.0 && self.max_doc_share <= 1.0) {
            return Err(format!(
                "max-doc-share {} must be above 0 and at most 1",
                self.max_doc_share
            ));
        }
        if let GroupBy::Field(name) = &self.group_by {
            if name.is_empty() {
                return Err("group-by field: needs a field name (field:NAME)".to_string());
            }
        }
        Ok(())
    }

    /// The settings as the text of corpus mode's synthetic rule pack, which
    /// the rule fingerprint is taken over: two runs with different thresholds
    /// or grouping get different fingerprints.
    pub(crate) fn pack_text(&self) -> String {
        format!(
            "# corpus mode (normalisation {NORMALIZATION_VERSION}, hash {HASH_NAME})\n\
             min-docs = {}\nmin-chars = {}\nmax-doc-share = {}\ngroup-by = {:?}\n",
            self.min_docs,
            self.min_chars,
            self.max_doc_share,
            self.group_by.to_string()
        )
    }
}

/// Bumped when [`normalize`] or [`line_hash`] would give a different value for some line.
pub const NORMALIZATION_VERSION: u32 = 1;
/// The hash function's name, as recorded in the fingerprint.
pub const HASH_NAME: &str = "fnv1a64+fmix64";

/// How the documents of a run are split into groups whose lines are counted apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupBy {
    /// The directory holding the input file, as given (`in/site-a/x.txt` → `in/site-a`).
    Dir,
    /// The host of the document's URL, lowercased, without a leading `www.`
    /// (JSONL and WARC input).
    Host,
    /// The value of a named field of the document's metadata (JSONL input).
    Field(String),
}

impl fmt::Display for GroupBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GroupBy::Dir => f.write_str("dir"),
            GroupBy::Host => f.write_str("host"),
            GroupBy::Field(name) => write!(f, "field:{name}"),
        }
    }
}

impl FromStr for GroupBy {
    type Err = String;

    fn from_str(text: &str) -> Result<GroupBy, String> {
        match text {
            "dir" => Ok(GroupBy::Dir),
            "host" => Ok(GroupBy::Host),
            _ => match text.strip_prefix("field:") {
                Some("") => Err("--group-by field: needs a field name (field:NAME)".to_string()),
                Some(name) => Ok(GroupBy::Field(name.to_string())),
                None => Err(format!("--group-by {text:?} is not dir, host or field:NAME")),
            },
        }
    }
}

impl GroupBy {
    /// True when the grouping can be decided for plain-text files, which carry
    /// nothing but their path.
    pub fn works_on_plain_text(&self) -> bool {
        *self == GroupBy::Dir
    }
}

/// Receives the bytes of a normalised line.
trait KeySink {
    fn push(&mut self, bytes: &[u8]);
}

impl KeySink for String {
    fn push(&mut self, bytes: &[u8]) {
        self.push_str(std::str::from_utf8(bytes).expect("normalisation emits whole characters"));
    }
}

/// FNV-1a, 64-bit: simple, byte-at-a-time, and its definition fits in a comment.
struct Fnv1a(u64);

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

impl KeySink for Fnv1a {
    fn push(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
    }
}

/// MurmurHash3's 64-bit finaliser: every input bit reaches every output bit,
/// so the table can index by the low bits of a hash whose last FNV step
/// (a multiplication) leaves them weak.
fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

/// Feeds the normalised form of `line` to `sink`; returns its length in characters.
///
/// Letters are lowercased, each run of digits becomes one `0` (unless
/// [`folds_digits`] says the line keeps its digits), zero-width
/// characters vanish, and everything else (spaces, punctuation, symbols)
/// separates words: one space between two words, none at the edges. ASCII
/// takes no Unicode table lookups.
fn normalize_into<S: KeySink>(line: &str, sink: &mut S) -> usize {
    let fold_digits = folds_digits(line);
    let mut chars = 0;
    let mut pending_space = false;
    let mut in_digits = false;
    let mut buffer = [0u8; 4];
    let word_char = |sink: &mut S, bytes: &[u8], pending_space: &mut bool, chars: &mut usize| {
        if *pending_space {
            sink.push(b" ");
            *chars += 1;
            *pending_space = false;
        }
        sink.push(bytes);
        *chars += 1;
    };
    for c in line.chars() {
        let Some(class) = classify(c) else {
            continue;
        };
        match class {
            CharClass::Letter => {
                in_digits = false;
                if c.is_ascii() {
                    word_char(sink, &[c.to_ascii_lowercase() as u8], &mut pending_space, &mut chars);
                } else {
                    // `İ` lowercases to `i` and a combining dot; keeping only the
                    // letters makes normalising a normalised line change nothing.
                    for lower in c.to_lowercase().filter(|&l| classify(l) == Some(CharClass::Letter)) {
                        word_char(
                            sink,
                            lower.encode_utf8(&mut buffer).as_bytes(),
                            &mut pending_space,
                            &mut chars,
                        );
                    }
                }
            }
            CharClass::Digit if !fold_digits => {
                in_digits = true;
                word_char(
                    sink,
                    c.encode_utf8(&mut buffer).as_bytes(),
                    &mut pending_space,
                    &mut chars,
                );
            }
            CharClass::Digit if in_digits => {}
            CharClass::Digit => {
                in_digits = true;
                word_char(sink, b"0", &mut pending_space, &mut chars);
            }
            CharClass::Separator => {
                in_digits = false;
                pending_space = chars > 0;
            }
        }
    }
    chars
}

/// Lines of more words than this keep their digits when normalised.
const FOLD_MAX_WORDS: usize = 12;

/// Whether a line's digit runs fold to one `0`. A footer's year or a share
/// count changes from page to page and should not make its line another;
/// but a sentence's numbers, or an expression's ("5 % 2 = 1"), are what the
/// line says, and folding them made a tutorial's lines copies of other
/// pages' lines. So a line with an operator between digits or spaces, or of
/// more than [`FOLD_MAX_WORDS`] words, keeps its digits.
fn folds_digits(line: &str) -> bool {
    let bytes = line.as_bytes();
    let operand = |b: Option<&u8>| b.is_none_or(|b| b.is_ascii_digit() || *b == b' ');
    let operator = bytes.iter().enumerate().any(|(i, b)| {
        matches!(b, b'=' | b'+' | b'*' | b'%' | b'<' | b'>' | b'^')
            && operand(i.checked_sub(1).and_then(|j| bytes.get(j)))
            && operand(bytes.get(i + 1))
    });
    !operator && line.split_whitespace().nth(FOLD_MAX_WORDS).is_none()
}

/// What a character is to the normalisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CharClass {
    /// Alphabetic and not numeric: kept, lowercased.
    Letter,
    /// Numeric (`\p{N}`): a run of them becomes one `0`.
    Digit,
    /// Anything else: separates words.
    Separator,
}

/// The class of `c`; `None` for a zero-width character, which is skipped as
/// if absent (as the rules' match key does). ASCII needs no table lookup.
fn classify(c: char) -> Option<CharClass> {
    Some(if c.is_ascii() {
        if c.is_ascii_alphabetic() {
            CharClass::Letter
        } else if c.is_ascii_digit() {
            CharClass::Digit
        } else {
            CharClass::Separator
        }
    } else if fold::is_zero_width(c) {
        return None;
    } else if c.is_numeric() {
        CharClass::Digit
    } else if c.is_alphabetic() {
        CharClass::Letter
    } else {
        CharClass::Separator
    })
}

/// A regex class matching exactly the characters [`classify`] calls
/// separators (zero-width characters aside, which the rules' match key drops).
const CLASS_SEPARATOR: &str = r"[^\p{Alphabetic}\p{N}]";

/// A regex for the whole line that matches every line with the same
/// normalised form: any case, any digits where digits stand, any run of
/// punctuation, symbols or spaces where they stand. Written from the line
/// itself, so it needs no escaping beyond the letters' own.
pub fn tolerant_pattern(line: &str) -> String {
    #[derive(PartialEq, Clone, Copy)]
    enum Last {
        Start,
        Letter,
        Digit,
        Gap,
    }
    let mut out = format!("{CLASS_SEPARATOR}*");
    let mut last = Last::Start;
    for c in line.chars() {
        let Some(class) = classify(c) else {
            continue;
        };
        let is_digit = class == CharClass::Digit;
        if class == CharClass::Separator {
            if last != Last::Start {
                last = Last::Gap;
            }
            continue;
        }
        if is_digit && last == Last::Digit {
            continue;
        }
        if last == Last::Gap {
            out.push_str(CLASS_SEPARATOR);
            out.push('+');
        }
        if is_digit {
            out.push_str(r"\p{N}+");
            last = Last::Digit;
        } else {
            out.push_str(&regex_syntax::escape(c.encode_utf8(&mut [0; 4])));
            last = Last::Letter;
        }
    }
    out.push_str(CLASS_SEPARATOR);
    out.push('*');
    out
}

/// The normalised form of a line: the text whose hash corpus mode counts.
///
/// ```
/// use dechaff_engine::corpus::normalize;
/// assert_eq!(normalize("  © 2012 Example.com — All Rights Reserved. "), "0 example com all rights reserved");
/// ```
pub fn normalize(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    normalize_into(line, &mut out);
    out
}

/// A line's identity for corpus mode: the hash of its normalised form, and
/// that form's length in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineKey {
    /// [`HASH_NAME`] of the normalised line's UTF-8 bytes.
    pub hash: u64,
    /// Characters in the normalised line.
    pub chars: usize,
}

/// The key of `line`, computed without building the normalised text.
pub fn line_key(line: &str) -> LineKey {
    let mut hasher = Fnv1a(FNV_OFFSET);
    let chars = normalize_into(line, &mut hasher);
    LineKey {
        hash: fmix64(hasher.0),
        chars,
    }
}

/// The 64-bit hash of a line's normalised form ([`HASH_NAME`]).
pub fn line_hash(line: &str) -> u64 {
    line_key(line).hash
}

/// One group of documents, identified by the hash of its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupKey(u64);

impl GroupKey {
    /// The key of the group named `name` (the run layer names a document's group).
    pub fn of(name: &str) -> GroupKey {
        let mut hasher = Fnv1a(FNV_OFFSET);
        hasher.push(name.as_bytes());
        GroupKey(fmix64(hasher.0 ^ 0x67_726f_7570)) // "group": apart from line hashes
    }

    /// The table key of a line within this group: what [`CorpusCounts::counts`]
    /// gives and [`CorpusCounts::count_of`] looks up.
    pub fn line(self, line_hash: u64) -> u64 {
        fmix64(line_hash ^ self.0)
    }
}

/// The table's keys are already well-mixed hashes; hashing them again would
/// only cost time.
#[derive(Default)]
pub(crate) struct PrehashedKey(u64);

impl Hasher for PrehashedKey {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are stored; this keeps any other use correct.
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(FNV_PRIME);
        }
    }

    fn write_u64(&mut self, key: u64) {
        self.0 = key;
    }
}

type CountTable = HashMap<u64, u32, BuildHasherDefault<PrehashedKey>>;

/// Shards of the count table; a power of two.
const SHARDS: usize = 64;

/// The shard of a table key. It uses middle bits: the table indexes by the
/// low bits and tags slots with the top seven, which must stay varied within
/// a shard.
fn shard_of(key: u64) -> usize {
    ((key >> 32) as usize) & (SHARDS - 1)
}

/// Bytes a count table spends per slot: the key, the count, padding, and
/// one control byte.
const SLOT_BYTES: usize = std::mem::size_of::<(u64, u32)>() + 1;

/// The distinct table keys of a document's lines, sorted by shard then key:
/// each line split at `\n`, normalised, those shorter than `min_chars` left out.
fn document_keys(min_chars: usize, group: GroupKey, text: &str, keys: &mut Vec<u64>) {
    keys.clear();
    for line in text.split('\n') {
        let key = line_key(line);
        if key.chars >= min_chars && key.chars > 0 {
            keys.push(group.line(key.hash));
        }
    }
    keys.sort_unstable_by_key(|&key| (shard_of(key), key));
    keys.dedup();
}

/// Counts, per group, how many documents hold each line. Shared by the
/// workers of the first pass (`&self`); the result does not depend on the
/// order in which documents are added.
#[derive(Debug)]
pub struct CorpusCounter {
    min_chars: usize,
    shards: Vec<Mutex<CountTable>>,
    documents: Mutex<HashMap<GroupKey, u32>>,
}

impl CorpusCounter {
    /// An empty counter that ignores lines shorter than `min_chars` normalised characters.
    pub fn new(min_chars: usize) -> CorpusCounter {
        CorpusCounter {
            min_chars,
            shards: (0..SHARDS).map(|_| Mutex::new(CountTable::default())).collect(),
            documents: Mutex::new(HashMap::new()),
        }
    }

    /// Adds one document of `group`: each distinct line counts once, however
    /// many copies the document has. `keys` is a buffer the caller keeps
    /// between calls, so that a worker allocates nothing per document.
    pub fn add_document(&self, group: GroupKey, text: &str, keys: &mut Vec<u64>) {
        document_keys(self.min_chars, group, text, keys);
        for run in keys.chunk_by(|a, b| shard_of(*a) == shard_of(*b)) {
            let mut shard = self.shards[shard_of(run[0])].lock().unwrap_or_else(|e| e.into_inner());
            for &key in run {
                let count = shard.entry(key).or_insert(0);
                *count = count.saturating_add(1);
            }
        }
        let mut documents = self.documents.lock().unwrap_or_else(|e| e.into_inner());
        let count = documents.entry(group).or_insert(0);
        *count = count.saturating_add(1);
    }

    /// The finished counts.
    pub fn finish(self) -> CorpusCounts {
        CorpusCounts {
            min_chars: self.min_chars,
            shards: self
                .shards
                .into_iter()
                .map(|s| s.into_inner().unwrap_or_else(|e| e.into_inner()))
                .collect(),
            documents: self.documents.into_inner().unwrap_or_else(|e| e.into_inner()),
        }
    }
}

/// Document counts per group and line: read by the cleaner, merged with
/// counts made elsewhere, stored as bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct CorpusCounts {
    min_chars: usize,
    shards: Vec<CountTable>,
    documents: HashMap<GroupKey, u32>,
}

impl CorpusCounts {
    /// Adds one document of `group`, as [`CorpusCounter::add_document`] does,
    /// for a caller that holds the counts alone.
    pub fn add_document(&mut self, group: GroupKey, text: &str, keys: &mut Vec<u64>) {
        document_keys(self.min_chars, group, text, keys);
        for &key in keys.iter() {
            let count = self.shards[shard_of(key)].entry(key).or_insert(0);
            *count = count.saturating_add(1);
        }
        let count = self.documents.entry(group).or_insert(0);
        *count = count.saturating_add(1);
    }

    /// How many documents of `group` hold `line` (after normalisation); 0
    /// for a line that is too short to count or was never seen.
    pub fn recurrence(&self, group: GroupKey, line: &str) -> u32 {
        let key = line_key(line);
        if key.chars < self.min_chars || key.chars == 0 {
            return 0;
        }
        self.count_of(group, key.hash)
    }

    /// The count of a line by its hash ([`line_hash`]); no length check.
    pub fn count_of(&self, group: GroupKey, line_hash: u64) -> u32 {
        let key = group.line(line_hash);
        self.shards[shard_of(key)].get(&key).copied().unwrap_or(0)
    }

    /// Documents counted in `group`.
    pub fn documents(&self, group: GroupKey) -> u32 {
        self.documents.get(&group).copied().unwrap_or(0)
    }

    /// Every (group, line) key counted ([`GroupKey::line`]) with its document count.
    pub fn counts(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.shards
            .iter()
            .flat_map(|shard| shard.iter().map(|(&key, &count)| (key, count)))
    }

    /// Distinct (group, line) pairs counted.
    pub fn distinct_lines(&self) -> usize {
        self.shards.iter().map(HashMap::len).sum()
    }

    /// Bytes the count table holds on the heap: its slots (key, count,
    /// padding, control byte), whether in use or free.
    pub fn table_bytes(&self) -> usize {
        self.shards.iter().map(|s| s.capacity() * SLOT_BYTES).sum()
    }

    /// The evidence for documents of `group`; `None` (a document without a
    /// group) gives an evidence that knows of no recurrence.
    pub fn evidence(&self, group: Option<GroupKey>) -> GroupEvidence<'_> {
        GroupEvidence { counts: self, group }
    }
}

/// What the corpus says about the lines of one document: the counts of its group.
#[derive(Debug, Clone, Copy)]
pub struct GroupEvidence<'a> {
    counts: &'a CorpusCounts,
    group: Option<GroupKey>,
}

impl LineEvidence for GroupEvidence<'_> {
    fn recurrence(&self, line: &str) -> u32 {
        match self.group {
            Some(group) => self.counts.recurrence(group, line),
            None => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tutorial's "5 % 2 = 1" was one line with every other page's
    /// "3 % 4 = 7" once its digits were folded, and corpus mode removed it.
    #[test]
    fn expressions_and_sentences_keep_their_digits_and_footers_do_not() {
        assert_ne!(normalize("5 % 2 = 1"), normalize("3 % 4 = 7"));
        assert_eq!(normalize("x = 10"), "x 10");
        let long = "The council said on 3 May that 1200 homes had been flooded and 40 roads closed in the north.";
        assert_eq!(normalize(long), normalize(long));
        assert_ne!(normalize(long), normalize(&long.replace("1200", "900")));
        // Short lines with counts and years still fold: footers and share counts.
        assert_eq!(normalize("© 2012 Example Inc."), normalize("© 2013 Example Inc."));
        assert_eq!(normalize("Comments (12)"), normalize("Comments (3)"));
        assert_eq!(normalize("Google+ 12"), "google 0");
    }

    #[test]
    fn normalisation_folds_case_digits_punctuation_and_spaces() {
        assert_eq!(normalize("Share This!"), "share this");
        assert_eq!(normalize("  SHARE\u{a0}\u{a0}this:  "), "share this");
        assert_eq!(normalize("Copyright © 2012-2013 Foo, Inc."), "copyright 0 0 foo inc");
        assert_eq!(normalize("Page 12 of 345"), "page 0 of 0");
        assert_eq!(normalize("Share\u{200b}This"), "sharethis");
        assert_eq!(normalize("ÉTÉ à Paris"), "été à paris");
        assert_eq!(normalize("Москва, 2012"), "москва 0");
        assert_eq!(normalize("١٢٣ خبر"), "0 خبر");
        assert_eq!(normalize("1st—2nd"), "0st 0nd");
        assert_eq!(normalize("--- | ---"), "");
        assert_eq!(normalize(""), "");
    }

    #[test]
    fn the_key_hashes_the_normalised_text_and_counts_its_characters() {
        for line in ["Share This!", "ÉTÉ à Paris", "Москва, 2012", "", "İstanbul"] {
            let normalized = normalize(line);
            let key = line_key(line);
            assert_eq!(key.chars, normalized.chars().count(), "{line:?}");
            assert_eq!(key.hash, line_key(&normalized).hash, "{line:?}");
        }
        assert_eq!(line_hash("Share This"), line_hash("share   this."));
        assert_ne!(line_hash("share this"), line_hash("sharethis"));
    }

    /// The hash is part of the tool's contract (counts, induced packs and
    /// fingerprints depend on it): a change must be deliberate, with
    /// [`NORMALIZATION_VERSION`] bumped.
    #[test]
    fn hash_values_are_pinned() {
        // Computed independently from the definition (FNV-1a 64 of the
        // normalised UTF-8, then fmix64), not copied from this implementation.
        assert_eq!(line_hash(""), 0xefd0_1f60_ba99_2926);
        assert_eq!(line_hash("Share This"), 0xa314_2488_3d65_6c20);
        assert_eq!(
            line_hash("© 2012 Example.com — All Rights Reserved."),
            0x56bf_3017_297e_25ca
        );
        assert_eq!(line_hash("Москва"), 0xf146_f5c1_4c45_7295);
    }

    #[test]
    fn counts_documents_not_copies_and_keeps_groups_apart() {
        let counter = CorpusCounter::new(3);
        let (a, b) = (GroupKey::of("site-a"), GroupKey::of("site-b"));
        let mut keys = Vec::new();
        counter.add_document(a, "Menu\nBody one.\nMenu\nAll rights reserved\nok", &mut keys);
        counter.add_document(a, "MENU\nBody two.\nAll Rights Reserved.\n", &mut keys);
        counter.add_document(b, "Menu\nBody three.", &mut keys);
        let counts = counter.finish();
        assert_eq!(counts.recurrence(a, "menu"), 2);
        assert_eq!(counts.recurrence(a, "all rights reserved"), 2);
        assert_eq!(counts.recurrence(b, "Menu"), 1);
        assert_eq!(counts.recurrence(a, "Body one."), 1);
        // Shorter than min_chars: never counted.
        assert_eq!(counts.recurrence(a, "ok"), 0);
        assert_eq!(counts.documents(a), 2);
        assert_eq!(counts.documents(b), 1);
        assert_eq!(counts.documents(GroupKey::of("site-c")), 0);
        assert!(counts.table_bytes() >= counts.distinct_lines() * SLOT_BYTES);
    }

    #[test]
    fn group_by_parses_and_groups() {
        assert_eq!("dir".parse::<GroupBy>(), Ok(GroupBy::Dir));
        assert_eq!("host".parse::<GroupBy>(), Ok(GroupBy::Host));
        assert_eq!("field:site".parse::<GroupBy>(), Ok(GroupBy::Field("site".into())));
        assert!("field:".parse::<GroupBy>().is_err());
        assert!("domain".parse::<GroupBy>().is_err());
        assert_eq!(GroupBy::Field("site".into()).to_string(), "field:site");

        // How documents are grouped: tests/it/corpus_mode.rs, on JSONL records.
    }

    #[test]
    fn settings_are_validated() {
        assert_eq!(CorpusSettings::default().validate(), Ok(()));
        let bad = |change: fn(&mut CorpusSettings)| {
            let mut settings = CorpusSettings::default();
            change(&mut settings);
            settings.validate().unwrap_err()
        };
        assert!(bad(|s| s.min_docs = 1).starts_with("min-docs 1 is below 2"));
        assert!(bad(|s| s.min_chars = 0).starts_with("min-chars 0"));
        assert!(bad(|s| s.max_doc_share = 0.0).starts_with("max-doc-share 0"));
        assert!(bad(|s| s.max_doc_share = f64::NAN).starts_with("max-doc-share NaN"));
    }

    #[test]
    fn the_pattern_is_as_tolerant_as_the_normalisation() {
        let pattern = tolerant_pattern("© 2012 Example.com — All rights reserved.");
        let regex = regex_automata::meta::Regex::new(&format!("(?i)^(?:{pattern})$")).unwrap();
        for line in [
            "© 2012 Example.com — All rights reserved.",
            "© 2013 EXAMPLE.COM | all rights reserved",
            "2013 Example com All Rights Reserved",
        ] {
            assert!(regex.is_match(line), "{line:?} / {pattern}");
            assert_eq!(normalize(line), normalize("© 2012 Example.com — All rights reserved."));
        }
        for line in [
            "2013 Example com All Rights",
            "Example.com — All rights reserved. Really.",
        ] {
            assert!(!regex.is_match(line), "{line:?}");
        }
    }
}
