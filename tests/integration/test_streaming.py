"""Bounded memory for streaming input: ``nmt translate`` reads, translates and writes its input in
chunks, so a stream ten times longer must not need more memory (peak resident size, measured by the
operating system for the translating process)."""

import os
import subprocess
import sys

import pytest

from nmt.cli.translate import CHUNK
from tests.integration.test_cli import run, write_corpus


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stream")
    write_corpus(folder)
    code, _, err = run(["train", "--model-dir", str(folder / "m"), "--train-src", str(folder / "train.src"),
                        "--train-tgt", str(folder / "train.tgt"), "--preset", "tiny", "--vocab-size", "30",
                        "--steps", "20", "--eval-every", "20", "--no-progress"])
    assert code == 0, err
    return folder / "m"


def _peak_kib(model, lines: int) -> tuple[int, int]:
    """(peak resident KiB of `nmt translate` fed `lines` generated lines on a pipe, lines it wrote)."""
    generator = subprocess.Popen([sys.executable, "-c", f"import sys\nfor i in range({lines}): "
                                  "sys.stdout.write(('ab cd ef', 'gh ij', 'ab ef gh ij')[i % 3] + '\\n')"],
                                 stdout=subprocess.PIPE)
    translate = subprocess.Popen([sys.executable, "-m", "nmt", "translate", str(model), "--beam-size", "1",
                                  "--no-progress"], stdin=generator.stdout, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    generator.stdout.close()
    written = sum(1 for _ in translate.stdout)
    _, status, usage = os.wait4(translate.pid, 0)
    generator.wait()
    assert os.waitstatus_to_exitcode(status) == 0
    return usage.ru_maxrss, written


@pytest.mark.slow
def test_a_stream_ten_times_longer_needs_no_more_memory(model):
    short, n_short = _peak_kib(model, CHUNK)
    long, n_long = _peak_kib(model, 10 * CHUNK)
    assert (n_short, n_long) == (CHUNK, 10 * CHUNK)  # one line out per line in
    # Measured on the development machine: 911 MiB peak for 10,000 lines and for 100,000 in chunks;
    # 979 MiB (+68) when the 100,000 are read and translated at once (CHUNK patched to 10**9). The
    # 32 MiB margin is for allocator noise between two processes.
    assert long - short < 32 * 1024, (short, long)
