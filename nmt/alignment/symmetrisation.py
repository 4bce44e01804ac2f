"""Symmetrisation of two directional word alignments, as statistical aligners do (Och and Ney 2003;
Koehn, Och and Marcu 2003; Moses' ``symal``, fast_align's ``atools``).

Both inputs are link sets in the same orientation, ``(source i, target j)``: ``forward`` from a
source-to-target model, ``backward`` from a target-to-source model with its links transposed
(:func:`transpose`). Each method returns a sorted list of links:

* ``intersection``: links both directions found (high precision);
* ``union``: links either direction found (high recall);
* ``grow-diag``: start from the intersection and repeatedly add a union link that neighbours
  (horizontally, vertically or diagonally) a link already kept, when its source word or its target
  word is still unaligned, until nothing more can be added;
* ``grow-diag-final``: then, in one pass, add every remaining union link whose source or target word
  is still unaligned;
* ``grow-diag-final-and``: the same final pass, but only links whose source *and* target words are
  both still unaligned.

**Order.** Koehn's definition adds links one at a time, so where two candidates compete (adding one
aligns a word the other needed) the result depends on the order of visiting them. The final steps
follow Koehn: the forward direction's links first, then the backward direction's (as ``symal`` and
``atools`` do). The order within a pass the paper leaves open, and ``symal`` and ``atools`` scan
differently; here candidates are visited by ``(min(i, j), max(i, j))``, an order that transposing
leaves unchanged (the two links ``(i, j)`` and ``(j, i)`` that share a place touch different words and
are judged together, on the alignment before either). So every method gives the transposed result
for transposed inputs, and intersection, union and grow-diag, which depend only on the intersection
and the union, give the same result when the two directions are swapped (links transposed). The
final steps cannot: taking the forward direction first is what they are. Where no links compete
within a pass, the results equal ``atools``'.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import groupby

from nmt.errors import UserError

Link = tuple[int, int]
NEIGHBOURS = ((-1, 0), (0, -1), (1, 0), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))  # grow-diag: with diagonals


def transpose(links: Iterable[Link]) -> set[Link]:
    """``(i, j)`` -> ``(j, i)``: a target-to-source model's links in source-target orientation, or back."""
    return {(j, i) for i, j in links}


def intersection(forward: Iterable[Link], backward: Iterable[Link]) -> list[Link]:
    return sorted(set(forward) & set(backward))


def union(forward: Iterable[Link], backward: Iterable[Link]) -> list[Link]:
    return sorted(set(forward) | set(backward))


def grow_diag(forward: Iterable[Link], backward: Iterable[Link]) -> list[Link]:
    return _grow(forward, backward, final=None)


def grow_diag_final(forward: Iterable[Link], backward: Iterable[Link]) -> list[Link]:
    return _grow(forward, backward, final="or")


def grow_diag_final_and(forward: Iterable[Link], backward: Iterable[Link]) -> list[Link]:
    return _grow(forward, backward, final="and")


METHODS: dict[str, Callable[[Iterable[Link], Iterable[Link]], list[Link]]] = {
    "intersection": intersection, "union": union, "grow-diag": grow_diag,
    "grow-diag-final": grow_diag_final, "grow-diag-final-and": grow_diag_final_and,
}


def symmetrise(forward: Iterable[Link], backward: Iterable[Link], method: str = "grow-diag-final-and") -> list[Link]:
    """Combine the two directions' links (both ``(source i, target j)``) by ``method`` (see :data:`METHODS`)."""
    if method not in METHODS:
        raise UserError(f"unknown symmetrisation {method!r}; choose one of {', '.join(METHODS)}")
    return METHODS[method](forward, backward)


def _order(link: Link) -> tuple[int, int]:
    i, j = link
    return min(i, j), max(i, j)  # unchanged by transposing; (i, j) and (j, i) tie


def _grow(forward: Iterable[Link], backward: Iterable[Link], final: str | None) -> list[Link]:
    forward, backward = set(forward), set(backward)
    candidates = forward | backward
    kept = forward & backward
    src_aligned, tgt_aligned = {i for i, _ in kept}, {j for _, j in kept}

    def either_unaligned(i: int, j: int) -> bool:
        return i not in src_aligned or j not in tgt_aligned

    def both_unaligned(i: int, j: int) -> bool:
        return i not in src_aligned and j not in tgt_aligned

    def grows(i: int, j: int) -> bool:
        return either_unaligned(i, j) and any((i + di, j + dj) in kept for di, dj in NEIGHBOURS)

    def one_pass(condition, links=candidates) -> bool:
        """Visit ``links`` not yet kept in order; each tie is judged on the alignment before it. True if any
        was added."""
        added = False
        for _, tie in groupby(sorted(links - kept, key=_order), key=_order):
            for i, j in [link for link in tie if condition(*link)]:
                kept.add((i, j))
                src_aligned.add(i)
                tgt_aligned.add(j)
                added = True
        return added

    while one_pass(grows):
        pass
    if final is not None:  # Koehn's FINAL(forward), then FINAL(backward)
        for direction in (forward, backward):
            one_pass(either_unaligned if final == "or" else both_unaligned, direction)
    return sorted(kept)
