"""The LSTM family against the model contract: parity, masking, shapes, every mechanism and placement."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from nmt.attention import ATTENTION
from nmt.config import preset
from nmt.models import MODELS, build_model
from tests.unit.test_contract import stepwise

SRC = tf.constant([[5, 6, 7, 8, 3], [9, 10, 3, 0, 0]], tf.int32)  # [2,5]
TGT = tf.constant([[2, 5, 6, 7, 11], [2, 8, 9, 0, 0]], tf.int32)  # [2,5]
PLACEMENTS = [("luong", False), ("luong", True), ("bahdanau", False)]


def make(attention="additive", placement="luong", input_feed=False, **kw):
    cfg = dataclasses.replace(preset("tiny").model, attention=attention, placement=placement, input_feed=input_feed,
                              **kw)
    return build_model(cfg, 20, 24)




@pytest.mark.parametrize("placement,input_feed", PLACEMENTS)
@pytest.mark.parametrize("attention", ATTENTION.names())
def test_step_matches_forward(attention, placement, input_feed):
    tf.random.set_seed(0)
    model = make(attention, placement, input_feed, encoder_layers=2, decoder_layers=2)
    logits, attn = model.forward(SRC, TGT)
    assert logits.shape == (2, 5, 24)
    assert attn.shape == (2, 1, model.attention_heads, 5, 5)
    step_logits, step_attn = stepwise(model, SRC, TGT)
    # float32, one step at a time vs the whole sequence: ~10 roundings of eps32 1.2e-7 per layer and
    # step on values <= 1 (LSTM outputs, logits < 1 here) stay below 1e-5; a wrong state or feed ~0.1
    np.testing.assert_allclose(step_logits.numpy(), logits.numpy(), atol=1e-5)
    np.testing.assert_allclose(step_attn.numpy(), attn.numpy(), atol=1e-5)
    np.testing.assert_allclose(tf.reduce_sum(attn, -1).numpy(), 1.0, atol=1e-5)
    assert np.all(attn.numpy()[1, ..., 3:] == 0.0)


@pytest.mark.parametrize("placement,input_feed", PLACEMENTS)
def test_ids_under_padding_change_nothing(placement, input_feed):
    model = make("general", placement, input_feed)
    other = tf.constant([[5, 6, 7, 8, 3], [9, 10, 3, 17, 4]], tf.int32)
    mask = tf.constant([[True] * 5, [True] * 3 + [False] * 2])
    a_logits, a_attn = model.forward(SRC, TGT)
    # Same sentence 2, different ids under its padding: with the mask taken from SRC.
    b_logits, b_attn = model.forward(tf.where(mask, other, 0), TGT)
    np.testing.assert_allclose(a_logits.numpy(), b_logits.numpy(), atol=1e-6)
    # Longer padding (more zero columns) does not change the real positions either.
    c_logits, c_attn = model.forward(tf.pad(SRC, [[0, 0], [0, 3]]), TGT)
    np.testing.assert_allclose(a_logits.numpy(), c_logits.numpy(), atol=1e-5)
    np.testing.assert_allclose(a_attn.numpy(), c_attn.numpy()[..., :5], atol=1e-5)  # another width, as the logits


def test_none_attention_ignores_memory_but_not_final_state():
    model = make("none")
    logits, _ = model.forward(SRC, TGT)
    other_src = tf.constant([[5, 6, 7, 9, 3], [9, 10, 3, 0, 0]], tf.int32)
    logits2, _ = model.forward(other_src, TGT)
    assert not np.allclose(logits.numpy()[0], logits2.numpy()[0])  # the source still matters, via the state
    np.testing.assert_allclose(logits.numpy()[1], logits2.numpy()[1], atol=1e-6)


def test_registry_has_the_lstm_family():
    assert "rnn" in MODELS.names()
