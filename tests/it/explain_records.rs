//! `explain` on any input: a record of a JSONL or WARC input picked by
//! index or id, standard input, a single line, and `--format json`.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::io_formats::warc_record;
use crate::util::{dechaff_in, temp_dir, write};

const PACK: &str = r#"[pack]
name = "t"
version = "1"
description = "explain records test"

[[rule]]
id = "t.share"
description = "share label"
literals = ["Share This"]

[[rule]]
id = "t.related"
description = "related posts label"
pattern = 'related posts:?'
max-length = 20

[[rule]]
id = "t.closing"
description = "a closing line"
kind = "tail"
literals = ["Leave a Reply"]
"#;

fn jsonl() -> String {
    [
        r#"{"id": "first", "text": "Kept line one.\nShare This\n"}"#,
        r#"{"id": "second", "text": "Second story.\nShare This\nSecond ending.\n"}"#,
    ]
    .join("\n")
        + "\n"
}

fn args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["explain", "--rules", "t.toml", "--no-default-rules", "--color", "never"];
    args.extend_from_slice(extra);
    args
}

#[test]
fn a_jsonl_record_is_picked_by_index_or_id() {
    let dir = temp_dir();
    write(&dir.path().join("t.toml"), PACK);
    write(&dir.path().join("s.jsonl"), jsonl());
    let by_index = dechaff_in(dir.path(), args(&["s.jsonl", "--record", "1"]));
    by_index.assert_code(0);
    assert_eq!(
        by_index.stdout,
        "Second story.\n- Share This  [t.share]\nSecond ending.\n"
    );
    let by_id = dechaff_in(dir.path(), args(&["s.jsonl", "--id", "second"]));
    assert_eq!(by_id.stdout, by_index.stdout);

    let missing = dechaff_in(dir.path(), args(&["s.jsonl", "--record", "7"]));
    missing.assert_code(1);
    assert_eq!(
        missing.first_stderr_line(),
        "dechaff: s.jsonl: no record 7: it holds 2 records, 0 to 1"
    );
    let unpicked = dechaff_in(dir.path(), args(&["s.jsonl"]));
    unpicked.assert_code(1);
    assert_eq!(
        unpicked.first_stderr_line(),
        "dechaff: s.jsonl holds jsonl records: pick one with --record N (0-based) or --id ID"
    );
}

#[test]
fn a_warc_record_is_picked_by_its_record_id() {
    let dir = temp_dir();
    write(&dir.path().join("t.toml"), PACK);
    let warc = [
        warc_record("warcinfo", "", 0, "software: tests\r\n"),
        warc_record("conversion", "https://a.example/1", 1, "First page.\nShare This\n"),
        warc_record("conversion", "https://a.example/2", 2, "Second page.\nRelated posts:\n"),
    ]
    .concat();
    write(&dir.path().join("p.warc"), warc);
    let run = dechaff_in(
        dir.path(),
        args(&["p.warc", "--id", "<urn:uuid:00000000-0000-0000-0000-000000000002>"]),
    );
    run.assert_code(0);
    assert_eq!(run.stdout, "Second page.\n- Related posts:  [t.related]\n");
    let by_index = dechaff_in(dir.path(), args(&["p.warc", "--record", "1"]));
    assert_eq!(by_index.stdout, "First page.\n- Share This  [t.share]\n");
}

#[test]
fn standard_input_is_explained_like_a_file() {
    let dir = temp_dir();
    write(&dir.path().join("t.toml"), PACK);
    let explain_stdin = |input: &str, extra: &[&str]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dechaff"))
            .args(args(&["-"]))
            .args(extra)
            .current_dir(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    };
    assert_eq!(
        explain_stdin("A story.\nShare This\n", &[]),
        "A story.\n- Share This  [t.share]\n"
    );
    assert_eq!(
        explain_stdin(&jsonl(), &["--record", "0"]),
        "Kept line one.\n- Share This  [t.share]\n"
    );
}

#[test]
fn format_json_gives_the_removals_with_their_place_and_the_kept_text() {
    let dir = temp_dir();
    write(&dir.path().join("t.toml"), PACK);
    write(&dir.path().join("s.jsonl"), jsonl());
    let run = dechaff_in(dir.path(), args(&["s.jsonl", "--id", "second", "--format", "json"]));
    run.assert_code(0);
    let explained: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(explained["source"], "s.jsonl");
    assert_eq!(explained["document"]["index"], 1);
    assert_eq!(explained["document"]["id"], "second");
    assert_eq!(explained["kept"], "Second story.\nSecond ending.\n");
    let removed = explained["removed"].as_array().unwrap();
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0]["rule"], "t.share");
    assert_eq!(removed[0]["text"], "Share This\n");
    assert_eq!(removed[0]["bytes"][0], "Second story.\n".len());
}

#[test]
fn line_says_which_rule_removes_it_and_why_the_others_do_not() {
    let dir = temp_dir();
    write(&dir.path().join("t.toml"), PACK);
    let removed = dechaff_in(dir.path(), args(&["--line", "Share This"]));
    removed.assert_code(0);
    assert_eq!(
        removed.stdout,
        "\"Share This\": removed\n  t.share: drop-line removes this line\n  \
         1 other line rules do not match; 1 block, tail, inline and heuristic rules need a document to judge \
         (those that removed the line alone are listed above)\n"
    );
    let long = "Related posts: the whole archive of this blog";
    let kept = dechaff_in(dir.path(), args(&["--line", long, "--format", "json"]));
    kept.assert_code(0);
    let verdicts: Value = serde_json::from_str(&kept.stdout).unwrap();
    let related = verdicts["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["rule"] == "t.related")
        .unwrap();
    assert_eq!(
        related["verdict"], "no-match",
        "the pattern is anchored to the whole line"
    );
    let exact = dechaff_in(dir.path(), args(&["--line", "related posts", "--format", "json"]));
    let verdicts: Value = serde_json::from_str(&exact.stdout).unwrap();
    assert_eq!(verdicts["rules"][0]["rule"], "t.related");
    assert_eq!(verdicts["rules"][0]["verdict"], "removes");
    assert_eq!(verdicts["rules"][2]["verdict"], "needs-context");
}
