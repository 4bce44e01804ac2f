"""Guided alignment (Garg et al. 2019): one cross-attention head trained to follow given word links.

A training pair may carry word links (Pharaoh ``i-j``, source word first, over the whitespace words of
the pair, as ``nmt align``, eflomal and fast_align write them). The chosen layer and head's row for each
target piece is pulled, by cross-entropy, towards the uniform distribution over the source pieces of
the words its word links to; rows of unlinked target words and the final ``</s>`` row add nothing.

- :func:`piece_links` turns word links into piece coordinates once, when the corpus is encoded;
- :func:`dense_targets` makes a batch's [B,T,S] target distribution from them, in the input pipeline;
- :func:`guided_loss` is the term the trainer adds to the translation loss, for any family: every model
  returns its attention from ``forward`` as [B,L,H,T,S] (row t: the step that predicts target piece t);
  ``train.guided_shift`` supervises the step that reads piece t instead (Shift-Att, Chen et al. 2020);
  ``train.guided_full_context`` takes the attention of a second pass that sees the whole target
  sentence (``forward_full_context``; Garg et al. 2019), whose translation loss is not counted.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from nmt.alignment import parse_pharaoh, piece_tokens
from nmt.errors import UserError
from nmt.tokenization import BOS_ID, EOS_ID

PAD = -1  # padding of a batch's link coordinates


def piece_links(sources: Sequence[str], targets: Sequence[str], links: Sequence[str], tokenizer,
                what: str = "--train-links") -> tf.RaggedTensor:
    """[N,(K),2] int32 (target piece, source piece) pairs: every piece of a target word against every
    piece of each source word it links to. Pieces index the model's sequences: source pieces with their
    final ``</s>``, target pieces without BOS (row t of the attention predicts target piece t)."""
    if not len(sources) == len(targets) == len(links):
        raise ValueError(f"{len(sources)} sources, {len(targets)} targets, {len(links)} link lines")
    maps = {}
    for side, texts in (("src", sources), ("tgt", targets)):
        ids, starts, ends = tokenizer.encode_with_offsets(side, tf.constant(list(texts)))
        maps[side] = [piece_tokens(text, s, e, [i == EOS_ID for i in row])
                      for text, row, s, e in zip(texts, ids.numpy(), starts.numpy(), ends.numpy())]
    rows = []
    for n, (line, src_words, tgt_words) in enumerate(zip(links, maps["src"], maps["tgt"])):
        lengths = (len(sources[n].split()), len(targets[n].split()))
        gold = parse_pharaoh(line, f"{what}, line {n + 1}", 0, lengths)
        src_pieces = _pieces_of(src_words, lengths[0])
        tgt_pieces = _pieces_of(tgt_words, lengths[1])
        pairs = [(t, s) for i, j in sorted(gold.possible) for t in tgt_pieces[j] for s in src_pieces[i]]
        rows.append(np.asarray(sorted(set(pairs)), np.int32).reshape(-1, 2))
    return tf.RaggedTensor.from_row_lengths(np.concatenate(rows) if rows else np.zeros([0, 2], np.int32),
                                            [len(r) for r in rows])


def _pieces_of(word_of_piece: Sequence[int], words: int) -> list[list[int]]:
    pieces: list[list[int]] = [[] for _ in range(words)]
    for p, w in enumerate(word_of_piece):
        if w >= 0:
            pieces[w].append(p)
    return pieces


def dense_targets(links: tf.Tensor, target_steps: tf.Tensor, source_steps: tf.Tensor) -> tf.Tensor:
    """links [B,K,2] (``PAD`` rows ignored) -> [B,T,S] float32: each linked row a distribution over the
    source pieces it links to, each unlinked row zeros."""
    valid = links[..., 0] >= 0  # [B,K]
    batch = tf.broadcast_to(tf.range(tf.shape(links)[0])[:, None], tf.shape(valid))  # [B,K]
    index = tf.boolean_mask(tf.stack([batch, links[..., 0], links[..., 1]], -1), valid)  # [n,3]
    shape = tf.stack([tf.shape(links)[0], target_steps, source_steps])
    ones = tf.scatter_nd(index, tf.ones(tf.shape(index)[:1], tf.float32), shape)  # [B,T,S] (links are unique)
    return tf.math.divide_no_nan(ones, tf.reduce_sum(ones, -1, keepdims=True))  # [B,T,S]


def guided_loss(weights: tf.Tensor, target: tf.Tensor, layer: int, head: int,
                shift: bool = False) -> tuple[tf.Tensor, tf.Tensor]:
    """(summed cross-entropy of the linked rows, number of linked rows) between ``target`` [B,T,S] and
    the attention ``weights`` [B,L,H,T,S] of one layer and head.

    Row t of ``target`` belongs to target piece t. It supervises the attention row of the step that
    predicts piece t (row t), or with ``shift`` the step that reads it as its input (row t + 1, Shift-Att:
    that step has seen the word it aligns, so the head need not guess the next word to point at it)."""
    if shift:  # the last target row (the </s> step's) never has links, so nothing is lost
        target = tf.pad(target, [[0, 0], [1, 0], [0, 0]])[:, :-1]  # [B,T,S]
    attention = tf.cast(weights[:, layer, head], tf.float32)  # [B,T,S]
    tiny = tf.constant(np.finfo(np.float32).tiny, tf.float32)
    cross_entropy = -tf.reduce_sum(tf.math.xlogy(target, tf.maximum(attention, tiny)), -1)  # [B,T]
    rows = tf.reduce_sum(tf.cast(tf.reduce_sum(target, -1) > 0, tf.float32))  # []
    return tf.reduce_sum(cross_entropy), rows


def check_guidable(model, layer: int, head: int, full_context: bool = False) -> None:
    """Refuse, in one line, a layer or head the model does not have (read from the shape of its
    attention), attention that no weight shapes (``none``: its uniform rows would take no guidance), and
    ``full_context`` for a family that cannot attend to the whole target sentence."""
    ids = tf.constant([[5, 6, EOS_ID]], tf.int32)
    tgt_in = tf.constant([[BOS_ID, 5]], tf.int32)
    with tf.GradientTape() as tape:
        if full_context:  # [1,L,H,2,3]
            weights = model.forward_full_context(ids, tgt_in, training=False)
        else:
            _, weights = model.forward(ids, tgt_in, training=False)
        layers, heads = int(weights.shape[1]), int(weights.shape[2])
        if not -layers <= layer < layers or not 0 <= head < heads:
            raise UserError(f"guided alignment: layer {layer}, head {head} do not exist; this model has {layers} "
                            f"attention layer(s) of {heads} head(s) (--guided-layer, --guided-head)")
        target = tf.constant([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])  # [1,2,3]
        loss, _ = guided_loss(weights, target, layer, head)
    if all(g is None for g in tape.gradient(loss, model.trainable_variables)):
        raise UserError("this model's attention has no weights to guide (attention 'none'); choose another "
                        "mechanism or drop --train-links")
