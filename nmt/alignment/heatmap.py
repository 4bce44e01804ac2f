"""Attention heatmaps in the style of Bahdanau et al. 2015, Fig. 3: source words across the top,
target words down the side, each cell's brightness the weight (white = 1, black = 0).

``plot_matrix`` draws one matrix; ``plot_grid`` draws a layer x head grid of a Transformer's
cross-attention. The format follows the file suffix (.png or .svg). Labels stay legible up to 50
words a side: the figure grows with the matrix and the font shrinks only down to 7 points.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nmt.errors import UserError
from nmt.io import atomic_open

FORMATS = (".png", ".svg")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"  # SVG labels stay text: searchable, selectable, small
    import matplotlib.pyplot as plt

    return plt


def _check(path: Path) -> str:
    if path.suffix.lower() not in FORMATS:
        raise UserError(f"cannot plot to {path}: use a .png or .svg file name")
    return path.suffix.lower()[1:]


def _cell_inches(rows: int, cols: int) -> float:
    return 0.32 if max(rows, cols) <= 30 else 0.24


def _draw(ax, matrix, src_labels, tgt_labels, fontsize):
    ax.imshow(matrix, cmap="gray", vmin=0.0, vmax=1.0, aspect="equal", interpolation="nearest")
    ax.set_xticks(range(len(src_labels)), src_labels, rotation=90, fontsize=fontsize)
    ax.set_yticks(range(len(tgt_labels)), tgt_labels, fontsize=fontsize)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)


def _overlay(ax, links, gold) -> None:
    from matplotlib.patches import Rectangle

    if gold is not None:
        for (i, j), style in [(link, "-") for link in gold.sure] + [(link, "--") for link in gold.possible - gold.sure]:
            ax.add_patch(Rectangle((i - 0.45, j - 0.45), 0.9, 0.9, fill=False, edgecolor="#2ca02c", linewidth=1.5,
                                   linestyle=style))
    if links:
        ax.scatter([i for i, _ in links], [j for _, j in links], s=14, c="#d62728", zorder=3)


def _save(fig, path: Path, fmt: str) -> None:
    with atomic_open(path, "wb") as f:
        fig.savefig(f, format=fmt, dpi=150, bbox_inches="tight")


def plot_matrix(matrix: np.ndarray, src_labels: Sequence[str], tgt_labels: Sequence[str], path,
                title: str | None = None, links=None, gold=None) -> Path:
    """One attention matrix [T,S] (rows target, columns source) as a heatmap; returns the path.

    ``links``: (source i, target j) hard links, drawn as red dots; ``gold``: an object with ``sure``
    and ``possible`` link sets (:class:`nmt.alignment.GoldAlignment`), drawn as green squares (solid:
    sure, dashed: possible only). So a dot inside a square is a correct link."""
    path = Path(path)
    fmt = _check(path)
    matrix = np.asarray(matrix)
    if matrix.shape != (len(tgt_labels), len(src_labels)):
        raise ValueError(f"matrix {matrix.shape} does not match {len(tgt_labels)} x {len(src_labels)} labels")
    plt = _pyplot()
    rows, cols = matrix.shape
    cell = _cell_inches(rows, cols)
    fontsize = 10 if max(rows, cols) <= 30 else 7
    fig, ax = plt.subplots(figsize=(max(3.0, cols * cell + 1.5), max(3.0, rows * cell + 1.5)))
    _draw(ax, matrix, src_labels, tgt_labels, fontsize)
    _overlay(ax, links, gold)
    if title:
        ax.set_xlabel(title, fontsize=fontsize)
    _save(fig, path, fmt)
    plt.close(fig)
    return path


def plot_grid(attention: np.ndarray, src_labels: Sequence[str], tgt_labels: Sequence[str], path,
              title: str | None = None) -> Path:
    """Attention [L,H,T,S] as an L x H grid of heatmaps (row: layer, column: head); returns the path."""
    path = Path(path)
    fmt = _check(path)
    attention = np.asarray(attention)
    layers, heads, rows, cols = attention.shape
    if (rows, cols) != (len(tgt_labels), len(src_labels)):
        raise ValueError(f"attention {attention.shape} does not match {len(tgt_labels)} x {len(src_labels)} labels")
    plt = _pyplot()
    cell = _cell_inches(rows, cols) * 0.8
    fontsize = 8 if max(rows, cols) <= 30 else 6
    fig, axes = plt.subplots(layers, heads, squeeze=False,
                             figsize=(heads * (cols * cell + 1.2) + 0.5, layers * (rows * cell + 1.2) + 0.5))
    for layer in range(layers):
        for head in range(heads):
            ax = axes[layer][head]
            _draw(ax, attention[layer, head], src_labels if layer == 0 else [""] * cols,
                  tgt_labels if head == 0 else [""] * rows, fontsize)
            ax.set_xlabel(f"layer {layer}, head {head}", fontsize=fontsize + 1)
    if title:
        fig.suptitle(title)
    _save(fig, path, fmt)
    plt.close(fig)
    return path
