"""The word merge and hard links inside a TensorFlow graph, for the SavedModel export (:mod:`nmt.export`).

The same steps as the NumPy functions, batched and padded: :func:`normalise_whitespace` (what the
Translator does to a source before tokenizing it), :func:`piece_tokens` and :func:`word_index` (the
word of each piece, :mod:`nmt.alignment.subwords`), :func:`reduce` (a layer and head or their mean),
:func:`to_words` and :func:`pharaoh_links` (:func:`nmt.alignment.links.to_words`, ``hard_links`` and
``format_pharaoh``). Special tokens and the word-start mark are the NumPy module's. Word matrices are
one-hot products in float64; ``tests/unit/test_alignment_graph.py`` holds each function equal to its
NumPy form on random batches with padding (and ``tests/unit/test_alignment_words.py`` ``piece_tokens``).
"""

from __future__ import annotations

import tensorflow as tf

from nmt.alignment.subwords import SPECIAL, WORD_START

# Python's str.split() whitespace (every character whose str.isspace() is True; a test checks them all),
# so " ".join(s.split()) (what the Translator does) happens in the graph
WHITESPACE = (r"[\t\n\x{0b}\f\r \x{1c}-\x{1f}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}"
              r"\x{205f}\x{3000}]+")


def normalise_whitespace(texts: tf.Tensor) -> tf.Tensor:
    """strings [B] -> strings [B] with Unicode whitespace runs collapsed to one space, ends stripped."""
    return tf.strings.strip(tf.strings.regex_replace(texts, WHITESPACE, " "))  # [B]


def word_index(pieces: tf.Tensor) -> tf.Tensor:
    """pieces [B,S] strings -> word number of each piece [B,S] int32, -1 for special tokens and padding.

    In-graph :func:`nmt.alignment.subwords.word_index`: a piece starting with ``▁`` starts a word, and so
    does the first non-special piece of a sentence."""
    special = tf.reduce_any(tf.equal(pieces[..., None], tf.constant(sorted(SPECIAL))), axis=-1)  # [B,S]
    real = tf.logical_not(special)  # [B,S]
    marked = tf.equal(tf.strings.substr(pieces, 0, 1, unit="UTF8_CHAR"), WORD_START)  # [B,S]
    first = tf.logical_and(real, tf.equal(tf.cumsum(tf.cast(real, tf.int32), axis=1), 1))  # [B,S]
    start = tf.logical_and(real, tf.logical_or(marked, first))  # [B,S]
    word = tf.cumsum(tf.cast(start, tf.int32), axis=1) - 1  # [B,S]
    return tf.where(special, -1, word)  # [B,S]


def piece_tokens(texts: tf.Tensor, starts: tf.RaggedTensor, ends: tf.RaggedTensor,
                 special: tf.RaggedTensor) -> tf.RaggedTensor:
    """In-graph :func:`nmt.alignment.subwords.piece_tokens` for whitespace-normalised texts (tokens joined
    by one space): texts [B], starts and ends [B,(S)] (UTF-8 byte offsets of the pieces), special [B,(S)]
    bool -> the token of ``split()`` each piece comes from [B,(S)] int32, -1 for special pieces. The token
    holding a byte is the number of spaces at or before it (at most the last token)."""
    spaces = tf.cast(tf.equal(tf.strings.bytes_split(texts), " "), tf.int32)  # [B,(L)]
    total = tf.reduce_sum(spaces, axis=1)  # [B] spaces per text
    # [B,L+1] spaces at or before a byte
    before = tf.concat([tf.cumsum(spaces.to_tensor(0), axis=1), total[:, None]], axis=1)
    starts, ends = (tf.cast(x.to_tensor(0), tf.int32) for x in (starts, ends))  # [B,S] each
    last = tf.where(ends > starts, ends - 1, starts)  # [B,S] a piece's last byte; where a zero-width piece sits
    last = tf.minimum(last, tf.shape(before)[1] - 1)  # [B,S] (an offset past the end counts every space)
    final = tf.where(tf.strings.length(texts) > 0, total, -1)  # [B] number of the last token (-1: none)
    found = tf.minimum(tf.gather(before, last, batch_dims=1), final[:, None])  # [B,S]
    found = tf.RaggedTensor.from_tensor(found, lengths=special.row_lengths())  # [B,(S)]
    return tf.where(special, -1, found)  # [B,(S)]


def reduce(attention: tf.Tensor, layer="mean", head="mean") -> tf.Tensor:
    """[B,T,L,H,S] -> [B,T,S]: a layer/head by number (0 or more) or the mean, as
    :func:`nmt.alignment.links.reduce` does per sentence (which also checks them and counts -1 from the end)."""
    for axis, value in ((2, layer), (2, head)):
        attention = (tf.reduce_mean(attention, axis=axis) if value == "mean"
                     else tf.gather(attention, int(value), axis=axis))
    return attention  # [B,T,S]


def to_words(attention: tf.Tensor, src_words: tf.Tensor, tgt_words: tf.Tensor) -> tf.Tensor:
    """attention [B,T,S] (target pieces x source pieces, 0 beyond a sentence), src_words [B,S] and
    tgt_words [B,T] int32 (the word of each piece, -1 for none: ``</s>``, padding) -> [B,T,Sw+1] float64:
    each word's attention summed over its target pieces and its source pieces (row j: target word j;
    column i: source word i, Sw = the batch's largest source word number + 1, and one spare column that
    is always 0, so an empty batch still has one). :func:`nmt.alignment.links.to_words` is each row of this
    divided by its sum (its rows' means scale whole rows, and it renormalises them), cut to the sentence."""
    depth = tf.maximum(tf.reduce_max(src_words), -1) + 2  # [] source words (the largest number + 1) + the spare
    src_onehot = tf.one_hot(src_words, depth, dtype=tf.float64)  # [B,S,Sw+1] (-1 -> zero row)
    tgt_onehot = tf.one_hot(tgt_words, tf.shape(tgt_words)[1], dtype=tf.float64)  # [B,T,T]
    return tf.matmul(tgt_onehot, tf.matmul(tf.cast(attention, tf.float64), src_onehot), transpose_a=True)  # [B,T,Sw+1]


def pharaoh_links(words: tf.Tensor) -> tf.Tensor:
    """Word matrices [B,Tw,Sw] (:func:`to_words`) -> Pharaoh strings [B]: in-graph
    ``format_pharaoh(hard_links(words))``, each target word with attention linked to the source word it
    attends to most (the first such, as ``np.argmax``), sorted by (source, target)."""
    t = tf.shape(words)[1]
    valid = tf.reduce_sum(words, axis=2) > 0  # [B,Tw] words without pieces or attention have no link
    src_of = tf.argmax(words, axis=2, output_type=tf.int32)  # [B,Tw] first maximum, as np.argmax
    tgt_of = tf.broadcast_to(tf.range(t)[None, :], tf.shape(src_of))  # [B,Tw]
    key = tf.where(valid, src_of * t + tgt_of, tf.int32.max)  # [B,Tw] sort by (source, target)
    order = tf.argsort(key, axis=1, stable=True)  # [B,Tw]
    src_of, tgt_of, valid = (tf.gather(x, order, batch_dims=1) for x in (src_of, tgt_of, valid))  # [B,Tw] each
    links = tf.strings.as_string(src_of) + "-" + tf.strings.as_string(tgt_of)  # [B,Tw]
    return tf.strings.reduce_join(tf.ragged.boolean_mask(links, valid), axis=1, separator=" ")  # [B]


def hard_alignments(attention: tf.Tensor, src_words: tf.Tensor, tgt_pieces: tf.Tensor) -> tf.Tensor:
    """In-graph ``format_pharaoh(hard_links(to_words(...)))`` for a batch: attention [B,T,S], src_words
    [B,S] int32 (the source word of each piece, :func:`piece_tokens`; -1 for ``</s>`` and beyond a
    sentence), tgt_pieces [B,T] (``<pad>`` beyond a sentence; words from the ``▁`` marks) -> Pharaoh
    strings [B]. Row means and renormalisation scale whole rows, so they do not change the argmax and are
    left out."""
    return pharaoh_links(to_words(attention, src_words, word_index(tgt_pieces)))  # [B]
