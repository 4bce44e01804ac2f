"""nmt train killed with SIGKILL at 10 random moments: --resume always finishes, nothing is corrupt,
at most one checkpoint interval is lost, and the final weights equal an uninterrupted run's."""

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
STEPS, EVAL_EVERY = 240, 20


def _corpus(folder: Path):
    rng = random.Random(0)
    words = "ab cd ef gh ij kl".split()
    src, tgt = [], []
    for _ in range(300):
        s = [rng.choice(words) for _ in range(rng.randint(2, 6))]
        src.append(" ".join(s))
        tgt.append(" ".join(w.upper() for w in reversed(s)))
    (folder / "train.src").write_text("\n".join(src) + "\n")
    (folder / "train.tgt").write_text("\n".join(tgt) + "\n")


def _command(folder: Path, model: Path, resume: bool):
    return [sys.executable, "-m", "nmt", "train", "--model-dir", str(model), "--train-src", str(folder / "train.src"),
            "--train-tgt", str(folder / "train.tgt"), "--valid-src", str(folder / "train.src"), "--valid-tgt",
            str(folder / "train.tgt"), "--preset", "tiny", "--vocab-size", "30", "--dropout", "0.2", "--steps",
            str(STEPS), "--eval-every", str(EVAL_EVERY), "--keep-checkpoints", "3", "--lr", "0.005",
            "--no-progress"] + (["--resume"] if resume else [])


def _check_intact(model: Path):
    """Every kept checkpoint reads, metrics parse, and the weights pass their checksums."""
    import tensorflow as tf

    from nmt import model_dir as md
    from nmt.averaging import checkpoints

    for _, prefix in checkpoints(model):
        reader = tf.train.load_checkpoint(prefix)
        assert reader.get_variable_to_shape_map()
    md.read_metrics(model)
    if (model / md.WEIGHTS).is_file():
        md.load(model)


@pytest.mark.slow
def test_sigkill_then_resume(tmp_path):
    _corpus(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    model = tmp_path / "killed"
    rng = random.Random(1234)
    kills = 0
    while kills < 10:
        from nmt import model_dir as md

        resume = md.is_model_dir(model)
        proc = subprocess.Popen(_command(tmp_path, model, resume), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env, cwd=tmp_path)
        time.sleep(rng.uniform(2.0, 9.0))  # start-up (imports, tokenizer) takes a few seconds: kill there too
        if proc.poll() is not None:
            break  # it finished first
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate()
        kills += 1
        logged = [int(s) for s in re.findall(r"step (\d+) \(", err)]
        _check_intact(model)
        if logged:  # a validation was logged only after its checkpoint was saved
            from nmt.averaging import checkpoints

            assert max(s for s, _ in checkpoints(model)) >= max(logged)
    assert kills >= 5, "training finished too soon for the kills to mean anything"
    final = subprocess.run(_command(tmp_path, model, md.is_model_dir(model)), capture_output=True, text=True, env=env,
                           cwd=tmp_path, timeout=600)
    assert final.returncode == 0, final.stderr[-2000:]
    _check_intact(model)
    straight = subprocess.run(_command(tmp_path, tmp_path / "straight", False), capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=600)
    assert straight.returncode == 0, straight.stderr[-2000:]

    from nmt import model_dir as md
    from nmt.averaging import checkpoints, read_weights
    from nmt.config import Config

    config = Config.load(model / md.CONFIG)
    last = dict(checkpoints(model))[STEPS], dict(checkpoints(tmp_path / "straight"))[STEPS]
    built = md.build(config, md.Tokenizer.load(model))
    a = read_weights(built, config, last[0])
    b = read_weights(built, config, last[1])
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)  # killed ten times, the same model bit for bit
