"""The Transformer family against the model contract: cached steps vs teacher forcing, masking,
causality, the key/value cache, decoding, registration and a tiny training run."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from nmt.config import ModelConfig, preset
from nmt.decoding import DecodeOptions, beam_search, greedy_search, make_decode_fn
from nmt.errors import UserError
from nmt.models import MODELS, build_model
from nmt.training import Trainer
from nmt.translator import Translator
from test_training import HELD, toy_pairs

SRC = tf.constant([[5, 6, 7, 8, 3], [9, 10, 3, 0, 0]], tf.int32)  # [2,5]
TGT = tf.constant([[2, 5, 6, 7, 11], [2, 8, 9, 0, 0]], tf.int32)  # [2,5]
MASK = tf.constant([[True] * 5, [True] * 3 + [False] * 2])  # [2,5] real source tokens
VARIANTS = [(True, "sinusoidal"), (False, "sinusoidal"), (True, "learned"), (False, "learned")]


def make(src_vocab=20, tgt_vocab=24, seed=0, **kw):
    tf.random.set_seed(seed)
    kw = {"layers": 2, "d_model": 16, "ff_dim": 32, "transformer_heads": 2, "dropout": 0.1, **kw}
    return build_model(dataclasses.replace(ModelConfig(), family="transformer", **kw), src_vocab, tgt_vocab)


def stepwise(model, src, tgt):
    """Decode ``tgt`` token by token through the cache: logits [B,T,V], attention [B,L,H,T,S], states."""
    encoded = model.encode(src)
    state = model.initial_state(encoded)
    logits, attn, states = [], [], [state]
    for t in range(tgt.shape[1]):
        out = model.step(tgt[:, t], state, encoded)
        state = out.state
        logits.append(out.logits)
        attn.append(out.attention)
        states.append(state)
    return tf.stack(logits, 1), tf.stack(attn, 3), states


@pytest.mark.parametrize("pre_norm,positions", VARIANTS)
def test_step_matches_forward(pre_norm, positions):
    model = make(pre_norm=pre_norm, positions=positions)
    logits, attn = model.forward(SRC, TGT)
    assert logits.shape == (2, 5, 24)
    assert attn.shape == (2, 2, 2, 5, 5)  # [B,L,H,T,S]
    assert (model.attention_layers, model.attention_heads) == (2, 2)
    step_logits, step_attn, _ = stepwise(model, SRC, TGT)
    # float32, one position at a time vs all at once (other summation orders): ~10 roundings of eps32
    # 1.2e-7 along two layers on logits <= 4: 5e-6; an unmasked future token or a stale cache moves them ~0.1
    np.testing.assert_allclose(step_logits.numpy(), logits.numpy(), atol=1e-5)
    np.testing.assert_allclose(step_attn.numpy(), attn.numpy(), atol=1e-5)
    np.testing.assert_allclose(tf.reduce_sum(attn, -1).numpy(), 1.0, atol=1e-5)
    assert np.all(attn.numpy()[1, ..., 3:] == 0.0)  # exactly 0 on source padding
    assert np.all(step_attn.numpy()[1, ..., 3:] == 0.0)


@pytest.mark.parametrize("pre_norm", [True, False])
def test_ids_under_padding_change_nothing(pre_norm):
    model = make(pre_norm=pre_norm)
    other = tf.constant([[5, 6, 7, 8, 3], [9, 10, 3, 17, 4]], tf.int32)
    a_logits, a_attn = model.forward(SRC, TGT)
    b_logits, b_attn = model.forward(tf.where(MASK, other, 0), TGT)
    np.testing.assert_allclose(a_logits.numpy(), b_logits.numpy(), atol=1e-6)
    np.testing.assert_allclose(a_attn.numpy(), b_attn.numpy(), atol=1e-6)
    # Longer padding (more zero columns) does not change the real positions either.
    c_logits, c_attn = model.forward(tf.pad(SRC, [[0, 0], [0, 3]]), TGT)  # another width: another summation order
    np.testing.assert_allclose(a_logits.numpy(), c_logits.numpy(), atol=1e-5)  # as in test_step_matches_forward
    np.testing.assert_allclose(a_attn.numpy(), c_attn.numpy()[..., :5], atol=1e-5)
    assert np.all(c_attn.numpy()[..., 5:] == 0.0)


@pytest.mark.parametrize("pre_norm", [True, False])
def test_causality(pre_norm):
    model = make(pre_norm=pre_norm)
    logits, attn = model.forward(SRC, TGT)
    changed = tf.tensor_scatter_nd_update(TGT, [[0, 3], [1, 2]], [17, 13])  # later tokens only
    logits2, attn2 = model.forward(SRC, changed)
    np.testing.assert_allclose(logits.numpy()[0, :3], logits2.numpy()[0, :3], atol=1e-6)
    np.testing.assert_allclose(logits.numpy()[1, :2], logits2.numpy()[1, :2], atol=1e-6)
    np.testing.assert_allclose(attn.numpy()[0, :, :, :3], attn2.numpy()[0, :, :, :3], atol=1e-6)
    assert not np.allclose(logits.numpy()[0, 3:], logits2.numpy()[0, 3:])  # the change does arrive


@pytest.mark.parametrize("pre_norm", [True, False])
def test_full_context_attention_sees_the_whole_target_and_not_its_padding(pre_norm):
    """forward_full_context (guided alignment with the whole target, Garg et al. 2019): in the first layer
    the last real position sees every piece under both masks, so its row equals the causal pass's (later
    layers read positions that saw more); earlier rows change when a later piece does; target and source
    padding change nothing and get no weight."""
    model = make(pre_norm=pre_norm)
    _, causal = model.forward(SRC, TGT)
    full = model.forward_full_context(SRC, TGT)  # [B,L,H,T,S]
    assert full.shape == causal.shape
    np.testing.assert_allclose(tf.reduce_sum(full, -1).numpy(), 1.0, atol=1e-5)
    assert np.all(full.numpy()[1, ..., 3:] == 0.0)  # exactly 0 on source padding
    last = [4, 2]  # each sentence's last real target position
    for b, t in enumerate(last):  # the same keys, summed in another order: as in test_step_matches_forward
        np.testing.assert_allclose(full.numpy()[b, 0, :, t], causal.numpy()[b, 0, :, t], atol=1e-5)
    assert np.abs(full.numpy()[0, 0, :, :4] - causal.numpy()[0, 0, :, :4]).max() > 1e-3  # the other rows see more
    changed = tf.tensor_scatter_nd_update(TGT, [[0, 4], [1, 2]], [17, 13])  # the last piece only
    again = model.forward_full_context(SRC, changed)
    moved = np.abs(again.numpy()[:, 1:, :, :2] - full.numpy()[:, 1:, :, :2]).max()  # rows before it, past layer 0
    assert moved > 1e-3, moved  # three orders above the float32 noise of the comparisons above
    # target padding: other ids under it, or more of it, leave the real rows as they were
    other = tf.constant([[2, 5, 6, 7, 11], [2, 8, 9, 19, 4]], tf.int32)
    padded = model.forward_full_context(SRC, tf.where(TGT > 0, TGT, tf.where(tf.range(5) >= 3, 0, other)))
    np.testing.assert_allclose(padded.numpy(), full.numpy(), atol=1e-6)
    wider = model.forward_full_context(SRC, tf.pad(TGT, [[0, 0], [0, 3]]))
    np.testing.assert_allclose(wider.numpy()[:, :, :, :5], full.numpy(), atol=1e-5)


@pytest.mark.parametrize("training", [False, True], ids=["inference", "training"])
def test_full_context_guidance_encodes_each_batch_once(training):
    """Guided training with the full-context pass (and ``align --full-context``) runs two decoder passes
    over one batch: they share one encoding (dropout mask included), and given it each pass computes
    what it computes alone."""
    model = make()
    encoded = model.encode(SRC)
    logits, causal = model.forward(SRC, TGT)
    shared_logits, shared_causal = model.forward(SRC, TGT, encoded=encoded)
    np.testing.assert_allclose(shared_logits.numpy(), logits.numpy(), atol=1e-6)
    np.testing.assert_allclose(shared_causal.numpy(), causal.numpy(), atol=1e-6)
    np.testing.assert_allclose(model.forward_full_context(SRC, TGT, encoded=encoded).numpy(),
                               model.forward_full_context(SRC, TGT).numpy(), atol=1e-6)
    calls = []
    encode = model.encode
    model.encode = lambda *a, **k: calls.append(1) or encode(*a, **k)
    config = dataclasses.replace(preset("tiny"), train=dataclasses.replace(
        preset("tiny").train, guided_full_context=True, guided_shift=True, label_smoothing=0.0))
    trainer = type("T", (), {"config": config, "model": model})()  # what Trainer._loss reads
    guide = tf.one_hot(tf.zeros([2, 5], tf.int32), 5)  # every row linked to source piece 0 [B,T,S]
    total, tokens = Trainer._loss(trainer, SRC, TGT, tf.roll(TGT, -1, 1), guide, training=training)
    assert len(calls) == 1
    assert float(tokens) > 0 and np.isfinite(float(total))
    if not training:  # the guided term is the full-context pass's cross-entropy, added to the translation loss
        from nmt.guided import guided_loss
        from nmt.losses import smoothed_loss

        plain, _ = smoothed_loss(logits, tf.roll(TGT, -1, 1), 0.0)
        guided, _ = guided_loss(model.forward_full_context(SRC, TGT, encoded=encoded), guide, -1, 0, True)
        np.testing.assert_allclose(float(total), float(plain) + float(guided), rtol=1e-5)


def test_cache_grows_by_one_per_step_and_moves_to_its_older_part_every_few_steps():
    """A step appends to the cache's recent part; every CACHE_FLUSH_STEPS steps that part moves to the
    older one. Over 19 steps (two moves) cached decoding still equals teacher forcing."""
    from nmt.models.transformer import CACHE_FLUSH_STEPS

    model = make(max_positions=32)
    steps = 2 * CACHE_FLUSH_STEPS + 3
    tgt = tf.random.stateless_uniform([2, steps], [7, 7], 4, 24, tf.int32)
    logits, attn, states = stepwise(model, SRC, tgt)
    full_logits, full_attn = model.forward(SRC, tgt)
    np.testing.assert_allclose(logits, full_logits, atol=1e-4)
    np.testing.assert_allclose(attn, full_attn, atol=1e-5)
    assert len(states[0]["cache"]) == 2  # one (keys, values, recent keys, recent values) per decoder layer
    for t, state in enumerate(states):
        older = t - t % CACHE_FLUSH_STEPS
        for keys, values, recent_keys, recent_values in state["cache"]:
            assert keys.shape == values.shape == (2, 2, older, 8)  # [B,H,t,Dh]
            assert recent_keys.shape == recent_values.shape == (2, 2, t - older, 8)
        np.testing.assert_array_equal(state["position"].numpy(), [t, t])
    invariants = model.state_shape_invariants(states[0])
    assert invariants["cache"][0][0].as_list() == [None, 2, None, 8]
    assert invariants["position"].as_list() == [None]
    # The encoder memory's cross-attention keys/values are computed once, in encode.
    encoded = model.encode(SRC)
    assert [k.shape for k, _ in encoded.state["cross"]] == [(2, 2, 5, 8)] * 2


def test_greedy_and_beam_search_run_on_it():
    model = make(src_vocab=24, tgt_vocab=24)
    src = tf.concat([SRC, tf.constant([[4, 3, 0, 0, 0]], tf.int32)], 0)  # [3,5]
    common = dict(bos_id=2, eos_id=3, max_length_a=1.0, max_length_b=3)
    greedy = greedy_search(model, src, **common)
    beam1 = beam_search(model, src, beam_size=1, **common)
    np.testing.assert_array_equal(greedy.ids.numpy(), beam1.ids.numpy())
    # a score sums up to 4 log-probabilities, each off by ~10 roundings of eps32 1.2e-7 x |logit| <= 4
    np.testing.assert_allclose(greedy.scores.numpy(), beam1.scores.numpy(), rtol=1e-5, atol=1e-5)
    # Traced once for any batch and length; attention follows every hypothesis.
    fn = make_decode_fn(model, DecodeOptions(beam_size=3, n_best=2, max_length_a=1.0, max_length_b=3,
                                             return_attention=True))
    out = fn(src)
    assert out.ids.shape[:2] == (3, 2)
    assert out.attention.shape[3:] == (2, 2, 5)  # [B,N,T,L,H,S]
    att, lengths = out.attention.numpy(), out.lengths.numpy()
    for b in range(3):
        for n in range(2):
            np.testing.assert_allclose(att[b, n, : lengths[b, n]].sum(-1), 1.0, atol=1e-5)
    assert np.all(att[1, ..., 3:] == 0.0) and np.all(att[2, ..., 2:] == 0.0)
    # A sentence decodes the same alone as in a padded batch.
    greedy_fn = make_decode_fn(model, DecodeOptions(beam_size=1, max_length_a=1.0, max_length_b=3))
    batch = greedy_fn(src)
    for b in range(3):
        length = int(tf.reduce_sum(tf.cast(src[b] != 0, tf.int32)))
        alone = greedy_fn(src[b : b + 1, :length])
        n = int(alone.lengths[0, 0])
        np.testing.assert_array_equal(batch.ids.numpy()[b, 0, :n], alone.ids.numpy()[0, 0, :n])
        np.testing.assert_allclose(batch.scores.numpy()[b], alone.scores.numpy()[0], rtol=1e-5, atol=1e-5)  # as above


def test_beam_scores_equal_teacher_forcing_of_the_returned_paths():
    """Under beam search the cache is never reordered: each hypothesis sees its own path's keys only
    through the ancestry mask. Had it seen another hypothesis' keys, its summed log-probability would
    differ from teacher forcing of the path it returns."""
    model = make(src_vocab=24, tgt_vocab=24, dropout=0.0, seed=3)
    src = tf.concat([SRC, tf.constant([[4, 3, 0, 0, 0]], tf.int32)], 0)  # [3,5]
    out = beam_search(model, src, beam_size=4, n_best=4, bos_id=2, eos_id=3, max_length_a=1.0, max_length_b=4)
    src_len = tf.reduce_sum(tf.cast(src != 0, tf.int32), 1).numpy()
    distinct = 0
    for b in range(3):
        paths = set()
        for n in range(4):
            length = int(out.lengths[b, n])
            ids = out.ids.numpy()[b, n, :length].tolist()
            ended = length < src_len[b] + 4  # finished by EOS, not by the length limit
            tgt_in = tf.constant([[2] + ids], tf.int32)  # [1,T+1]
            logp = tf.nn.log_softmax(model.forward(src[b : b + 1, : src_len[b]], tgt_in)[0][0]).numpy()  # [T+1,V]
            gold = ids + ([3] if ended else [])
            expected = sum(logp[t, tok] for t, tok in enumerate(gold))
            assert float(out.scores[b, n]) == pytest.approx(expected, abs=1e-4)
            paths.add(tuple(ids))
        distinct += len(paths)
    assert distinct == 12  # four different hypotheses per sentence, each scored on its own path
    # The state a step returns: the cache is per sentence and grows by K a step; only ancestry is [B,K,...].
    encoded = model.tile_encoded(model.encode(src), 4)
    state = model.initial_state(encoded)
    state = model.step(tf.fill([12], 2), state, encoded).state
    assert state["cache"][0][2].shape == (3, 2, 4, 8) and state["ancestry"].shape == (3, 4, 4)
    reordered = model.reorder_state(state, tf.constant([1, 1, 0, 3, 4, 4, 4, 4, 11, 8, 9, 10]))
    assert reordered["cache"][0][0] is state["cache"][0][0]  # not copied
    np.testing.assert_array_equal(reordered["ancestry"].numpy()[0], np.eye(4, dtype=bool)[[1, 1, 0, 3]])
    np.testing.assert_array_equal(reordered["ancestry"].numpy()[2], np.eye(4, dtype=bool)[[3, 0, 1, 2]])


def test_embeddings_shared_only_with_a_joint_vocabulary():
    shared = make(src_vocab=24, tgt_vocab=24)
    shared.forward(SRC, TGT)
    assert shared.src_embedding is None
    assert [v.shape for v in shared.trainable_variables if "embedding" in v.path] == [(24, 16)]
    for model in (make(src_vocab=20, tgt_vocab=24), make(src_vocab=24, tgt_vocab=24, share_embeddings=False)):
        model.forward(SRC, TGT)
        assert model.src_embedding is not None
        assert len([v for v in model.trainable_variables if "embedding" in v.path]) == 2


def test_dropout_only_in_training():
    model = make(dropout=0.5)
    a, _ = model.forward(SRC, TGT)
    b, _ = model.forward(SRC, TGT)
    c, _ = model.forward(SRC, TGT, training=True)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.allclose(a.numpy(), c.numpy())


def test_registered_and_validates_its_options():
    assert MODELS.get("transformer").__name__ == "TransformerSeq2Seq"
    with pytest.raises(UserError, match="divisible"):
        make(d_model=16, transformer_heads=3)
    with pytest.raises(UserError, match="positions"):
        make(positions="rotary")


@pytest.mark.slow  # 41 s; the default tier trains Transformers through the CLI (tests/integration/test_cli.py)
def test_tiny_transformer_learns_to_reverse(tmp_path):
    # Measured on 2 CPU cores (exact matches of 12 over training seeds): with the 300 pairs of
    # test_training the tiny Transformer memorises and fails on repeated words (6-10/12); with
    # 10,000 pairs and 2 heads 9-12/12; with 4 heads 11-12/12 over 7 seeds.
    config = (preset("tiny")
              .override("model", family="transformer", layers=2, d_model=32, ff_dim=64, transformer_heads=4)
              .override("train", max_steps=400, eval_every=400, learning_rate=5e-3, schedule="inverse-sqrt",
                        warmup_steps=100)
              .override("tokenizer", vocab_size=40))
    trainer = Trainer(config, tmp_path / "toy", toy_pairs(10000, 0), HELD, progress=False)
    result = trainer.run()
    sources = [s for s, _ in HELD]
    hyps = Translator(trainer.model, trainer.tokenizer, trainer.config.decode).translate(sources, beam_size=1)
    exact = sum(h.text == t for h, (_, t) in zip(hyps, HELD))
    assert exact >= 10, [h.text for h in hyps]
    assert result.best_bleu > 80
    # The saved weights load into a fresh model and beam search agrees with the live model.
    loaded = Translator.load(tmp_path / "toy").translate(sources, beam_size=3, return_attention=True)
    live = Translator(trainer.model, trainer.tokenizer, trainer.config.decode).translate(sources, beam_size=3)
    assert [h.text for h in loaded] == [h.text for h in live]
    assert loaded[0].attention.shape == (2, 4, len(loaded[0].tokens), len(loaded[0].source_tokens))


def test_attention_and_feed_forward_dropout_rates_default_to_dropout_and_can_be_set_apart():
    same = make(dropout=0.2)
    apart = make(dropout=0.2, attention_dropout=0.0, ffn_dropout=0.3)
    for model, attention, ffn in ((same, 0.2, 0.2), (apart, 0.0, 0.3)):
        for layer in model.encoder_stack + model.decoder_stack:
            assert layer.self_attention.dropout.rate == attention and layer.ffn_rate == ffn
            assert layer.dropout.rate == 0.2  # sublayer outputs
        assert model.decoder_stack[0].cross_attention.dropout.rate == attention
