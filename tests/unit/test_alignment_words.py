"""Pieces merged back to the given whitespace tokens, whatever SentencePiece's normalisation does to them:
the word rows and columns are exactly ``text.split()``, and links index real tokens."""

import random

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import example, given, settings, strategies as st

from nmt import alignment as al
from nmt.alignment import graph
from nmt.tokenization import EOS_ID, Tokenizer

# letters the tiny vocabulary knows; punctuation and digits glued to words; characters NFKC changes (ﬁ -> fi,
# full-width letters, ² -> 2, ¨ -> space + combining mark, ㎏ -> kg, … -> ...); zero-width and soft-hyphen
# characters it removes or maps to a space; whitespace str.split() splits on (en space, ideographic space,
# NBSP, tab, U+001C, line separator); characters the vocabulary lacks (<unk>), a combining accent, an emoji.
CHARS = ("abcdehmnost" + ".,!?()'\"-" + "0129" + "ﬁﬂＡｂ²½¨´㎏…ℌ" + "\u200b\u00ad\u2060\ufeff"
         + "\u2002\u3000\u00a0\t\x1c\u2028 " + "ßжω中ğ\u0301😀")
TEXT = st.text(st.sampled_from(CHARS), max_size=24)
EXAMPLES = ["ﬁne ＡＢ x² a¨b", "\u200b dog", "0\u200b 0", "ß中 ok", "", "\u00a0", "a\u2002b\u3000c", "(dog)! ²"]


@pytest.fixture(scope="module")
def tokenizer():
    corpus = ["the man sees the dog .", "a hat on the boat , then a dance !", "dosh mean stone ( 12 ) ?"] * 10
    return Tokenizer.train([(t, t) for t in corpus], vocab_size=40)


def test_piece_tokens_by_hand():
    text = "ab c¨d e"  # bytes: a0 b1 _2 c3 ¨4-5 d6 _7 e8; tokens end at 2, 7, 9
    assert al.token_ends(text) == [2, 7, 9]
    # ▁ (zero-width, start of text), "ab", "▁c" (holds the space), ▁ (zero-width, inside the token: NFKC made
    # "¨" a space and a combining mark), the mark, "d", "▁" (the second space), "e", and </s>
    starts, ends = [0, 0, 2, 4, 4, 6, 7, 8, 0], [0, 2, 4, 4, 6, 7, 8, 9, 0]
    special = [False] * 8 + [True]
    assert al.piece_tokens(text, starts, ends, special) == [0, 0, 1, 1, 1, 1, 2, 2, -1]
    # "0\u200b 0": NFKC drops the zero-width space, so one "▁" covers it and the space: it starts the next word
    assert al.piece_tokens("0\u200b 0", [0, 0, 1, 5], [0, 1, 5, 6]) == [0, 0, 1, 1]
    # "0\u200b x" with "▁x" as one piece: the token holding its last byte
    assert al.piece_tokens("0\u200b x", [0, 1], [1, 6]) == [0, 1]
    assert al.piece_tokens("x y", [3, 9], [3, 9]) == [1, 1]  # past the end: the last token
    # no tokens
    assert al.piece_tokens("", [0], [0]) == [-1] and al.piece_tokens(" \u2002 ", [0, 1], [1, 4]) == [-1, -1]
    assert al.token_ends("\u3000é\u2028ß ") == [5, 10]  # Unicode spaces split; é and ß are 2 bytes, the spaces 3
    m = al.given_words("\u200b dog", [4, 4, 5, 6, 0], [4, 5, 6, 7, 0], [False] * 4 + [True])  # "\u200b" has no pieces
    assert m.words == ("\u200b", "dog") and m.of_piece == (1, 1, 1, 1, -1)
    assert m.cut(3) == al.WordMap(m.words, (1, 1, -1))
    with pytest.raises(ValueError, match="2 piece starts, 1 ends"):
        al.piece_tokens("x", [0, 0], [1])


def test_a_word_without_pieces_has_an_empty_column_and_row():
    src = al.WordMap(("\u200b", "dog", "."), (1, 1, 2, -1))  # word 0 lost all its pieces
    tgt = al.WordMap(("x", "\u00ad"), (0, 0))
    m = np.full((2, 4), 0.25)
    w = al.to_words(m, src, tgt)
    assert w.shape == (2, 3)
    np.testing.assert_allclose(w, [[0, 2 / 3, 1 / 3], [0, 0, 0]])
    assert al.hard_links(w) == [(1, 0)]


@settings(max_examples=150, deadline=None)
@given(texts=st.lists(TEXT, min_size=1, max_size=6))
@example(texts=EXAMPLES)
def test_word_rows_and_columns_are_the_given_tokens(tokenizer, texts):
    norm = [" ".join(t.split()) for t in texts]  # as the Translator gives them to the tokenizer
    ids, starts, ends = (x.to_list() for x in tokenizer.encode_with_offsets("src", tf.constant(norm)))  # [N,(S)] each
    assert ids == tokenizer.encode_source(tf.constant(norm)).to_list()  # the ids the model reads
    # no </s>
    tgt_ids, tgt_starts, tgt_ends = (x.to_list() for x in tokenizer.encode_with_offsets("tgt", tf.constant(norm)))
    rng = np.random.default_rng(len(texts))
    for text, row, s, e, t_row, t_start, t_end in zip(norm, ids, starts, ends, tgt_ids, tgt_starts, tgt_ends):
        tokens = text.split()
        src = al.given_words(text, s, e, [i == EOS_ID for i in row])
        tgt = al.given_words(text, t_start, t_end)
        assert list(src.words) == tokens and list(tgt.words) == tokens
        assert src.of_piece[-1] == -1 and all(0 <= w < len(tokens) for w in src.of_piece[:-1] + tgt.of_piece)
        assert list(src.of_piece[:-1]) == sorted(src.of_piece[:-1])  # in order along the sentence
        # each piece's last byte lies in its token or is the space before it; a zero-width piece sits in it or before it
        token_end = al.token_ends(text)
        token_begin = [end - len(tok.encode("utf-8")) for tok, end in zip(tokens, token_end)]
        for begin, end, w in zip(s[:-1], e[:-1], src.of_piece[:-1]):
            last = end - 1 if end > begin else begin
            assert token_begin[w] - 1 <= last < token_end[w] or (end == begin and last <= token_end[w]), (
                text, begin, end, w)
        m = rng.random((len(t_row), len(row)))  # [T,S] target pieces x source pieces
        word = al.to_words(m, src, tgt)  # [Tw,Sw]
        assert word.shape == (len(tokens), len(tokens))
        assert all(0 <= i < len(tokens) and 0 <= j < len(tokens) for i, j in al.hard_links(word))


def test_the_exported_graph_maps_pieces_as_python_does(tokenizer):
    """nmt.alignment.graph.piece_tokens (in the SavedModel) equals nmt.alignment.piece_tokens, on raw texts it
    normalises itself."""
    rng = random.Random(17)
    texts = EXAMPLES + ["".join(rng.choice(CHARS) for _ in range(rng.randrange(30))) for _ in range(300)]
    norm = graph.normalise_whitespace(tf.constant(texts))  # [N]
    assert [t.decode("utf-8") for t in norm.numpy()] == [" ".join(t.split()) for t in texts]
    ids, starts, ends = tokenizer.encode_with_offsets("src", norm)  # [N,(S)] each
    in_graph = graph.piece_tokens(norm, starts, ends, tf.equal(ids, EOS_ID)).to_list()  # [N,(S)]
    for text, row, s, e, g in zip(texts, ids.to_list(), starts.to_list(), ends.to_list(), in_graph):
        assert g == al.piece_tokens(" ".join(text.split()), s, e, [i == EOS_ID for i in row]), text
