"""tf.data input pipeline: tokenize in-graph, filter by length, bucket by length, batch by tokens.

Batches are ``(src_ids [B,S], tgt_in_ids [B,T], tgt_out_ids [B,T])`` int32, padded with 0:
``tgt_in`` starts with BOS, ``tgt_out`` ends with EOS.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from nmt.tokenization import BOS_ID, EOS_ID, Tokenizer

log = logging.getLogger("nmt.data")


class Encoded(NamedTuple):
    """Tokenized corpus: ragged source ids (with EOS) and target ids (without BOS/EOS), and for guided
    alignment each pair's linked (target piece, source piece) coordinates [N,(K),2] (:mod:`nmt.guided`)."""

    src: tf.RaggedTensor
    tgt: tf.RaggedTensor
    dropped: int
    links: tf.RaggedTensor | None = None

    @property
    def target_tokens(self) -> int:
        return int(self.tgt.flat_values.shape[0]) + int(self.tgt.nrows())  # + one EOS per sentence


def encode_pairs(pairs: Sequence[tuple[str, str]], tokenizer: Tokenizer, max_tokens: int, what: str = "corpus",
                 links: Sequence[str] | None = None) -> Encoded:
    """Tokenize all pairs with the in-graph tokenizer and drop pairs over ``max_tokens`` (counted, logged);
    ``links``: one Pharaoh line of word links per pair, for guided alignment."""
    src = tokenizer.encode_source(tf.constant([s for s, _ in pairs]))  # [N,(S)]
    tgt = tokenizer.encode_target(tf.constant([t for _, t in pairs]))  # [N,(T)]
    keep = (src.row_lengths() <= max_tokens) & (tgt.row_lengths() + 1 <= max_tokens)  # [N]
    dropped = int(tf.reduce_sum(tf.cast(~keep, tf.int32)))
    if dropped:
        log.info("%s: dropped %d of %d pairs longer than %d tokens", what, dropped, len(pairs), max_tokens)
    if links is not None:
        from nmt.guided import piece_links

        links = tf.ragged.boolean_mask(piece_links([s for s, _ in pairs], [t for _, t in pairs], links, tokenizer),
                                       keep)
    return Encoded(tf.ragged.boolean_mask(src, keep), tf.ragged.boolean_mask(tgt, keep), dropped, links)


def _with_specials(src, tgt):
    bos = tf.constant([BOS_ID], tf.int32)
    eos = tf.constant([EOS_ID], tf.int32)
    return src, tf.concat([bos, tgt], 0), tf.concat([tgt, eos], 0)  # [S], [T], [T]


def bucket_boundaries(max_tokens: int, exact_up_to: int = 64, growth: float = 1.1) -> list[int]:
    """Length bucket upper bounds (exclusive): one bucket per length up to ``exact_up_to``, then
    buckets ``growth`` times wider each.

    One length per bucket wastes almost no padding on the longer side of a pair (95% of the target
    positions of Multi30k batches hold real tokens, against 87% with 4-token buckets), and costs
    nothing in retracing: the training step's signature has unknown batch and time sizes.
    """
    bounds, b = [], 2
    while b <= max_tokens:
        bounds.append(b)
        b = b + 1 if b < exact_up_to else max(b + 1, int(b * growth))
    return bounds + [max_tokens + 1]


def make_dataset(data: Encoded, batch_tokens: int, max_tokens: int, shuffle: bool = True, seed: int = 1234,
                 repeat: bool = False) -> tf.data.Dataset:
    """Length-bucketed batches holding at most ``batch_tokens`` padded tokens on the longer side; with
    links, each batch also holds its guided-alignment target [B,T,S] (:func:`nmt.guided.dense_targets`)."""
    guided = data.links is not None
    columns = (data.src, data.tgt, data.links) if guided else (data.src, data.tgt)
    ds = tf.data.Dataset.from_tensor_slices(columns).map(lambda s, t, *links: (*_with_specials(s, t), *links))
    ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(int(data.src.nrows()), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    bounds = bucket_boundaries(max_tokens)
    sizes = [max(1, batch_tokens // (b - 1)) for b in bounds] + [1]  # longest length in a bucket: its bound - 1
    ds = ds.bucket_by_sequence_length(
        lambda s, ti, *_: tf.maximum(tf.shape(s)[0], tf.shape(ti)[0]),
        bucket_boundaries=bounds, bucket_batch_sizes=sizes, drop_remainder=False,
        padding_values=(0, 0, 0, -1) if guided else None,
    )
    if guided:
        from nmt.guided import dense_targets

        ds = ds.map(lambda s, ti, to, links: (s, ti, to, dense_targets(links, tf.shape(to)[1], tf.shape(s)[1])))
    if shuffle:
        ds = ds.shuffle(64, seed=seed + 1)
    # A fixed prefetch and no autotuning: the autotuner's thread sleeps up to a minute between rounds, and
    # deleting the iterator waits for it to wake (measured: 20-60 s at the end of a training on a busy
    # core). Batches come from the cache; two ready batches are plenty beside a training step.
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.prefetch(2).with_options(options)


def eval_batches(data: Encoded, batch_tokens: int) -> list[tuple[tf.Tensor, tf.Tensor, tf.Tensor]]:
    """Padded (src [B,S], tgt_in [B,T], tgt_out [B,T]) batches covering every pair once, for a loss that
    is summed over tokens (validation). Pairs are sorted by length and packed while the batch holds at
    most ``batch_tokens`` padded tokens on its longer side: a few full batches, where the training
    stream's one-length buckets leave dozens of partial ones for a small validation set. Built once."""
    src_len = data.src.row_lengths().numpy()  # [N]
    tgt_len = data.tgt.row_lengths().numpy() + 1  # [N] with BOS (input) or EOS (output)
    longest = np.maximum(src_len, tgt_len)  # [N]
    order = np.argsort(longest, kind="stable")  # [N]
    batches, start = [], 0
    for end in range(1, len(order) + 1):
        fits = end < len(order) and (end + 1 - start) * longest[order[end]] <= batch_tokens
        if fits:
            continue
        idx = tf.constant(order[start:end])  # [b]
        src, tgt = tf.gather(data.src, idx), tf.gather(data.tgt, idx)  # ragged [b,(S)], [b,(T)]
        bos = tf.RaggedTensor.from_tensor(tf.fill([len(idx), 1], BOS_ID))  # [b,(1)]
        eos = tf.RaggedTensor.from_tensor(tf.fill([len(idx), 1], EOS_ID))  # [b,(1)]
        batches.append((pad_batch(src), pad_batch(tf.concat([bos, tgt], 1)), pad_batch(tf.concat([tgt, eos], 1))))
        start = end
    return batches


def pad_batch(ragged: tf.RaggedTensor) -> tf.Tensor:
    return ragged.to_tensor(0)  # [B,S]


def length_sorted_batches(lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Indices grouped into batches of similar length (for fast translation); restore order by index."""
    order = np.argsort(lengths, kind="stable")
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
