"""XLA-compiled search (nmt.xla_decoding): the same translations as the uncompiled search for every
registered family, padded shapes that change nothing, a top-k by argmax equal to tf.math.top_k, and a
one-line refusal for a state that grows."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings, strategies as st

from nmt.config import ModelConfig
from nmt.decoding import DecodeOptions, make_decode_fn
from nmt.errors import UserError
from nmt.models import MODELS, build_model
from nmt.topk import top_k_by_argmax
from nmt.xla_decoding import SOURCE_BUCKETS, batch_bucket, source_bucket

SMALL = {"embedding_dim": 16, "units": 16, "attention_units": 16, "heads": 2, "layers": 2, "d_model": 16, "ff_dim": 32,
         "transformer_heads": 2, "dropout": 0.1}
V_SRC, V_TGT = 20, 24
# three sentences (padded to four rows by the compiled search) of 5, 3 and 4 pieces (padded to 8)
SRC = tf.constant([[5, 6, 7, 8, 3], [9, 10, 3, 0, 0], [11, 12, 13, 3, 0]], tf.int32)
# float32: XLA fuses and reorders sums; scores of a few steps through two layers move by ~1e-6
TOLERANCE = 1e-4


def make(family: str, seed: int = 0):
    tf.random.set_seed(seed)
    return build_model(dataclasses.replace(ModelConfig(), family=family, **SMALL), V_SRC, V_TGT)


@pytest.mark.parametrize("family", MODELS.names())
@pytest.mark.parametrize("beam,n_best", [(1, 1), (3, 2)])
def test_compiled_search_equals_uncompiled(family, beam, n_best):
    model = make(family)
    options = DecodeOptions(beam_size=beam, n_best=n_best, length_penalty=0.6, max_length_a=1.0, max_length_b=3,
                            return_attention=True)
    plain = make_decode_fn(model, options)(SRC)
    compiled = make_decode_fn(model, dataclasses.replace(options, xla=True))(SRC)
    assert compiled.ids.shape[:2] == (3, n_best) and compiled.attention.shape[-1] == 5  # padding trimmed
    np.testing.assert_allclose(compiled.scores.numpy(), plain.scores.numpy(), atol=TOLERANCE)
    np.testing.assert_array_equal(compiled.lengths.numpy(), plain.lengths.numpy())
    np.testing.assert_array_equal(compiled.ids.numpy(), plain.ids.numpy())
    np.testing.assert_allclose(compiled.attention.numpy(), plain.attention.numpy(), atol=TOLERANCE)


@pytest.mark.parametrize("family", MODELS.names())
def test_static_state_steps_equal_growing_steps(family):
    """initial_state_static + step: the same logits and attention as the growing state, step by step,
    under beam reordering (each row continues another row's hypothesis)."""
    model = make(family)
    k = 2
    encoded = model.tile_encoded(model.encode(SRC[:2]), k)  # [4,...]
    states = [model.initial_state(encoded), model.initial_state_static(encoded, 6)]
    prev = tf.constant([2, 2, 2, 2], tf.int32)
    for t in range(4):
        outs = [model.step(prev, s, encoded) for s in states]
        np.testing.assert_allclose(outs[1].logits.numpy(), outs[0].logits.numpy(), atol=1e-5)
        np.testing.assert_allclose(outs[1].attention.numpy(), outs[0].attention.numpy(), atol=1e-5)
        parents = tf.constant([1, 0, 2, 2], tf.int32)  # sentence 0 swaps its hypotheses, sentence 1 keeps one
        states = [model.reorder_state(o.state, parents) for o in outs]
        prev = tf.constant([5 + t, 6, 7, 8 + t], tf.int32)


def test_growing_state_is_refused_in_one_line():
    from tests.unit.test_decoding import TableModel

    table = np.zeros([4, 10, 10], np.float32)
    fn = make_decode_fn(TableModel(table, growing=True), DecodeOptions(beam_size=1, xla=True))
    with pytest.raises(UserError, match="initial_state_static"):
        fn(tf.constant([[4, 5, 3]], tf.int32))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(1, 40), st.data())
def test_top_k_by_argmax_equals_top_k(rows, width, data):
    """Values and ids of tf.math.top_k, ties (few distinct values) and -inf rows included."""
    k = data.draw(st.integers(1, width))
    values = data.draw(st.lists(st.sampled_from([-np.inf, -1.0, 0.0, 0.5, 2.0]), min_size=rows * width,
                                max_size=rows * width))
    x = tf.constant(np.asarray(values, np.float32).reshape(rows, width))
    want_values, want_ids = tf.math.top_k(x, k=k)
    got_values, got_ids = top_k_by_argmax(x, k)
    np.testing.assert_array_equal(got_values.numpy(), want_values.numpy())
    np.testing.assert_array_equal(got_ids.numpy(), want_ids.numpy())


@given(st.integers(1, 5000))
def test_buckets_hold_the_batch(n):
    assert n <= source_bucket(n) and (source_bucket(n) in SOURCE_BUCKETS or source_bucket(n) % 128 == 0)
    assert source_bucket(n) <= max(n * 2, 8)  # at most twice the work of the unpadded batch
    assert n <= batch_bucket(n) < 2 * n and batch_bucket(n) & (batch_bucket(n) - 1) == 0
