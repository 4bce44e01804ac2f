"""Save and load a self-contained model directory.

Layout::

    config.json          resolved configuration (model, tokenizer, train, decode)
    spm.model            SentencePiece model (or src.spm.model + tgt.spm.model)
    model.weights.h5     weights used for translation (best validation BLEU)
    checkpoints/         last-K training checkpoints with optimizer state and step (``--resume``)
    metrics.jsonl        one JSON line per validation
    data.json            what it was trained on: files (absolute paths, SHA-256) or the embedded corpus
    manifest.json        format version and SHA-256 of config, tokenizer and weights (checked on load)
    logs/                TensorBoard summaries

Translating, evaluating and aligning need only the directory's path. Loading runs no code from the
directory: JSON config, SentencePiece protobufs and HDF5 weights only.
"""

from __future__ import annotations

import json
from pathlib import Path

import tensorflow as tf

from nmt import manifest
from nmt.config import Config
from nmt.errors import UserError
from nmt.models import build_model, check_size
from nmt.tokenization import Tokenizer

CONFIG = "config.json"
WEIGHTS = "model.weights.h5"
METRICS = "metrics.jsonl"
CHECKPOINTS = "checkpoints"
# What reading a damaged checkpoint raises: a data file cut short (IndexError "read less bytes"), a garbled
# index (OpError, ValueError), a file gone (OSError, NotFoundError). Every reader catches all of them.
DAMAGED_CHECKPOINT = (tf.errors.OpError, IndexError, ValueError, OSError)


def is_model_dir(path: str | Path) -> bool:
    return (Path(path) / CONFIG).is_file()


def build(config: Config, tokenizer: Tokenizer):
    """Build a model for ``config`` and create its weights with one dummy batch (a model larger than
    this machine's memory is refused first)."""
    check_size(config.model, tokenizer.src_vocab_size, tokenizer.tgt_vocab_size)
    model = build_model(config.model, tokenizer.src_vocab_size, tokenizer.tgt_vocab_size)
    dummy = tf.constant([[4, 3]], tf.int32)  # [1,2]
    model((dummy, dummy))  # through __call__, so Keras marks the model built
    return model


def load(path: str | Path, weights: str = WEIGHTS):
    """Load ``(config, tokenizer, model)`` from a model directory made by ``nmt train``."""
    path = Path(path)
    if not path.is_dir():
        raise UserError(f"model directory {path} does not exist; train one with 'nmt train --model-dir {path}'")
    if not is_model_dir(path):
        raise UserError(f"{path} is not a model directory (no {CONFIG}); train one with 'nmt train --model-dir {path}'")
    manifest.verify(path)  # format version and checksums, before anything is read
    config = Config.load(path / CONFIG)
    tokenizer = Tokenizer.load(path)
    model = build(config, tokenizer)
    weights_path = path / weights
    if not weights_path.is_file():
        raise UserError(f"{path} has no {weights}: training has not finished a validation yet; wait, "
                        f"or resume with 'nmt train --resume --model-dir {path}'")
    try:
        model.load_weights(str(weights_path))
    except Exception as exc:  # noqa: BLE001 - a mismatched or corrupt file is the user's to fix
        raise UserError(f"cannot load {weights_path}: it does not match {CONFIG} or is damaged "
                        f"({type(exc).__name__})") from None
    return config, tokenizer, model


def read_metrics(path: str | Path) -> list[dict]:
    """The validations in ``metrics.jsonl``; a last line cut short (a process killed mid-write) is skipped."""
    file = Path(path) / METRICS
    if not file.is_file():
        return []
    lines = [line for line in file.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    out = []
    for i, line in enumerate(lines):
        try:
            out.append(json.loads(line))
        except ValueError:
            if i < len(lines) - 1:
                raise UserError(f"{file} line {i + 1} is not JSON; the file is damaged") from None
    return out
