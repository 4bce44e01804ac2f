"""A resumed training continues the training clock: metrics.jsonl's seconds, --time-budget and the result."""

import json

import numpy as np
import tensorflow as tf

from nmt import model_dir as md
from nmt.training import Trainer
from tests.integration.test_cli import _variables, run, write_corpus

COMMON = ["--preset", "tiny", "--vocab-size", "30", "--eval-every", "2", "--no-progress"]


def _files(folder):
    write_corpus(folder, n=80)
    return ["--train-src", str(folder / "train.src"), "--train-tgt", str(folder / "train.tgt"),
            "--valid-src", str(folder / "train.src"), "--valid-tgt", str(folder / "train.tgt")]


def _seconds(folder):
    return [(m["step"], m["train_seconds"]) for m in md.read_metrics(folder)]


def _rate_counts_every_token(metrics: dict, checkpoint_prefix) -> None:
    """tokens/s x seconds on a metrics line = the target tokens the whole run has seen (the checkpoint's
    count), within what rounding both to 0.1 allows; a clock that restarted would give this process's only."""
    seen = int(_variables(checkpoint_prefix)["tokens_seen/.ATTRIBUTES/VARIABLE_VALUE"])
    rate, secs = metrics["tokens_per_second"], metrics["train_seconds"]
    assert abs(rate * secs - seen) <= 0.05 * (rate + secs) + 0.01, (rate, secs, seen)


def test_seconds_carry_across_a_resume_and_count_against_the_time_budget(tmp_path):
    files = _files(tmp_path)
    model = tmp_path / "m"
    code, _, err = run(["train", "--model-dir", str(model), *files, *COMMON, "--steps", "4"])
    assert code == 0, err
    before = _seconds(model)
    code, out, err = run(["train", "--model-dir", str(model), "--resume", "--steps", "6", "--no-progress"])
    assert code == 0, err
    after = _seconds(model)
    assert [s for s, _ in after] == [2, 4, 6] and after[:2] == before
    assert after[1][1] < after[2][1]  # the clock went on from step 4's, not from zero
    result = json.loads(out.strip().splitlines()[-1])
    assert abs(result["train_seconds"] - after[2][1]) <= 0.05  # the whole run's seconds, as metrics.jsonl says
    _rate_counts_every_token(md.read_metrics(model)[-1], model / "checkpoints" / "ckpt-6")
    # A budget the run has already spent: a resume stops without another update.
    spent_minutes = after[2][1] / 60 / 2
    code, out, err = run(["train", "--model-dir", str(model), "--resume", "--steps", "100",
                          "--time-budget", str(spent_minutes), "--no-progress"])
    assert code == 0, err
    assert json.loads(out.strip().splitlines()[-1])["steps"] == 6 and _seconds(model) == after


def test_a_checkpoint_without_the_clock_resumes_exactly_and_takes_its_seconds_from_metrics(tmp_path, monkeypatch):
    """Checkpoints written before they held the training seconds still restore everything they hold
    (the dropout RNG state included: the resumed run ends bit for bit where an uninterrupted one does)."""
    files = _files(tmp_path)
    original = Trainer._state
    monkeypatch.setattr(Trainer, "_state", lambda self: {k: v for k, v in original(self).items()
                                                          if k != "train_seconds"})
    for name in ("whole", "cut"):
        code, _, err = run(["train", "--model-dir", str(tmp_path / name), *files, *COMMON, "--steps", "4"])
        assert code == 0, err
    monkeypatch.setattr(Trainer, "_state", original)
    ckpts = tmp_path / "cut" / "checkpoints"
    assert "train_seconds" not in {n.split("/")[0] for n, _ in tf.train.list_variables(str(ckpts / "ckpt-2"))}
    for f in ckpts.glob("ckpt-4*"):  # as if killed after step 2
        f.unlink()
    (ckpts / "checkpoint").write_text('model_checkpoint_path: "ckpt-2"\nall_model_checkpoint_paths: "ckpt-2"\n')
    code, out, err = run(["train", "--model-dir", str(tmp_path / "cut"), "--resume", "--no-progress"])
    assert code == 0, err
    seconds = _seconds(tmp_path / "cut")
    assert [s for s, _ in seconds] == [2, 4, 4] and seconds[0][1] < seconds[2][1]
    _rate_counts_every_token(md.read_metrics(tmp_path / "cut")[-1], ckpts / "ckpt-4")
    whole, cut = _variables(tmp_path / "whole" / "checkpoints" / "ckpt-4"), _variables(ckpts / "ckpt-4")
    assert whole.keys() == cut.keys()
    for name in whole:
        assert np.array_equal(whole[name], cut[name]), name
