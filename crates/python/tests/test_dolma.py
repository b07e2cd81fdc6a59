"""dechaff's attribute files, read by the real dolma mixer.

`dechaff clean DATA/documents --attributes DATA/attributes/dechaff` must give
files that `dolma mix` finds on its own (same relative path and file name
under `attributes/dechaff/`), with spans it can apply (`[start, end, score]`,
character offsets, numeric scores): its `span_replacement` over them must
give exactly the texts `dechaff clean` writes. The documents mix ASCII pages
with accented, CJK, emoji and CRLF text, where byte and character offsets
part.
"""

import gzip
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import SHARED

# dolma lives in a venv of its own (ci.sh makes it and sets DOLMA_BIN): its
# pins do not fit datatrove's.
DOLMA = os.environ.get("DOLMA_BIN") or shutil.which("dolma")

# One span_replacement for every family dechaff writes: jq gathers the spans
# of every `dechaff__*` key into one list.
EVERY_DECHAFF_SPAN = (
    '[.attributes | to_entries[] | select(.key | startswith("dechaff__")) | .value[]]'
)


def _documents(seeds: Path) -> list:
    pages = [p.read_text(encoding="utf-8") for p in sorted(seeds.glob("*.txt"))]
    if (SHARED / "devset" / "input").is_dir():
        pages += [
            p.read_text(encoding="utf-8", errors="replace")
            for p in sorted((SHARED / "devset" / "input").glob("*.txt"))[:300]
        ]
    made = [
        "Café au lait — a story\n\nShare This\n\nThe café opened in 1998 and still serves crêpes to everyone who comes.\n\nLeave a Reply\n",
        "日本語の記事です。\r\n\r\nShare on Facebook\r\n\r\n東京の天気は晴れでした。皆さんはお元気ですか。\r\n",
        "  Emoji 🎉 headline  \n\n\n\nFollow us on Twitter\n\nThe 🎉 party went on until the early morning hours, said the organisers.\n",
    ]
    return [{"id": f"doc-{i}", "text": text, "source": "test"} for i, text in enumerate(pages + made)]


@pytest.mark.skipif(DOLMA is None, reason="no dolma: set DOLMA_BIN (crates/python/ci.sh does)")
def test_dolma_mix_over_dechaff_attributes_gives_dechaffs_texts(tmp_path, dechaff_bin, seeds):
    docs = _documents(seeds)
    data = tmp_path / "data"
    (data / "documents").mkdir(parents=True)
    with gzip.open(data / "documents" / "part-0.json.gz", "wt", encoding="utf-8") as f:
        for doc in docs:
            f.write(json.dumps(doc, ensure_ascii=False) + "\n")

    # What dechaff writes as cleaned documents ...
    clean = subprocess.run(
        [str(dechaff_bin), "clean", str(data / "documents"), "--out", str(tmp_path / "clean"), "-q"],
        capture_output=True, text=True,
    )
    assert clean.returncode == 0, clean.stderr
    with gzip.open(tmp_path / "clean" / "part-0.jsonl.gz", "rt", encoding="utf-8") as f:
        expected = {r["id"]: r["text"] for r in map(json.loads, f)}
    assert len(expected) == len(docs)

    # ... and, as attributes, where dolma's mixer looks for them.
    attrs = subprocess.run(
        [str(dechaff_bin), "clean", str(data / "documents"), "--attributes", str(data / "attributes" / "dechaff"), "-q"],
        capture_output=True, text=True,
    )
    assert attrs.returncode == 0, attrs.stderr
    assert (data / "attributes" / "dechaff" / "part-0.json.gz").is_file()

    config = {
        "streams": [
            {
                "name": "mixed",
                "documents": [str(data / "documents" / "*.json.gz")],
                "attributes": ["dechaff"],
                "output": {"path": str(tmp_path / "mixed"), "max_size_in_bytes": 1_000_000_000},
                "span_replacement": [
                    {"span": EVERY_DECHAFF_SPAN, "syntax": "jq", "min_score": 0, "replacement": ""}
                ],
            }
        ],
        "processes": 1,
    }
    (tmp_path / "mixer.json").write_text(json.dumps(config))
    mixed = subprocess.run(
        [DOLMA, "-c", str(tmp_path / "mixer.json"), "mix"], capture_output=True, text=True
    )
    assert mixed.returncode == 0, mixed.stderr

    got = {}
    for path in sorted((tmp_path / "mixed").glob("*")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for record in map(json.loads, f):
                got[record["id"]] = record["text"]
    assert got.keys() == expected.keys()
    inputs = {doc["id"]: doc["text"] for doc in docs}
    assert sum(got[i] != inputs[i] for i in got) > len(got) // 2, "the mixer removed spans"
    assert sum(not inputs[i].isascii() for i in got if got[i] != inputs[i]) >= 3
    different = [i for i in expected if got[i] != expected[i]]
    assert not different, f"{len(different)} of {len(expected)} texts differ, first {different[0]}: {got[different[0]]!r} != {expected[different[0]]!r}"
