"""One contract test over every registered attention mechanism, plus masking and the registry."""

import numpy as np
import pytest
import tensorflow as tf

from nmt.attention import ATTENTION, Attention, build, register
from nmt.errors import UserError

B, T, S, D = 3, 4, 6, 16
LENGTHS = [6, 3, 1]


def inputs(seed=0):
    rng = np.random.default_rng(seed)
    query = tf.constant(rng.normal(size=(B, T, D)), tf.float32)  # [B,T,D]
    memory = tf.constant(rng.normal(size=(B, S, D)), tf.float32)  # [B,S,D]
    mask = tf.sequence_mask(LENGTHS, S)  # [B,S]
    return query, memory, mask


@pytest.mark.parametrize("name", ATTENTION.names())
def test_contract(name):
    mech = build(name, units=8, heads=2, query_dim=D)
    query, memory, mask = inputs()
    keys = mech.prepare(memory)
    context, weights = mech(query, memory, keys, mask)
    assert weights.shape == (B, mech.heads, T, S)
    assert context.shape == (B, T, mech.context_dim(D))
    assert weights.dtype == tf.float32
    np.testing.assert_allclose(tf.reduce_sum(weights, -1).numpy(), 1.0, atol=1e-5)  # float32 softmax over 6: ~1e-6
    # Padding gets exactly zero weight.
    for b, n in enumerate(LENGTHS):
        assert np.all(weights.numpy()[b, :, :, n:] == 0.0)
    # Changing the memory under padding changes nothing.
    noise = tf.where(mask[..., None], memory, 100.0 * tf.ones_like(memory))
    context2, weights2 = mech(query, noise, mech.prepare(noise), mask)
    # the same shapes, padding weighted by exactly 0: equal to the last ulp or two (|weight| <= 1, |context| <= 4)
    np.testing.assert_allclose(weights2.numpy(), weights.numpy(), atol=1e-6)
    np.testing.assert_allclose(context2.numpy(), context.numpy(), atol=1e-5)
    # Config round-trip rebuilds an equivalent layer.
    cfg = mech.get_config()
    assert type(mech).from_config(cfg).get_config() == cfg


@pytest.mark.parametrize("name", [n for n in ATTENTION.names() if n != "none"])
def test_weights_depend_on_query(name):
    mech = build(name, units=8, heads=2, query_dim=D)
    query, memory, mask = inputs()
    keys = mech.prepare(memory)
    _, w1 = mech(query, memory, keys, mask)
    _, w2 = mech(query * -3.0, memory, keys, mask)
    assert not np.allclose(w1.numpy()[0], w2.numpy()[0])


def test_additive_is_bahdanau():
    """score(s, h) = v^T tanh(W s + U h), checked against NumPy."""
    mech = build("additive", units=5, heads=1, query_dim=D)
    query, memory, mask = inputs(1)
    _, weights = mech(query, memory, mech.prepare(memory), mask)
    f64 = lambda t: np.asarray(t, np.float64)  # noqa: E731 - the reference in float64: only ours rounds at float32
    W = f64(mech.w_query.kernel)
    U, c = f64(mech.u_memory.kernel), f64(mech.u_memory.bias)
    v = f64(mech.v.kernel)[:, 0]
    q, m = f64(query), f64(memory)
    for b, n in enumerate(LENGTHS):
        scores = np.tanh((q[b] @ W)[:, None, :] + (m[b, :n] @ U + c)[None]) @ v  # [T,n]
        expected = np.exp(scores - scores.max(-1, keepdims=True))
        expected /= expected.sum(-1, keepdims=True)
        # float32 scores: 16-term products of N(0,1) inputs, tanh, a 5-term product: ~1e-6 on |score| <= 3
        np.testing.assert_allclose(weights.numpy()[b, 0, :, :n], expected, atol=1e-5)


def test_registry_errors_list_choices():
    with pytest.raises(UserError, match="choose one of: .*additive"):
        ATTENTION.get("bahdanaux")
    with pytest.raises(ValueError, match="already registered"):
        register("additive")(Attention)


def test_user_can_register_a_mechanism():
    @register("test-first-position")
    class FirstPosition(Attention):
        """Always attends to the first source position."""

        def score(self, query, keys):
            s = tf.shape(keys)[1]
            first = tf.one_hot(tf.zeros([tf.shape(query)[1]], tf.int32), s) * 50.0  # [T,S]
            return tf.broadcast_to(first, tf.stack([tf.shape(query)[0], tf.shape(query)[1], s]))[:, None]

    try:
        mech = build("test-first-position", units=4, heads=1, query_dim=D)
        query, memory, mask = inputs()
        context, weights = mech(query, memory, mech.prepare(memory), mask)
        np.testing.assert_allclose(weights.numpy()[:, 0, :, 0], 1.0, atol=1e-6)
        np.testing.assert_allclose(context.numpy(), np.repeat(memory.numpy()[:, :1], T, 1), atol=1e-5)
    finally:
        ATTENTION.unregister("test-first-position")
