//! The JSONL reader on arbitrary bytes, plain, gzip or zstd: every record is a
//! document, a bad record or the end of the stream, never a panic or a hang,
//! and every document survives cleaning and being written back.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "records.rs"]
mod records;

fuzz_target!(|data: &[u8]| records::read_all(dechaff_run::input::InputFormat::Jsonl, data));
