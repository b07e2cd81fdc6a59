//! dechaff strips boilerplate from scraped web text and records what it removed.
//!
//! Scraped pages arrive with share bars, subscribe boxes, comment notices,
//! photo credits and footers around the article. dechaff removes them with
//! rules written as data ([`rules`]), keeps every sentence of the article, and
//! accounts for every removed byte in a provenance record ([`provenance`]).
//!
//! The library is the engine: it never prints and knows nothing of the
//! command line. A run goes rules → [`Cleaner`] → [`pipeline`]:
//!
//! ```
//! use dechaff::{CleanerBuilder, RuleSet};
//!
//! let rules = RuleSet::shipped()?;
//! let mut cleaner = CleanerBuilder::new().build(rules)?;
//! let rules = cleaner.shared_rules();
//! let page = "Haftar visits Moscow\n\nThe general met the minister on Tuesday.\n\nShare This\n";
//! let cleaned = cleaner.clean(page);
//! assert_eq!(cleaned.text, "Haftar visits Moscow\n\nThe general met the minister on Tuesday.\n");
//! let rule = &rules.rules()[cleaned.removals[0].rule];
//! assert_eq!(rule.id, "social.share-label");
//! # Ok::<(), dechaff::Error>(())
//! ```
//!
//! A [`Cleaner`] is built once and cloned per thread; clones share the
//! compiled rules and own their scratch buffers.
#![deny(missing_docs)]

pub mod clean;
pub mod corpus;
pub mod decode;
pub mod error;
pub mod eval;
pub mod explain;
mod fold;
pub mod grep;
pub mod heuristic;
pub mod input;
mod matcher;
pub mod output;
pub mod pipeline;
pub mod provenance;
mod resume;
pub mod rules;
mod stream;

pub use clean::{CleanConfig, Cleaned, Cleaner, CleanerBuilder, Comments, LineEvidence, NoEvidence, Removal};
pub use error::{Error, ErrorKind, Result};
pub use rules::{RuleSet, RuleSetBuilder};
