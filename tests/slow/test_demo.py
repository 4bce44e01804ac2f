"""The demo's promise on a slow machine: test BLEU >= 80 within 5 minutes in all on a 2-core machine whose
float32 matmul peak is 60 GFLOP/s (the slowest a user reported, 5x slower than the development machine).

The slow machine is simulated: the demo runs pinned to one core with one intra-op thread while a busy
process shares that core. The handicap's own matmul peak is measured in the same conditions, and the
5-minute bar is stretched in proportion where this machine, handicapped, is slower than 60 GFLOP/s
(never shrunk where it is faster), so the test holds the demo to the reference machine's standard
on any CPU.
"""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_GFLOPS, REFERENCE_SECONDS = 60.0, 300.0


def _handicapped(core: int):
    def pin():
        os.sched_setaffinity(0, {core})

    return pin


def _run(args, core, env, timeout):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=ROOT,
                          preexec_fn=_handicapped(core), timeout=timeout)


def test_demo_reaches_bleu_80_within_five_minutes_on_a_slow_machine(tmp_path):
    core = min(os.sched_getaffinity(0))
    env = {**os.environ, "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONPATH": str(ROOT)}
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"], preexec_fn=_handicapped(core))
    try:
        peak = _run(["-c", "from nmt.benchinfo import matmul_peak_gflops as m; print(m(seconds=1.0)['peak_gflops'])"],
                    core, env, timeout=300)
        gflops = float(peak.stdout.split()[-1])
        allowed = REFERENCE_SECONDS * max(1.0, REFERENCE_GFLOPS / gflops)
        start = time.time()
        demo = _run(["-m", "nmt", "demo", "--model-dir", str(tmp_path / "demo"), "--no-progress"], core, env,
                    timeout=4 * allowed)
        elapsed = time.time() - start
    finally:
        busy.kill()
        busy.wait()
    report = (f"handicap: {gflops} GFLOP/s, {elapsed:.0f} s of {allowed:.0f} allowed\n"
              f"{demo.stdout}\n{demo.stderr[-3000:]}")
    assert demo.returncode == 0, report
    bleu = float(re.search(r"Test BLEU ([\d.]+) \(nrefs:1\|case:mixed\|eff:no\|tok:none\|", demo.stdout).group(1))
    assert bleu >= 80, report
    assert "Reached the target" in demo.stderr, report
    assert elapsed <= allowed, report
    heatmap = tmp_path / "demo" / "attention.png"
    assert f"Attention heatmap: {heatmap}" in demo.stdout
    assert heatmap.read_bytes()[:4] == b"\x89PNG"
    page = tmp_path / "demo" / "explorer.html"  # the explorer of its test translations
    assert f"Attention explorer (open it in a browser): {page}" in demo.stdout
    assert page.read_text(encoding="utf-8").count('"source":') >= 100
    # Output that reads well: no advice meant for other situations, a clock in m:ss, what to try next.
    assert "forgot to detokenize" not in demo.stdout + demo.stderr
    assert re.search(r"Done in \d+:\d\d\.", demo.stdout), report
    # The commands it suggests run as printed (a user copies them), each exiting 0 with output.
    suggested = demo.stdout.split("Next, try:\n", 1)[1].strip().splitlines()
    assert len(suggested) >= 4 and any("nmt align" in line for line in suggested)
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    for line in suggested:
        command = line.split("  #", 1)[0].strip()
        done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=tmp_path, timeout=600,
                              env={**os.environ, "PATH": path, "TF_CPP_MIN_LOG_LEVEL": "3"})
        assert done.returncode == 0 and done.stdout.strip(), f"{command}\n{done.stdout}\n{done.stderr[-2000:]}"
    assert len(list((tmp_path / "plots").glob("*.png"))) == 3
