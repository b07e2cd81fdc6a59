//! Inputs and outputs of every container: JSONL, WARC/WET and text, each
//! plain, gzip and zstd; standard input and output; attribute files; shards.
//!
//! The records are generated here (no third-party text). Each test checks
//! what a user relies on: the clean text is in the output record, every
//! other field of a JSONL record comes back as written, the output has the
//! input's compression (or `--compress`'s), and `--shard I/N` for I in 1..=N
//! covers every input exactly once.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::util::{dechaff, dechaff_in, files_under, provenance, temp_dir, write};

/// A page whose last line the shipped `social.share-label` rule removes.
pub fn page(i: usize) -> String {
    format!(
        "Heading number {i}\n\nThe council met on day {i} and voted on the budget for the harbour.\n\
         Residents spoke for and against the plan for {} minutes.\n\nShare This\n",
        10 + i % 50
    )
}

/// What cleaning [`page`] leaves.
pub fn clean_page(i: usize) -> String {
    let page = page(i);
    page[..page.find("\nShare This").unwrap() + 1]
        .trim_end_matches('\n')
        .to_string()
        + "\n"
}

/// Compresses `bytes` as a file named `name` says (`.gz`, `.zst`, or not).
pub fn compress_like(name: &str, bytes: &[u8]) -> Vec<u8> {
    if name.ends_with(".gz") {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    } else if name.ends_with(".zst") {
        zstd::encode_all(bytes, 3).unwrap()
    } else {
        bytes.to_vec()
    }
}

/// Reads a file, decompressing it as its name says.
pub fn read_decompressed(path: &Path) -> Vec<u8> {
    let stored = fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let name = path.to_string_lossy();
    let mut out = Vec::new();
    if name.ends_with(".gz") {
        assert!(stored.starts_with(&[0x1f, 0x8b]), "{name} is gzip");
        flate2::read::MultiGzDecoder::new(&stored[..])
            .read_to_end(&mut out)
            .unwrap();
    } else if name.ends_with(".zst") {
        assert!(stored.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]), "{name} is zstd");
        out = zstd::decode_all(&stored[..]).unwrap();
    } else {
        out = stored;
    }
    out
}

/// The JSON lines of a (possibly compressed) JSONL file.
pub(crate) fn json_lines(path: &Path) -> Vec<Value> {
    String::from_utf8(read_decompressed(path))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// JSONL records with fields of every JSON type around the text, written so
/// that a parser re-serialising them would change their bytes (`1.50`, a
/// number past `u64`, escapes, spaces inside nested values).
fn jsonl_records(count: usize) -> String {
    (0..count)
        .map(|i| {
            format!(
                "{{\"id\": \"doc-{i}\", \"score\": 1.50, \"big\": 123456789012345678901234567890, \
                 \"text\": {}, \"tags\": [ \"a\",\"b\" ], \"nested\": {{\"k\": null, \"é\": \"\\u00e9\"}}, \
                 \"metadata\": {{\"url\": \"https://site{}.example/p/{i}\", \"lang\": \"en\"}}}}\n",
                serde_json::to_string(&page(i)).unwrap(),
                i % 3
            )
        })
        .collect()
}

#[test]
fn jsonl_round_trips_every_other_field_in_plain_gzip_and_zstd() {
    let dir = temp_dir();
    let records = jsonl_records(5);
    for name in ["plain.jsonl", "gz.jsonl.gz", "zst.jsonl.zst"] {
        write(
            &dir.path().join("in").join(name),
            compress_like(name, records.as_bytes()),
        );
    }
    dechaff_in(dir.path(), ["clean", "in", "--out", "out", "-q"]).assert_code(0);

    for name in ["plain.jsonl", "gz.jsonl.gz", "zst.jsonl.zst"] {
        let output = dir.path().join("out").join(name);
        let text = String::from_utf8(read_decompressed(&output)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{name}");
        for (i, line) in lines.iter().enumerate() {
            // Raw values come back byte for byte, not re-serialised.
            for raw in [
                "\"score\":1.50",
                "\"big\":123456789012345678901234567890",
                "\"tags\":[ \"a\",\"b\" ]",
                "\"nested\":{\"k\": null, \"é\": \"\\u00e9\"}",
            ] {
                assert!(line.contains(raw), "{name} line {i} lost {raw}: {line}");
            }
            let value: Value = serde_json::from_str(line).unwrap();
            assert_eq!(value["text"], clean_page(i), "{name} line {i}");
            assert_eq!(value["id"], format!("doc-{i}"));
            assert_eq!(value["metadata"]["lang"], "en", "metadata keeps its fields");
            // By default a summary: the rules, what they removed, which fired.
            let embedded = &value["metadata"]["dechaff"];
            assert_eq!(embedded["schema"], "dechaff.metadata/2");
            assert_eq!(embedded["rules"], serde_json::json!(["social.share-label"]));
            assert_eq!(embedded["removed_bytes"], "Share This\n".len());
            assert_eq!(embedded["fingerprint"].as_str().unwrap().len(), 64);
            assert!(embedded.get("removed").is_none(), "spans are in provenance.jsonl");
            let keys: Vec<&str> = line_keys(line);
            assert_eq!(keys, ["id", "score", "big", "text", "tags", "nested", "metadata"]);
        }
    }

    let records = provenance(&dir.path().join("out"));
    // Five document records and one file record per input.
    assert_eq!(records.len(), 18);
    let file_record = &records[5];
    assert!(file_record.get("document").is_none());
    assert_eq!(
        file_record["documents"],
        serde_json::json!({"records": 5, "written": 5, "rejected": 0, "not_documents": 0})
    );
    let stored = fs::read(dir.path().join("in/gz.jsonl.gz")).unwrap();
    let gz_record = records
        .iter()
        .find(|r| r["source"] == "in/gz.jsonl.gz" && r.get("document").is_none());
    assert_eq!(gz_record.unwrap()["input"]["sha256"], crate::util::sha256_hex(&stored));
}

/// The top-level keys of a JSON object line, in written order.
fn line_keys(line: &str) -> Vec<&str> {
    let mut keys = Vec::new();
    let mut depth = 0;
    let mut chars = line.char_indices().peekable();
    let mut expect_key = false;
    while let Some((i, c)) = chars.next() {
        match c {
            '{' | '[' => {
                depth += 1;
                expect_key = depth == 1;
            }
            '}' | ']' => depth -= 1,
            ',' if depth == 1 => expect_key = true,
            '"' => {
                let start = i + 1;
                let mut end = start;
                while let Some((j, d)) = chars.next() {
                    if d == '\\' {
                        chars.next();
                    } else if d == '"' {
                        end = j;
                        break;
                    }
                }
                if expect_key && depth == 1 {
                    keys.push(&line[start..end]);
                    expect_key = false;
                }
            }
            _ => {}
        }
    }
    keys
}

#[test]
fn compress_overrides_the_input_s_compression() {
    let dir = temp_dir();
    let records = jsonl_records(3);
    write(
        &dir.path().join("in/a.jsonl.gz"),
        compress_like(".gz", records.as_bytes()),
    );
    write(&dir.path().join("in/b.jsonl"), &records);
    dechaff_in(dir.path(), ["clean", "in", "--out", "zst", "--compress", "zst", "-q"]).assert_code(0);
    dechaff_in(
        dir.path(),
        ["clean", "in", "--out", "plain", "--compress", "none", "-q"],
    )
    .assert_code(0);
    assert_eq!(
        files_under(&dir.path().join("zst")),
        [
            PathBuf::from("a.jsonl.zst"),
            "b.jsonl.zst".into(),
            "provenance.jsonl.zst".into()
        ]
    );
    // Provenance is compressed like the outputs, and holds what the plain
    // run's holds (output names and sizes aside).
    let provenance_lines = |root: &str, name: &str| -> Vec<Value> {
        let stored = fs::read(dir.path().join(root).join(name)).unwrap();
        let text = if name.ends_with(".zst") {
            zstd::decode_all(&stored[..]).unwrap()
        } else {
            stored
        };
        String::from_utf8(text)
            .unwrap()
            .lines()
            .map(|line| {
                let mut record: Value = serde_json::from_str(line).unwrap();
                for field in ["output", "cleaned"] {
                    record.as_object_mut().unwrap().remove(field);
                }
                record
            })
            .collect()
    };
    assert_eq!(
        provenance_lines("zst", "provenance.jsonl.zst"),
        provenance_lines("plain", "provenance.jsonl")
    );
    assert_eq!(
        files_under(&dir.path().join("plain")),
        [PathBuf::from("a.jsonl"), "b.jsonl".into(), "provenance.jsonl".into()]
    );
    let texts = |root: &str, name: &str| -> Vec<Value> {
        json_lines(&dir.path().join(root).join(name))
            .into_iter()
            .map(|v| v["text"].clone())
            .collect()
    };
    assert_eq!(texts("zst", "a.jsonl.zst"), texts("plain", "a.jsonl"));
    assert_eq!(texts("zst", "b.jsonl.zst"), texts("plain", "b.jsonl"));
}

/// One WARC record.
pub fn warc_record(kind: &str, uri: &str, id: usize, body: &str) -> String {
    format!(
        "WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Target-URI: {uri}\r\nWARC-Date: 2024-05-01T12:00:00Z\r\n\
         WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-{id:012}>\r\nContent-Type: text/plain\r\n\
         Content-Length: {}\r\n\r\n{body}\r\n\r\n",
        body.len()
    )
}

/// A WET file as Common Crawl writes it: a `warcinfo` record, then one
/// `conversion` record per page.
pub fn wet_records(pages: usize) -> Vec<String> {
    let mut records = vec![warc_record("warcinfo", "", 0, "software: dechaff-tests\r\n")];
    for i in 0..pages {
        records.push(warc_record(
            "conversion",
            &format!("https://www.Site{}.example:443/news/{i}", i % 2),
            i + 1,
            &page(i),
        ));
    }
    records
}

#[test]
fn a_wet_file_with_several_records_is_cleaned_plain_gzip_per_record_and_zstd() {
    let dir = temp_dir();
    let records = wet_records(4);
    let joined = records.concat();
    write(&dir.path().join("in/plain.warc.wet"), &joined);
    // Common Crawl compresses each record as its own gzip member.
    let members: Vec<u8> = records
        .iter()
        .flat_map(|r| compress_like(".gz", r.as_bytes()))
        .collect();
    write(&dir.path().join("in/members.warc.wet.gz"), members);
    write(
        &dir.path().join("in/z.warc.wet.zst"),
        compress_like(".zst", joined.as_bytes()),
    );
    dechaff_in(dir.path(), ["clean", "in", "--out", "out", "-q", "--metadata", "full"]).assert_code(0);

    for name in [
        "plain.warc.wet.jsonl",
        "members.warc.wet.jsonl.gz",
        "z.warc.wet.jsonl.zst",
    ] {
        let lines = json_lines(&dir.path().join("out").join(name));
        assert_eq!(lines.len(), 4, "{name}: the warcinfo record is not a document");
        for (i, line) in lines.iter().enumerate() {
            assert_eq!(line["text"], clean_page(i), "{name} record {i}");
            assert_eq!(line["url"], format!("https://www.Site{}.example:443/news/{i}", i % 2));
            assert_eq!(line["id"], format!("<urn:uuid:00000000-0000-0000-0000-{:012}>", i + 1));
            assert_eq!(line["metadata"]["warc"]["WARC-Type"], "conversion");
            assert_eq!(line["metadata"]["warc"]["WARC-Date"], "2024-05-01T12:00:00Z");
            assert_eq!(line["metadata"]["dechaff"]["index"], i + 1);
        }
    }
    let records_written = provenance(&dir.path().join("out"));
    let plain: Vec<&Value> = records_written
        .iter()
        .filter(|r| r["source"] == "in/plain.warc.wet")
        .collect();
    assert_eq!(plain.len(), 5);
    let offsets: Vec<u64> = plain[..4]
        .iter()
        .map(|r| r["document"]["offset"].as_u64().unwrap())
        .collect();
    let expected: Vec<u64> = (1..=4)
        .map(|i| records[..i].iter().map(|r| r.len() as u64).sum())
        .collect();
    assert_eq!(offsets, expected, "offsets are into the decompressed stream");
    assert_eq!(
        plain[4]["documents"],
        serde_json::json!({"records": 5, "written": 4, "rejected": 0, "not_documents": 1})
    );
}

#[test]
fn compressed_text_files_keep_their_compression_and_their_tree() {
    let dir = temp_dir();
    write(
        &dir.path().join("in/a/p.txt.gz"),
        compress_like(".gz", page(1).as_bytes()),
    );
    write(
        &dir.path().join("in/a/q.txt.zst"),
        compress_like(".zst", page(2).as_bytes()),
    );
    write(&dir.path().join("in/r.txt"), page(3));
    dechaff_in(dir.path(), ["clean", "in", "--out", "out", "-q"]).assert_code(0);
    let out = dir.path().join("out");
    assert_eq!(read_decompressed(&out.join("a/p.txt.gz")), clean_page(1).as_bytes());
    assert_eq!(read_decompressed(&out.join("a/q.txt.zst")), clean_page(2).as_bytes());
    assert_eq!(fs::read_to_string(out.join("r.txt")).unwrap(), clean_page(3));
}

/// Runs `dechaff ARGS` in `dir` with `stdin` on standard input.
pub fn dechaff_with_stdin(dir: &Path, args: &[&str], stdin: &[u8]) -> (Option<i32>, Vec<u8>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dechaff"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let bytes = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&bytes);
    });
    let output = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    (
        output.status.code(),
        output.stdout,
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn standard_input_to_standard_output_is_a_unix_filter() {
    let dir = temp_dir();
    let records = jsonl_records(3);
    let gz = compress_like(".gz", records.as_bytes());
    let (code, stdout, stderr) = dechaff_with_stdin(
        dir.path(),
        &["clean", "-", "--out", "-", "-q", "--metadata", "full"],
        &gz,
    );
    assert_eq!(code, Some(0), "{stderr}");
    let lines: Vec<Value> = String::from_utf8(stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["text"], clean_page(i));
        assert_eq!(line["metadata"]["dechaff"]["source"], "-");
    }
    assert_eq!(
        files_under(dir.path()),
        Vec::<PathBuf>::new(),
        "nothing is written to disk"
    );

    // Text files become records on standard output too, in input order.
    write(&dir.path().join("t/a.txt"), page(7));
    write(&dir.path().join("t/b.txt"), page(8));
    let run = dechaff_in(dir.path(), ["clean", "t", "--out", "-", "-q"]);
    run.assert_code(0);
    let lines: Vec<Value> = run.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0]["id"], "t/a.txt");
    assert_eq!(lines[1]["text"], clean_page(8));
}

#[test]
fn attribute_files_carry_the_removed_spans_by_id_and_leave_documents_alone() {
    let dir = temp_dir();
    write(&dir.path().join("in/a.jsonl"), jsonl_records(3));
    dechaff_in(dir.path(), ["clean", "in", "--attributes", "attrs", "-q"]).assert_code(0);
    // dolma looks for a document file's attributes under its own name.
    let lines = json_lines(&dir.path().join("attrs/a.jsonl"));
    assert_eq!(lines.len(), 3);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["id"], format!("doc-{i}"));
        let spans = line["attributes"]["dechaff__social"].as_array().unwrap();
        assert_eq!(spans.len(), 1);
        let (start, end) = (
            spans[0][0].as_u64().unwrap() as usize,
            spans[0][1].as_u64().unwrap() as usize,
        );
        assert!(page(i).is_ascii());
        assert_eq!(&page(i)[start..end], "Share This\n");
        assert_eq!(spans[0][2].as_f64(), Some(1.0), "a number, as dolma's mixer reads it");
        assert!(line.get("text").is_none(), "attribute records hold no text");
    }
    assert!(dir.path().join("attrs/provenance.jsonl").is_file());

    write(&dir.path().join("txt/a.txt"), page(1));
    let run = dechaff_in(dir.path(), ["clean", "txt", "--attributes", "attrs2"]);
    run.assert_code(2).assert_stderr_line(
        "dechaff: --attributes needs JSONL or WARC inputs; txt/a.txt is read as text (see --input-format)",
    );
}

/// dolma slices a text by characters, so spans written in bytes landed in
/// the wrong place after the first non-ASCII character; and it finds an
/// attribute file only under the document file's own name.
#[test]
fn attribute_spans_count_characters_and_keep_the_documents_file_name() {
    let dir = temp_dir();
    let text = "Café crème — 日本 🎉\r\n\r\nShare This\r\n\r\nThe café opened in 1998 and still serves crêpes to everyone.\r\n";
    let record = serde_json::json!({"id": 7, "text": text}).to_string() + "\n";
    write(
        &dir.path().join("documents/part-0.json.gz"),
        compress_like(".gz", record.as_bytes()),
    );
    dechaff_in(
        dir.path(),
        ["clean", "documents", "--attributes", "attributes/dechaff", "-q"],
    )
    .assert_code(0);
    let lines = json_lines(&dir.path().join("attributes/dechaff/part-0.json.gz"));
    assert_eq!(lines[0]["id"], 7, "the id as written");
    let chars: Vec<char> = text.chars().collect();
    let cut = |key: &str| -> Vec<String> {
        lines[0]["attributes"][key]
            .as_array()
            .unwrap()
            .iter()
            .map(|span| {
                let (start, end) = (span[0].as_u64().unwrap() as usize, span[1].as_u64().unwrap() as usize);
                chars[start..end].iter().collect()
            })
            .collect()
    };
    assert_eq!(cut("dechaff__social"), ["Share This\r\n"]);
    // What the spans leave is the cleaned text.
    let mut kept = String::new();
    let mut spans: Vec<(usize, usize)> = ["dechaff__social", "dechaff__whitespace"]
        .iter()
        .flat_map(|key| lines[0]["attributes"][*key].as_array().unwrap().clone())
        .map(|span| (span[0].as_u64().unwrap() as usize, span[1].as_u64().unwrap() as usize))
        .collect();
    spans.sort();
    let mut at = 0;
    for (start, end) in spans {
        kept.extend(&chars[at..start]);
        at = end;
    }
    kept.extend(&chars[at..]);
    assert_eq!(
        kept,
        "Café crème — 日本 🎉\n\nThe café opened in 1998 and still serves crêpes to everyone.\n"
    );

    let run = dechaff_in(
        dir.path(),
        ["clean", "documents", "--attributes", "a2", "--compress", "zst"],
    );
    run.assert_code(2);
}

#[test]
fn metadata_none_leaves_the_record_as_it_came_but_for_its_text() {
    let dir = temp_dir();
    let record = "{\"id\":\"x\",\"text\":\"Body of the story goes here.\\nShare This\\n\",\"metadata\":\"kept\"}\n";
    write(&dir.path().join("in/a.jsonl"), record);
    dechaff_in(dir.path(), ["clean", "in", "--out", "out", "-q", "--metadata", "none"]).assert_code(0);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out/a.jsonl")).unwrap(),
        "{\"id\":\"x\",\"text\":\"Body of the story goes here.\\n\",\"metadata\":\"kept\"}\n"
    );
}

#[test]
fn input_format_overrides_the_name_and_field_names_are_options() {
    let dir = temp_dir();
    let records: String = (0..2)
        .map(|i| {
            format!(
                "{{\"key\": \"k{i}\", \"content\": {}}}\n",
                serde_json::to_string(&page(i)).unwrap()
            )
        })
        .collect();
    write(&dir.path().join("in/data.txt"), records);
    dechaff_in(
        dir.path(),
        [
            "clean",
            "in",
            "--out",
            "out",
            "--input-format",
            "jsonl",
            "--text-field",
            "content",
            "--id-field",
            "key",
            "-q",
            "--metadata",
            "full",
        ],
    )
    .assert_code(0);
    let lines = json_lines(&dir.path().join("out/data.txt.jsonl"));
    assert_eq!(lines[1]["content"], clean_page(1));
    assert_eq!(lines[1]["metadata"]["dechaff"]["id"], "k1");
}

#[test]
fn shards_cover_every_input_exactly_once() {
    let dir = temp_dir();
    let mut expected = Vec::new();
    for i in 0..40 {
        let name = match i % 3 {
            0 => format!("in/d{}/page-{i}.txt", i % 4),
            1 => format!("in/d{}/shard-{i}.jsonl", i % 4),
            _ => format!("in/shard-{i}.warc.wet.gz"),
        };
        let body = match i % 3 {
            0 => page(i).into_bytes(),
            1 => jsonl_records(2).into_bytes(),
            _ => compress_like(".gz", wet_records(1).concat().as_bytes()),
        };
        write(&dir.path().join(&name), body);
        expected.push(name);
    }
    expected.sort();
    for count in [1u64, 3, 7] {
        let mut seen: BTreeMap<String, u64> = BTreeMap::new();
        let mut sizes = Vec::new();
        for index in 1..=count {
            let shard = format!("{index}/{count}");
            let out = format!("out-{count}");
            dechaff_in(dir.path(), ["clean", "in", "--out", &out, "--shard", &shard, "-q"]).assert_code(0);
            let path = dir
                .path()
                .join(&out)
                .join(format!("provenance.{index}-of-{count}.jsonl"));
            let text = fs::read_to_string(&path).unwrap();
            let mut taken = 0;
            for line in text.lines().skip(1) {
                let record: Value = serde_json::from_str(line).unwrap();
                if record.get("document").is_none() {
                    *seen.entry(record["source"].as_str().unwrap().to_string()).or_default() += 1;
                    taken += 1;
                }
            }
            sizes.push(taken);
        }
        let sources: Vec<&String> = seen.keys().collect();
        assert_eq!(
            sources,
            expected.iter().collect::<Vec<_>>(),
            "{count} shards cover every input"
        );
        assert!(
            seen.values().all(|&n| n == 1),
            "{count} shards: each input once: {seen:?}"
        );
        if count == 7 {
            assert!(
                sizes.iter().all(|&n| n > 0),
                "every shard gets some of 40 files: {sizes:?}"
            );
        }
    }
    // The split depends on the output names, not on where the tree is.
    let moved = dir.path().join("moved");
    fs::rename(dir.path().join("in"), &moved).unwrap();
    dechaff_in(dir.path(), ["clean", "moved", "--out", "again", "--shard", "2/3", "-q"]).assert_code(0);
    let before = fs::read_to_string(dir.path().join("out-3/provenance.2-of-3.jsonl")).unwrap();
    let after = fs::read_to_string(dir.path().join("again/provenance.2-of-3.jsonl")).unwrap();
    let sources = |text: &str, prefix: &str| -> Vec<String> {
        text.lines()
            .skip(1)
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|r| r.get("document").is_none())
            .map(|r| r["source"].as_str().unwrap().trim_start_matches(prefix).to_string())
            .collect()
    };
    assert_eq!(sources(&before, "in/"), sources(&after, "moved/"));
}

#[test]
fn bad_io_options_are_usage_errors() {
    for (args, message) in [
        (
            vec!["clean", "x", "--out", "o", "--shard", "0/3"],
            "dechaff: --shard \"0/3\" is not I/N with 1 <= I <= N (e.g. 3/100)",
        ),
        (
            vec!["clean", "x", "--out", "o", "--shard", "4/3"],
            "dechaff: --shard \"4/3\" is not I/N with 1 <= I <= N (e.g. 3/100)",
        ),
        (
            vec!["clean", "x", "--out", "-", "--resume"],
            "dechaff: --resume needs an output directory, not --out -",
        ),
        (
            vec!["clean", "x", "--out", "o", "--max-doc-bytes", "12Q"],
            "dechaff: --max-doc-bytes \"12Q\" is not a size (e.g. 4096, 64M, 1G)",
        ),
        (
            vec!["clean", "x", "--out", "o", "--max-doc-bytes", "2G"],
            "dechaff: --max-doc-bytes \"2G\" is over 1G, the largest document dechaff cleans \
             (decoding can make a document up to 3 times longer, and the cleaner's offsets are 32-bit)",
        ),
        (
            vec!["clean", "x", "--out", "o", "--doc-timeout", "0"],
            "dechaff: --doc-timeout 0 must be a positive number of seconds",
        ),
        (
            vec!["clean", "-", "-", "--out", "o"],
            "dechaff: standard input (-) can be read only once",
        ),
    ] {
        dechaff(&args).assert_code(2).assert_stderr_line(message);
    }
}

/// dolma's mixer reads a documents file and its attribute files line by
/// line in step and stops at the first pair whose ids differ; a refused
/// record used to get no attribute line, so every line after it was out
/// of step. Each record keeps its place, with its id as dolma reads it
/// (of duplicate keys, the last; of a line cut short, the id it starts
/// with) and no attributes.
#[test]
fn a_refused_record_keeps_its_place_in_the_attribute_file() {
    let dir = temp_dir();
    let good = |i: usize| serde_json::json!({"id": format!("doc-{i}"), "text": page(i)}).to_string();
    let lines = [
        good(0),
        "{\"id\": \"cut-1\", \"text\": ".to_string(),
        format!(
            "{{\"id\":\"first\",\"id\":\"dup-2\",\"text\":{}}}",
            serde_json::json!(page(2))
        ),
        "{\"id\": 3, \"body\": \"no text field\"}".to_string(),
        format!("{{\"id\":\"big-4\",\"text\":{}}}", serde_json::json!("x".repeat(5000))),
        good(5),
    ];
    write(&dir.path().join("in/a.jsonl"), lines.join("\n") + "\n");
    let run = dechaff_in(
        dir.path(),
        ["clean", "in", "--attributes", "attrs", "--max-doc-bytes", "4K", "-q"],
    );
    run.assert_code(1);
    let attributes = json_lines(&dir.path().join("attrs/a.jsonl"));
    let ids: Vec<Value> = attributes.iter().map(|line| line["id"].clone()).collect();
    assert_eq!(
        ids,
        [
            Value::from("doc-0"),
            Value::from("cut-1"),
            Value::from("dup-2"),
            Value::from(3),
            Value::from("big-4"),
            Value::from("doc-5")
        ]
    );
    for i in [1, 2, 3, 4] {
        assert_eq!(attributes[i]["attributes"], serde_json::json!({}), "line {}", i + 1);
    }
    for i in [0, 5] {
        assert!(attributes[i]["attributes"]["dechaff__social"].is_array());
    }
}
