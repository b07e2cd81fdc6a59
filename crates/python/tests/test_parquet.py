"""A Parquet file written by pyarrow comes back from `dechaff clean` with
every column kept, and texts equal to those of the same documents as JSONL."""

import datetime
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from generated import documents

ROWS = 70
NULL_ROW = 5
SUMMARY_COLUMNS = ["dechaff_removed_bytes", "dechaff_rules", "dechaff_warnings"]


def corpus_table(texts):
    texts = list(texts)
    texts[NULL_ROW] = None
    n = len(texts)
    start = datetime.datetime(2024, 1, 1)
    return pa.table(
        {
            "id": pa.array([f"doc-{i}" for i in range(n)]),
            "text": pa.array(texts, pa.large_string() if n % 2 else pa.string()),
            "url": pa.array([f"https://site{i % 4}.example.org/p/{i}" for i in range(n)]),
            "score": pa.array([i / 7 if i % 9 else None for i in range(n)], pa.float64()),
            "tags": pa.array([[f"t{i}", "x"] if i % 3 else [] for i in range(n)], pa.list_(pa.string())),
            "meta": pa.array(
                [{"lang": "en" if i % 2 else "fr", "chars": i * 10, "nested": {"a": [i, i + 1]}} for i in range(n)]
            ),
            "fetched": pa.array([start + datetime.timedelta(minutes=i) for i in range(n)], pa.timestamp("ms")),
        }
    ).replace_schema_metadata({"origin": "a pyarrow test"})


@pytest.mark.parametrize("compression", ["zstd", "snappy"])
def test_a_pyarrow_file_comes_back_with_every_column_and_the_jsonl_texts(run_cli, tmp_path, compression):
    texts = documents(ROWS, seed=11)
    table = corpus_table(texts)
    parquet_in = tmp_path / "parquet-in"
    parquet_in.mkdir()
    pq.write_table(table, parquet_in / "part-0.parquet", row_group_size=16, compression=compression)
    # The same documents as JSONL (the null text left out: it has no document).
    jsonl_in = tmp_path / "jsonl-in"
    jsonl_in.mkdir()
    with open(jsonl_in / "part-0.jsonl", "w", encoding="utf-8") as f:
        for i, text in enumerate(texts):
            if i != NULL_ROW:
                f.write(json.dumps({"id": f"doc-{i}", "text": text}) + "\n")

    records, done = run_cli([parquet_in], tmp_path / "parquet-out", "-j", "2", check=False)
    # The null text is refused like a JSONL record whose text is null: named, and the run exits 1.
    assert done.returncode == 1, done.stderr
    assert '"text" field is null' in done.stderr, done.stderr
    run_cli([jsonl_in], tmp_path / "jsonl-out")

    output = tmp_path / "parquet-out" / "part-0.parquet"
    cleaned = pq.read_table(output)
    kept = table.filter(pa.array([i != NULL_ROW for i in range(ROWS)]))
    # The input's columns first, as they were; then the removal summary (--metadata summary).
    assert cleaned.column_names == table.column_names + SUMMARY_COLUMNS
    assert cleaned.select(table.column_names).schema.equals(table.schema, check_metadata=False)
    assert cleaned.schema.metadata[b"origin"] == b"a pyarrow test"
    assert cleaned.num_rows == ROWS - 1
    for name in table.column_names:
        if name != "text":
            assert cleaned.column(name).equals(kept.column(name)), name

    jsonl_records = [
        json.loads(line) for line in (tmp_path / "jsonl-out" / "part-0.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    jsonl_texts = [record["text"] for record in jsonl_records]
    assert cleaned.column("text").to_pylist() == jsonl_texts
    # The summary columns hold what a JSONL record's metadata.dechaff summary holds.
    summaries = [record["metadata"]["dechaff"] for record in jsonl_records]
    assert cleaned.column("dechaff_removed_bytes").to_pylist() == [m["removed_bytes"] for m in summaries]
    assert cleaned.column("dechaff_rules").to_pylist() == [m["rules"] for m in summaries]
    assert cleaned.column("dechaff_warnings").to_pylist() == [m.get("warnings", []) for m in summaries]
    # Cleaning did something, or the comparison proves little.
    assert jsonl_texts != [t for i, t in enumerate(texts) if i != NULL_ROW]

    metadata = pq.ParquetFile(output).metadata
    assert metadata.row_group(0).column(0).compression == compression.upper()
    assert metadata.row_group(0).num_rows == 16


def test_a_parquet_file_without_its_name_is_read_by_its_magic_bytes(run_cli, tmp_path):
    texts = documents(10, seed=3)
    source = tmp_path / "in"
    source.mkdir()
    pq.write_table(pa.table({"text": texts}), source / "part-00000")
    run_cli([source], tmp_path / "out")
    cleaned = pq.read_table(tmp_path / "out" / "part-00000")
    assert cleaned.num_rows == 10
    assert cleaned.column_names == ["text"] + SUMMARY_COLUMNS


def test_metadata_says_which_summary_columns_a_parquet_output_gets(run_cli, tmp_path):
    texts = documents(12, seed=5)
    source = tmp_path / "in"
    source.mkdir()
    table = pa.table({"id": [f"d{i}" for i in range(12)], "text": texts})
    pq.write_table(table, source / "part-0.parquet")

    run_cli([source], tmp_path / "none", "--metadata", "none")
    assert pq.read_table(tmp_path / "none" / "part-0.parquet").schema.equals(table.schema, check_metadata=False)

    records, _ = run_cli([source], tmp_path / "full", "--metadata", "full")
    full = pq.read_table(tmp_path / "full" / "part-0.parquet")
    assert full.column_names == ["id", "text"] + SUMMARY_COLUMNS + ["dechaff_provenance"]
    assert pa.types.is_int64(full.schema.field("dechaff_removed_bytes").type)
    for name in ["dechaff_rules", "dechaff_warnings"]:
        assert full.schema.field(name).type.value_type == pa.string(), name
    provenance = [json.loads(p) for p in full.column("dechaff_provenance").to_pylist()]
    assert [p["index"] for p in provenance] == list(range(12))
    assert [p["removed_bytes"] for p in provenance] == full.column("dechaff_removed_bytes").to_pylist()
    assert any(p["removed"] for p in provenance), "cleaning removed something, or this proves little"

    # An input that already has such a column is refused, with the column named, and nothing is written.
    clashing = tmp_path / "clash"
    clashing.mkdir()
    pq.write_table(table.append_column("dechaff_rules", pa.array(["mine"] * 12)), clashing / "part-0.parquet")
    _, done = run_cli([clashing], tmp_path / "clash-out", check=False)
    assert done.returncode == 1, done.stderr
    assert 'the input has a column "dechaff_rules", which --metadata adds to the output' in done.stderr, done.stderr
    assert not (tmp_path / "clash-out" / "part-0.parquet").exists()
    run_cli([clashing], tmp_path / "clash-none", "--metadata", "none")
