"""The fast paths equal what they replace: dense, layer norm, dropout, output projection, loss, Adam."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from nmt import optimizers
from nmt.layers import fused
from nmt.losses import smoothed_loss


def _grads(fn, *tensors):
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        out = fn(*tensors)
        loss = tf.reduce_sum(out * tf.random.stateless_normal(tf.shape(out), [1, 2]))
    return out, tape.gradient(loss, tensors)


def test_layer_norm_forward_and_gradients_equal_keras():
    x = tf.random.stateless_normal([3, 5, 16], [0, 1]) * 3.0 + 1.0
    ours, theirs = fused.LayerNormalization(epsilon=1e-6), keras.layers.LayerNormalization(epsilon=1e-6)
    ours.build(x.shape), theirs.build(x.shape)
    for layer in (ours, theirs):  # same non-trivial weights in both
        layer.gamma.assign(np.linspace(0.5, 1.5, 16, dtype=np.float32))
        layer.beta.assign(np.linspace(-1, 1, 16, dtype=np.float32))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        outs = [layer(x) for layer in (ours, theirs)]
        losses = [tf.reduce_sum(o * tf.random.stateless_normal(o.shape, [3, 4])) for o in outs]
    np.testing.assert_allclose(outs[0], outs[1], atol=1e-5)
    for a, b in zip(tape.gradient(losses[0], [x, ours.gamma, ours.beta]),
                    tape.gradient(losses[1], [x, theirs.gamma, theirs.beta])):
        np.testing.assert_allclose(a, b, atol=1e-4)
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]


@pytest.mark.parametrize("shape", [[3, 5, 16], [2, 3, 4, 16], [7, 16], [0, 4, 16]])
@pytest.mark.parametrize("activation", [None, "relu"])
def test_dense_forward_and_gradients_equal_keras_at_any_rank(shape, activation):
    """The flattening Dense is Keras' Dense for every input rank (empty batches too), with the same
    weights (names, shapes) and static output shape; gradients for input, kernel and bias agree."""
    x = tf.random.stateless_normal(shape, [5, 6])
    ours, theirs = fused.Dense(8, activation=activation), keras.layers.Dense(8, activation=activation)
    ours.build(x.shape), theirs.build(x.shape)
    for a, b in zip(ours.weights, theirs.weights):
        a.assign(tf.random.stateless_normal(a.shape, [7, 8]))
        b.assign(a)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        outs = [layer(x) for layer in (ours, theirs)]
        losses = [tf.reduce_sum(o * tf.random.stateless_normal(tf.shape(o), [3, 4])) for o in outs]
    assert outs[0].shape == outs[1].shape == [*shape[:-1], 8]
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-6, atol=1e-6)  # the same product, float32 rounding
    for a, b in zip(tape.gradient(losses[0], [x, *ours.trainable_weights]),
                    tape.gradient(losses[1], [x, *theirs.trainable_weights])):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    assert [(w.name, w.shape) for w in ours.weights] == [(w.name, w.shape) for w in theirs.weights]


def test_dense_keeps_unknown_dimensions_unknown_in_a_graph():
    """Traced with unknown batch and length, the output's static shape keeps them unknown and the
    last axis known, and the graph uses no tensordot (no Prod of a dynamic shape)."""
    layer = fused.Dense(8)
    fn = tf.function(layer, input_signature=[tf.TensorSpec([None, None, 16], tf.float32)])
    graph = fn.get_concrete_function().graph
    assert graph.outputs[0].shape.as_list() == [None, None, 8]
    assert "Prod" not in {op.type for op in graph.get_operations()}
    np.testing.assert_allclose(fn(tf.ones([2, 3, 16])), layer(tf.ones([2, 3, 16])), rtol=1e-6)


def test_dropout_rate_scale_determinism_and_rate_override():
    x = tf.ones([400, 500])
    layer = fused.Dropout(0.1, seed=7)
    y = layer(x, training=True).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.9) < 0.005  # 200k draws: 0.005 is ~7 standard deviations
    np.testing.assert_allclose(y[kept], 65536 / (65536 - fused.dropout_threshold(0.1)), rtol=1e-6)
    assert abs(y.mean() - 1.0) < 0.01  # inverted dropout keeps the expectation
    assert not np.array_equal(kept, layer(x, training=True).numpy() != 0)  # the seed generator advances
    again = fused.Dropout(0.1, seed=7)
    np.testing.assert_array_equal(again(x, training=True).numpy(), y)  # same seed, same mask
    assert abs((layer(x, training=True, rate=0.5).numpy() != 0).mean() - 0.5) < 0.01
    np.testing.assert_array_equal(layer(x, training=False), x)
    np.testing.assert_array_equal(layer(x, training=True, rate=0.0), x)
    odd = layer(tf.ones([3, 7]), training=True)  # an odd number of elements (half a random word unused)
    assert odd.shape == (3, 7)


def test_dropout_gradient_is_the_same_mask():
    x = tf.random.stateless_normal([64, 32], [5, 6])
    layer = fused.Dropout(0.3, seed=1)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
    grad = tape.gradient(y, x).numpy()
    scale = 65536 / (65536 - fused.dropout_threshold(0.3))
    np.testing.assert_allclose(grad, np.where(y.numpy() != 0, scale, 0.0), rtol=1e-6)


@pytest.mark.parametrize("shape", [[5], [2, 5], [2, 3, 5], [2, 1, 3, 5], [0, 3, 5]])
def test_on_rows_equals_tensordot_at_any_rank_and_keeps_the_leading_shape(shape):
    x = tf.random.stateless_normal(shape, [5, 5])
    w = tf.random.stateless_normal([5, 7], [6, 6])
    out = fused.on_rows(lambda m: tf.matmul(m, w), x)
    assert out.shape == (*shape[:-1], 7)
    # float32 sums of 5 products of O(1) values: another CPU's kernel may add them in another order
    np.testing.assert_allclose(out, tf.tensordot(x, w, [[-1], [0]]), rtol=1e-5, atol=1e-5)


def test_on_rows_traced_with_unknown_widths_keeps_them_unknown():
    """The result's width comes from the function's output when it is not known when tracing."""
    fn = tf.function(lambda x, w: fused.on_rows(lambda m: tf.matmul(m, w), x),
                     input_signature=[tf.TensorSpec([None, 3, None], tf.float32), tf.TensorSpec([None, None])])
    graph = fn.get_concrete_function().graph
    assert graph.outputs[0].shape.as_list() == [None, 3, None]
    out = fn(tf.ones([2, 3, 4]), tf.ones([4, 6]))
    assert out.shape == (2, 3, 6) and np.allclose(out, 4.0)


def test_tied_logits_equal_tensordot_with_gradients():
    x = tf.random.stateless_normal([2, 3, 8], [1, 1])
    emb = tf.random.stateless_normal([11, 8], [2, 2])
    bias = tf.random.stateless_normal([11], [3, 3])
    ours, g_ours = _grads(fused.tied_logits, x, emb, bias)
    theirs, g_theirs = _grads(lambda x, e, b: tf.tensordot(x, e, [[-1], [1]]) + b, x, emb, bias)
    assert ours.shape == (2, 3, 11)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    for a, b in zip(g_ours, g_theirs):
        np.testing.assert_allclose(a, b, atol=1e-4)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_smoothed_loss_and_gradient_equal_dense_cross_entropy(smoothing):
    logits = tf.random.stateless_normal([2, 5, 13], [4, 4]) * 4.0
    labels = tf.constant([[1, 5, 12, 0, 0], [3, 3, 7, 2, 0]])

    def reference(z):
        off = smoothing / 13
        target = tf.one_hot(labels, 13, on_value=1 - smoothing + off, off_value=off)
        loss = tf.nn.softmax_cross_entropy_with_logits(labels=target, logits=z)
        mask = tf.cast(labels > 0, tf.float32)
        return tf.reduce_sum(loss * mask), tf.reduce_sum(mask)

    def loss_and_gradient(fn):
        with tf.GradientTape() as tape:
            tape.watch(logits)
            total, n = fn(logits)
        return float(total), float(n), tape.gradient(total, logits)

    ours_total, ours_n, ours_grad = loss_and_gradient(lambda z: smoothed_loss(z, labels, smoothing))
    ref_total, _, ref_grad = loss_and_gradient(reference)
    assert ours_n == 7.0
    np.testing.assert_allclose(ours_total, ref_total, rtol=1e-5)
    np.testing.assert_allclose(ours_grad, ref_grad, atol=1e-5)
    assert np.all(ours_grad.numpy()[labels.numpy() == 0] == 0)  # padding gets no gradient


@pytest.mark.parametrize("dtype, rtol, atol", [
    # float64: each of the 5 updates rounds a few times at eps64 (1.1e-16) on |w| <= 2 and steps
    # <= lr 0.1 x |m/sqrt(v)| ~ 3: < 1e-14, so 1e-12 only admits reordering, not a different formula.
    ("float64", 1e-12, 1e-13),
    # float32: the same few roundings at eps32 (1.2e-7) per update (TensorFlow's kernel may fuse or
    # reorder them differently from Keras' separate ops on another CPU): 5 x 1.2e-7 x (2 + 0.3) ~ 1.4e-6.
    ("float32", 1e-5, 2e-6),
])
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_fused_adam_equals_keras(name, dtype, rtol, atol):
    """Five steps on a dense and an embedding (sparse-gradient) variable, with clipping and a schedule.
    beta_1, beta_2 and epsilon are exact in float32 (0.875, 1 - 2^-6, 2^-23): with 0.9 or 0.98 Keras
    computes 1 - beta in Python and rounds it, the fused kernel rounds beta first and subtracts in the
    variable's dtype, and even in float64 Keras' bias correction uses beta rounded to float32. Those
    roundings (1e-6 relative in 1 - beta_2) are not what this test is about; the formula is."""
    def run(cls):
        keras.utils.set_random_seed(0)
        dense = keras.Variable(np.linspace(-1, 1, 12, dtype=dtype).reshape(3, 4))
        table = keras.Variable(np.linspace(1, 2, 10, dtype=dtype).reshape(5, 2))
        assert dense.dtype == table.dtype == dtype
        kwargs = {"weight_decay": 0.01} if name == "AdamW" else {}
        opt = cls(keras.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5), beta_1=0.875, beta_2=1 - 2**-6,
                  epsilon=2**-23, global_clipnorm=1.0, **kwargs)
        for step in range(5):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(tf.sin(dense * (step + 1.0))) + tf.reduce_sum(tf.gather(table, [1, 3, 3]) ** 2)
            grads = tape.gradient(loss, [dense, table])
            if step == 0:
                assert isinstance(grads[1], tf.IndexedSlices)
            opt.apply_gradients(zip(grads, [dense, table]))
        return [dense.numpy(), table.numpy()] + [v.numpy() for v in opt.variables]

    for a, b in zip(run(getattr(optimizers, name)), run(getattr(keras.optimizers, name))):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    # ... and the update really is the fused kernel, not Keras' own code path.
    var = keras.Variable(np.ones([3], np.float32))
    opt = getattr(optimizers, name)(0.1)
    graph = tf.function(lambda: opt.apply_gradients([(tf.ones([3]), var)])).get_concrete_function().graph
    ops = {op.type for op in graph.get_operations()} | {op.type for f in graph._functions.values()
                                                          for op in f.graph.get_operations()}
    assert "ResourceApplyAdam" in ops
