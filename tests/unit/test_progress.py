"""The training bar speaks in the run's own terms (m:ss, steps, BLEU towards a target), and
--target-bleu stops training at the first validation that reaches it."""

import io
import re

import pytest

from nmt import model_dir as md
from nmt.config import preset
from nmt.progress import TrainingBar, clock
from nmt.training import Trainer


@pytest.mark.parametrize("seconds, text", [(0, "0:00"), (5.07890822799, "0:05"), (59.6, "1:00"), (83.4, "1:23"),
                                           (600, "10:00"), (3725, "1:02:05")])
def test_clock(seconds, text):
    assert clock(seconds) == text


def _drawn(mode, total, updates, bleu=None):
    out = io.StringIO()
    bar = TrainingBar(mode, total, file=out)
    for seconds in updates:
        bar.step_done(seconds)
    bar.show(step=len(updates), loss="1.23")
    bar.validated(bleu)
    bar.close()
    return out.getvalue().split("\r")[-1]


def test_time_budget_bar_shows_minutes_and_seconds_not_float_seconds():
    line = _drawn("time", 180.0, [5.078908227999989, 10.5, 0.25])
    assert "train 0:16 of 3:00" in line, line
    assert not re.search(r"\d\.\d{3,}", line), line  # no raw float seconds anywhere
    assert "left" in line and "step=3" in line


def test_bleu_bar_fills_towards_the_target_and_never_beyond():
    line = _drawn("bleu", 85.0, [0.1, 0.1], bleu=62.25)
    assert "valid BLEU 62.2 of 85" in line, line
    assert "valid_bleu=62.2" in line
    assert "valid BLEU 85.0 of 85" in _drawn("bleu", 85.0, [0.1], bleu=97.0)  # the bar is full, not over full


def test_step_bar_counts_steps():
    line = _drawn("steps", 40, [0.01] * 10)
    assert "10/40 steps" in line and " 25%" in line, line


@pytest.mark.slow  # 15 s
def test_target_bleu_stops_at_the_first_validation_that_reaches_it(tmp_path):
    from tests.unit.test_training import HELD, TRAIN

    config = preset("tiny").override("tokenizer", vocab_size=40).override(
        "train", max_steps=2000, eval_every=50, learning_rate=1e-2, target_bleu=60.0)
    result = Trainer(config, tmp_path / "m", TRAIN, HELD, progress=False).run()
    bleus = [m["valid_bleu"] for m in md.read_metrics(tmp_path / "m")]
    assert bleus[-1] >= 60 and all(b < 60 for b in bleus[:-1]), bleus
    assert result.steps == 50 * len(bleus) < 2000
