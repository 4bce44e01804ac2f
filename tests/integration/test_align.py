"""nmt align and translate --alignments on small trained models of both families."""

import json

import numpy as np
import pytest

from nmt import alignment as al
from nmt.config import preset
from nmt.corpora.synthetic import splits
from nmt.training import Trainer
from nmt.translator import Translator
from tests.integration.test_cli import one_line_error, run

TEST = splits()["test"][:24]
ODD = ["the ﬁne man² sees\u2002the dog .", "ＡＢ\u200b ß中 the¨woman !", "\u00ad the\u3000dog"]  # see the last test


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("align")
    (folder / "test.en").write_text("".join(p.src + "\n" for p in TEST))
    (folder / "test.de").write_text("".join(p.tgt + "\n" for p in TEST))
    (folder / "test.align").write_text("".join(p.alignment + "\n" for p in TEST))
    data = splits(sizes=(3000, 100, 1000))
    pairs = {k: [(p.src, p.tgt) for p in v] for k, v in data.items()}
    for name, overrides in (("lstm", {"family": "rnn", "attention": "additive"}),
                            ("transformer", {"family": "transformer", "layers": 2, "d_model": 32, "ff_dim": 64,
                                             "transformer_heads": 2})):
        config = (preset("tiny").override("model", **overrides)
                  .override("train", max_steps=100, eval_every=100, eval_sentences=20)
                  .override("tokenizer", vocab_size=300))
        Trainer(config, folder / name, pairs["train"], pairs["valid"], progress=False).run()
    return folder


@pytest.mark.parametrize("family", ["lstm", "transformer"])
def test_forced_alignment_files_and_aer(corpus, family):
    model = corpus / family
    out = corpus / f"{family}.align"
    code, stdout, err = run(["align", str(model), "-s", str(corpus / "test.en"), "-t", str(corpus / "test.de"),
                             "-o", str(out), "--gold", str(corpus / "test.align"), "--jsonl",
                             str(corpus / f"{family}.jsonl"), "--npz", str(corpus / f"{family}.npz"), "--plot-dir",
                             str(corpus / f"{family}_plots"), "--plots", "2"])
    assert code == 0, err
    lines = out.read_text().splitlines()
    assert len(lines) == len(TEST)
    for line, pair in zip(lines, TEST):
        links = al.parse_pharaoh(line).sure
        n_src, n_tgt = len(pair.src.split()), len(pair.tgt.split())
        assert {j for _, j in links} == set(range(n_tgt))  # one link per target word
        assert all(0 <= i < n_src for i, _ in links)
    # The printed AER is the AER of the written links.
    result = al.alignment_error_rate([al.parse_pharaoh(line).sure for line in lines],
                                     [al.parse_pharaoh(p.alignment) for p in TEST])
    assert stdout.strip() == result.summary()
    records = [json.loads(line) for line in (corpus / f"{family}.jsonl").read_text().splitlines()]
    npz = np.load(corpus / f"{family}.npz")
    layers = 1 if family == "lstm" else 2
    for i, (rec, pair) in enumerate(zip(records, TEST)):
        assert rec["source_words"] == pair.src.split() and rec["target_words"] == pair.tgt.split()
        assert rec["source_tokens"][-1] == "</s>"
        sub, word = np.array(rec["subword_matrix"]), np.array(rec["word_matrix"])
        assert sub.shape == (len(rec["target_tokens"]), len(rec["source_tokens"]))
        # the matrices are written with 5 decimals: a row of n entries sums to 1 within n x 5e-6 (n < 200)
        np.testing.assert_allclose(sub.sum(axis=1), 1.0, atol=1e-3)  # </s> column kept: rows are whole softmaxes
        np.testing.assert_allclose(word.sum(axis=1), 1.0, atol=1e-3)  # </s> dropped, renormalised
        assert rec["alignment"] == lines[i]
        att = npz[f"attention_{i}"]
        assert att.shape[:2] == (layers, 2 if family == "transformer" else 1) and att.shape[2:] == sub.shape
        np.testing.assert_allclose(att.mean(axis=(0, 1)), sub, atol=1e-4)  # sub rounded to 5 decimals: 5e-6
    plots = sorted(p.name for p in (corpus / f"{family}_plots").iterdir())
    expected = ["sentence_0000.png", "sentence_0001.png"]
    if family == "transformer":
        expected = ["sentence_0000.png", "sentence_0000_grid.png", "sentence_0001.png", "sentence_0001_grid.png"]
    assert plots == expected


@pytest.mark.parametrize("family, beam", [("lstm", 1), ("lstm", 4), ("transformer", 3)])
def test_decoding_attention_equals_forced_alignment_of_the_output(corpus, family, beam):
    """Attention returned by beam search belongs to the returned hypothesis: teacher-forcing that
    hypothesis gives the same matrices (the model's steps equal its teacher-forced pass)."""
    translator = Translator.load(corpus / family)
    sources = [p.src for p in TEST[:11]] + ODD[:1]
    hyps = translator.translate(sources, beam_size=beam, return_attention=True)
    forced = translator.align(sources, [h.tokens for h in hyps])  # the pieces, as segmented by the decoder
    for h, f, a, source in zip(hyps, forced, al.reduce_all(hyps), sources):
        assert f.tokens == h.tokens and f.source_tokens == h.source_tokens
        # float32 weights <= 1, step vs teacher forcing: ~1e-6
        np.testing.assert_allclose(h.attention, f.attention, atol=1e-4)
        assert h.source_words == f.source_words and h.source_words.words == tuple(source.split())  # the given tokens
        assert a.word.shape == (len(al.words(h.tokens)), len(source.split()))  # target words from the pieces' ▁ marks
    assert sum(len(h.tokens) for h in hyps) >= len(hyps)  # matrices with rows to compare


def test_translate_appends_hard_and_soft_alignments(corpus):
    model = str(corpus / "transformer")
    code, out, err = run(["translate", model, "--alignments", "hard", "--layer", "-1", "--beam-size", "2"],
                         input="the man sees the dog .\nthe woman sleeps .\n")
    assert code == 0, err
    for line in out.splitlines():
        text, links = line.split(" ||| ")
        assert {j for _, j in al.parse_pharaoh(links).sure} == set(range(len(text.split())))
    code, out, err = run(["translate", model, "--alignments", "soft", "--head", "1"], input="the man sees the dog .\n")
    assert code == 0, err
    text, soft = out.strip().split(" ||| ")
    rows = [[float(v) for v in row.split(",")] for row in soft.split()]
    assert len(rows) == len(text.split()) and all(len(r) == 6 for r in rows)
    np.testing.assert_allclose([sum(r) for r in rows], 1.0, atol=1e-3)  # 6 values printed with 4 decimals: 3e-4


def test_align_user_errors(corpus, tmp_path):
    model = str(corpus / "transformer")
    (tmp_path / "short.de").write_text("ein satz\n")
    (tmp_path / "bad.align").write_text("0-0 x\n" * len(TEST))
    cases = [
        (["-t", str(tmp_path / "short.de")], "give one target per source"),
        (["-t", str(corpus / "test.de"), "--gold", str(tmp_path / "short.de")], "one gold line per sentence"),
        (["-t", str(corpus / "test.de"), "--gold", str(tmp_path / "bad.align")], "cannot read link 'x'"),
        (["--layer", "2"], "--layer 2 does not exist: the model has 2 layers"),
        (["--head", "first"], "--head must be a number or 'mean'"),
        (["--backward", str(corpus / "lstm")],
         "--backward aligns given sentence pairs in both directions: give the targets with -t"),
        (["-t", str(corpus / "test.de"), "--symmetrise", "union"], "--symmetrise combines two directions"),
        (["-t", str(corpus / "test.de"), "--backward", str(corpus / "lstm"), "--threshold", "0.3"],
         "--threshold applies to --symmetrise soft-mean or soft-geometric"),
        (["-t", str(corpus / "test.de"), "--backward", str(corpus / "lstm"), "--symmetrise", "soft-mean",
          "--threshold", "0"], "--threshold"),
    ]
    for extra, needle in cases:
        out = tmp_path / "out.align"
        code, _, err = run(["align", model, "-s", str(corpus / "test.en"), "-o", str(out), *extra])
        one_line_error(code, err, needle)
        assert not out.exists()


def test_words_are_the_given_tokens_whatever_the_tokenizer_does(corpus, tmp_path):
    """NFKC changes (ﬁ, ², full-width letters, ¨ -> space + mark), removed characters (zero-width space, soft
    hyphen), unusual spaces and characters the vocabulary lacks: the words stay the given whitespace tokens."""
    targets = ["der ﬁne mann sieht\u00a0den hund .", "\u200b die frau¨ ẞ", "hund"]
    (tmp_path / "odd.en").write_text("".join(s + "\n" for s in ODD))
    (tmp_path / "odd.de").write_text("".join(t + "\n" for t in targets))
    jsonl = tmp_path / "odd.jsonl"
    code, out, err = run(["align", str(corpus / "transformer"), "-s", str(tmp_path / "odd.en"), "-t",
                          str(tmp_path / "odd.de"), "--jsonl", str(jsonl)])
    assert code == 0, err
    for rec, src, tgt, line in zip(map(json.loads, jsonl.read_text().splitlines()), ODD, targets, out.splitlines()):
        assert rec["source_words"] == src.split() and rec["target_words"] == tgt.split()
        assert np.array(rec["word_matrix"]).reshape(len(tgt.split()), -1).shape[1] == len(src.split())
        assert all(0 <= i < len(src.split()) and 0 <= j < len(tgt.split()) for i, j in al.parse_pharaoh(line).sure)


@pytest.mark.parametrize("family", ["lstm", "transformer"])
def test_shift_att_takes_the_step_that_reads_each_word(corpus, family):
    """The predicting step of target piece j has read pieces 0..j-1; the Shift-Att step has read piece j too.
    So changing piece j leaves its predicting row unchanged and changes its Shift-Att row, and the
    Shift-Att rows are the predicting rows one step later (the last: the step that predicts </s>)."""
    translator = Translator.load(corpus / family)
    sources, targets = [p.src for p in TEST[:6]], [p.tgt for p in TEST[:6]]
    plain, shifted = translator.align(sources, targets), translator.align(sources, targets, shift=True)
    vocabulary = sorted({piece for h in plain for piece in h.tokens})
    for p, s in zip(plain, shifted):
        assert p.tokens == s.tokens and s.attention.shape == p.attention.shape
        # same pass, same float32 ops
        np.testing.assert_allclose(s.attention[:, :, :-1], p.attention[:, :, 1:], atol=1e-6)
        np.testing.assert_allclose(s.attention.sum(axis=-1), 1.0, atol=1e-5)
    h = plain[0]
    j = len(h.tokens) // 2
    other = next(piece for piece in vocabulary if piece != h.tokens[j])
    changed = h.tokens[:j] + [other] + h.tokens[j + 1:]
    p2, s2 = translator.align(sources[:1], [changed])[0], translator.align(sources[:1], [changed], shift=True)[0]
    # rows up to j read nothing new
    np.testing.assert_allclose(p2.attention[:, :, : j + 1], h.attention[:, :, : j + 1], atol=1e-6)
    assert np.abs(s2.attention[:, :, j] - shifted[0].attention[:, :, j]).max() > 1e-4  # row j has read the new piece


def test_shift_att_and_backward_options_give_the_apis_links(corpus, tmp_path):
    """--shift-att writes the hard links of the Shift-Att rows; --backward transposes the second model's links
    and symmetrises them with the first's (here the second is any model: the mechanics, not the quality)."""

    src, tgt = corpus / "test.en", corpus / "test.de"
    sources, targets = [p.src for p in TEST], [p.tgt for p in TEST]
    forward, backward = Translator.load(corpus / "transformer"), Translator.load(corpus / "lstm")
    fwd = [a.links for a in al.reduce_all(forward.align(sources, targets, shift=True), -1, "mean")]
    bwd = [a.links for a in al.reduce_all(backward.align(targets, sources, shift=True), -1, "mean")]
    code, out, err = run(["align", str(corpus / "transformer"), "-s", str(src), "-t", str(tgt), "--shift-att",
                          "--layer", "-1"])
    assert code == 0, err
    assert out.splitlines() == [al.format_pharaoh(links) for links in fwd]
    code, out, err = run(["align", str(corpus / "transformer"), "-s", str(src), "-t", str(tgt), "--shift-att",
                          "--layer", "-1", "--backward", str(corpus / "lstm"), "--symmetrise", "grow-diag-final-and"])
    assert code == 0, err
    expected = [al.format_pharaoh(al.symmetrise(f, al.transpose(b), "grow-diag-final-and")) for f, b in zip(fwd, bwd)]
    assert out.splitlines() == expected
    # soft: the two directions' word matrices (forward's transposed to source x target) averaged and thresholded
    fwd_m = [a.word.T for a in al.reduce_all(forward.align(sources, targets, shift=True), -1, "mean")]
    bwd_m = [a.word for a in al.reduce_all(backward.align(targets, sources, shift=True), -1, "mean")]
    code, out, err = run(["align", str(corpus / "transformer"), "-s", str(src), "-t", str(tgt), "--shift-att",
                          "--layer", "-1", "--backward", str(corpus / "lstm"), "--symmetrise", "soft-mean",
                          "--threshold", "0.3"])
    assert code == 0, err
    assert out.splitlines() == [al.format_pharaoh(al.soft_symmetrise(f, b, "mean", 0.3)) for f, b in zip(fwd_m, bwd_m)]
    assert out.splitlines() != [al.format_pharaoh(al.soft_symmetrise(f, b, "mean", 0.9)) for f, b in zip(fwd_m, bwd_m)]
    # translations: the same text as without --shift-att, links from force-aligning it with the reading steps
    code, out, err = run(["align", str(corpus / "lstm"), "-s", str(src), "--shift-att", "--beam-size", "2"])
    assert code == 0, err
    hyps = backward.translate(sources, beam_size=2)
    forced = al.reduce_all(backward.align(sources, [h.tokens for h in hyps], shift=True))
    assert out.splitlines() == [f"{h.text} ||| {al.format_pharaoh(a.links)}" for h, a in zip(hyps, forced)]
