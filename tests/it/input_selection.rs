//! Which walked files are inputs (`--glob`, `--exclude`, hidden files and
//! Spark/Hadoop markers, `--hidden`), links named on the command line, and
//! the naming and grouping details of records: `.json` outputs, `--out -`
//! with `--compress`, `--group-by field:` with a dotted or missing field.

use std::fs;
use std::io::Read;
use std::path::Path;

use serde_json::Value;

use crate::io_formats::{clean_page, page};
use crate::util::{dechaff, files_under, provenance, temp_dir, write};

fn sources(out: &Path) -> Vec<String> {
    let mut sources: Vec<String> = provenance(out)
        .iter()
        .filter(|r| r["document"].is_null())
        .map(|r| r["source"].as_str().unwrap().to_string())
        .collect();
    sources.sort();
    sources
}

fn clean(args: &[&Path], extra: &[&str]) -> crate::util::Run {
    let mut all: Vec<String> = vec!["clean".into(), "-q".into()];
    all.extend(args[..args.len() - 1].iter().map(|p| p.display().to_string()));
    all.extend(["--out".into(), args[args.len() - 1].display().to_string()]);
    all.extend(extra.iter().map(|s| s.to_string()));
    dechaff(&all)
}

/// Regression: a Spark output directory was walked whole: the `.crc` of a
/// part, full of NUL bytes, failed the run, `._SUCCESS.crc` was "cleaned"
/// into text and `_SUCCESS` was copied.
#[test]
fn spark_markers_and_hidden_files_are_not_walked_unless_asked_for() {
    let dir = temp_dir();
    let input = dir.path().join("in");
    let part = format!("{{\"text\":{}}}\n", serde_json::to_string(&page(1)).unwrap());
    write(&input.join("part-00000.jsonl"), &part);
    write(&input.join("_SUCCESS"), "");
    write(&input.join("._SUCCESS.crc"), b"crc\x00\x00\x00\x08");
    write(&input.join(".part-00000.jsonl.crc"), b"crc\x00\x01\x02\x03");
    write(&input.join(".DS_Store"), b"\x00\x00\x00\x01Bud1");
    write(&input.join("_committed_42"), "{}");
    write(&input.join("_temporary/0/part-00001.jsonl"), &part);
    let out = dir.path().join("out");
    clean(&[&input, &out], &[]).assert_code(0);
    assert_eq!(sources(&out), [input.join("part-00000.jsonl").display().to_string()]);
    assert_eq!(
        files_under(&out),
        [Path::new("part-00000.jsonl"), Path::new("provenance.jsonl")]
    );

    let all = dir.path().join("all");
    clean(&[&input, &all], &["--hidden"]);
    assert_eq!(sources(&all).len(), 7, "{:?}", sources(&all));
}

#[test]
fn globs_and_excludes_select_walked_files_and_named_files_are_always_read() {
    let dir = temp_dir();
    let input = dir.path().join("in");
    for name in [
        "a.txt",
        "b.md",
        "sub/c.txt",
        "sub/skip-d.txt",
        "drafts/e.txt",
        "keep/f.html",
    ] {
        write(&input.join(name), page(1));
    }
    let out = dir.path().join("out");
    clean(
        &[&input, &out],
        &[
            "--glob",
            "*.txt",
            "--glob",
            "keep/**",
            "--exclude",
            "skip-*",
            "--exclude",
            "drafts",
        ],
    )
    .assert_code(0);
    let expected: Vec<String> = ["a.txt", "keep/f.html", "sub/c.txt"]
        .iter()
        .map(|name| input.join(name).display().to_string())
        .collect();
    assert_eq!(sources(&out), expected);
    assert_eq!(fs::read_to_string(out.join("sub/c.txt")).unwrap(), clean_page(1));

    // A file named on the command line is an input whatever the patterns say.
    let named = dir.path().join("named");
    clean(&[&input.join("b.md"), &named], &["--glob", "*.txt"]).assert_code(0);
    assert_eq!(sources(&named), [input.join("b.md").display().to_string()]);

    let run = clean(&[&input, &dir.path().join("bad")], &["--exclude", "a["]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("--exclude \"a[\" is not a glob: "),
        "{}",
        run.stderr
    );
}

/// Regression: a link to a directory, given on the command line, was both
/// cleaned and reported as a skipped link. A path named on the command line
/// is followed, as ripgrep and fd do; links found inside it follow `--follow`.
#[cfg(unix)]
#[test]
fn a_linked_directory_named_on_the_command_line_is_cleaned_once() {
    let dir = temp_dir();
    let real = dir.path().join("real");
    write(&real.join("a.txt"), page(2));
    std::os::unix::fs::symlink(&real, dir.path().join("link")).unwrap();
    let out = dir.path().join("out");
    let run = clean(&[&dir.path().join("link"), &out], &[]);
    run.assert_code(0);
    let records = provenance(&out);
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["status"], "ok");
    assert_eq!(fs::read_to_string(out.join("a.txt")).unwrap(), clean_page(2));
}

#[test]
fn json_inputs_come_out_as_jsonl() {
    let dir = temp_dir();
    let line = format!("{{\"text\":{}}}\n", serde_json::to_string(&page(3)).unwrap());
    write(&dir.path().join("in/a.json"), &line);
    write(&dir.path().join("in/b.ndjson"), &line);
    let out = dir.path().join("out");
    clean(&[&dir.path().join("in"), &out], &[]).assert_code(0);
    assert_eq!(
        files_under(&out),
        [
            Path::new("a.jsonl"),
            Path::new("b.jsonl"),
            Path::new("provenance.jsonl")
        ]
    );
}

#[test]
fn out_stdout_is_compressed_as_compress_says() {
    let dir = temp_dir();
    write(&dir.path().join("in/a.txt"), page(4));
    for (how, magic) in [("gz", &b"\x1f\x8b"[..]), ("zst", &b"\x28\xb5\x2f\xfd"[..])] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_dechaff"))
            .args(["clean", "-q", "--out", "-", "--compress", how])
            .arg(dir.path().join("in"))
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        assert!(output.stdout.starts_with(magic), "{how}");
        let mut text = String::new();
        if how == "gz" {
            flate2::read::MultiGzDecoder::new(&output.stdout[..])
                .read_to_string(&mut text)
                .unwrap();
        } else {
            text = String::from_utf8(zstd::decode_all(&output.stdout[..]).unwrap()).unwrap();
        }
        let record: Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(record["text"], clean_page(4), "{how}");
    }
}

fn grouped_records(dir: &Path) -> std::path::PathBuf {
    let input = dir.join("in.jsonl");
    let mut jsonl = String::new();
    for (n, site) in ["a", "a", "a", "b", "b"].iter().enumerate() {
        let shared = if *site == "a" { "Footer of site A\n" } else { "" };
        let own = ["alpha", "bravo", "charlie", "delta", "echo"][n];
        let text = format!("Page {own} has a story of its own.\n{shared}");
        let record = serde_json::json!({"id": n, "meta": {"site": site}, "text": text});
        jsonl.push_str(&record.to_string());
        jsonl.push('\n');
    }
    write(&input, &jsonl);
    input
}

#[test]
fn group_by_a_dotted_field_reaches_into_objects() {
    let dir = temp_dir();
    let input = grouped_records(dir.path());
    let out = dir.path().join("out");
    clean(
        &[&input, &out],
        &["--corpus", "--group-by", "field:meta.site", "--no-heuristics"],
    )
    .assert_code(0);
    let texts: Vec<String> = fs::read_to_string(out.join("in.jsonl"))
        .unwrap()
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(texts[..3].iter().all(|t| !t.contains("Footer of site A")), "{texts:?}");
}

/// Regression: a field no record has grouped nothing, so corpus mode
/// removed nothing and said nothing.
#[test]
fn group_by_a_field_no_document_has_is_an_error() {
    let dir = temp_dir();
    let input = grouped_records(dir.path());
    let run = clean(
        &[&input, &dir.path().join("out")],
        &["--corpus", "--group-by", "field:site"],
    );
    run.assert_code(2);
    assert!(
        run.stderr.contains(
            "--group-by field:site: none of the 5 documents has a \"site\" field (a dotted name reaches into objects \
             and structs, e.g. field:metadata.lang), so corpus mode would remove nothing"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn a_metadata_array_is_refused_with_an_article_that_fits() {
    let dir = temp_dir();
    write(
        &dir.path().join("in.jsonl"),
        "{\"text\":\"Some text here.\",\"metadata\":[1]}\n",
    );
    let run = clean(&[&dir.path().join("in.jsonl"), &dir.path().join("out")], &[]);
    run.assert_code(1);
    assert!(
        run.stderr
            .contains("\"metadata\" is an array, so metadata.dechaff cannot be added"),
        "{}",
        run.stderr
    );
}
