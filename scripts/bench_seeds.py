#!/usr/bin/env python
"""Seed noise of an ``nmt benchmark`` comparison, and which differences are larger than it.

Reads reports of runs that differ only in their seed (``--set train.seed=N``), re-scores every model's
kept test translations, and writes OUT.json and OUT.md: per model, each seed's score and the mean ±
sample standard deviation; per pair of models, each seed's difference with sacreBLEU's paired bootstrap
(1,000 resamplings of the test sentences, Koehn 2004), and whether the difference is larger than the noise.

A difference is called larger than the noise when (1) it has the same sign in every seed, (2) the paired
bootstrap finds it in every seed (p < 0.05: not test-set sampling), and (3) its mean over seeds is more
than twice the standard deviation of the per-seed differences (not seed noise).

    python scripts/bench_seeds.py results/seeds_15min_steps/seed_* --out results/seeds_15min_steps/summary
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
METRICS = {"BLEU beam 4": ("beam4", "bleu"), "chrF beam 4": ("beam4", "chrf"), "BLEU greedy": ("greedy", "bleu"),
           "BLEU lowercased": ("beam4_lowercase", "bleu")}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("reports", nargs="+", help="report folders of nmt benchmark (or their report.json)")
    p.add_argument("--out", required=True, help="output stem: writes OUT.json and OUT.md")
    p.add_argument("--refs",
                   help="test references, one per line (gzip or text) [default: the reports' test target file]")
    p.add_argument("--samples", type=int, default=1000, help="bootstrap resamplings")
    p.add_argument("--allow-dirty", action="store_true", help="run on a checkout with uncommitted changes")
    return p.parse_args(argv)


def load_runs(paths: list[str]) -> list[dict]:
    """The reports, each with its folder; refuses runs that differ in anything but the seed."""
    runs = []
    for path in map(Path, paths):
        file = path / "report.json" if path.is_dir() else path
        if not file.is_file():
            sys.exit(f"error: {file} does not exist; give nmt benchmark report folders")
        runs.append({**json.loads(file.read_text(encoding="utf-8")), "folder": file.parent})
    if len(runs) < 2:
        sys.exit("error: seed noise needs at least two runs")

    def recipe(run):  # everything that must agree: models, their configurations apart from the seed, the data
        configs = {m["name"]: {**m["config"], "train": {**m["config"]["train"], "seed": None}} for m in run["models"]}
        return json.dumps([configs, run["data"]["files"], run["tokenizer"]], sort_keys=True)

    if len({recipe(r) for r in runs}) != 1:
        sys.exit("error: the runs differ in more than their seed (models, configurations, data or tokenizer)")
    seeds = [seed_of(r) for r in runs]
    if len(set(seeds)) != len(seeds):
        sys.exit(f"error: two runs have the same seed ({seeds}); seed noise needs different seeds")
    return runs


def seed_of(run: dict) -> int:
    return run["models"][0]["config"]["train"]["seed"]


def read_lines(path: Path) -> list[str]:
    data = path.read_bytes()
    text = (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode("utf-8")
    return text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")


def references(runs: list[dict], given: str | None) -> list[str]:
    path = Path(given) if given else ROOT / runs[0]["data"]["files"]["test"][1]
    if not path.is_file():
        sys.exit(f"error: references {path} do not exist; pass --refs")
    return read_lines(path)


def hypotheses(run: dict, model: dict, refs: list[str]) -> list[str]:
    """A model's kept beam-4 translations, checked to re-score to the BLEU its report states."""
    import sacrebleu

    hyps = read_lines(run["folder"] / model["hypotheses"]["beam4"])
    if len(hyps) != len(refs):
        sys.exit(f"error: {run['folder']}: {model['name']} has {len(hyps)} translations for {len(refs)} references")
    bleu = round(sacrebleu.corpus_bleu(hyps, [refs]).score, 2)
    if bleu != model["test"]["beam4"]["bleu"]:
        sys.exit(f"error: {run['folder']}: {model['name']}'s kept translations score {bleu}, "
                 f"its report {model['test']['beam4']['bleu']}: wrong references?")
    return hyps


def paired_bootstrap(baseline: list[str], system: list[str], refs: list[str], samples: int) -> float:
    """sacreBLEU's paired bootstrap p-value of ``system`` against ``baseline`` (BLEU)."""
    from sacrebleu.metrics import BLEU
    from sacrebleu.significance import PairedTest

    _, scores = PairedTest([("baseline", baseline), ("system", system)], {"BLEU": BLEU()}, [refs],
                           test_type="bs", n_samples=samples)()
    return scores["BLEU"][1].p_value


def mean_sd(values: list[float]) -> dict:
    return {"values": values, "mean": round(statistics.fmean(values), 2), "sd": round(statistics.stdev(values), 2)}


def summarise(runs: list[dict], refs: list[str], samples: int) -> dict:
    names = [m["name"] for m in runs[0]["models"]]
    by_name = [{m["name"]: m for m in r["models"]} for r in runs]
    models = {n: {metric: mean_sd([b[n]["test"][kind][key] for b in by_name])
                  for metric, (kind, key) in METRICS.items()}
              for n in names}
    for n in names:
        models[n]["steps"] = [b[n]["training"]["steps"] for b in by_name]
    hyps = [{n: hypotheses(r, b[n], refs) for n in names} for r, b in zip(runs, by_name)]
    pairs = []
    for a, b in itertools.combinations(names, 2):
        diffs = [round(m[b]["test"]["beam4"]["bleu"] - m[a]["test"]["beam4"]["bleu"], 2) for m in by_name]
        p_values = [paired_bootstrap(h[a], h[b], refs, samples) for h in hyps]
        mean, sd = statistics.fmean(diffs), statistics.stdev(diffs)
        same_sign = all(d > 0 for d in diffs) or all(d < 0 for d in diffs)
        pairs.append({"baseline": a, "system": b, "bleu_differences": diffs, "p_values": p_values,
                      "mean": round(mean, 2), "sd": round(sd, 2),
                      "larger_than_noise": bool(same_sign and max(p_values) < 0.05 and abs(mean) > 2 * sd)})
    return {"seeds": [seed_of(r) for r in runs], "runs": [r["folder"] for r in runs], "models": models, "pairs": pairs,
            "bootstrap_samples": samples, "test_sentences": len(refs)}


def markdown(s: dict, first: dict) -> str:
    from nmt import benchinfo

    seeds = ", ".join(map(str, s["seeds"]))
    lines = [f"# Seed noise: {', '.join(s['models'])}, seeds {seeds}", "", f"Command: `{s['command']}`", "",
             benchinfo.markdown_header(s), "", f"Runs: {', '.join(f'`{r}`' for r in s['runs'])} "
             f"(first: {first['title']}; {first['data']['description']}; {s['test_sentences']:,} test sentences).", "",
             "| model | " + " | ".join(f"{m} (mean ± sd)" for m in METRICS) + " | per seed (BLEU beam 4) | steps |",
             "|---|" + "---|" * (len(METRICS) + 2)]
    for name, m in s["models"].items():
        lines.append(f"| {name} | " + " | ".join(f"{m[k]['mean']} ± {m[k]['sd']}" for k in METRICS)
                     + f" | {', '.join(map(str, m['BLEU beam 4']['values']))} | "
                       f"{', '.join(f'{x:,}' for x in m['steps'])} |")
    lines += ["", "| system − baseline | BLEU difference per seed | mean ± sd | paired bootstrap p per seed | "
              "larger than the noise |", "|---|---|---|---|---|"]
    for p in s["pairs"]:
        lines.append(f"| {p['system']} − {p['baseline']} | {', '.join(f'{d:+.2f}' for d in p['bleu_differences'])} | "
                     f"{p['mean']:+.2f} ± {p['sd']} | {', '.join(f'{x:.3f}' for x in p['p_values'])} | "
                     f"{'yes' if p['larger_than_noise'] else 'no'} |")
    lines += ["", f"sd: sample standard deviation over the {len(s['seeds'])} seeds. Paired bootstrap: sacreBLEU's "
              f"`PairedTest` ({s['bootstrap_samples']:,} resamplings of the test sentences, BLEU, seed from "
              "SACREBLEU_SEED, default 12345). Larger than the noise: the same sign in every seed, p < 0.05 in "
              "every seed, and |mean| > 2 sd.", ""]
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    from nmt import benchinfo
    from nmt.io import atomic_write_text

    header = benchinfo.start_script(args)
    runs = load_runs(args.reports)
    summary = {**header, **summarise(runs, references(runs, args.refs), args.samples)}
    summary["runs"] = [benchinfo.shown_path(r) for r in summary["runs"]]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out.with_suffix(".json"), json.dumps(summary, indent=2) + "\n")
    atomic_write_text(out.with_suffix(".md"), markdown(summary, runs[0]))
    print(markdown(summary, runs[0]))


if __name__ == "__main__":
    main()
