"""Greedy and beam search compiled with XLA, over a few padded batch shapes (``decode.xla``).

TensorFlow runs the search of :mod:`nmt.decoding` op by op: every step launches a few hundred small
kernels (layer norms, reshapes, masks, top-k, gathers), and on a CPU their dispatch costs about as
much as the products themselves. XLA compiles the whole search (encoder, the loop over steps, the
back-pointers) into one program and fuses the element-wise work. It needs static shapes, so

* the model's decoding state is preallocated for the longest output
  (:meth:`~nmt.models.base.Seq2Seq.initial_state_static`: the Transformer's key/value cache is
  written in place instead of growing);
* the per-step arrays hold that many steps, and the result is trimmed outside the compiled program;
* a batch is padded to a bucket: sentences to the next power of two, source pieces to the next of
  :data:`SOURCE_BUCKETS`. Padding rows have no real token and stop before the first step; source
  padding gets exactly 0 attention, as it does without XLA.

Each bucket is compiled once, on first use (a few seconds on 2 cores), so compiling pays on inputs
of thousands of sentences, not on one; results match the uncompiled search up to float32 rounding
(the fused kernels add in another order), which can flip a near-tie between two hypotheses.
"""

from __future__ import annotations

import math

import tensorflow as tf

from nmt.decoding import DecodeOptions, DecodeResult, _beam, _finish, _greedy
from nmt.errors import UserError
from nmt.models.base import Seq2Seq

#: Source lengths (pieces) a batch is padded to; longer sources round up to a multiple of 128.
SOURCE_BUCKETS = (8, 16, 24, 32, 48, 64, 96, 128)


def source_bucket(length: int) -> int:
    """The padded source length of a batch whose longest source has ``length`` pieces (>= length)."""
    for size in SOURCE_BUCKETS:
        if length <= size:
            return size
    return -(-length // 128) * 128


def batch_bucket(rows: int) -> int:
    """The padded number of sentences: the next power of two (>= rows)."""
    return 1 << max(0, rows - 1).bit_length()


def static_steps(options: DecodeOptions, source_length: int) -> int:
    """The loop's fixed bound for a padded source length: ``ceil(a * S + b)``, at least the max length of
    every sentence the bucket holds (a sentence's own limit still ends it)."""
    return max(1, math.ceil(options.max_length_a * source_length + options.max_length_b))


def make_xla_decode_fn(model: Seq2Seq, options: DecodeOptions, bos_id: int = 2, eos_id: int = 3):
    """``src_ids [B,S] int32 -> DecodeResult`` like :func:`nmt.decoding.make_decode_fn`, each batch padded
    to its bucket and decoded by that bucket's XLA program (compiled on first use)."""
    options.validate()
    programs: dict = {}

    def program(rows: int, length: int):
        if (rows, length) not in programs:
            steps = static_steps(options, length)
            common = dict(bos_id=bos_id, eos_id=eos_id, max_length_a=options.max_length_a,
                          max_length_b=options.max_length_b, length_penalty=options.length_penalty,
                          return_attention=options.return_attention, static_steps=steps)

            def search(src_ids):  # [rows,length] -> time-major results (see nmt.decoding._finish)
                if options.beam_size == 1:
                    return _greedy(model, src_ids, **common)
                return _beam(model, src_ids, beam_size=options.beam_size, n_best=options.n_best, **common)

            programs[rows, length] = tf.function(search, jit_compile=True, autograph=False)
        return programs[rows, length]

    def decode_fn(src_ids) -> DecodeResult:
        src_ids = tf.convert_to_tensor(src_ids, tf.int32)  # [B,S]
        rows, length = (int(n) for n in src_ids.shape)
        padded_rows, padded_length = batch_bucket(rows), source_bucket(length)
        padded = tf.pad(src_ids, [[0, padded_rows - rows], [0, padded_length - length]])  # [B',S']
        try:
            tokens, attention, lengths, scores = program(padded_rows, padded_length)(padded)
        except ValueError as error:
            if "after one iteration" not in str(error):
                raise
            raise UserError(f"decode.xla: the decoding state of {type(model).__name__} changes shape from step to "
                            "step; XLA needs fixed shapes (implement initial_state_static) or --no-xla") from None
        if attention is not None:
            attention = attention[:, :rows, ..., :length]  # [T,B,N,L,H,S]
        return _finish(tokens[:, :rows], attention, lengths[:rows], scores[:rows])

    return decode_fn
