"""tf.distribute: R replicas (two logical CPU devices, or two worker processes) make the updates of
one device that accumulates R batches (the same global batch)."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "integration" / "distributed_run.py"
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}


def run(*args, timeout=600):
    proc = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=ENV,
                          timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def assert_same_updates(one, many, replicas):
    assert one["replicas"] == 1 and many["replicas"] == replicas
    a, b = np.array(one["losses"]), np.array(many["losses"])
    assert a.shape == b.shape == (12, 2)
    np.testing.assert_array_equal(a[:, 1], b[:, 1])  # the same global batches, token for token
    # The same updates, up to float32 summation order. Each replica computes its whole batch with the
    # shapes the accumulating device uses and a sum of two replicas is commutative, so the losses came
    # out bit-equal under every TF_NUM_INTRAOP_THREADS / TF_ENABLE_ONEDNN_OPTS setting tried; 1e-4 leaves
    # room for a reordered sum amplified by 12 Adam steps; per-replica clipping fails it (commit 1a556ac).
    np.testing.assert_allclose(a[:, 0], b[:, 0], rtol=1e-4)
    assert a[-1, 0] < a[0, 0] - 0.5  # and they are learning


@pytest.mark.slow  # 105 s for the LSTM alone: the default tier must stay near 6 minutes (docs/testing.md)
@pytest.mark.parametrize("family", ["transformer", "rnn"])
def test_mirrored_training_matches_one_device(family):
    """One process per family: a second MirroredStrategy in one process reuses collective keys."""
    runs = run("mirrored", family)
    assert_same_updates(runs["none"], runs["mirrored"], 2)


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return [str(p) for p in ports]


@pytest.mark.slow
def test_two_workers_match_one_device(tmp_path):
    """MultiWorkerMirroredStrategy: two processes on this machine, configured by TF_CONFIG."""
    ports = _free_ports(2)
    workers = [subprocess.Popen([sys.executable, str(SCRIPT), "worker", "rnn", str(i), *ports, str(tmp_path / "m")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV) for i in range(2)]
    outs = [w.communicate(timeout=600) for w in workers]
    for w, (_, err) in zip(workers, outs):
        assert w.returncode == 0, err[-3000:]
    chief, other = (json.loads(out.strip().splitlines()[-1])["multiworker"] for out, _ in outs)
    single = run("single", "rnn")["none"]
    assert_same_updates(single, chief, 2)
    assert chief["losses"] == other["losses"]
    assert chief["wrote"] == str(tmp_path / "m") and other["wrote"] != chief["wrote"]  # only the chief writes it
    assert (tmp_path / "m" / "model.weights.h5").is_file()
