"""Save and load a classifier directory.

Layout::

    config.json        {"task": "classification", model, tokenizer, head, train}
    classes.json       class names in label order
    spm.model          the SentencePiece model (or src.spm.model + tgt.spm.model from a translation model)
    model.weights.h5   weights
    history.jsonl      one JSON line per epoch

Loading runs no code from the directory (JSON, SentencePiece protobufs and HDF5 weights only).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from nmt.classification.config import ClassifyConfig
from nmt.config import read_mapping
from nmt.errors import UserError
from nmt.io import atomic_write_text
from nmt.tokenization import Tokenizer

CONFIG, CLASSES, WEIGHTS, HISTORY = "config.json", "classes.json", "model.weights.h5", "history.jsonl"


def save(directory, config: ClassifyConfig, tokenizer: Tokenizer, classes, model, history=()) -> Path:
    """Write a classifier directory; the weights go to a temporary file renamed into place last."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer.save(directory)
    atomic_write_text(directory / CONFIG, json.dumps(config.to_dict(), indent=2) + "\n")
    atomic_write_text(directory / CLASSES, json.dumps(list(classes), ensure_ascii=False) + "\n")
    atomic_write_text(directory / HISTORY, "".join(json.dumps(r) + "\n" for r in history))
    tmp = directory / f".{WEIGHTS}.tmp.weights.h5"
    model.save_weights(str(tmp))
    os.replace(tmp, directory / WEIGHTS)
    return directory


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
    from nmt.models.classifier import build_classifier

    directory = Path(directory)
    if not directory.is_dir():
        raise UserError(f"classifier directory {directory} does not exist; train one with 'nmt classify train --model-dir {directory}'")
    if not is_classifier_dir(directory):
        raise UserError(f"{directory} is not a classifier directory (no {CONFIG} with task 'classification'); "
                        "train one with 'nmt classify train'")
    config = ClassifyConfig.load(directory / CONFIG)
    try:
        classes = json.loads((directory / CLASSES).read_text("utf-8"))
    except (OSError, ValueError):
        raise UserError(f"{directory / CLASSES} is missing or not JSON; retrain the classifier") from None
    if not isinstance(classes, list) or len(classes) < 2 or not all(isinstance(c, str) for c in classes):
        raise UserError(f"{directory / CLASSES} must list at least two class names; retrain the classifier")
    tokenizer = Tokenizer.load(directory)
    model = build_classifier(config, tokenizer.src_vocab_size, len(classes))
    if not (directory / WEIGHTS).is_file():
        raise UserError(f"{directory} has no {WEIGHTS}; training did not finish, train again")
    try:
        model.load_weights(str(directory / WEIGHTS))
    except Exception as exc:  # noqa: BLE001 - a weights file from another configuration
        raise UserError(f"{directory / WEIGHTS} does not fit the classifier in {CONFIG} "
                        f"({' '.join(str(exc).split())[:160]}); retrain or restore the matching config") from None
    return config, tokenizer, classes, model
