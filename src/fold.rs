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

/// Returns true when the key of `line` is `line` itself trimmed of ASCII
/// spaces: plain ASCII with single spaces only. Most lines of most corpora take
/// this path and cost one pass over their bytes and no copy.
#[inline]
pub fn key_is_identity(line: &[u8]) -> bool {
    let mut previous_space = true; // a leading space is not identity
    for &b in line {
        match b {
            b' ' => {
                if previous_space {
                    return false;
                }
                previous_space = true;
            }
            0x80.. | b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | 0x1C..=0x1F => return false,
            _ => previous_space = false,
        }
    }
    !previous_space || line.is_empty()
}

/// Writes the key of `line` into `key` (cleared first). Stops early, returning
/// false, as soon as the key would exceed `limit` bytes: a line longer than any
/// whole-line rule can match is not worth folding in full.
pub fn fold_into(line: &str, key: &mut String, limit: usize) -> bool {
    key.clear();
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
        let needed = folded.len_utf8() + usize::from(pending_space);
        if key.len() + needed > limit {
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

    #[test]
    fn identity_fast_path_agrees_with_fold() {
        for line in [
            "Share This",
            "a",
            "",
            " lead",
            "trail ",
            "two  spaces",
            "tab\there",
            "caf\u{e9}",
        ] {
            if key_is_identity(line.as_bytes()) {
                assert_eq!(key(line), line, "{line:?}");
            }
        }
        assert!(key_is_identity(b"Share This"));
        assert!(!key_is_identity(b"two  spaces"));
        assert!(!key_is_identity(b"trail "));
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
