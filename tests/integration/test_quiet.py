"""A new user's terminal shows nmt's output, not TensorFlow's C++ start-up notices (which ignore
TF_CPP_MIN_LOG_LEVEL and are written to file descriptor 2 directly, so only a real process shows them)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTICES = ("oneDNN custom operations", "cudart_stub", "cpu_feature_guard", "absl::InitializeLog")


def test_command_help_prints_no_tensorflow_notices():
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "NMT_DEBUG")}
    done = subprocess.run([sys.executable, "-m", "nmt", "train", "--help"], capture_output=True, text=True,
                          env={**env, "PYTHONPATH": str(ROOT)}, cwd=ROOT, timeout=300)
    assert done.returncode == 0 and "--target-bleu" in done.stdout
    assert not [n for n in NOTICES if n in done.stderr], done.stderr
