"""Save and load a classifier directory.

Layout::

    config.json        {"task": "classification", model, tokenizer, head, train}
    classes.json       class names in label order
    spm.model          the SentencePiece model (or src.spm.model + tgt.spm.model from a translation model),
                       or vocab.txt + wordpiece.json for a pretrained BERT-family encoder
    model.weights.h5   weights
    history.jsonl      one JSON line per epoch
    manifest.json      format version and SHA-256 of the files above but history (checked on load)

Loading runs no code from the directory (JSON, SentencePiece protobufs and HDF5 weights only).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from nmt import manifest
from nmt.classification.config import ClassifyConfig
from nmt.config import read_mapping
from nmt.errors import UserError
from nmt.io import atomic_write_text

CONFIG, CLASSES, WEIGHTS, HISTORY = "config.json", "classes.json", "model.weights.h5", "history.jsonl"


def save(directory, config: ClassifyConfig, tokenizer, classes, model, history=()) -> Path:
    """Write a classifier directory; the weights go to a temporary file renamed into place last."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = tokenizer.save(directory)
    config.save(directory / CONFIG)
    atomic_write_text(directory / CLASSES, json.dumps(list(classes), ensure_ascii=False) + "\n")
    atomic_write_text(directory / HISTORY, "".join(json.dumps(r) + "\n" for r in history))
    tmp = directory / f".{WEIGHTS}.tmp.weights.h5"
    model.save_weights(str(tmp))
    manifest.accept(directory, WEIGHTS, tmp)
    os.replace(tmp, directory / WEIGHTS)
    manifest.record(directory, [CONFIG, CLASSES, WEIGHTS] + [Path(p).name for p in written])
    return directory


def create(config: ClassifyConfig, texts, num_classes: int, init_from=None, pretrained=None):
    """A new classifier ``(config, tokenizer, model)``: its tokenizer and first weights come from a
    trained translation model directory (``init_from``: its encoder and SentencePiece model), from a
    pretrained BERT-family folder (encoder ``bert``: ``pretrained`` or the MiniLM package), or are
    fresh (a SentencePiece model trained on ``texts``). Seeds TensorFlow with ``train.seed`` first."""
    import keras

    from nmt.classification.classifiers import CLASSIFIERS, build_classifier
    from nmt.tokenization import Tokenizer, train_sentencepiece

    CLASSIFIERS.get(config.head.encoder)
    if pretrained and config.head.encoder != "bert":
        raise UserError("--pretrained needs --encoder bert (or --preset minilm)")
    if init_from and config.head.encoder != "seq2seq":
        raise UserError("--init-from needs --encoder seq2seq: it starts from a translation model's encoder")
    seq2seq, weights = None, None
    if init_from:
        from nmt import model_dir as translation_dir

        translation, tokenizer, seq2seq = translation_dir.load(init_from)
        config = (config.override("model", **translation.model.__dict__)
                  .override("tokenizer", **translation.tokenizer.__dict__))
    elif config.head.encoder == "bert":
        from nmt.classification.pretrained import pretrained_parts

        architecture, tokenizer, weights = pretrained_parts(pretrained)
        config = config.override("head", bert=architecture,
                                 max_length=min(config.head.max_length, architecture["max_position_embeddings"]))
    config.validate()
    keras.utils.set_random_seed(config.train.seed)
    if not init_from and weights is None:
        tc = config.tokenizer
        tokenizer = Tokenizer(train_sentencepiece(list(texts), tc.vocab_size, tc.model_type, tc.character_coverage,
                                                  seed=config.train.seed))
    model = build_classifier(config, tokenizer.src_vocab_size, num_classes, seq2seq=seq2seq)
    if weights is not None:
        from nmt.classification.bert import load_safetensors_weights

        load_safetensors_weights(model.bert, weights)
    return config, tokenizer, model


def is_classifier_dir(path) -> bool:
    path = Path(path) / CONFIG
    if not path.is_file():
        return False
    try:
        return read_mapping(path).get("task") == "classification"
    except UserError:
        return False


def load(directory):
    """``(config, tokenizer, classes, model)`` of a directory made by ``nmt classify train``."""
    from nmt.classification.classifiers import build_classifier
    from nmt.classification.pretrained import load_tokenizer

    directory = Path(directory)
    if not directory.is_dir():
        raise UserError(f"classifier directory {directory} does not exist; "
                        f"train one with 'nmt classify train --model-dir {directory}'")
    if not is_classifier_dir(directory):
        raise UserError(f"{directory} is not a classifier directory (no {CONFIG} with task 'classification'); "
                        "train one with 'nmt classify train'")
    manifest.verify(directory)
    config = ClassifyConfig.load(directory / CONFIG)
    try:
        classes = json.loads((directory / CLASSES).read_text("utf-8"))
    except (OSError, ValueError):
        raise UserError(f"{directory / CLASSES} is missing or not JSON; retrain the classifier") from None
    if not isinstance(classes, list) or len(classes) < 2 or not all(isinstance(c, str) for c in classes):
        raise UserError(f"{directory / CLASSES} must list at least two class names; retrain the classifier")
    tokenizer = load_tokenizer(directory)
    model = build_classifier(config, tokenizer.src_vocab_size, len(classes))
    if not (directory / WEIGHTS).is_file():
        raise UserError(f"{directory} has no {WEIGHTS}; training did not finish, train again")
    try:
        model.load_weights(str(directory / WEIGHTS))
    except Exception as exc:  # noqa: BLE001 - a weights file from another configuration
        raise UserError(f"{directory / WEIGHTS} does not fit the classifier in {CONFIG} "
                        f"({' '.join(str(exc).split())[:160]}); retrain or restore the matching config") from None
    return config, tokenizer, classes, model
