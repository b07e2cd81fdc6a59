//! Bytes to text.
//!
//! The order is the one that loses least: a byte-order mark decides; else
//! valid UTF-8 is taken as UTF-8; else `chardetng` guesses a legacy encoding
//! and `encoding_rs` decodes it. `--encoding` overrides all of it. The result
//! says which encoding was used and whether any byte had to be replaced, so
//! provenance can flag lossy documents instead of hiding them.
//!
//! A file with NUL bytes and no UTF-16 byte-order mark is refused as binary:
//! cleaning an image as Windows-1252 would write garbage into a corpus.

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
                return Err(DecodeError::Binary { offset });
            }
            if let Ok(text) = std::str::from_utf8(bytes) {
                return Ok(Decoded {
                    text: Cow::Borrowed(text),
                    encoding: "UTF-8",
                    lossy: false,
                });
            }
            let mut detector = chardetng::EncodingDetector::new();
            detector.feed(bytes, true);
            detector.guess(None, true)
        }
    };
    let (text, used, lossy) = encoding.decode(bytes);
    Ok(Decoded {
        text,
        encoding: used.name(),
        lossy,
    })
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
}
