//! The packs compiled into the binary. A test checks that this list and the
//! `rules/*.toml` files are the same set.

/// `(file name, text)` of every shipped pack, in the order they load.
pub(super) const PACKS: &[(&str, &str)] =
    &[("social.toml", include_str!("../../rules/social.toml"))];
