//! The WARC reader on arbitrary bytes, plain, gzip or zstd: every record is a
//! document, a bad record or the end of the stream, never a panic or a hang,
//! and every document survives cleaning and being written back.
#![no_main]

use std::sync::Mutex;

use dechaff::input::InputFormat;
use dechaff::Cleaner;
use libfuzzer_sys::fuzz_target;

#[path = "records.rs"]
mod records;

static CLEANER: Mutex<Option<Cleaner>> = Mutex::new(None);

fuzz_target!(|data: &[u8]| {
    let mut guard = CLEANER.lock().unwrap();
    let cleaner = guard.get_or_insert_with(|| Cleaner::with_shipped_rules().expect("the shipped rules compile"));
    records::read_all(cleaner, InputFormat::Warc, data);
});
