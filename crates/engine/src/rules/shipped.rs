//! The packs compiled into the binary. A test checks that this list and the
//! `rules/*.toml` files are the same set.

/// `(file name, text)` of every shipped pack, in the order they load.
pub(super) const PACKS: &[(&str, &str)] = &[
    ("account.toml", include_str!("../../../../rules/account.toml")),
    ("ads.toml", include_str!("../../../../rules/ads.toml")),
    ("bylines.toml", include_str!("../../../../rules/bylines.toml")),
    ("comments.toml", include_str!("../../../../rules/comments.toml")),
    ("contact.toml", include_str!("../../../../rules/contact.toml")),
    ("donation.toml", include_str!("../../../../rules/donation.toml")),
    ("heuristics.toml", include_str!("../../../../rules/heuristics.toml")),
    ("legal.toml", include_str!("../../../../rules/legal.toml")),
    ("masthead.toml", include_str!("../../../../rules/masthead.toml")),
    ("navigation.toml", include_str!("../../../../rules/navigation.toml")),
    (
        "photo-credits.toml",
        include_str!("../../../../rules/photo-credits.toml"),
    ),
    ("protect.toml", include_str!("../../../../rules/protect.toml")),
    ("related.toml", include_str!("../../../../rules/related.toml")),
    ("social.toml", include_str!("../../../../rules/social.toml")),
    ("subscribe.toml", include_str!("../../../../rules/subscribe.toml")),
    ("syndication.toml", include_str!("../../../../rules/syndication.toml")),
    ("toolbar.toml", include_str!("../../../../rules/toolbar.toml")),
];
