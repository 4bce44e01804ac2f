"""Classifier directories written by an earlier commit still load and predict the same.

tests/data/classifier_dirs/ holds one small trained directory per registered classifier encoder
(seq2seq over both translation families, lesson, bert), written by scripts/make_classifier_dirs.py at
the commit expected.json names, with their probabilities and pooling weights for a few texts. Moving
or renaming the modules that build them must not change what they predict. (Renaming a layer class
can: Keras names the weights of layers held in a list by their class, e.g. ``blocks/bert_layer_1``.)
"""

import json
from pathlib import Path

import numpy as np
import pytest

from nmt.classification import model_dir as cdir
from nmt.classification.config import ClassifyConfig
from nmt.classification.training import predict_with_weights

DIRS = Path(__file__).resolve().parents[1] / "data" / "classifier_dirs"
EXPECTED = json.loads((DIRS / "expected.json").read_text(encoding="utf-8"))
# Tiny models (width <= 16, two layers at most) recomputed in float32, perhaps in another summation
# order: each output is ~100 roundings of eps32 (6e-8) on values of order 1, ~1e-6; the stored values
# carry 7 significant digits. Weights that failed to load (a fresh initialisation) move them by >1e-2.
ATOL = 1e-5


def test_every_registered_encoder_has_a_stored_directory():
    from nmt.classification.classifiers import CLASSIFIERS

    stored = {json.loads((DIRS / name / "config.json").read_text())["head"]["encoder"]
              for name in EXPECTED["directories"]}
    assert stored == set(CLASSIFIERS.names())


@pytest.mark.parametrize("name", sorted(EXPECTED["directories"]))
def test_a_stored_directory_loads_and_predicts_as_when_it_was_written(name):
    expected = EXPECTED["directories"][name]
    config, tokenizer, classes, model = cdir.load(DIRS / name)  # checks the manifest's checksums too
    assert classes == EXPECTED["classes"]
    probs, weights = predict_with_weights(model, tokenizer, EXPECTED["texts"], config.head.max_length)
    np.testing.assert_allclose(probs, expected["probabilities"], atol=ATOL)
    assert [len(w) for w in weights] == [len(w) for w in expected["weights"]]  # the same tokens
    for got, want in zip(weights, expected["weights"]):
        np.testing.assert_allclose(got, want, atol=ATOL)


@pytest.mark.parametrize("name", sorted(EXPECTED["directories"]))
def test_a_stored_config_is_written_back_with_every_value_it_had(name, tmp_path):
    """Loading and saving an older config.json keeps every key and value in place, in order; fields
    added since (``model.options``) may only be added, at their defaults, and load back equal."""
    stored = DIRS / name / "config.json"
    config = ClassifyConfig.load(stored)
    config.save(tmp_path / "config.json")
    old, new = json.loads(stored.read_text()), json.loads((tmp_path / "config.json").read_text())
    assert list(old) == list(new)
    for section in old:
        if isinstance(old[section], dict):
            assert {k: new[section][k] for k in old[section]} == old[section], section
            assert [k for k in new[section] if k in old[section]] == list(old[section]), section  # same order
            added = {k: v for k, v in new[section].items() if k not in old[section]}
            defaults = ClassifyConfig().to_dict()[section]
            assert added == {k: defaults[k] for k in added}, section
        else:
            assert new[section] == old[section]
    assert ClassifyConfig.load(tmp_path / "config.json") == config


def test_stored_directories_name_no_module():
    """What makes them survive moves: files record registered names and Keras weight paths only."""
    for path in DIRS.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"nmt.models" not in data and b"nmt.classification" not in data, path
