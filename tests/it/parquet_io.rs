//! Parquet in and out: rows cleaned in place with every other column kept,
//! the same bytes for any `--jobs` and on `--resume`, and a broken file
//! named with its cause while the run goes on with the other inputs.
//!
//! Files are written here with the `parquet` crate; pyarrow's files are
//! checked by the Python tests (`crates/python/tests/test_parquet.py`).

use std::fs;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::io_formats::{clean_page, page};
use crate::util::{dechaff, files_under, provenance, temp_dir, write};

/// Writes rows `(id, text, lang)` to `path` in row groups of `group` rows, zstd-compressed.
fn write_parquet(path: &Path, texts: &[Option<String>], group: usize) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("text", DataType::Utf8, true),
        Field::new("lang", DataType::Utf8, false),
    ]));
    let ids = Int64Array::from_iter_values(0..texts.len() as i64);
    let langs = StringArray::from_iter_values((0..texts.len()).map(|i| if i % 2 == 0 { "en" } else { "de" }));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(ids),
            Arc::new(StringArray::from(texts.to_vec())),
            Arc::new(langs),
        ],
    )
    .unwrap();
    let properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(group))
        .build();
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut writer = ArrowWriter::try_new(fs::File::create(path).unwrap(), schema, Some(properties)).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

/// The `id` and `text` columns of a Parquet file, and its first column's codec.
fn read_parquet(path: &Path) -> (Vec<i64>, Vec<String>, Compression) {
    let builder = ParquetRecordBatchReaderBuilder::try_new(fs::File::open(path).unwrap()).unwrap();
    let codec = builder.metadata().row_group(0).column(0).compression();
    let (mut ids, mut texts) = (Vec::new(), Vec::new());
    for batch in builder.build().unwrap() {
        let batch = batch.unwrap();
        let id: &Int64Array = column(&batch, "id");
        let text: &StringArray = column(&batch, "text");
        ids.extend(id.values().iter().copied());
        texts.extend((0..text.len()).map(|i| text.value(i).to_string()));
    }
    (ids, texts, codec)
}

#[test]
fn parquet_rows_are_cleaned_in_place_the_same_bytes_for_any_jobs() {
    let dir = temp_dir();
    let texts: Vec<Option<String>> = (0..300).map(|i| Some(page(i))).collect();
    write_parquet(&dir.path().join("in/part-0.parquet"), &texts, 64);
    let mut outputs = Vec::new();
    for jobs in ["1", "3"] {
        let out = dir.path().join(format!("out-{jobs}"));
        dechaff([
            "clean".as_ref(),
            dir.path().join("in").as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
            "-q".as_ref(),
            "-j".as_ref(),
            jobs.as_ref(),
        ])
        .assert_code(0);
        outputs.push(fs::read(out.join("part-0.parquet")).unwrap());
    }
    assert_eq!(outputs[0], outputs[1], "-j 1 and -j 3 wrote different bytes");
    let (ids, cleaned, codec) = read_parquet(&dir.path().join("out-1/part-0.parquet"));
    assert_eq!(ids, (0..300).collect::<Vec<i64>>());
    assert_eq!(cleaned, (0..300).map(clean_page).collect::<Vec<_>>());
    assert!(matches!(codec, Compression::ZSTD(_)), "{codec:?}");
    let records = provenance(&dir.path().join("out-1"));
    let file = records.iter().find(|r| r["document"].is_null()).unwrap();
    assert_eq!(file["documents"]["written"], 300);
    assert_eq!(file["cleaned"]["lines"], 300);
    let row = records.iter().find(|r| r["document"]["index"] == 70).unwrap();
    assert_eq!(row["document"]["row_group"], 1);
    assert_eq!(row["document"]["id"], "70");
}

#[test]
fn compress_sets_the_codec_of_a_parquet_output_and_keeps_its_name() {
    let dir = temp_dir();
    write_parquet(&dir.path().join("in/a.parquet"), &[Some(page(1))], 10);
    let out = dir.path().join("out");
    dechaff([
        "clean".as_ref(),
        dir.path().join("in").as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "-q".as_ref(),
        "--compress".as_ref(),
        "none".as_ref(),
    ])
    .assert_code(0);
    let (_, texts, codec) = read_parquet(&out.join("a.parquet"));
    assert_eq!(texts, [clean_page(1)]);
    assert_eq!(codec, Compression::UNCOMPRESSED);
}

#[test]
fn resume_copies_a_finished_parquet_output_forward() {
    let dir = temp_dir();
    write_parquet(
        &dir.path().join("in/a.parquet"),
        &(0..20).map(|i| Some(page(i))).collect::<Vec<_>>(),
        8,
    );
    let out = dir.path().join("out");
    let args = |resume: bool| {
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "clean".as_ref(),
            dir.path().join("in").into_os_string().leak(),
            "--out".as_ref(),
            out.as_os_str(),
        ];
        if resume {
            args.push("--resume".as_ref());
        }
        args
    };
    dechaff(args(false)).assert_code(0);
    let first = fs::read(out.join("a.parquet")).unwrap();
    let run = dechaff(args(true));
    run.assert_code(0);
    assert!(
        run.stderr.contains("1 files copied forward by --resume"),
        "{}",
        run.stderr
    );
    assert_eq!(fs::read(out.join("a.parquet")).unwrap(), first);
}

#[test]
fn a_null_text_is_refused_with_its_row_and_the_other_rows_are_written() {
    let dir = temp_dir();
    write_parquet(
        &dir.path().join("in/a.parquet"),
        &[Some(page(0)), None, Some(page(2))],
        2,
    );
    let out = dir.path().join("out");
    let rejects = dir.path().join("rejects.jsonl");
    let run = dechaff([
        "clean".as_ref(),
        dir.path().join("in").as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--rejects".as_ref(),
        rejects.as_os_str(),
    ]);
    run.assert_code(1);
    assert!(
        run.stderr
            .contains("a.parquet@0: the \"text\" field is null, not a string (--text-field)"),
        "{}",
        run.stderr
    );
    let (ids, texts, _) = read_parquet(&out.join("a.parquet"));
    assert_eq!(ids, [0, 2]);
    assert_eq!(texts, [clean_page(0), clean_page(2)]);
    let reject: serde_json::Value = serde_json::from_str(fs::read_to_string(&rejects).unwrap().trim()).unwrap();
    assert_eq!(
        (reject["index"].as_u64(), reject["row_group"].as_u64()),
        (Some(1), Some(0))
    );
}

#[test]
fn broken_parquet_files_are_named_with_their_cause_and_the_run_goes_on() {
    let dir = temp_dir();
    let input = dir.path().join("in");
    // A text column that is not a string.
    let schema = Arc::new(Schema::new(vec![Field::new("text", DataType::Int64, false)]));
    let batch = RecordBatch::try_new(Arc::clone(&schema), vec![Arc::new(Int64Array::from(vec![1, 2]))]).unwrap();
    fs::create_dir_all(&input).unwrap();
    let mut writer =
        ArrowWriter::try_new(fs::File::create(input.join("b-numbers.parquet")).unwrap(), schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    // No text column at all (the text is under another name).
    write_parquet(&input.join("c-good.parquet"), &[Some(page(3))], 10);
    let good = fs::read(input.join("c-good.parquet")).unwrap();
    // Cut short: the footer is gone.
    write(&input.join("d-truncated.parquet"), &good[..good.len() / 2]);
    // Not Parquet at all, though named so.
    write(&input.join("e-text.parquet"), "just some text\n");
    let out = dir.path().join("out");
    let run = dechaff([
        "clean".as_ref(),
        input.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "-q".as_ref(),
        "--text-field".as_ref(),
        "text".as_ref(),
    ]);
    run.assert_code(1);
    let stderr = &run.stderr;
    assert!(
        stderr.contains("b-numbers.parquet: the \"text\" column is Int64, not a string (--text-field)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("d-truncated.parquet: not a readable Parquet file: "),
        "{stderr}"
    );
    assert!(
        stderr.contains("e-text.parquet: not a readable Parquet file: "),
        "{stderr}"
    );
    // The good file was cleaned all the same.
    assert_eq!(read_parquet(&out.join("c-good.parquet")).1, [clean_page(3)]);
    assert_eq!(
        files_under(&out)
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
            .count(),
        1
    );

    let run = dechaff([
        "clean".as_ref(),
        input.join("c-good.parquet").as_os_str(),
        "--out".as_ref(),
        dir.path().join("out2").as_os_str(),
        "--text-field".as_ref(),
        "body".as_ref(),
    ]);
    run.assert_code(1);
    assert!(
        run.stderr.contains(
            "c-good.parquet: the Parquet file has no \"body\" column (--text-field); its columns are id, text, lang"
        ),
        "{}",
        run.stderr
    );
}

/// The column `name` of `batch`, as the array type it must have.
fn column<'a, T: 'static>(batch: &'a arrow_array::RecordBatch, name: &str) -> &'a T {
    batch
        .column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name}"))
        .as_any()
        .downcast_ref::<T>()
        .unwrap_or_else(|| panic!("column {name} has another type"))
}
