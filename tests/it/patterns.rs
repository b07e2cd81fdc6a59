//! `dechaff rules patterns`: the line rules exported for `rg -v -f`.
//!
//! The benchmark hands this output to ripgrep, so every line must be a
//! pattern Rust's regex syntax accepts, one per line rule, and dropping the
//! lines it matches must drop what the line rules drop. When ripgrep is on
//! the PATH, it is run on the output too.

use std::process::Command;

use regex_automata::meta::Regex;

use crate::util::{dechaff, temp_dir, write};

const PACK: &str = r#"[pack]
name = "pt"
version = "1"
description = "Patterns test"

[[rule]]
id = "pt.share"
description = "Share labels"
literals = ["Share This", "Tweet (0)"]

[[rule]]
id = "pt.credit"
description = "Agency credit at the end of a caption"
case-sensitive = true
pattern = '.+\bREUTERS/\w+'

[[rule]]
id = "pt.reply"
description = "Comment form"
kind = "tail"
literals = ["Leave a Reply"]
"#;

const PAGE: &str = "Title\nShare This\n  tweet (0) \nA sentence about sharing this.\nA caption. REUTERS/Jane\nA caption. reuters/jane\nLeave a Reply\n";
const KEPT: [&str; 5] = [
    "Title",
    "A sentence about sharing this.",
    "A caption. reuters/jane",
    "Leave a Reply",
    "",
];

#[test]
fn patterns_of_a_pack_drop_what_its_line_rules_drop() {
    let dir = temp_dir();
    let pack = dir.path().join("pt.toml");
    write(&pack, PACK);
    let run = dechaff(
        ["rules", "patterns", "--no-default-rules", "--rules"]
            .map(String::from)
            .into_iter()
            .chain([pack.display().to_string()]),
    );
    run.assert_code(0);
    assert_eq!(
        run.stdout,
        "^[^\\S\\n]*(?i:Share This|Tweet \\(0\\))[^\\S\\n]*$\n^[^\\S\\n]*(?:.+(?-u:\\b)REUTERS/\\w+)[^\\S\\n]*$\n"
    );
    run.assert_stderr_line("dechaff: 1 block, tail and inline rules have no line-wise pattern and are left out");

    let regexes: Vec<Regex> = run.stdout.lines().map(|p| Regex::new(p).unwrap()).collect();
    let kept: Vec<&str> = PAGE
        .split('\n')
        .filter(|line| !regexes.iter().any(|r| r.is_match(line)))
        .collect();
    assert_eq!(kept, KEPT);

    // ripgrep, when installed, reads the same file and keeps the same lines.
    let patterns = dir.path().join("patterns");
    let page = dir.path().join("page.txt");
    write(&patterns, &run.stdout);
    write(&page, PAGE);
    if let Ok(output) = Command::new("rg")
        .arg("-v")
        .arg("-f")
        .arg(&patterns)
        .arg(&page)
        .output()
    {
        assert!(
            output.status.success(),
            "rg: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(String::from_utf8(output.stdout).unwrap(), KEPT[..4].join("\n") + "\n");
    }
}

#[test]
fn shipped_patterns_compile_and_follow_disable() {
    let all = dechaff(["rules", "patterns"]);
    all.assert_code(0);
    let line_rules = dechaff(["rules", "list"])
        .stdout
        .lines()
        .filter(|l| l.split('\t').nth(2) == Some("line"))
        .count();
    assert_eq!(all.stdout.lines().count(), line_rules);
    let regexes: Vec<Regex> = all
        .stdout
        .lines()
        .map(|p| Regex::new(p).unwrap_or_else(|e| panic!("{p}: {e}")))
        .collect();
    assert!(regexes.iter().any(|r| r.is_match("Share This")));
    assert!(!regexes
        .iter()
        .any(|r| r.is_match("Russia is planning to arm a Libyan general, aides said.")));

    let fewer = dechaff(["rules", "patterns", "--disable", "social"]);
    fewer.assert_code(0);
    assert!(fewer.stdout.lines().count() < line_rules);
    assert!(!fewer
        .stdout
        .lines()
        .map(|p| Regex::new(p).unwrap())
        .any(|r| r.is_match("Share This")));
}
