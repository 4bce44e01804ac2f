"""The validation layer (nmt.checks): every configuration field declares what it accepts, and any value
is either accepted as declared or refused with one line naming the field and its accepted range.

Hypothesis throws random values (NaN, infinities, huge and negative numbers, texts, booleans, None) at
every field of every section; the oracle below is written independently of ``Rule.check``.
"""

import math
import os
from dataclasses import fields, replace

import pytest
from hypothesis import given, settings, strategies as st

from nmt.checks import check_memory, rule_of, unchecked_fields
from nmt.classification.config import PRESETS as CLASSIFY_PRESETS, ClassifyConfig, ClassifyTrainConfig, HeadConfig
from nmt.config import PRESETS, Config, DecodeConfig, ModelConfig, TokenizerConfig, TrainConfig
from nmt.errors import UserError

SECTIONS = [TokenizerConfig, ModelConfig, TrainConfig, DecodeConfig, HeadConfig, ClassifyTrainConfig]
FIELDS = [(cls, f) for cls in SECTIONS for f in fields(cls)]

VALUES = st.one_of(
    st.integers(min_value=-(10**13), max_value=10**13),
    st.sampled_from([0, 1, -1, 2, 8, 1024, 1025, 65_536, 65_537, 10**9, 2**31 - 1, 2**31]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 1.0, 0.5, 0.999, 1.5, -0.0, 1e-9, 10.0, 100.0, 100.5, float("nan"), float("inf")]),
    st.text(max_size=6),
    st.sampled_from(["1e-3", "unigram", "bpe", "luong", "bahdanau", "learned", "adamw", "inverse-sqrt", "linear",
                     "bfloat16", "attention", "lesson", "bert", "transformer", "multi-head"]),
    st.booleans(),
    st.none(),
    st.just({"hidden_size": 8}),
)


def accepts(rule, value) -> bool:
    """The declared contract, written out independently of Rule.check."""
    if value is None:
        return rule.optional
    if rule.kind is bool:
        return type(value) is bool
    if rule.kind is dict:
        return type(value) is dict
    if rule.kind is str and rule.valid_text is not None:  # model.plugins: dotted module names, comma-separated
        return type(value) is str and (value == "" or all(
            part != "" and all(name.isidentifier() for name in part.split(".")) for part in value.split(",")))
    if rule.kind is str:
        return type(value) is str and (value in rule.choices if rule.choices else value.strip() != "")
    if type(value) is bool or not isinstance(value, (int, float)) or (rule.kind is int and type(value) is not int):
        return False
    if not math.isfinite(value):
        return False
    low_ok = rule.lo is None or (value > rule.lo if rule.lo_open else value >= rule.lo)
    high_ok = rule.hi is None or (value < rule.hi if rule.hi_open else value <= rule.hi)
    return low_ok and high_ok


def test_every_field_of_every_section_declares_what_it_accepts():
    assert {cls.__name__: unchecked_fields(cls) for cls in SECTIONS} == {cls.__name__: [] for cls in SECTIONS}


def test_every_preset_is_valid():
    for config in list(PRESETS.values()) + list(CLASSIFY_PRESETS.values()):
        assert type(config).from_dict(config.to_dict()) == config


@pytest.mark.parametrize("cls, task, section, option, value",
                         [(Config, None, "decode", "beam_size", 7),
                          (ClassifyConfig, "classification", "head", "hidden", 7)])
def test_every_task_configuration_loads_saves_and_overrides_alike(cls, task, section, option, value, tmp_path):
    """Config and ClassifyConfig share one Sections base: the JSON written (``task`` first where the task
    has a name), reading it back, partial files over a preset, one-section overrides and the errors."""
    import json

    config = cls().override(section, **{option: value})
    config.save(tmp_path / "config.json")
    written = (tmp_path / "config.json").read_text(encoding="utf-8")
    sections = {f.name: {g.name: getattr(getattr(config, f.name), g.name) for g in fields(getattr(config, f.name))}
                for f in fields(cls)}
    assert written == json.dumps(sections if task is None else {"task": task, **sections}, indent=2) + "\n"
    assert cls.load(tmp_path / "config.json") == config and cls.from_dict(json.loads(written)) == config
    (tmp_path / "part.json").write_text(json.dumps({section: {option: value}}))
    assert cls().merge_file(tmp_path / "part.json") == config
    assert config.override(section, **{option: None}) is config  # None keeps
    (tmp_path / "part.json").write_text(json.dumps({"nope": {}}))
    with pytest.raises(UserError,
                       match=rf"part.json: unknown config section\(s\) \['nope'\]; valid: {', '.join(sections)}$"):
        cls().merge_file(tmp_path / "part.json")
    with pytest.raises(UserError, match=rf"unknown {section} option\(s\) \['nope'\]"):
        config.override(section, nope=1)
    if task is None:  # a translation config takes no other task's configuration
        with pytest.raises(UserError,
                           match="this is a classification configuration; this command takes translation ones"):
            cls.from_dict({"task": "classification"})


@settings(max_examples=600, deadline=None)
@given(field=st.sampled_from(FIELDS), value=VALUES)
def test_a_value_is_accepted_as_declared_or_refused_in_one_line_naming_the_field(field, value):
    cls, f = field
    rule = rule_of(f)
    name = f"{cls.SECTION}.{f.name}"
    # The section's cross-field rules, for the other fields at their defaults.
    conflict = ((cls is DecodeConfig and f.name == "n_best" and accepts(rule, value)
                 and value > DecodeConfig.beam_size)
                or (cls is DecodeConfig and f.name == "beam_size" and accepts(rule, value)
                    and value < DecodeConfig.n_best))
    try:
        made = cls(**{f.name: value})
    except UserError as exc:
        message = str(exc)
        assert "\n" not in message and len(message) < 400, message
        assert name in message, message
        assert not accepts(rule, value) or conflict, (value, message)
        if not conflict:  # the accepted range is stated
            assert rule.describe() in message, message
    else:
        assert accepts(rule, value) and not conflict, (name, value)
        assert getattr(made, f.name) == value
        if rule.kind is float and value is not None:
            assert type(getattr(made, f.name)) is float  # an int given for a float field is stored as a float


@settings(max_examples=200, deadline=None)
@given(field=st.sampled_from([(cls, f) for cls, f in FIELDS
                              if cls in (ModelConfig, TokenizerConfig, TrainConfig, DecodeConfig)]),
       value=VALUES)
def test_every_way_in_checks_the_same(field, value, tmp_path_factory):
    """A --config file, a model's config.json and Config.override refuse (or accept) a value alike."""
    import json

    cls, f = field
    section = cls.SECTION
    outcomes = []
    folder = tmp_path_factory.mktemp("cfg")
    path = folder / "c.json"
    try:
        path.write_text(json.dumps({section: {f.name: value}}, allow_nan=True))
    except (TypeError, ValueError):
        return  # not representable in JSON
    for way in (lambda: Config().override(section, **{f.name: value}) if value is not None else Config(),
                lambda: Config().merge_file(path), lambda: Config.load(path)):
        try:
            way()
            outcomes.append("ok")
        except UserError as exc:
            outcomes.append(str(exc).split(": ", 1)[-1] if str(exc).startswith(str(path)) else str(exc))
    if value is None:  # override treats None as "keep"
        outcomes = outcomes[1:]
    assert len(set(outcomes)) == 1, outcomes


def test_a_config_file_error_names_the_file_and_the_field(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  learning_rate: .nan\n")
    with pytest.raises(UserError, match=r"c.yaml: train.learning_rate must be a finite number in \(0, 10\]; got nan"):
        Config().merge_file(path)


def test_yaml_aliases_are_refused_before_they_expand(tmp_path):
    path = tmp_path / "laughs.yaml"
    levels = ["a: &a [" + ", ".join(["lol"] * 9) + "]"]
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    path.write_text("\n".join(levels) + "\n")  # 9**9 = 387 million strings once expanded
    with pytest.raises(UserError, match=r"YAML aliases \(\*a\) are not supported") as info:
        Config().merge_file(path)
    assert len(str(info.value)) < 200


def test_a_model_larger_than_memory_is_refused_before_allocation(monkeypatch):
    from nmt.models import check_size

    monkeypatch.setenv("NMT_MEMORY_BYTES", str(2**30))  # a 1 GiB machine
    check_size(ModelConfig(), 8000, 8000, 2048)  # the base model: about 0.2 GiB to train
    with pytest.raises(UserError,
                       match=r"training this model would need about .* GiB \(.* parameters, "
                             r"batches of 2,048 tokens\) and this machine has 1.0 GiB"):
        check_size(ModelConfig(units=4096), 8000, 8000, 2048)
    with pytest.raises(UserError, match="this model would need about"):
        check_size(ModelConfig(family="transformer", d_model=8192, ff_dim=32768, transformer_heads=8), 32000, 32000)


def test_memory_check_uses_this_machines_memory():
    os.environ.pop("NMT_MEMORY_BYTES", None)
    check_memory("a thing", 1024, "1 KiB")  # every machine has a kilobyte
    with pytest.raises(UserError, match="a thing would need about"):
        check_memory("a thing", 2**70, "a zettabyte")


@pytest.mark.parametrize("family, extra", [
    ("rnn", dict(attention="additive")), ("rnn", dict(attention="dot", tie_embeddings=True)),
    ("rnn", dict(attention="multi-head", encoder_layers=2, decoder_layers=2)),
    ("rnn", dict(attention="general", placement="bahdanau")), ("rnn", dict(attention="concat", input_feed=True)),
    ("transformer", dict()), ("transformer", dict(positions="learned", pre_norm=False, share_embeddings=False)),
])
def test_the_size_estimate_is_within_ten_percent_of_the_built_model(family, extra):
    import tensorflow as tf

    from nmt.models import MODELS, build_model

    config = ModelConfig(family=family, embedding_dim=24, units=40, attention_units=32, heads=4, d_model=48, ff_dim=80,
                         layers=2, transformer_heads=4, **extra)
    for src_vocab, tgt_vocab in ((300, 300), (300, 520)):
        model = build_model(config, src_vocab, tgt_vocab)
        model((tf.ones([2, 5], tf.int32), tf.ones([2, 4], tf.int32)))
        estimate = MODELS.get(family).estimate(config, src_vocab, tgt_vocab)[0]
        assert 0.9 <= estimate / model.count_params() <= 1.1, (estimate, model.count_params())


def test_replace_checks_too():
    with pytest.raises(UserError, match=r"decode.beam_size must be an integer in \[1, 1,024\]; got 1000000"):
        replace(DecodeConfig(), beam_size=10**6)
    with pytest.raises(UserError, match=r"train.valid_fraction must be a finite number in \[0, 1\); got -0.1"):
        ClassifyConfig().override("train", valid_fraction=-0.1)


def test_a_saved_config_json_is_a_valid_config_file_for_its_own_task_only(tmp_path):
    """`--config` takes a model directory's config.json back whole (its ``task`` key included), and a
    configuration of the other task is refused in one line instead of listing its sections as unknown."""
    saved_classifier, saved_translation = tmp_path / "classifier.json", tmp_path / "translation.json"
    ClassifyConfig().override("head", hidden=7).save(saved_classifier)
    Config().override("model", units=12).save(saved_translation)
    assert ClassifyConfig().merge_file(saved_classifier).head.hidden == 7
    assert Config().merge_file(saved_translation).model.units == 12
    with pytest.raises(UserError, match="this is a classification configuration; this command takes translation ones"):
        Config().merge_file(saved_classifier)
    with pytest.raises(UserError, match="this is a classification configuration"):
        Config.load(saved_classifier)
    bad = dict(ClassifyConfig().to_dict(), task="summarisation")
    with pytest.raises(UserError,
                       match="this is a summarisation configuration; this command takes classification ones"):
        ClassifyConfig.from_dict(bad)
