//! Stop-word lists, one per language, compiled into the binary.
//!
//! A line of prose is mostly function words ("the", "of", "und", "que");
//! a menu, a headline list or a footer is mostly content words and names.
//! The share of stop words in a line is the strongest single sign jusText
//! uses, and it needs a list in the page's language: one list per language,
//! looked up through one table from word to a bit set of languages, so a word
//! costs one lookup whatever the number of lists.
//!
//! The classifier looks up every word of every line it judges, so the table
//! is built for that one job. No listed word is longer than 15 bytes, so a
//! word is lowercased straight into a `u128` (zero-padded, its length in the
//! top byte) and needs no `String`; a longer word is no stop word and costs
//! no lookup. The table is open addressing with linear probing over a
//! power-of-two array, indexed by a multiplicative hash of the key, with a
//! tag byte per slot: a probe compares a byte, then one integer.
//! It replaced a `HashMap<&str, u32>` with FNV, looked up after lowercasing
//! into a `String`, which was about a tenth of a default run's time.

/// `(language code, list)`: one lowercase word per line.
pub(crate) const LISTS: &[(&str, &str)] = &[
    ("en", include_str!("../../../../rules/stopwords/en.txt")),
    ("de", include_str!("../../../../rules/stopwords/de.txt")),
    ("fr", include_str!("../../../../rules/stopwords/fr.txt")),
    ("es", include_str!("../../../../rules/stopwords/es.txt")),
    ("it", include_str!("../../../../rules/stopwords/it.txt")),
    ("pt", include_str!("../../../../rules/stopwords/pt.txt")),
    ("nl", include_str!("../../../../rules/stopwords/nl.txt")),
    ("ru", include_str!("../../../../rules/stopwords/ru.txt")),
    ("ar", include_str!("../../../../rules/stopwords/ar.txt")),
    ("pl", include_str!("../../../../rules/stopwords/pl.txt")),
    ("sv", include_str!("../../../../rules/stopwords/sv.txt")),
    ("tr", include_str!("../../../../rules/stopwords/tr.txt")),
    ("id", include_str!("../../../../rules/stopwords/id.txt")),
    ("cs", include_str!("../../../../rules/stopwords/cs.txt")),
    ("ro", include_str!("../../../../rules/stopwords/ro.txt")),
    ("da", include_str!("../../../../rules/stopwords/da.txt")),
];

/// The longest word the table can hold, in bytes (UTF-8, lowercased); the
/// longest listed word has 12.
const PACKED_BYTES: usize = 15;

/// A word lowercased and packed into the low 15 bytes of a `u128`
/// (little-endian, zero-padded), its length in the top byte: the table's
/// key. The length keeps a word and the same word followed by zero bytes
/// apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PackedWord(u128);

/// Each byte of a `u128` set to `b`.
const fn bytes_of(b: u8) -> u128 {
    u128::from_ne_bytes([b; 16])
}

impl PackedWord {
    /// The empty slot's key: the empty word's, which is never looked up.
    const EMPTY: PackedWord = PackedWord(0);

    /// `word` (ASCII) lowercased and packed; `None` when it is longer than
    /// [`PACKED_BYTES`].
    #[inline]
    fn ascii(word: &[u8]) -> Option<PackedWord> {
        if word.len() > PACKED_BYTES {
            return None;
        }
        let bytes = load(word);
        // ASCII lowercasing of every byte at once: a byte gets 0x20 when it
        // is at least 'A' and not above 'Z'. No byte is over 0x7f, so the
        // additions carry into no neighbour.
        let at_least_a = bytes + bytes_of(0x80 - b'A');
        let above_z = bytes + bytes_of(0x80 - b'Z' - 1);
        let upper = at_least_a & !above_z & bytes_of(0x80);
        Some(PackedWord::of(bytes | (upper >> 2), word.len()))
    }

    /// `word` lowercased character by character (`char::to_lowercase`, as
    /// the lists are written; `lower` for the characters below U+0800) and
    /// packed; `None` when the lowercase form is longer than [`PACKED_BYTES`].
    #[inline]
    fn any(word: &str, lower: &[u16; LOWER_TABLE]) -> Option<PackedWord> {
        if word.is_ascii() {
            return PackedWord::ascii(word.as_bytes());
        }
        let mut bytes = 0u128;
        let mut len = 0;
        let mut push = |c: char| {
            let mut utf8 = [0u8; 4];
            let width = c.len_utf8();
            if len + width > PACKED_BYTES {
                return false;
            }
            c.encode_utf8(&mut utf8);
            bytes |= u128::from(u32::from_le_bytes(utf8)) << (8 * len);
            len += width;
            true
        };
        for c in word.chars() {
            let known = lower.get(c as usize).copied().filter(|&l| l != NOT_SIMPLE);
            let fits = match known.and_then(|l| char::from_u32(u32::from(l))) {
                Some(l) => push(l),
                None => c.to_lowercase().all(&mut push),
            };
            if !fits {
                return None;
            }
        }
        Some(PackedWord::of(bytes, len))
    }

    /// `word` packed as it is, for the lists, which are lowercase already.
    fn exact(word: &str) -> Option<PackedWord> {
        (word.len() <= PACKED_BYTES).then(|| PackedWord::of(load(word.as_bytes()), word.len()))
    }

    /// The key of a word of `len` bytes whose bytes are `bytes`.
    #[inline]
    fn of(bytes: u128, len: usize) -> PackedWord {
        PackedWord(bytes | (len as u128) << 120)
    }

    /// Where the word's probe starts in a table of `1 << bits` slots, and
    /// its tag: a multiplicative hash, whose top bits depend on every bit of
    /// both halves; the slot is its top `bits` bits, the tag the seven below
    /// them with the high bit set (a free slot's tag is 0).
    #[inline]
    fn slot_and_tag(self, bits: u32) -> (usize, u8) {
        let (lo, hi) = (self.0 as u64, (self.0 >> 64) as u64);
        let h = (lo ^ hi.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(29)).wrapping_mul(0xff51_afd7_ed55_8ccd);
        ((h >> (64 - bits)) as usize, (h >> (64 - bits - 7)) as u8 | 0x80)
    }
}

/// The bytes of `word` (at most 16) as a little-endian `u128`, zero-padded.
/// Two overlapping loads of 8, 4 or 1 bytes cover any length without a
/// loop, and without writing the word to memory first: copying it into a
/// zeroed array and reading that back as one number stalled on every word
/// (the store cannot be forwarded to the wider load).
#[inline]
fn load(word: &[u8]) -> u128 {
    let n = word.len();
    debug_assert!(n <= 16);
    let le8 = |at: usize| u128::from(u64::from_le_bytes(word[at..at + 8].try_into().expect("eight bytes")));
    let le4 = |at: usize| u128::from(u32::from_le_bytes(word[at..at + 4].try_into().expect("four bytes")));
    // The overlapping bytes are the same bytes, so OR-ing the halves is exact.
    match n {
        8.. => le8(0) | le8(n - 8) << (8 * (n - 8)),
        4.. => le4(0) | le4(n - 4) << (8 * (n - 4)),
        1.. => {
            u128::from(word[0]) | u128::from(word[n / 2]) << (8 * (n / 2)) | u128::from(word[n - 1]) << (8 * (n - 1))
        }
        0 => 0,
    }
}

/// The characters below U+0800 (Latin, Greek, Cyrillic, Armenian, Hebrew,
/// Arabic: every non-ASCII list) get their lowercase from a table:
/// `char::to_lowercase` searches Unicode's table for each character, and
/// the words of a page in one of those scripts were a few per cent of a run.
const LOWER_TABLE: usize = 0x800;

/// In the lowercase table, a character whose lowercase is not one
/// character below U+0800 (it takes `char::to_lowercase`).
const NOT_SIMPLE: u16 = u16::MAX;

fn lower_table() -> Box<[u16; LOWER_TABLE]> {
    let mut table = Box::new([NOT_SIMPLE; LOWER_TABLE]);
    for (code, slot) in table.iter_mut().enumerate() {
        let Some(c) = char::from_u32(code as u32) else {
            continue;
        };
        let mut lower = c.to_lowercase();
        if let (Some(l), None) = (lower.next(), lower.next()) {
            if (l as usize) < LOWER_TABLE {
                *slot = l as u16;
            }
        }
    }
    table
}

/// Every stop word of every language, with the languages it belongs to as
/// bits (bit `i` for `LISTS[i]`).
pub(crate) struct StopWords {
    /// Per slot, the tag of its word's hash, 0 when free. A look-up reads
    /// the tags (4 KiB, which stay in the L1 cache) and a word only where
    /// the tags agree: most words of a page are no stop words, and reading
    /// a 16-byte key for each missed the cache often enough to show.
    tags: Vec<u8>,
    /// The words, [`PackedWord::EMPTY`] in a free slot.
    keys: Vec<PackedWord>,
    /// The languages of the word in the same slot.
    languages: Vec<u32>,
    /// `keys.len() == 1 << bits`.
    bits: u32,
    /// The lowercase of each character below U+0800, or [`NOT_SIMPLE`].
    lower: Box<[u16; LOWER_TABLE]>,
}

/// The sizes, not the 4,096 slots and 2,048 lowercase entries.
impl std::fmt::Debug for StopWords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StopWords")
            .field("words", &self.tags.iter().filter(|&&t| t != 0).count())
            .field("slots", &self.tags.len())
            .finish()
    }
}

impl StopWords {
    /// The table of the shipped lists.
    pub(crate) fn new() -> StopWords {
        StopWords::from_lists(LISTS)
    }

    /// The table of `lists` (`(code, words)`, as [`LISTS`]); the tests build
    /// small ones.
    pub(crate) fn from_lists(lists: &[(&str, &str)]) -> StopWords {
        let words: Vec<(PackedWord, usize)> = lists
            .iter()
            .enumerate()
            .flat_map(|(bit, (_, list))| {
                list.lines()
                    .map(str::trim)
                    .filter(|w| !w.is_empty())
                    .map(move |w| (w, bit))
            })
            .map(|(word, bit)| {
                let packed = PackedWord::exact(word)
                    .unwrap_or_else(|| panic!("stop word {word:?} is over {PACKED_BYTES} bytes"));
                (packed, bit)
            })
            .collect();
        // At most half full: a word that is no stop word, the common case,
        // then meets a free slot within a probe or two (4,096 slots for
        // the shipped lists' 1,142 words).
        let bits = (words.len().max(1) * 2).next_power_of_two().trailing_zeros();
        let mut table = StopWords {
            tags: vec![0; 1 << bits],
            keys: vec![PackedWord::EMPTY; 1 << bits],
            languages: vec![0; 1 << bits],
            bits,
            lower: lower_table(),
        };
        let mask = table.keys.len() - 1;
        for (word, bit) in words {
            let (mut slot, tag) = word.slot_and_tag(bits);
            while table.tags[slot] != 0 && table.keys[slot] != word {
                slot = (slot + 1) & mask;
            }
            table.tags[slot] = tag;
            table.keys[slot] = word;
            table.languages[slot] |= 1 << bit;
        }
        table
    }

    #[inline]
    fn find(&self, word: PackedWord) -> u32 {
        let mask = self.keys.len() - 1;
        let (mut slot, tag) = word.slot_and_tag(self.bits);
        loop {
            match self.tags[slot] {
                0 => return 0,
                t if t == tag && self.keys[slot] == word => return self.languages[slot],
                _ => slot = (slot + 1) & mask,
            }
        }
    }

    /// The languages `word` is a stop word of, as bits, after lowercasing it.
    #[inline]
    pub(crate) fn languages(&self, word: &str) -> u32 {
        PackedWord::any(word, &self.lower).map_or(0, |w| self.find(w))
    }

    /// [`StopWords::languages`] for a word of ASCII bytes.
    #[inline]
    pub(crate) fn ascii_languages(&self, word: &[u8]) -> u32 {
        PackedWord::ascii(word).map_or(0, |w| self.find(w))
    }

    /// The language code of bit `bit`.
    #[cfg(test)]
    pub(crate) fn code(bit: usize) -> &'static str {
        LISTS[bit].0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_lowercase_single_words_without_duplicates() {
        assert!(LISTS.len() >= 15, "at least 15 languages");
        for (code, list) in LISTS {
            let words: Vec<&str> = list.lines().collect();
            assert!(words.len() >= 50, "{code}: {} words, want at least 50", words.len());
            let mut seen = std::collections::HashSet::new();
            for word in &words {
                assert!(
                    !word.is_empty() && !word.contains(char::is_whitespace),
                    "{code}: {word:?}"
                );
                assert_eq!(*word, word.to_lowercase(), "{code}: {word:?} is not lowercase");
                assert!(seen.insert(word), "{code}: {word:?} twice");
            }
        }
    }

    #[test]
    fn a_word_knows_its_languages() {
        let stop = StopWords::new();
        let en = 1 << LISTS.iter().position(|(c, _)| *c == "en").unwrap();
        let de = 1 << LISTS.iter().position(|(c, _)| *c == "de").unwrap();
        assert_eq!(stop.languages("the") & en, en);
        assert_eq!(stop.languages("und") & de, de);
        assert_eq!(stop.languages("und") & en, 0);
        assert_eq!(stop.languages("parliament"), 0);
    }

    /// The map the table replaced: every listed word as written, looked up
    /// after lowercasing with `char::to_lowercase`.
    fn reference_languages(lists: &[(&str, &str)], word: &str) -> u32 {
        let key: String = word.chars().flat_map(char::to_lowercase).collect();
        let mut bits = 0;
        for (bit, (_, list)) in lists.iter().enumerate() {
            if list.lines().map(str::trim).any(|w| w == key) {
                bits |= 1 << bit;
            }
        }
        bits
    }

    /// Every listed word, in lower, upper and title case, and near misses
    /// (a letter more, a letter less, the last letter changed, padded with
    /// a zero byte, repeated past 16 bytes) get the languages the old
    /// `HashMap` gave them.
    #[test]
    fn the_table_agrees_with_the_lists_on_every_word_and_its_near_misses() {
        let stop = StopWords::new();
        let mut reference: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
        for (bit, (_, list)) in LISTS.iter().enumerate() {
            for word in list.lines().map(str::trim).filter(|w| !w.is_empty()) {
                *reference.entry(word.to_string()).or_insert(0) |= 1 << bit;
            }
        }
        let lookup = |word: &str| {
            let key: String = word.chars().flat_map(char::to_lowercase).collect();
            reference.get(&key).copied().unwrap_or(0)
        };
        let mut checked = 0;
        for word in reference.keys() {
            let mut title = word.chars();
            let title: String = title
                .next()
                .into_iter()
                .flat_map(char::to_uppercase)
                .chain(title)
                .collect();
            let mut shorter = word.clone();
            shorter.pop();
            let mut changed = shorter.clone();
            changed.push(if word.ends_with('q') { 'z' } else { 'q' });
            let variants = [
                word.clone(),
                word.to_uppercase(),
                title,
                format!("{word}s"),
                format!("x{word}"),
                shorter,
                changed,
                format!("{word}\0"),
                word.repeat(17 / word.len().max(1) + 1),
            ];
            for variant in &variants {
                assert_eq!(stop.languages(variant), lookup(variant), "{variant:?}");
                if variant.is_ascii() {
                    assert_eq!(stop.ascii_languages(variant.as_bytes()), lookup(variant), "{variant:?}");
                }
                checked += 1;
            }
            assert_ne!(stop.languages(word), 0, "{word:?}");
        }
        assert!(checked > 9_000, "{checked}");
        for word in ["", "\0", "parliament", "ÜBER", "İ", "ΣΊΣΥΦΟΣ", "abcdefghijklmnopq"] {
            assert_eq!(stop.languages(word), lookup(word), "{word:?}");
        }
    }

    #[test]
    fn a_small_table_knows_its_own_lists() {
        let lists = [("aa", "one\ntwo\nüber\n"), ("bb", "two\nthree\n")];
        let stop = StopWords::from_lists(&lists);
        for word in ["one", "Two", "THREE", "Über", "four", "tw", "twoo", ""] {
            assert_eq!(stop.languages(word), reference_languages(&lists, word), "{word:?}");
        }
        assert_eq!(stop.languages("two"), 0b11);
    }

    /// The key as the plain way builds it: lowercase with
    /// `char::to_lowercase`, copy into a zeroed array, length last.
    fn plain_key(word: &str) -> Option<PackedWord> {
        let lower: String = word.chars().flat_map(char::to_lowercase).collect();
        let mut bytes = [0u8; 16];
        bytes
            .get_mut(..lower.len())
            .filter(|_| lower.len() <= PACKED_BYTES)?
            .copy_from_slice(lower.as_bytes());
        bytes[15] = lower.len() as u8;
        Some(PackedWord(u128::from_le_bytes(bytes)))
    }

    #[test]
    fn packing_agrees_with_lowercasing_and_copying() {
        let lower = lower_table();
        // Every ASCII byte at every position and length: the loads and the
        // all-bytes-at-once lowercasing.
        for b in 1..=127u8 {
            for len in 1..=16 {
                for at in 0..len {
                    let mut word = vec![b'x'; len];
                    word[at] = b;
                    word[len - 1 - at] = b.wrapping_add(len as u8) & 0x7f | 1;
                    let word = String::from_utf8(word).unwrap();
                    assert_eq!(PackedWord::ascii(word.as_bytes()), plain_key(&word), "{word:?}");
                    assert_eq!(PackedWord::any(&word, &lower), plain_key(&word), "{word:?}");
                }
            }
        }
        // Every character below U+0800 and a sample above it, alone and in
        // words, including those whose lowercase is longer or shorter.
        let above = ['İ', 'ẞ', 'Ω', 'K', 'Å', 'Σ', 'ǅ', 'ﬁ', 'Ａ', '日', '😀', '\u{10400}'];
        let chars = (0..0x800u32).filter_map(char::from_u32).chain(above);
        for c in chars {
            for word in [
                c.to_string(),
                format!("{c}a"),
                format!("ab{c}{c}"),
                format!("{c}{c}{c}{c}{c}{c}"),
            ] {
                assert_eq!(PackedWord::any(&word, &lower), plain_key(&word), "{word:?}");
            }
        }
    }
}
