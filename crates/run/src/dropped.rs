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

use serde::{Deserialize, Serialize};

use crate::input::{Document, Envelope};
use crate::output;

/// Why a document was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DropReason {
    /// Nothing but whitespace is left after cleaning.
    Empty,
    /// The rules removed more than the removal budget.
    OverBudget,
}

impl DropReason {
    /// The reason as `--drop` and the dropped file name it.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Empty => "empty",
            DropReason::OverBudget => "over-budget",
        }
    }
}

impl std::fmt::Display for DropReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which documents are dropped instead of written (`--drop`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DocumentFilters {
    /// Drop a document with nothing but whitespace left.
    pub empty: bool,
    /// Drop a document over the removal budget (instead of warning, or with
    /// `--strict` refusing it).
    pub over_budget: bool,
}

impl DocumentFilters {
    /// Filters that drop for each of `reasons`.
    pub fn of(reasons: &[DropReason]) -> DocumentFilters {
        DocumentFilters {
            empty: reasons.contains(&DropReason::Empty),
            over_budget: reasons.contains(&DropReason::OverBudget),
        }
    }

    /// True when some filter is on.
    pub fn any(&self) -> bool {
        self.empty || self.over_budget
    }

    /// Why a document whose cleaned text is `clean` (over the budget or not)
    /// is dropped, if it is. An emptied document is usually over the budget
    /// too: `empty` says more, so it comes first.
    pub fn reason(&self, clean: &str, over_budget: bool) -> Option<DropReason> {
        if self.empty && clean.trim().is_empty() {
            Some(DropReason::Empty)
        } else if self.over_budget && over_budget {
            Some(DropReason::OverBudget)
        } else {
            None
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_comes_before_over_budget_and_only_when_asked() {
        let both = DocumentFilters::of(&[DropReason::OverBudget, DropReason::Empty]);
        assert_eq!(both.reason(" \n", true), Some(DropReason::Empty));
        assert_eq!(both.reason("kept\n", true), Some(DropReason::OverBudget));
        assert_eq!(both.reason("kept\n", false), None);
        let empty = DocumentFilters::of(&[DropReason::Empty]);
        assert_eq!(empty.reason("kept\n", true), None);
        assert!(!DocumentFilters::default().any());
    }
}
