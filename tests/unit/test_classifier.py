"""Classifier models: padding changes nothing, pooling weights are a distribution over real tokens,
unused translation-model weights are frozen, and the lesson's model is kept as it was."""

import numpy as np
import pytest
import tensorflow as tf

from nmt.classification.classifiers import build_classifier, head_variables
from nmt.classification.config import ClassifyConfig, classify_preset
from nmt.config import ModelConfig
from nmt.models import MODELS

SMALL = ModelConfig(embedding_dim=16, units=16, attention_units=16, layers=1, d_model=16, ff_dim=32,
                    transformer_heads=2, dropout=0.0)
IDS = tf.constant([[5, 9, 7, 3], [8, 3, 0, 0]], tf.int32)  # [2,4], second row padded


def config(family="transformer", pooling="attention", encoder="seq2seq", mask_padding=True):
    return (ClassifyConfig(model=SMALL).override("model", family=family)
            .override("head", pooling=pooling, encoder=encoder, max_length=12, mask_padding=mask_padding, hidden=8))


@pytest.mark.parametrize("family", MODELS.names())  # every registered family, a plug-in one too
@pytest.mark.parametrize("pooling", ["mean", "attention"])
def test_padding_changes_nothing_and_weights_sum_to_one(family, pooling):
    tf.random.set_seed(0)
    model = build_classifier(config(family, pooling), vocab_size=20, num_classes=3)
    logits, weights = model(IDS)  # [2,3], [2,4]
    padded_logits, padded_weights = model(tf.pad(IDS, [[0, 0], [0, 3]]))  # three more pads
    # Two float32 evaluations at different widths (summation orders differ): a one-layer encoder and
    # the pooling see ~10 roundings of eps32 1.2e-7 on values <= 4: 5e-6. A pooling weight on padding
    # takes ~1/7 from the real positions.
    np.testing.assert_allclose(padded_logits.numpy(), logits.numpy(), atol=1e-5)
    np.testing.assert_allclose(padded_weights.numpy()[:, :4], weights.numpy(), atol=1e-5)
    assert np.all(weights.numpy()[1, 2:] == 0) and np.all(padded_weights.numpy()[:, 4:] == 0)
    # a float32 softmax (each weight a few roundings) summed over 4 positions: <= 4 x 3 x 6e-8 + 3 x 6e-8 ~ 1e-6
    np.testing.assert_allclose(weights.numpy().sum(1), 1.0, atol=1e-5)
    if pooling == "mean":
        np.testing.assert_allclose(weights.numpy()[1, :2], 0.5)


@pytest.mark.parametrize("family", MODELS.names())  # every registered family, a plug-in one too
def test_decoder_weights_are_frozen_encoder_and_head_train(family):
    model = build_classifier(config(family), vocab_size=20, num_classes=3)
    frozen = [w.path for w in model.weights if not w.trainable]
    trainable = [w.path for w in model.trainable_weights]
    assert any("decoder" in p for p in frozen), frozen
    assert not any("encoder" in p or "src_embedding" in p or "shared_embedding" in p for p in frozen), frozen
    assert not any("decoder" in p for p in trainable)
    assert any("encoder" in p for p in trainable) and any("head" in p for p in trainable)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(IDS, training=True)[0])
    assert all(g is not None for g in tape.gradient(loss, model.trainable_variables))
    heads = head_variables(model)
    assert heads and all(("head" in v.path or "pooling" in v.path) for v in heads)


def test_lesson_model_as_it_was_and_with_the_padding_mask():
    tf.random.set_seed(0)
    lesson = classify_preset("lesson").override("head", max_length=12)
    model = build_classifier(lesson, vocab_size=20, num_classes=4)
    logits, weights = model(IDS)
    # global average over all 12 padded positions (1/12 in float32: 1-2 roundings of 6e-8)
    np.testing.assert_allclose(weights.numpy(), 1 / 12, rtol=1e-6)
    assert logits.shape == (2, 4)
    # Kept as it was: attention and the average see padding, so a text's logits depend on how much
    # padding the others in the batch have only through the fixed length: the same ids, the same logits.
    np.testing.assert_allclose(model(IDS[1:, :2])[0].numpy(), logits.numpy()[1:], atol=1e-5)
    fixed = build_classifier(lesson.override("head", mask_padding=True), vocab_size=20, num_classes=4)
    a, wa = fixed(IDS)
    b, _ = fixed(tf.pad(IDS, [[0, 0], [0, 5]]))
    np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)
    np.testing.assert_allclose(wa.numpy()[1], [0.5, 0.5, 0, 0], atol=1e-6)


def _nmt_imports(path):
    """The ``nmt.*`` modules a source file imports, at any depth (function-level imports too)."""
    import ast

    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.update([node.module] + [f"{node.module}.{a.name}" for a in node.names])
    return {n for n in names if n == "nmt" or n.startswith("nmt.")}


def test_classification_sits_above_translation_and_below_the_commands():
    """One home, one direction: only the commands and export import nmt.classification, and it
    imports neither them nor anything that imports it back."""
    from pathlib import Path

    import nmt

    root = Path(nmt.__file__).parent
    users = {str(p.relative_to(root)) for p in root.rglob("*.py") if not p.is_relative_to(root / "classification")
             and any(n.startswith("nmt.classification") for n in _nmt_imports(p))}
    assert users and all(u.startswith("cli/") or u == "export.py" for u in users), sorted(users)
    for path in (root / "classification").glob("*.py"):
        upward = [n for n in _nmt_imports(path) if n.startswith(("nmt.cli", "nmt.export"))]
        assert not upward, (path.name, upward)
