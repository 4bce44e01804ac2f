#!/usr/bin/env python
"""Run-to-run spread of the Hansards comparison (issue 17): the guided Transformer head against eflomal.

Reads reports of ``scripts/bench_alignment_real.py`` that ran one recipe (the guided Transformer's
training steps, the eflomal links it followed, the layer, head and extraction of its guided head) and
differ in their seed, and writes OUT.json and OUT.md: per run, eflomal's best symmetrisation (as each
run's report scores it) and the guided head at each method named by --method, with the difference
(method minus eflomal, AER points; negative: the project ahead); per method, the mean and sample
standard deviation of the differences over runs.

A method is called **ahead beyond the spread** when it is ahead in every run counted, and its mean lead
is more than twice the standard deviation of the per-run differences (the rule of ``bench_seeds.py``).
``--chosen-on NAME`` names the run (report file stem) on whose gold a method's setting was chosen (for
example the soft-geometric threshold); that run is shown but not counted for the methods it chose, so
their verdict rests on runs where the setting was fixed in advance. Runs that share a seed are not
independent draws: only the first given of each seed is counted.

    python scripts/hansards_runs.py results/alignment_hansards.json results/alignment_hansards_seed*.json \\
        --method intersection --method "soft-geometric 0.5" --chosen-on "soft-geometric 0.5=alignment_hansards_seed3"
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUIDED = "transformer+guided"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("reports", nargs="+", help="reports of scripts/bench_alignment_real.py (NAME.json)")
    p.add_argument("--method", action="append", default=None,
                   help="the guided head's row to compare (repeatable) [default: intersection]")
    p.add_argument("--chosen-on", action="append", default=[], metavar="METHOD=NAME",
                   help="the run whose gold chose METHOD's setting: shown, not counted for METHOD (repeatable)")
    p.add_argument("--out", required=True, help="output stem: writes OUT.json and OUT.md")
    p.add_argument("--allow-dirty", action="store_true", help="run on a checkout with uncommitted changes")
    return p.parse_args(argv)


def recipe(report: dict) -> dict:
    """What every run must share: the guided Transformer's steps, the links it followed, its guided head."""
    steps = dict(e.split("=", 1) for e in report["budget"]["steps"].split(",") if "=" in e)
    settings = report.get("guided", {}).get("settings", {}).get(GUIDED)
    if settings is None:
        raise ValueError("it has no guided Transformer (run with --guided transformer)")
    return {"transformer_steps": steps.get("transformer"), "links": report["guided"]["links"], "head": settings}


def seed(report: dict) -> str:
    found = re.findall(r"(?:transformer:)?train\.seed=(\d+)", report["command"])
    return found[-1] if found else "default"


def run_row(name: str, report: dict, methods: list[str]) -> dict:
    """eflomal's best symmetrisation and the guided head at each method, AER in points (2 decimals)."""
    from nmt.alignment.symmetrisation import METHODS

    head = recipe(report)["head"]
    rows = report["rows"]
    eflomal = min((r for r in rows if r["system"] == "eflomal" and r["direction"] in METHODS), key=lambda r: r["aer"])
    at = {r["direction"]: r for r in rows if r["system"] == GUIDED and r["extraction"] == head["extraction"]
          and (r["layer"], r["head"]) == (head["layer"], head["head"])}
    ours = {m: round(100 * at[m]["aer"], 2) if m in at else None for m in methods}
    base = round(100 * eflomal["aer"], 2)
    return {"run": name, "seed": seed(report), "commit": report["commit"], "eflomal": base,
            "eflomal_method": eflomal["direction"], "aer": ours,
            "difference": {m: None if v is None else round(v - base, 2) for m, v in ours.items()}}


def summarise(runs: list[dict], methods: list[str], chosen: dict) -> dict:
    verdicts = {}
    first = {}
    for r in runs:
        first.setdefault(r["seed"], r["run"])
    for m in methods:
        counted = [r for r in runs if r["difference"][m] is not None and r["run"] != chosen.get(m)
                   and first[r["seed"]] == r["run"]]
        diffs = [r["difference"][m] for r in counted]
        mean = statistics.fmean(diffs) if diffs else None
        sd = statistics.stdev(diffs) if len(diffs) > 1 else None
        verdicts[m] = {"runs": [r["run"] for r in counted], "differences": diffs,
                       "mean": None if mean is None else round(mean, 2), "sd": None if sd is None else round(sd, 2),
                       "ahead_in": sum(d < 0 for d in diffs), "chosen_on": chosen.get(m),
                       "ahead_beyond_spread": bool(sd is not None and all(d < 0 for d in diffs) and -mean > 2 * sd)}
    return verdicts, {r["run"]: first[r["seed"]] for r in runs if first[r["seed"]] != r["run"]}


def markdown(report: dict) -> str:
    from nmt import benchinfo

    methods = list(report["methods"])
    head = report["recipe"]["head"]
    lines = [f"# Hansards AER, run to run: the guided Transformer head against eflomal ({len(report['runs'])} runs)",
             "", f"Command: `{report['command']}`", "", benchinfo.markdown_header(report), "",
             f"Recipe shared by every run: the guided Transformer trained {report['recipe']['transformer_steps']} "
             f"steps following {report['recipe']['links']}; its guided head layer {head['layer']}, head "
             f"{head['head']}, read by {head['extraction']}. AER in points on the 447 Hansards pairs; difference = "
             "method - eflomal's best symmetrisation in the same run (negative: ahead).", "",
             "| run | seed | eflomal (its best) | " + " | ".join(f"{m} | difference" for m in methods) + " |",
             "|---|---|---|" + "---|---|" * len(methods)]
    for r in report["runs"]:
        cells = [f"{_f(r['aer'][m])} | {_f(r['difference'][m], signed=True)}"
                 + (" (chose it)" if report["verdicts"][m]["chosen_on"] == r["run"] else "") for m in methods]
        again = report["same_seed_as"].get(r["run"])
        seed = f"{r['seed']} (as {again}: not counted)" if again else r["seed"]
        lines.append(f"| {r['run']} | {seed} | {r['eflomal']:.2f} ({r['eflomal_method']}) | "
                     + " | ".join(cells) + " |")
    lines += ["", "| method | runs counted | ahead in | mean difference | sd | ahead beyond the spread |",
              "|---|---|---|---|---|---|"]
    for m, v in report["verdicts"].items():
        lines.append(f"| {m} | {len(v['runs'])} | {v['ahead_in']} | {_f(v['mean'], signed=True)} | {_f(v['sd'])} | "
                     f"{'yes' if v['ahead_beyond_spread'] else 'no'} |")
    lines += ["", "Ahead beyond the spread: ahead in every run counted and a mean lead over twice the standard "
              "deviation of the per-run differences. A run that chose a method's setting on the gold is shown, "
              "not counted for it; nor is a run with the seed of an earlier one."]
    return "\n".join(lines) + "\n"


def _f(value, signed: bool = False) -> str:
    return "-" if value is None else (f"{value:+.2f}" if signed else f"{value:.2f}")


def main(argv=None):
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from nmt import benchinfo

    methods = args.method or ["intersection"]
    chosen = {}
    for entry in args.chosen_on:
        method, eq, name = entry.rpartition("=")
        if not eq or method not in methods:
            sys.exit(f"error: --chosen-on {entry!r}: give METHOD=NAME, METHOD one of --method ({', '.join(methods)})")
        chosen[method] = name
    reports = {}
    for path in map(Path, args.reports):
        if not path.is_file():
            sys.exit(f"error: {path} does not exist; give the NAME.json reports of scripts/bench_alignment_real.py")
        reports[path.stem] = json.loads(path.read_text(encoding="utf-8"))
    recipes = {}
    for name, report in reports.items():
        try:
            recipes[name] = recipe(report)
        except (KeyError, ValueError) as exc:
            sys.exit(f"error: {name}: {exc}")
    if len({json.dumps(r, sort_keys=True) for r in recipes.values()}) != 1:
        sys.exit("error: the runs differ in their recipe: " + "; ".join(f"{n}: {r}" for n, r in recipes.items()))
    unknown = [n for n in chosen.values() if n not in reports]
    if unknown:
        sys.exit(f"error: --chosen-on names {', '.join(unknown)}, not among the reports ({', '.join(reports)})")
    header = benchinfo.start_script(args)
    runs = [run_row(name, report, methods) for name, report in reports.items()]
    verdicts, same_seed = summarise(runs, methods, chosen)
    report = {**header, "recipe": next(iter(recipes.values())), "methods": methods, "runs": runs,
              "verdicts": verdicts, "same_seed_as": same_seed}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(report))
    print(out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
