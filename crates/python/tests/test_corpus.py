"""Corpus mode in-process: counts made apart, merged and stored, clean as `--corpus` does."""

import random
from pathlib import Path

import pytest

import dechaff
from generated import documents


def site_tree(root: Path):
    """Two sites whose pages share site furniture (menus, blurbs, footers)."""
    rng = random.Random(3)
    paths = []
    for site, furniture in {
        "site-a": ["Home | World | Sport | Opinion", "About the Daily Example: news since 1901.", "© 2020 Daily Example"],
        "site-b": ["Menu", "Le Journal d'Exemple — toute l'actualité", "Mentions légales | Contact"],
    }.items():
        (root / site).mkdir(parents=True)
        for i, body in enumerate(documents(12, seed=len(site) + ord(site[-1]))):
            lines = furniture[:1] + [body] + furniture[1:]
            if i % 4 == 0:
                lines.append(f"Page {rng.randint(1, 99)} of 120")
            path = root / site / f"page{i:02}.txt"
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            paths.append(path)
    return paths


@pytest.mark.parametrize("flags,kwargs", [([], {}), (["--min-docs", "5", "--max-doc-share", "0.5"], {"min_docs": 5, "max_doc_share": 0.5})])
def test_merged_counts_clean_like_the_cli(tmp_path, run_cli, flags, kwargs):
    paths = site_tree(tmp_path / "tree")
    records, _ = run_cli([tmp_path / "tree"], tmp_path / "out", "--corpus", *flags)
    # Counted in two halves, as two processes would, then merged and stored.
    first, second = dechaff.CorpusCounter(), dechaff.CorpusCounter()
    for k, path in enumerate(paths):
        (first if k % 2 else second).add(path.read_bytes().decode(), str(path.parent))
    first.merge(dechaff.CorpusCounter.from_bytes(second.to_bytes()))
    whole = dechaff.CorpusCounter()
    whole.add_batch([p.read_bytes().decode() for p in paths], [str(p.parent) for p in paths], jobs=2)
    assert first == whole
    assert first.to_bytes() == whole.to_bytes()
    assert whole.documents(str(tmp_path / "tree" / "site-a")) == 12
    assert whole.group_count() == 2
    # Merging is a sum in any order: the other way round gives the same bytes.
    other_way = dechaff.CorpusCounter.from_bytes(second.to_bytes())
    halves = dechaff.CorpusCounter()
    for k, path in enumerate(paths):
        if k % 2:
            halves.add(path.read_bytes().decode(), str(path.parent))
    other_way.merge(halves)
    assert other_way.to_bytes() == whole.to_bytes()

    cleaner = dechaff.Cleaner(corpus=first, **kwargs)
    texts = [p.read_bytes().decode() for p in paths]
    batch = cleaner.clean_batch(texts, groups=[str(p.parent) for p in paths])
    corpus_removals = 0
    for path, text, in_batch in zip(paths, texts, batch):
        cli = records[str(path)]
        cleaned = cleaner.clean(text, group=str(path.parent))
        assert cleaned.text == Path(cli["output"]).read_text(encoding="utf-8"), path
        assert cleaned.record(source=str(path), output=cli["output"]) == cli, path
        assert in_batch.text == cleaned.text
        corpus_removals += sum(r.rule == "corpus.recurring" for r in cleaned.removed)
    assert corpus_removals > 0, "the sites' furniture should recur"


def test_without_a_group_corpus_mode_leaves_a_document_alone(tmp_path):
    counter = dechaff.CorpusCounter()
    for i in range(5):
        counter.add(f"Recurring footer line of the site\nUnique sentence number {'x' * i}.\n", "g")
    cleaner = dechaff.Cleaner(corpus=counter)
    text = "Recurring footer line of the site\nAnother sentence.\n"
    assert "corpus.recurring" in [r.rule for r in cleaner.clean(text, group="g").removed]
    assert "corpus.recurring" not in [r.rule for r in cleaner.clean(text).removed]
    assert counter.recurrence("g", "RECURRING footer line of the site!") == 5


def test_bad_counts_are_refused():
    with pytest.raises(dechaff.DechaffError, match="magic"):
        dechaff.CorpusCounter.from_bytes(b"not counts")
    data = dechaff.CorpusCounter().to_bytes()
    with pytest.raises(dechaff.DechaffError):
        dechaff.CorpusCounter.from_bytes(data[:-1])
    with pytest.raises(ValueError, match="min-chars"):
        dechaff.CorpusCounter(min_chars=5).merge(dechaff.CorpusCounter(min_chars=1))
