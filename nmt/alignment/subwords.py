"""Subword pieces to words: which word of a sentence each SentencePiece piece belongs to.

A :class:`WordMap` holds a sentence's words and the word each piece belongs to. For given text (a
source, a forced-alignment target) the words are exactly ``text.split()``: each piece belongs to the
token its characters come from, found from the piece's byte offsets in the text (:func:`piece_tokens`),
so links index the given tokens whatever the tokenizer's normalisation does (NFKC turning ``ﬁ`` into
``fi`` or ``¨`` into a space and a combining mark, ``<unk>`` pieces). For the model's own output, whose
text is its detokenised pieces, SentencePiece's ``▁`` marks start the words (:func:`marked_words`).
Special tokens (``</s>``) belong to no word (-1). :mod:`nmt.alignment.links` merges a matrix by these maps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

WORD_START = "\u2581"  # ▁
SPECIAL = frozenset({"</s>", "<s>", "<pad>", "<unk>"})


def word_index(pieces: Sequence[str]) -> list[int]:
    """Word number of each piece; -1 for special tokens (``</s>``). A piece starting with ``▁`` starts a word."""
    out, word = [], -1
    for piece in pieces:
        if piece in SPECIAL:
            out.append(-1)
            continue
        if piece.startswith(WORD_START) or word < 0:
            word += 1
        out.append(word)
    return out


def words(pieces: Sequence[str]) -> list[str]:
    """The words the pieces spell (``▁`` removed, specials skipped)."""
    index, out = word_index(pieces), []
    for piece, w in zip(pieces, index):
        if w < 0:
            continue
        if w == len(out):
            out.append("")
        out[w] += piece.replace(WORD_START, "")
    return out


@dataclass(frozen=True)
class WordMap:
    """The words of one sentence and, for each of its pieces, the number of the word it belongs to
    (-1 for ``</s>`` and other pieces that come from no word)."""

    words: tuple[str, ...]
    of_piece: tuple[int, ...]

    def cut(self, pieces: int) -> WordMap:
        """The map of the sentence's first ``pieces - 1`` pieces and a final ``</s>`` (a source cut as the
        Translator cuts)."""
        return self if pieces >= len(self.of_piece) else WordMap(self.words, self.of_piece[: pieces - 1] + (-1,))


def marked_words(pieces: Sequence[str]) -> WordMap:
    """Words from SentencePiece's ``▁`` marks: for the model's own translations, whose text is their pieces."""
    return WordMap(tuple(words(pieces)), tuple(word_index(pieces)))


def token_ends(text: str) -> list[int]:
    """UTF-8 byte offset just after each token of ``text.split()`` (Python's whitespace: ``str.isspace``)."""
    ends, offset, inside = [], 0, False
    for char in text:
        if char.isspace():
            if inside:
                ends.append(offset)
            inside = False
        else:
            inside = True
        offset += len(char.encode("utf-8"))
    if inside:
        ends.append(offset)
    return ends


def piece_tokens(text: str, starts: Sequence[int], ends: Sequence[int],
                 special: Sequence[bool] | None = None) -> list[int]:
    """The token of ``text.split()`` each piece comes from, given where each piece starts and ends (UTF-8
    byte offsets into ``text``, as SentencePiece reports them): the token holding the piece's last byte.

    A separating space belongs to the token after it, so a lone ``▁`` made of the space before a word
    (or of characters NFKC removed and that space) belongs to that word; a zero-width piece (a lone
    ``▁`` the normaliser inserted) belongs to the token at or after where it sits; a piece past the last
    token to the last. ``special`` pieces (``</s>``) and every piece of a text without tokens get -1."""
    token_end = token_ends(text)
    special = [False] * len(starts) if special is None else list(special)
    if not len(starts) == len(ends) == len(special):
        raise ValueError(f"{len(starts)} piece starts, {len(ends)} ends and {len(special)} special flags")
    if not token_end:
        return [-1] * len(starts)
    starts, ends = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
    last = np.where(ends > starts, ends - 1, starts)  # the piece's last byte; where a zero-width piece sits
    # first token ending after it
    found = np.minimum(np.searchsorted(token_end, last, side="right"), len(token_end) - 1)
    return [-1 if s else int(t) for t, s in zip(found, special)]


def given_words(text: str, starts: Sequence[int], ends: Sequence[int],
                special: Sequence[bool] | None = None) -> WordMap:
    """The :class:`WordMap` of given text: the words are ``text.split()``, the pieces map by their offsets."""
    return WordMap(tuple(text.split()), tuple(piece_tokens(text, starts, ends, special)))
