"""Soft symmetrisation: combine two directions' *attention* before choosing links, not their hard links.

:mod:`nmt.alignment.symmetrisation` combines the links each direction chose by argmax, so a direction
that hesitated between two words (0.45 against 0.40) votes as firmly as one that did not (0.95), and
its second choice is lost. Here the two directions' word matrices are combined first and a link is
every word pair whose combined weight reaches a threshold: posterior thresholding, the way HMM and
neural aligners read links from link probabilities rather than from each word's single best choice.

Both inputs are in ``(source i, target j)`` orientation, ``[S, T]``:

* ``forward[i, j]``: a source-to-target model's attention of target word j on source word i (its word
  matrix transposed: :attr:`nmt.alignment.Aligned.word` ``.T``), so each column sums to 1;
* ``backward[i, j]``: a target-to-source model's attention of its target word i (our source word) on
  j (its word matrix as it is), so each row sums to 1.

``combine``: ``mean`` ((f + b) / 2) or ``geometric`` (sqrt(f * b), which needs both directions to
agree). A pair is linked when the combined weight is at least ``threshold``. With one-hot matrices
(each word's attention on one word) ``mean`` at 0.5 is the union of the two directions' links and
``geometric`` the intersection, at any threshold in (0, 1]; softer attention lets a confident
direction carry a link the other missed, and drops links both chose only narrowly.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nmt.errors import UserError

COMBINE: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "mean": lambda f, b: (f + b) / 2.0,
    "geometric": lambda f, b: np.sqrt(f * b),
}
PREFIX = "soft-"  # the names nmt align --symmetrise gives these methods: soft-mean, soft-geometric
METHODS = tuple(PREFIX + name for name in COMBINE)


def soft_symmetrise(forward: np.ndarray, backward: np.ndarray, combine: str = "mean",
                    threshold: float = 0.5) -> list[tuple[int, int]]:
    """Sorted ``(source i, target j)`` links where ``combine`` of the two ``[S, T]`` matrices reaches
    ``threshold`` (see the module docstring for the orientation of each)."""
    combine = combine.removeprefix(PREFIX)
    if combine not in COMBINE:
        raise UserError(f"unknown soft symmetrisation {combine!r}; choose one of {', '.join(COMBINE)}")
    if not 0.0 < threshold <= 1.0:
        raise UserError(f"the soft symmetrisation threshold must be in (0, 1], got {threshold}")
    f, b = np.asarray(forward, dtype=np.float64), np.asarray(backward, dtype=np.float64)
    if f.shape != b.shape or f.ndim != 2:
        raise ValueError(f"both matrices must be [source words, target words] of one pair, got {f.shape} and "
                         f"{b.shape}")
    # float32 attention renormalised in float64 may land a hair below an exact 0.5 or 1.0
    i, j = np.nonzero(COMBINE[combine](f, b) >= threshold - 1e-6)
    return sorted(zip(i.tolist(), j.tolist()))
