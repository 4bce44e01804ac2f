"""Learning-rate schedules: their shape, the limits they need, and what a resume may change under them."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nmt.config import TrainConfig, preset
from nmt.errors import UserError
from nmt.optimizers import learning_rate
from nmt.training import resumed_config


def _rates(train, steps):
    schedule = learning_rate(train)
    return np.array([float(schedule(s)) for s in steps])


@settings(max_examples=20, deadline=None)
@given(warmup=st.integers(0, 300), extra=st.integers(1, 3000), peak=st.floats(1e-5, 1e-1))
def test_cosine_warms_up_to_the_peak_then_decays_to_zero_at_max_steps(warmup, extra, peak):
    total = warmup + extra
    train = TrainConfig(schedule="cosine", learning_rate=peak, warmup_steps=warmup,
                                           max_steps=total)
    after = np.unique(np.linspace(warmup, total, 40).round().astype(int))
    rates = _rates(train, [*range(0, warmup + 1, max(1, warmup // 20)), *after, total + 50])
    tol = 1e-6 * peak  # float32 arithmetic on numbers of size peak
    assert rates.min() >= -tol and rates.max() <= peak + tol
    assert abs(rates[-1]) <= tol and abs(float(learning_rate(train)(total))) <= tol  # zero at the end, and after
    assert abs(float(learning_rate(train)(warmup)) - peak) <= 1e-5 * peak  # the peak where the warmup ends
    decay = _rates(train, after)
    assert np.all(np.diff(decay) <= tol)  # never rises after the warmup
    mid = warmup + extra / 2  # cosine: half the peak halfway through the decay
    assert abs(float(learning_rate(train)(mid)) - peak * 0.5 * (1 + math.cos(math.pi * (mid - warmup) / extra))) \
        <= 1e-5 * peak


def test_warmup_rises_linearly():
    train = TrainConfig(schedule="cosine", learning_rate=0.01, warmup_steps=100, max_steps=1000)
    rates = _rates(train, [0, 25, 50, 100])
    assert np.allclose(rates, [0.0, 0.0025, 0.005, 0.01], rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("steps, warmup, says", [(0, 0, "give a step budget"), (100, 100, "must exceed"),
                                                 (50, 400, "must exceed")])
def test_cosine_without_a_step_budget_after_its_warmup_is_one_line(steps, warmup, says):
    train = TrainConfig(schedule="cosine", warmup_steps=warmup, max_steps=steps)
    with pytest.raises(UserError, match=says):
        learning_rate(train)


def test_a_resume_may_not_move_the_end_of_a_cosine_schedule(tmp_path):
    """max_steps is a stopping limit a resume may raise, except where it also shapes every update."""
    for schedule, allowed in (("inverse-sqrt", True), ("cosine", False)):
        saved = preset("tiny").override("train", schedule=schedule, warmup_steps=10, max_steps=100)
        longer = saved.override("train", max_steps=200)
        if allowed:
            assert resumed_config(saved, longer, tmp_path).train.max_steps == 200
        else:
            with pytest.raises(UserError, match=r"train\.max_steps \(100 -> 200\).*not with the cosine"):
                resumed_config(saved, longer, tmp_path)
        assert resumed_config(saved, saved.override("train", time_budget=60), tmp_path).train.time_budget == 60
