"""Batched greedy and beam search, written only against the :class:`~nmt.models.base.Seq2Seq` contract.

Both searches run one ``tf.while_loop`` over target positions (no Python loop over time in the graph)
and work eagerly or inside ``tf.function``; :func:`make_decode_fn` returns a ``tf.function`` with
``input_signature=[TensorSpec([None, None], int32)]`` so batch size and source length never retrace.

Shapes: B batch, K beam size, N n-best, S source length, V vocabulary, T target length,
L attention layers, H attention heads.

Conventions (shared by greedy and beam so that beam size 1 reproduces greedy exactly):

* max length of sentence b is ``ceil(a * src_len_b + b)`` tokens, EOS not counted; a hypothesis that
  reaches it is finished without emitting EOS (no EOS log-probability is added);
* a hypothesis' score is its summed log-softmax (EOS included when emitted) divided by the GNMT
  penalty ``((5 + n) / 6) ** alpha`` where ``n`` counts its tokens including EOS;
* finished beam hypotheses stay in the beam: they extend only with pad at log-probability 0;
* per-step tokens, back-pointers and attention are written to ``TensorArray`` s and the returned
  hypotheses are reconstructed by following the back-pointers once at the end, so attention always
  belongs to the hypothesis' own path.

Returned ``T`` is the longest returned hypothesis (``max(lengths)``); ids are padded with pad (0) and
attention rows at or beyond a hypothesis' length are 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import tensorflow as tf

from nmt.errors import UserError
from nmt.models.base import Encoded, Seq2Seq
from nmt.topk import top_k_rows

PAD_ID = 0
#: A search keeps only its unfinished sentences once at most this share of the batch is unfinished.
DROP_FINISHED_BELOW = 0.75


@dataclass(frozen=True)
class DecodeOptions:
    beam_size: int = 1
    length_penalty: float = 0.0  # GNMT alpha: lp = ((5 + len) / 6) ** alpha; 0 -> raw log-probability
    n_best: int = 1
    max_length_a: float = 2.0  # max target length = ceil(a * src_len + b)
    max_length_b: int = 10
    return_attention: bool = False

    def validate(self) -> None:
        if self.beam_size < 1:
            raise UserError(f"beam size must be at least 1, got {self.beam_size}")
        if not 1 <= self.n_best <= self.beam_size:
            raise UserError(f"n-best must be between 1 and the beam size {self.beam_size}, got {self.n_best}")


class DecodeResult(NamedTuple):
    ids: tf.Tensor  # [B,N,T] int32, EOS excluded, pad (0) after the end
    lengths: tf.Tensor  # [B,N] int32 tokens before EOS
    scores: tf.Tensor  # [B,N] float32 length-normalised log-probability, descending over N
    attention: tf.Tensor | None  # [B,N,T,L,H,S] float32, rows >= length are 0; None unless asked


def length_penalty_divisor(lengths: tf.Tensor, alpha: float) -> tf.Tensor:
    """GNMT length penalty ``((5 + n) / 6) ** alpha`` for integer lengths ``n`` (EOS counted)."""
    return tf.pow((5.0 + tf.cast(lengths, tf.float32)) / 6.0, alpha)  # same shape as lengths


def _max_lengths(mask: tf.Tensor, a: float, b: float) -> tf.Tensor:
    """Per-sentence max target length ``ceil(a * src_len + b)`` (>= 0) from the source mask [B,S]."""
    src_len = tf.reduce_sum(tf.cast(mask, tf.float64), axis=1)  # [B]
    limit = tf.math.ceil(a * src_len + float(b) - 1e-6)  # [B] (1e-6 absorbs rounding of a * len)
    return tf.maximum(tf.cast(limit, tf.int32), 0)  # [B]


def _log_normaliser(logits: tf.Tensor, best: tf.Tensor, best_ids: tf.Tensor) -> tf.Tensor:
    """``logsumexp`` of each row of logits [N,V], given each row's largest logit and its id ([N,1]).

    ``log p_best = best - logsumexp``, so ``logsumexp = best - log softmax(logits)[best]``: one fused
    softmax kernel (oneDNN's on CPU) instead of reduce_logsumexp's max, subtract, exp, sum and log;
    the largest probability is at least 1/V, so its log loses nothing.
    """
    return best - tf.math.log(tf.gather(tf.nn.softmax(logits), best_ids, batch_dims=1))  # [N,1]


def _settled(cum, lengths, eos, finished, longest_divisor, alpha: float, n_best: int) -> tf.Tensor:
    """Which sentences' n-best can no longer change: bool [B] from the beam's state ([B,K] each).

    An unfinished hypothesis' summed log-probability ``cum`` (<= 0) only falls, and its length
    penalty is largest at the longest length it may reach, so ``cum / lp(max_len + 1)`` bounds every
    score it can still get. Once the sentence's ``n_best``-th best finished score is at least the
    highest such bound, no unfinished hypothesis can enter the n-best, and the n-best finished ones
    stay in the beam (their only extension, pad at log-probability 0, outscores every candidate of
    an unfinished one). Without this a sentence keeps its beam running until every hypothesis ends,
    often at the length limit, and the batch with it. ``longest_divisor`` [B] is ``lp(max_len + 1)``,
    constant over the search.
    """
    scored = cum / length_penalty_divisor(lengths + tf.cast(eos, tf.int32), alpha)  # [B,K]
    neg_inf = tf.constant(float("-inf"))
    nth = tf.math.top_k(tf.where(finished, scored, neg_inf), k=n_best).values[:, -1]  # [B]
    reach = cum / longest_divisor[:, None]  # [B,K]
    best_open = tf.reduce_max(tf.where(finished, neg_inf, reach), axis=1)  # [B] (-inf when none is open)
    return nth >= best_open  # [B]


def _stack(ta: tf.TensorArray, count: tf.Tensor, empty_shape, dtype) -> tf.Tensor:
    """``ta.stack()`` that also works when nothing was written (the element shape is partly unknown)."""
    return tf.cond(count > 0, ta.stack, lambda: tf.zeros(empty_shape, dtype))  # [count, ...]


def _scatter(rows: tf.Tensor, values: tf.Tensor, base: tf.Tensor) -> tf.Tensor:
    """``base`` [B0,...] with row ``rows[i]`` replaced by ``values[i]``: the loop's rows (only the sentences
    still decoded) written back in the order of the whole batch."""
    return tf.tensor_scatter_nd_update(base, rows[:, None], values)


def _drop_finished(model: Seq2Seq, k: int, prev, state, per_sentence, done: tf.Tensor, live: dict):
    """Once at most :data:`DROP_FINISHED_BELOW` of the batch's sentences are still decoded (``done`` [B]
    bool), keep only those: their hypotheses' ``prev`` [B*K] and state, the ``per_sentence`` tensors
    ([B,...] each), and what ``live`` holds per sentence (the encoder output, rows in the whole batch,
    length bounds). A finished sentence otherwise costs a full row of every product until the longest
    one ends (a third of the row-steps of a length-sorted batch), as CTranslate2 and fairseq also avoid."""
    batch = tf.shape(done)[0]
    alive = tf.reduce_sum(tf.cast(tf.logical_not(done), tf.int32))  # []

    def shrink():
        keep = tf.cast(tf.where(tf.logical_not(done))[:, 0], tf.int32)  # [B']
        hyps = tf.reshape(keep[:, None] * k + tf.range(k)[None, :], [-1])  # [B'*K]
        new_state, encoded = model.select_sentences(state, live["encoded"], keep, hyps)
        picked = {name: tf.gather(live[name], keep) for name in live if name not in ("encoded", "final")}
        return (tf.gather(prev, hyps), new_state, tf.nest.map_structure(lambda x: tf.gather(x, keep), per_sentence),
                {**live, **picked, "encoded": encoded})

    few = tf.cast(alive, tf.float32) <= DROP_FINISHED_BELOW * tf.cast(batch, tf.float32)  # []
    return tf.cond(tf.logical_and(alive > 0, few), shrink,
                   lambda: (prev, state, per_sentence, live))


def _loop_invariants(model: Seq2Seq, loop_vars: dict) -> dict:
    """Shape invariants: the model's for its state, batch axis free for tensors, none for arrays."""
    def invariant(value):
        if isinstance(value, tf.TensorArray):
            return tf.TensorShape(None)
        return tf.TensorShape([None] + value.shape.as_list()[1:])

    inv = {k: tf.nest.map_structure(invariant, v) for k, v in loop_vars.items() if k != "state"}
    inv["state"] = model.state_shape_invariants(loop_vars["state"])
    inv["t"] = tf.TensorShape([])
    return inv


def _keep_final(live: dict, **values) -> dict:
    """``live`` with each of ``values`` (the sentences still decoded, [B,...]) written into its whole-batch
    copy ``live["final"][name]`` [B0,...]: what a sentence ends with survives its being dropped."""
    return {**live, "final": {name: _scatter(live["rows"], value, live["final"][name])
                              for name, value in values.items()}}


def _run_loop(model: Seq2Seq, body, loop: dict, live: dict, final: tuple, t_max, invariants=None) -> dict:
    """Run ``body`` over ``loop`` (``t``, ``prev``, ``state``, ``finished`` and the rest, in order) until
    ``t_max`` steps or every hypothesis is finished. ``live`` holds what shrinks with the batch when
    finished sentences are dropped (``rows`` in the whole batch is added); the ``final`` loop variables
    are kept per sentence of the whole batch and returned in their place. ``invariants``: shape
    invariants that differ from :func:`_loop_invariants`'."""
    loop = {**loop, "live": {"rows": tf.range(tf.shape(loop["finished"])[0]), **live,
                             "final": {name: loop[name] for name in final}}}
    order = list(loop)
    shapes = {**_loop_invariants(model, loop), **(invariants or {})}
    at = order.index("finished")

    def cond(t, *rest):
        return tf.logical_and(t < t_max, tf.logical_not(tf.reduce_all(rest[at - 1])))  # []

    res = dict(zip(order, tf.while_loop(cond, body, [loop[name] for name in order],
                                        shape_invariants=[shapes[name] for name in order])))
    res.update(res["live"]["final"])  # every sentence's final values [B0,...]
    return res


def _finish(tokens, attention, lengths, scores) -> DecodeResult:
    """Time-major paths ``tokens`` [T,B,N] / ``attention`` [T,B,N,L,H,S] -> batch-major, trimmed, masked."""
    t_out = tf.reduce_max(tf.concat([tf.reshape(lengths, [-1]), [0]], 0))  # [] longest hypothesis
    keep = tf.range(t_out)[None, None, :] < lengths[:, :, None]  # [B,N,T]
    ids = tf.transpose(tokens[:t_out], [1, 2, 0])  # [B,N,T]
    ids = tf.where(keep, ids, tf.zeros_like(ids))  # [B,N,T]
    att = None
    if attention is not None:
        att = tf.transpose(attention[:t_out], [1, 2, 0, 3, 4, 5])  # [B,N,T,L,H,S]
        att = tf.where(keep[:, :, :, None, None, None], att, tf.zeros_like(att))  # [B,N,T,L,H,S]
    return DecodeResult(ids=ids, lengths=lengths, scores=scores, attention=att)


def _start(model: Seq2Seq, src_ids, max_length_a: float, max_length_b: float):
    """Encoding, per-sentence max lengths [B] and the loop bound []."""
    src_ids = tf.convert_to_tensor(src_ids, tf.int32)  # [B,S]
    encoded = model.encode(src_ids, training=False)  # memory [B,S,D], mask [B,S]
    max_len = _max_lengths(encoded.mask, max_length_a, max_length_b)  # [B]
    return src_ids, encoded, max_len, tf.reduce_max(tf.concat([max_len, [0]], 0))


def greedy_search(model: Seq2Seq, src_ids: tf.Tensor, *, bos_id: int, eos_id: int, max_length_a: float,
                  max_length_b: float, length_penalty: float = 0.0,
                  return_attention: bool = False) -> DecodeResult:
    """Batched greedy decoding of ``src_ids`` [B,S] (pad 0); returns a :class:`DecodeResult` with N = 1."""
    src_ids, encoded, max_len, t_max = _start(model, src_ids, max_length_a, max_length_b)
    batch = tf.shape(src_ids)[0]  # []
    src_len = tf.shape(encoded.mask)[1]  # []
    att_shape = [0, batch, model.attention_layers, model.attention_heads, src_len]

    def body(t, prev, state, finished, lengths, eos, score, tok_ta, att_ta, live):
        rows, max_len = live["rows"], live["max_len"]  # [B] both: only the sentences still decoded
        out = model.step(prev, state, live["encoded"], training=False)  # logits [B,V], attention [B,L,H,S]
        logits = tf.cast(out.logits, tf.float32)  # [B,V]
        tok = tf.argmax(logits, axis=-1, output_type=tf.int32)  # [B] (log-softmax keeps the order)
        best = tf.gather(logits, tok[:, None], batch_dims=1)  # [B,1]
        logp = (best - _log_normaliser(logits, best, tok[:, None]))[:, 0]  # [B] as beam search computes it
        score = tf.where(finished, score, score + logp)  # [B]
        is_eos = tf.logical_and(tf.logical_not(finished), tf.equal(tok, eos_id))  # [B]
        grew = tf.logical_not(tf.logical_or(finished, is_eos))  # [B]
        lengths = lengths + tf.cast(grew, tf.int32)  # [B]
        eos = tf.logical_or(eos, is_eos)  # [B]
        tok = tf.where(finished, tf.fill(tf.shape(tok), PAD_ID), tok)  # [B]
        finished = tf.logical_or(tf.logical_or(finished, is_eos), lengths >= max_len)  # [B]
        tok_ta = tok_ta.write(t, _scatter(rows, tok, tf.zeros([full], tf.int32)))  # T x [B0]
        if return_attention:
            att = tf.cast(out.attention, tf.float32)  # [B,L,H,S] at step t
            att_ta = att_ta.write(t, _scatter(rows, att, tf.zeros(tf.concat([[full], tf.shape(att)[1:]], 0))))
        live = _keep_final(live, lengths=lengths, eos=eos, score=score)  # [B0] each
        # drop the sentences that are done once a quarter of the batch is
        tok, state, (finished, lengths, eos, score), live = _drop_finished(
            model, 1, tok, out.state, (finished, lengths, eos, score), finished, live)
        return t + 1, tok, state, finished, lengths, eos, score, tok_ta, att_ta, live

    loop = dict(
        t=tf.constant(0),  # []
        prev=tf.fill([batch], bos_id),  # [B]
        state=model.initial_state(encoded),  # nested, batch [B] on axis 0
        finished=max_len <= 0,  # [B]
        lengths=tf.zeros([batch], tf.int32),  # [B]
        eos=tf.zeros([batch], tf.bool),  # [B]
        score=tf.zeros([batch], tf.float32),  # [B]
        tok_ta=tf.TensorArray(tf.int32, size=0, dynamic_size=True),
        att_ta=tf.TensorArray(tf.float32, size=0, dynamic_size=True) if return_attention else tf.zeros([0]),
    )
    full = batch  # [] sentences in the batch
    res = _run_loop(model, body, loop, {"encoded": encoded, "max_len": max_len}, ("lengths", "eos", "score"), t_max)
    steps = res["t"]  # []
    tokens = _stack(res["tok_ta"], steps, [0, batch], tf.int32)[:, :, None]  # [T,B,1]
    attention = None
    if return_attention:
        attention = _stack(res["att_ta"], steps, att_shape, tf.float32)[:, :, None]  # [T,B,1,L,H,S]
    lp_len = res["lengths"] + tf.cast(res["eos"], tf.int32)  # [B]
    scores = res["score"] / length_penalty_divisor(lp_len, length_penalty)  # [B]
    return _finish(tokens, attention, res["lengths"][:, None], scores[:, None])


def beam_search(model: Seq2Seq, src_ids: tf.Tensor, *, beam_size: int, bos_id: int, eos_id: int,
                length_penalty: float = 0.0, n_best: int = 1, max_length_a: float, max_length_b: float,
                return_attention: bool = False, early_stop: bool = True) -> DecodeResult:
    """Batched beam search of ``src_ids`` [B,S] (pad 0); the ``n_best`` best per sentence, best first.

    ``early_stop``: a sentence stops as soon as its ``n_best`` best finished hypotheses cannot be
    overtaken (see :func:`_settled`); the result is the same as without it.
    """
    DecodeOptions(beam_size=beam_size, n_best=n_best).validate()
    k = beam_size
    src_ids, encoded, max_len, t_max = _start(model, src_ids, max_length_a, max_length_b)
    batch = tf.shape(src_ids)[0]  # []
    src_len = tf.shape(encoded.mask)[1]  # []
    att_shape = [0, batch, k, model.attention_layers, model.attention_heads, src_len]
    tiled: Encoded = model.tile_encoded(encoded, k)  # every tensor [B*K,...]
    neg_inf = tf.constant(float("-inf"))  # []

    def body(t, prev, state, cum, lengths, eos, finished, tok_ta, par_ta, att_ta, live):
        tiled, rows, max_len, longest_divisor = live["encoded"], live["rows"], live["max_len"], live["divisor"]
        batch = tf.shape(cum)[0]  # [] sentences still decoded
        out = model.step(prev, state, tiled, training=False)  # logits [B*K,V], attention [B*K,L,H,S]
        logits = tf.cast(out.logits, tf.float32)  # [B*K,V]
        # The K best of a sentence's K*V extensions are among the K best of each hypothesis (its
        # length penalty is one number per row), and log-softmax keeps a row's order: so take the
        # top K of every row of logits and only then normalise those.
        # [] k'
        row_k = min(k, logits.shape[-1]) if logits.shape[-1] is not None else tf.minimum(k, tf.shape(logits)[-1])
        top_logits, top_ids = top_k_rows(logits, row_k)  # [B*K,k'] both
        logp = top_logits - _log_normaliser(logits, top_logits[:, :1], top_ids[:, :1])  # [B*K,k']
        logp = tf.reshape(logp, [batch, k, row_k])  # [B,K,k']
        top_ids = tf.reshape(top_ids, [batch, k, row_k])  # [B,K,k']
        # A finished hypothesis extends only with pad at log-probability 0.
        frozen = tf.where(tf.range(row_k) == 0, 0.0, neg_inf)  # [k']
        logp = tf.where(finished[:, :, None], frozen[None, None, :], logp)  # [B,K,k']
        top_ids = tf.where(finished[:, :, None], PAD_ID, top_ids)  # [B,K,k']
        cand = cum[:, :, None] + logp  # [B,K,k']
        cand_len = lengths + tf.cast(eos, tf.int32) + tf.cast(tf.logical_not(finished), tf.int32)  # [B,K]
        norm = cand / length_penalty_divisor(cand_len, length_penalty)[:, :, None]  # [B,K,k']
        _, flat = tf.math.top_k(tf.reshape(norm, [batch, k * row_k]), k=k)  # [B,K] over K*k'
        parent = flat // row_k  # [B,K]
        tok = tf.gather(tf.reshape(top_ids, [batch, k * row_k]), flat, batch_dims=1)  # [B,K]
        cum = tf.gather(tf.reshape(cand, [batch, k * row_k]), flat, batch_dims=1)  # [B,K]
        p_fin = tf.gather(finished, parent, batch_dims=1)  # [B,K]
        is_eos = tf.logical_and(tf.logical_not(p_fin), tf.equal(tok, eos_id))  # [B,K]
        grew = tf.logical_not(tf.logical_or(p_fin, is_eos))  # [B,K]
        lengths = tf.gather(lengths, parent, batch_dims=1) + tf.cast(grew, tf.int32)  # [B,K]
        eos = tf.logical_or(tf.gather(eos, parent, batch_dims=1), is_eos)  # [B,K]
        finished = tf.logical_or(tf.logical_or(p_fin, is_eos), lengths >= max_len[:, None])  # [B,K]
        if early_stop:
            settled = _settled(cum, lengths, eos, finished, longest_divisor, length_penalty, n_best)  # [B]
            finished = tf.logical_or(finished, settled[:, None])  # [B,K]
        flat_parent = tf.reshape(parent + tf.range(batch)[:, None] * k, [-1])  # [B*K]
        state = model.reorder_state(out.state, flat_parent)  # every tensor [B*K,...]
        # per-step arrays hold every sentence of the batch: a dropped one extends with pad from its own slot
        tok_ta = tok_ta.write(t, _scatter(rows, tok, tf.zeros([full, k], tf.int32)))  # T x [B0,K]
        par_ta = par_ta.write(t, _scatter(rows, parent, tf.tile(tf.range(k)[None], [full, 1])))  # T x [B0,K]
        if return_attention:
            att = tf.cast(out.attention, tf.float32)  # [B*K,L,H,S]
            att = tf.reshape(att, tf.concat([[batch, k], tf.shape(att)[1:]], 0))  # [B,K,L,H,S]
            att = tf.gather(att, parent, batch_dims=1)  # [B,K,L,H,S] new-slot order
            att_ta = att_ta.write(t, _scatter(rows, att, tf.zeros(tf.concat([[full], tf.shape(att)[1:]], 0))))
        live = _keep_final(live, cum=cum, lengths=lengths, eos=eos)  # [B0,K] each
        prev = tf.reshape(tok, [-1])  # [B*K]
        # drop the sentences that are done once a quarter of the batch is
        prev, state, (cum, lengths, eos, finished), live = _drop_finished(
            model, k, prev, state, (cum, lengths, eos, finished), tf.reduce_all(finished, axis=1), live)
        return t + 1, prev, state, cum, lengths, eos, finished, tok_ta, par_ta, att_ta, live

    first = tf.concat([[0.0], tf.fill([k - 1], neg_inf)], 0)  # [K] only beam 0 alive at the start
    loop = dict(
        t=tf.constant(0),  # []
        prev=tf.fill([batch * k], bos_id),  # [B*K]
        state=model.initial_state(tiled),  # nested, batch [B*K] on axis 0
        cum=tf.tile(first[None, :], [batch, 1]),  # [B,K]
        lengths=tf.zeros([batch, k], tf.int32),  # [B,K]
        eos=tf.zeros([batch, k], tf.bool),  # [B,K]
        finished=tf.tile((max_len <= 0)[:, None], [1, k]),  # [B,K]
        tok_ta=tf.TensorArray(tf.int32, size=0, dynamic_size=True),
        par_ta=tf.TensorArray(tf.int32, size=0, dynamic_size=True),
        att_ta=tf.TensorArray(tf.float32, size=0, dynamic_size=True) if return_attention else tf.zeros([0]),
    )
    full = batch  # [] sentences in the batch
    live = {"encoded": tiled, "max_len": max_len,
            "divisor": length_penalty_divisor(max_len + 1, length_penalty)}  # [B] for early stopping
    res = _run_loop(model, body, loop, live, ("cum", "lengths", "eos"), t_max,
                    {name: tf.TensorShape([None, k]) for name in ("cum", "lengths", "eos", "finished")})
    steps = res["t"]  # []

    lp_len = res["lengths"] + tf.cast(res["eos"], tf.int32)  # [B,K]
    normed = res["cum"] / length_penalty_divisor(lp_len, length_penalty)  # [B,K]
    scores, best = tf.math.top_k(normed, k=n_best)  # [B,N] both
    lengths = tf.gather(res["lengths"], best, batch_dims=1)  # [B,N]

    # Follow the back-pointers from the last step to the first: slot of every returned path per step.
    parents = _stack(res["par_ta"], steps, [0, batch, k], tf.int32)  # [T,B,K]

    def back(t, slot, slots_ta):
        slots_ta = slots_ta.write(t, slot)  # slot [B,N] at step t
        return t - 1, tf.gather(parents[t], slot, batch_dims=1), slots_ta  # [B,N] slot at step t-1

    _, _, slots_ta = tf.while_loop(
        lambda t, *_: t >= 0, back, [steps - 1, best, tf.TensorArray(tf.int32, size=steps)],
        shape_invariants=[tf.TensorShape([]), tf.TensorShape([None, n_best]), tf.TensorShape(None)])
    slots = _stack(slots_ta, steps, [0, batch, n_best], tf.int32)  # [T,B,N]
    tokens = tf.gather(_stack(res["tok_ta"], steps, [0, batch, k], tf.int32), slots, batch_dims=2)  # [T,B,N]
    attention = None
    if return_attention:
        att_all = _stack(res["att_ta"], steps, att_shape, tf.float32)  # [T,B,K,L,H,S]
        attention = tf.gather(att_all, slots, batch_dims=2)  # [T,B,N,L,H,S]
    return _finish(tokens, attention, lengths, scores)


def decode(model: Seq2Seq, src_ids: tf.Tensor, options: DecodeOptions, bos_id: int = 2,
           eos_id: int = 3) -> DecodeResult:
    """Greedy search when ``options.beam_size == 1``, beam search otherwise."""
    options.validate()
    common = dict(bos_id=bos_id, eos_id=eos_id, max_length_a=options.max_length_a,
                  max_length_b=options.max_length_b, length_penalty=options.length_penalty,
                  return_attention=options.return_attention)
    if options.beam_size == 1:
        return greedy_search(model, src_ids, **common)
    return beam_search(model, src_ids, beam_size=options.beam_size, n_best=options.n_best, **common)


def make_decode_fn(model: Seq2Seq, options: DecodeOptions, bos_id: int = 2, eos_id: int = 3):
    """A ``tf.function`` ``src_ids [B,S] int32 -> DecodeResult`` traced once for every B and S."""
    options.validate()

    # autograph=False: every loop here is an explicit tf.while_loop, and the models' Python
    # branches depend on configuration only.
    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32)], autograph=False)
    def decode_fn(src_ids):
        return decode(model, src_ids, options, bos_id=bos_id, eos_id=eos_id)

    return decode_fn
