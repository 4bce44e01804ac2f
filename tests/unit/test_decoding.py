"""Greedy and beam search against fake models with scripted probabilities."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from nmt.decoding import DecodeOptions, beam_search, decode, greedy_search, make_decode_fn, top_k_rows
from nmt.errors import UserError
from nmt.models.base import Encoded, Seq2Seq, StepOutput

V = 10
PAD, UNK, BOS, EOS = 0, 1, 2, 3
A, B, C, D = 4, 5, 6, 7
NEG = -1e9


class TableModel(Seq2Seq):
    """Scripted model.

    logits = table[min(t, T-1), prev] + acc_table[acc % V] + src_weight * bag-of-source, where
    ``acc`` is the sum of every token fed so far (BOS included); attention of layer l, head h is
    one-hot at source position ``(acc + l + h) % src_len``. With ``growing`` the state is the token
    history [B,t] (grows like a KV cache) instead of counters [B].
    """

    def __init__(self, table, acc_table=None, src_weight=0.0, layers=1, heads=1, growing=False):
        super().__init__()
        self.table = np.asarray(table, np.float32)  # [T,V,V]
        self.acc_table = np.zeros([V, V], np.float32) if acc_table is None else np.asarray(acc_table, np.float32)
        self.src_weight = src_weight
        self.attention_layers, self.attention_heads = layers, heads
        self.growing = growing

    def encode(self, src_ids, training=False):
        return Encoded(memory=tf.one_hot(src_ids, V), mask=tf.not_equal(src_ids, PAD), state=())

    def initial_state(self, encoded):
        batch = tf.shape(encoded.mask)[0]
        if self.growing:
            return {"hist": tf.zeros([batch, 0], tf.int32)}
        return {"t": tf.zeros([batch], tf.int32), "acc": tf.zeros([batch], tf.int32)}

    def state_shape_invariants(self, state):
        if self.growing:
            return {"hist": tf.TensorShape([None, None])}
        return super().state_shape_invariants(state)

    def step(self, prev_ids, state, encoded, training=False):
        if self.growing:
            hist = tf.concat([state["hist"], prev_ids[:, None]], 1)
            t = tf.fill(tf.shape(prev_ids), tf.shape(hist)[1] - 1)
            acc = tf.reduce_sum(hist, 1)
            new_state = {"hist": hist}
        else:
            t, acc = state["t"], state["acc"] + prev_ids
            new_state = {"t": t + 1, "acc": acc}
        t = tf.minimum(t, self.table.shape[0] - 1)
        logits = tf.gather_nd(tf.constant(self.table), tf.stack([t, prev_ids], 1))
        logits += tf.gather(tf.constant(self.acc_table), acc % V)
        mask = tf.cast(encoded.mask, tf.float32)
        logits += self.src_weight * tf.reduce_sum(encoded.memory * mask[:, :, None], 1)
        src_len = tf.maximum(tf.reduce_sum(tf.cast(encoded.mask, tf.int32), 1), 1)
        lh = tf.range(self.attention_layers)[:, None] + tf.range(self.attention_heads)[None, :]
        pos = (acc[:, None, None] + lh[None]) % src_len[:, None, None]
        attention = tf.one_hot(pos, tf.shape(encoded.mask)[1])  # [B,L,H,S]
        return StepOutput(logits=logits, state=new_state, attention=attention)


def scripted_table(spec, steps=6):
    """Logits [steps,V,V] from ``{(t, prev): {token: prob}}``; unnamed content tokens share the rest."""
    table = np.full([steps, V, V], NEG, np.float32)
    table[:, :, EOS] = 0.0  # unscripted rows: EOS with probability 1
    for (t, prev), probs in spec.items():
        row = np.full([V], NEG, np.float32)
        fillers = [tok for tok in range(4, V) if tok not in probs]
        rest = 1.0 - sum(probs.values())
        for tok, p in probs.items():
            row[tok] = math.log(p) if p > 0 else NEG
        if rest > 1e-9:
            row[fillers] = math.log(rest / len(fillers))
        table[t, prev] = row
    return table


def random_model(seed, steps=12, layers=1, heads=1, growing=False, eos_bias=0.0, no_eos=False):
    rng = np.random.default_rng(seed)
    table = rng.normal(size=[steps, V, V]).astype(np.float32)
    table[:, :, EOS] += eos_bias
    table[:, :, [PAD, UNK, BOS]] = NEG
    table[0, :, EOS] = NEG  # no empty translations
    if no_eos:
        table[:, :, EOS] = NEG
    acc_table = rng.normal(size=[V, V]).astype(np.float32) * 0.5
    return TableModel(table, acc_table, src_weight=1.0, layers=layers, heads=heads, growing=growing)


def padded(sentences):
    width = max(len(s) for s in sentences)
    return tf.constant([list(s) + [PAD] * (width - len(s)) for s in sentences], tf.int32)


SRC = padded([[4, 5, 6], [7, 8, 9, 4, 5], [6], [9, 9, 8, 7]])


def path_score(model, src, tokens, ended_with_eos, alpha):
    """Teacher-forced score of one hypothesis, computed step by step with the model itself."""
    src = tf.constant([src], tf.int32)
    encoded = model.encode(src)
    state, prev, total = model.initial_state(encoded), BOS, 0.0
    for tok in list(tokens) + ([EOS] if ended_with_eos else []):
        out = model.step(tf.constant([prev]), state, encoded)
        total += float(tf.nn.log_softmax(out.logits)[0, tok])
        state, prev = out.state, tok
    n = len(tokens) + int(ended_with_eos)
    return total / ((5 + n) / 6) ** alpha


def hyps(result):
    ids, lengths = result.ids.numpy(), result.lengths.numpy()
    return [[list(ids[b, n, : lengths[b, n]]) for n in range(ids.shape[1])] for b in range(ids.shape[0])]


# 1 ------------------------------------------------------------------------------------------------
def test_beam_finds_better_sequence_than_greedy():
    model = TableModel(scripted_table({(0, BOS): {A: 0.6, B: 0.4}, (1, A): {EOS: 0.4}, (1, B): {EOS: 0.9}}))
    src = padded([[4, 5]])
    kw = dict(bos_id=BOS, eos_id=EOS, max_length_a=0.0, max_length_b=5)
    g = greedy_search(model, src, **kw)
    assert hyps(g) == [[[A]]]
    # float32 log-softmax (max, exp, sum of 10, log, subtract: ~5 roundings of eps32 1.2e-7 on |x| <= 1.5)
    # at each of 2 steps, against the float64 value: <= 2e-6 of a score of 1.4
    np.testing.assert_allclose(g.scores.numpy(), [[math.log(0.24)]], rtol=5e-6)
    b = beam_search(model, src, beam_size=2, n_best=2, **kw)
    assert hyps(b) == [[[B], [A]]]
    np.testing.assert_allclose(b.scores.numpy(), [[math.log(0.36), math.log(0.24)]], rtol=5e-6)
    assert b.ids.shape == (1, 2, 1) and b.attention is None


# 2 ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("alpha", [0.0, 0.7])
def test_beam_one_equals_greedy(seed, alpha):
    model = random_model(seed, growing=seed % 2 == 1)
    kw = dict(bos_id=BOS, eos_id=EOS, max_length_a=1.5, max_length_b=2, length_penalty=alpha)
    g = greedy_search(model, SRC, **kw)
    b = beam_search(model, SRC, beam_size=1, **kw)
    np.testing.assert_array_equal(g.ids.numpy(), b.ids.numpy())
    np.testing.assert_array_equal(g.lengths.numpy(), b.lengths.numpy())
    np.testing.assert_array_equal(g.scores.numpy(), b.scores.numpy())
    assert len({tuple(h[0]) for h in hyps(g)}) > 1  # sentences really differ


# 3 ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("beam", [1, 3])
def test_batched_equals_one_at_a_time(beam):
    sentences = [[4, 5, 6], [7, 8, 9, 4, 5], [6], [9, 9, 8, 7]]
    model = random_model(7, layers=2, heads=2, growing=beam == 3)
    opts = DecodeOptions(beam_size=beam, n_best=min(beam, 2), length_penalty=0.6, max_length_a=1.0,
                         max_length_b=3, return_attention=True)
    batch = decode(model, padded(sentences), opts, bos_id=BOS, eos_id=EOS)
    for i, sent in enumerate(sentences):
        alone = decode(model, padded([sent]), opts, bos_id=BOS, eos_id=EOS)
        n = int(tf.reduce_max(alone.lengths))
        np.testing.assert_array_equal(batch.lengths[i].numpy(), alone.lengths[0].numpy())
        np.testing.assert_array_equal(batch.ids[i, :, :n].numpy(), alone.ids[0].numpy())
        assert not batch.ids[i, :, n:].numpy().any()
        np.testing.assert_allclose(batch.scores[i].numpy(), alone.scores[0].numpy(), rtol=1e-5)
        att = batch.attention[i, :, :n].numpy()
        np.testing.assert_array_equal(att[..., : len(sent)], alone.attention[0].numpy())
        assert not att[..., len(sent):].any()


# 4 ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("beam", [1, 3])
@pytest.mark.parametrize("a,b,expected", [(1.0, 2, [5, 7, 3, 6]), (0.5, 1, [3, 4, 2, 3])])
def test_max_length_per_sentence(beam, a, b, expected):
    model = random_model(3, no_eos=True)
    res = decode(model, SRC, DecodeOptions(beam_size=beam, n_best=beam, max_length_a=a, max_length_b=b),
                 bos_id=BOS, eos_id=EOS)
    np.testing.assert_array_equal(res.lengths.numpy(), np.repeat(np.array(expected)[:, None], beam, 1))
    assert res.ids.shape[2] == max(expected)
    for i, n in enumerate(expected):
        assert (res.ids[i, :, :n].numpy() >= 4).all() and not res.ids[i, :, n:].numpy().any()


def test_zero_max_length_gives_empty_hypotheses():
    model = random_model(0)
    for beam in (1, 2):
        opts = DecodeOptions(beam_size=beam, max_length_a=0.0, max_length_b=0, return_attention=True)
        res = make_decode_fn(model, opts, bos_id=BOS, eos_id=EOS)(SRC)
        assert res.ids.shape == (4, 1, 0) and res.attention.shape[:3] == (4, 1, 0)
        assert not res.lengths.numpy().any() and not res.scores.numpy().any()


# 5 ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_n_best_distinct_sorted_and_scores_match_paths(alpha):
    model = random_model(11, eos_bias=1.0)
    a, b = 1.0, 2
    res = beam_search(model, SRC, beam_size=4, n_best=4, bos_id=BOS, eos_id=EOS, length_penalty=alpha,
                      max_length_a=a, max_length_b=b)
    scores = res.scores.numpy()
    assert (np.diff(scores, axis=1) <= 0).all()
    for i, (sent, hs) in enumerate(zip([[4, 5, 6], [7, 8, 9, 4, 5], [6], [9, 9, 8, 7]], hyps(res))):
        assert len({tuple(h) for h in hs}) == 4
        for n, h in enumerate(hs):
            ended = len(h) < a * len(sent) + b
            assert scores[i, n] == pytest.approx(path_score(model, sent, h, ended, alpha), abs=1e-4)


def test_length_penalty_changes_ranking():
    spec = {(0, BOS): {A: 0.6, B: 0.4}, (1, A): {EOS: 0.6}, (1, B): {C: 0.95}, (2, C): {D: 0.9},
            (3, D): {EOS: 0.9}}
    model = TableModel(scripted_table(spec))
    short, long_ = math.log(0.36), math.log(0.4 * 0.95 * 0.9 * 0.9)
    kw = dict(beam_size=2, n_best=2, bos_id=BOS, eos_id=EOS, max_length_a=0.0, max_length_b=5)
    raw = beam_search(model, padded([[4]]), length_penalty=0.0, **kw)
    assert hyps(raw) == [[[A], [B, C, D]]]
    np.testing.assert_allclose(raw.scores.numpy(), [[short, long_]], rtol=1e-5)
    np.testing.assert_array_equal(raw.ids.numpy(), [[[A, 0, 0], [B, C, D]]])
    pen = beam_search(model, padded([[4]]), length_penalty=1.0, **kw)
    assert hyps(pen) == [[[B, C, D], [A]]]
    np.testing.assert_allclose(pen.scores.numpy(), [[long_ / 1.5, short / (7 / 6)]], rtol=1e-5)


# 6 ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("growing", [False, True])
def test_attention_follows_back_pointers(growing):
    model = random_model(5, layers=2, heads=2, growing=growing, eos_bias=0.0)
    sentences = [[4, 5, 6], [7, 8, 9, 4, 5], [6], [9, 9, 8, 7]]
    res = beam_search(model, SRC, beam_size=4, n_best=4, bos_id=BOS, eos_id=EOS, max_length_a=1.5,
                      max_length_b=2, return_attention=True)
    att = res.attention.numpy()
    assert att.shape == (4, 4, res.ids.shape[2], 2, 2, SRC.shape[1])
    for i, (sent, hs) in enumerate(zip(sentences, hyps(res))):
        for n, h in enumerate(hs):
            expected = np.zeros(att.shape[2:], np.float32)
            for t in range(len(h)):
                acc = BOS + sum(h[:t])
                for layer in range(2):
                    for head in range(2):
                        expected[t, layer, head, (acc + layer + head) % len(sent)] = 1.0
            np.testing.assert_array_equal(att[i, n], expected)


# 7 ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("beam,attention", [(1, True), (3, True), (3, False)])
def test_tf_function_matches_eager_without_retracing(beam, attention):
    model = random_model(2, layers=1, heads=2, growing=beam == 3)
    opts = DecodeOptions(beam_size=beam, n_best=beam, length_penalty=0.5, max_length_a=1.0, max_length_b=2,
                         return_attention=attention)
    fn = make_decode_fn(model, opts, bos_id=BOS, eos_id=EOS)
    for src in (SRC, padded([[5, 6]]), padded([[4, 4, 4, 4, 4, 4, 4], [5], [6, 7]])):
        traced, eager = fn(src), decode(model, src, opts, bos_id=BOS, eos_id=EOS)
        assert (traced.attention is None) == (eager.attention is None) == (not attention)
        for got, want in zip(traced, eager):
            if want is not None:  # ids and one-hot attention exactly; a score sums <= 9 steps' float32 log-softmax
                # of logits <= 8, which a graph may fuse differently: 9 x 5 roundings x 1.2e-7 x 8 = 4.3e-5 at worst
                np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=5e-5)
    assert fn.experimental_get_tracing_count() == 1


def test_rejects_bad_options():
    with pytest.raises(UserError):
        decode(random_model(0), SRC, DecodeOptions(beam_size=2, n_best=3))
    with pytest.raises(UserError):
        decode(random_model(0), SRC, DecodeOptions(beam_size=0))


@pytest.mark.parametrize("vocab, k", [(8000, 4), (5003, 5), (2048, 4), (100, 3)])
def test_blocked_top_k_equals_top_k(vocab, k):
    """The blocked top-k of beam search returns tf.math.top_k's values and ids, ties included."""
    rng = np.random.default_rng(vocab)
    x = rng.normal(size=(64, vocab)).astype(np.float32)
    x[0, :] = 1.0  # all tied: the lowest ids win
    x[1, -k:] = 50.0  # the best in the last, possibly padded, block
    x[2, :] = -np.inf
    x[2, 7] = 0.0  # a finished-like row: one finite value
    x[3, ::97] = 9.0  # ties spread over many blocks
    x = tf.constant(x)
    values, ids = top_k_rows(x, k)
    want_values, want_ids = tf.math.top_k(x, k=k)
    np.testing.assert_array_equal(values.numpy(), want_values.numpy())
    np.testing.assert_array_equal(ids.numpy(), want_ids.numpy())


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("alpha,n_best", [(0.0, 1), (0.6, 1), (1.0, 3)])
def test_early_stop_changes_nothing_but_the_number_of_steps(seed, alpha, n_best):
    """A sentence stops once its n-best cannot change; the results equal running every hypothesis to its
    end. A model that rarely emits EOS keeps unfinished hypotheses alive, so stopping early matters."""
    model = random_model(seed, steps=30, eos_bias=1.0 if seed % 2 else -1.0, growing=seed % 3 == 0)
    kw = dict(beam_size=4, n_best=n_best, bos_id=BOS, eos_id=EOS, max_length_a=3.0, max_length_b=8,
              length_penalty=alpha, return_attention=True)
    fast = beam_search(model, SRC, **kw)
    full = beam_search(model, SRC, early_stop=False, **kw)
    np.testing.assert_array_equal(fast.ids.numpy(), full.ids.numpy())
    np.testing.assert_array_equal(fast.lengths.numpy(), full.lengths.numpy())
    np.testing.assert_allclose(fast.scores.numpy(), full.scores.numpy(), rtol=1e-6)
    np.testing.assert_allclose(fast.attention.numpy(), full.attention.numpy(), atol=1e-6)


def test_early_stop_ends_the_loop_before_the_length_limit():
    """EOS is likely at every step, so the best hypotheses end at once; without early stopping the loop
    runs until the last unfinished one ends too. Counted through the model's steps."""
    model = random_model(1, steps=40, eos_bias=2.0)
    calls = []
    step = model.step
    model.step = lambda *a, **k: calls.append(1) or step(*a, **k)
    kw = dict(beam_size=4, bos_id=BOS, eos_id=EOS, max_length_a=6.0, max_length_b=10, length_penalty=0.0)
    beam_search(model, SRC, **kw)
    fast = len(calls)
    calls.clear()
    beam_search(model, SRC, early_stop=False, **kw)
    assert fast < len(calls)
