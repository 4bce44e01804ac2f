"""nmt.steps: gradient accumulation is one big batch; strategies and precisions are checked by name."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from nmt.config import preset
from nmt.errors import UserError
from nmt.losses import smoothed_cross_entropy
from nmt.models import build_model
from nmt.steps import Updater, is_chief, make_strategy, set_precision, set_threads


def _model(seed=0, dtype="float32"):
    keras.utils.set_random_seed(seed)
    config = preset("tiny").override("model", family="transformer", dropout=0.0, attention_dropout=0.0, ffn_dropout=0.0)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(dtype)  # layers keep the policy they are built with
    try:
        model = build_model(config.model, 20, 20)
    finally:
        keras.config.set_dtype_policy(previous)
    model((tf.constant([[4, 3]]), tf.constant([[4, 3]])))
    return model


def _batch(rng, rows, width):
    lengths = rng.integers(2, width + 1, rows)
    src = np.zeros((rows, width), np.int32)
    tgt = np.zeros((rows, width + 1), np.int32)
    for i, n in enumerate(lengths):
        src[i, :n] = rng.integers(4, 20, n)
        tgt[i, : n + 1] = np.concatenate([[2], rng.integers(4, 20, n)])
    tgt_out = np.concatenate([tgt[:, 1:], np.zeros((rows, 1), np.int32)], 1)
    tgt_out[np.arange(rows), lengths] = 3  # EOS after each sentence
    return tf.constant(src), tf.constant(tgt), tf.constant(tgt_out)


def _updater(accumulate, clip, dtype="float32", parts=1):
    model = _model(dtype=dtype)
    optimizer = keras.optimizers.SGD(0.5, global_clipnorm=clip)  # SGD: the update is the gradient itself

    def loss_fn(src, tgt_in, tgt_out):  # training.smoothed_loss, in the model's dtype (it casts to float32)
        logits, _ = model.forward(src, tgt_in, training=True)
        labels = tf.reshape(tgt_out, [-1])
        loss = smoothed_cross_entropy(tf.reshape(logits, tf.stack([-1, tf.shape(logits)[-1]])), labels, 0.1)
        mask = tf.cast(tf.not_equal(labels, 0), loss.dtype)
        return tf.reduce_sum(loss * mask), tf.reduce_sum(mask)

    return model, Updater(model, optimizer, loss_fn, accumulate=accumulate, parts=parts)


@pytest.mark.slow  # 35 s per case
@pytest.mark.parametrize("clip", [None, 0.05])  # 0.05: clipping active, it must clip the summed gradient
def test_accumulated_batches_equal_one_big_batch(clip):
    # In float64, so that the only difference between the two paths is the order in which the same
    # gradient terms are summed: that moves a weight by ~eps64 (1.1e-16) x a few hundred summed terms
    # x the size of its update (<= 1.2 here: SGD lr 0.5, unclipped), i.e. < 1e-13 on any CPU (4e-16
    # seen). In float32 the same reordering moves the step of a weight whose gradient comes out of
    # cancellation by a relative 1e-2 (1.1% seen on an AMD EPYC), so no float32 tolerance set from one
    # machine's results holds on the next. A wrong accumulation (a batch missing or clipped alone, a
    # wrong token count; averaging instead of summing, which only the unclipped case can see since
    # clipping rescales the gradient anyway) changes the loss and moves weights by ~an update (median 5e-6).
    rng = np.random.default_rng(0)
    updates = [[_batch(rng, 3, 5), _batch(rng, 5, 5)] for _ in range(2)]  # different sizes and token counts
    big_model, big = _updater(1, clip, "float64")
    acc_model, acc = _updater(2, clip, "float64")
    assert big.plain and not acc.plain
    for parts in updates:
        joined = tuple(tf.concat([parts[0][k], parts[1][k]], 0) for k in range(3))
        loss_big, tokens_big = big.update([joined])
        loss_acc, tokens_acc = acc.update(parts)
        assert float(tokens_big) == float(tokens_acc) == float(tf.reduce_sum(tf.cast(joined[2] > 0, tf.float32)))
        # float64: eps64 x ~40 token losses ~ 5e-15
        np.testing.assert_allclose(float(loss_acc), float(loss_big), rtol=1e-12)
    moved = 0
    for a, b, w0 in zip(big_model.weights, acc_model.weights, _model(dtype="float64").weights):
        assert a.dtype == b.dtype == "float64"
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=0, atol=1e-10)  # float64 bound above, x1000 margin
        moved += not np.allclose(a.numpy(), w0.numpy())
    assert moved > len(big_model.weights) // 2  # the updates did change the model
    assert int(acc.optimizer.iterations.numpy()) == 2  # one step per update, not per batch


@pytest.mark.slow  # 30 s: two float64 models, three traced parts
def test_parallel_parts_make_the_update_of_the_whole_batch():
    # float64 for the reason given above: the parts change only the order of the summed terms. Three
    # parts of 5 sentences are 1 + 2 + 2; of 2 sentences one part is empty and must add nothing.
    rng = np.random.default_rng(1)
    batches = [_batch(rng, 5, 6), _batch(rng, 2, 4)]
    whole_model, whole = _updater(1, 0.05, "float64")
    split_model, split = _updater(1, 0.05, "float64", parts=3)
    for batch in batches:
        loss_whole, tokens_whole = whole.update([batch])
        loss_split, tokens_split = split.update([batch])
        assert float(tokens_split) == float(tokens_whole) == float(tf.reduce_sum(tf.cast(batch[2] > 0, tf.float32)))
        np.testing.assert_allclose(float(loss_split), float(loss_whole), rtol=1e-12)
    moved = 0
    for a, b, w0 in zip(whole_model.weights, split_model.weights, _model(dtype="float64").weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=0, atol=1e-10)
        moved += not np.allclose(a.numpy(), w0.numpy())
    assert moved > len(whole_model.weights) // 2
    with pytest.raises(UserError, match="--parallel-parts must be at least 1"):
        _updater(1, None, parts=0)


def test_set_threads_before_and_after_tensorflow_starts():
    import os
    import subprocess
    import sys

    code = ("from nmt.steps import set_threads; from nmt.translator import decode_streams; import tensorflow as tf; "
            "t = tf.config.threading; s = decode_streams(); "
            "print(s, set_threads(2), t.get_intra_op_parallelism_threads(), t.get_inter_op_parallelism_threads(), "
            "decode_streams())")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_NUM_")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=env).stdout.split()
    assert out == ["1", "True", "1", "2", "2"]  # translation decodes one batch per inter-op thread
    tf.constant(1.0) + 1.0  # this process has started TensorFlow: the threads stay, and it says so
    before = tf.config.threading.get_intra_op_parallelism_threads()
    assert set_threads(2) is (before == 1 or os.environ.get("TF_NUM_INTRAOP_THREADS") == "1")
    assert tf.config.threading.get_intra_op_parallelism_threads() == before


def test_update_wants_accumulate_batches():
    _, acc = _updater(2, None)
    with pytest.raises(ValueError, match="expected 2 batches"):
        acc.update([_batch(np.random.default_rng(0), 2, 3)])
    with pytest.raises(UserError, match="--accumulate must be at least 1"):
        _updater(0, None)


def test_strategy_and_precision_names(monkeypatch):
    assert make_strategy("none") is None and is_chief(None)
    with pytest.raises(UserError, match="choose one of: none, mirrored, multiworker"):
        make_strategy("horovod")
    with pytest.raises(UserError, match="choose float16 or bfloat16"):
        set_precision("int8")
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {}}))
    with pytest.raises(UserError, match="TF_CONFIG must be JSON like"):
        make_strategy("multiworker")
