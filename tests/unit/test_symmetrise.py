"""Symmetrisation of two directional alignments: hand-computed cases and the properties every method keeps."""

import pytest
from hypothesis import given, settings, strategies as st

from nmt.alignment import symmetrisation as sym
from nmt.errors import UserError

METHODS = list(sym.METHODS)


def run_all(forward, backward):
    return {name: set(sym.symmetrise(forward, backward, name)) for name in METHODS}


def test_grow_diag_grows_along_neighbours_and_final_adds_the_rest():
    # intersection {0-0}; 0-1 neighbours it (target word 1 unaligned), then 1-1 neighbours 0-1 (source 1 unaligned);
    # 3-3 neighbours nothing: only a final step adds it (both its words are unaligned)
    forward, backward = {(0, 0), (1, 1), (3, 3)}, {(0, 0), (0, 1)}
    r = run_all(forward, backward)
    assert r["intersection"] == {(0, 0)}
    assert r["union"] == {(0, 0), (0, 1), (1, 1), (3, 3)}
    assert r["grow-diag"] == {(0, 0), (0, 1), (1, 1)}
    assert r["grow-diag-final"] == r["grow-diag-final-and"] == r["union"]


def test_final_and_needs_both_words_unaligned():
    # 2-0 is two rows from 0-0, so it does not grow; its target word 0 is aligned: final adds it, final-and does not
    r = run_all({(0, 0), (2, 0)}, {(0, 0)})
    assert r["grow-diag"] == {(0, 0)} and r["grow-diag-final-and"] == {(0, 0)}
    assert r["grow-diag-final"] == {(0, 0), (2, 0)}


def test_grow_diag_uses_diagonals_and_stops_at_words_aligned_on_both_sides():
    assert sym.grow_diag({(0, 0), (1, 1)}, {(0, 0)}) == [(0, 0), (1, 1)]  # 1-1 is diagonal to 0-0
    # 0-1 neighbours the intersection, but both its words are aligned already: nothing adds it
    r = run_all({(0, 0), (1, 1)}, {(0, 0), (1, 1), (0, 1)})
    assert r["grow-diag"] == r["grow-diag-final"] == r["grow-diag-final-and"] == {(0, 0), (1, 1)}


def test_competing_links_final_steps_take_the_forward_direction_first():
    # 1-2 and 2-1 share a place in the order (min, max) and touch different words: both are kept
    assert sym.grow_diag_final_and({(0, 0), (1, 2)}, {(0, 0), (2, 1)}) == [(0, 0), (1, 2), (2, 1)]
    # 1-3 (forward) and 1-2 (backward) both want source word 1: Koehn's FINAL(forward) comes first
    assert sym.grow_diag_final_and({(0, 0), (1, 3)}, {(0, 0), (1, 2)}) == [(0, 0), (1, 3)]
    assert sym.grow_diag_final_and({(0, 0), (1, 2)}, {(0, 0), (1, 3)}) == [(0, 0), (1, 2)]
    # within a pass, the order (min(i, j), max(i, j)): 0-1 and 1-0 wait for 1-2 to neighbour them; then 0-1 is
    # judged on the alignment before its partner 1-0, which has no neighbour yet; 0-0 comes first in the next pass
    # and takes target word 0 (atools, which scans (i, j) and adds 1-0 right after 0-1, keeps 1-0 instead)
    assert sym.grow_diag({(0, 1), (1, 0), (2, 2)}, {(0, 0), (1, 2), (2, 2)}) == [(0, 0), (0, 1), (1, 2), (2, 2)]


def test_unknown_method_lists_the_choices():
    with pytest.raises(UserError, match="unknown symmetrisation 'gdfa'; choose one of intersection, union, grow-diag"):
        sym.symmetrise(set(), set(), "gdfa")
    assert sym.symmetrise([], [], "grow-diag-final") == []


LINKS = st.sets(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=14)


@settings(max_examples=200, deadline=None)
@given(forward=LINKS, backward=LINKS)
def test_symmetrisation_properties(forward, backward):
    r = run_all(forward, backward)
    assert r["intersection"] <= r["grow-diag"] <= r["grow-diag-final"] <= r["union"]
    assert r["grow-diag"] <= r["grow-diag-final-and"] <= r["union"]  # not within grow-diag-final: a link that
    # final adds (one word unaligned) can take the word a final-and link needed
    # transposed inputs give the transposed result: no method favours source over target
    transposed = run_all(sym.transpose(forward), sym.transpose(backward))
    assert all(transposed[name] == sym.transpose(r[name]) for name in METHODS)
    # swapping the directions (links transposed) transposes the results that depend only on intersection and
    # union; the final steps take the forward direction first, as Koehn defines them
    swapped = run_all(sym.transpose(backward), sym.transpose(forward))
    assert all(swapped[name] == sym.transpose(r[name]) for name in ("intersection", "union", "grow-diag"))
    # grow-diag-final leaves no word unaligned that either direction aligned
    assert {i for i, _ in r["grow-diag-final"]} == {i for i, _ in r["union"]}
    assert {j for _, j in r["grow-diag-final"]} == {j for _, j in r["union"]}
    assert all(set(sym.symmetrise(forward, forward, name)) == forward for name in METHODS)  # identical inputs
