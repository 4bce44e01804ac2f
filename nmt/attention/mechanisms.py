"""The built-in attention mechanisms: none, additive, dot, general, concat, scaled-dot, multi-head.

Each is a few lines over :class:`nmt.attention.base.Attention`; see that module for shapes.
"""

from __future__ import annotations

import math

import tensorflow as tf

from nmt.attention.base import Attention, register
from nmt.layers import fused


@register("none")
class NoAttention(Attention):
    """No attention: the plain encoder-decoder (Sutskever et al. 2014; Cho et al. 2014).

    The decoder sees the source only through the encoder's final state. The context is empty
    ([B,T,0]); the weights are uniform over real tokens, so alignment tools still get valid
    distributions (that carry no information).
    """

    def context_dim(self, memory_dim):
        return 0

    def score(self, query, keys):
        t = tf.shape(query)[1]
        return tf.zeros(tf.stack([tf.shape(keys)[0], 1, t, tf.shape(keys)[1]]), query.dtype)  # [B,1,T,S]

    def call(self, query, memory, keys, mask):
        _, weights = super().call(query, memory, keys, mask)  # [B,1,T,S]
        empty = tf.zeros(tf.stack([tf.shape(query)[0], tf.shape(query)[1], 0]), query.dtype)  # [B,T,0]
        return empty, weights


@register("additive")
class AdditiveAttention(Attention):
    """Bahdanau et al. 2015: ``score(s, h) = vᵀ tanh(W s + U h)``; ``U h`` is computed once per sentence."""

    def __init__(self, units=256, **kwargs):
        super().__init__(units, **kwargs)
        self.w_query = fused.Dense(units, use_bias=False, name="W")
        self.u_memory = fused.Dense(units, use_bias=True, name="U")
        self.v = fused.Dense(1, use_bias=False, name="v")

    def prepare(self, memory):
        return self.u_memory(memory)  # [B,S,A]

    def score(self, query, keys):
        hidden = tf.tanh(self.w_query(query)[:, :, None, :] + keys[:, None, :, :])  # [B,T,S,A]
        return self.v(hidden)[..., 0][:, None]  # [B,1,T,S]


@register("concat")
class ConcatAttention(AdditiveAttention):
    """Luong et al. 2015 "concat": ``vᵀ tanh(W_a [s; h])``.

    Splitting ``W_a`` into query and memory halves makes it ``vᵀ tanh(W s + U h)``: the same family
    as Bahdanau's additive score; Luong pairs it with the current (not previous) decoder state,
    which is the decoder's ``placement``, not the score. Kept as its own name for comparisons.
    """


@register("dot")
class DotAttention(Attention):
    """Luong et al. 2015 "dot": ``score(s, h) = sᵀ h`` (needs query and memory of equal width)."""

    def score(self, query, keys):
        return tf.matmul(query, keys, transpose_b=True)[:, None]  # [B,1,T,S]


@register("general")
class GeneralAttention(Attention):
    """Luong et al. 2015 "general": ``score(s, h) = sᵀ W h``; ``W h`` is computed once per sentence."""

    def __init__(self, units=256, query_dim=None, **kwargs):
        super().__init__(units, query_dim=query_dim, **kwargs)
        self.w = fused.Dense(query_dim or units, use_bias=False, name="W")

    def prepare(self, memory):
        return self.w(memory)  # [B,S,Dq]

    def score(self, query, keys):
        return tf.matmul(query, keys, transpose_b=True)[:, None]  # [B,1,T,S]


@register("scaled-dot")
class ScaledDotAttention(Attention):
    """Vaswani et al. 2017, one head: ``softmax((W_q s)ᵀ (W_k h) / sqrt(d))`` averaging the memory."""

    def __init__(self, units=256, **kwargs):
        super().__init__(units, **kwargs)
        self.w_query = fused.Dense(units, use_bias=False, name="W_q")
        self.w_key = fused.Dense(units, use_bias=False, name="W_k")

    def prepare(self, memory):
        return self.w_key(memory)  # [B,S,A]

    def score(self, query, keys):
        q = self.w_query(query) / math.sqrt(self.units)  # [B,T,A]
        return tf.matmul(q, keys, transpose_b=True)[:, None]  # [B,1,T,S]


@register("multi-head")
class MultiHeadAttention(Attention):
    """Vaswani et al. 2017: H scaled dot-product heads over projected keys and values, merged by W_o."""

    def __init__(self, units=256, heads=4, **kwargs):
        super().__init__(units, heads=heads, **kwargs)
        if units % heads:
            raise ValueError(f"attention units {units} must be divisible by heads {heads}")
        self.heads = heads
        self.depth = units // heads
        self.w_query = fused.Dense(units, use_bias=False, name="W_q")
        self.w_key = fused.Dense(units, use_bias=False, name="W_k")
        self.w_value = fused.Dense(units, use_bias=False, name="W_v")
        self.w_out = fused.Dense(units, use_bias=False, name="W_o")

    def context_dim(self, memory_dim):
        return self.units

    def _split(self, x):
        b, n = tf.shape(x)[0], tf.shape(x)[1]
        x = tf.reshape(x, tf.stack([b, n, self.heads, self.depth]))  # [B,N,H,d]
        return tf.transpose(x, [0, 2, 1, 3])  # [B,H,N,d]

    def prepare(self, memory):
        return self._split(self.w_key(memory))  # [B,H,S,d]

    def score(self, query, keys):
        q = self._split(self.w_query(query)) / math.sqrt(self.depth)  # [B,H,T,d]
        return tf.matmul(q, keys, transpose_b=True)  # [B,H,T,S]

    def values(self, memory):
        return self._split(self.w_value(memory))  # [B,H,S,d]

    def combine(self, context):
        b, t = tf.shape(context)[0], tf.shape(context)[2]
        merged = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), tf.stack([b, t, self.units]))  # [B,T,A]
        return self.w_out(merged)  # [B,T,A]

    def get_config(self):
        return {**super().get_config(), "heads": self.heads}
