"""The command line meets the same validation layer: random values for every numeric option of ``nmt
train`` that maps to a configuration field; every value the field's rule refuses must give exit 2, one
line naming the option and the accepted range, and no model directory (Hypothesis)."""

import math

import click
from hypothesis import given, settings, strategies as st

from nmt.checks import rule_of
from nmt.cli.train import train
from nmt.config import Config
from tests.integration.test_cli import run
from tests.unit.test_checks import accepts

SECTIONS = {f.name: (section, f) for section in ("model", "tokenizer", "train", "decode")
            for f in __import__("dataclasses").fields(getattr(Config(), section))}
SCALE = {"time_budget": 60.0}  # --time-budget is in minutes, the field in seconds
OPTIONS = [(p.opts[0], p.name) for p in train.params
           if isinstance(p, click.Option) and p.name in SECTIONS and p.type in (click.INT, click.FLOAT)]


def test_the_numeric_options_are_found():
    names = {name for _, name in OPTIONS}
    assert {"units", "learning_rate", "max_steps", "label_smoothing", "beam_size", "seed", "time_budget"} <= names


@settings(max_examples=60, deadline=None)
@given(option=st.sampled_from(OPTIONS),
       value=st.one_of(st.integers(-(10**15), 10**15), st.floats(allow_nan=True, allow_infinity=True),
                       st.sampled_from([0, -1, 10**9, float("nan"), float("inf"), -0.5, 1.5])))
def test_a_refused_value_is_one_line_naming_the_option(tmp_path_factory, option, value):
    flag, name = option
    section, field = SECTIONS[name]
    rule = rule_of(field)
    if rule.kind is int and not (isinstance(value, int) or (isinstance(value, float) and value.is_integer())):
        return  # click itself refuses a non-integer for an integer option (tested in test_bad_inputs)
    value = int(value) if rule.kind is int else float(value)
    stored = value * SCALE.get(name, 1) if isinstance(value, float) and math.isfinite(value) else value
    if accepts(rule, stored):
        return  # a value in range would start a training: the unit tests cover acceptance
    folder = tmp_path_factory.mktemp("opt")
    code, _, err = run(["train", "--model-dir", str(folder / "m"), "--steps", "1", "--no-progress", flag, repr(value)])
    assert code == 2 and len(err.strip().splitlines()) == 1, (flag, value, err)
    assert err.startswith(f"error: {flag} must be ") and f"({section}.{name})" in err, err
    assert not (folder / "m").exists()


def test_any_field_can_be_set_and_is_checked_like_the_others(tmp_path):
    """nmt train --set SECTION.KEY=VALUE reaches every configuration field through the same checks."""
    import json

    from tests.integration.test_cli import one_line_error, write_corpus

    write_corpus(tmp_path, n=50)
    base = ["train", "--train-src", str(tmp_path / "train.src"), "--train-tgt", str(tmp_path / "train.tgt"),
            "--preset", "tiny", "--vocab-size", "40", "--steps", "1", "--no-progress"]
    code, _, err = run([*base, "--model-dir", str(tmp_path / "m"), "--set", "model.units=12",
                        "--set", "train.label_smoothing=0", "--set", "model.attention=dot", "--units", "10"])
    assert code == 0, err
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    # --units, a named option, wins over --set model.units
    assert (config["model"]["units"], config["model"]["attention"],
            config["train"]["label_smoothing"]) == (10, "dot", 0.0)
    for setting, needle in (("model.nope=1", "unknown model option(s) ['nope']"),
                            ("train.learning_rate=-1", "train.learning_rate must be"),
                            ("nosection.x=1", "unknown config section(s)"),
                            ("transformer:model.units=3", "a MODEL: prefix is for nmt benchmark"),
                            ("units=3", "expected [MODEL:]SECTION.KEY=VALUE")):
        code, _, err = run([*base, "--model-dir", str(tmp_path / "bad"), "--set", setting])
        one_line_error(code, err, needle)
        assert not (tmp_path / "bad").exists()
