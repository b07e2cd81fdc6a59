//! dechaff's integration tests, as one test binary.
//!
//! Each module runs the built `dechaff` binary (or the library, for rule
//! registry invariants) and checks one promise: error messages and exit
//! codes, identical bytes for any number of workers, byte-exact provenance,
//! the shipped packs' invariants, the `explain` rendering, and the golden
//! seeds. `util` runs the binary; `corpus` generates a test tree.

mod bad_input;
mod cli_errors;
mod corpus;
mod crash_safety;
mod determinism;
mod explain;
mod golden;
mod hostile_paths;
mod partition;
mod properties;
mod rule_packs;
mod util;
