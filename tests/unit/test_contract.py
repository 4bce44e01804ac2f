"""The model contract (nmt.models.base), checked for every registered family: a family registered by a
plug-in before collection is held to it without anyone writing a test for it.

Shapes, attention rows that are distributions with exact zeros on source padding, steps that equal
teacher forcing, beam tiling with reorder_state, and a configuration round trip."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from nmt.config import Config, ModelConfig
from nmt.models import MODELS, build_model

SRC = tf.constant([[5, 6, 7, 8, 3], [9, 10, 3, 0, 0]], tf.int32)  # [2,5], the second padded after its </s>
TGT = tf.constant([[2, 5, 6, 7, 11], [2, 8, 9, 0, 0]], tf.int32)  # [2,5] target input, starting with BOS
SMALL = {"embedding_dim": 16, "units": 16, "attention_units": 16, "heads": 2, "layers": 2, "d_model": 16, "ff_dim": 32,
         "transformer_heads": 2, "dropout": 0.1}
V_SRC, V_TGT = 20, 24
# float32: one position at a time against all at once sums in other orders; values of order 1 through a
# few layers keep the difference near 10 eps32 (1.2e-7) per layer; a stale state or a leak moves it ~0.1
TOLERANCE = 1e-5


def make(family: str, seed: int = 0):
    tf.random.set_seed(seed)
    return build_model(dataclasses.replace(ModelConfig(), family=family, **SMALL), V_SRC, V_TGT)


def stepwise(model, src, tgt):
    encoded = model.encode(src)
    state = model.initial_state(encoded)
    logits, attention = [], []
    for t in range(tgt.shape[1]):
        out = model.step(tgt[:, t], state, encoded)
        state = out.state
        logits.append(out.logits)
        attention.append(out.attention)
    return tf.stack(logits, 1), tf.stack(attention, 3)  # [B,T,V], [B,L,H,T,S]


@pytest.mark.parametrize("family", MODELS.names())
def test_shapes_distributions_and_padding(family):
    model = make(family)
    logits, attention = model.forward(SRC, TGT)
    layers, heads = model.attention_layers, model.attention_heads
    assert logits.shape == (2, 5, V_TGT) and attention.shape == (2, layers, heads, 5, 5)
    np.testing.assert_allclose(tf.reduce_sum(attention, -1).numpy(), 1.0, atol=TOLERANCE)
    assert np.all(attention.numpy() >= 0) and np.all(attention.numpy()[1, ..., 3:] == 0.0)  # exact zeros on padding
    # padding changes nothing: the second pair alone, unpadded, gives its rows of the padded batch
    alone_logits, alone_attention = model.forward(SRC[1:, :3], TGT[1:, :3])
    np.testing.assert_allclose(alone_logits.numpy()[0], logits.numpy()[1, :3], atol=TOLERANCE)
    np.testing.assert_allclose(alone_attention.numpy()[0], attention.numpy()[1, ..., :3, :3], atol=TOLERANCE)


@pytest.mark.parametrize("family", MODELS.names())
def test_steps_equal_teacher_forcing(family):
    model = make(family)
    logits, attention = model.forward(SRC, TGT)
    step_logits, step_attention = stepwise(model, SRC, TGT)
    np.testing.assert_allclose(step_logits.numpy(), logits.numpy(), atol=TOLERANCE)
    np.testing.assert_allclose(step_attention.numpy(), attention.numpy(), atol=TOLERANCE)


@pytest.mark.parametrize("family", MODELS.names())
def test_tiled_beams_reordered_follow_their_histories(family):
    """K beams per sentence (tile_encoded); after one step the beams are reordered within each sentence
    (reorder_state, as beam search's back-pointers do); each row's next step must equal teacher forcing
    of the history it now carries."""
    model, beams = make(family), 3
    encoded = model.tile_encoded(model.encode(SRC), beams)  # [B*K,...]
    state = model.initial_state(encoded)
    bos = tf.fill([2 * beams], 2)
    first = tf.constant([5, 6, 7, 8, 9, 10], tf.int32)  # [B*K] a different word per beam
    second = tf.constant([11, 12, 13, 14, 15, 16], tf.int32)
    state = model.step(bos, state, encoded).state
    state = model.step(first, state, encoded).state
    parent = tf.constant([2, 0, 0, 4, 5, 3], tf.int32)  # row r continues the beam that was row parent[r]
    out = model.step(second, model.reorder_state(state, parent), encoded)
    for r in range(2 * beams):
        history = tf.constant([[2, int(first[parent[r]]), int(second[r])]], tf.int32)
        logits, attention = model.forward(SRC[r // beams: r // beams + 1], history)
        np.testing.assert_allclose(out.logits.numpy()[r], logits.numpy()[0, 2], atol=TOLERANCE)
        np.testing.assert_allclose(out.attention.numpy()[r], attention.numpy()[0, :, :, 2], atol=TOLERANCE)


@pytest.mark.parametrize("family", MODELS.names())
@pytest.mark.parametrize("kept", [[1], [0], [1, 0]])
def test_selected_sentences_continue_as_in_the_whole_batch(family, kept):
    """select_sentences (the search drops finished sentences): the kept sentences' next steps, in the
    order kept, equal their rows of the whole batch's next steps."""
    model, beams = make(family), 2
    encoded = model.tile_encoded(model.encode(SRC), beams)  # [B*K,...]
    state = model.initial_state(encoded)
    tokens = [tf.fill([2 * beams], 2), tf.constant([5, 6, 7, 8], tf.int32), tf.constant([9, 10, 11, 12], tf.int32)]
    for tok in tokens[:2]:
        state = model.step(tok, state, encoded).state
    sentences = tf.constant(kept, tf.int32)
    rows = tf.reshape(sentences[:, None] * beams + tf.range(beams)[None], [-1])  # [B'*K]
    small_state, small_encoded = model.select_sentences(state, encoded, sentences, rows)
    for tok in tokens[2:] + [tf.constant([13, 14, 15, 16], tf.int32)]:
        whole = model.step(tok, state, encoded)
        part = model.step(tf.gather(tok, rows), small_state, small_encoded)
        np.testing.assert_allclose(part.logits.numpy(), tf.gather(whole.logits, rows).numpy(), atol=TOLERANCE)
        np.testing.assert_allclose(part.attention.numpy(), tf.gather(whole.attention, rows).numpy(), atol=TOLERANCE)
        state, small_state = whole.state, part.state


@pytest.mark.parametrize("family", MODELS.names())
def test_configuration_round_trip_rebuilds_the_same_model(family, tmp_path):
    config = Config(model=dataclasses.replace(ModelConfig(), family=family, **SMALL))
    config.save(tmp_path / "config.json")
    again = Config.load(tmp_path / "config.json")
    assert again == config
    model, rebuilt = make(family, seed=0), build_model(again.model, V_SRC, V_TGT)
    model((SRC, TGT))  # built
    rebuilt((SRC, TGT))
    model.save_weights(str(tmp_path / "w.weights.h5"))
    rebuilt.load_weights(str(tmp_path / "w.weights.h5"))
    np.testing.assert_array_equal(model.forward(SRC, TGT)[0].numpy(), rebuilt.forward(SRC, TGT)[0].numpy())


@pytest.mark.parametrize("family", MODELS.names())
def test_full_context_attention_is_a_distribution_or_a_one_line_refusal(family):
    """forward_full_context (optional): a family gives attention of forward's shape with distributions and
    exact zeros on source padding, that padding does not change, or refuses in one line (UserError)."""
    from nmt.errors import UserError

    model = make(family)
    try:
        full = model.forward_full_context(SRC, TGT)
    except UserError as exc:
        assert "\n" not in str(exc) and "full-context" in str(exc)
        return
    _, attention = model.forward(SRC, TGT)
    assert full.shape == attention.shape
    np.testing.assert_allclose(tf.reduce_sum(full, -1).numpy(), 1.0, atol=TOLERANCE)
    assert np.all(full.numpy() >= 0) and np.all(full.numpy()[1, ..., 3:] == 0.0)
    alone = model.forward_full_context(SRC[1:, :3], TGT[1:, :3])
    np.testing.assert_allclose(alone.numpy()[0], full.numpy()[1, ..., :3, :3], atol=TOLERANCE)
