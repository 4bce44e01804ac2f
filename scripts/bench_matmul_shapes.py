#!/usr/bin/env python
"""How fast a training step's own matrix products run on this CPU: the ceiling on its MFU.

Model FLOPs utilisation divides a step's weight-product FLOPs by the square float32 matmul peak
(``tf.matmul`` of 2048 x 2048 matrices). A Transformer of width 256 multiplies batches of about a
thousand rows by 256 x 256 to 256 x 8,000 weights, shapes at which the products themselves may run
below that peak. This script times each weight product of one training step of ``bench_peers``'s
shape (forward, and the inputs' and weights' gradients of each), alone, in a ``tf.function``:

* on the whole batch with 2 threads (one step at a time), and
* on half the batch with 1 thread, in 2 processes at once (what ``--parallel-parts 2`` runs: each half
  on one core).

The FLOP-weighted rate over all of a step's products, over the square peak measured in the same run, is
the MFU a step would reach if nothing but its weight products took time: what the products' shapes
allow. Writes OUT/NAME.json and .md.

    python scripts/bench_matmul_shapes.py --name matmul_shapes
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from nmt.benchinfo import report_options, start_script  # noqa: E402 (after the path)


def products(rows: int, d: int, ff: int, vocab: int, layers: int) -> list[tuple[str, int, int, int, int]]:
    """(name, count, m, k, n) of each forward weight product of one step: an [m, k] x [k, n] product
    ``count`` times. Source and target batches have ``rows`` (padded) rows each."""
    return [("self-attention q, k, v", 2 * layers, rows, d, 3 * d),
            ("attention outputs, cross-attention query", 4 * layers, rows, d, d),
            ("cross-attention k, v", layers, rows, d, 2 * d),
            ("feed-forward in", 2 * layers, rows, d, ff), ("feed-forward out", 2 * layers, rows, ff, d),
            ("output logits", 1, rows, d, vocab)]


def gradients(m: int, k: int, n: int) -> list[tuple[str, int, int, int, bool, bool]]:
    """The three products of one weight in a training step: forward x.W, the inputs' gradient dy.W^T
    and the weights' gradient x^T.dy, as (pass, m, k, n, transpose_a, transpose_b) of a tf.matmul."""
    return [("forward", m, k, n, False, False), ("inputs' gradient", m, n, k, False, True),
            ("weights' gradient", k, m, n, True, False)]


def time_products(rows, d, ff, vocab, layers, seconds) -> dict:
    """In this process (threads already set): seconds per call of each distinct product."""
    import time

    import tensorflow as tf

    out = []
    for name, count, m, k, n in products(rows, d, ff, vocab, layers):
        for kind, pm, pk, pn, ta, tb in gradients(m, k, n):
            a = tf.random.normal([pk, pm] if ta else [pm, pk])
            b = tf.random.normal([pn, pk] if tb else [pk, pn])
            fn = tf.function(lambda a, b, ta=ta, tb=tb: tf.matmul(a, b, transpose_a=ta, transpose_b=tb))
            fn(a, b).numpy()
            start, reps = time.perf_counter(), 0
            while time.perf_counter() - start < seconds:
                fn(a, b).numpy()
                reps += 1
            per_call = (time.perf_counter() - start) / reps
            out.append({"product": name, "pass": kind, "count": count, "m": pm, "k": pk, "n": pn,
                        "flops": 2 * pm * pk * pn, "seconds": per_call})
    return {"products": out}


def child(threads: int, rows: int, args) -> subprocess.Popen:
    env = dict(os.environ, TF_NUM_INTRAOP_THREADS=str(threads), TF_NUM_INTEROP_THREADS="1",
               TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.Popen([sys.executable, __file__, "--child", str(rows), "--d", str(args.d), "--ff", str(args.ff),
                             "--vocab", str(args.vocab), "--layers", str(args.layers), "--seconds", str(args.seconds)],
                            env=env, stdout=subprocess.PIPE, text=True)


def step_rate(result: dict) -> tuple[float, float]:
    """(FLOPs, seconds) of one step's products: each distinct product times its count."""
    flops = sum(p["flops"] * p["count"] for p in result["products"])
    seconds = sum(p["seconds"] * p["count"] for p in result["products"])
    return flops, seconds


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=1103, help="padded rows of a batch (bench_peers' token budget)")
    p.add_argument("--d", type=int, default=256, help="model width")
    p.add_argument("--ff", type=int, default=512, help="feed-forward width")
    p.add_argument("--vocab", type=int, default=8000, help="output vocabulary")
    p.add_argument("--layers", type=int, default=3, help="layers of the encoder and of the decoder")
    p.add_argument("--seconds", type=float, default=0.5, help="timing per product")
    p.add_argument("--child", type=int, help=argparse.SUPPRESS)
    report_options(p, ROOT, "matmul_shapes")
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(time_products(args.child, args.d, args.ff, args.vocab, args.layers, args.seconds)))
        return
    header = start_script(args)
    from nmt import benchinfo

    peak = benchinfo.matmul_peak_gflops()
    whole = json.loads(child(2, args.rows, args).communicate()[0])
    halves = [child(1, args.rows // 2, args) for _ in range(2)]
    halves = [json.loads(h.communicate()[0]) for h in halves]
    flops, seconds = step_rate(whole)
    half_flops, half_seconds = zip(*map(step_rate, halves))
    # two halves side by side: the step ends when the slower half does
    rates = {"whole batch, 2 threads": flops / seconds / 1e9,
             "two halves, 1 thread each, side by side": sum(half_flops) / max(half_seconds) / 1e9}
    report = {**header, "matmul_peak": peak, "rows": args.rows, "shape": {"d": args.d, "ff": args.ff,
              "vocab": args.vocab, "layers": args.layers}, "whole": whole, "halves": halves,
              "gflops": {k: round(v, 1) for k, v in rates.items()},
              "share_of_peak": {k: round(v / peak["peak_gflops"], 3) for k, v in rates.items()}}
    out = Path(args.out) / args.name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")
    lines = ["# A training step's weight products against the square matmul peak", "",
             f"Command: `{report['command']}`", benchinfo.markdown_header(report), "", benchinfo.machine_line(report),
             "", f"Square float32 matmul peak in this run: {peak['peak_gflops']:,.1f} GFLOP/s "
             f"({', '.join(f'{k}: {v}' for k, v in peak['gflops_by_size'].items())}). Shape: {args.layers} layers, "
             f"d {args.d}, ff {args.ff}, vocabulary {args.vocab:,}; batches of {args.rows:,} padded rows on each "
             "side. Each product timed alone in a tf.function.", "",
             "| how | weight products' rate (GFLOP/s) | share of the square peak: the MFU ceiling |", "|---|---|---|"]
    lines += [f"| {k} | {v:,.1f} | {v / peak['peak_gflops']:.0%} |" for k, v in rates.items()]
    lines += ["", "By product, whole batch, 2 threads:", "",
              "| product | pass | m x k x n | count | GFLOP/s | share of the step's product time |",
              "|---|---|---|---|---|---|"]
    for r in whole["products"]:
        lines.append(f"| {r['product']} | {r['pass']} | {r['m']} x {r['k']} x {r['n']} | {r['count']} | "
                     f"{r['flops'] / r['seconds'] / 1e9:,.1f} | {r['seconds'] * r['count'] / seconds:.1%} |")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
