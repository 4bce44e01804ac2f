"""The attention contract shared by every mechanism.

A mechanism scores a query against every memory position, masks padding, normalises with a
softmax and returns the weighted sum of the memory (the context)::

    keys = mech.prepare(memory)                              # once per sentence (e.g. U h)
    context, weights = mech(query, memory, keys, mask)       # any number of query steps at once

Shapes: query [B,T,Dq], memory [B,S,Dm], mask [B,S] bool (True on real tokens),
context [B,T,mech.context_dim(Dm)], weights [B,H,T,S] (H = ``mech.heads``). Weights on padded
positions are exactly 0 and every row sums to 1.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from nmt.registry import Registry

ATTENTION: Registry[Attention] = Registry("attention mechanism", "--attention")
register = ATTENTION.register

NEG_INF = -1e9  # exp(NEG_INF - max) underflows to exactly 0 in float32


class Attention(keras.layers.Layer):
    """Base class. Subclasses implement :meth:`score` (and optionally :meth:`prepare`)."""

    heads = 1

    def __init__(self, units: int = 256, heads: int = 1, query_dim: int | None = None, options=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units  # width of the mechanism's projections, where it has any
        self.query_dim = query_dim  # width of the decoder state that queries the memory
        self.options = options  # its own options dataclass, when it was registered with one

    def context_dim(self, memory_dim: int) -> int:
        return memory_dim

    def prepare(self, memory: tf.Tensor) -> tf.Tensor:
        """Per-sentence precomputation over the memory [B,S,Dm]; computed once, reused every step."""
        return memory

    def score(self, query: tf.Tensor, keys: tf.Tensor) -> tf.Tensor:
        """Unnormalised scores [B,H,T,S] of query [B,T,Dq] against prepared keys."""
        raise NotImplementedError

    def values(self, memory: tf.Tensor) -> tf.Tensor:
        """What the weights average: [B,H,S,Dv] (default: the memory itself, one head)."""
        return memory[:, None]  # [B,1,S,Dm]

    def combine(self, context: tf.Tensor) -> tf.Tensor:
        """Merge heads: [B,H,T,Dv] -> [B,T,Dc]."""
        return context[:, 0]  # [B,T,Dm]

    def call(self, query, memory, keys, mask):
        scores = self.score(query, keys)  # [B,H,T,S]
        weights = masked_softmax(scores, mask)  # [B,H,T,S]
        context = tf.matmul(weights, self.values(memory))  # [B,H,T,Dv]
        return self.combine(context), weights  # [B,T,Dc], [B,H,T,S]

    def get_config(self):
        return {**super().get_config(), "units": self.units, "query_dim": self.query_dim}


def masked_softmax(scores: tf.Tensor, mask: tf.Tensor | None) -> tf.Tensor:
    """Softmax over the last axis of scores [B,H,T,S]; masked keys get exactly 0.

    ``mask`` is [B,S] (source padding), any bool tensor broadcastable to the scores (padding
    [B,1,1,S], causal [1,1,T,T]), or None (every key visible).
    """
    if mask is None:
        return tf.nn.softmax(scores, axis=-1)  # [B,H,T,S]
    if mask.shape.rank == 2:
        mask = mask[:, None, None, :]  # [B,1,1,S]
    neg = max(NEG_INF, float(scores.dtype.min))  # float16 (mixed precision) would round -1e9 to -inf
    scores = tf.where(mask, scores, tf.cast(neg, scores.dtype))  # [B,H,T,S]
    weights = tf.nn.softmax(scores, axis=-1)  # [B,H,T,S]
    return weights * tf.cast(mask, weights.dtype)  # [B,H,T,S] (exact zeros even for all-masked rows)
