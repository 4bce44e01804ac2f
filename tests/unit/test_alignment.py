"""Attention to word alignments: piece-to-word merging, special tokens, Pharaoh I/O, AER, heatmaps."""

import numpy as np
import pytest

from nmt import alignment as al
from nmt.errors import UserError

SRC = ["▁the", "▁do", "g", "▁bark", "s", "▁.", "</s>"]  # 4 words + </s>
TGT = ["▁der", "▁hund", "▁bell", "t", "▁."]  # 4 words


def test_word_index_and_words():
    assert al.word_index(SRC) == [0, 1, 1, 2, 2, 3, -1]
    assert al.words(SRC) == ["the", "dog", "barks", "."]
    assert al.word_index(["ab", "▁c"]) == [0, 1]  # a first piece without ▁ still starts a word
    assert al.word_index(["▁", "ü", "▁x"]) == [0, 0, 1]  # a lone ▁ starts the word its next piece continues


def test_to_words_sums_source_pieces_averages_target_pieces_and_drops_eos():
    rng = np.random.default_rng(0)
    m = rng.random((len(TGT), len(SRC)))
    m /= m.sum(axis=1, keepdims=True)
    w = al.to_words(m, SRC, TGT)
    assert w.shape == (4, 4)
    np.testing.assert_allclose(w.sum(axis=1), 1.0)  # renormalised over real source words
    # "bellt" = mean of its two pieces' rows; "dog" column = sum of its two pieces' columns; then renormalise.
    row = (m[2] + m[3]) / 2
    words = np.array([row[0], row[1] + row[2], row[3] + row[4], row[5]])
    np.testing.assert_allclose(w[2], words / words.sum())


def test_eos_only_attention_gives_an_empty_row_and_no_link():
    m = np.zeros((len(TGT), len(SRC)))
    m[:, -1] = 1.0  # everything on </s>
    m[0] = [1, 0, 0, 0, 0, 0, 0]
    w = al.to_words(m, SRC, TGT)
    np.testing.assert_array_equal(w[1:], 0.0)
    assert al.hard_links(w) == [(0, 0)]


def test_hard_links_argmax_per_target_word():
    w = np.array([[0.9, 0.1, 0.0], [0.2, 0.1, 0.7], [0.1, 0.8, 0.1]])
    assert al.hard_links(w) == [(0, 0), (1, 2), (2, 1)]
    assert al.format_pharaoh(al.hard_links(w)) == "0-0 1-2 2-1"


def test_reduce_layers_and_heads():
    att = np.arange(2 * 3 * 1 * 1, dtype=float).reshape(2, 3, 1, 1)
    assert al.reduce(att, 1, 2)[0, 0] == 5
    assert al.reduce(att, -1, 0)[0, 0] == 3
    assert al.reduce(att, "mean", "mean")[0, 0] == pytest.approx(2.5)
    assert al.reduce(att, 0, "mean")[0, 0] == pytest.approx(1.0)
    with pytest.raises(UserError, match="--layer 2 does not exist: the model has 2 layers"):
        al.reduce(att, 2, 0)
    with pytest.raises(UserError, match="--head must be a number or 'mean'"):
        al.reduce(att, 0, "max")


def test_parse_pharaoh_and_aer():
    gold = al.parse_pharaoh("0-0 1-1 2?1 2p2")
    assert gold.sure == {(0, 0), (1, 1)}
    assert gold.possible == {(0, 0), (1, 1), (2, 1), (2, 2)}
    with pytest.raises(UserError, match="cannot read link '1:2'"):
        al.parse_pharaoh("0-0 1:2")
    perfect = al.alignment_error_rate([[(0, 0), (1, 1)]], [gold])
    assert (perfect.aer, perfect.precision, perfect.recall) == (0.0, 1.0, 1.0)
    # A = {0-0, 2-1, 0-2}: |A∩S| = 1, |A∩P| = 2, |A| = 3, |S| = 2 -> AER = 1 - 3/5
    r = al.alignment_error_rate([[(0, 0), (2, 1), (0, 2)]], [gold])
    assert r.aer == pytest.approx(0.4) and r.precision == pytest.approx(2 / 3) and r.recall == pytest.approx(0.5)
    with pytest.raises(UserError, match="one gold line per sentence"):
        al.alignment_error_rate([[]], [gold, gold])


def test_aer_is_corpus_level_not_a_mean_of_sentences():
    g1, g2 = al.parse_pharaoh("0-0"), al.parse_pharaoh("0-0 1-1 2-2 3-3")
    r = al.alignment_error_rate([[(0, 0)], [(0, 1)]], [g1, g2])
    assert r.aer == pytest.approx(1 - 2 / 7)  # (1 + 1) / (2 + 5)


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml")])
def test_heatmaps_png_and_svg(tmp_path, suffix, magic):
    from nmt.alignment import heatmap

    words = [f"w{i}" for i in range(50)]
    m = np.eye(50)
    path = heatmap.plot_matrix(m, words, words, tmp_path / f"m{suffix}")
    assert path.read_bytes()[:len(magic)] == magic
    grid = heatmap.plot_grid(np.ones((2, 3, 4, 5)) / 5, words[:5], words[:4], tmp_path / f"g{suffix}")
    assert grid.read_bytes()[:len(magic)] == magic
    if suffix == ".svg":  # labels are text, not paths
        text = path.read_text()
        assert all(f">{w}<" in text for w in words)
    with pytest.raises(UserError, match=".png or .svg"):
        heatmap.plot_matrix(m, words, words, tmp_path / "m.jpg")


def test_pharaoh_one_based_and_lengths():
    one = al.parse_pharaoh("1-1 2p3 3?2", base=1, lengths=(3, 3))
    assert one.sure == {(0, 0)} and one.possible == {(0, 0), (1, 2), (2, 1)}
    assert one == al.parse_pharaoh("0-0 1p2 2?1", lengths=(3, 3))
    with pytest.raises(UserError, match=r"^g\.wa line 4: link '0-2' numbers a word 0, but the file is read as 1-based"):
        al.parse_pharaoh("1-1 0-2", "g.wa line 4", base=1)
    # beyond the sentence: one line naming the place; a link just past the end hints at 1-based numbers
    with pytest.raises(UserError,
                       match=r"^g\.wa line 2: link '3-0' lies outside the sentence pair \(3 source and 2 target "
                                        r"words, numbered from 0\); are its links 1-based\?"):
        al.parse_pharaoh("0-0 3-0", "g.wa line 2", lengths=(3, 2))
    with pytest.raises(UserError,
                       match=r"link '1p9' lies outside the sentence pair \(\? source and 4 target words, "
                             r"numbered from 1\)$"):
        al.parse_pharaoh("1p9", base=1, lengths=(None, 4))
    assert al.parse_pharaoh("0-7", lengths=(1, None)).sure == {(0, 7)}  # an unknown length is not checked
    with pytest.raises(UserError, match="cannot read link '1-²'"):  # "²".isdigit() is True, but it is no number
        al.parse_pharaoh("1-²")
    with pytest.raises(ValueError, match="base must be 0 or 1"):
        al.parse_pharaoh("1-1", base=2)
