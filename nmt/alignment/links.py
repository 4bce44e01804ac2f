"""Attention matrices to word links: reduce layers and heads, merge pieces to words, one hard link per word.

Every function takes plain NumPy matrices, so it serves both model families, free translation and
forced alignment alike.

**Pieces to words** (:func:`to_words`, with the :class:`~nmt.alignment.subwords.WordMap` of each side).
A target word's row is the mean of its pieces' rows (each piece spreads one unit of attention over the
source); a source word's column is the sum of its pieces' columns (the attention mass its pieces
receive). So a word matrix row still sums to the attention its target word gave to real source words;
a word without pieces has an empty row or column.

**Special tokens.** The source ends with ``</s>``, which attention models often use as a resting
place (the "</s> soaks up attention" complaint). Subword matrices keep the ``</s>`` column, so what
the model did is visible. Word matrices drop it and renormalise each row over the real source words,
so hard alignments and AER always link real words. Target ``</s>`` has no row (hypotheses end before
it), and padding never appears: matrices are cut to each sentence's own lengths.

:mod:`nmt.alignment.graph` computes the same links inside a TensorFlow graph (the SavedModel export);
``tests/unit/test_alignment_graph.py`` holds the two equal.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nmt.alignment.subwords import WordMap, marked_words
from nmt.errors import UserError


def reduce(attention: np.ndarray, layer: int | str = "mean", head: int | str = "mean") -> np.ndarray:
    """[L,H,T,S] -> [T,S]: pick a layer and head by number (negative counts from the end) or average them."""
    attention = np.asarray(attention)
    if attention.ndim != 4:
        raise ValueError(f"attention must be [L,H,T,S], got shape {attention.shape}")
    layers, heads = attention.shape[:2]
    x = attention
    for axis, value, size, what in ((0, layer, layers, "layer"), (0, head, heads, "head")):
        if value == "mean":
            x = x.mean(axis=axis)
        else:
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise UserError(f"--{what} must be a number or 'mean', got {value!r}") from None
            if not -size <= value < size:
                raise UserError(f"--{what} {value} does not exist: the model has {size} {what}s "
                                f"(0-{size - 1}, or mean)")
            x = x[value]
    return x  # [T,S]


def check_layer_head(layers: int, heads: int, layer, head) -> None:
    """Raise a UserError now, before any work, if ``layer``/``head`` do not exist in a model of that shape."""
    reduce(np.zeros((layers, heads, 1, 1)), layer, head)


def to_words(matrix: np.ndarray, src: WordMap | Sequence[str], tgt: WordMap | Sequence[str]) -> np.ndarray:
    """Subword matrix [T,S] (rows: target pieces, columns: source pieces incl. ``</s>``) -> word matrix
    [Tw,Sw]: rows averaged over a target word's pieces, columns summed over a source word's pieces,
    ``</s>`` dropped and rows renormalised over real source words (see the module docstring).
    ``src``/``tgt``: a :class:`WordMap`, or the pieces themselves (words from their ``▁`` marks)."""
    src = src if isinstance(src, WordMap) else marked_words(src)
    tgt = tgt if isinstance(tgt, WordMap) else marked_words(tgt)
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.shape != (len(tgt.of_piece), len(src.of_piece)):
        raise ValueError(f"matrix {matrix.shape} does not match {len(tgt.of_piece)} target and {len(src.of_piece)} "
                         "source pieces")
    src_w, tgt_w = np.array(src.of_piece, dtype=int), np.array(tgt.of_piece, dtype=int)
    cols = np.zeros((len(src_w), len(src.words)))
    cols[np.flatnonzero(src_w >= 0), src_w[src_w >= 0]] = 1.0  # piece -> word summing matrix
    rows = np.zeros((len(tgt.words), len(tgt_w)))
    rows[tgt_w[tgt_w >= 0], np.flatnonzero(tgt_w >= 0)] = 1.0
    rows /= np.maximum(rows.sum(axis=1, keepdims=True), 1.0)  # mean over a word's pieces
    out = rows @ matrix @ cols  # [Tw,Sw]
    total = out.sum(axis=1, keepdims=True)
    return np.divide(out, total, out=np.zeros_like(out), where=total > 0)


def hard_links(word_matrix: np.ndarray) -> list[tuple[int, int]]:
    """One link per target word to the source word it attends to most: sorted (source i, target j)."""
    word_matrix = np.asarray(word_matrix)
    if word_matrix.size == 0:
        return []
    return sorted((int(np.argmax(row)), j) for j, row in enumerate(word_matrix) if row.sum() > 0)
