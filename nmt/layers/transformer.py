"""Transformer building blocks (Vaswani et al. 2017, "Attention Is All You Need").

Position encodings (sinusoidal or learned), multi-head scaled dot-product attention that returns
its weights and exposes its key/value projections (so a decoder can cache them), and the encoder
and decoder layers, each with pre-layer-norm (the default, Wang et al. 2019) or the paper's
post-layer-norm residual connections.

Shapes: B batch, T query length, S key length, D model width, H heads, Dh = D / H head width,
F feed-forward width. Masks are bool, True where attention is allowed, broadcastable to the
scores [B,H,T,S]; a masked key gets exactly 0 weight.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from nmt.attention.base import masked_softmax
from nmt.layers import fused

LAYER_NORM_EPSILON = 1e-6


def sinusoidal_encoding(positions: tf.Tensor, d_model: int) -> tf.Tensor:
    """Fixed encodings of Vaswani et al. 2017 (section 3.5): positions [...] int -> [..., D] float32.

    ``sin(p / 10000^(2i/D))`` in the first half of the width and ``cos`` of the same angles in the
    second half (a fixed permutation of the paper's interleaving). Computed per position, so one
    decoding step gets exactly the row the whole-sequence pass gets.
    """
    half = d_model // 2
    inv_freq = tf.constant(np.power(10000.0, -2.0 * np.arange(half) / d_model), tf.float32)  # [D/2]
    angles = tf.cast(positions, tf.float32)[..., None] * inv_freq  # [...,D/2]
    return tf.concat([tf.sin(angles), tf.cos(angles)], axis=-1)  # [...,D]


class PositionEncoding(keras.layers.Layer):
    """Absolute position information added to the (scaled) token embeddings.

    ``kind="sinusoidal"``: the fixed encodings of Vaswani et al. 2017 (no weights, any length).
    ``kind="learned"``: a trained table of ``max_positions`` rows, N(0, D^-0.5) as in fairseq;
    positions past the table reuse its last row.

    Call arguments: positions [...] int32. Returns [..., D].
    """

    def __init__(self, kind: str, d_model: int, max_positions: int, **kwargs):
        super().__init__(**kwargs)
        self.kind, self.d_model, self.max_positions = kind, d_model, max_positions
        self.table = None
        if kind == "learned":
            init = keras.initializers.RandomNormal(stddev=d_model ** -0.5)
            self.table = keras.layers.Embedding(max_positions, d_model, embeddings_initializer=init, name="table")

    def call(self, positions):
        if self.table is None:
            return sinusoidal_encoding(positions, self.d_model)  # [...,D]
        return self.table(tf.minimum(positions, self.max_positions - 1))  # [...,D]


def _fused_glorot(parts: int):
    """Glorot-uniform for a [D, parts*D] kernel that initialises each [D,D] block as if it stood alone.

    Keras' Glorot would average the fan over D and parts*D and draw every block smaller than the
    separate projections it replaces.
    """
    return keras.initializers.VarianceScaling(scale=(1 + parts) / 2, mode="fan_avg", distribution="uniform")


class MultiHeadAttention(keras.layers.Layer):
    """Multi-head scaled dot-product attention (Vaswani et al. 2017, section 3.2) returning its weights.

    ``self_attention=True``: one fused Dense(3D) projects queries, keys and values of the same input
    (``project_qkv``). Otherwise (cross-attention) a Dense(D) projects queries and a fused Dense(2D)
    the keys and values of the memory (``project_kv``), which a decoder computes once per sentence.
    Fusing turns three [N,D]x[D,D] matrix products into one wider product and one head transpose.
    Call arguments: queries [B,H,T,Dh] (already projected), keys and values [B,H,S,Dh], ``key_mask``
    bool broadcastable to [B,H,T,S] or None. Returns output [B,T,D] and weights [B,H,T,S] (before
    attention dropout: rows sum to 1 over allowed keys, exactly 0 on masked ones).
    """

    def __init__(self, d_model: int, heads: int, dropout: float = 0.0, self_attention: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.d_model, self.heads, self.head_dim = d_model, heads, d_model // heads
        if self_attention:
            self.qkv = fused.Dense(3 * d_model, kernel_initializer=_fused_glorot(3), name="qkv")
        else:
            self.query = fused.Dense(d_model, name="query")
            self.kv = fused.Dense(2 * d_model, kernel_initializer=_fused_glorot(2), name="kv")
        self.output_projection = fused.Dense(d_model, name="output")
        self.dropout = fused.Dropout(dropout)

    def _split(self, x, parts: int, rows=None):
        """[B,T,parts*D] (or [B*T,parts*D] with ``rows`` = (B, T)) -> parts x [B,H,T,Dh]."""
        batch, steps = (tf.shape(x)[0], tf.shape(x)[1]) if rows is None else rows
        x = tf.reshape(x, tf.stack([batch, steps, parts, self.heads, self.head_dim]))  # [B,T,P,H,Dh]
        return tf.unstack(tf.transpose(x, [2, 0, 3, 1, 4]), num=parts)  # P x [B,H,T,Dh]

    def project_qkv(self, x, rows=None):
        """x [B,T,D] (or [B*T,D] with ``rows`` = (B, T)) -> queries (scaled by Dh^-0.5), keys, values:
        [B,H,T,Dh] each."""
        q, k, v = self._split(self.qkv(x), 3, rows)
        return q * (1.0 / math.sqrt(self.head_dim)), k, v

    def project_query(self, x, rows=None):
        return self._split(self.query(x), 1, rows)[0] * (1.0 / math.sqrt(self.head_dim))  # [B,H,T,Dh]

    def project_kv(self, x):
        return tuple(self._split(self.kv(x), 2))  # [B,H,S,Dh] both

    def call(self, q, keys, values, key_mask=None, training=False, flat=False):
        """``keys``/``values`` [B,H,S,Dh], or tuples of such parts that are attended as if concatenated
        along S (a decoder's key/value cache in two parts, so a step need not copy all of it).
        ``flat``: the output as [B*T,D] rows (a decoding step keeps its activations 2-D)."""
        if not isinstance(keys, (tuple, list)):
            keys, values = (keys,), (values,)
        scores = [tf.matmul(q, k, transpose_b=True) for k in keys]  # parts x [B,H,T,S_i]
        weights = masked_softmax(scores[0] if len(scores) == 1 else tf.concat(scores, axis=-1), key_mask)  # [B,H,T,S]
        dropped = self.dropout(weights, training=training)  # [B,H,T,S]
        if len(keys) == 1:
            context = tf.matmul(dropped, values[0])  # [B,H,T,Dh]
        else:
            sizes = tf.stack([tf.shape(k)[2] for k in keys])  # [parts]
            # [B,H,T,Dh]
            context = tf.add_n([tf.matmul(w, v) for w, v in zip(tf.split(dropped, sizes, axis=-1), values)])
        context = tf.transpose(context, [0, 2, 1, 3])  # [B,T,H,Dh]
        if flat:
            context = tf.reshape(context, [-1, self.d_model])  # [B*T,D]
        else:
            shape = tf.shape(context)
            context = tf.reshape(context, tf.stack([shape[0], shape[1], self.d_model]))  # [B,T,D]
        return self.output_projection(context), weights  # [B,T,D] (flat: [B*T,D]), [B,H,T,S]


class _Block(keras.layers.Layer):
    """Shared residual wiring: pre-norm ``x + drop(f(LN(x)))`` or post-norm ``LN(x + drop(f(x)))``."""

    def __init__(self, d_model: int, ff_dim: int, dropout: float, pre_norm: bool,
                 attention_dropout: float | None = None, ffn_dropout: float | None = None, **kwargs):
        super().__init__(**kwargs)
        self.pre_norm = pre_norm
        # for the subclasses' attention
        self.attention_rate = dropout if attention_dropout is None else attention_dropout
        self.ffn_rate = dropout if ffn_dropout is None else ffn_dropout
        self.ff_in = fused.Dense(ff_dim, activation="relu", name="ff_in")
        self.ff_out = fused.Dense(d_model, name="ff_out")
        self.dropout = fused.Dropout(dropout)

    def _input(self, x, norm):
        return norm(x) if self.pre_norm else x  # [B,T,D]

    def _residual(self, x, out, norm, training):
        x = x + self.dropout(out, training=training)  # [B,T,D]
        return x if self.pre_norm else norm(x)  # [B,T,D]

    def _feed_forward(self, x, norm, training):
        """Position-wise ``W2 relu(W1 x + b1) + b2`` (section 3.3) as a residual sublayer."""
        h = self.dropout(self.ff_in(self._input(x, norm)), training=training, rate=self.ffn_rate)  # [B,T,F]
        return self._residual(x, self.ff_out(h), norm, training)  # [B,T,D]


class EncoderLayer(_Block):
    """Transformer encoder layer (Vaswani et al. 2017): self-attention, then a feed-forward network.

    Call arguments: x [B,S,D]; ``key_mask`` bool [B,1,1,S] (False on source padding, whose keys get
    exactly 0 weight). Returns [B,S,D]. Pre-norm by default (``pre_norm=False``: post-norm, as in the
    paper); dropout on sublayer outputs, and on attention weights and the feed-forward hidden layer
    at ``attention_dropout`` and ``ffn_dropout`` (default: ``dropout``; the paper uses neither).
    """

    def __init__(self, d_model: int, heads: int, ff_dim: int, dropout: float = 0.0, pre_norm: bool = True,
                 attention_dropout: float | None = None, ffn_dropout: float | None = None, **kwargs):
        super().__init__(d_model, ff_dim, dropout, pre_norm, attention_dropout, ffn_dropout, **kwargs)
        self.self_attention = MultiHeadAttention(d_model, heads, self.attention_rate, name="self_attention")
        self.norm_attention = fused.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name="norm_attention")
        self.norm_ff = fused.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name="norm_ff")

    def call(self, x, key_mask, training=False):
        h = self._input(x, self.norm_attention)  # [B,S,D]
        q, keys, values = self.self_attention.project_qkv(h)  # [B,H,S,Dh] each
        out, _ = self.self_attention(q, keys, values, key_mask, training=training)  # [B,S,D]
        x = self._residual(x, out, self.norm_attention, training)  # [B,S,D]
        return self._feed_forward(x, self.norm_ff, training)  # [B,S,D]


class DecoderLayer(_Block):
    """Transformer decoder layer (Vaswani et al. 2017): causal self-attention, cross-attention over
    the encoder memory, then a feed-forward network.

    ``call`` (teacher forcing): x [B,T,D]; ``cross_keys``/``cross_values`` [B,H,S,Dh] (from
    ``cross_attention.project_kv(memory)``, once per sentence); ``src_mask`` bool [B,1,1,S] (False
    on source padding: exactly 0 cross-attention); ``self_mask`` bool [1,1,T,T] (causal). Returns
    x [B,T,D] and the cross-attention weights [B,H,T,S].

    ``step`` (one decoding step of N = B*K hypotheses, K per sentence, sentence-major): see there.
    """

    def __init__(self, d_model: int, heads: int, ff_dim: int, dropout: float = 0.0, pre_norm: bool = True,
                 attention_dropout: float | None = None, ffn_dropout: float | None = None, **kwargs):
        super().__init__(d_model, ff_dim, dropout, pre_norm, attention_dropout, ffn_dropout, **kwargs)
        self.self_attention = MultiHeadAttention(d_model, heads, self.attention_rate, name="self_attention")
        self.cross_attention = MultiHeadAttention(d_model, heads, self.attention_rate, self_attention=False,
                                                  name="cross_attention")
        self.norm_self = fused.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name="norm_self")
        self.norm_cross = fused.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name="norm_cross")
        self.norm_ff = fused.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name="norm_ff")

    def call(self, x, cross_keys, cross_values, src_mask, self_mask=None, training=False):
        h = self._input(x, self.norm_self)  # [B,T,D]
        q, keys, values = self.self_attention.project_qkv(h)  # [B,H,T,Dh] each
        out, _ = self.self_attention(q, keys, values, self_mask, training=training)  # [B,T,D]
        x = self._residual(x, out, self.norm_self, training)  # [B,T,D]
        h = self._input(x, self.norm_cross)  # [B,T,D]
        q = self.cross_attention.project_query(h)  # [B,H,T,Dh]
        # [B,T,D], [B,H,T,S]
        out, cross_weights = self.cross_attention(q, cross_keys, cross_values, src_mask, training=training)
        x = self._residual(x, out, self.norm_cross, training)  # [B,T,D]
        return self._feed_forward(x, self.norm_ff, training), cross_weights

    def step(self, x, cross_keys, cross_values, src_mask, cache, ancestry, training=False):
        """One token for each of the K hypotheses of each of B sentences, as K queries per sentence.

        x [B*K,D] (2-D, sentence-major: every projection is one plain matrix product);
        ``cross_keys``/``cross_values`` [B,H,S,Dh] and ``src_mask`` [B,1,1,S], once per sentence (not
        per hypothesis); ``cache`` = (keys, values, recent keys, recent values), each
        [B,H,K*t_i,Dh]: the self-attention keys/values of every hypothesis of the sentence at every
        earlier step (step-major: step s, slot k at s*K+k; the older steps in the first pair, the
        latest ones in the second), never reordered; ``ancestry`` bool [B,1,K,K*(t+1)]: True where a
        key lies on the hypothesis' own path (its ancestors' keys, and its own at this step). A
        sentence's K queries attend in one product per part, over the shared cache masked by
        ``ancestry``. This step's keys/values are appended to the recent pair only, so a step copies
        a few steps of keys, not all of them (the caller moves the recent pair into the first now
        and then). Returns x [B*K,D], the cache with this step appended and the cross-attention
        weights [B,H,K,S].
        """
        old_keys, old_values, recent_keys, recent_values = cache  # [B,H,K*t_i,Dh] each
        rows = (tf.shape(ancestry)[0], tf.shape(ancestry)[2])  # B, K
        h = self._input(x, self.norm_self)  # [B*K,D]
        q, keys, values = self.self_attention.project_qkv(h, rows)  # [B,H,K,Dh] each
        recent_keys = tf.concat([recent_keys, keys], axis=2)  # [B,H,K*(t_2+1),Dh]
        recent_values = tf.concat([recent_values, values], axis=2)  # [B,H,K*(t_2+1),Dh]
        out, _ = self.self_attention(q, (old_keys, recent_keys), (old_values, recent_values), ancestry,
                                     training=training, flat=True)  # [B*K,D]
        x = self._residual(x, out, self.norm_self, training)  # [B*K,D]
        q = self.cross_attention.project_query(self._input(x, self.norm_cross), rows)  # [B,H,K,Dh]
        # [B*K,D], [B,H,K,S]
        out, weights = self.cross_attention(q, cross_keys, cross_values, src_mask, training=training, flat=True)
        x = self._residual(x, out, self.norm_cross, training)  # [B*K,D]
        cache = (old_keys, old_values, recent_keys, recent_values)
        return self._feed_forward(x, self.norm_ff, training), cache, weights
