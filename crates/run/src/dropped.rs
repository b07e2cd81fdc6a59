//! Document filters: which cleaned documents are not written (`--drop`), and
//! the line each one leaves in the filtered-out file (`--dropped`).
//!
//! A document emptied by cleaning, or one the rules cut more of than the
//! removal budget allows, is usually not worth training on. Refusing it
//! (`--strict`) makes the run fail, and a scheduler retries a failed shard
//! forever; dropping it is a decision about the document, not a failure:
//! the run goes on and exits 0, the document is counted, its provenance
//! record says `"status":"dropped"` with the reason, and with `--dropped`
//! the record goes, as it came, to a JSONL file of its own, as datatrove's
//! exclusion writer keeps what a filter took out: `.record` of each line is
//! a document that can be read again.

use serde::Serialize;

use crate::filters::DropReason;
use crate::input::{Document, Envelope};
use crate::output;

/// The dropped file's line for `document`: where it came from (`source` and,
/// for a record, its location), the reason, and the record as it came
/// under `record`: a JSONL line as written, a WARC or Parquet document as
/// the JSONL record dechaff would write for it with its original text, a
/// text file as `{"id": PATH, "text": TEXT}`.
pub fn dropped_line(document: &Document, is_record: bool, reason: DropReason) -> String {
    #[derive(Serialize)]
    struct DroppedLine<'a> {
        source: &'a str,
        #[serde(flatten)]
        location: Option<&'a crate::provenance::DocumentLocation>,
        reason: DropReason,
        record: &'a serde_json::value::RawValue,
    }
    let source = document.source.to_string_lossy();
    let rewritten;
    let record = match &document.envelope {
        Envelope::Jsonl(jsonl) => jsonl.line.as_str(),
        _ => {
            rewritten = output::document_line(document, &document.text, None)
                .expect("a record without metadata to embed is never refused");
            rewritten.as_str()
        }
    };
    let record = serde_json::value::RawValue::from_string(record.to_string())
        .expect("an input record that was cleaned is a JSON object");
    let line = DroppedLine {
        source: &source,
        location: is_record.then_some(&document.location),
        reason,
        record: &record,
    };
    serde_json::to_string(&line).expect("a dropped line always serializes")
}
