//! The match key: how a line looks to the rules.
//!
//! Scraped text spells the same words many ways: NBSP and other Unicode spaces,
//! runs of spaces, curly or straight quotes, zero-width joiners left by CMS
//! editors. Rules should not have to spell every variant, and the kept text must
//! not change because of it. So the rules never see the line itself: they see
//! its *key*, a folded copy, and any span they find in the key is mapped back to
//! the source bytes by re-walking the line ([`key_span_to_source`]), which only
//! happens for the rare line that has an inline hit.
//!
//! Case is not folded here: patterns are compiled case-insensitively instead,
//! which keeps key offsets simple and leaves `(?-i)` available to rules that
//! must see capitals (agency credits, bylines).

/// True for characters that are dropped from the key entirely.
#[inline]
pub fn is_zero_width(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}'
    )
}

/// True for characters that the key and the whitespace normaliser treat as blank.
#[inline]
pub fn is_blank(c: char) -> bool {
    c.is_whitespace() || is_zero_width(c)
}

/// The key's spelling of one character that is kept: quotes straightened.
#[inline]
fn fold_char(c: char) -> char {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{02BC}' => '\'',
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' => '"',
        other => other,
    }
}

/// How a byte looks to the folding scan: most bytes of most lines are
/// [`PLAIN`] and cost one table look-up each.
const PLAIN: u8 = 0;
/// An ASCII space: kept when single and between words, folded otherwise.
const SPACE: u8 = 1;
/// An ASCII control or blank other than the space: always folded.
const ASCII_SPECIAL: u8 = 2;
/// The first byte of a UTF-8 sequence that may encode a folded character
/// (U+0085, U+00A0, U+00AD, U+02BC, U+1680, U+180E, U+2000–U+206F, U+3000,
/// U+FEFF): the character is decoded and checked.
const MAYBE_FOLDED: u8 = 3;

/// [`PLAIN`], [`SPACE`], [`ASCII_SPECIAL`] or [`MAYBE_FOLDED`] for every byte.
/// UTF-8 continuation bytes are plain: they are only ever reached inside a
/// character whose first byte said it cannot fold.
static BYTE_CLASS: [u8; 256] = {
    let mut table = [PLAIN; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = ASCII_SPECIAL;
        b += 1;
    }
    table[0x7F] = ASCII_SPECIAL;
    table[b' ' as usize] = SPACE;
    table[0xC2] = MAYBE_FOLDED;
    table[0xCA] = MAYBE_FOLDED;
    table[0xE1] = MAYBE_FOLDED;
    table[0xE2] = MAYBE_FOLDED;
    table[0xE3] = MAYBE_FOLDED;
    table[0xEF] = MAYBE_FOLDED;
    table
};

/// True for a character the key drops or rewrites.
#[inline]
fn folds(c: char) -> bool {
    is_zero_width(c) || c.is_whitespace() || fold_char(c) != c
}

/// What [`fold_key`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFold {
    /// The key is the line itself (single spaces between words, nothing that
    /// folds): the key buffer was not touched. Most lines of most corpora take
    /// this path and cost one pass over their bytes and no copy.
    Identity,
    /// The key buffer holds the folded line.
    Folded,
    /// Folding would make the key longer than the limit; the buffer holds a prefix.
    TooLong,
}

/// Finds the key of `line` in one pass: [`KeyFold::Identity`] when folding
/// would not change it, else writes it into `key`, stopping early once the key
/// would exceed `limit` bytes (a line longer than any whole-line rule can
/// match is not worth folding in full). An identity key is never too long:
/// it costs nothing to keep.
pub fn fold_key(line: &str, key: &mut String, limit: usize) -> KeyFold {
    let bytes = line.as_bytes();
    // A leading space is not identity: start as if a space came before.
    let mut previous_space = true;
    let mut at = 0;
    'scan: while at < bytes.len() {
        // Eight bytes at a time while they are printable ASCII and single
        // spaces; the next eight or so byte by byte when they are not.
        if let Some(chunk) = bytes.get(at..at + 8) {
            let chunk = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
            if let Some(ends_in_space) = plain_ascii_words(chunk, previous_space) {
                previous_space = ends_in_space;
                at += 8;
                continue;
            }
        }
        let slow_end = (at + 8).min(bytes.len());
        while at < slow_end {
            match BYTE_CLASS[bytes[at] as usize] {
                PLAIN => {
                    previous_space = false;
                    at += 1;
                }
                SPACE if !previous_space => {
                    previous_space = true;
                    at += 1;
                }
                MAYBE_FOLDED => {
                    let c = line[at..].chars().next().expect("a character starts here");
                    if folds(c) {
                        break 'scan;
                    }
                    previous_space = false;
                    at += c.len_utf8();
                }
                _ => break 'scan,
            }
        }
    }
    if at == bytes.len() && !(previous_space && at > 0) {
        return KeyFold::Identity;
    }
    // The identical prefix goes over whole, a trailing space of it as pending.
    key.clear();
    let prefix_end = if previous_space && at > 0 { at - 1 } else { at };
    if prefix_end > limit {
        key.push_str(&line[..line.floor_char_boundary(limit)]);
        return KeyFold::TooLong;
    }
    key.push_str(&line[..prefix_end]);
    if fold_rest(line, at, previous_space && at > 0, key, limit) {
        KeyFold::Folded
    } else {
        KeyFold::TooLong
    }
}

/// Eight bytes of a line (little-endian) that the identity scan may pass
/// over whole: each printable ASCII (`!` to `~`) or a space, with no space
/// next to another, nor first when `previous_space`. Returns whether the
/// last byte is a space, or `None` when the bytes must go one by one. This
/// is [`BYTE_CLASS`]'s `PLAIN` and `SPACE` cases for eight bytes at once:
/// most of a line's bytes are letters, punctuation and single spaces, and
/// the byte-by-byte scan was about 5% of a run's time.
#[inline]
fn plain_ascii_words(chunk: u64, previous_space: bool) -> Option<bool> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Every byte below 0x80; then a byte below 0x20 borrows in the
    // subtraction, and only 0x7F reaches 0x80 when one is added.
    let controls = chunk.wrapping_sub(ONES * 0x20) & !chunk & HIGH;
    if chunk & HIGH != 0 || controls != 0 || (chunk + ONES) & HIGH != 0 {
        return None;
    }
    // The high bit of every byte that is a space, exactly: a zero byte of
    // `chunk ^ spaces` is the only one whose low seven bits plus 0x7F stay
    // below 0x80 and whose own high bit is clear.
    let other = chunk ^ (ONES * 0x20);
    let spaces = !(((other & !HIGH) + !HIGH) | other) & HIGH;
    let doubled = spaces & (spaces << 8) != 0;
    if doubled || (previous_space && spaces & 0x80 != 0) {
        return None;
    }
    Some(spaces >> 63 != 0)
}

/// Writes the key of `line[at..]` after what `key` already holds; false once
/// the key would exceed `limit`. Runs of plain ASCII are copied whole.
fn fold_rest(line: &str, mut at: usize, mut pending_space: bool, key: &mut String, limit: usize) -> bool {
    let bytes = line.as_bytes();
    while at < bytes.len() {
        let b = bytes[at];
        if b.is_ascii_graphic() {
            let run_end = bytes[at..]
                .iter()
                .position(|b| !b.is_ascii_graphic())
                .map_or(bytes.len(), |n| at + n);
            if key.len() + (run_end - at) + usize::from(pending_space) > limit {
                return false;
            }
            if pending_space {
                key.push(' ');
                pending_space = false;
            }
            key.push_str(&line[at..run_end]);
            at = run_end;
            continue;
        }
        let c = line[at..].chars().next().expect("a character starts here");
        at += c.len_utf8();
        if is_zero_width(c) {
            continue;
        }
        if c.is_whitespace() {
            pending_space = !key.is_empty();
            continue;
        }
        let folded = fold_char(c);
        if key.len() + folded.len_utf8() + usize::from(pending_space) > limit {
            return false;
        }
        if pending_space {
            key.push(' ');
            pending_space = false;
        }
        key.push(folded);
    }
    true
}

/// Writes the key of `line` into `key` (cleared first), even where it equals
/// the line. Stops early, returning false, as soon as the key would exceed
/// `limit` bytes.
pub fn fold_into(line: &str, key: &mut String, limit: usize) -> bool {
    key.clear();
    fold_rest(line, 0, false, key, limit)
}

/// Maps a byte range of the key of `line` back to the bytes of `line` that
/// produced it. A folded space stands for the whole run of blanks it replaced.
pub fn key_span_to_source(line: &str, key_start: usize, key_end: usize) -> (usize, usize) {
    debug_assert!(key_start < key_end);
    let mut key_len = 0usize;
    let mut pending_space: Option<usize> = None; // source offset where the blank run began
    let mut source_start = None;
    let mut chars = line.char_indices().peekable();
    while let Some((offset, c)) = chars.next() {
        if is_zero_width(c) {
            continue;
        }
        if c.is_whitespace() {
            if key_len > 0 && pending_space.is_none() {
                pending_space = Some(offset);
            }
            continue;
        }
        if let Some(space_at) = pending_space.take() {
            // The folded space occupies key byte `key_len`; its source is the blank run.
            if source_start.is_none() && key_len >= key_start {
                source_start = Some(space_at);
            }
            key_len += 1;
            if key_len >= key_end {
                return (source_start.unwrap_or(space_at), offset);
            }
        }
        let folded_len = fold_char(c).len_utf8();
        if source_start.is_none() && key_len + folded_len > key_start {
            source_start = Some(offset);
        }
        key_len += folded_len;
        if key_len >= key_end {
            let end = chars.peek().map_or(line.len(), |&(next, _)| next);
            return (source_start.unwrap_or(offset), end);
        }
    }
    (source_start.unwrap_or(line.len()), line.len())
}

/// Folds a regex written in a rule file character by character, as lines are
/// folded, so that a rule author who types a curly quote or an NBSP still
/// matches. Runs of spaces are kept: inside a regex they may be meaningful.
/// (Literals are lines, and are folded with [`fold_into`].)
pub fn fold_pattern(pattern: &str) -> String {
    pattern
        .chars()
        .filter(|&c| !is_zero_width(c))
        .map(|c| {
            if c.is_whitespace() && c != '\n' {
                ' '
            } else {
                fold_char(c)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(line: &str) -> String {
        let mut key = String::new();
        assert!(fold_into(line, &mut key, usize::MAX));
        key
    }

    #[test]
    fn folds_spaces_quotes_and_zero_width() {
        assert_eq!(key("  Share\u{00A0}\u{2009}This\u{200B}  "), "Share This");
        assert_eq!(key("Don\u{2019}t \u{201C}miss\u{201D}"), "Don't \"miss\"");
        assert_eq!(key("\t\r"), "");
    }

    /// The character-by-character fold this module first shipped with: the
    /// oracle for the one-pass [`fold_key`].
    fn reference_fold(line: &str, limit: usize) -> Option<String> {
        let mut key = String::new();
        let mut pending_space = false;
        for c in line.chars() {
            if is_zero_width(c) {
                continue;
            }
            if c.is_whitespace() {
                pending_space = !key.is_empty();
                continue;
            }
            let folded = fold_char(c);
            if key.len() + folded.len_utf8() + usize::from(pending_space) > limit {
                return None;
            }
            if pending_space {
                key.push(' ');
                pending_space = false;
            }
            key.push(folded);
        }
        Some(key)
    }

    #[test]
    fn one_pass_fold_agrees_with_the_reference() {
        let pieces = [
            "Share",
            "This",
            " ",
            "  ",
            "\t",
            "\r",
            "\u{1}",
            "\u{1C}",
            "\u{7F}",
            "\u{a0}",
            "\u{85}",
            "\u{ad}",
            "\u{2009}",
            "\u{200B}",
            "\u{2019}",
            "\u{201C}",
            "\u{2033}",
            "\u{2060}",
            "\u{3000}",
            "\u{feff}",
            "\u{2014}",
            "\u{2026}",
            "\u{e9}",
            "\u{441}",
            "\u{4e2d}",
            "\u{1F600}",
            "x",
            "'",
            ".",
        ];
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut key = String::new();
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let count = (state % 11) as usize;
            let line: String = (0..count)
                .map(|i| pieces[((state >> (6 * i + 5)) % pieces.len() as u64) as usize])
                .collect();
            for limit in [usize::MAX, 8, 3, 0] {
                let expected = reference_fold(&line, limit);
                match fold_key(&line, &mut key, limit) {
                    KeyFold::Identity => assert_eq!(expected.as_deref().unwrap_or(&line), line, "{line:?}"),
                    KeyFold::Folded => assert_eq!(expected.as_deref(), Some(key.as_str()), "{line:?} {limit}"),
                    KeyFold::TooLong => assert_eq!(expected, None, "{line:?} {limit}"),
                }
                assert_eq!(fold_into(&line, &mut key, limit), expected.is_some());
            }
        }
    }

    #[test]
    fn eight_bytes_pass_whole_only_when_each_would_alone() {
        let one_by_one = |bytes: [u8; 8], mut previous_space: bool| {
            for b in bytes {
                match (BYTE_CLASS[b as usize], b.is_ascii()) {
                    (PLAIN, true) => previous_space = false,
                    (SPACE, _) if !previous_space => previous_space = true,
                    _ => return None,
                }
            }
            Some(previous_space)
        };
        let interesting = [0x00, 0x01, 0x1F, 0x20, 0x21, 0x41, 0x7E, 0x7F, 0x80, 0xC2, 0xE2, 0xFF];
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let bytes: [u8; 8] = std::array::from_fn(|i| {
                let pick = (state >> (8 * i)) as u8;
                if pick & 1 == 0 {
                    interesting[(pick >> 1) as usize % interesting.len()]
                } else if pick & 2 == 0 {
                    b' '
                } else {
                    pick >> 1 | 0x20
                }
            });
            let chunk = u64::from_le_bytes(bytes);
            for previous_space in [false, true] {
                assert_eq!(
                    plain_ascii_words(chunk, previous_space),
                    one_by_one(bytes, previous_space),
                    "{bytes:?} {previous_space}"
                );
            }
        }
        assert_eq!(plain_ascii_words(u64::from_le_bytes(*b"Share Th"), true), Some(false));
        assert_eq!(plain_ascii_words(u64::from_le_bytes(*b"is test "), false), Some(true));
    }

    #[test]
    fn identity_needs_single_inner_spaces_and_no_folded_character() {
        let mut key = String::new();
        assert_eq!(fold_key("Share This", &mut key, usize::MAX), KeyFold::Identity);
        assert_eq!(fold_key("caf\u{e9} \u{441}\u{4e2d}", &mut key, 1), KeyFold::Identity);
        assert_eq!(fold_key("", &mut key, usize::MAX), KeyFold::Identity);
        for folded in [
            "two  spaces",
            "trail ",
            " lead",
            "tab\there",
            "Don\u{2019}t",
            "nb\u{a0}sp",
        ] {
            assert_eq!(fold_key(folded, &mut key, usize::MAX), KeyFold::Folded, "{folded:?}");
        }
        assert_eq!(key, "nb sp");
    }

    #[test]
    fn limit_stops_folding() {
        let mut buffer = String::new();
        assert!(!fold_into("abcdef", &mut buffer, 3));
        assert!(fold_into("abc", &mut buffer, 3));
    }

    #[test]
    fn spans_map_back_through_folded_characters() {
        let line = "Contact:\u{00A0}\u{00A0}[email\u{00A0}protected] x";
        let folded = key(line);
        let start = folded.find("[email").unwrap();
        let end = start + "[email protected]".len();
        let (s, e) = key_span_to_source(line, start, end);
        assert_eq!(&line[s..e], "[email\u{00A0}protected]");
        // The folded space maps to the whole blank run.
        let (s, e) = key_span_to_source(line, 8, 9);
        assert_eq!(&line[s..e], "\u{00A0}\u{00A0}");
        let line = "\u{201C}Hi\u{201D}";
        let (s, e) = key_span_to_source(line, 0, 4);
        assert_eq!(&line[s..e], line);
    }
}
