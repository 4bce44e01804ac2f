"""The in-graph alignment (nmt.alignment.graph, inside the exported SavedModel) equals the NumPy one that
nmt translate and nmt align use: whitespace, word numbers, layer/head reduction, word matrices and hard
links, on random padded batches with multi-piece words, words without pieces, </s> and special pieces.
(graph.piece_tokens is held to the NumPy form in test_alignment_words.py, through a real tokenizer.)"""

import sys

import numpy as np
import pytest
import tensorflow as tf

from nmt import alignment as al
from nmt.alignment import graph

EPS32 = float(np.finfo(np.float32).eps)
# target pieces: marked and unmarked, a lone ▁, multi-byte characters, and the special tokens
TARGET_PIECES = ["▁der", "▁hund", "t", "en", "▁", "ü", "▁中", "文", "▁.", "<unk>", "</s>", "<s>"]


def test_whitespace_is_pythons_str_split():
    """The graph's whitespace class is exactly the characters str.isspace() accepts, checked one by one."""
    spaces = {c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()}
    limit = 0x4000
    assert max(map(ord, spaces)) < limit  # so checking every character below the limit checks them all
    chars = [chr(c) for c in range(limit) if not 0xD800 <= c < 0xE000]  # surrogates have no UTF-8
    texts = [f" a{c}b{c}{c}c{c}" for c in chars]
    out = graph.normalise_whitespace(tf.constant(texts)).numpy()  # [N]
    assert [o.decode("utf-8") for o in out] == [" ".join(t.split()) for t in texts]


def random_pieces(rng, length: int) -> list[str]:
    return [str(rng.choice(TARGET_PIECES)) for _ in range(length)]


def test_word_index_equals_numpy():
    rng = np.random.default_rng(3)
    rows = [random_pieces(rng, int(rng.integers(0, 12))) for _ in range(200)]
    rows += [[], ["en", "▁der"], ["</s>", "t", "▁", "ü"], ["<unk>"], ["▁"]]  # unmarked first pieces, specials first
    width = max(map(len, rows))
    padded = tf.constant([row + ["<pad>"] * (width - len(row)) for row in rows])  # [B,S]
    in_graph = graph.word_index(padded).numpy()  # [B,S]
    for row, g in zip(rows, in_graph):
        assert g.tolist() == al.word_index(row) + [-1] * (width - len(row)), row


@pytest.mark.parametrize("layer,head", [("mean", "mean"), (0, "mean"), ("mean", 2), (1, 1)])
def test_reduce_equals_numpy(layer, head):
    rng = np.random.default_rng(5)
    b, t, layers, heads, s = 3, 4, 2, 3, 5
    attention = rng.random((b, t, layers, heads, s)).astype(np.float32)  # [B,T,L,H,S], weights in [0, 1)
    in_graph = graph.reduce(tf.constant(attention), layer, head).numpy()  # [B,T,S]
    for n in range(b):
        eager = al.reduce(attention[n].transpose(1, 2, 0, 3), layer, head)  # [L,H,T,S] -> [T,S]
        # a mean of L*H float32 weights below 1, summed in different orders
        np.testing.assert_allclose(in_graph[n], eager, rtol=0, atol=EPS32 * layers * heads)


def random_batch(rng, size: int, max_words: int, max_target: int):
    """Sentences as the export sees them, padded: attention [B,T,S] float32 (rows of real target pieces sum
    to 1 over the real source pieces, </s> included; 0 elsewhere), each source piece's given word [B,S]
    (-1 for </s> and padding), target pieces [B,T] (``<pad>`` beyond), and each sentence's word map and pieces."""
    sentences = []
    for _ in range(size):
        words = int(rng.integers(0, max_words + 1))
        pieces_per_word = rng.choice([0, 1, 1, 2, 3], size=words)  # 0: a given word the tokenizer left no piece of
        of_piece = tuple(w for w, count in enumerate(pieces_per_word) for _ in range(count)) + (-1,)  # then </s>
        source = al.WordMap(tuple(f"w{w}" for w in range(words)), of_piece)
        target = random_pieces(rng, int(rng.integers(0, max_target + 1)))
        sentences.append((source, target))
    s = max(len(src.of_piece) for src, _ in sentences)
    t = max(1, max(len(tgt) for _, tgt in sentences))
    attention = np.zeros((size, t, s), np.float32)  # [B,T,S]
    for n, (src, tgt) in enumerate(sentences):
        cols = len(src.of_piece)
        kind = rng.integers(0, 4)
        if kind == 0:  # quantised weights: exact ties between words
            rows = rng.integers(0, 3, size=(len(tgt), cols)).astype(np.float64)
        elif kind == 1:  # some rows all on </s>
            rows = rng.random((len(tgt), cols)) ** 4
            rows[rng.random(len(tgt)) < 0.5] = np.eye(cols)[-1]
        else:
            rows = rng.random((len(tgt), cols)) ** 4  # peaked, like trained attention
        rows[rows.sum(axis=1) == 0, -1] = 1.0
        attention[n, : len(tgt), :cols] = rows / rows.sum(axis=1, keepdims=True)
    src_words = np.full((size, s), -1, np.int32)  # [B,S]
    for n, (src, _) in enumerate(sentences):
        src_words[n, : len(src.of_piece)] = src.of_piece
    tgt_pieces = [tgt + ["<pad>"] * (t - len(tgt)) for _, tgt in sentences]  # [B,T]
    return attention, src_words, tgt_pieces, sentences


HARD_ALIGNMENTS = tf.function(graph.hard_alignments, autograph=False, input_signature=[
    tf.TensorSpec([None, None, None], tf.float32), tf.TensorSpec([None, None], tf.int32),
    tf.TensorSpec([None, None], tf.string)])  # as in the SavedModel: every size unknown when traced


@pytest.mark.parametrize("seed", range(4))
def test_word_matrices_and_hard_links_equal_numpy(seed):
    rng = np.random.default_rng(seed)
    attention, src_words, tgt_pieces, sentences = random_batch(rng, size=24, max_words=7, max_target=10)
    b, t, s = attention.shape
    # A word weight is a ratio of sums of at most T*S float32 weights (each at most 1): both forms agree to
    # float32 rounding of such a sum, and a link may differ only between words whose weights agree to it.
    tol = EPS32 * t * s
    words = graph.to_words(attention, src_words, graph.word_index(tf.constant(tgt_pieces))).numpy()  # [B,T,Sw+1]
    strings = [x.decode("utf-8") for x in HARD_ALIGNMENTS(attention, src_words, tgt_pieces).numpy()]  # [B]
    linked = 0
    for n, ((src, tgt), sums, line) in enumerate(zip(sentences, words, strings)):
        eager = al.to_words(attention[n, : len(tgt), : len(src.of_piece)], src, tgt)  # [Tw,Sw]
        total = sums.sum(axis=1, keepdims=True)  # [T,1]
        in_graph = np.divide(sums, total, out=np.zeros_like(sums), where=total > 0)  # rows renormalised, as NumPy does
        width = max(in_graph.shape[1], eager.shape[1])
        pad = np.zeros((t, width))
        expected, got = pad.copy(), pad.copy()
        expected[: eager.shape[0], : eager.shape[1]], got[:, : in_graph.shape[1]] = eager, in_graph
        np.testing.assert_allclose(got, expected, rtol=0, atol=tol, err_msg=f"sentence {n}")

        links = al.parse_pharaoh(line, f"sentence {n}").sure
        assert line == al.format_pharaoh(links)  # sorted by (source, target), one space between links
        eager_links = al.hard_links(eager)
        assert sorted(j for _, j in links) == sorted(j for _, j in eager_links)  # the same target words linked
        for i, j in links:  # the graph's choice is a maximum of the NumPy row, to float32 precision
            assert eager[j, i] >= eager[j].max() - tol, (n, line, eager_links)
        linked += len(links)
    assert linked > 0.5 * b  # the batch is not all empty sentences


def test_ties_link_the_first_source_word_as_numpy():
    """Where a target word attends equally to several source words, both link the first (np.argmax's rule).
    One piece per word and weights in quarters keep every sum exact, so the links must be identical."""
    rng = np.random.default_rng(11)
    b, t, s = 16, 6, 5  # the last source piece is </s>
    attention = rng.integers(0, 2, size=(b, t, s)).astype(np.float32) / 4  # [B,T,S] many equal weights
    src_words = np.tile(np.array([0, 1, 2, 3, -1], np.int32), (b, 1))  # [B,S]
    pieces = ["▁a", "▁b", "▁c", "▁d", "▁e", "▁f"]  # [T] one piece per target word
    strings = HARD_ALIGNMENTS(attention, src_words, [pieces] * b).numpy()  # [B]
    source = al.WordMap(("a", "b", "c", "d"), (0, 1, 2, 3, -1))
    for n, line in enumerate(strings):
        assert line.decode("utf-8") == al.format_pharaoh(al.hard_links(al.to_words(attention[n], source, pieces)))


def test_an_empty_batch_has_no_links():
    out = HARD_ALIGNMENTS(np.zeros((0, 0, 0), np.float32), np.zeros((0, 0), np.int32), np.zeros((0, 0), str))
    assert out.shape == (0,)
