//! Invariants of the shipped rule packs.
//!
//! The packs are data that people edit; these tests are what keeps them a
//! registry rather than a pile: ids are unique and name their pack, every
//! rule is described and carries examples of what it must and must not
//! remove, the examples pass, the files on disk are exactly the packs
//! compiled into the binary, and every file is in one canonical layout so
//! that diffs stay small and reviews stay easy.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use dechaff_engine::RuleSet;

use crate::util::dechaff;

fn shipped() -> RuleSet {
    RuleSet::shipped().unwrap_or_else(|e| panic!("the shipped packs load: {e}"))
}

fn rules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")
}

/// Every `rules/*.toml`, sorted.
fn pack_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(rules_dir())
        .expect("read rules/")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn rule_ids_are_unique() {
    let rules = shipped();
    let mut seen: HashMap<&str, String> = HashMap::new();
    let mut duplicates = Vec::new();
    for rule in rules.rules() {
        if let Some(first) = seen.insert(&rule.id, rule.location.to_string()) {
            duplicates.push(format!("{} at {} and {first}", rule.id, rule.location));
        }
    }
    assert!(duplicates.is_empty(), "duplicate ids:\n{}", duplicates.join("\n"));
    assert!(!rules.rules().is_empty(), "the shipped packs hold no rule");
}

#[test]
fn rule_ids_are_pack_dot_name() {
    let rules = shipped();
    let valid_name = |name: &str| {
        !name.is_empty()
            && !name.starts_with('-')
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    let bad: Vec<String> = rules
        .rules()
        .iter()
        .filter(|rule| {
            !matches!(rule.id.split_once('.'),
                Some((pack, name)) if pack == rule.pack && valid_name(name))
        })
        .map(|rule| format!("{}: {} is not \"{}.<name>\"", rule.location, rule.id, rule.pack))
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn every_rule_is_described_and_exemplified() {
    let rules = shipped();
    let mut problems = Vec::new();
    for rule in rules.rules() {
        if rule.description.trim().is_empty() {
            problems.push(format!("{}: rule {}: no description", rule.location, rule.id));
        }
        if rule.must_match.len() < 2 {
            problems.push(format!(
                "{}: rule {}: {} must-match example(s), at least 2 wanted",
                rule.location,
                rule.id,
                rule.must_match.len()
            ));
        }
        if rule.must_not_match.is_empty() {
            problems.push(format!(
                "{}: rule {}: no must-not-match example",
                rule.location, rule.id
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_pack_is_named_after_its_file() {
    let rules = shipped();
    let bad: Vec<String> = rules
        .packs()
        .iter()
        .filter(|pack| pack.origin != format!("<builtin>/{}.toml", pack.name))
        .map(|pack| format!("pack {:?} is loaded from {}", pack.name, pack.origin))
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn rule_files_on_disk_are_the_shipped_packs() {
    let on_disk: BTreeSet<String> = pack_files()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let shipped: BTreeSet<String> = dechaff_engine::rules::shipped_pack_names()
        .map(str::to_string)
        .collect();
    let not_shipped: Vec<&String> = on_disk.difference(&shipped).collect();
    let not_on_disk: Vec<&String> = shipped.difference(&on_disk).collect();
    assert!(
        not_shipped.is_empty() && not_on_disk.is_empty(),
        "in rules/ but not in shipped_pack_names(): {not_shipped:?}; \
         in shipped_pack_names() but not in rules/: {not_on_disk:?}"
    );
}

#[test]
fn shipped_examples_pass() {
    let failures = shipped().test_examples().expect("the examples run");
    let report: Vec<String> = failures.iter().map(|f| f.error.to_string()).collect();
    assert!(
        report.is_empty(),
        "{} example(s) fail:\n{}",
        report.len(),
        report.join("\n")
    );
}

/// A run trusts the packs compiled into the binary and skips the
/// per-pattern check; this is where that check runs on them, with the
/// locations a user pack's errors get.
#[test]
fn shipped_patterns_pass_the_full_check() {
    dechaff_engine::RuleSetBuilder::new()
        .verify_shipped_patterns(true)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let run = dechaff(["rules", "check"]);
    run.assert_code(0);
}

#[test]
fn rules_test_command_passes_on_the_shipped_packs() {
    let run = dechaff(["rules", "test"]);
    run.assert_code(0);
    assert!(run.stdout.starts_with("ok: "), "stdout: {}", run.stdout);
}

/// Where the scanner stands at the start of a line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lexer {
    /// At the top level: the line is blank, a comment, a header or a key.
    Top,
    /// Inside a multi-line array or inline table, or a multi-line string.
    Continued { depth: usize, string: Option<&'static str> },
}

/// Advances the scanner over one line, so that the lines inside a
/// multi-line array or string are not taken for keys.
fn scan_line(line: &str, mut depth: usize, mut string: Option<&'static str>) -> Lexer {
    let mut rest = line;
    loop {
        if let Some(delimiter) = string {
            match delimiter {
                "'''" | "\"\"\"" => match rest.find(delimiter) {
                    Some(i) => {
                        rest = &rest[i + 3..];
                        string = None;
                    }
                    None => break,
                },
                _ => {
                    // A one-line string ends on this line (TOML forbids otherwise).
                    let mut chars = rest.char_indices();
                    let mut end = None;
                    while let Some((i, c)) = chars.next() {
                        if delimiter == "\"" && c == '\\' {
                            chars.next();
                        } else if c.to_string() == delimiter {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    rest = end.map_or("", |e| &rest[e..]);
                    string = None;
                }
            }
            continue;
        }
        let Some(c) = rest.chars().next() else { break };
        if rest.starts_with("'''") {
            string = Some("'''");
            rest = &rest[3..];
        } else if rest.starts_with("\"\"\"") {
            string = Some("\"\"\"");
            rest = &rest[3..];
        } else {
            match c {
                '\'' => string = Some("'"),
                '"' => string = Some("\""),
                '[' | '{' => depth += 1,
                ']' | '}' => depth = depth.saturating_sub(1),
                '#' => break,
                _ => {}
            }
            rest = &rest[c.len_utf8()..];
        }
    }
    if depth == 0 && string.is_none() {
        Lexer::Top
    } else {
        Lexer::Continued { depth, string }
    }
}

/// Checks one pack file's text against the canonical layout and returns
/// every departure as `file:line: message`.
fn canonical_form_problems(name: &str, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if let Err(e) = toml::from_str::<toml::Value>(text) {
        problems.push(format!("{name}: not valid TOML: {e}"));
        return problems;
    }
    if !text.ends_with('\n') || text.ends_with("\n\n") {
        problems.push(format!("{name}: must end with exactly one newline"));
    }
    #[derive(PartialEq)]
    enum Section {
        Preamble,
        Pack,
        Rule,
    }
    let mut section = Section::Preamble;
    let mut keys: Vec<String> = Vec::new();
    let mut header_line = 0;
    let check_keys = |section: &Section, keys: &[String], line: usize, problems: &mut Vec<String>| {
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        match section {
            Section::Pack => {
                let ok =
                    keys == ["name", "version", "description"] || keys == ["name", "version", "description", "license"];
                if !ok {
                    problems.push(format!(
                        "{name}:{line}: [pack] keys are {keys:?}, want name, version, \
                             description and optionally license, in that order"
                    ));
                }
            }
            Section::Rule => {
                if keys.len() < 2 || keys[0] != "id" || keys[1] != "description" {
                    problems.push(format!(
                        "{name}:{line}: [[rule]] keys start {:?}, want \"id\" then \
                             \"description\"",
                        &keys[..keys.len().min(2)]
                    ));
                }
            }
            Section::Preamble => {}
        }
    };
    let mut state = Lexer::Top;
    for (index, line) in text.split('\n').enumerate() {
        let number = index + 1;
        if line.contains('\t') {
            problems.push(format!("{name}:{number}: tab"));
        }
        if line.ends_with(' ') || line.ends_with('\r') {
            problems.push(format!("{name}:{number}: trailing whitespace"));
        }
        if let Lexer::Continued { depth, string } = state {
            state = scan_line(line, depth, string);
            continue;
        }
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if trimmed.starts_with('[') && !trimmed.contains('=') {
            check_keys(&section, &keys, header_line, &mut problems);
            keys.clear();
            header_line = number;
            section = match (trimmed, &section) {
                ("[pack]", Section::Preamble) => Section::Pack,
                ("[[rule]]", Section::Pack | Section::Rule) => Section::Rule,
                _ => {
                    problems.push(format!(
                        "{name}:{number}: table {trimmed} where canonical form has {}",
                        if section == Section::Preamble {
                            "[pack] first"
                        } else {
                            "only [[rule]] after [pack]"
                        }
                    ));
                    Section::Rule
                }
            };
            continue;
        }
        if section == Section::Preamble {
            problems.push(format!("{name}:{number}: a key before [pack]"));
        }
        let key = trimmed
            .split('=')
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches('"')
            .to_string();
        keys.push(key);
        let value = trimmed.split_once('=').map_or("", |(_, v)| v);
        state = scan_line(value, 0, None);
    }
    check_keys(&section, &keys, header_line, &mut problems);
    if section == Section::Preamble {
        problems.push(format!("{name}: no [pack] table"));
    }
    problems
}

#[test]
fn pack_files_are_in_canonical_form() {
    let files = pack_files();
    assert!(!files.is_empty(), "no rules/*.toml");
    let mut problems = Vec::new();
    for file in files {
        let name = format!("rules/{}", file.file_name().unwrap().to_string_lossy());
        let text = fs::read_to_string(&file).expect("read a pack");
        problems.extend(canonical_form_problems(&name, &text));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The canonical-form check must refuse what it claims to refuse.
#[test]
fn canonical_form_check_catches_each_departure() {
    let good = "[pack]\nname = \"p\"\nversion = \"1\"\ndescription = \"d\"\n\n\
                [[rule]]\nid = \"p.a\"\ndescription = \"d\"\nmust-match = [\n  \"x\",\n  \"\"\"\nid = 1\n\"\"\",\n]\n";
    assert_eq!(canonical_form_problems("good", good), Vec::<String>::new());
    let bad = [
        (
            "version first",
            good.replace("name = \"p\"\nversion = \"1\"", "version = \"1\"\nname = \"p\""),
        ),
        (
            "id not first",
            good.replace("id = \"p.a\"\ndescription = \"d\"", "description = \"d\"\nid = \"p.a\""),
        ),
        ("tab", good.replace("  \"x\"", "\t\"x\"")),
        ("trailing space", good.replace("[[rule]]", "[[rule]] ")),
        ("two final newlines", format!("{good}\n")),
        ("no final newline", good.trim_end().to_string()),
        (
            "rule before pack",
            good.replacen("[pack]", "[[rule]]\nid = \"p.z\"\ndescription = \"d\"\n\n[pack]", 1),
        ),
        ("invalid TOML", good.replace("[[rule]]", "[[rule]")),
    ];
    for (what, text) in bad {
        assert!(
            !canonical_form_problems("bad", &text).is_empty(),
            "the check misses: {what}"
        );
    }
}

/// Regression: a NaN or infinite bias (or a weight finite in f64 and
/// infinite in f32, such as 1e39) passed `rules check` and made every
/// score NaN, which silently turned the classifier off.
#[test]
fn non_finite_weights_are_refused_at_load_with_their_place() {
    let shipped = include_str!("../../rules/heuristics.toml");
    for (from, to) in [
        ("[\"bias\", 0.0, 1.0, 1.21]", "[\"bias\", 0.0, 1.0, nan]"),
        ("[\"bias\", 0.0, 1.0, 1.21]", "[\"bias\", 0.0, 1.0, -inf]"),
        (
            "[\"words\", 3.77046, 1.10734, -1.14292]",
            "[\"words\", 3.77046, 1.10734, 1e39]",
        ),
        ("threshold = -0.3000", "threshold = 1e40"),
    ] {
        assert!(shipped.contains(from), "{from}");
        let pack = shipped.replacen(from, to, 1);
        let error = dechaff_engine::RuleSetBuilder::new()
            .no_default_rules(true)
            .add_text("h.toml", &pack)
            .build()
            .unwrap_err()
            .to_string();
        let line = pack[..pack
            .find(if to.starts_with("threshold") {
                "threshold"
            } else {
                "weights = ["
            })
            .unwrap()]
            .lines()
            .count()
            + 1;
        assert!(error.starts_with(&format!("h.toml:{line}:")), "{to}: {error}");
        assert!(error.contains("finite"), "{to}: {error}");
    }
}

/// A pack far larger than any real one (a corpus passed as `--rules` by
/// mistake, or a hostile file) is refused before it is parsed, naming the
/// file; one just under the limit is read as usual.
#[test]
fn a_pack_over_the_size_limit_is_refused_before_it_is_parsed() {
    let dir = crate::util::temp_dir();
    let limit = dechaff_engine::rules::MAX_PACK_BYTES as usize;
    // Valid TOML all the way: only its size is wrong.
    let header = "[pack]\nname = \"big\"\nversion = \"1\"\n";
    let padded = |size: usize| format!("{header}{}\n", "#".repeat(size - header.len() - 1));
    let big = dir.path().join("big.toml");
    fs::write(&big, padded(limit + 1)).unwrap();
    let run = dechaff(["rules", "list", "--rules", big.to_str().unwrap()]);
    assert_ne!(run.code, Some(0));
    assert!(
        run.stderr.contains(&format!("{}:1:1", big.display())) && run.stderr.contains("larger than 4 MiB"),
        "{}",
        run.stderr
    );
    fs::write(&big, padded(limit)).unwrap();
    let run = dechaff(["rules", "list", "--rules", big.to_str().unwrap()]);
    assert!(!run.stderr.contains("larger than"), "{}", run.stderr);
}
