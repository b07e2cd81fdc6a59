//! The decoder on arbitrary bytes, detecting and with every kind of forced
//! encoding (UTF-8, UTF-16 both ways, a single-byte and a multi-byte legacy
//! one).
#![no_main]

use std::borrow::Cow;

use dechaff_run::decode::{decode, EncodingChoice};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match decode(data, EncodingChoice::Detect) {
        Ok(decoded) => {
            // Valid UTF-8 without a BOM is taken as it is, never re-guessed.
            if let Ok(text) = std::str::from_utf8(data) {
                if !data.starts_with(b"\xEF\xBB\xBF") && decoded.encoding == "UTF-8" {
                    assert!(matches!(decoded.text, Cow::Borrowed(_)));
                    assert_eq!(decoded.text, text);
                }
            }
        }
        Err(_) => {
            // Only NUL bytes make a file binary.
            assert!(data.contains(&0), "refused without a NUL byte");
        }
    }
    for label in ["utf-8", "utf-16le", "utf-16be", "windows-1252", "shift_jis", "gb18030"] {
        let choice = EncodingChoice::from_label(label).expect("a known label");
        let decoded = decode(data, choice).expect("a forced encoding never refuses");
        assert!(!decoded.encoding.is_empty());
    }
});
