"""LSTM encoder-decoder with pluggable attention.

Encoder: embeddings -> ``encoder_layers`` bidirectional LSTMs -> memory [B,S,2U]. The final
forward/backward states are bridged (Dense) into the initial state of the decoder, whose width is
2U so that every mechanism (``dot`` included) can compare decoder states with the memory.

Decoder placements (``config.placement``):

* ``luong`` (Luong et al. 2015, the default): the LSTM runs first, attention is computed with its
  output ``s_t``; ``a_t = tanh(W_c [s_t; c_t])`` predicts the next word. Without input feeding the
  recurrence does not depend on attention, so teacher-forced training runs the LSTM over the whole
  target sequence at once and attends for all steps in one batched operation.
  ``input_feed=True`` feeds ``a_{t-1}`` into the LSTM input (needs a step loop).
* ``bahdanau`` (Bahdanau et al. 2015): attention is computed with the previous state ``s_{t-1}``
  and the context ``c_t`` is part of the LSTM input; ``a_t = tanh(W_c [s_t; c_t])`` predicts.
  Needs a step loop in training.

Every step returns attention [B,1,H,S] (H = heads of the mechanism), ``forward`` [B,1,H,T,S].
"""

from __future__ import annotations

import keras
import tensorflow as tf

from nmt import attention as attention_lib
from nmt.errors import UserError
from nmt.layers import fused
from nmt.models.base import Encoded, Seq2Seq, StepOutput
from nmt.models.registry import MODELS


@MODELS.register("rnn")
class RNNSeq2Seq(Seq2Seq):
    """Bidirectional LSTM encoder, LSTM decoder, any registered attention mechanism.

    Call arguments of :meth:`forward`: src_ids [B,S] and tgt_in_ids [B,T] int32, padded with 0.
    Returns logits [B,T,V] and attention [B,1,H,T,S] (exactly 0 on source padding).
    """

    def __init__(self, config, src_vocab_size: int, tgt_vocab_size: int, **kwargs):
        super().__init__(**kwargs)
        if config.placement not in ("luong", "bahdanau"):
            raise UserError(f"unknown placement {config.placement!r}; choose luong or bahdanau")
        self.config = config
        self.src_vocab_size, self.tgt_vocab_size = src_vocab_size, tgt_vocab_size
        units, dec_units = config.units, 2 * config.units
        self.dec_units = dec_units
        # N(0, 1) embeddings: Keras' default U(-0.05, 0.05) starts the LSTMs with near-zero signals,
        # and training sat on the language-model plateau for hundreds of steps (measured).
        init = keras.initializers.RandomNormal(stddev=1.0)
        self.src_embedding = keras.layers.Embedding(src_vocab_size, config.embedding_dim, embeddings_initializer=init,
                                                    name="src_embedding")
        self.tgt_embedding = keras.layers.Embedding(tgt_vocab_size, config.embedding_dim, embeddings_initializer=init,
                                                    name="tgt_embedding")
        self.encoder_layers = [
            keras.layers.Bidirectional(
                keras.layers.LSTM(units, return_sequences=True, return_state=True), name=f"encoder_{i}"
            )
            for i in range(config.encoder_layers)
        ]
        self.bridge_h = [fused.Dense(dec_units, activation="tanh", name=f"bridge_h{i}")
                         for i in range(config.decoder_layers)]
        self.bridge_c = [fused.Dense(dec_units, name=f"bridge_c{i}") for i in range(config.decoder_layers)]
        self.cells = [keras.layers.LSTMCell(dec_units, name=f"decoder_cell_{i}") for i in range(config.decoder_layers)]
        # Whole-sequence wrappers sharing the cells' weights (luong placement without input feeding).
        self.rnns = [keras.layers.RNN(cell, return_sequences=True, name=f"decoder_{i}")
                     for i, cell in enumerate(self.cells)]
        self.attention = attention_lib.build(config.attention, config.attention_units, config.heads, dec_units,
                                              config.options)
        self.attention_heads = self.attention.heads
        self.combine = fused.Dense(config.embedding_dim, activation="tanh", use_bias=False, name="combine")
        self.dropout = fused.Dropout(config.dropout)
        self.output_layer = None if config.tie_embeddings else fused.Dense(tgt_vocab_size, name="output")
        self.output_embedding = self.tgt_embedding if config.tie_embeddings else None
        self.output_bias = (self.add_weight(shape=(tgt_vocab_size,), initializer="zeros", name="output_bias")
                            if config.tie_embeddings else None)
        self.stepwise = config.placement == "bahdanau" or config.input_feed

    @staticmethod
    def estimate(config, src_vocab_size: int, tgt_vocab_size: int) -> tuple[int, int]:
        """(parameters, activation floats kept per target token in training) from the configuration
        alone, before anything is allocated (``nmt.models.check_size``); the parameter count is within
        a few percent of the built model's for every attention mechanism (tested)."""
        e, u, a, d = config.embedding_dim, config.units, config.attention_units, 2 * config.units
        encoder = 8 * u * (e + u + 1) + (config.encoder_layers - 1) * 8 * u * (3 * u + 1)
        bridges = config.decoder_layers * 2 * (2 * u * d + d)
        first_in = e + (2 * u if config.placement == "bahdanau" else 0) + (e if config.input_feed else 0)
        cells = 4 * d * (first_in + d + 1) + (config.decoder_layers - 1) * 4 * d * (2 * d + 1)
        attention = a * (2 * u + d + 1) + 2 * a * a  # the largest mechanism's projections
        combine = (d + max(2 * u, a)) * e
        output = tgt_vocab_size * (1 if config.tie_embeddings else e + 1)
        params = (src_vocab_size + tgt_vocab_size) * e + encoder + bridges + cells + attention + combine + output
        per_token = 20 * (config.encoder_layers * u + config.decoder_layers * d) + 4 * tgt_vocab_size
        return params, per_token

    # ----- encoder --------------------------------------------------------------------------
    def encode(self, src_ids, training=False):
        mask = tf.not_equal(src_ids, 0)  # [B,S]
        x = self.dropout(self.src_embedding(src_ids), training=training)  # [B,S,E]
        for i, layer in enumerate(self.encoder_layers):
            x, fh, fc, bh, bc = layer(x, mask=mask, training=training)  # [B,S,2U], 4 x [B,U]
            if i + 1 < len(self.encoder_layers):
                x = self.dropout(x, training=training)  # [B,S,2U]
        memory = x * tf.cast(mask, x.dtype)[..., None]  # [B,S,2U]
        final_h = tf.concat([fh, bh], axis=-1)  # [B,2U]
        final_c = tf.concat([fc, bc], axis=-1)  # [B,2U]
        init = tuple((self.bridge_h[i](final_h), self.bridge_c[i](final_c)) for i in range(len(self.cells)))
        keys = self.attention.prepare(memory)  # once per sentence, e.g. U h: [B,S,A]
        return Encoded(memory, mask, {"init": init, "keys": keys})

    # ----- decoder --------------------------------------------------------------------------
    def _feed_dim(self):
        if self.config.placement == "bahdanau":
            return self.attention.context_dim(2 * self.config.units)
        return self.config.embedding_dim if self.config.input_feed else 0

    def initial_state(self, encoded):
        batch = tf.shape(encoded.memory)[0]
        feed = tf.zeros(tf.stack([batch, self._feed_dim()]), encoded.memory.dtype)  # [B,F]
        top_h = encoded.state["init"][-1][0]  # [B,2U]
        return {"lstm": encoded.state["init"], "feed": feed, "query": top_h}

    def _attend(self, query, encoded):
        """query [B,T,2U] -> context [B,T,C], weights [B,H,T,S]."""
        return self.attention(query, encoded.memory, encoded.state["keys"], encoded.mask)

    def _cell_step(self, emb, state, encoded, training):
        """One decoder step: emb [B,E] -> attentional vector [B,2U], new state, weights [B,H,1,S]."""
        if self.config.placement == "bahdanau":
            context, weights = self._attend(state["query"][:, None], encoded)  # [B,1,C], [B,H,1,S]
            x = tf.concat([emb, context[:, 0]], axis=-1)  # [B,E+C]
        else:
            x = tf.concat([emb, state["feed"]], axis=-1)  # [B,E+F]
        new_lstm = []
        for i, cell in enumerate(self.cells):
            h, (h, c) = cell(x, list(state["lstm"][i]), training=training)  # [B,2U]
            new_lstm.append((h, c))
            x = self.dropout(h, training=training) if i + 1 < len(self.cells) else h  # [B,2U]
        if self.config.placement == "luong":
            context, weights = self._attend(h[:, None], encoded)  # [B,1,C], [B,H,1,S]
        attentional = self.combine(tf.concat([h, context[:, 0]], axis=-1))  # [B,2U]
        feed = (context[:, 0] if self.config.placement == "bahdanau"
                else attentional if self.config.input_feed else state["feed"])
        new_state = {"lstm": tuple(new_lstm), "feed": feed, "query": h}
        return attentional, new_state, weights

    def _logits(self, attentional, training):
        x = self.dropout(attentional, training=training)  # [...,E]
        if self.output_layer is not None:
            return self.output_layer(x)  # [...,V]
        return fused.tied_logits(x, self.tgt_embedding.embeddings, self.output_bias)  # [...,V] tied

    def step(self, prev_ids, state, encoded, training=False):
        emb = self.tgt_embedding(prev_ids)  # [B,E]
        attentional, state, weights = self._cell_step(emb, state, encoded, training)  # [B,2U]
        return StepOutput(self._logits(attentional, training), state, weights[:, None, :, 0, :])  # [B,V], [B,1,H,S]

    def forward(self, src_ids, tgt_in_ids, training=False, encoded=None):
        encoded = self.encode(src_ids, training=training) if encoded is None else encoded
        emb = self.dropout(self.tgt_embedding(tgt_in_ids), training=training)  # [B,T,E]
        if self.stepwise:
            attentional, weights = self._forward_loop(emb, encoded, training)  # [B,T,2U], [B,H,T,S]
        else:
            x = emb
            for i, rnn in enumerate(self.rnns):
                x = rnn(x, initial_state=list(encoded.state["init"][i]), training=training)  # [B,T,2U]
                if i + 1 < len(self.rnns):
                    x = self.dropout(x, training=training)  # [B,T,2U]
            context, weights = self._attend(x, encoded)  # [B,T,C], [B,H,T,S]
            attentional = self.combine(tf.concat([x, context], axis=-1))  # [B,T,2U]
        return self._logits(attentional, training), weights[:, None]  # [B,T,V], [B,1,H,T,S]

    def _forward_loop(self, emb, encoded, training):
        """Teacher forcing with a step loop (tf.while_loop): emb [B,T,E]."""
        steps = tf.shape(emb)[1]
        emb_t = tf.transpose(emb, [1, 0, 2])  # [T,B,E]
        outputs = tf.TensorArray(emb.dtype, size=steps)
        attn = tf.TensorArray(emb.dtype, size=steps)

        def body(t, state, outputs, attn):
            attentional, state, weights = self._cell_step(emb_t[t], state, encoded, training)  # [B,2U]
            return t + 1, state, outputs.write(t, attentional), attn.write(t, weights[:, :, 0, :])

        state = self.initial_state(encoded)
        _, _, outputs, attn = tf.while_loop(
            lambda t, *_: t < steps, body, (tf.constant(0), state, outputs, attn),
            shape_invariants=(tf.TensorShape([]), self.state_shape_invariants(state), None, None),
        )
        attentional = tf.transpose(outputs.stack(), [1, 0, 2])  # [B,T,2U]
        weights = tf.transpose(attn.stack(), [1, 2, 0, 3])  # [B,H,T,S]
        return attentional, weights

    def get_config(self):
        return {"config": self.config.__dict__, "src_vocab_size": self.src_vocab_size,
                "tgt_vocab_size": self.tgt_vocab_size}
