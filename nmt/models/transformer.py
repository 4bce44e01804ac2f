"""Transformer encoder-decoder (Vaswani et al. 2017) behind the :class:`~nmt.models.base.Seq2Seq` contract.

Encoder: token embeddings scaled by sqrt(D) plus positions -> ``layers`` encoder layers (-> layer
norm in pre-norm mode) -> memory [B,S,D]. Decoder: the same for the target prefix -> ``layers``
decoder layers (causal self-attention, cross-attention, feed-forward) -> layer norm (pre-norm) ->
logits through the transposed target embedding plus a bias.

Incremental decoding keeps a key/value cache: every decoder layer's self-attention keys and values
of the tokens emitted so far and a position counter. A step embeds one token, appends its
keys/values and attends over the cache, so a step costs O(t), not a re-run of the prefix. The
cross-attention keys/values of the encoder memory are projected once in :meth:`encode` and kept in
``Encoded.state``, once per sentence even under beam search.

Under beam search (K hypotheses per sentence) the cache holds, per sentence, the keys/values of
every hypothesis at every step ([B,H,K*t,Dh]) and is never reordered: an ancestry mask [B,K,K*t]
says which of them lie on each hypothesis' path, and only it follows the back-pointers. A
sentence's K hypotheses query the cache and the memory together, in one product per head. Greedy
decoding is the case K = 1.

Attention returned is the cross-attention of every decoder layer and head: [B,L,H,T,S] from
``forward``, [B,L,H,S] per step (L = ``layers``, H = ``transformer_heads``). ``forward_full_context``
gives the same tensor from a pass without the causal mask, for alignment only.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from nmt.errors import UserError
from nmt.layers import fused
from nmt.layers.transformer import DecoderLayer, EncoderLayer, PositionEncoding
from nmt.models.base import Encoded, Seq2Seq, StepOutput
from nmt.models.registry import MODELS

LAYER_NORM_EPSILON = 1e-6


CACHE_FLUSH_STEPS = 8  # decoding: the recent part of the key/value cache moves to the older part every 8 steps


def _flush(cache):
    """Every layer's (keys, values, recent keys, recent values) -> (keys + recent, values + recent, empty, empty)."""
    out = []
    for keys, values, recent_keys, recent_values in cache:
        empty = recent_keys[:, :, :0]  # [B,H,0,Dh]
        out.append((tf.concat([keys, recent_keys], axis=2), tf.concat([values, recent_values], axis=2), empty, empty))
    return tuple(out)


@MODELS.register("transformer")
class TransformerSeq2Seq(Seq2Seq):
    """Transformer encoder-decoder (Vaswani et al. 2017), pre-norm by default.

    Configuration (:class:`nmt.config.ModelConfig`): ``layers`` (encoder and decoder each),
    ``d_model``, ``ff_dim``, ``transformer_heads``, ``pre_norm`` (False: the paper's post-norm),
    ``positions`` (sinusoidal | learned, ``max_positions`` rows), ``dropout`` (embeddings and sublayer
    outputs; also attention weights and the feed-forward hidden layer unless ``attention_dropout`` or
    ``ffn_dropout`` say otherwise), ``share_embeddings``:
    with equal vocabulary sizes (a joint vocabulary) one N(0, D^-0.5) matrix embeds source and
    target and projects the output; otherwise source and target have their own embeddings and the
    output projection is tied to the target one. ``embedding_dim``, ``units`` and the attention
    options belong to the LSTM family and are ignored here.

    Call arguments of :meth:`forward`: src_ids [B,S] and tgt_in_ids [B,T] int32, padded with 0.
    Masks: source padding gets exactly 0 weight in encoder self-attention and cross-attention;
    decoder self-attention is causal (target padding sits after the real tokens, so it needs no
    mask). Returns logits [B,T,V] and cross-attention [B,L,H,T,S].
    """

    def __init__(self, config, src_vocab_size: int, tgt_vocab_size: int, **kwargs):
        super().__init__(**kwargs)
        d, heads = config.d_model, config.transformer_heads
        if config.layers < 1 or d < 1 or heads < 1 or config.ff_dim < 1:
            raise UserError("layers, d_model, ff_dim and transformer_heads must be at least 1")
        if d % heads:
            raise UserError(f"d_model ({d}) must be divisible by transformer_heads ({heads})")
        if config.positions not in ("sinusoidal", "learned"):
            raise UserError(f"unknown positions {config.positions!r}; choose sinusoidal or learned")
        if config.positions == "sinusoidal" and d % 2:
            raise UserError(f"sinusoidal positions need an even d_model, got {d}")
        self.config = config
        self.src_vocab_size, self.tgt_vocab_size = src_vocab_size, tgt_vocab_size
        self.d_model, self.heads, self.head_dim = d, heads, d // heads
        self.attention_layers, self.attention_heads = config.layers, heads
        self.pre_norm = config.pre_norm
        init = keras.initializers.RandomNormal(stddev=d ** -0.5)
        self.shared = config.share_embeddings and src_vocab_size == tgt_vocab_size
        self.tgt_embedding = keras.layers.Embedding(tgt_vocab_size, d, embeddings_initializer=init,
                                                    name="shared_embedding" if self.shared else "tgt_embedding")
        self.src_embedding = None if self.shared else keras.layers.Embedding(
            src_vocab_size, d, embeddings_initializer=init, name="src_embedding")
        self.output_embedding = self.tgt_embedding
        self.position_encoding = PositionEncoding(config.positions, d, config.max_positions, name="positions")
        layer_args = (d, heads, config.ff_dim, config.dropout, config.pre_norm,
                      config.attention_dropout, config.ffn_dropout)
        self.encoder_stack = [EncoderLayer(*layer_args, name=f"encoder_{i}") for i in range(config.layers)]
        self.decoder_stack = [DecoderLayer(*layer_args, name=f"decoder_{i}") for i in range(config.layers)]
        norm = fused.LayerNormalization
        self.encoder_norm = norm(epsilon=LAYER_NORM_EPSILON, name="encoder_norm") if config.pre_norm else None
        self.decoder_norm = norm(epsilon=LAYER_NORM_EPSILON, name="decoder_norm") if config.pre_norm else None
        self.dropout = fused.Dropout(config.dropout)
        self.output_bias = self.add_weight(shape=(tgt_vocab_size,), initializer="zeros", name="output_bias")

    @staticmethod
    def estimate(config, src_vocab_size: int, tgt_vocab_size: int) -> tuple[int, int]:
        """(parameters, activation floats kept per target token in training) from the configuration
        alone, before anything is allocated (``nmt.models.check_size``); tested against built models."""
        d, f, n = config.d_model, config.ff_dim, config.layers
        shared = config.share_embeddings and src_vocab_size == tgt_vocab_size
        embeddings = (tgt_vocab_size if shared else src_vocab_size + tgt_vocab_size) * d
        positions = config.max_positions * d if config.positions == "learned" else 0
        ffn = 2 * d * f + f + d
        encoder = n * (4 * d * d + 4 * d + ffn + 4 * d)
        decoder = n * (8 * d * d + 8 * d + ffn + 6 * d)
        params = embeddings + positions + encoder + decoder + 4 * d + tgt_vocab_size
        per_token = n * (30 * d + 4 * f) + 4 * tgt_vocab_size
        return params, per_token

    # ----- shared pieces ---------------------------------------------------------------------
    def _embed(self, embedding, ids, positions, training):
        """ids [B,T], positions [B|1,T] -> sqrt(D) * E[ids] + P[positions], dropped out: [B,T,D]."""
        x = embedding(ids) * math.sqrt(self.d_model)  # [B,T,D] in the compute dtype (bfloat16/float16 when mixed)
        x = x + tf.cast(self.position_encoding(positions), x.dtype)  # [B,T,D]
        return self.dropout(x, training=training)  # [B,T,D]

    def _logits(self, x):
        """x [...,D] -> [...,V] through the transposed target (or shared) embedding plus a bias."""
        # no-op in float32
        embeddings, bias = (tf.cast(w, x.dtype) for w in (self.tgt_embedding.embeddings, self.output_bias))
        return fused.tied_logits(x, embeddings, bias)  # [...,V]

    def _decode(self, x, encoded, self_mask, training):
        """Teacher forcing through the decoder stack: x [B,T,D] -> output [B,T,D], weights [B,L,H,T,S]."""
        src_mask = encoded.mask[:, None, None, :]  # [B,1,1,S]
        weights = []
        for i, layer in enumerate(self.decoder_stack):
            cross_keys, cross_values = encoded.state["cross"][i]  # [B,H,S,Dh] both
            x, w = layer(x, cross_keys, cross_values, src_mask, self_mask=self_mask, training=training)  # [B,T,D]
            weights.append(w)  # [B,H,T,S]
        if self.decoder_norm is not None:
            x = self.decoder_norm(x)  # [B,T,D]
        return x, tf.stack(weights, axis=1)  # [B,T,D], [B,L,H,T,S]

    # ----- contract --------------------------------------------------------------------------
    def encode(self, src_ids, training=False):
        mask = tf.not_equal(src_ids, 0)  # [B,S]
        positions = tf.range(tf.shape(src_ids)[1])[None, :]  # [1,S]
        x = self._embed(self.src_embedding or self.tgt_embedding, src_ids, positions, training)  # [B,S,D]
        key_mask = mask[:, None, None, :]  # [B,1,1,S]
        for layer in self.encoder_stack:
            x = layer(x, key_mask, training=training)  # [B,S,D]
        if self.encoder_norm is not None:
            x = self.encoder_norm(x)  # [B,S,D]
        memory = x * tf.cast(mask, x.dtype)[..., None]  # [B,S,D]
        cross = tuple(layer.cross_attention.project_kv(memory) for layer in self.decoder_stack)  # L x 2 x [B,H,S,Dh]
        return Encoded(memory, mask, {"cross": cross, "cross_mask": mask})

    def tile_encoded(self, encoded, beam_size):
        """Memory and mask repeated per hypothesis ([B*K,...]) as the contract says; the cross-attention
        keys/values and their mask stay once per sentence: a sentence's K hypotheses query them together."""
        return Encoded(tf.repeat(encoded.memory, beam_size, axis=0), tf.repeat(encoded.mask, beam_size, axis=0),
                       encoded.state)

    def select_sentences(self, state, encoded, sentences, rows):
        """The cache, the ancestry and the cross-attention keys/values are per sentence (``sentences``);
        positions, memory and mask per hypothesis (``rows``)."""
        def by_sentence(t):
            return tf.gather(t, sentences, axis=0)

        kept = {**state, "cache": tf.nest.map_structure(by_sentence, state["cache"]),
                "ancestry": by_sentence(state["ancestry"]), "position": tf.gather(state["position"], rows)}
        return kept, Encoded(tf.gather(encoded.memory, rows), tf.gather(encoded.mask, rows),
                             {"cross": tf.nest.map_structure(by_sentence, encoded.state["cross"]),
                              "cross_mask": by_sentence(encoded.state["cross_mask"])})

    def initial_state(self, encoded):
        rows = tf.shape(encoded.memory)[0]  # [] N = B*K hypotheses
        batch = tf.shape(encoded.state["cross_mask"])[0]  # [] B sentences
        beam = rows // tf.maximum(batch, 1)  # [] K
        empty = tf.zeros(tf.stack([batch, self.heads, 0, self.head_dim]), encoded.memory.dtype)  # [B,H,0,Dh]
        cache = tuple((empty,) * 4 for _ in self.decoder_stack)  # L x 4 x [B,H,0,Dh]
        return {"cache": cache, "ancestry": tf.zeros(tf.stack([batch, beam, 0]), tf.bool),  # [B,K,0]
                "position": tf.zeros(tf.stack([rows]), tf.int32)}  # [N]

    def state_shape_invariants(self, state):
        """The cache's batch and time axes change across steps: [None,H,None,Dh]; ancestry and position too."""
        cache = tf.nest.map_structure(lambda t: tf.TensorShape([None, self.heads, None, self.head_dim]), state["cache"])
        return {"cache": cache, "ancestry": tf.TensorShape([None, None, None]), "position": tf.TensorShape([None])}

    def step(self, prev_ids, state, encoded, training=False):
        position = state["position"]  # [N]
        shape = tf.shape(state["ancestry"])  # [3] B, K, K*t
        x = self._embed(self.tgt_embedding, prev_ids, position, training)  # [N,D], N = B*K sentence-major
        # [B,K,K]
        own = tf.broadcast_to(tf.eye(shape[1], dtype=tf.bool)[None], tf.stack([shape[0], shape[1], shape[1]]))
        ancestry = tf.concat([state["ancestry"], own], axis=2)  # [B,K,K*(t+1)]: each sees its own new key
        src_mask = encoded.state["cross_mask"][:, None, None, :]  # [B,1,1,S]
        cache, weights = [], []
        for i, layer in enumerate(self.decoder_stack):
            cross_keys, cross_values = encoded.state["cross"][i]  # [B,H,S,Dh] both
            x, layer_cache, w = layer.step(x, cross_keys, cross_values, src_mask, state["cache"][i], ancestry[:, None],
                                           training=training)  # [N,D], 4 x [B,H,K*t_i,Dh], [B,H,K,S]
            cache.append(layer_cache)
            weights.append(w)
        steps = shape[2] // tf.maximum(shape[1], 1) + 1  # [] t+1 steps in the cache
        cache = tf.cond(tf.equal(steps % CACHE_FLUSH_STEPS, 0), lambda: _flush(cache), lambda: tuple(cache))
        if self.decoder_norm is not None:
            x = self.decoder_norm(x)  # [N,D]
        weights = tf.transpose(tf.stack(weights, axis=1), [0, 3, 1, 2, 4])  # [B,K,L,H,S]
        weights = tf.reshape(weights, tf.concat([[-1], tf.shape(weights)[2:]], 0))  # [N,L,H,S]
        new_state = {"cache": tuple(cache), "ancestry": ancestry, "position": position + 1}
        logits = self._logits(x)  # [N,V]
        return StepOutput(logits, new_state, weights)  # [N,V], [N,L,H,S]

    def reorder_state(self, state, indices):
        """Beam search's back-pointers (``indices`` [N]: row b*K+p for a continuation of hypothesis p of
        sentence b). The cache is not copied: only the ancestry mask, which says whose keys a
        hypothesis sees, follows the back-pointers ([B,K,K*t] booleans instead of 2L [B*K,H,t,Dh])."""
        ancestry = state["ancestry"]  # [B,K,K*t]
        shape = tf.shape(ancestry)
        parent = tf.reshape(indices % shape[1], shape[:2])  # [B,K]
        return {**state, "ancestry": tf.gather(ancestry, parent, batch_dims=1),  # [B,K,K*t]
                "position": tf.gather(state["position"], indices)}  # [N]

    def forward(self, src_ids, tgt_in_ids, training=False, encoded=None):
        encoded = self.encode(src_ids, training=training) if encoded is None else encoded
        steps = tf.shape(tgt_in_ids)[1]  # []
        positions = tf.range(steps)[None, :]  # [1,T]
        x = self._embed(self.tgt_embedding, tgt_in_ids, positions, training)  # [B,T,D]
        causal = (tf.range(steps)[:, None] >= tf.range(steps)[None, :])[None, None]  # [1,1,T,T]
        x, weights = self._decode(x, encoded, causal, training)  # [B,T,D], [B,L,H,T,S]
        return self._logits(x), weights  # [B,T,V], [B,L,H,T,S]

    def forward_full_context(self, src_ids, tgt_in_ids, training=False, encoded=None):
        """The decoder with no causal mask: each target position attends to every real target piece
        (padding, which follows them, gets exactly 0 weight); only the cross-attention is returned."""
        encoded = self.encode(src_ids, training=training) if encoded is None else encoded
        positions = tf.range(tf.shape(tgt_in_ids)[1])[None, :]  # [1,T]
        x = self._embed(self.tgt_embedding, tgt_in_ids, positions, training)  # [B,T,D]
        real = tf.not_equal(tgt_in_ids, 0)[:, None, None, :]  # [B,1,1,T]
        _, weights = self._decode(x, encoded, real, training)  # [B,L,H,T,S]
        return weights

    def get_config(self):
        return {"config": self.config.__dict__, "src_vocab_size": self.src_vocab_size,
                "tgt_vocab_size": self.tgt_vocab_size}
