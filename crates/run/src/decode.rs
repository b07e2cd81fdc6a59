//! Bytes to text.
//!
//! The order is the one that loses least: a byte-order mark decides; else
//! valid UTF-8 is taken as UTF-8; else `chardetng` guesses a legacy encoding
//! and `encoding_rs` decodes it. `--encoding` overrides all of it. The result
//! says which encoding was used and whether any byte had to be replaced, so
//! provenance can flag lossy documents instead of hiding them.
//!
//! A file with NUL bytes is refused as binary, unless it reads as UTF-16
//! without a byte-order mark (text where every other byte is NUL and no
//! control character appears): cleaning an image as Windows-1252 would write
//! garbage into a corpus.
//!
//! Invalid UTF-8 is not always a legacy encoding: scraped pages are often
//! UTF-8 with a few stray bytes. When the valid multi-byte sequences outnumber
//! the invalid ones ten to one, the text is decoded as UTF-8 with the stray
//! bytes replaced (and reported as lossy), instead of letting a detector turn
//! every accented letter into mojibake.

use std::borrow::Cow;

use encoding_rs::Encoding;

/// How many leading bytes are checked for NUL.
const BINARY_SNIFF_BYTES: usize = 8192;

/// How to pick the encoding.
#[derive(Debug, Clone, Copy, Default)]
pub enum EncodingChoice {
    /// BOM, then UTF-8, then detection.
    #[default]
    Detect,
    /// Always this one (the BOM is still stripped when it agrees).
    Forced(&'static Encoding),
}

impl EncodingChoice {
    /// Parses a WHATWG label such as `utf-8`, `windows-1252`, `shift_jis`.
    pub fn from_label(label: &str) -> Option<EncodingChoice> {
        Encoding::for_label(label.trim().as_bytes()).map(EncodingChoice::Forced)
    }
}

/// Decoded text and how it was obtained.
#[derive(Debug)]
pub struct Decoded<'a> {
    /// The text, borrowed when the input was already UTF-8 without a BOM.
    pub text: Cow<'a, str>,
    /// The encoding's canonical name (`UTF-8`, `windows-1252`, …).
    pub encoding: &'static str,
    /// True when some bytes were malformed and replaced by U+FFFD.
    pub lossy: bool,
}

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// A NUL byte at this offset, and no UTF-16 BOM.
    Binary {
        /// Byte offset of the first NUL.
        offset: usize,
    },
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Binary { offset } => {
                write!(f, "binary file (NUL byte at offset {offset}); not cleaned")
            }
        }
    }
}

/// Decodes `bytes` as `choice` says.
pub fn decode(bytes: &[u8], choice: EncodingChoice) -> Result<Decoded<'_>, DecodeError> {
    let bom = Encoding::for_bom(bytes);
    let encoding = match (choice, bom) {
        (EncodingChoice::Forced(encoding), _) => encoding,
        (EncodingChoice::Detect, Some((encoding, _))) => encoding,
        (EncodingChoice::Detect, None) => {
            let sniff = &bytes[..bytes.len().min(BINARY_SNIFF_BYTES)];
            if let Some(offset) = memchr::memchr(0, sniff) {
                utf16_without_bom(sniff).ok_or(DecodeError::Binary { offset })?
            } else if let Ok(text) = std::str::from_utf8(bytes) {
                return Ok(Decoded {
                    text: Cow::Borrowed(text),
                    encoding: "UTF-8",
                    lossy: false,
                });
            } else if is_mostly_utf8(bytes) {
                encoding_rs::UTF_8
            } else {
                let mut detector = chardetng::EncodingDetector::new();
                detector.feed(bytes, true);
                detector.guess(None, true)
            }
        }
    };
    let (text, used, lossy) = encoding.decode(bytes);
    Ok(Decoded {
        text,
        encoding: used.name(),
        lossy,
    })
}

/// UTF-16LE or BE when `sniff` (a file's first bytes, with a NUL among them)
/// reads as BOM-less UTF-16 text: at least half of the code units have a
/// zero high byte, no low byte is zero, and the units decode without error
/// to text with no control character other than tab, line ends and form
/// feed. Arrays of small binary integers fail the last test.
fn utf16_without_bom(sniff: &[u8]) -> Option<&'static Encoding> {
    let units = sniff.len() / 2;
    if units < 2 {
        return None;
    }
    let zeros_at = |parity: usize| {
        sniff[..units * 2]
            .iter()
            .skip(parity)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let (even, odd) = (zeros_at(0), zeros_at(1));
    let encoding = match (even, odd) {
        (0, high) if high * 2 >= units => encoding_rs::UTF_16LE,
        (high, 0) if high * 2 >= units => encoding_rs::UTF_16BE,
        _ => return None,
    };
    // A cut surrogate pair at the end of the sniff is not an error.
    let checked = if sniff.len() > 8 {
        &sniff[..units * 2 - 2]
    } else {
        &sniff[..units * 2]
    };
    let text = encoding.decode_without_bom_handling_and_without_replacement(checked)?;
    let is_text = text
        .chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\u{c}'));
    is_text.then_some(encoding)
}

/// True when invalid UTF-8 is best read as UTF-8 with a few stray bytes: its
/// valid multi-byte characters outnumber its invalid sequences ten to one.
/// Legacy encodings rarely form valid UTF-8 sequences (Windows-1252 almost
/// never; Shift_JIS and EUC at most about as often as invalid ones).
fn is_mostly_utf8(bytes: &[u8]) -> bool {
    let (mut multibyte, mut invalid) = (0usize, 0usize);
    for chunk in bytes.utf8_chunks() {
        multibyte += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        invalid += usize::from(!chunk.invalid().is_empty());
    }
    invalid > 0 && multibyte >= 10 * invalid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_is_borrowed() {
        let decoded = decode("caf\u{e9}".as_bytes(), EncodingChoice::Detect).unwrap();
        assert!(matches!(decoded.text, Cow::Borrowed(_)));
        assert_eq!(decoded.encoding, "UTF-8");
    }

    #[test]
    fn bom_decides_and_is_stripped() {
        let decoded = decode(b"\xEF\xBB\xBFhi", EncodingChoice::Detect).unwrap();
        assert_eq!(decoded.text, "hi");
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("hi".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let decoded = decode(&utf16, EncodingChoice::Detect).unwrap();
        assert_eq!((decoded.text.as_ref(), decoded.encoding), ("hi", "UTF-16LE"));
    }

    #[test]
    fn legacy_text_is_detected() {
        let bytes = b"Le caf\xe9 de la r\xe9publique est ferm\xe9 \xe0 cause de la gr\xe8ve g\xe9n\xe9rale.";
        let decoded = decode(bytes, EncodingChoice::Detect).unwrap();
        assert_eq!(decoded.encoding, "windows-1252");
        assert!(decoded.text.contains("caf\u{e9}"));
        assert!(!decoded.lossy);
    }

    #[test]
    fn nul_bytes_are_binary() {
        assert_eq!(
            decode(b"GIF89a\0\0", EncodingChoice::Detect).unwrap_err(),
            DecodeError::Binary { offset: 6 }
        );
    }

    #[test]
    fn forced_encoding_reports_replacements() {
        let decoded = decode(b"ok \xff", EncodingChoice::from_label("utf-8").unwrap()).unwrap();
        assert!(decoded.lossy);
        assert_eq!(decoded.text, "ok \u{fffd}");
    }

    fn utf16(text: &str, little_endian: bool) -> Vec<u8> {
        text.encode_utf16()
            .flat_map(|unit| {
                if little_endian {
                    unit.to_le_bytes()
                } else {
                    unit.to_be_bytes()
                }
            })
            .collect()
    }

    /// Regression: BOM-less UTF-16 (what some Windows tools write) was
    /// refused as binary because its ASCII letters carry a NUL byte each.
    #[test]
    fn utf16_without_bom_is_text() {
        let text = "Title\r\n\r\nThe caf\u{e9} is open. \u{6771}\u{4eac}\n";
        for (little_endian, name) in [(true, "UTF-16LE"), (false, "UTF-16BE")] {
            let bytes = utf16(text, little_endian);
            let decoded = decode(&bytes, EncodingChoice::Detect).unwrap();
            assert_eq!((decoded.text.as_ref(), decoded.encoding), (text, name));
            assert!(!decoded.lossy);
        }
    }

    #[test]
    fn nul_bytes_that_are_not_utf16_text_stay_binary() {
        // Small little-endian integers: every other byte is zero, but they decode to control characters.
        let integers: Vec<u8> = (1u16..200).flat_map(u16::to_le_bytes).collect();
        assert!(matches!(
            decode(&integers, EncodingChoice::Detect),
            Err(DecodeError::Binary { .. })
        ));
        // Text with a run of NULs inside.
        assert!(matches!(
            decode(b"Some text\0\0\0 and more text\n", EncodingChoice::Detect),
            Err(DecodeError::Binary { offset: 9 })
        ));
    }

    /// Regression: a UTF-8 page with one stray byte was handed to the
    /// detector, which called it windows-1252 and turned every accented
    /// letter into two characters of mojibake, reported as not lossy.
    #[test]
    fn utf8_with_a_stray_byte_stays_utf8_and_is_lossy() {
        let mut bytes =
            "R\u{e9}sum\u{e9}: \u{e7}a co\u{fb}te 5 \u{20ac}, d\u{e9}j\u{e0} l\u{e0}, tr\u{e8}s \u{e9}t\u{e9}.\n"
                .as_bytes()
                .to_vec();
        bytes.extend_from_slice(b"A stray \xff byte.\n");
        let decoded = decode(&bytes, EncodingChoice::Detect).unwrap();
        assert_eq!(decoded.encoding, "UTF-8");
        assert!(decoded.lossy);
        assert!(decoded.text.starts_with("R\u{e9}sum\u{e9}"));
        assert!(decoded.text.contains("stray \u{fffd} byte"));
    }

    #[test]
    fn legacy_multibyte_text_is_not_taken_for_utf8() {
        // "Tokyo weather" in Shift_JIS, repeated: its bytes form some valid
        // UTF-8 sequences by accident, but far fewer than ten per invalid one.
        let sjis =
            b"\x93\x8c\x8b\x9e\x82\xcc\x93\x56\x8b\x43\x82\xcd\x90\xb0\x82\xea\x82\xc5\x82\xb7\x81\x42".repeat(20);
        let decoded = decode(&sjis, EncodingChoice::Detect).unwrap();
        assert_eq!(decoded.encoding, "Shift_JIS");
        assert!(decoded.text.starts_with("\u{6771}\u{4eac}\u{306e}\u{5929}\u{6c17}"));
    }
}
