//! Every path through dechaff writes the same bytes.
//!
//! Workers finish files in any order; the pipeline promises that outputs and
//! provenance do not show it. Two runs over the seeds and the generated
//! corpus, `-j1` and `-j8`, into different output directories, must agree
//! byte for byte once the output directory's own path is taken out of the
//! provenance lines; and the library, one cleaner reused over every file in
//! process, must give each output and each removal that the binary wrote.

use std::fs;
use std::path::{Path, PathBuf};

use crate::corpus;
use crate::util::{dechaff, files_under, provenance, temp_dir};

/// Cleans `inputs` into `out` with `jobs` workers and the test pack added.
fn clean(inputs: &[PathBuf], out: &Path, jobs: usize, pack: &Path) {
    let mut args: Vec<String> = vec!["clean".into(), "--quiet".into()];
    args.extend(inputs.iter().map(|p| p.display().to_string()));
    args.extend([
        "--out".into(),
        out.display().to_string(),
        "--jobs".into(),
        jobs.to_string(),
        "--rules".into(),
        pack.display().to_string(),
    ]);
    // The corpus holds one binary file on purpose, so the run exits 1.
    dechaff(&args).assert_code(1);
}

#[test]
fn one_worker_and_eight_workers_write_the_same_bytes() {
    let dir = temp_dir();
    let fixture = corpus::Fixture::new(dir.path());
    assert!(fixture.files >= 200, "the corpus has {} files", fixture.files);
    let (inputs, pack) = (fixture.inputs(), fixture.pack);
    let (out1, out8) = (dir.path().join("out-j1"), dir.path().join("out-j8"));
    clean(&inputs, &out1, 1, &pack);
    clean(&inputs, &out8, 8, &pack);

    let (tree1, tree8) = (files_under(&out1), files_under(&out8));
    assert_eq!(tree1, tree8, "the two runs wrote different sets of files");
    // Every input but the binary one has an output, plus provenance.jsonl.
    assert_eq!(tree1.len(), corpus::walk_order(&inputs).len() - 1 + 1);
    for relative in &tree1 {
        if relative == Path::new("provenance.jsonl") {
            continue;
        }
        let one = fs::read(out1.join(relative)).unwrap();
        let eight = fs::read(out8.join(relative)).unwrap();
        assert!(one == eight, "{} differs between -j1 and -j8", relative.display());
    }

    let provenance1 = fs::read_to_string(out1.join("provenance.jsonl")).unwrap();
    let provenance8 = fs::read_to_string(out8.join("provenance.jsonl")).unwrap();
    let prefix1 = out1.display().to_string();
    let prefix8 = out8.display().to_string();
    assert!(provenance1.contains(&prefix1), "provenance names its outputs");
    let normalized1 = provenance1.replace(&prefix1, "<OUT>");
    let normalized8 = provenance8.replace(&prefix8, "<OUT>");
    for (line, (one, eight)) in normalized1.lines().zip(normalized8.lines()).enumerate() {
        assert_eq!(one, eight, "provenance line {} differs", line + 1);
    }
    assert!(
        normalized1 == normalized8,
        "provenance.jsonl differs between -j1 and -j8 (line count or final newline)"
    );
}

#[test]
fn the_library_reused_over_every_file_gives_the_binary_s_bytes() {
    let dir = temp_dir();
    let fixture = corpus::Fixture::new(dir.path());
    let (inputs, pack) = (fixture.inputs(), fixture.pack);
    let out = dir.path().join("out");
    clean(&inputs, &out, 2, &pack);

    let rules = dechaff_engine::RuleSetBuilder::new().add_path(&pack).build().unwrap();
    let mut cleaner = dechaff_engine::CleanerBuilder::new().build(rules).unwrap();
    let rules = cleaner.shared_rules();
    let mut compared = 0;
    for record in provenance(&out).iter().filter(|r| r["status"] == "ok") {
        let raw = fs::read(record["source"].as_str().unwrap()).unwrap();
        let decoded = dechaff_run::decode::decode(&raw, dechaff_run::decode::EncodingChoice::Detect).unwrap();
        let cleaned = cleaner.clean(&decoded.text);
        let written = fs::read(record["output"].as_str().unwrap()).unwrap();
        assert!(
            cleaned.text.as_bytes() == written,
            "{}: the library and the binary differ",
            record["source"]
        );
        let removals: Vec<(String, u64, u64)> = cleaned
            .removals()
            .iter()
            .map(|r| {
                (
                    rules.rules()[r.rule].id.clone(),
                    r.bytes.start as u64,
                    r.bytes.end as u64,
                )
            })
            .collect();
        let recorded: Vec<(String, u64, u64)> = record["removed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let id = r["rule"].as_str().unwrap().to_string();
                (id, r["bytes"][0].as_u64().unwrap(), r["bytes"][1].as_u64().unwrap())
            })
            .collect();
        assert_eq!(removals, recorded, "{}: removals differ", record["source"]);
        compared += 1;
    }
    assert!(compared >= 200, "compared {compared} files");
}

#[test]
fn provenance_records_come_in_sorted_walk_order() {
    let dir = temp_dir();
    let fixture = corpus::Fixture::new(dir.path());
    let (inputs, pack) = (fixture.inputs(), fixture.pack);
    let out = dir.path().join("out");
    clean(&inputs, &out, 8, &pack);

    let expected: Vec<String> = corpus::walk_order(&inputs)
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let records = provenance(&out);
    let sources: Vec<&str> = records
        .iter()
        .map(|r| r["source"].as_str().expect("source is a string"))
        .collect();
    assert_eq!(sources, expected);
    // The walk order really is byte order: capitals sort before lowercase.
    let position = |suffix: &str| {
        sources
            .iter()
            .position(|s| s.ends_with(suffix))
            .unwrap_or_else(|| panic!("no record for {suffix}"))
    };
    assert!(position("gen/Alpha/Page-00.txt") < position("gen/alpha/Page-00.txt"));
    assert!(position("gen/Page-04.txt") < position("gen/page-01.txt"));
    assert!(position("gen/beta-10/Page-00.txt") < position("gen/beta-2/Page-00.txt"));
}

#[test]
fn jsonl_and_warc_shards_give_the_same_bytes_for_one_worker_and_eight() {
    use crate::io_formats::{compress_like, page, wet_records};
    use crate::util::{dechaff_in, write};
    // More records than one batch holds, so batches are cut and cleaned in
    // parallel; each run in its own directory with the same relative paths.
    let records: String = (0..10_000)
        .map(|i| format!("{{\"id\":{i},\"text\":{}}}\n", serde_json::to_string(&page(i)).unwrap()))
        .collect();
    let mut trees = Vec::new();
    for jobs in ["1", "8"] {
        let dir = temp_dir();
        write(
            &dir.path().join("in/big.jsonl.gz"),
            compress_like(".gz", records.as_bytes()),
        );
        write(&dir.path().join("in/crawl.warc.wet"), wet_records(30).concat());
        write(&dir.path().join("in/x.txt"), page(3));
        dechaff_in(dir.path(), ["clean", "in", "--out", "out", "-q", "-j", jobs]).assert_code(0);
        let tree: Vec<(PathBuf, Vec<u8>)> = files_under(&dir.path().join("out"))
            .into_iter()
            .map(|p| {
                let bytes = fs::read(dir.path().join("out").join(&p)).unwrap();
                (p, bytes)
            })
            .collect();
        trees.push(tree);
    }
    assert_eq!(trees[0].len(), 4);
    for ((name, one), (_, eight)) in trees[0].iter().zip(&trees[1]) {
        assert!(one == eight, "{} differs between -j1 and -j8", name.display());
    }
}
