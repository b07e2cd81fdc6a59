//! The digests every layer records: SHA-256 as lowercase hex.
//!
//! One function, at the bottom of the engine, so that the rules' fingerprint,
//! the inputs' and outputs' hashes in provenance and `--resume`'s checks all
//! spell a digest the same way.

use sha2::{Digest, Sha256};

/// SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
