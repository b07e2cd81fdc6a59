//! dechaff's engine: strips boilerplate from scraped web text and says what it removed.
//!
//! Scraped pages arrive with share bars, subscribe boxes, comment notices,
//! photo credits and footers around the article. dechaff removes them with
//! rules written as data ([`rules`]), keeps every sentence of the article, and
//! says for every removed span which rule removed it ([`Removal`]).
//!
//! This crate is the engine: text in, kept text and removals out. It never
//! prints, starts no threads of its own beyond compiling rules side by side,
//! and knows nothing of the command line, of files to clean or of their
//! formats (that is the run layer, `dechaff-run`). A cleaning goes rules →
//! [`Cleaner`]:
//!
//! ```
//! use dechaff_engine::{CleanerBuilder, RuleSet};
//!
//! let rules = RuleSet::shipped()?;
//! let mut cleaner = CleanerBuilder::new().build(rules)?;
//! let rules = cleaner.shared_rules();
//! let page = "Haftar visits Moscow\n\nThe general met the minister on Tuesday.\n\nShare This\n";
//! let cleaned = cleaner.clean(page);
//! assert_eq!(cleaned.text, "Haftar visits Moscow\n\nThe general met the minister on Tuesday.\n");
//! let rule = &rules.rules()[cleaned.removals()[0].rule];
//! assert_eq!(rule.id, "social.share-label");
//! # Ok::<(), dechaff_engine::Error>(())
//! ```
//!
//! A [`Cleaner`] is built once and cloned per thread; clones share the
//! compiled rules and own their scratch buffers.
#![deny(missing_docs)]

// Modules from the bottom up: each uses only those above it in this list.
pub mod clean;
pub mod corpus;
pub mod error;
pub mod explain;
pub mod fold;
pub mod grep;
pub mod hash;
pub mod heuristic;
mod lines;
mod matcher;
mod memo;
pub mod rules;
pub mod selftest;

pub use clean::{
    CleanConfig, CleanSummary, Cleaned, CleanedSpans, Cleaner, CleanerBuilder, Comments, OwnedCleaned, Removal,
};
pub use corpus::{LineEvidence, NoEvidence};
pub use error::{Error, ErrorKind, Result};
pub use lines::MAX_DOCUMENT_BYTES;
pub use rules::{RuleSet, RuleSetBuilder};
pub use selftest::ExampleFailure;
