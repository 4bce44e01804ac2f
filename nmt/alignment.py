"""Attention as word alignment: subword to word matrices, hard links, Pharaoh I/O, alignment error rate.

Every function here takes plain NumPy matrices and token lists, so it serves both model families,
free translation and forced alignment alike.

**Pieces to words.** A :class:`WordMap` holds a sentence's words and the word each piece belongs
to. For given text (a source, a forced-alignment target) the words are exactly ``text.split()``: each
piece belongs to the token its characters come from, found from the piece's byte offsets in the text
(:func:`piece_tokens`), so links index the given tokens whatever the tokenizer's normalisation does
(NFKC turning ``ﬁ`` into ``fi`` or ``¨`` into a space and a combining mark, ``<unk>`` pieces). For the
model's own output, whose text is its detokenised pieces, SentencePiece's ``▁`` marks start the words
(:func:`marked_words`). A target word's row is the mean of its pieces' rows (each piece spreads one
unit of attention over the source); a source word's column is the sum of its pieces' columns (the
attention mass its pieces receive). So a word matrix row still sums to the attention its target word
gave to real source words; a word without pieces has an empty row or column.

**Special tokens.** The source ends with ``</s>``, which attention models often use as a resting
place (the "</s> soaks up attention" complaint). Subword matrices keep the ``</s>`` column, so what
the model did is visible. Word matrices drop it and renormalise each row over the real source words,
so hard alignments and AER always link real words. Target ``</s>`` has no row (hypotheses end before
it), and padding never appears: matrices are cut to each sentence's own lengths.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from nmt.errors import UserError

WORD_START = "\u2581"  # ▁
SPECIAL = frozenset({"</s>", "<s>", "<pad>", "<unk>"})


def word_index(pieces: Sequence[str]) -> list[int]:
    """Word number of each piece; -1 for special tokens (``</s>``). A piece starting with ``▁`` starts a word."""
    out, word = [], -1
    for i, piece in enumerate(pieces):
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

    def cut(self, pieces: int) -> "WordMap":
        """The map of the sentence's first ``pieces - 1`` pieces and a final ``</s>`` (a source cut as the Translator cuts)."""
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


def piece_tokens(text: str, starts: Sequence[int], ends: Sequence[int], special: Sequence[bool] | None = None) -> list[int]:
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
    found = np.minimum(np.searchsorted(token_end, last, side="right"), len(token_end) - 1)  # first token ending after it
    return [-1 if s else int(t) for t, s in zip(found, special)]


def given_words(text: str, starts: Sequence[int], ends: Sequence[int], special: Sequence[bool] | None = None) -> WordMap:
    """The :class:`WordMap` of given text: the words are ``text.split()``, the pieces map by their offsets."""
    return WordMap(tuple(text.split()), tuple(piece_tokens(text, starts, ends, special)))


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
                raise UserError(f"--{what} {value} does not exist: the model has {size} {what}s (0-{size - 1}, or mean)")
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
        raise ValueError(f"matrix {matrix.shape} does not match {len(tgt.of_piece)} target and {len(src.of_piece)} source pieces")
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


def format_pharaoh(links: Iterable[tuple[int, int]]) -> str:
    """``i-j`` links (source i, target j), space-separated, sorted."""
    return " ".join(f"{i}-{j}" for i, j in sorted(set(links)))


@dataclass(frozen=True)
class GoldAlignment:
    sure: frozenset
    possible: frozenset  # includes every sure link


def parse_pharaoh(line: str, where: str = "alignment", base: int = 0,
                  lengths: tuple[int | None, int | None] | None = None) -> GoldAlignment:
    """Parse ``i-j`` (sure) and ``i?j`` or ``ipj`` (possible) links; possible includes sure.

    ``base``: the number of the first word in the file, 0 (as nmt align, fast_align and eflomal write)
    or 1 (as the original shared-task files); links are returned 0-based either way. ``lengths``:
    (source words, target words) of the sentence pair, either None when unknown; a link beyond them is
    a :class:`UserError` naming ``where``, as is a 0 in a 1-based line."""
    if base not in (0, 1):
        raise ValueError(f"base must be 0 or 1, got {base!r}")
    n_src, n_tgt = lengths or (None, None)
    sure, possible = set(), set()
    for token in line.split():
        for sep, is_sure in (("-", True), ("?", False), ("p", False)):
            left, found, right = token.partition(sep)
            if found and _is_number(left) and _is_number(right):
                link = (int(left) - base, int(right) - base)
                break
        else:
            raise UserError(f"{where}: cannot read link {token!r}; expected i-j (sure) or i?j / ipj (possible) "
                            f"with {base}-based word numbers")
        if min(link) < 0:
            raise UserError(f"{where}: link {token!r} numbers a word 0, but the file is read as 1-based "
                            "(--gold-base 1); give --gold-base 0 for 0-based links")
        if (n_src is not None and link[0] >= n_src) or (n_tgt is not None and link[1] >= n_tgt):
            words = f"{n_src if n_src is not None else '?'} source and {n_tgt if n_tgt is not None else '?'} target words"
            hint = "; are its links 1-based? (--gold-base 1 reads 1-based gold links)" if base == 0 and (
                link[0] == n_src or link[1] == n_tgt) else ""
            raise UserError(f"{where}: link {token!r} lies outside the sentence pair ({words}, "
                            f"numbered from {base}){hint}")
        possible.add(link)
        if is_sure:
            sure.add(link)
    return GoldAlignment(frozenset(sure), frozenset(possible))


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()  # "²".isdigit() is True, but int("²") fails


@dataclass(frozen=True)
class AERResult:
    aer: float
    precision: float
    recall: float
    links: int
    sure: int
    possible: int
    sentences: int

    def to_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}

    def summary(self) -> str:
        return (f"AER {self.aer:.4f}  precision {self.precision:.4f}  recall {self.recall:.4f}  "
                f"({self.links} links, {self.sure} sure and {self.possible} possible gold links, {self.sentences} sentences)")


def alignment_error_rate(hypotheses: Sequence[Iterable[tuple[int, int]]], gold: Sequence[GoldAlignment]) -> AERResult:
    """Och & Ney (2003) over a corpus: AER = 1 - (|A∩S| + |A∩P|) / (|A| + |S|), precision |A∩P|/|A|, recall |A∩S|/|S|."""
    if len(hypotheses) != len(gold):
        raise UserError(f"{len(hypotheses)} sentences to score but {len(gold)} gold alignments; give one gold line per sentence")
    a = s = p = a_s = a_p = 0
    for hyp, g in zip(hypotheses, gold):
        hyp = set(hyp)
        a, s, p = a + len(hyp), s + len(g.sure), p + len(g.possible)
        a_s, a_p = a_s + len(hyp & g.sure), a_p + len(hyp & g.possible)
    aer = 1.0 - (a_s + a_p) / (a + s) if a + s else 0.0
    return AERResult(aer, a_p / a if a else 0.0, a_s / s if s else 0.0, a, s, p, len(gold))
