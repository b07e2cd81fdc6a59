"""Errors are Python exceptions with the engine's messages."""

import pytest

import dechaff

BAD_PACK = """[pack]
name = "mine"
version = "1"
description = "A pack with a bad regex"

[[rule]]
id = "mine.broken"
description = "Unclosed group"
pattern = '(?:share (this'
must-match = ["share this"]
"""


def test_bad_pack_raises_with_file_line_col(tmp_path, run_cli, seeds):
    pack = tmp_path / "mine.toml"
    pack.write_text(BAD_PACK)
    with pytest.raises(dechaff.RuleError) as caught:
        dechaff.Cleaner(rules=pack)
    message = str(caught.value)
    assert message.startswith(f"{pack}:9:")
    assert "mine.broken" in message and "regex" in message
    _, done = run_cli([seeds], tmp_path / "out", "--rules", str(pack), check=False)
    assert done.returncode == 78
    assert message in done.stderr


def test_unknown_rule_to_disable(run_cli, tmp_path, seeds):
    with pytest.raises(dechaff.RuleError) as caught:
        dechaff.Cleaner(disable=["no.such-rule"])
    _, done = run_cli([seeds], tmp_path / "out", "--disable", "no.such-rule", check=False)
    assert str(caught.value) in done.stderr


def test_missing_rule_path(tmp_path):
    with pytest.raises(dechaff.RuleError, match="nowhere.toml"):
        dechaff.Cleaner(rules=[tmp_path / "nowhere.toml"])


def test_settings_out_of_range():
    with pytest.raises(ValueError, match="removal_budget 1.5 is outside 0..=1"):
        dechaff.Cleaner(removal_budget=1.5)
    with pytest.raises(ValueError, match="min-docs 1"):
        dechaff.Cleaner(corpus=dechaff.CorpusCounter(), min_docs=1)
    with pytest.raises(TypeError):
        dechaff.Cleaner(rules=42)


def test_user_pack_applies(tmp_path):
    pack = tmp_path / "mine.toml"
    pack.write_text(BAD_PACK.replace("(?:share (this", "filed from the harbour desk of .+").replace(
        '["share this"]', '["Filed from the harbour desk of Acme"]'
    ))
    cleaner = dechaff.Cleaner(rules=pack)
    assert "mine.broken" in cleaner.rule_ids()
    cleaned = cleaner.clean("A real sentence of the article.\nFiled from the harbour desk of Acme\n")
    assert [r.rule for r in cleaned.removed] == ["mine.broken"]
    assert cleaned.text == "A real sentence of the article.\n"
