//! The cleaner with the shipped packs on arbitrary bytes: decode (detecting
//! the encoding, as `dechaff clean` does), clean, and check that every byte
//! is accounted for.
#![no_main]

mod common;

use std::sync::{Mutex, OnceLock};

use dechaff_run::decode::{decode, EncodingChoice};
use dechaff_engine::Cleaner;
use libfuzzer_sys::fuzz_target;

/// Compiling the shipped packs takes a tenth of a second: once per process.
fn cleaner() -> &'static Mutex<Cleaner> {
    static CLEANER: OnceLock<Mutex<Cleaner>> = OnceLock::new();
    CLEANER.get_or_init(|| Mutex::new(Cleaner::with_shipped_rules().expect("the shipped packs compile")))
}

fuzz_target!(|data: &[u8]| {
    let Ok(decoded) = decode(data, EncodingChoice::Detect) else {
        return;
    };
    let mut cleaner = cleaner().lock().unwrap();
    common::clean_and_check(&mut cleaner, data, &decoded);
});
