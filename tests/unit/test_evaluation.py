"""sacreBLEU scoring: tokenized-on-purpose text is scored as it is (tok:none) without advice meant for
detokenized output, and that advice is only silenced where it does not apply."""

import logging

import pytest
from click.testing import CliRunner

from nmt.cli.main import cli
from nmt.corpora.synthetic import splits
from nmt.evaluation import score

TOKENIZED = [f"der hund {i} sieht die katze ." for i in range(120)]  # 120 lines ending in " ."


def _warned(caplog):
    return [r.getMessage() for r in caplog.records if "detokenize" in r.getMessage()]


def test_tokenize_none_scores_as_is_and_says_so(caplog):
    with caplog.at_level(logging.WARNING):
        s = score(TOKENIZED, TOKENIZED, tokenize="none")
    assert s.bleu == 100.0 and "tok:none" in s.bleu_signature
    assert not _warned(caplog)


def test_the_warning_still_comes_for_13a_unless_forced(caplog):
    with caplog.at_level(logging.WARNING):
        score(TOKENIZED, TOKENIZED)
    assert _warned(caplog)  # sacreBLEU's advice is right for a user's detokenized test set
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        forced = score(TOKENIZED, TOKENIZED, force=True)
    assert not _warned(caplog) and "tok:13a" in forced.bleu_signature


@pytest.mark.slow  # 13 s
def test_evaluate_scores_the_embedded_test_set_with_tok_none(tmp_path):
    test = splits()["test"]
    hyp = tmp_path / "hyp"
    hyp.write_text("\n".join(p.tgt for p in test) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["evaluate", "--embedded-test", "--hyp", str(hyp)])
    assert result.exit_code == 0, result.output
    assert "BLEU 100.00 (nrefs:1|case:mixed|eff:no|tok:none|" in result.output
    result = CliRunner().invoke(cli, ["evaluate", "--embedded-test", "--hyp", str(hyp), "--tokenize", "13a"])
    assert "tok:13a" in result.output
