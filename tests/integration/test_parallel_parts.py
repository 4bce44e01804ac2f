"""``nmt train --parallel-parts``: the CLI sets TensorFlow's threads before its first op, records the
setting, and a resume may change it (it leaves the updates as they were)."""

import json
import os
import subprocess
import sys

from tests.integration.test_cli import run, write_corpus

# Trains through the CLI's own entry point in a fresh process, then reports the threads TensorFlow runs with.
TRAIN_THEN_THREADS = """
import json, sys
from nmt.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit as stop:
    if stop.code:
        raise
import tensorflow as tf
t = tf.config.threading
print(json.dumps([t.get_intra_op_parallelism_threads(), t.get_inter_op_parallelism_threads()]))
"""


def test_parallel_parts_set_the_threads_and_may_change_on_resume(tmp_path):
    write_corpus(tmp_path, n=60)
    model = tmp_path / "m"
    files = ["--train-src", str(tmp_path / "train.src"), "--train-tgt", str(tmp_path / "train.tgt")]
    args = ["train", "--model-dir", str(model), *files, "--preset", "tiny", "--vocab-size", "30", "--steps", "2",
            "--eval-every", "2", "--parallel-parts", "2", "--no-progress"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_NUM_")}
    done = subprocess.run([sys.executable, "-c", TRAIN_THEN_THREADS, *args], capture_output=True, text=True, env=env,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    threads = json.loads(done.stdout.strip().splitlines()[-1])
    assert threads == [1, 2], done.stderr[-3000:]  # one thread per op, one per part
    assert "without its speed-up" not in done.stderr
    assert json.loads((model / "config.json").read_text())["train"]["parallel_parts"] == 2
    # a resume may change how the cores share the work, and the next resume knows it
    code, out, err = run(["train", "--model-dir", str(model), "--resume", "--steps", "3", "--parallel-parts", "1",
                          "--no-progress"])
    assert code == 0, err
    assert json.loads(out.strip().splitlines()[-1])["steps"] == 3
    assert json.loads((model / "config.json").read_text())["train"]["parallel_parts"] == 1
