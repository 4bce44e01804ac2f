#!/usr/bin/env python
"""Translation speed (sentences/s, greedy and beam 4) of trained model directories, before and after.

Every (model, code version, batch size) row runs in a fresh process: it loads the model directory,
translates the source file once untimed on its first batch (tracing), then all of it --repeats times (median), greedy
and beam 4. ``--code DIR`` also runs every row with the ``nmt`` package of another checkout (for
example ``git worktree add /tmp/before HEAD~1``): the ratio column compares the versions in one run,
and the report says whether they produced identical translations. ``--inter-op N`` also runs the
current code with N TensorFlow inter-op threads (``TF_NUM_INTEROP_THREADS``), and ``--env NAME=VALUE``
with that environment variable set (for example ``TF_ENABLE_ONEDNN_OPTS=0``). ``--rounds R`` runs every
process R times, interleaved (all code versions once, then again): a machine's speed drifts between
processes by more than the differences worth measuring, so each row reports the median over rounds and
its ratio is the median of the ratios paired within a round. Writes OUT/NAME.json and .md (OUT: results/
by default) and keeps every row's translations (gzip) in OUT/NAME_hypotheses/.

    python scripts/bench_decoding.py --model runs/bench30/transformer --code /tmp/before \\
        --batch-size 64 --batch-size 128 --name decoding_speedups
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
M30K = ROOT.parent / "shared" / "data" / "multi30k"

CHILD = r"""
import json, os, sys, time
from pathlib import Path
code, spec = sys.argv[1], json.loads(sys.argv[2])
sys.path.insert(0, code)
import nmt
from nmt.corpora.parallel import read_lines
from nmt.translator import Translator

translator = Translator.load(spec["model"])
sources = read_lines(spec["source"])
row = {"package": str(Path(nmt.__file__).resolve().parents[1]),
       "environment": {name: os.environ.get(name) for name in spec["env"]}}
for name, beam in (("greedy", 1), ("beam4", 4)):
    translator.translate(sources[: spec["batch_size"]], beam_size=beam, batch_size=spec["batch_size"])
    seconds = []
    for _ in range(spec["repeats"]):
        start = time.perf_counter()
        hyps = translator.translate(sources, beam_size=beam, batch_size=spec["batch_size"])
        seconds.append(time.perf_counter() - start)
    row[name + "_sentences_per_second"] = round(len(sources) / sorted(seconds)[len(seconds) // 2], 1)
    row[name + "_output"] = [h.text for h in hyps]
print(json.dumps(row))
"""


def median(values: list) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def described(path: Path) -> str:
    rev = subprocess.run(["git", "-C", str(path), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(path), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True)
    if rev.returncode != 0:
        return str(path)
    return f"{path} (commit {rev.stdout.strip()}{' + uncommitted changes' if dirty.stdout.strip() else ''})"


def main(argv=None):
    from nmt.benchinfo import report_options

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", action="append", required=True, help="trained model directory (repeatable)")
    p.add_argument("--source", default=str(M30K / "test_2016_flickr.en.gz"), help="sentences to translate")
    p.add_argument("--code", action="append", default=[], help="also run with the nmt package of this checkout")
    p.add_argument("--batch-size", action="append", type=int, default=[], help="sentences per batch (repeatable)")
    p.add_argument("--inter-op", action="append", type=int, default=[],
                   help="also run the current code with this many TensorFlow inter-op threads (repeatable)")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                   help="also run the current code with this environment variable set (repeatable)")
    p.add_argument("--repeats", type=int, default=3, help="timed passes over the source; the median counts")
    p.add_argument("--rounds", type=int, default=1,
                   help="processes per row, interleaved across code versions; the median counts")
    report_options(p, ROOT, "decoding")
    args = p.parse_args(argv)
    if args.rounds < 1 or args.repeats < 1:
        p.error("--rounds and --repeats must be at least 1")
    settings = [item.partition("=") for item in args.env]
    if any(not name or not sep for name, sep, _ in settings):
        p.error("--env takes NAME=VALUE")
    sys.path.insert(0, str(ROOT))
    from nmt.benchinfo import start_script

    header = start_script(args)  # refuses a dirty checkout; runs a copy of the code
    import nmt
    from nmt import benchinfo

    # the current code runs from the copy benchinfo.start made (commits during the run change nothing)
    snapshot = Path(nmt.__path__[0]).parent
    # (label, checkout described, package run, environment): the current code (run from the snapshot, even when a
    # --code names this same checkout) with each --inter-op count and --env setting first, then as it is, then each
    # --code as it is
    codes = [(f"current, {n} inter-op", ROOT, snapshot, {"TF_NUM_INTEROP_THREADS": str(n)}) for n in args.inter_op]
    codes += [(f"current, {name}={value}", ROOT, snapshot, {name: value}) for name, _, value in settings]
    codes += [("current", ROOT, snapshot, {})] + [(Path(c).name, Path(c).resolve(), Path(c).resolve(), {})
                                                  for c in args.code]
    # described now, as they run: edits to a checkout during the run must not relabel the code that ran
    code_text = {label: described(where) for label, where, _, _ in codes}
    out = Path(args.out)
    kept = out / f"{args.name}_hypotheses"
    rows, outputs, speeds = [], {}, {}
    for turn in range(args.rounds):
        for model in args.model:
            for batch in args.batch_size or [64]:
                for label, _, code, env in codes:
                    key = (model, batch, label)
                    spec = {"model": model, "source": args.source, "batch_size": batch, "repeats": args.repeats,
                            "env": env}
                    done = subprocess.run([sys.executable, "-c", CHILD, str(code), json.dumps(spec)],
                                          capture_output=True, text=True, env={**os.environ, **env})
                    if done.returncode != 0:
                        sys.exit(f"{model} with {label} failed:\n{done.stderr[-3000:]}")
                    row = json.loads(done.stdout.strip().splitlines()[-1])
                    for kind in ("greedy", "beam4"):
                        speeds.setdefault((*key, kind), []).append(row.pop(f"{kind}_sentences_per_second"))
                        text = "\n".join(row[kind + "_output"])
                        if turn == 0:
                            outputs[(*key, kind)] = text
                        elif text != outputs[(*key, kind)]:
                            sys.exit(f"{model} with {label}: round {turn + 1} translated otherwise than round 1 "
                                     f"({kind})")
                    if turn == 0:
                        hypotheses = {kind: benchinfo.keep_hypotheses(kept / f"{len(rows)}.{kind}.hyp.gz",
                                                                      row.pop(kind + "_output"))
                                      for kind in ("greedy", "beam4")}
                        rows.append({"model": model, "batch_size": batch, "code": label, **row,
                                     "hypotheses": hypotheses})
                    print(json.dumps({"round": turn + 1, "model": model, "batch_size": batch, "code": label,
                                      **{k: speeds[(*key, k)][-1] for k in ("greedy", "beam4")}}), flush=True)
    base = codes[-1][0]
    for row in rows:
        key = (row["model"], row["batch_size"])
        for kind in ("greedy", "beam4"):
            mine, theirs = speeds[(*key, row["code"], kind)], speeds[(*key, base, kind)]
            row[f"{kind}_sentences_per_second"] = round(median(mine), 1)
            row[f"{kind}_rounds"] = mine
            row[f"{kind}_ratio"] = round(median([a / b for a, b in zip(mine, theirs)]), 2)
            row[f"{kind}_output_sha1"] = hashlib.sha1(outputs[(*key, row["code"], kind)].encode()).hexdigest()[:12]
            row[f"{kind}_same_output"] = outputs[(*key, row["code"], kind)] == outputs[(*key, base, kind)]
    report = {**header, "source": benchinfo.shown_path(args.source),
              "codes": code_text, "rows": rows}
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.name}.json").write_text(json.dumps(report, indent=2) + "\n")
    m = report["machine"]
    def same(r):
        if r["greedy_same_output"] and r["beam4_same_output"]:
            return "yes"
        return "greedy " + str(r["greedy_same_output"]) + ", beam " + str(r["beam4_same_output"])

    lines = [f"# Translation speed: {args.name}", "", f"Command: `{report['command']}`",
             benchinfo.markdown_header(report), "",
             f"Machine: {m['cpu']}, {m['cores']} cores. Source: {benchinfo.shown_path(args.source)}. "
             "Every row in a fresh process, one untimed "
             f"batch first, then the median of {args.repeats} timed passes"
             + (f"; {args.rounds} rounds of processes, interleaved: speeds are medians over rounds, ratios "
                "medians of the ratios within a round" if args.rounds > 1 else "") + ". Code versions: "
             + ", ".join(f"`{k}` = {v}" for k, v in report["codes"].items()) + ".", "",
             f"| model | batch | code | greedy sent/s | × {base} | beam 4 sent/s | × {base} | same "
             f"translations as {base} |",
             "|---|---|---|---|---|---|---|---|",
             *[f"| {r['model']} | {r['batch_size']} | {r['code']} | {r['greedy_sentences_per_second']:,.1f} | "
               f"{r['greedy_ratio']} | {r['beam4_sentences_per_second']:,.1f} | {r['beam4_ratio']} | {same(r)} |"
               for r in rows], ""]
    (out / f"{args.name}.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
