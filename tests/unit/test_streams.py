"""Batches decoded at once: results in order, errors surface, nothing left running (thread settings: test_steps)."""

import threading
import time

import pytest

from nmt.translator import in_order


@pytest.mark.parametrize("streams", [1, 2, 3, 8])
@pytest.mark.parametrize("n", [0, 1, 5, 17])
def test_results_come_in_order_whatever_finishes_first(streams, n):
    def slow_first(i):  # early items finish last
        time.sleep(0.002 * ((n - i) % 4))
        return i * i

    assert list(in_order(slow_first, list(range(n)), streams)) == [i * i for i in range(n)]


def test_at_most_streams_calls_run_at_once():
    running, peak, cond = [0], [0], threading.Condition()

    def track(i):
        with cond:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            cond.notify_all()
            # the first call waits (5 s at most) for a second one to start: concurrency, not a lucky overlap of
            # sleeps, is what lifts the peak to 2, however busy the machine
            cond.wait_for(lambda: peak[0] >= 2, timeout=5)
        time.sleep(0.01)
        with cond:
            running[0] -= 1
        return i

    assert list(in_order(track, list(range(12)), 3)) == list(range(12))
    assert 2 <= peak[0] <= 3


def test_an_error_surfaces_and_what_had_not_started_never_runs():
    started = []

    def fail_on_two(i):
        started.append(i)
        time.sleep(0.01)
        if i == 2:
            raise ValueError("bad batch")
        return i

    got = []
    with pytest.raises(ValueError, match="bad batch"):
        for x in in_order(fail_on_two, list(range(50)), 2):
            got.append(x)
    assert got == [0, 1]
    assert len(started) <= 2 * 2 + 2  # the window ahead, not all 50
