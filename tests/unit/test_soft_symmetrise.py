"""Soft symmetrisation (two directions' attention combined, then thresholded): a hand-computed case and the
properties that tie it to the hard methods."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nmt.alignment import hard_links, symmetrise, transpose
from nmt.alignment.soft import soft_symmetrise
from nmt.errors import UserError


def directions(seed: int, s: int, t: int, sharpness: float):
    """Random attention of both directions in (source, target) orientation: forward's columns and backward's rows
    sum to 1, as a source->target and a target->source model's word matrices do."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(2, s, t)) * sharpness
    forward = np.exp(logits[0]) / np.exp(logits[0]).sum(axis=0, keepdims=True)
    backward = np.exp(logits[1]) / np.exp(logits[1]).sum(axis=1, keepdims=True)
    return forward.astype(np.float32), backward.astype(np.float32)


def one_hot(links, s, t):
    m = np.zeros((s, t), dtype=np.float32)
    for i, j in links:
        m[i, j] = 1.0
    return m


def test_a_confident_direction_carries_a_link_the_other_missed():
    forward = np.array([[0.5, 0.1], [0.5, 0.9]])  # columns sum to 1: target word 1 is sure of source word 1
    backward = np.array([[0.45, 0.55], [0.6, 0.4]])  # rows sum to 1: the other direction's argmaxes differ
    f_links, b_links = hard_links(forward.T), transpose(hard_links(backward))
    assert (f_links, b_links) == ([(0, 0), (1, 1)], {(0, 1), (1, 0)})
    assert symmetrise(f_links, b_links, "intersection") == []  # the hard directions agree nowhere
    # means: 0.475, 0.325 / 0.55, 0.65; geometric: 0.474, 0.235 / 0.548, 0.6
    assert soft_symmetrise(forward, backward, "mean", 0.5) == [(1, 0), (1, 1)]
    assert soft_symmetrise(forward, backward, "mean", 0.6) == [(1, 1)]
    assert soft_symmetrise(forward, backward, "geometric", 0.56) == [(1, 1)]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 7), st.integers(1, 7))
def test_on_one_hot_attention_mean_is_the_union_and_geometric_the_intersection(seed, s, t):
    forward, backward = directions(seed, s, t, 1.0)
    f_links = hard_links(forward.T)  # each target word's argmax source word
    b_links = transpose(hard_links(backward))  # each source word's argmax target word
    f, b = one_hot(f_links, s, t), one_hot(b_links, s, t)
    for threshold in (0.1, 0.5):
        assert soft_symmetrise(f, b, "mean", threshold) == symmetrise(f_links, b_links, "union")
    for threshold in (0.51, 1.0):
        assert soft_symmetrise(f, b, "mean", threshold) == symmetrise(f_links, b_links, "intersection")
    for threshold in (0.01, 1.0):
        assert soft_symmetrise(f, b, "geometric", threshold) == symmetrise(f_links, b_links, "intersection")


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 8), st.integers(1, 8), st.floats(0.1, 6.0),
       st.floats(0.05, 1.0), st.floats(0.05, 1.0))
def test_soft_links_are_symmetric_nested_and_bounded(seed, s, t, sharpness, low, high):
    forward, backward = directions(seed, s, t, sharpness)
    low, high = min(low, high), max(low, high)
    for combine in ("mean", "geometric"):
        links = soft_symmetrise(forward, backward, combine, low)
        assert all(0 <= i < s and 0 <= j < t for i, j in links)
        assert set(soft_symmetrise(forward, backward, combine, high)) <= set(links)  # a higher bar keeps fewer
        # the two directions play the same part: swap them (and the orientation) and the links transpose
        swapped = soft_symmetrise(backward.T, forward.T, combine, low)
        assert set(swapped) == transpose(links)
    # a geometric mean never exceeds the arithmetic one
    assert set(soft_symmetrise(forward, backward, "geometric", low)) <= set(
        soft_symmetrise(forward, backward, "mean", low))
    # at 0.5 a mean link needs one direction at 0.5 or more on it, so its argmax: never a pair neither chose
    chosen = set(hard_links(forward.T)) | transpose(hard_links(backward))
    assert set(soft_symmetrise(forward, backward, "mean", 0.5)) <= chosen


def test_bad_settings_are_one_line_errors():
    m = np.full((2, 2), 0.5)
    with pytest.raises(UserError, match="unknown soft symmetrisation"):
        soft_symmetrise(m, m, "median")
    with pytest.raises(UserError, match=r"in \(0, 1\]"):
        soft_symmetrise(m, m, "mean", 0.0)
    with pytest.raises(ValueError, match="one pair"):
        soft_symmetrise(m, np.full((2, 3), 0.5))
    assert soft_symmetrise(m, m, "soft-mean", 0.5) == [(0, 0), (0, 1), (1, 0), (1, 1)]  # the CLI's names work too
