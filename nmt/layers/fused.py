"""Drop-in replacements for Keras' Dense, Dropout and LayerNormalization that run faster on CPU.

Both subclass the Keras layer and keep its weights and state variables (names and shapes), so a
model directory saved with either version loads into the other. Only ``call`` changes:

* :class:`Dropout` draws 16 random bits per element instead of a float32 uniform: one 32-bit Philox
  word covers two elements and the keep test is an integer compare. The rate is rounded to a
  multiple of 1/65536 (0.1 -> 0.100006) and kept elements are scaled by ``1 / (1 - rounded rate)``,
  so the output's expectation is still the input. Half the random words and no float conversion per
  mask (a Transformer training step draws 32 masks).
* :class:`LayerNormalization` (last axis, scale and centre) computes the forward pass directly and
  its gradient in closed form (Ba et al. 2016) instead of differentiating through ``tf.nn.moments``:
  ``dx = rstd * (g - mean(g) - xhat * mean(g * xhat))`` with ``g = dy * gamma``, fewer passes over the
  activations than the automatic gradient.

* :class:`Dense` applied to [..., D] inputs of rank 3 or more multiplies them as one [N, D] matrix
  (a reshape either side) instead of Keras' ``tf.tensordot``, whose dynamic-shape path adds a
  dozen shape ops (Shape, GatherV2, Prod, Pack, ConcatV2, an identity Transpose) to every call: most
  of a decoding step's graph is such small ops, and each costs the executor time.

Outside training (or with rate 0) Dropout is the identity, as in Keras. Any other LayerNormalization
configuration (several axes, ``rms_scaling``, no scale or no centre) falls back to Keras' own call.
"""

from __future__ import annotations

import keras
import tensorflow as tf

_BITS = 16
_LEVELS = 1 << _BITS


def dropout_threshold(rate: float) -> int:
    """The integer threshold of a 16-bit draw: an element is dropped when its draw is below it."""
    return int(round(rate * _LEVELS))


def random_bits_dropout(x: tf.Tensor, rate: float, seed: tf.Tensor) -> tf.Tensor:
    """Inverted dropout of x with 16 random bits per element; ``seed`` int32 [2] (stateless)."""
    threshold = dropout_threshold(rate)
    if threshold <= 0:
        return x
    if threshold >= _LEVELS:
        return tf.zeros_like(x)
    n = tf.size(x)  # []
    words = tf.random.stateless_uniform(tf.reshape((n + 1) // 2, [1]), seed, minval=None, maxval=None,
                                        dtype=tf.uint32)  # [ceil(n/2)]
    bits = tf.reshape(tf.bitcast(words, tf.uint16), [-1])[:n]  # [n]
    keep = tf.reshape(bits >= threshold, tf.shape(x))  # same shape as x
    scale = tf.cast(_LEVELS / (_LEVELS - threshold), x.dtype)
    return tf.where(keep, x * scale, tf.constant(0, x.dtype))


class Dropout(keras.layers.Dropout):
    """``keras.layers.Dropout`` (same seed generator state) with a 16-bit random mask; see the module.

    ``rate`` at call time overrides the layer's rate, so one layer (one seed generator, no new
    weights in a model directory) can serve several dropout sites with different rates.
    """

    def call(self, inputs, training=False, rate=None):
        rate = self.rate if rate is None else rate
        if not training or rate <= 0:
            return inputs
        if self.noise_shape is not None:
            return keras.random.dropout(inputs, rate, noise_shape=self.noise_shape, seed=self.seed_generator)
        seed = tf.cast(tf.math.floormod(self.seed_generator.next(), tf.int32.max - 1), tf.int32)  # [2]
        return random_bits_dropout(inputs, rate, seed)


class Dense(keras.layers.Dense):
    """``keras.layers.Dense`` (same weights) that multiplies [..., D] inputs as one [N, D] matrix; see the module.

    LoRA and quantized kernels, and inputs of rank 2 or less, take Keras' own call."""

    def call(self, inputs, training=None):
        rank = inputs.shape.rank
        if rank is None or rank <= 2 or self.lora_enabled or self.quantization_mode is not None:
            return super().call(inputs, training=training)
        return on_rows(lambda flat: super(Dense, self).call(flat, training=training), inputs)  # [...,units]


def on_rows(fn, x: tf.Tensor) -> tf.Tensor:
    """``fn`` of x [...,D] as one [N,D] matrix of rows, its [N,U] result given x's leading shape back:
    [...,U], the static shape kept (a known U costs no shape op)."""
    shape = tf.shape(x)  # [rank]
    out = fn(tf.reshape(x, tf.stack([-1, shape[-1]])))  # [N,U]
    units = out.shape[-1]
    tail = [units] if units is not None else tf.shape(out)[-1:]
    restored = tf.reshape(out, tf.concat([shape[:-1], tail], 0))  # [...,U]
    restored.set_shape(x.shape[:-1].concatenate([units]))
    return restored


def _layer_norm(x, gamma, beta, epsilon: float):
    """Layer normalisation over the last axis with a closed-form gradient. x [..., D]; gamma, beta [D]."""

    @tf.custom_gradient
    def norm(x, gamma, beta):
        mean = tf.reduce_mean(x, axis=-1, keepdims=True)  # [...,1]
        centred = x - mean  # [...,D]
        rstd = tf.math.rsqrt(tf.reduce_mean(tf.square(centred), axis=-1, keepdims=True) + epsilon)  # [...,1]
        xhat = centred * rstd  # [...,D]

        def grad(dy):
            g = dy * gamma  # [...,D]
            dx = rstd * (g - tf.reduce_mean(g, axis=-1, keepdims=True)
                         - xhat * tf.reduce_mean(g * xhat, axis=-1, keepdims=True))  # [...,D]
            rows = tf.range(tf.rank(dy) - 1)
            return dx, tf.reduce_sum(dy * xhat, axis=rows), tf.reduce_sum(dy, axis=rows)

        return xhat * gamma + beta, grad

    return norm(x, gamma, beta)


class LayerNormalization(keras.layers.LayerNormalization):
    """``keras.layers.LayerNormalization`` (same weights) with a closed-form gradient; see the module."""

    def call(self, inputs):
        axis = self.axis if isinstance(self.axis, int) else (self.axis[0] if len(self.axis) == 1 else None)
        simple = (axis in (-1, len(inputs.shape) - 1) and self.scale and self.center
                  and not getattr(self, "rms_scaling", False) and inputs.dtype == tf.float32)
        if not simple:
            return super().call(inputs)
        return _layer_norm(inputs, tf.convert_to_tensor(self.gamma), tf.convert_to_tensor(self.beta), self.epsilon)


def tied_logits(x: tf.Tensor, embeddings: tf.Tensor, bias: tf.Tensor) -> tf.Tensor:
    """Output projection through a [V,D] embedding matrix: x [...,D] -> ``x E^T + b`` [...,V].

    One 2-D ``matmul`` with ``transpose_b`` and a ``bias_add``: the gradients are then plain products
    (``dy E`` and ``dy^T x``) and a column-sum kernel. ``tf.tensordot`` against ``E`` instead
    transposes E to [D,V], so its input gradient is a transposed-operand product half as fast on
    this CPU, its weight gradient is transposed back, and a broadcast ``+ b`` sums its gradient
    with a generic reduction (profiled: the slowest part of the output layer's backward pass).
    """
    return on_rows(lambda flat: tf.nn.bias_add(tf.matmul(flat, embeddings, transpose_b=True), bias), x)  # [...,V]
