//! Shared by the `jsonl` and `warc` targets: a container file's bytes, stored
//! plain, gzip or zstd (the first byte chooses), read to the end as documents;
//! every document is cleaned and written back as its output record.

use std::path::Path;
use std::sync::{Mutex, OnceLock};

use dechaff_run::input::{Compression, Documents, InputFormat, Item, ReadSettings};
use dechaff_engine::Cleaner;

/// One cleaner for the whole run: compiling the shipped packs per input would
/// make the fuzzer measure the compiler.
fn cleaner() -> &'static Mutex<Cleaner> {
    static CLEANER: OnceLock<Mutex<Cleaner>> = OnceLock::new();
    CLEANER.get_or_init(|| Mutex::new(Cleaner::with_shipped_rules().expect("the shipped packs compile")))
}

pub fn read_all(format: InputFormat, data: &[u8]) {
    let mut cleaner = cleaner().lock().unwrap_or_else(|e| e.into_inner());
    let Some((&choice, bytes)) = data.split_first() else {
        return;
    };
    let compression = match choice % 3 {
        0 => Compression::None,
        1 => Compression::Gzip,
        _ => Compression::Zstd,
    };
    let settings = ReadSettings {
        // Small, so the oversized-record path is reached too.
        max_doc_bytes: 4096,
        ..ReadSettings::default()
    };
    let stored: Box<dyn std::io::Read + Send> = Box::new(std::io::Cursor::new(bytes.to_vec()));
    // A stream that cannot even start (a bad gzip header) is an error, not a panic.
    let Ok((mut documents, _, _)) =
        Documents::from_stored(stored, Path::new("fuzz"), Some(format), Some(compression), &settings)
    else {
        return;
    };
    let mut items = 0usize;
    while let Some(item) = documents.next_item() {
        items += 1;
        assert!(items <= bytes.len() + 1, "more items than bytes: the reader does not advance");
        match item {
            Ok(Item::Document(document)) => {
                let cleaned = cleaner.clean(&document.text);
                let _ = dechaff_run::output::document_line(&document, &cleaned.text, Some("{}"));
            }
            Ok(Item::Bad(bad)) => assert!(!bad.reason.to_string().is_empty()),
            Ok(Item::NotADocument(_)) => {}
            Err(error) => assert!(!error.message.is_empty()),
        }
    }
    let _ = documents.stored();
}
