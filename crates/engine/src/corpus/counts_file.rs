//! Corpus counts merged across machines and kept as bytes.
//!
//! A corpus too big for one machine is counted in shards, by separate
//! processes, and the counts are merged before any cleaning. Two decisions
//! make that safe:
//! - **Merging is a saturating sum** of each (group, line) count and each
//!   group's document count: associative and commutative, so any tree of
//!   merges, in any order, gives the counts of one pass over every document.
//! - **The bytes are canonical**: keys sorted, written as deltas, so equal
//!   counts give equal bytes, whichever merges made them. The header records
//!   what makes counts comparable (the format version, the line
//!   normalisation's version and hash, `min_chars`); counts that differ in
//!   any of them are refused, never mixed. A SHA-256 of the rest ends the
//!   bytes, so a truncated or damaged file is refused too.
//!
//! The layout, every integer an unsigned LEB128 varint:
//! ```text
//! "dechaff corpus counts\n"
//! format version, normalisation version, hash name (length, UTF-8), min_chars
//! group count, then per group in key order: key delta, documents
//! line count,  then per (group, line) key in order: key delta, documents
//! SHA-256 of everything above (32 bytes)
//! ```
//! A delta is the key minus the previous key of its list (the first: the key
//! itself). About 8 bytes per distinct line: the keys are well-mixed 64-bit
//! hashes, so a delta is a little shorter than the table's size says, and
//! most counts fit in one byte.

use std::collections::HashMap;
use std::fmt;

use sha2::{Digest, Sha256};

use super::{shard_of, CorpusCounter, CorpusCounts, CountTable, GroupKey, HASH_NAME, NORMALIZATION_VERSION, SHARDS};

const MAGIC: &[u8] = b"dechaff corpus counts\n";

/// The version of the byte layout this build writes and reads.
pub const COUNTS_FORMAT_VERSION: u64 = 1;

const CHECKSUM_BYTES: usize = 32;

/// Why counts could not be read or merged; each message names the bad value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CountsError {
    /// The bytes do not start as corpus counts do.
    NotCounts,
    /// The checksum does not match the bytes: truncated or damaged.
    Damaged,
    /// Written in a layout this build does not read.
    FormatVersion(u64),
    /// Counted with another line normalisation or hash than this build's.
    Normalization {
        /// The normalisation version the counts were made with.
        version: u64,
        /// The hash name the counts were made with.
        hash: String,
    },
    /// The two sides of a merge counted lines of different minimum lengths.
    MinChars {
        /// This side's `min_chars`.
        ours: usize,
        /// The other side's `min_chars`.
        theirs: usize,
    },
    /// The checksum matches but the contents break the layout (a bug in
    /// whatever wrote them): what is wrong.
    Malformed(String),
}

impl fmt::Display for CountsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CountsError::NotCounts => f.write_str("not dechaff corpus counts (the bytes do not start with its magic)"),
            CountsError::Damaged => f.write_str("corpus counts are truncated or damaged (checksum mismatch)"),
            CountsError::FormatVersion(v) => write!(
                f,
                "corpus counts in format version {v}; this dechaff reads version {COUNTS_FORMAT_VERSION}"
            ),
            CountsError::Normalization { version, hash } => write!(
                f,
                "corpus counts made with line normalisation {version} ({hash}); \
                 this dechaff uses {NORMALIZATION_VERSION} ({HASH_NAME}): count again"
            ),
            CountsError::MinChars { ours, theirs } => write!(
                f,
                "cannot merge counts made with min-chars {theirs} into counts made with min-chars {ours}"
            ),
            CountsError::Malformed(what) => write!(f, "malformed corpus counts: {what}"),
        }
    }
}

impl std::error::Error for CountsError {}

fn put(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Writes keys and counts sorted by key, each key as the delta from the previous one.
fn put_sorted(out: &mut Vec<u8>, mut entries: Vec<(u64, u32)>) {
    entries.sort_unstable();
    put(out, entries.len() as u64);
    let mut previous = 0;
    for (key, count) in entries {
        put(out, key - previous);
        put(out, u64::from(count));
        previous = key;
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn varint(&mut self, what: &str) -> Result<u64, CountsError> {
        let mut value = 0u64;
        for (i, &byte) in self.0.iter().enumerate().take(10) {
            let bits = u64::from(byte & 0x7f);
            if i == 9 && bits > 1 {
                break;
            }
            value |= bits << (7 * i);
            if byte & 0x80 == 0 {
                self.0 = &self.0[i + 1..];
                return Ok(value);
            }
        }
        Err(CountsError::Malformed(format!("{what}: not a varint")))
    }

    /// A count of entries that each take at least two bytes, so never more
    /// than the bytes left allow: a bad count cannot make a huge allocation.
    fn entries(&mut self, what: &str) -> Result<usize, CountsError> {
        let n = self.varint(what)?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.0.len() / 2)
            .ok_or_else(|| CountsError::Malformed(format!("{what} {n} is more than the bytes hold")))
    }

    /// Reads a sorted list written by [`put_sorted`], giving each entry to `each`.
    fn sorted(&mut self, what: &str, mut each: impl FnMut(u64, u32)) -> Result<(), CountsError> {
        let n = self.entries(what)?;
        let mut previous: Option<u64> = None;
        for _ in 0..n {
            let delta = self.varint(what)?;
            let key = match previous {
                None => Some(delta),
                Some(_) if delta == 0 => None,
                Some(p) => p.checked_add(delta),
            }
            .ok_or_else(|| CountsError::Malformed(format!("{what}: keys not strictly increasing")))?;
            let count = self.varint(what)?;
            let count = u32::try_from(count)
                .ok()
                .filter(|&c| c > 0)
                .ok_or_else(|| CountsError::Malformed(format!("{what}: a count of {count}")))?;
            each(key, count);
            previous = Some(key);
        }
        Ok(())
    }
}

impl CorpusCounts {
    /// Counts of no document, for lines of at least `min_chars` normalised characters.
    pub fn empty(min_chars: usize) -> CorpusCounts {
        CorpusCounter::new(min_chars).finish()
    }

    /// Lines shorter than this (normalised characters) were not counted.
    pub fn min_chars(&self) -> usize {
        self.min_chars
    }

    /// Groups with at least one document counted.
    pub fn group_count(&self) -> usize {
        self.documents.len()
    }

    /// Adds `other`'s counts to these: afterwards they are the counts of
    /// both sets of documents together. Any order and grouping of merges
    /// gives the same counts. Refused when the two were counted with
    /// different `min_chars`.
    pub fn merge(&mut self, other: &CorpusCounts) -> Result<(), CountsError> {
        if self.min_chars != other.min_chars {
            return Err(CountsError::MinChars {
                ours: self.min_chars,
                theirs: other.min_chars,
            });
        }
        // The shard of a key does not depend on the table, so shard i merges into shard i.
        for (ours, theirs) in self.shards.iter_mut().zip(&other.shards) {
            ours.reserve(theirs.len().saturating_sub(ours.capacity() - ours.len()));
            for (&key, &count) in theirs {
                let mine = ours.entry(key).or_insert(0);
                *mine = mine.saturating_add(count);
            }
        }
        for (&group, &count) in &other.documents {
            let mine = self.documents.entry(group).or_insert(0);
            *mine = mine.saturating_add(count);
        }
        Ok(())
    }

    /// The counts as bytes, in the versioned, canonical layout of this
    /// module: equal counts give equal bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.documents.len() * 10 + self.distinct_lines() * 9);
        out.extend_from_slice(MAGIC);
        put(&mut out, COUNTS_FORMAT_VERSION);
        put(&mut out, u64::from(NORMALIZATION_VERSION));
        put(&mut out, HASH_NAME.len() as u64);
        out.extend_from_slice(HASH_NAME.as_bytes());
        put(&mut out, self.min_chars as u64);
        put_sorted(&mut out, self.documents.iter().map(|(g, &n)| (g.0, n)).collect());
        put_sorted(&mut out, self.counts().collect());
        let checksum = Sha256::digest(&out);
        out.extend_from_slice(&checksum);
        out
    }

    /// Counts written by [`CorpusCounts::to_bytes`], by this build or any
    /// other that writes the same format and normalisation versions.
    pub fn from_bytes(bytes: &[u8]) -> Result<CorpusCounts, CountsError> {
        let Some(body) = bytes.strip_prefix(MAGIC) else {
            return Err(CountsError::NotCounts);
        };
        let Some(split) = body.len().checked_sub(CHECKSUM_BYTES) else {
            return Err(CountsError::Damaged);
        };
        let (body, checksum) = body.split_at(split);
        let mut hasher = Sha256::new();
        hasher.update(MAGIC);
        hasher.update(body);
        if hasher.finalize().as_slice() != checksum {
            return Err(CountsError::Damaged);
        }
        let mut r = Reader(body);
        let format = r.varint("format version")?;
        if format != COUNTS_FORMAT_VERSION {
            return Err(CountsError::FormatVersion(format));
        }
        let version = r.varint("normalisation version")?;
        let hash_len = r.varint("hash name")?;
        let hash = usize::try_from(hash_len)
            .ok()
            .and_then(|n| r.0.get(..n))
            .ok_or_else(|| CountsError::Malformed(format!("hash name of {hash_len} bytes")))?;
        r.0 = &r.0[hash.len()..];
        let hash = String::from_utf8_lossy(hash).into_owned();
        if version != u64::from(NORMALIZATION_VERSION) || hash != HASH_NAME {
            return Err(CountsError::Normalization { version, hash });
        }
        let min_chars = r.varint("min-chars")?;
        let min_chars = usize::try_from(min_chars)
            .ok()
            .filter(|n| (1..=100_000).contains(n))
            .ok_or_else(|| CountsError::Malformed(format!("min-chars {min_chars} is outside 1..=100000")))?;
        let mut documents = HashMap::new();
        r.sorted("groups", |key, count| {
            documents.insert(GroupKey(key), count);
        })?;
        let mut shards: Vec<CountTable> = (0..SHARDS).map(|_| CountTable::default()).collect();
        r.sorted("lines", |key, count| {
            shards[shard_of(key)].insert(key, count);
        })?;
        if !r.0.is_empty() {
            return Err(CountsError::Malformed(format!("{} bytes after the lines", r.0.len())));
        }
        Ok(CorpusCounts {
            min_chars,
            shards,
            documents,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn counted(min_chars: usize, documents: &[(&str, &str)]) -> CorpusCounts {
        let counter = CorpusCounter::new(min_chars);
        let mut keys = Vec::new();
        for (group, text) in documents {
            counter.add_document(GroupKey::of(group), text, &mut keys);
        }
        counter.finish()
    }

    const PAGES: &[(&str, &str)] = &[
        ("a", "Home | News\nFirst story.\n© 2012 A"),
        ("a", "Home | News\nSecond story.\n© 2013 A"),
        ("b", "Menu\nThird story.\nMenu"),
        ("a", "Home | News\nFourth story."),
        ("b", "Menu\nFifth story, in b."),
        ("c", ""),
    ];

    #[test]
    fn counts_round_trip_through_bytes() {
        let counts = counted(2, PAGES);
        let bytes = counts.to_bytes();
        let back = CorpusCounts::from_bytes(&bytes).unwrap();
        assert_eq!(back, counts);
        assert_eq!(back.to_bytes(), bytes);
        assert_eq!(back.recurrence(GroupKey::of("a"), "home news"), 3);
        assert_eq!(back.documents(GroupKey::of("c")), 1);
        assert_eq!(back.group_count(), 3);
        let empty = CorpusCounts::empty(5);
        assert_eq!(CorpusCounts::from_bytes(&empty.to_bytes()).unwrap(), empty);
    }

    #[test]
    fn merged_halves_equal_one_pass() {
        let mut first = counted(1, &PAGES[..2]);
        first.merge(&counted(1, &PAGES[2..])).unwrap();
        assert_eq!(first, counted(1, PAGES));
        assert_eq!(first.to_bytes(), counted(1, PAGES).to_bytes());

        // Added one by one to the counts themselves: the same again.
        let mut alone = CorpusCounts::empty(1);
        let mut keys = Vec::new();
        for (group, text) in PAGES {
            alone.add_document(GroupKey::of(group), text, &mut keys);
        }
        assert_eq!(alone, first);
    }

    #[test]
    fn damaged_truncated_and_foreign_bytes_are_refused() {
        let bytes = counted(1, PAGES).to_bytes();
        assert_eq!(CorpusCounts::from_bytes(b"not counts"), Err(CountsError::NotCounts));
        assert_eq!(
            CorpusCounts::from_bytes(&bytes[..bytes.len() - 1]),
            Err(CountsError::Damaged)
        );
        assert_eq!(CorpusCounts::from_bytes(MAGIC), Err(CountsError::Damaged));
        let mut flipped = bytes.clone();
        flipped[MAGIC.len() + 9] ^= 1;
        assert_eq!(CorpusCounts::from_bytes(&flipped), Err(CountsError::Damaged));

        // Well-formed bytes of another version: rewritten with a valid checksum.
        let resealed = |edit: &dyn Fn(&mut Vec<u8>)| {
            let mut body = bytes[..bytes.len() - CHECKSUM_BYTES].to_vec();
            edit(&mut body);
            let checksum = Sha256::digest(&body);
            body.extend_from_slice(&checksum);
            CorpusCounts::from_bytes(&body)
        };
        assert_eq!(resealed(&|b| b[MAGIC.len()] = 7), Err(CountsError::FormatVersion(7)));
        let error = resealed(&|b| b[MAGIC.len() + 1] = 9).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "corpus counts made with line normalisation 9 ({HASH_NAME}); \
                 this dechaff uses {NORMALIZATION_VERSION} ({HASH_NAME}): count again"
            )
        );
        assert!(matches!(resealed(&|b| b.push(0)), Err(CountsError::Malformed(_))));
    }

    #[test]
    fn counts_of_another_min_chars_are_not_merged() {
        let mut ours = counted(3, PAGES);
        let error = ours.merge(&counted(1, PAGES)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot merge counts made with min-chars 1 into counts made with min-chars 3"
        );
        assert_eq!(ours, counted(3, PAGES), "a refused merge changes nothing");
    }

    /// A document drawn from a few shared lines and a few of its own, in one of three groups.
    fn document() -> impl Strategy<Value = (String, String)> {
        let line = prop_oneof![
            Just("Home | News | Sport".to_string()),
            Just("© 2012 Example".to_string()),
            Just("Share this".to_string()),
            "[a-z ]{0,12}",
        ];
        (
            prop_oneof![Just("a"), Just("b"), Just("c")].prop_map(str::to_string),
            prop::collection::vec(line, 0..6).prop_map(|lines| lines.join("\n")),
        )
    }

    /// Folds `parts` into one by a tree given as a sequence of picks: each
    /// step merges two of the remaining counts, chosen by the next picks.
    fn merge_by_tree(mut parts: Vec<CorpusCounts>, picks: &[usize]) -> CorpusCounts {
        let mut picks = picks.iter().cycle();
        while parts.len() > 1 {
            let i = picks.next().unwrap() % parts.len();
            let right = parts.swap_remove(i);
            let j = picks.next().unwrap() % parts.len();
            parts[j].merge(&right).unwrap();
        }
        parts.pop().unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any split of the documents into shards, counted apart and merged
        /// in any tree, gives the bytes of one pass over all of them.
        #[test]
        fn any_tree_of_merges_gives_the_bytes_of_one_pass(
            documents in prop::collection::vec(document(), 0..24),
            shard_of_doc in prop::collection::vec(0usize..5, 24),
            picks in prop::collection::vec(0usize..100, 1..16),
        ) {
            let all: Vec<(&str, &str)> = documents.iter().map(|(g, t)| (g.as_str(), t.as_str())).collect();
            let whole = counted(1, &all).to_bytes();
            let shards: Vec<CorpusCounts> = (0..5)
                .map(|s| {
                    let mine: Vec<(&str, &str)> = all
                        .iter()
                        .zip(&shard_of_doc)
                        .filter(|(_, &k)| k == s)
                        .map(|(d, _)| *d)
                        .collect();
                    counted(1, &mine)
                })
                .collect();
            let through_bytes: Vec<CorpusCounts> =
                shards.iter().map(|c| CorpusCounts::from_bytes(&c.to_bytes()).unwrap()).collect();
            prop_assert_eq!(merge_by_tree(shards, &picks).to_bytes(), whole.clone());
            let mut reversed = picks.clone();
            reversed.reverse();
            prop_assert_eq!(merge_by_tree(through_bytes, &reversed).to_bytes(), whole);
        }
    }
}
