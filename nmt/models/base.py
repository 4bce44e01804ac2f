"""The contract every translation model implements.

Decoding, alignment export, evaluation, benchmarking and classification are written only against
this interface, so they never ask which model family they run.

Shapes: B batch, S source length, T target length, D model width, V vocabulary,
L attention layers, H attention heads. Attention is always ``[B, L, H, T, S]`` (``[B, L, H, S]``
for one decoding step) and is returned, never stashed on a layer.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import keras
import numpy as np
import tensorflow as tf


class Encoded(NamedTuple):
    """Encoder output: ``memory`` [B,S,D], ``mask`` [B,S] bool (True on real tokens), ``state`` (nested)."""

    memory: tf.Tensor
    mask: tf.Tensor
    state: Any


class StepOutput(NamedTuple):
    """One decoding step: ``logits`` [B,V], new ``state``, ``attention`` [B,L,H,S]."""

    logits: tf.Tensor
    state: Any
    attention: tf.Tensor


class Seq2Seq(keras.Model):
    """Base class of translation models (LSTM and Transformer families).

    Subclasses implement ``encode``, ``initial_state``, ``step`` and ``forward``; the rest has
    defaults that work for any nested state whose tensors have the batch on axis 0.
    """

    #: (layers, heads) of the attention tensor the model returns.
    attention_layers: int = 1
    attention_heads: int = 1
    #: The embedding layer whose matrix also projects to the vocabulary (tied output), or None.
    output_embedding: keras.layers.Embedding | None = None

    def encode(self, src_ids: tf.Tensor, training: bool = False) -> Encoded:
        raise NotImplementedError

    def initial_state(self, encoded: Encoded) -> Any:
        raise NotImplementedError

    def step(self, prev_ids: tf.Tensor, state: Any, encoded: Encoded, training: bool = False) -> StepOutput:
        raise NotImplementedError

    def forward(self, src_ids: tf.Tensor, tgt_in_ids: tf.Tensor, training: bool = False,
                encoded: Encoded | None = None):
        """Teacher forcing: returns ``(logits [B,T,V], attention [B,L,H,T,S])``. ``encoded``: ``encode(src_ids)``
        when the caller already has it (a second pass over the same batch does not encode it again)."""
        raise NotImplementedError

    def forward_full_context(self, src_ids: tf.Tensor, tgt_in_ids: tf.Tensor, training: bool = False,
                             encoded: Encoded | None = None) -> tf.Tensor:
        """Attention [B,L,H,T,S] of a teacher-forced pass in which every target position sees the whole
        target sentence, not only the pieces before it (Garg et al. 2019's "full context"): an alignment
        may look at the words that follow. Translation still reads left to right; this pass serves
        alignment alone (guided training with ``train.guided_full_context``, ``nmt align --full-context``),
        which also runs :meth:`forward` on the same batch: both take its ``encoded`` (see :meth:`forward`).
        A family whose decoder can only read left to right refuses in one line (the default)."""
        from nmt.errors import UserError

        raise UserError(f"the {type(self).__name__} decoder reads the target left to right only; full-context "
                        "alignment (--guided-full-context, --full-context) needs the transformer family")

    def call(self, inputs, training=False):
        src_ids, tgt_in_ids = inputs
        return self.forward(src_ids, tgt_in_ids, training=training)

    # ----- defaults shared by every family -------------------------------------------------
    def reorder_state(self, state: Any, indices: tf.Tensor) -> Any:
        """Gather axis 0 of every tensor in ``state`` (beam search back-pointers)."""
        return tf.nest.map_structure(lambda t: tf.gather(t, indices, axis=0), state)

    def select_sentences(self, state: Any, encoded: Encoded, sentences: tf.Tensor, rows: tf.Tensor) -> tuple:
        """Keep some sentences of a batch being decoded (the search drops finished ones): ``sentences`` [B']
        their indices in the batch, ``rows`` [B'*K] their hypotheses' rows (sentence * K + k). Returns
        ``(state, encoded)`` of those alone. The default gathers ``rows`` on axis 0 of every tensor of both,
        right when every tensor holds one row per hypothesis, as :meth:`tile_encoded`'s default makes them."""
        def pick(t):
            return tf.gather(t, rows, axis=0)

        return tf.nest.map_structure(pick, state), tf.nest.map_structure(pick, encoded)

    def tile_encoded(self, encoded: Encoded, beam_size: int) -> Encoded:
        """Repeat every sentence ``beam_size`` times along the batch axis: [B,...] -> [B*K,...]."""
        return tf.nest.map_structure(lambda t: tf.repeat(t, beam_size, axis=0), encoded)

    def state_shape_invariants(self, state: Any) -> Any:
        """Shapes of ``state`` that stay fixed across decoding steps (batch axis left free)."""
        return tf.nest.map_structure(lambda t: tf.TensorShape([None] + t.shape.as_list()[1:]), state)

    def matmul_parameters(self) -> int:
        """Weights used in one multiply-add per token: every trainable weight except embedding
        tables that are only looked up (a table that also projects to the vocabulary counts).

        Training costs about 6 FLOPs per such weight per token (2 forward, 4 backward; Kaplan et
        al. 2020), which is how the benchmark estimates model FLOPs utilisation.
        """
        lookup_only = {id(w) for layer in self._flatten_layers()
                       if isinstance(layer, keras.layers.Embedding) and layer is not self.output_embedding
                       for w in layer.trainable_weights}
        return sum(int(np.prod(w.shape)) for w in self.trainable_weights if id(w) not in lookup_only)
