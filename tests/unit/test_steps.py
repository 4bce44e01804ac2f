"""nmt.steps: gradient accumulation is one big batch; strategies and precisions are checked by name."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from nmt.config import preset
from nmt.errors import UserError
from nmt.models import build_model
from nmt.steps import Updater, is_chief, make_strategy, set_precision
from nmt.training import smoothed_loss


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    config = preset("tiny").override("model", family="transformer", dropout=0.0, attention_dropout=0.0, ffn_dropout=0.0)
    model = build_model(config.model, 20, 20)
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


def _updater(accumulate, clip):
    model = _model()
    optimizer = keras.optimizers.SGD(0.5, global_clipnorm=clip)  # SGD: the update is the gradient itself

    def loss_fn(src, tgt_in, tgt_out):
        logits, _ = model.forward(src, tgt_in, training=True)
        return smoothed_loss(logits, tgt_out, 0.1)

    return model, Updater(model, optimizer, loss_fn, accumulate=accumulate)


@pytest.mark.parametrize("clip", [pytest.param(None, marks=pytest.mark.slow), 0.05])  # 0.05: clipping active, it must clip the summed gradient
def test_accumulated_batches_equal_one_big_batch(clip):
    rng = np.random.default_rng(0)
    updates = [[_batch(rng, 3, 5), _batch(rng, 5, 5)] for _ in range(2)]  # different sizes and token counts
    big_model, big = _updater(1, clip)
    acc_model, acc = _updater(2, clip)
    assert big.plain and not acc.plain
    for parts in updates:
        joined = tuple(tf.concat([parts[0][k], parts[1][k]], 0) for k in range(3))
        loss_big, tokens_big = big.update([joined])
        loss_acc, tokens_acc = acc.update(parts)
        assert float(tokens_big) == float(tokens_acc) == float(tf.reduce_sum(tf.cast(joined[2] > 0, tf.float32)))
        np.testing.assert_allclose(float(loss_acc), float(loss_big), rtol=1e-5)
    moved = 0
    for a, b, w0 in zip(big_model.weights, acc_model.weights, _model().weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-6)
        moved += not np.allclose(a.numpy(), w0.numpy())
    assert moved > len(big_model.weights) // 2  # the updates did change the model
    assert int(acc.optimizer.iterations.numpy()) == 2  # one step per update, not per batch


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
