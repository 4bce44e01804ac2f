#!/usr/bin/env python
"""The demo on this machine and on a simulated slow one: time to its BLEU target, and test BLEU.

Runs ``nmt demo`` as a new user would, in a fresh process, under each condition:

* ``2 cores``: as it comes;
* ``slow``: pinned to one core that a busy process shares, one intra-op thread (about a quarter of
  this machine; the test in tests/slow/test_demo.py uses the same handicap).

Before each demo run, the float32 matmul peak is measured in the same condition (``nmt.benchinfo``), so
a reader can place the condition against their own machine. ``--compare-small`` also trains the
demo's previous recipe (preset ``small``: the whole corpus with sentences up to 94 words, vocabulary
1,000, dropout 0.1, batches of 3,072 tokens at 3e-3) towards the same validation BLEU target on
2 cores, for its steps and seconds. Writes results/NAME.json and .md and keeps each run's test
hypotheses (gzip) and demo output in results/NAME/ (``--out`` another folder than results/).
``--target-bleu`` and ``--max-minutes`` are passed to ``nmt demo`` (defaults: the demo's own, its
preset's target and 15 minutes); the report records both. A smoke test runs it cheaply with
``--conditions 2cores --max-minutes 0.001 --peak-seconds 0.05``.

    python scripts/bench_demo.py --name demo --compare-small
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _pin(core):
    return None if core is None else (lambda: os.sched_setaffinity(0, {core}))


def _python(args, core, env, timeout=3600):
    """``python ARGS`` (``-m MODULE ...`` runs the module from the code snapshot: benchinfo.python_module)."""
    from nmt.benchinfo import python_module

    command = python_module(args[1], *args[2:]) if args[0] == "-m" else [sys.executable, *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, preexec_fn=_pin(core),
                          timeout=timeout)


def _condition(name, slow: bool, out: Path, env: dict, demo_args: list, peak_seconds: float) -> dict:
    from nmt.benchinfo import shown_path

    core = min(os.sched_getaffinity(0)) if slow else None
    env = {**env, "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"} if slow else env
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"], preexec_fn=_pin(core)) if slow else None
    try:
        peak = _python(["-c", "import json; from nmt.benchinfo import matmul_peak_gflops as m; "
                        f"print(json.dumps(m(seconds={peak_seconds!r})))"], core, env)
        gflops = json.loads(peak.stdout.strip().splitlines()[-1])
        with tempfile.TemporaryDirectory() as tmp:
            start = time.time()
            demo = _python(["-m", "nmt", "demo", "--model-dir", f"{tmp}/demo", "--no-progress", *demo_args], core, env)
            wall = time.time() - start
            hyp = Path(tmp, "demo", "test.hyp")
            if hyp.is_file():
                (out / f"{name}.test.hyp.gz").write_bytes(gzip.compress(hyp.read_bytes(), mtime=0))
            kept = shown_path(out / f"{name}.test.hyp.gz") if hyp.is_file() else None
            metrics = [json.loads(line) for line in Path(tmp, "demo", "metrics.jsonl").read_text().splitlines()
                       if line.strip()] if Path(tmp, "demo", "metrics.jsonl").is_file() else []
    finally:
        if busy:
            busy.kill()
            busy.wait()
    (out / f"{name}.demo.txt").write_text(demo.stdout + "\n--- stderr ---\n" + demo.stderr, encoding="utf-8")
    if demo.returncode != 0:
        raise SystemExit(f"the demo failed under {name}: {demo.stderr.strip().splitlines()[-1:]}")
    reached = re.search(r"validation BLEU ([\d.]+) after ([\d,]+) steps? \(([\d:]+) of training", demo.stderr)
    test = re.search(r"Test BLEU ([\d.]+) \(([^)]*)\)\nchrF ([\d.]+)", demo.stdout)
    return {"condition": name, "load_average_1min_after": round(os.getloadavg()[0], 2),
            "matmul_peak_gflops": gflops["peak_gflops"], "gflops_by_size": gflops["gflops_by_size"],
            "reached_target": "Reached the target" in demo.stderr, "steps": int(reached.group(2).replace(",", "")),
            "valid_bleu": float(reached.group(1)), "training_clock": reached.group(3),
            "training_seconds": metrics[-1]["train_seconds"] if metrics else None,
            "validations": len(metrics), "test_bleu": float(test.group(1)), "test_chrf": float(test.group(3)),
            "bleu_signature": test.group(2), "wall_seconds": round(wall, 1),
            "hypotheses": kept}


def _small_recipe(env: dict, target: float, max_steps: int) -> dict:
    """The previous demo recipe (preset small, the whole corpus) trained towards the same target."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.time()
        done = _python(["-m", "nmt", "train", "--model-dir", f"{tmp}/small", "--preset", "small", "--target-bleu",
                        str(target), "--steps", str(max_steps), "--no-progress"], None, env)
        wall = time.time() - start
        if done.returncode != 0:
            raise SystemExit(f"the small recipe failed: {done.stderr.strip().splitlines()[-1:]}")
        metrics = [json.loads(line) for line in Path(tmp, "small", "metrics.jsonl").read_text().splitlines()
                   if line.strip()]
    last = metrics[-1]
    return {"condition": "previous recipe (preset small), 2 cores", "steps": last["step"],
            "valid_bleu": last.get("valid_bleu"), "reached_target": last.get("valid_bleu", 0) >= target,
            "training_seconds": last["train_seconds"], "wall_seconds": round(wall, 1),
            "curve": [{k: m.get(k) for k in ("step", "train_seconds", "valid_bleu")} for m in metrics]}


def main(argv=None):
    from nmt.benchinfo import report_options

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    report_options(p, ROOT, "demo")
    p.add_argument("--conditions", default="2cores,slow", help="comma-separated: 2cores, slow")
    p.add_argument("--compare-small", action="store_true", help="also train the previous recipe to the same target")
    p.add_argument("--small-steps", type=int, default=2000, help="step limit of the previous recipe")
    p.add_argument("--target-bleu", type=float, default=None,
                   help="passed to nmt demo: its validation BLEU target (default: the demo preset's)")
    p.add_argument("--max-minutes", type=float, default=15.0, help="passed to nmt demo: its safety limit (default 15)")
    p.add_argument("--peak-seconds", type=float, default=2.0, help="seconds per size of the matmul peak measurement")
    args = p.parse_args(argv)
    conditions = [c for c in args.conditions.split(",") if c]
    if not set(conditions) <= {"2cores", "slow"}:
        p.error(f"--conditions takes 2cores and/or slow, got {args.conditions}")

    from nmt import benchinfo
    from nmt.config import preset

    header = benchinfo.start_script(args)  # before this run replaces its earlier outputs; demos run a copy of the code
    out = Path(args.out) / args.name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}  # PYTHONPATH: the copy benchinfo.start made
    target = preset("demo").train.target_bleu if args.target_bleu is None else args.target_bleu
    demo_args = ["--target-bleu", repr(target), "--max-minutes", repr(args.max_minutes)]
    result = {"name": args.name, **header, "demo_preset": preset("demo").to_dict(), "demo_target_bleu": target,
              "demo_max_minutes": args.max_minutes, "matmul_peak_seconds_per_size": args.peak_seconds, "runs": []}
    for condition in conditions:
        result["runs"].append(_condition(condition, condition == "slow", out, env, demo_args, args.peak_seconds))
        print(json.dumps(result["runs"][-1]), flush=True)
    if args.compare_small:
        result["previous_recipe"] = _small_recipe(env, target, args.small_steps)
        print(json.dumps(result["previous_recipe"]), flush=True)
    Path(out.with_suffix(".json")).write_text(json.dumps(result, indent=1) + "\n")
    out.with_suffix(".md").write_text(_markdown(result))
    print(out.with_suffix(".md").read_text())


def _markdown(r: dict) -> str:
    from nmt.benchinfo import machine_line, markdown_header

    target = r.get("demo_target_bleu", r["demo_preset"]["train"]["target_bleu"])
    limit = r.get("demo_max_minutes", 15.0)
    lines = [f"# `nmt demo` on this machine and on a simulated slow one ({r['utc_date']})", "",
             f"Command: `{r['command']}`  ", markdown_header(r) + "  ",
             machine_line(r), "",
             f"The demo trains until its validation BLEU (greedy, 200 sentences of at most "
             f"{r['demo_preset']['train']['max_words']} words) reaches {target:g} (or its safety limit of "
             f"{limit:g} minutes of training stops it), then translates the test "
             "sentences of at most that length with beam 4. `slow`: pinned to one core shared with a busy "
             "process, one intra-op thread. `load after`: the 1-minute load average when the run ended (the busy "
             "process counts 1; more means other work shared the machine).", "",
             "| condition | matmul peak GFLOP/s | steps | training | validations | valid BLEU | test BLEU | test chrF "
             "| wall in all | load after |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for x in r["runs"]:
        lines.append(f"| {x['condition']} | {x['matmul_peak_gflops']} | {x['steps']} | {x['training_clock']} | "
                     f"{x['validations']} | {x['valid_bleu']:.1f} | {x['test_bleu']:.2f} | {x['test_chrf']:.2f} | "
                     f"{x['wall_seconds'] // 60:.0f}:{x['wall_seconds'] % 60:02.0f} | {x['load_average_1min_after']} |")
    if r["runs"]:
        lines += ["", f"BLEU signature: `{r['runs'][0]['bleu_signature']}`. Hypotheses: "
                  + ", ".join(f"`{x['hypotheses']}`" for x in r["runs"]) + "."]
    if "previous_recipe" in r:
        s = r["previous_recipe"]
        lines += ["", f"Previous recipe (preset `small`, whole corpus), 2 cores, towards validation BLEU {target:g}: "
                  f"{'reached' if s['reached_target'] else 'not reached'} at step {s['steps']} after "
                  f"{s['training_seconds']:.0f} s of training (valid BLEU {s['valid_bleu']}); its validation "
                  "covers sentences of every length, so its BLEU is not the demo's."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
