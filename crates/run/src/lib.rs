//! dechaff's run layer: files and records in, cleaned outputs and provenance out.
//!
//! The engine (`dechaff-engine`) cleans one text. This crate makes a run of
//! it: inputs in any encoding and format ([`decode`], [`input`]) become one
//! stream of [`input::Document`]s, a [`plan::Plan`] says where each goes, the
//! [`pipeline`] cleans them in parallel and in order, a [`sink::Sink`] puts
//! the results in place, and [`provenance`] records what was removed, with
//! [`resume`] able to pick a killed run up again. It never prints: results
//! and progress reach the caller through [`pipeline::Reporter`].
//!
//! ```no_run
//! use dechaff_engine::{CleanerBuilder, RuleSet};
//! use dechaff_run::plan::{plan, RunConfig};
//! use dechaff_run::pipeline;
//!
//! let cleaner = CleanerBuilder::new().build(RuleSet::shipped()?)?;
//! let config = RunConfig::new(vec!["pages".into()], "cleaned".into());
//! let summary = pipeline::run(&plan(&config)?, &config, &cleaner, &mut |_: &pipeline::FileReport| {})?;
//! assert!(!summary.has_failures());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

// Modules from the bottom up: each uses only those above it in this list.
pub mod attributes;
pub mod corpus_pass;
pub mod decode;
pub mod display;
pub mod dropped;
pub mod error;
pub mod filters;
pub mod input;
mod lock;
pub mod output;
pub mod output_dir;
pub mod parquet_output;
pub mod pipeline;
pub mod plan;
pub mod provenance;
pub mod resume;
pub mod select;
pub mod sink;
pub mod span_log;
pub mod stats;

pub use error::{Error, ErrorKind, Result};
