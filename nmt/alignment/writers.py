"""Aligned sentences and their files: :func:`reduce_all` turns :class:`nmt.translator.Hypothesis` objects
(either model family) into :class:`Aligned` ones (attention reduced, merged to words, linked), which are
written as soft matrices (JSON Lines, .npz, Marian-style soft lines) and heatmaps.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nmt.alignment import heatmap
from nmt.alignment.links import hard_links, reduce, to_words
from nmt.alignment.pharaoh import format_pharaoh
from nmt.alignment.subwords import WordMap, marked_words
from nmt.io import atomic_open


@dataclass
class Aligned:
    """One sentence's attention reduced to one matrix, at subword and word level, and its hard links."""

    index: int
    source_pieces: list[str]
    target_pieces: list[str]
    source_map: WordMap  # the source's words and the word of each source piece
    target_map: WordMap
    subword: np.ndarray  # [T,S] target pieces x source pieces (</s> column kept)
    word: np.ndarray  # [Tw,Sw] target words x source words (</s> dropped, rows renormalised)
    links: list[tuple[int, int]]  # (source word, target word)
    attention: np.ndarray  # [L,H,T,S] every layer and head, unreduced

    @property
    def source_words(self) -> list[str]:
        return list(self.source_map.words)

    @property
    def target_words(self) -> list[str]:
        return list(self.target_map.words)


def reduce_all(hyps: Sequence, layer="mean", head="mean") -> list[Aligned]:
    """Reduce each hypothesis' attention [L,H,T,S] to [T,S] (``layer``/``head``: number or 'mean'), merge to
    words (the hypothesis' word maps: given tokens; without one, the pieces' ``▁`` marks), link."""
    out = []
    for i, h in enumerate(hyps):
        src = h.source_words or marked_words(h.source_tokens)
        tgt = h.target_words or marked_words(h.tokens)
        sub = reduce(h.attention, layer, head)  # [T,S]
        word = to_words(sub, src, tgt)  # [Tw,Sw]
        out.append(Aligned(i, list(h.source_tokens), list(h.tokens), src, tgt, sub, word, hard_links(word),
                           np.asarray(h.attention)))
    return out


def soft_line(word_matrix: np.ndarray) -> str:
    """Marian's soft alignment: one comma-separated row of source-word weights per target word, space-separated."""
    return " ".join(",".join(f"{v:.4f}" for v in row) for row in np.asarray(word_matrix))


def write_jsonl(path, aligned: Sequence[Aligned], layer, head) -> None:
    """One JSON object per sentence: tokens, words, the reduced subword and word matrices, Pharaoh links."""
    with atomic_open(path) as f:
        for a in aligned:
            f.write(json.dumps({
                "id": a.index, "layer": layer, "head": head,
                "source_tokens": a.source_pieces, "target_tokens": a.target_pieces,
                "source_words": a.source_words, "target_words": a.target_words,
                "subword_matrix": np.round(a.subword, 5).tolist(), "word_matrix": np.round(a.word, 5).tolist(),
                "alignment": format_pharaoh(a.links),
            }, ensure_ascii=False) + "\n")


def write_npz(path, aligned: Sequence[Aligned]) -> None:
    """Per sentence i: ``attention_i`` [L,H,T,S] (every layer and head, subword level), ``word_matrix_i``
    [Tw,Sw], ``source_tokens_i``, ``target_tokens_i``, ``source_words_i``, ``target_words_i``."""
    arrays = {}
    for a in aligned:
        arrays[f"attention_{a.index}"] = a.attention.astype(np.float32)
        arrays[f"word_matrix_{a.index}"] = a.word.astype(np.float32)
        for name, tokens in (("source_tokens", a.source_pieces), ("target_tokens", a.target_pieces),
                             ("source_words", a.source_words), ("target_words", a.target_words)):
            arrays[f"{name}_{a.index}"] = np.array(tokens, dtype=str)
    with atomic_open(path, "wb") as f:
        np.savez_compressed(f, **arrays)


def write_plots(directory, aligned: Sequence[Aligned], level: str = "word", fmt: str = "png",
                limit: int | None = None, layer="mean", head="mean") -> list[Path]:
    """Heatmaps: ``sentence_NNNN.FMT`` (the reduced matrix), and for models with several layers or heads
    ``sentence_NNNN_grid.FMT`` (every layer and head). ``level`` word or subword."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for a in aligned[:limit]:
        stem = directory / f"sentence_{a.index:04d}"
        if level == "word":
            src, tgt, matrix = a.source_words, a.target_words, a.word
        else:
            src, tgt, matrix = a.source_pieces, a.target_pieces, a.subword
        title = f"layer {layer}, head {head}" if a.attention.shape[:2] != (1, 1) else None
        paths.append(heatmap.plot_matrix(matrix, src, tgt, stem.with_suffix(f".{fmt}"), title=title))
        if a.attention.shape[:2] != (1, 1):
            grid = a.attention
            if level == "word":
                grid = np.array([[to_words(grid[layer, h], a.source_map, a.target_map) for h in range(grid.shape[1])]
                                 for layer in range(grid.shape[0])])
            paths.append(heatmap.plot_grid(grid, src, tgt, directory / f"sentence_{a.index:04d}_grid.{fmt}"))
    return paths
