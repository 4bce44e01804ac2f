"""scripts/bench_curve.py's arithmetic: the median pace of a run and the checkpoint a shorter budget keeps."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("bench_curve", ROOT / "scripts" / "bench_curve.py")
curve = importlib.util.module_from_spec(spec)
spec.loader.exec_module(curve)


def metrics(steps, seconds):
    return [{"step": s, "train_seconds": t} for s, t in zip(steps, seconds)]


def test_median_pace_ignores_slow_intervals():
    # 500 steps every 100 s, but two intervals slowed to 250 s by other work on the machine
    seconds, t = [], 0.0
    for i in range(8):
        t += 250.0 if i in (1, 2) else 100.0
        seconds.append(t)
    assert curve.median_pace(metrics(range(500, 4001, 500), seconds)) == pytest.approx(5.0)


@pytest.mark.parametrize("scale", [0.5, 1.0, 3.0])
def test_median_pace_scales_with_the_clock(scale):
    # a machine `scale` times slower takes `scale` times as long per interval: the pace divides by it
    steps, seconds = [500, 1000, 1500, 2000], [90.0, 200.0, 290.0, 410.0]
    base = curve.median_pace(metrics(steps, seconds))
    assert curve.median_pace(metrics(steps, [s * scale for s in seconds])) == pytest.approx(base / scale)


def test_median_pace_needs_an_interval():
    with pytest.raises(ValueError):
        curve.median_pace([])


def rows(valid):
    return [{"step": 500 * (i + 1), "paced_minutes": 5.0 * (i + 1), "valid_bleu": v} for i, v in enumerate(valid)]


def test_budget_keeps_the_best_validation_it_reaches():
    r = rows([10.0, 20.0, 19.0, 25.0])
    assert curve.budget_choice(r, 15)["step"] == 1000  # 20.0 beats 19.0 at 15 minutes; 25.0 comes at 20
    assert curve.budget_choice(r, 20)["step"] == 2000
    assert curve.budget_choice(r, 1e6)["step"] == 2000
    assert curve.budget_choice(r, 4.9) is None  # no validation before the first interval ends


def test_budget_keeps_the_earliest_of_equals():
    # training replaces its best weights only when validation BLEU is strictly higher
    assert curve.budget_choice(rows([10.0, 30.0, 30.0]), 100)["step"] == 1000


def test_budget_choice_never_decreases_with_the_budget():
    import random

    rng = random.Random(3)
    for _ in range(50):
        r = rows([rng.uniform(0, 40) for _ in range(12)])
        best = [curve.budget_choice(r, b)["valid_bleu"] for b in range(5, 61, 5)]
        assert best == sorted(best)
