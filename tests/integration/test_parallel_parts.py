"""``nmt train --parallel-parts``: the CLI sets TensorFlow's threads before its first op, records the
setting, and a resume may change it (it leaves the updates as they were)."""

import json
import os
import subprocess
import sys

import pytest

from tests.integration.test_cli import run, write_corpus

# Runs the CLI's own entry point in a fresh process, recording how many batches the translator decoded
# at once (the streams of each call), then prints them with TensorFlow's threads: [streams, intra, inter].
CLI_THEN_THREADS = """
import json, sys
import nmt.translator as tr
used = []
def in_order(fn, items, streams, _real=tr.in_order):
    used.append(streams)
    return _real(fn, items, streams)
tr.in_order = in_order
from nmt.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit as stop:
    if stop.code:
        raise
import tensorflow as tf
t = tf.config.threading
print(json.dumps([used, t.get_intra_op_parallelism_threads(), t.get_inter_op_parallelism_threads()]))
"""


def test_parallel_parts_set_the_threads_and_may_change_on_resume(tmp_path):
    write_corpus(tmp_path, n=60)
    model = tmp_path / "m"
    files = ["--train-src", str(tmp_path / "train.src"), "--train-tgt", str(tmp_path / "train.tgt")]
    args = ["train", "--model-dir", str(model), *files, "--preset", "tiny", "--vocab-size", "30", "--steps", "2",
            "--eval-every", "2", "--parallel-parts", "2", "--no-progress"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_NUM_")}
    done = subprocess.run([sys.executable, "-c", CLI_THEN_THREADS, *args], capture_output=True, text=True, env=env,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    threads = json.loads(done.stdout.strip().splitlines()[-1])[1:]
    assert threads == [1, 2], done.stderr[-3000:]  # one thread per op, one per part
    assert "without its speed-up" not in done.stderr
    assert json.loads((model / "config.json").read_text())["train"]["parallel_parts"] == 2
    # a resume may change how the cores share the work, and the next resume knows it
    code, out, err = run(["train", "--model-dir", str(model), "--resume", "--steps", "3", "--parallel-parts", "1",
                          "--no-progress"])
    assert code == 0, err
    assert json.loads(out.strip().splitlines()[-1])["steps"] == 3
    assert json.loads((model / "config.json").read_text())["train"]["parallel_parts"] == 1


@pytest.mark.slow  # 35 s: a training and two processes that start TensorFlow
def test_parallel_batches_translate_the_same_and_set_the_threads(tmp_path):
    write_corpus(tmp_path, n=60)
    model = tmp_path / "m"
    code, _, err = run(["train", "--model-dir", str(model), "--train-src", str(tmp_path / "train.src"),
                        "--train-tgt", str(tmp_path / "train.tgt"), "--preset", "tiny", "--vocab-size", "30",
                        "--steps", "20", "--eval-every", "20", "--no-progress"])
    assert code == 0, err
    common = ["translate", str(model), "-i", str(tmp_path / "train.src"), "--batch-size", "4", "--beam-size", "2"]
    code, _, err = run([*common, "-o", str(tmp_path / "one.txt"), "--parallel-batches", "1"])
    assert code == 0, err
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_NUM_")}
    done = subprocess.run([sys.executable, "-c", CLI_THEN_THREADS, *common, "-o", str(tmp_path / "three.txt"),
                           "--parallel-batches", "3"], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [[3], 1, 3]  # three searches, one thread per op
    one, three = (tmp_path / "one.txt").read_text(), (tmp_path / "three.txt").read_text()
    assert len(one.splitlines()) == 60 and three == one
