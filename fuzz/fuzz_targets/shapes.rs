//! Structure-aware: documents built from shapes that byte-level fuzzing
//! rarely reaches: hundreds of thousands of short lines, one long line,
//! boilerplate phrases and comment furniture among prose, blank and `\r`
//! runs. Each document is cleaned as text (every byte accounted for), and
//! wrapped as a JSONL record and as a WARC conversion record and read back
//! through the run layer's readers: the reader must give the same text,
//! and cleaning it the same output. Memory per document is bounded by
//! running with `-rss_limit_mb` (`tools/fuzz-all` sets it).
#![no_main]

mod common;

use std::path::Path;
use std::sync::{Mutex, OnceLock};

use dechaff_engine::Cleaner;
use dechaff_run::decode::{decode, EncodingChoice};
use dechaff_run::input::{Compression, Documents, InputFormat, Item, ReadSettings};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

fn cleaner() -> &'static Mutex<Cleaner> {
    static CLEANER: OnceLock<Mutex<Cleaner>> = OnceLock::new();
    CLEANER.get_or_init(|| Mutex::new(Cleaner::with_shipped_rules().expect("the shipped packs compile")))
}

/// Pieces of lines: short ones, the blanks the normaliser trims, and the
/// phrases and furniture the rules and heuristics act on.
const ATOMS: &[&str] = &[
    "a",
    "ab",
    " ",
    "\r",
    "\u{a0}",
    "\u{200b}",
    "é",
    "Ж",
    "。",
    "x.",
    "Reply",
    "Share This",
    "Leave a Reply",
    "12 Comments",
    "Ann says:",
    "May 3, 2012 at 10:41 am",
    "Related Articles",
    "By Staff Reporter",
    "Subscribe to our newsletter",
    "© 2012 Example.com",
    "The minister met the council on Tuesday and said that the talks would go on.",
];

/// One piece of a document.
fn piece(u: &mut Unstructured<'_>, text: &mut String) -> Result<()> {
    match u.int_in_range(0u8..=4)? {
        // Many copies of one short line.
        0 => {
            let line = *u.choose(ATOMS)?;
            let count = u.int_in_range(1u32..=200_000)?;
            for _ in 0..count {
                text.push_str(line);
                text.push('\n');
            }
        }
        // One long line of a repeated atom.
        1 => {
            let atom = *u.choose(ATOMS)?;
            let bytes = u.int_in_range(1usize..=1 << 20)?;
            while text.len() < bytes {
                text.push_str(atom);
                text.push(' ');
            }
            text.push('\n');
        }
        // A paragraph of atoms.
        2 => {
            for _ in 0..u.int_in_range(1u8..=12)? {
                text.push_str(u.choose(ATOMS)?);
                text.push(' ');
            }
            text.push('\n');
        }
        // Blank lines, `\r\n` or bare `\n`.
        3 => {
            let ending = if u.arbitrary()? { "\r\n" } else { "\n" };
            for _ in 0..u.int_in_range(1u8..=20)? {
                text.push_str(ending);
            }
        }
        // A few raw characters, for what the atoms do not cover.
        _ => {
            let raw: String = u.arbitrary()?;
            text.push_str(&raw);
        }
    }
    Ok(())
}

fn document(u: &mut Unstructured<'_>) -> Result<String> {
    let mut text = String::new();
    for _ in 0..u.int_in_range(1u8..=8)? {
        piece(u, &mut text)?;
        if text.len() > 4 << 20 {
            break;
        }
    }
    Ok(text)
}

/// Reads `stored` as `format` and returns its documents' texts (a refused
/// record as `Err`).
fn read_back(stored: Vec<u8>, format: InputFormat) -> Vec<std::result::Result<String, String>> {
    let settings = ReadSettings {
        max_doc_bytes: 64 << 20,
        ..ReadSettings::default()
    };
    let (documents, _, _) = Documents::from_stored(
        Box::new(std::io::Cursor::new(stored)),
        Path::new("fuzz"),
        Some(format),
        Some(Compression::None),
        &settings,
    )
    .expect("a plain stream opens");
    documents
        .filter_map(|item| match item.expect("a well-formed stream reads") {
            Item::Document(document) => Some(Ok(document.text)),
            Item::Bad(bad) => Some(Err(bad.reason.to_string())),
            Item::NotADocument(_) => None,
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(text) = document(&mut u) else {
        return;
    };
    let mut cleaner = cleaner().lock().unwrap_or_else(|e| e.into_inner());
    let decoded = decode(text.as_bytes(), EncodingChoice::Detect);
    if let Ok(decoded) = &decoded {
        common::clean_and_check(&mut cleaner, text.as_bytes(), decoded);
    }
    let expected = cleaner.clean(&text).text.clone();

    // The same text as a JSONL record, between two others.
    let record = serde_json::json!({"id": "d", "text": text}).to_string();
    let jsonl = format!("{{\"text\":\"before\"}}\n{record}\n{{\"text\":\"after\"}}\n");
    let texts = read_back(jsonl.into_bytes(), InputFormat::Jsonl);
    assert_eq!(texts.len(), 3);
    assert_eq!(texts[1].as_ref(), Ok(&text), "the JSONL reader changed the text");
    assert_eq!(cleaner.clean(&text).text, expected, "cleaning is not deterministic");

    // As a WARC conversion record, between two others. A text the decoder
    // reads differently (a byte-order mark, a NUL) is not compared.
    let warc_record = |body: &str| {
        format!(
            "WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Target-URI: https://example.org/\r\nContent-Length: {}\r\n\r\n{body}\r\n\r\n",
            body.len()
        )
    };
    let warc = [warc_record("before\n"), warc_record(&text), warc_record("after\n")].concat();
    let texts = read_back(warc.into_bytes(), InputFormat::Warc);
    if matches!(&decoded, Ok(d) if d.text == text) {
        assert_eq!(texts.len(), 3, "a record was lost");
        assert_eq!(texts[1].as_ref(), Ok(&text), "the WARC reader changed the text");
    }
    assert_eq!(
        texts.last().and_then(|t| t.as_deref().ok()),
        Some("after\n"),
        "the last record was swallowed"
    );
});
