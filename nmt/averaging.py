"""Checkpoint averaging: the mean of the last N training checkpoints' weights as a new model directory.

Averaging the parameters of the last few checkpoints (Vaswani et al. 2017 average the last 5 or 20;
OpenNMT-tf's ``average_checkpoints``, Marian's and fairseq's scripts do the same) smooths out the noise
of the last updates and usually gains a little BLEU at no training cost. Only the model's weights are
averaged; the new directory holds the configuration, the tokenizer and ``model.weights.h5`` (no
optimizer state, so it translates, aligns, evaluates and exports, but does not ``--resume``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import tensorflow as tf

from nmt import manifest, model_dir as md
from nmt.config import Config
from nmt.errors import UserError
from nmt.io import atomic_directory, check_output_directory
from nmt.tokenization import Tokenizer

AVERAGED = "averaged.json"


def checkpoints(path) -> list[tuple[int, str]]:
    """``(step, checkpoint prefix)`` of every checkpoint a model directory keeps, oldest first."""
    state = tf.train.get_checkpoint_state(str(Path(path) / md.CHECKPOINTS))
    prefixes = list(state.all_model_checkpoint_paths) if state is not None else []
    out = []
    for prefix in prefixes:  # kept by name: the directory may have moved since they were written
        prefix = str(Path(path) / md.CHECKPOINTS / Path(prefix).name)
        if tf.io.gfile.exists(prefix + ".index"):
            match = re.search(r"-(\d+)$", prefix)
            out.append((int(match.group(1)) if match else -1, prefix))
    return out


def read_weights(model, config: Config, prefix: str, reader: tf.train.Checkpoint | None = None) -> list[np.ndarray]:
    """Load a training checkpoint into ``model`` and return its weights (in ``model.weights`` order).

    ``reader``: a :func:`weights_reader` for ``model``, to reuse over several checkpoints."""
    reader = reader or weights_reader(model, config)
    try:
        reader.read(prefix).expect_partial().assert_existing_objects_matched()
    except (*md.DAMAGED_CHECKPOINT, AssertionError) as exc:
        raise UserError(f"cannot read checkpoint {prefix}: it does not fit {md.CONFIG} or is damaged "
                        f"({type(exc).__name__})") from None
    return [w.numpy() for w in model.weights]


def weights_reader(model, config: Config) -> tf.train.Checkpoint:
    """The Trainer's checkpoint layout around ``model`` and a fresh optimizer (without the RNG state,
    so checkpoints of every age read)."""
    from nmt.optimizers import make_optimizer
    from nmt.training import checkpoint

    optimizer = make_optimizer(config.train)
    optimizer.build(model.trainable_variables)
    return checkpoint(model, optimizer, rng=False)


def average(path, out, last: int = 5, overwrite: bool = False, steps: list[int] | None = None) -> dict:
    """Write to ``out`` a model directory whose weights are the mean of ``path``'s last ``last`` checkpoints,
    or of the checkpoints of the given training ``steps`` (one step: that checkpoint as a model directory).

    Returns a summary: the averaged steps and checkpoint files. Raises UserError when ``path`` is not a
    model directory, keeps fewer than ``last`` checkpoints or none of a step, or a checkpoint does not fit
    its configuration.
    """
    path = Path(path)
    if not md.is_model_dir(path):
        raise UserError(f"{path} is not a model directory (no {md.CONFIG}); "
                        f"train one with 'nmt train --model-dir {path}'")
    if last < 1:
        raise UserError(f"--last must be at least 1, got {last}")
    check_output_directory(out, overwrite, inputs=[path])
    kept = checkpoints(path)
    listed = ", ".join(str(s) for s, _ in kept) or "none"
    if steps:
        missing = sorted(set(steps) - {s for s, _ in kept})
        if missing:
            raise UserError(f"{path} keeps no checkpoint of step {', '.join(map(str, missing))} "
                            f"(it keeps steps: {listed})")
        chosen = [(s, prefix) for s, prefix in kept if s in set(steps)]
    elif len(kept) < last:
        raise UserError(f"{path} keeps {len(kept)} checkpoints (steps: {listed}), fewer than --last {last}; "
                        "average fewer, or train with a larger --keep-checkpoints")
    else:
        chosen = kept[-last:]
    config, tokenizer = Config.load(path / md.CONFIG), Tokenizer.load(path)
    model = md.build(config, tokenizer)
    total = [np.zeros(w.shape, np.float64) for w in model.weights]
    reader = weights_reader(model, config)
    for _, prefix in chosen:
        for acc, value in zip(total, read_weights(model, config, prefix, reader)):
            acc += value
    for acc, w in zip(total, model.weights):
        w.assign((acc / len(chosen)).astype(w.dtype))
    summary = {"source": str(path), "steps": [s for s, _ in chosen],
               "checkpoints": [Path(p).name for _, p in chosen]}
    with atomic_directory(out, overwrite, inputs=[path]) as tmp:
        written = tokenizer.save(tmp)
        config.save(tmp / md.CONFIG)
        model.save_weights(str(tmp / md.WEIGHTS))
        (tmp / AVERAGED).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        manifest.record(tmp, [md.CONFIG, md.WEIGHTS] + [p.name for p in written])
    return summary
