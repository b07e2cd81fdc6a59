//! The JSON Schemas in `schema/` hold every record dechaff writes: each
//! provenance line (the manifest among them), and each `metadata.dechaff`
//! of a JSONL output, summary and full, over text files, JSONL records (a
//! refused one, one over the removal budget and, with `--drop`, a dropped
//! one among them) and corpus mode's scored spans.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::util::{dechaff_in, manifest, provenance, seeds_dir, temp_dir, write};

fn validator(name: &str) -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema").join(name);
    let schema: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{name} is not a schema: {e}"))
}

#[track_caller]
fn assert_valid(validator: &jsonschema::Validator, instance: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}\n{instance}");
}

#[test]
fn every_provenance_record_and_every_metadata_fits_its_schema() {
    let records_schema = validator("dechaff.provenance-2.json");
    let metadata_schema = validator("dechaff.metadata-2.json");
    let dir = temp_dir();
    let mut jsonl = String::new();
    for (i, entry) in fs::read_dir(seeds_dir()).unwrap().enumerate() {
        let text = fs::read_to_string(entry.unwrap().path()).unwrap();
        jsonl.push_str(&serde_json::json!({"id": format!("s{i}"), "text": text}).to_string());
        jsonl.push('\n');
    }
    jsonl.push_str("{\"id\": \"short\", \"text\": \"Share This\\n\"}\n");
    jsonl.push_str("not json\n");
    write(&dir.path().join("in/records.jsonl"), &jsonl);
    for entry in fs::read_dir(seeds_dir()).unwrap() {
        let path = entry.unwrap().path();
        write(
            &dir.path().join("in/pages").join(path.file_name().unwrap()),
            fs::read(&path).unwrap(),
        );
    }

    let full: &[&str] = &[
        "--metadata",
        "full",
        "--provenance-text",
        "full",
        "--corpus",
        "--min-docs",
        "2",
    ];
    let dropping: &[&str] = &["--drop", "empty,over-budget"];
    for (out, flags) in [("summary", &[][..]), ("full", full), ("dropping", dropping)] {
        let mut args = vec!["clean", "in", "--out", out, "-q"];
        args.extend_from_slice(flags);
        dechaff_in(dir.path(), args).assert_code(1);
        let records = provenance(&dir.path().join(out));
        assert!(
            records.iter().any(|r| r["status"] == "error"),
            "a refused record is among them"
        );
        if out == "dropping" {
            assert!(
                records.iter().any(|r| r["status"] == "dropped"),
                "a dropped document is among them"
            );
        } else {
            assert!(
                records.iter().any(|r| r.get("warnings").is_some()),
                "a warning is among them"
            );
        }
        for record in &records {
            assert_valid(&records_schema, record, "a provenance record");
        }
        let manifest = manifest(&dir.path().join(out));
        assert_valid(&records_schema, &manifest, "the manifest");
        assert!(records.iter().all(|r| r["rules"] == manifest["rules"]["fingerprint"]));
        let output = fs::read_to_string(dir.path().join(out).join("records.jsonl")).unwrap();
        for line in output.lines() {
            let line: Value = serde_json::from_str(line).unwrap();
            assert_valid(&metadata_schema, &line["metadata"]["dechaff"], "metadata.dechaff");
            assert_eq!(line["metadata"]["dechaff"].get("removed").is_some(), out == "full");
        }
    }
}
