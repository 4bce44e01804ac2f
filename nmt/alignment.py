"""Attention as word alignment: subword to word matrices, hard links, Pharaoh I/O, alignment error rate.

Every function here takes plain NumPy matrices and token lists, so it serves both model families,
free translation and forced alignment alike.

**Pieces to words.** SentencePiece marks the first piece of every whitespace-separated word with
``▁``; the pieces up to the next ``▁`` belong to the same word. A target word's row is the mean of
its pieces' rows (each piece spreads one unit of attention over the source); a source word's column
is the sum of its pieces' columns (the attention mass its pieces receive). So a word matrix row
still sums to the attention its target word gave to real source words.

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


def to_words(matrix: np.ndarray, src_pieces: Sequence[str], tgt_pieces: Sequence[str]) -> np.ndarray:
    """Subword matrix [T,S] (rows: target pieces, columns: source pieces incl. ``</s>``) -> word matrix
    [Tw,Sw]: rows averaged over a target word's pieces, columns summed over a source word's pieces,
    ``</s>`` dropped and rows renormalised over real source words (see the module docstring)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.shape != (len(tgt_pieces), len(src_pieces)):
        raise ValueError(f"matrix {matrix.shape} does not match {len(tgt_pieces)} target and {len(src_pieces)} source pieces")
    src_w, tgt_w = np.array(word_index(src_pieces), dtype=int), np.array(word_index(tgt_pieces), dtype=int)
    n_src, n_tgt = int(src_w.max(initial=-1)) + 1, int(tgt_w.max(initial=-1)) + 1
    cols = np.zeros((len(src_pieces), n_src))
    cols[np.flatnonzero(src_w >= 0), src_w[src_w >= 0]] = 1.0  # piece -> word summing matrix
    rows = np.zeros((n_tgt, len(tgt_pieces)))
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


def parse_pharaoh(line: str, where: str = "alignment") -> GoldAlignment:
    """Parse ``i-j`` (sure) and ``i?j`` or ``ipj`` (possible) links; possible includes sure."""
    sure, possible = set(), set()
    for token in line.split():
        for sep, is_sure in (("-", True), ("?", False), ("p", False)):
            left, found, right = token.partition(sep)
            if found and left.isdigit() and right.isdigit():
                link = (int(left), int(right))
                possible.add(link)
                if is_sure:
                    sure.add(link)
                break
        else:
            raise UserError(f"{where}: cannot read link {token!r}; expected i-j (sure) or i?j (possible) with 0-based word numbers")
    return GoldAlignment(frozenset(sure), frozenset(possible))


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
