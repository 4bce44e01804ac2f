"""tf.distribute: MirroredStrategy over two logical CPU devices trains exactly like one device."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("family", ["transformer", "rnn"])
def test_mirrored_training_matches_one_device(family):
    """One process per family: a second MirroredStrategy in one process reuses collective keys."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "integration" / "mirrored_run.py"), family],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = json.loads(proc.stdout.strip().splitlines()[-1])
    one, two = runs[f"{family}/none"], runs[f"{family}/mirrored"]
    assert one["replicas"] == 1 and two["replicas"] == 2
    a, b = np.array(one["losses"]), np.array(two["losses"])
    assert a.shape == b.shape == (12, 2)
    np.testing.assert_array_equal(a[:, 1], b[:, 1])  # the same global batches, token for token
    np.testing.assert_allclose(a[:, 0], b[:, 0], rtol=1e-4)  # the same updates, up to float32 summation order
    assert a[-1, 0] < a[0, 0] - 0.5  # and they are learning
