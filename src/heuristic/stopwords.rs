//! Stop-word lists, one per language, compiled into the binary.
//!
//! A line of prose is mostly function words ("the", "of", "und", "que");
//! a menu, a headline list or a footer is mostly content words and names.
//! The share of stop words in a line is the strongest single sign jusText
//! uses, and it needs a list in the page's language: one list per language,
//! looked up through one map from word to a bit set of languages, so a word
//! costs one lookup whatever the number of lists.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a as a `Hasher`: stop words are short and not chosen by an
/// adversary, so SipHash's protection would only cost time on every word
/// of every page.
#[derive(Default)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for &b in bytes {
            h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// `(language code, list)`: one lowercase word per line.
pub(crate) const LISTS: &[(&str, &str)] = &[
    ("en", include_str!("../../rules/stopwords/en.txt")),
    ("de", include_str!("../../rules/stopwords/de.txt")),
    ("fr", include_str!("../../rules/stopwords/fr.txt")),
    ("es", include_str!("../../rules/stopwords/es.txt")),
    ("it", include_str!("../../rules/stopwords/it.txt")),
    ("pt", include_str!("../../rules/stopwords/pt.txt")),
    ("nl", include_str!("../../rules/stopwords/nl.txt")),
    ("ru", include_str!("../../rules/stopwords/ru.txt")),
    ("ar", include_str!("../../rules/stopwords/ar.txt")),
    ("pl", include_str!("../../rules/stopwords/pl.txt")),
    ("sv", include_str!("../../rules/stopwords/sv.txt")),
    ("tr", include_str!("../../rules/stopwords/tr.txt")),
    ("id", include_str!("../../rules/stopwords/id.txt")),
    ("cs", include_str!("../../rules/stopwords/cs.txt")),
    ("ro", include_str!("../../rules/stopwords/ro.txt")),
    ("da", include_str!("../../rules/stopwords/da.txt")),
];

/// Every stop word of every language, with the languages it belongs to as
/// bits (bit `i` for `LISTS[i]`).
#[derive(Debug)]
pub(crate) struct StopWords {
    words: HashMap<&'static str, u32, BuildHasherDefault<Fnv>>,
}

impl StopWords {
    pub(crate) fn new() -> StopWords {
        let mut words: HashMap<&'static str, u32, BuildHasherDefault<Fnv>> = HashMap::default();
        for (bit, (_, list)) in LISTS.iter().enumerate() {
            for word in list.lines().map(str::trim).filter(|w| !w.is_empty()) {
                *words.entry(word).or_insert(0) |= 1 << bit;
            }
        }
        StopWords { words }
    }

    /// The languages `word` (lowercase) is a stop word of, as bits.
    #[inline]
    pub(crate) fn languages(&self, word: &str) -> u32 {
        self.words.get(word).copied().unwrap_or(0)
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
}
