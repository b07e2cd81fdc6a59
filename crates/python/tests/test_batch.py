"""clean_batch: lists and Arrow arrays, any thread count, same results as clean."""

import threading

import pytest

import dechaff
from generated import documents

DOCS = documents(300, seed=11)


@pytest.fixture(scope="module")
def cleaner():
    return dechaff.Cleaner()


def expected(cleaner):
    return [cleaner.clean(text).text for text in DOCS]


@pytest.mark.parametrize("jobs", [None, 1, 2, 3])
def test_batch_of_str_equals_one_by_one(cleaner, jobs):
    results = cleaner.clean_batch(DOCS, jobs=jobs)
    assert [r.text for r in results] == expected(cleaner)
    one = [cleaner.clean(t) for t in DOCS]
    assert [r.record() for r in results] == [r.record() for r in one]


@pytest.mark.parametrize("arrow_type", ["string", "large_string"])
def test_arrow_in_arrow_out(cleaner, arrow_type):
    pa = pytest.importorskip("pyarrow")
    texts = list(DOCS)
    texts[5] = None
    array = pa.array(texts, type=getattr(pa, arrow_type)())
    out = cleaner.clean_batch(array, jobs=2)
    assert isinstance(out, pa.Array)
    assert out.type == array.type
    want = expected(cleaner)
    want[5] = None
    assert out.to_pylist() == want
    sliced = cleaner.clean_batch(array.slice(7, 50))
    assert sliced.to_pylist() == want[7:57]


def test_chunked_arrow(cleaner):
    pa = pytest.importorskip("pyarrow")
    chunked = pa.chunked_array([DOCS[:100], DOCS[100:]], type=pa.large_string())
    out = cleaner.clean_batch(chunked)
    assert isinstance(out, pa.ChunkedArray)
    assert out.to_pylist() == expected(cleaner)


def test_arrow_of_other_types_is_refused(cleaner):
    pa = pytest.importorskip("pyarrow")
    with pytest.raises(TypeError, match="string"):
        cleaner.clean_batch(pa.array([1, 2, 3]))


def test_groups_must_match_texts(cleaner):
    with pytest.raises(ValueError, match="3 texts but 2 groups"):
        cleaner.clean_batch(["a", "b", "c"], groups=["x", "y"])
    with pytest.raises(TypeError):
        cleaner.clean_batch("one string")


def test_one_cleaner_many_python_threads(cleaner):
    want = expected(cleaner)
    failures = []

    def work(offset):
        for k in range(len(DOCS)):
            i = (k + offset * 37) % len(DOCS)
            got = cleaner.clean(DOCS[i]).text if k % 2 else cleaner.clean_batch([DOCS[i]])[0].text
            if got != want[i]:
                failures.append(i)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_char_offsets_index_python_strings(cleaner):
    text = "Москва объявила о новых мерах.\nShare This\n東京の気温は高い。\nBack to top\n"
    cleaned = cleaner.clean(text)
    assert cleaned.removed
    for r in cleaned.removed:
        assert text[r.char_start : r.char_end] == r.text
        assert text.encode()[r.byte_start : r.byte_end] == r.text.encode()
        assert r.byte_end - r.byte_start >= r.char_end - r.char_start


def test_rule_counts_tally_the_removed_spans(cleaner):
    from collections import Counter

    for result in cleaner.clean_batch(DOCS[:50]):
        assert result.rule_counts() == dict(Counter(r.rule for r in result.removed))
