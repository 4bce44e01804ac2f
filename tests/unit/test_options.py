"""A mechanism or family declares its own hyper-parameters (``register(name, options=Dataclass)``): they
are set like every field (``--set model.KEY=VALUE``, config files), recorded in ``model.options``,
checked by their own rules when the model is built, and handed to the code that declared them."""

import dataclasses
from dataclasses import dataclass

import numpy as np
import pytest
import tensorflow as tf

from nmt.attention import ATTENTION, Attention
from nmt.checks import Checked, num
from nmt.config import Config, ModelConfig
from nmt.errors import UserError
from nmt.models import MODELS, build_model, check_options
from nmt.models.rnn import RNNSeq2Seq


@dataclass(frozen=True)
class Temperature(Checked):
    temperature: float = num(1.0, 0.0, 1000.0, lo_open=True)


@dataclass(frozen=True)
class Depth(Checked):
    extra_depth: int = num(0, 0, 8)


@pytest.fixture(scope="module", autouse=True)
def registered():
    @ATTENTION.register("warm-options-test", options=Temperature)
    class Warm(Attention):
        def score(self, query, keys):  # query [B,T,D], keys [B,S,D]
            return self.options.temperature * tf.matmul(query, keys, transpose_b=True)[:, None]  # [B,1,T,S]

    @MODELS.register("rnn-options-test", options=Depth)
    class DeepRNN(RNNSeq2Seq):
        def __init__(self, config, src_vocab_size, tgt_vocab_size):
            super().__init__(config, src_vocab_size, tgt_vocab_size)
            self.depth = MODELS.build_options(config.family, config.options).extra_depth

    yield
    ATTENTION.unregister("warm-options-test")  # other tests list the registered names
    MODELS.unregister("rnn-options-test")


SMALL = {"embedding_dim": 8, "units": 8, "attention_units": 8, "attention": "warm-options-test"}


def test_keys_no_field_names_become_options_and_reach_the_mechanism():
    config = Config().override("model", **SMALL, temperature=3)  # as --set model.temperature=3 sets it
    assert config.model.options == {"temperature": 3}
    config = config.override("model", units=4)  # another setting keeps them
    assert config.model.options == {"temperature": 3} and config.model.units == 4
    model = build_model(config.model, 20, 20)
    assert model.attention.options == Temperature(3.0)
    again = Config.from_dict(config.to_dict())  # config.json round trip
    assert again == config


def test_the_option_changes_what_the_mechanism_computes():
    rng = np.random.default_rng(0)
    query = tf.constant(rng.normal(size=[2, 3, 8]), tf.float32)  # [B,T,D]
    memory = tf.constant(rng.normal(size=[2, 5, 8]), tf.float32)  # [B,S,D]
    mask = tf.constant([[True] * 5, [True] * 3 + [False] * 2])
    weights = {}
    for t in (1.0, 2.0):
        mechanism = ATTENTION.get("warm-options-test")(query_dim=8, options=Temperature(t))
        _, weights[t] = mechanism(query, memory, memory, mask)  # [B,1,T,S]
    # softmax(2 s) = softmax(s)^2 / sum(softmax(s)^2), exact zeros on padding either way
    squared = weights[1.0].numpy() ** 2
    expected = squared / squared.sum(-1, keepdims=True)
    np.testing.assert_allclose(weights[2.0].numpy(), expected, rtol=64 * np.finfo(np.float32).eps, atol=1e-7)
    assert np.all(weights[2.0].numpy()[1, ..., 3:] == 0.0)


def test_a_family_declares_options_too_and_both_are_checked():
    config = dataclasses.replace(ModelConfig(**SMALL), family="rnn-options-test",
                                 options={"extra_depth": 2, "temperature": 0.5})
    check_options(config)
    model = build_model(config, 20, 20)
    assert model.depth == 2 and model.attention.options.temperature == 0.5
    for options, needle in (({"temprature": 2},
                             r"unknown model option\(s\) \['temprature'\]; valid: .*extra_depth, temperature"),
                            ({"temperature": 0}, r"model.temperature must be a finite number in \(0, 1000\]"),
                            ({"extra_depth": 9}, r"model.extra_depth must be")):
        with pytest.raises(UserError, match=needle):
            build_model(dataclasses.replace(config, options=options), 20, 20)
    with pytest.raises(UserError, match=r"unknown model option\(s\) \['temperature'\]"):  # additive declares none
        check_options(dataclasses.replace(config, attention="additive", options={"temperature": 2}))


def test_configurations_written_before_options_existed_still_load():
    old = Config().to_dict()
    del old["model"]["options"]  # config.json of a model directory from before model.options
    assert Config.from_dict(old) == Config() and Config().model.options is None
    with pytest.raises(UserError, match="model.options must be a mapping"):
        Config().override("model", options=[1, 2])
