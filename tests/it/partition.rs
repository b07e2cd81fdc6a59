//! Every byte of every input is either in the output or in the provenance.
//!
//! With `--provenance-text full` a record stores each removed span and each
//! whitespace span with its text, so the decoded input can be rebuilt from
//! the output file and the record alone. This is what makes a cleaning
//! auditable: it is checked here for every file of a run over the seeds and
//! the generated corpus, twice: with the library's `rebuild_input`, and with
//! a re-implementation that reads only the JSON, so that a bug shared by the
//! writer and the library's reader cannot hide.

use std::fs;

use dechaff_run::decode::{decode, EncodingChoice};
use dechaff_run::provenance::{rebuild_input, Record};
use serde_json::Value;

use crate::corpus;
use crate::util::{dechaff, provenance, sha256_hex, temp_dir};

/// Rebuilds the input from the output and the record's JSON: the kept output
/// bytes fill the gaps between the removed and whitespace spans, in offset
/// order. Checks on the way that the spans are sorted, do not overlap, lie
/// within `decoded_bytes`, and hold as many bytes as they claim.
fn rebuild_from_json(output: &str, record: &Value) -> Result<String, String> {
    let decoded_bytes = record["input"]["decoded_bytes"]
        .as_u64()
        .ok_or("no input.decoded_bytes")? as usize;
    let number = |v: &Value| v.as_u64().map(|n| n as usize).ok_or("offset is not a number");
    let mut spans: Vec<(usize, usize, String, &str)> = Vec::new();
    let mut previous_end = 0;
    for removed in record["removed"].as_array().ok_or("no removed array")? {
        let (start, end) = (number(&removed["bytes"][0])?, number(&removed["bytes"][1])?);
        if start < previous_end {
            return Err(format!("removed span {start}..{end} is out of order or overlaps"));
        }
        previous_end = end;
        let text = removed["text"].as_str().ok_or("removed span without text")?;
        spans.push((start, end, text.to_string(), "removed"));
    }
    previous_end = 0;
    for span in record["whitespace"].as_array().ok_or("no whitespace array")? {
        let parts = span.as_array().ok_or("whitespace span is not an array")?;
        let [start, end, text] = parts.as_slice() else {
            return Err(format!("whitespace span {span} is not [start, end, text]"));
        };
        let (start, end) = (number(start)?, number(end)?);
        if start < previous_end {
            return Err(format!("whitespace span {start}..{end} is out of order or overlaps"));
        }
        previous_end = end;
        let text = text.as_str().ok_or("whitespace text is not a string")?;
        spans.push((start, end, text.to_string(), "whitespace"));
    }
    spans.sort_by_key(|span| span.0);

    let mut rebuilt = String::new();
    let mut kept = output;
    let mut cursor = 0;
    for (start, end, text, what) in spans {
        if start >= end {
            return Err(format!("{what} span {start}..{end} is empty or reversed"));
        }
        if start < cursor {
            return Err(format!("{what} span {start}..{end} overlaps the span before it"));
        }
        if end > decoded_bytes {
            return Err(format!(
                "{what} span {start}..{end} ends past decoded_bytes {decoded_bytes}"
            ));
        }
        if text.len() != end - start {
            return Err(format!("{what} span {start}..{end} holds {} bytes of text", text.len()));
        }
        let gap = start - cursor;
        let Some(piece) = kept.get(..gap) else {
            return Err(format!(
                "the output runs out (or splits a character) before {what} span {start}..{end}"
            ));
        };
        rebuilt.push_str(piece);
        kept = &kept[gap..];
        rebuilt.push_str(&text);
        cursor = end;
    }
    rebuilt.push_str(kept);
    if rebuilt.len() != decoded_bytes {
        return Err(format!(
            "rebuilt {} bytes, decoded_bytes says {decoded_bytes}",
            rebuilt.len()
        ));
    }
    Ok(rebuilt)
}

/// The input's text as dechaff should have decoded it: the bytes themselves
/// when they are UTF-8 without a BOM, else what the decoder makes of them.
fn input_text(raw: &[u8]) -> String {
    match std::str::from_utf8(raw) {
        Ok(text) if !text.starts_with('\u{feff}') => text.to_string(),
        _ => decode(raw, EncodingChoice::Detect)
            .expect("a text input decodes")
            .text
            .into_owned(),
    }
}

#[test]
fn every_input_byte_is_kept_or_recorded() {
    let dir = temp_dir();
    let fixture = corpus::Fixture::new(dir.path());
    let (inputs, pack) = (fixture.inputs(), fixture.pack);
    let out = dir.path().join("out");
    let mut args: Vec<String> = vec!["clean".into(), "--quiet".into()];
    args.extend(inputs.iter().map(|p| p.display().to_string()));
    args.extend(["--out", &out.display().to_string(), "--rules"].map(String::from));
    args.extend([pack.display().to_string(), "--provenance-text".into(), "full".into()]);
    // The corpus holds one binary file on purpose, so the run exits 1.
    dechaff(&args).assert_code(1);

    let records = provenance(&out);
    assert_eq!(records.len(), corpus::walk_order(&inputs).len());
    let mut problems = Vec::new();
    let (mut checked, mut removals) = (0, 0);
    for record in &records {
        let source = record["source"].as_str().expect("source");
        if record["status"] == "error" && source.ends_with(".bin") {
            continue;
        }
        if record["status"] != "ok" {
            problems.push(format!("{source}: status {}", record["status"]));
            continue;
        }
        let raw = fs::read(source).expect("read the input");
        let output_path = record["output"].as_str().expect("an ok record names its output");
        let output = fs::read(output_path).expect("read the output");
        let output = String::from_utf8(output).expect("outputs are UTF-8");
        let expected = input_text(&raw);

        if record["input"]["sha256"] != sha256_hex(&raw).as_str() {
            problems.push(format!("{source}: input.sha256 is not the input's"));
        }
        if record["input"]["bytes"] != raw.len() {
            problems.push(format!("{source}: input.bytes is not the input's size"));
        }
        if record["cleaned"]["sha256"] != sha256_hex(output.as_bytes()).as_str() {
            problems.push(format!("{source}: cleaned.sha256 is not {output_path}'s"));
        }
        if record["cleaned"]["bytes"] != output.len() {
            problems.push(format!("{source}: cleaned.bytes is not {output_path}'s size"));
        }
        if record["input"]["decoded_bytes"] != expected.len() {
            problems.push(format!("{source}: decoded_bytes is not the decoded size"));
        }

        match rebuild_from_json(&output, record) {
            Ok(rebuilt) if rebuilt == expected => {}
            Ok(rebuilt) => problems.push(format!(
                "{source}: the JSON rebuilds\n    {rebuilt:?}\n  not the input\n    {expected:?}"
            )),
            Err(e) => problems.push(format!("{source}: {e}")),
        }
        let typed: Record = serde_json::from_value(record.clone()).expect("a typed record");
        match rebuild_input(&output, &typed) {
            Some(rebuilt) if rebuilt == expected => {}
            Some(rebuilt) => problems.push(format!(
                "{source}: rebuild_input gives\n    {rebuilt:?}\n  not the input\n    {expected:?}"
            )),
            None => problems.push(format!("{source}: rebuild_input gives up")),
        }
        checked += 1;
        removals += record["removed"].as_array().map_or(0, Vec::len);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(checked >= 200, "only {checked} records were checked");
    // The check means little unless the rules removed plenty.
    assert!(removals >= 200, "only {removals} spans were removed");
}

/// The JSON re-implementation must catch what it is there to catch, or the
/// test above proves nothing.
#[test]
fn the_json_rebuild_refuses_a_record_with_a_byte_missing() {
    let input = "Title\n\nShare This\n";
    let record: Value = serde_json::json!({
        "input": {"decoded_bytes": input.len()},
        "removed": [{"bytes": [7, 18], "text": "Share This\n"}],
        "whitespace": [[6, 7, "\n"]],
    });
    assert_eq!(rebuild_from_json("Title\n", &record).unwrap(), input);
    let mut short = record.clone();
    short["whitespace"] = serde_json::json!([]);
    assert!(rebuild_from_json("Title\n", &short).is_err());
    let mut overlapping = record;
    overlapping["whitespace"] = serde_json::json!([[6, 8, "\nS"]]);
    assert!(rebuild_from_json("Title\n", &overlapping).is_err());
}
