//! What the classifier sees of a line: numbers computed in one pass over it.
//!
//! The features are named, and the names are what a `heuristic` rule's
//! weights are keyed by, so a fitted model can be read and edited as data.
//! *Line* features describe one line and its two neighbours; *context*
//! features describe where a line stands once every line has a first score:
//! the scores around it, and whether it lies inside the document's densest
//! run of content (its main region).

use super::stopwords::StopWords;

/// Names of the line features, in the order of a feature vector.
pub const LINE_FEATURES: &[&str] = &[
    "words",
    "chars",
    "stop-density",
    "stops",
    "terminal",
    "colon-end",
    "capitalised",
    "digits",
    "symbols",
    "url",
    "date",
    "time",
    "separator",
    "very-short",
    "short",
    "comment-word",
    "all-caps",
    "copyright",
    "headline",
    "comment-meta",
    "position",
    "position-squared",
    "repeats",
    "rule-removed-near",
    "prev-words",
    "prev-stop-density",
    "prev-terminal",
    "prev-very-short",
    "next-words",
    "next-stop-density",
    "next-terminal",
    "next-very-short",
    "recurring",
];

/// How many line features there are.
pub const LINE_COUNT: usize = 33;

/// Names of the context features, in the order of a feature vector.
pub const CONTEXT_FEATURES: &[&str] = &[
    "score",
    "prev-score",
    "next-score",
    "prev2-score",
    "next2-score",
    "window3",
    "window8",
    "meta-density",
    "in-region",
    "region-distance",
    "before-region",
    "region-position",
];

/// How many context features there are.
pub const CONTEXT_COUNT: usize = 12;

// Indices used by the code that fills the vectors.
pub(crate) const WORDS: usize = 0;
pub(crate) const STOP_DENSITY: usize = 2;
pub(crate) const TERMINAL: usize = 4;
pub(crate) const VERY_SHORT: usize = 13;
pub(crate) const COMMENT_META: usize = 19;
pub(crate) const POSITION: usize = 20;
pub(crate) const REPEATS: usize = 22;
pub(crate) const RULE_REMOVED_NEAR: usize = 23;
pub(crate) const PREV: usize = 24;
pub(crate) const NEXT: usize = 28;
pub(crate) const RECURRING: usize = 32;
/// The features copied from a neighbour, in the order of the `prev-`/`next-` slots.
pub(crate) const NEIGHBOUR: [usize; 4] = [WORDS, STOP_DENSITY, TERMINAL, VERY_SHORT];

/// Shapes found by regex, one multi-pattern search per line; the order is
/// the order of the pattern ids.
pub(crate) const SHAPES: &[(usize, &str)] = &[
    (9, r"https?://|www\.|\.(?:com|org|net|co\.uk|html?)\b"),
    (
        10,
        r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d|\b\d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)|\b\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}\b",
    ),
    (11, r"\b\d{1,2}:\d{2}\b|\d\s?[ap]\.?m\b"),
    (
        15,
        r"\b(?:reply|replies|says|said on|wrote|comments?|posted|ago|votes?|like|report|permalink|flag)\b",
    ),
    (17, r"©|\bcopyright\b|\(c\)"),
    (
        19,
        r"^(?:reply|report|quote|permalink|flag|like|likes|share|reply to this|log in to reply)$|\b(?:says|said|writes|wrote):?$|\b\d+ (?:minutes?|hours?|days?|weeks?|months?|years?) ago\b|\d{1,2}:\d{2}\s*(?:am|pm)?|\(score:|^re:",
    ),
];

/// Counts of one line's characters and words, before they become features.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct LineCounts {
    pub words: u32,
    pub chars: u32,
    pub stops: u32,
    pub capitalised: u32,
    pub digits: u32,
    pub symbols: u32,
    pub terminal: bool,
    pub colon_end: bool,
    pub separator: bool,
    pub all_caps: bool,
}

/// Characters that separate menu entries printed on one line.
fn is_separator(c: char) -> bool {
    matches!(c, '|' | '·' | '»' | '›' | '•')
}

/// Whether a line ends as a sentence does (closing quotes and brackets aside).
pub(crate) fn ends_a_sentence(line: &str) -> bool {
    is_terminal(without_references(line).trim_end_matches(is_closer).chars().next_back())
}

/// The longest bracketed reference taken off a line's end, brackets included.
const REFERENCE_BYTES: usize = 24;

/// `line` without the bracketed references that may follow its last
/// sentence ("… in 1820.[3]", "… a defeated people. [MP2]"): a paragraph
/// whose sentences carry source marks read as a heading that does not end
/// as a sentence, and the classifier took a whole story of them. A line
/// that is nothing but references stays as it is.
fn without_references(line: &str) -> &str {
    let mut rest = line.trim_end();
    while let Some(inner) = rest.strip_suffix(']') {
        match inner.rfind(['[', ']']) {
            Some(open) if inner.as_bytes()[open] == b'[' && rest.len() - open <= REFERENCE_BYTES => {
                rest = inner[..open].trim_end();
            }
            _ => break,
        }
    }
    if rest.is_empty() {
        line
    } else {
        rest
    }
}

fn is_terminal(last: Option<char>) -> bool {
    matches!(last, Some('.' | '!' | '?' | '…' | '。' | '؟'))
}

/// Closing characters that may follow a sentence's final stop.
fn is_closer(c: char) -> bool {
    matches!(c, '"' | '\'' | '”' | '’' | '»' | ')' | ']')
}

/// How many whitespace-separated words `line` holds, counting no further
/// than `limit`: `line.split_whitespace().take(limit).count()`, byte by byte
/// while the line is ASCII (where `char::is_whitespace` is 9 to 13 and the
/// space), as most lines are. A paragraph is read only as far as its
/// `limit`-th word, not checked whole for ASCII first.
pub(crate) fn count_words(line: &str, limit: usize) -> usize {
    let mut words = 0;
    let mut in_word = false;
    for &b in line.as_bytes() {
        if !b.is_ascii() {
            return line.split_whitespace().take(limit).count();
        }
        let blank = matches!(b, b' ' | b'\t'..=b'\r');
        if !blank && !in_word {
            if words == limit {
                break;
            }
            words += 1;
        }
        in_word = !blank;
    }
    words
}

/// Calls `each` with the bare part (first to last alphanumeric character)
/// of every whitespace-separated word of `line` that has one of at most 24
/// bytes, in order, until `each` returns false; returns false if it did.
/// An ASCII line is split byte by byte rather than by `split_whitespace`
/// and `trim_matches`, which decode every character.
pub(crate) fn bare_words<'a>(line: &'a str, mut each: impl FnMut(&'a str) -> bool) -> bool {
    let usable = |bare: &str| !bare.is_empty() && bare.len() <= 24;
    if !line.is_ascii() {
        return line
            .split_whitespace()
            .map(|token| token.trim_matches(|c: char| !c.is_alphanumeric()))
            .filter(|bare| usable(bare))
            .all(each);
    }
    for token in line.split(|c: char| matches!(c, ' ' | '\t'..='\r')) {
        let Some(bare) = ascii_bare(token.as_bytes()) else {
            continue;
        };
        let bare = &token[bare];
        if usable(bare) && !each(bare) {
            return false;
        }
    }
    true
}

/// Where the bare part of an ASCII token lies: from its first to its last
/// letter or digit; `None` when it has neither.
fn ascii_bare(token: &[u8]) -> Option<std::ops::RangeInclusive<usize>> {
    let first = token.iter().position(u8::is_ascii_alphanumeric)?;
    let last = token.iter().rposition(u8::is_ascii_alphanumeric).unwrap_or(first);
    Some(first..=last)
}

/// Counts `line` (trimmed, non-blank), all but its stop words: the stop-word
/// languages of its words (the bare words [`bare_words`] gives, in order)
/// are pushed to `word_languages`. The page's language is decided from the
/// first words of the page, so the caller counts the stops with
/// [`count_stops`] once it is known; the same look-ups serve both, where
/// the language guess used to look every word up a second time.
pub(crate) fn count_line(line: &str, stop: &StopWords, word_languages: &mut Vec<u32>) -> LineCounts {
    if line.is_ascii() {
        count_ascii_line(line, stop, word_languages)
    } else {
        count_any_line(line, stop, word_languages)
    }
}

/// How many of the words whose languages are `word_languages` are stop
/// words of the language `stop_bit`.
pub(crate) fn count_stops(word_languages: &[u32], stop_bit: u32) -> u32 {
    word_languages.iter().filter(|&&bits| bits & stop_bit != 0).count() as u32
}

/// [`count_line`] for a line of ASCII, byte by byte: most lines are, and
/// the classifier counts every line that no rule removed, so the char
/// decoding, `split_whitespace` and `trim_matches` of the general path were
/// a tenth of a run's time. Each character class is counted over the whole
/// line by a loop of its own, which the compiler turns into vector
/// instructions; one pass over bytes that classified each byte and followed
/// the words at once took most of its time in mispredicted branches. On
/// ASCII the classes are the same as the general path's (`is_alphabetic` is
/// a letter, `is_numeric` a digit, `is_whitespace` 9 to 13 and space), which
/// `ascii_and_general_paths_agree` checks.
fn count_ascii_line(line: &str, stop: &StopWords, word_languages: &mut Vec<u32>) -> LineCounts {
    let bytes = line.as_bytes();
    let is_blank = |b: u8| matches!(b, b' ' | b'\t'..=b'\r');
    let letters = count_bytes(bytes, |b| b.is_ascii_alphabetic());
    let uppercase = count_bytes(bytes, |b| b.is_ascii_uppercase());
    let digits = count_bytes(bytes, |b| b.is_ascii_digit());
    let blanks = count_bytes(bytes, is_blank);
    let mut counts = LineCounts {
        chars: bytes.len() as u32,
        digits,
        symbols: bytes.len() as u32 - letters - digits - blanks,
        separator: memchr::memchr(b'|', bytes).is_some(),
        ..LineCounts::default()
    };
    for token in bytes.split(|&b| is_blank(b)).filter(|token| !token.is_empty()) {
        counts.words += 1;
        let Some(bare) = ascii_bare(token) else {
            continue;
        };
        if token[*bare.start()].is_ascii_uppercase() {
            counts.capitalised += 1;
        }
        if bare.end() + 1 - bare.start() > 24 {
            continue;
        }
        word_languages.push(stop.ascii_languages(&token[bare]));
    }
    counts.all_caps = letters >= 2 && uppercase == letters;
    let last = without_references(line)
        .as_bytes()
        .iter()
        .rev()
        .find(|&&b| !matches!(b, b'"' | b'\'' | b')' | b']'))
        .copied();
    counts.terminal = matches!(last, Some(b'.' | b'!' | b'?'));
    counts.colon_end = last == Some(b':');
    counts
}

/// How many of `bytes` are in `class`, in a loop simple enough to vectorise.
#[inline]
fn count_bytes(bytes: &[u8], class: impl Fn(u8) -> bool) -> u32 {
    bytes.iter().map(|&b| u32::from(class(b))).sum()
}

/// [`count_line`] for any line, in one pass over its characters: the
/// character classes, the words and each word's bare part (its first to its
/// last alphanumeric character) are found together, as
/// [`count_ascii_line`] does byte by byte. A line of non-ASCII text was read
/// three times before (`chars`, `split_whitespace`, `trim_matches`), which
/// made it the heuristics' costliest case; `one_pass_agrees_with_the_reference`
/// checks that the counts are those of the three-pass version.
fn count_any_line(line: &str, stop: &StopWords, word_languages: &mut Vec<u32>) -> LineCounts {
    let mut counts = LineCounts::default();
    let mut letters = 0u32;
    let mut uppercase = 0u32;
    let mut in_token = false;
    // The current token's bare part: its first alphanumeric character's
    // offset and the end of its last one.
    let mut bare: Option<(usize, usize)> = None;
    let mut end_token = |bare: Option<(usize, usize)>, counts: &mut LineCounts| {
        counts.words += 1;
        let Some((first, end)) = bare else {
            return;
        };
        if line[first..].chars().next().is_some_and(char::is_uppercase) {
            counts.capitalised += 1;
        }
        if end - first > 24 {
            return;
        }
        word_languages.push(stop.languages(&line[first..end]));
    };
    for (at, c) in line.char_indices() {
        counts.chars += 1;
        let (alphanumeric, blank) = if c.is_ascii() {
            let b = c as u8;
            if b.is_ascii_alphabetic() {
                letters += 1;
                uppercase += b.is_ascii_uppercase() as u32;
            } else if b.is_ascii_digit() {
                counts.digits += 1;
            } else if !matches!(b, b' ' | b'\t'..=b'\r') {
                counts.symbols += 1;
                counts.separator |= b == b'|';
            }
            (b.is_ascii_alphanumeric(), matches!(b, b' ' | b'\t'..=b'\r'))
        } else if c.is_alphabetic() {
            letters += 1;
            uppercase += c.is_uppercase() as u32;
            (true, false)
        } else if c.is_numeric() {
            counts.digits += 1;
            (true, false)
        } else if c.is_whitespace() {
            (false, true)
        } else {
            counts.symbols += 1;
            counts.separator |= is_separator(c);
            (false, false)
        };
        if blank {
            if in_token {
                end_token(bare.take(), &mut counts);
                in_token = false;
            }
            continue;
        }
        in_token = true;
        if alphanumeric {
            let end = at + c.len_utf8();
            bare = Some((bare.map_or(at, |(first, _)| first), end));
        }
    }
    if in_token {
        end_token(bare, &mut counts);
    }
    counts.all_caps = letters >= 2 && uppercase == letters;
    let last = without_references(line).trim_end_matches(is_closer).chars().next_back();
    counts.terminal = is_terminal(last);
    counts.colon_end = last == Some(':');
    counts
}

/// Fills the features of one line that depend on it alone. `shapes` holds
/// the indices of the shape features whose pattern matched.
pub(crate) fn own_features(counts: &LineCounts, position: f32, out: &mut [f32; LINE_COUNT]) {
    let words = counts.words.max(1) as f32;
    let chars = counts.chars.max(1) as f32;
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    out[WORDS] = (counts.words as f32).ln_1p();
    out[1] = (counts.chars as f32).ln_1p();
    out[STOP_DENSITY] = counts.stops as f32 / words;
    out[3] = (counts.stops as f32).ln_1p();
    out[TERMINAL] = flag(counts.terminal);
    out[5] = flag(counts.colon_end);
    out[6] = counts.capitalised as f32 / words;
    out[7] = counts.digits as f32 / chars;
    out[8] = counts.symbols as f32 / chars;
    out[12] = flag(counts.separator);
    out[VERY_SHORT] = flag(counts.words <= 3);
    out[14] = flag(counts.words <= 6);
    out[16] = flag(counts.all_caps);
    out[18] = flag(counts.words >= 3 && counts.capitalised * 10 >= counts.words * 7 && !counts.terminal);
    out[POSITION] = position;
    out[21] = position * position;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-language table of `words` (one per line).
    fn stop_words(words: &str) -> StopWords {
        StopWords::from_lists(&[("xx", words)])
    }

    /// What `counter` finds in `line`, its stops counted in the table's one
    /// language, and the languages of its words.
    fn counted(
        counter: fn(&str, &StopWords, &mut Vec<u32>) -> LineCounts,
        line: &str,
        stop: &StopWords,
    ) -> (LineCounts, Vec<u32>) {
        let mut word_languages = Vec::new();
        let mut counts = counter(line, stop, &mut word_languages);
        counts.stops = count_stops(&word_languages, 1);
        (counts, word_languages)
    }

    fn count(line: &str) -> LineCounts {
        counted(count_line, line, &stop_words("the\nof\na\nwas\nin\nand\nto")).0
    }

    /// The languages of `line`'s words as the page-language guess sees
    /// them: [`bare_words`], each looked up.
    fn bare_word_languages(line: &str, stop: &StopWords) -> Vec<u32> {
        let mut languages = Vec::new();
        bare_words(line, |bare| {
            languages.push(stop.languages(bare));
            true
        });
        languages
    }

    #[test]
    fn count_words_is_split_whitespace_taken_to_its_limit() {
        let lines = [
            "",
            "   ",
            "one",
            " two  words ",
            "tab\tand\u{0b}vertical\u{0c}feed\rreturn",
            "ascii words, then Ünïcode ones",
            "non-breaking\u{a0}space and\u{2003}em space",
            "é first",
            "words words words words words words words words words words words words",
        ];
        for line in lines {
            for limit in [0, 1, 2, 3, 5, 20, usize::MAX] {
                assert_eq!(
                    count_words(line, limit),
                    line.split_whitespace().take(limit).count(),
                    "{line:?} {limit}"
                );
            }
        }
    }

    #[test]
    fn names_and_counts_agree() {
        assert_eq!(LINE_FEATURES.len(), LINE_COUNT);
        assert_eq!(CONTEXT_FEATURES.len(), CONTEXT_COUNT);
        assert_eq!(LINE_FEATURES[RECURRING], "recurring");
        assert_eq!(LINE_FEATURES[COMMENT_META], "comment-meta");
        assert_eq!(LINE_FEATURES[PREV], "prev-words");
        assert_eq!(LINE_FEATURES[NEXT], "next-words");
        assert_eq!(LINE_FEATURES[REPEATS], "repeats");
        assert_eq!(LINE_FEATURES[RULE_REMOVED_NEAR], "rule-removed-near");
        for (index, _) in SHAPES {
            assert!(*index < LINE_COUNT);
        }
    }

    #[test]
    fn prose_counts_stop_words_and_its_final_stop() {
        let c = count("The minister was in Tripoli to meet the general.");
        assert_eq!(c.words, 9);
        assert_eq!(c.stops, 5);
        assert!(c.terminal);
        assert!(!c.all_caps);
    }

    #[test]
    fn a_quote_after_the_stop_still_ends_a_sentence() {
        assert!(count("He said: \u{201C}It is over.\u{201D}").terminal);
        assert!(count("Read more:").colon_end);
        assert!(!count("Home").terminal);
    }

    #[test]
    fn menu_lines_are_short_capitalised_and_separated() {
        let c = count("Home | News | Sport | Weather");
        assert_eq!(c.words, 7);
        assert_eq!(c.stops, 0);
        assert!(c.separator);
        assert_eq!(c.capitalised, 4);
        let mut features = [0.0; LINE_COUNT];
        own_features(&count("Latest News From Around The World"), 0.1, &mut features);
        assert_eq!(features[18], 1.0, "a headline: capitalised, no final stop");
        assert_eq!(features[POSITION], 0.1);
        assert!(count("BREAKING NEWS").all_caps);
    }

    /// The three-pass count that [`count_any_line`] replaced, kept as the
    /// reference its one pass must agree with.
    fn reference_count(line: &str, stop_words: &[&str]) -> LineCounts {
        let mut counts = LineCounts::default();
        let mut letters = 0u32;
        let mut uppercase = 0u32;
        for c in line.chars() {
            counts.chars += 1;
            if c.is_alphabetic() {
                letters += 1;
                uppercase += c.is_uppercase() as u32;
            } else if c.is_numeric() {
                counts.digits += 1;
            } else if !c.is_whitespace() {
                counts.symbols += 1;
                counts.separator |= is_separator(c);
            }
        }
        counts.all_caps = letters >= 2 && uppercase == letters;
        let last = without_references(line).trim_end_matches(is_closer).chars().next_back();
        counts.terminal = is_terminal(last);
        counts.colon_end = last == Some(':');
        for token in line.split_whitespace() {
            counts.words += 1;
            let bare = token.trim_matches(|c: char| !c.is_alphanumeric());
            if bare.chars().next().is_some_and(char::is_uppercase) {
                counts.capitalised += 1;
            }
            if bare.is_empty() || bare.len() > 24 {
                continue;
            }
            let key: String = bare.chars().flat_map(char::to_lowercase).collect();
            if stop_words.contains(&key.as_str()) {
                counts.stops += 1;
            }
        }
        counts
    }

    #[test]
    fn one_pass_agrees_with_the_reference() {
        let listed = [
            "the", "of", "a", "was", "in", "and", "to", "it's", "и", "über", "für", "ⅰ",
        ];
        let stop = stop_words(&listed.join("\n"));
        let lines = [
            "The minister was in Tripoli to meet the general.",
            "Home | News | Sport | Weather",
            "Startseite · Nachrichten » Sport › Wetter • Kontakt",
            "И мир Über für ФОРУМ",
            "\u{201C}Über alles,\u{201D} sagte er.\u{201D}",
            "caf\u{e9}\u{a0}au\u{2003}lait \u{3000}noir",
            "\u{2160}\u{2161} chapter \u{2160}: the end",
            "ВСЕ НОВОСТИ",
            "ÉÉ",
            "x\u{b}y\u{c}z\rthe\tof  and \u{85}the",
            "«Über» ‹und› (für) ¿qué? ¡sí!",
            "ÜberÜberÜberÜberÜberÜberÜber the",
            "٣ ١٢ ٤٥٦ — 3 12",
            "日本語のテキスト。",
            "ends with a colon：",
            "ﬁne ǅemal ΣΊΣΥΦΟΣ",
            "  \u{2003} ",
            "a\u{200b}b the\u{feff} of",
        ];
        for line in lines {
            let (counts, word_languages) = counted(count_any_line, line, &stop);
            assert_eq!(counts, reference_count(line, &listed), "{line:?}");
            assert_eq!(word_languages, bare_word_languages(line, &stop), "{line:?}");
        }
    }

    #[test]
    fn a_sentence_ends_before_its_references() {
        for line in [
            "The mill ground flour for the town until 1961.[3]",
            "The mill ground flour for the town until 1961.[3][14]",
            "The wheel turned again, for the first time in sixty years. [MP2 / MP2 SP]",
            "\u{201c}It was decadent,\u{201d} he said. [citation needed]",
            "[Updated.]",
        ] {
            assert!(ends_a_sentence(line), "{line:?}");
        }
        for line in [
            "[Docs] [txt|pdf] [Tracker]",
            "See the whole list [here]",
            "The mill ground flour for the town. [a note long enough to be text of its own]",
        ] {
            assert!(!ends_a_sentence(line), "{line:?}");
        }
    }

    #[test]
    fn ascii_and_general_paths_agree() {
        let stop = stop_words("the\nof\na\nwas\nin\nand\nto\nit's");
        let lines = [
            "The minister was in Tripoli to meet the general.",
            "Home | News | Sport | Weather",
            "BREAKING NEWS",
            "\"(It was the end.)\" ",
            "Read more:",
            "--- *** ---",
            "a",
            "x\u{b}y\u{c}z\rthe\tof  and",
            "The\u{1c}Of \u{1f}the\u{7f}",
            "AVeryLongTokenThatIsLongerThanTwentyFourBytes the",
            "exactly-24-bytes-longxyz The",
            "@The_ (of) [AND] 'It's' \"A\" 1990s 42 #and!",
            "it's IT'S It's",
            "end with quote.\"')]",
            "end with colon: \"",
            "...",
            "ends?]",
            "3:30 pm",
            "a|b || c | ",
            "|",
            "(The [Of] --- \"And\" x-y-z",
            "abcdefghijklmnopqrstuvwxyz0123 (the) THE-END",
            "\t\tThe\x0b\x0cof\r",
            "The wheel turned again. [MP2 / MP2 SP]",
            "[Docs] [txt|pdf]",
        ];
        for line in lines {
            let ascii = counted(count_ascii_line, line, &stop);
            assert_eq!(ascii, counted(count_any_line, line, &stop), "{line:?}");
            assert_eq!(ascii.1, bare_word_languages(line, &stop), "{line:?}");
        }
    }

    #[test]
    fn bare_words_agree_with_split_whitespace_and_trim() {
        let lines = [
            "The minister, (in Tripoli), said: \"no.\"",
            "x\u{b}y\u{c}z\rthe\tof  and -- ** ",
            "The\u{1c}Of \u{1f}the\u{7f}",
            "AVeryLongTokenThatIsLongerThanTwentyFourBytes exactly-24-bytes-longxyz",
            "\u{201C}Über alles,\u{201D} caf\u{e9}\u{a0}au lait",
        ];
        for line in lines {
            let expected: Vec<&str> = line
                .split_whitespace()
                .map(|t| t.trim_matches(|c: char| !c.is_alphanumeric()))
                .filter(|b| !b.is_empty() && b.len() <= 24)
                .collect();
            let mut found = Vec::new();
            assert!(bare_words(line, |bare| {
                found.push(bare);
                true
            }));
            assert_eq!(found, expected, "{line:?}");
            let mut first_two = Vec::new();
            let stopped = !bare_words(line, |bare| {
                first_two.push(bare);
                first_two.len() < 2
            });
            assert_eq!(stopped, expected.len() >= 2, "{line:?}");
            assert_eq!(first_two, expected[..expected.len().min(2)], "{line:?}");
        }
    }

    #[test]
    fn word_counts_agree_with_split_whitespace() {
        let lines = [
            "",
            " ",
            "one",
            "  two words  ",
            "x\u{b}y\u{c}z\rthe\tof  and",
            "The\u{1c}Of \u{1f}the\u{7f}",
            "caf\u{e9} au\u{a0}lait \u{2003} noir",
            "a b c d e f g h i j k l m n o p",
        ];
        for line in lines {
            for limit in [0, 1, 3, 50] {
                assert_eq!(
                    count_words(line, limit),
                    line.split_whitespace().take(limit).count(),
                    "{line:?} {limit}"
                );
            }
        }
    }

    #[test]
    fn uppercase_and_non_ascii_words_are_lowercased_before_lookup() {
        assert_eq!(count("THE END OF A ERA").stops, 3);
        assert_eq!(counted(count_line, "И мир Über", &stop_words("и\nüber")).0.stops, 2);
    }
}
