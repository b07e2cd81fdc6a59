//! `dechaff explain`: what a person reads to see why text went.
//!
//! Removed lines carry `- ` in the margin and `[rule.id]` after the first of
//! them, inline cuts show in place as `[-text-]{rule.id}`, and kept lines are
//! printed as they are. The pack is the test's own, with the shipped packs
//! off, so the expected output does not move when the shipped rules change.

use std::path::Path;

use crate::util::{dechaff_in, temp_dir, write, Run};

const PACK: &str = r#"[pack]
name = "t"
version = "1"
description = "explain test"

[[rule]]
id = "t.share"
description = "share label"
literals = ["Share This"]

[[rule]]
id = "t.email"
description = "e-mail obfuscation residue"
kind = "inline"
pattern = '\[email protected\]'

[[rule]]
id = "t.box"
description = "subscription box"
kind = "block"
start = 'subscribe to .+'
end = 'you have successfully subscribed!?'
max-lines = 5
"#;

fn explain(dir: &Path, document: &str, color: &str) -> Run {
    write(&dir.join("doc.txt"), document);
    write(&dir.join("t.toml"), PACK);
    dechaff_in(
        dir,
        [
            "explain",
            "doc.txt",
            "--color",
            color,
            "--rules",
            "t.toml",
            "--no-default-rules",
        ],
    )
}

const DOCUMENT: &str = "Title\n\
    \n\
    Body with [email protected] inside.\n\
    Share This\n\
    Subscribe to X\n\
    middle\n\
    You have successfully subscribed!\n\
    More body.\n";

#[test]
fn explain_marks_removed_lines_inline_cuts_and_keeps_the_rest() {
    let dir = temp_dir();
    let run = explain(dir.path(), DOCUMENT, "never");
    run.assert_code(0);
    let expected = "Title\n\
        \n\
        Body with [-[email protected] -]{t.email}inside.\n\
        - Share This  [t.share]\n\
        - Subscribe to X  [t.box]\n\
        - middle\n\
        - You have successfully subscribed!\n\
        More body.\n";
    assert_eq!(run.stdout, expected);
    assert!(!run.stdout.contains('\x1b'), "--color never printed an escape");
}

#[test]
fn explain_colours_removals_with_color_always() {
    let dir = temp_dir();
    let run = explain(dir.path(), DOCUMENT, "always");
    run.assert_code(0);
    assert!(run.stdout.contains("\x1b["), "no ANSI escape in:\n{}", run.stdout);
    // Kept lines are not coloured.
    assert!(run.stdout.starts_with("Title\n\nBody with "), "{:?}", run.stdout);
    assert!(run.stdout.ends_with("\nMore body.\n"), "{:?}", run.stdout);
    // Take the escapes out and the plain rendering is left.
    let mut plain = String::new();
    let mut rest = run.stdout.as_str();
    while let Some(i) = rest.find('\x1b') {
        plain.push_str(&rest[..i]);
        let end = rest[i..].find('m').expect("an escape ends with m");
        rest = &rest[i + end + 1..];
    }
    plain.push_str(rest);
    assert_eq!(plain, explain(dir.path(), DOCUMENT, "never").stdout);
}

/// An inline cut that starts a line is still an inline cut: the rest of the
/// line is kept and must stay on the same line.
#[test]
fn explain_shows_an_inline_cut_at_the_start_of_a_line_in_place() {
    let dir = temp_dir();
    let document = "Title\n[email protected] wrote this line.\nEnd.\n";
    let run = explain(dir.path(), document, "never");
    run.assert_code(0);
    assert_eq!(
        run.stdout,
        "Title\n[-[email protected] -]{t.email}wrote this line.\nEnd.\n"
    );
}

/// In a CRLF document the rule tag must follow the removed text on the same
/// visible line: a carriage return before it sends a terminal's cursor back
/// and the tag overwrites the start of the line.
#[test]
fn explain_keeps_carriage_returns_out_of_removed_lines() {
    let dir = temp_dir();
    let document = "Title\r\nSubscribe to X\r\nmiddle\r\nYou have successfully subscribed!\r\nMore body.\r\n";
    let run = explain(dir.path(), document, "never");
    run.assert_code(0);
    let removed: Vec<&str> = run.stdout.lines().filter(|line| line.starts_with("- ")).collect();
    assert_eq!(
        removed,
        [
            "- Subscribe to X  [t.box]",
            "- middle",
            "- You have successfully subscribed!"
        ],
        "{:?}",
        run.stdout
    );
    // Kept lines are printed as they are, CRLF included.
    assert!(run.stdout.starts_with("Title\r\n"), "{:?}", run.stdout);
    assert!(run.stdout.ends_with("More body.\r\n"), "{:?}", run.stdout);
}
