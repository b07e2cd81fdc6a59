"""A real datatrove pipeline with the step gives `dechaff clean`'s texts."""

import json
from pathlib import Path

import pytest

datatrove = pytest.importorskip("datatrove")

from datatrove.executor import LocalPipelineExecutor  # noqa: E402
from datatrove.pipeline.readers import JsonlReader  # noqa: E402
from datatrove.pipeline.writers import JsonlWriter  # noqa: E402

from dechaff.datatrove import DechaffCleaner  # noqa: E402
from generated import documents  # noqa: E402


def read_jsonl(directory: Path):
    records = {}
    for path in sorted(directory.glob("*.jsonl")):
        if path.name.startswith("provenance"):
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            records[record["id"]] = record
    return records


def write_shards(directory: Path, seeds: Path):
    directory.mkdir()
    texts = [p.read_text(encoding="utf-8") for p in sorted(seeds.glob("*.txt"))] + documents(120, seed=5)
    for shard in range(2):
        with open(directory / f"shard{shard}.jsonl", "w", encoding="utf-8") as f:
            for i, text in enumerate(texts[shard::2]):
                url = f"https://www.site{i % 3}.example/page/{i}"
                f.write(json.dumps({"id": f"{shard}-{i}", "text": text, "metadata": {"url": url}}) + "\n")
    return len(texts)


def test_pipeline_equals_the_cli(tmp_path, seeds, run_cli):
    total = write_shards(tmp_path / "shards", seeds)
    run_cli([tmp_path / "shards"], tmp_path / "cli", "--metadata", "full")
    cli = read_jsonl(tmp_path / "cli")
    assert len(cli) == total

    step = DechaffCleaner(exclusion_writer=JsonlWriter(str(tmp_path / "excluded"), compression=None), batch_size=16)
    executor = LocalPipelineExecutor(
        pipeline=[
            JsonlReader(str(tmp_path / "shards"), compression=None),
            step,
            JsonlWriter(str(tmp_path / "dt"), compression=None),
        ],
        tasks=2,
        workers=2,
        logging_dir=str(tmp_path / "logs"),
    )
    executor.run()
    kept = read_jsonl(tmp_path / "dt")
    excluded = read_jsonl(tmp_path / "excluded")
    # datatrove's reader skips documents without text; dechaff sees the rest.
    skipped = set(cli) - set(kept) - set(excluded)
    assert all(cli[doc_id]["metadata"]["dechaff"]["input"]["decoded_bytes"] == 0 for doc_id in skipped)
    assert not set(kept) & set(excluded)
    for doc_id, record in kept.items():
        assert record["text"] == cli[doc_id]["text"], doc_id
        summary = record["metadata"]["dechaff"]
        spans = cli[doc_id]["metadata"]["dechaff"]["removed"]
        assert summary["rules"] == sorted({s["rule"] for s in spans})
    for doc_id, record in excluded.items():
        want = cli[doc_id]
        assert not want["text"].strip() or want["metadata"]["dechaff"].get("warnings"), doc_id
        assert record["metadata"]["filter_reason"].startswith("dechaff_")
    assert excluded, "the generated documents include boilerplate-only ones"

    stats = json.loads((tmp_path / "logs" / "stats.json").read_text())
    ours = next(s for s in stats if "dechaff" in s["name"])
    counts = {k: v["total"] if isinstance(v, dict) else v for k, v in ours["stats"].items()}
    assert counts["total"] == total - len(skipped)
    assert counts["forwarded"] == len(kept)
    assert counts["dropped"] == len(excluded)
    spans = sum(len(cli[i]["metadata"]["dechaff"]["removed"]) for i in set(kept) | set(excluded))
    assert sum(v for k, v in counts.items() if k.startswith("rule:")) == spans
    assert any(key.startswith("rule:") for key in ours["stats"])


def test_step_with_records_and_corpus_counts(tmp_path):
    import dechaff

    counter = dechaff.CorpusCounter()
    footer = "Example Gazette, 1 Main Street, Springfield"
    for i in range(4):
        counter.add(f"Story {i} is about something else entirely.\n{footer}\n", "gazette.example")
    step = DechaffCleaner(corpus=counter, group_by="host", metadata="record")
    from datatrove.data import Document

    doc = Document(text=f"A story of the day, told in full.\n{footer}\n", id="1", metadata={"url": "https://www.gazette.example/x"})
    out = list(step.run([doc]))
    assert out[0].text == "A story of the day, told in full.\n"
    record = out[0].metadata["dechaff"]
    assert [s["rule"] for s in record["removed"]] == ["corpus.recurring"]
    manifest = step._build().manifest()
    assert record["rules"] == manifest["rules"]["fingerprint"]
    assert manifest["rules"]["settings"]["corpus"]["group_by"] == "host"


@pytest.mark.parametrize("metadata", ["summary", "record", None])
def test_clean_documents_matches_clean_batch(seeds, metadata):
    """The step's one call per batch writes what clean_batch says, document for document."""
    import dechaff
    from datatrove.data import Document

    texts = [p.read_text(encoding="utf-8") for p in sorted(seeds.glob("*.txt"))] + documents(60, seed=9)
    cleaner = dechaff.Cleaner(removal_budget=0.3)
    want = cleaner.clean_batch(texts)
    docs = [Document(text=text, id=f"d{i}", metadata={}) for i, text in enumerate(texts)]
    fates, rule_counts, removed_bytes = cleaner.clean_documents(docs, jobs=2, metadata=metadata, metadata_key="dc")
    tally = {}
    for doc, text, cleaned, fate in zip(docs, texts, want, fates):
        for rule, n in cleaned.rule_counts().items():
            tally[rule] = tally.get(rule, 0) + n
        if not cleaned.text.strip():
            assert fate == "dechaff_emptied"
        elif cleaned.over_budget:
            assert fate == "dechaff_over_budget"
        else:
            assert fate is None
        assert doc.text == (cleaned.text if fate is None else text)
        if metadata is None:
            assert "dc" not in doc.metadata
        elif metadata == "record":
            assert doc.metadata["dc"] == cleaned.record(source=doc.id)
        else:
            summary = doc.metadata["dc"]
            assert summary["removed_bytes"] == cleaned.removed_bytes
            assert summary["rules"] == sorted(cleaned.rule_counts())
            assert summary.get("warnings", []) == cleaned.warnings
    assert rule_counts == tally
    assert removed_bytes == sum(c.removed_bytes for c in want)
    assert set(fates) == {None, "dechaff_emptied", "dechaff_over_budget"}
