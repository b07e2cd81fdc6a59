"""The package gives what `dechaff clean` gives: kept text, spans, record."""

import os
from pathlib import Path

import pyarrow as pa
import pytest

import dechaff
from generated import documents


def compare_tree(cleaner, inputs, out, records, provenance_text="excerpt"):
    """Every input file cleaned in-process equals the CLI's output and record."""
    assert records, "the CLI wrote no records"
    for path in sorted(inputs):
        text = path.read_bytes().decode("utf-8")
        cleaned = cleaner.clean(text)
        cli = records[str(path)]
        output = Path(cli["output"])
        assert cleaned.text == output.read_bytes().decode("utf-8"), path
        ours = cleaned.record(source=str(path), output=cli["output"], provenance_text=provenance_text)
        assert ours == cli, path
        for removal, span in zip(cleaned.removed, cli["removed"]):
            assert (removal.rule, removal.action) == (span["rule"], span["action"])
            assert [removal.byte_start, removal.byte_end] == span["bytes"]
            assert text[removal.char_start : removal.char_end] == removal.text
            assert text.encode()[removal.byte_start : removal.byte_end].decode() == removal.text


@pytest.mark.parametrize("provenance_text", ["excerpt", "full"])
def test_seeds_equal_the_cli(seeds, run_cli, tmp_path, provenance_text):
    records, _ = run_cli([seeds], tmp_path / "out", "--provenance-text", provenance_text)
    compare_tree(dechaff.Cleaner(), list(seeds.glob("*.txt")), tmp_path / "out", records, provenance_text)


def write_generated(directory: Path, count: int, seed: int):
    directory.mkdir(parents=True)
    paths = []
    for i, text in enumerate(documents(count, seed)):
        path = directory / f"doc{i:03}.txt"
        path.write_bytes(text.encode("utf-8"))
        paths.append(path)
    return paths


CONFIGS = [
    ({}, []),
    ({"heuristics": False}, ["--no-heuristics"]),
    ({"removal_budget": 0.05, "tail_min_position": 0.2}, ["--removal-budget", "0.05", "--tail-min-position", "0.2"]),
    ({"disable": ["social", "navigation.back-to-top"]}, ["--disable", "social", "--disable", "navigation.back-to-top"]),
]


@pytest.mark.parametrize("kwargs,flags", CONFIGS)
def test_generated_documents_equal_the_cli(run_cli, tmp_path, kwargs, flags):
    paths = write_generated(tmp_path / "in", 80, seed=len(flags))
    records, _ = run_cli([tmp_path / "in"], tmp_path / "out", *flags)
    compare_tree(dechaff.Cleaner(**kwargs), paths, tmp_path / "out", records)


def test_over_budget_documents_carry_the_cli_warning(run_cli, tmp_path):
    directory = tmp_path / "in"
    directory.mkdir()
    path = directory / "chaff.txt"
    path.write_text("One real sentence stays here.\nShare This\nBack to top\nSubscribe to our newsletter\n")
    records, _ = run_cli([directory], tmp_path / "out", "--removal-budget", "0.1")
    cleaned = dechaff.Cleaner(removal_budget=0.1).clean(path.read_text())
    assert cleaned.over_budget and cleaned.warnings
    assert cleaned.warnings == records[str(path)]["warnings"]


def test_devset_equals_the_cli(devset_input, run_cli, tmp_path):
    records, _ = run_cli([devset_input], tmp_path / "out")
    paths = [p for p in devset_input.iterdir() if p.is_file()]
    cleaner = dechaff.Cleaner()
    for path in sorted(paths):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue  # decoded by the CLI's detector; the package takes str
        if text.startswith("\ufeff"):
            continue
        cli = records[str(path)]
        cleaned = cleaner.clean(text)
        assert cleaned.text == Path(cli["output"]).read_bytes().decode("utf-8"), path
        assert cleaned.record(source=str(path), output=cli["output"]) == cli, path


@pytest.fixture(scope="session")
def equivalence_documents() -> Path:
    """The Rust equivalence harness's document set, written by ci.sh with
    `cargo test --test it write_the_document_set -- --ignored`."""
    given = os.environ.get("DECHAFF_EQUIVALENCE_DOCS")
    if not given:
        pytest.skip("DECHAFF_EQUIVALENCE_DOCS is not set (crates/python/ci.sh sets it)")
    path = Path(given)
    assert len(list(path.glob("doc-*.txt"))) > 100, f"{path} should hold the harness's documents"
    return path


def test_equivalence_harness_documents_equal_the_cli(equivalence_documents, run_cli, tmp_path):
    records, _ = run_cli([equivalence_documents], tmp_path / "out")
    paths = sorted(equivalence_documents.glob("doc-*.txt"))
    cleaner = dechaff.Cleaner()
    compare_tree(cleaner, paths, tmp_path / "out", records)
    texts = [p.read_bytes().decode("utf-8") for p in paths]
    batch = cleaner.clean_batch(texts, jobs=2)
    arrow = pa.array(texts, type=pa.large_string())
    kept = cleaner.clean_batch(arrow, jobs=2).to_pylist()
    for path, cleaned, via_arrow in zip(paths, batch, kept):
        want = Path(records[str(path)]["output"]).read_bytes().decode("utf-8")
        assert cleaned.text == want == via_arrow, path
