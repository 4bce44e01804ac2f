"""sacreBLEU scoring: tokenized-on-purpose text is scored as it is (tok:none) without advice meant for
detokenized output, and that advice is only silenced where it does not apply."""

import logging

import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

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


# --- the published Multi30k convention (nmt evaluate --moses LANG) ---------------------------------------

def _multi_bleu(hypotheses, references):
    """BLEU on whitespace tokens as multi-bleu.perl computes it (one reference, no smoothing), written out."""
    import math
    from collections import Counter

    matches, totals, hyp_len, ref_len = [0] * 4, [0] * 4, 0, 0
    for h, r in zip(hypotheses, references):
        h, r = h.split(), r.split()
        hyp_len, ref_len = hyp_len + len(h), ref_len + len(r)
        for n in range(1, 5):
            hc = Counter(tuple(h[i:i + n]) for i in range(len(h) - n + 1))
            rc = Counter(tuple(r[i:i + n]) for i in range(len(r) - n + 1))
            matches[n - 1] += sum(min(c, rc[g]) for g, c in hc.items())
            totals[n - 1] += max(len(h) - n + 1, 0)
    if min(matches) == 0:
        return 0.0
    log_precision = sum(math.log(m / t) for m, t in zip(matches, totals)) / 4
    brevity = min(0.0, 1 - ref_len / hyp_len)
    return 100 * math.exp(log_precision + brevity)


WORDS = st.sampled_from("a man in a blue shirt is riding his bike dog runs on the grass Dr. Mr. two".split())
SENTENCE = st.lists(st.tuples(WORDS, st.sampled_from(["", ",", ".", "!", "'s"])), min_size=1, max_size=12).map(
    lambda ws: " ".join(w + p for w, p in ws))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(SENTENCE, SENTENCE), min_size=1, max_size=8), st.sampled_from(["en", "de", "fr"]))
def test_the_moses_convention_is_multi_bleu_on_lowercased_moses_tokens(pairs, lang):
    from sacremoses import MosesTokenizer

    hyps, refs = [h for h, _ in pairs], [r for _, r in pairs]
    got = score(hyps, refs, moses=lang)
    moses = MosesTokenizer(lang)
    tokens = [[moses.tokenize(t, escape=False, return_str=True).lower() for t in side] for side in (hyps, refs)]
    assert got.bleu == pytest.approx(_multi_bleu(*tokens), abs=0.005 + 1e-9)  # score() rounds to 2 decimals
    assert "smooth:none" in got.bleu_signature
    assert "case:lc" in got.bleu_signature and "tok:none" in got.bleu_signature
    assert got.bleu_signature.endswith(f"|moses:{lang}")
    # the spacing of punctuation is what the convention removes: hypotheses tokenized beforehand score the same.
    # Not for apostrophes (Moses splits "a's" into "a 's", and "a 's" into "a ' s"), nor for case (it keeps "a."
    # whole before a lowercase word and splits it before a capital, so it lowercases after tokenizing, as the
    # published data were made)
    detached = [moses.tokenize(h, escape=False, return_str=True) for h in hyps]
    if "'" not in "".join(hyps):
        assert score(detached, refs, moses=lang).bleu == got.bleu


def test_moses_takes_a_language_code_and_refuses_mixing_with_other_conventions(tmp_path):
    from nmt.errors import UserError

    with pytest.raises(UserError, match="language code"):
        score(["a"], ["a"], moses="../de")
    (tmp_path / "h").write_text("A man, riding.\n")
    (tmp_path / "r").write_text("a man , riding .\n")
    result = CliRunner().invoke(cli, ["evaluate", "--hyp", str(tmp_path / "h"), "--ref", str(tmp_path / "r"),
                                      "--moses", "en", "--json"])
    assert result.exit_code == 0, result.output
    assert '"bleu": 100.0' in result.output and "moses:en" in result.output
    result = CliRunner().invoke(cli, ["evaluate", "--hyp", str(tmp_path / "h"), "--ref", str(tmp_path / "r"),
                                      "--moses", "en", "--lowercase"])
    assert isinstance(result.exception, UserError) and "leave out --lowercase and --tokenize" in str(result.exception)
