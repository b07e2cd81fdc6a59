//! dechaff's integration tests, as one test binary.
//!
//! Each module runs the built `dechaff` binary (or the library, for rule
//! registry invariants) and checks one promise: error messages and exit
//! codes, identical bytes for any number of workers, byte-exact provenance,
//! the shipped packs' invariants, the `explain` rendering, and the golden
//! seeds, and every input and output format (`io_formats`, `bad_records`,
//! `resume`). `equivalence` runs one set of documents through every path and
//! holds each to the library's kept text and spans. `util` runs the binary;
//! `corpus` generates a test tree.

mod bad_input;
mod bad_records;
mod cli_errors;
mod corpus;
mod corpus_mode;
mod crash_safety;
mod determinism;
mod document_filters;
mod equivalence;
mod eval;
mod explain;
mod explain_records;
mod golden;
mod heuristics;
mod hostile_paths;
mod input_selection;
mod io_formats;
mod layering;
mod line_model;
mod memory;
mod parquet_io;
mod partition;
mod patterns;
mod properties;
mod resume;
mod rule_packs;
mod run_safety;
mod run_stats;
mod schema;
mod util;
