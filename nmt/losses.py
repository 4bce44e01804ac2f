"""The training loss: masked cross-entropy with label smoothing, with a hand-written gradient."""

from __future__ import annotations

import tensorflow as tf


def smoothed_cross_entropy(logits, labels, smoothing: float):
    """Per-row cross-entropy against the label-smoothed target, logits [N,V], labels [N] -> [N].

    ``loss = logsumexp(z) - (1-e) z_y - e mean_v(z_v)`` computed from sparse labels, with the
    gradient ``softmax(z) - e/V - (1-e) onehot(y)`` written by hand from the exponentials the
    forward pass already holds. TensorFlow's fused kernel would need the dense [N,V] target (a
    one-hot tensor as large as the logits) and recompute the softmax.
    """
    vocab = tf.cast(tf.shape(logits)[-1], logits.dtype)

    @tf.custom_gradient
    def xent(z):
        top = tf.reduce_max(z, axis=-1, keepdims=True)  # [N,1]
        exp = tf.exp(z - top)  # [N,V]
        total = tf.reduce_sum(exp, axis=-1, keepdims=True)  # [N,1]
        picked = tf.gather(z, labels[:, None], batch_dims=1)  # [N,1]
        loss = top + tf.math.log(total) - (1.0 - smoothing) * picked - smoothing * tf.reduce_mean(z, -1, keepdims=True)

        def grad(upstream):  # [N]
            up = upstream[:, None]  # [N,1]
            dz = exp * (up / total) - up * (smoothing / vocab)  # [N,V]
            where = tf.stack([tf.range(tf.shape(labels)[0]), labels], axis=1)  # [N,2]
            return tf.tensor_scatter_nd_sub(dz, where, upstream * (1.0 - smoothing))  # [N,V]

        return loss[:, 0], grad  # [N]

    return xent(logits)


def smoothed_loss(logits, labels, smoothing: float):
    """Masked cross-entropy with label smoothing. logits [B,T,V], labels [B,T] (0 = padding).

    Returns (sum of token losses, number of tokens). The target distribution puts ``1 - e + e/V``
    on the label and ``e/V`` elsewhere, so a token's loss is ``(1-e) * nll + e * mean_v(-log p_v)``
    (see :func:`smoothed_cross_entropy` for how it is computed).
    """
    logits = tf.cast(logits, tf.float32)  # [B,T,V]
    flat = tf.reshape(logits, tf.stack([-1, tf.shape(logits)[-1]]))  # [B*T,V]
    labels = tf.reshape(labels, [-1])  # [B*T]
    loss = smoothed_cross_entropy(flat, labels, float(smoothing))  # [B*T]
    mask = tf.cast(tf.not_equal(labels, 0), tf.float32)  # [B*T]
    return tf.reduce_sum(loss * mask), tf.reduce_sum(mask)
