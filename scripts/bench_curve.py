#!/usr/bin/env python
"""Test BLEU along training, and what shorter budgets of the same run would have ended with.

For a model directory that kept a checkpoint at every validation (train with ``--set
train.keep_checkpoints=1000``), translates the test set with each checkpoint (the model's beam and length
penalty) and writes one row per step: training minutes, target tokens/s and validation BLEU as the run
logged them (``metrics.jsonl``), test BLEU and chrF, and with ``--moses LANG`` BLEU in the published
Multi30k convention (lowercased, Moses-tokenized, as ``nmt evaluate --moses``).

``--budgets 15,30`` answers "what does this recipe give in 15 and 30 minutes" without new runs: a run's
learning-rate schedule depends on steps, not on its budget, and training is deterministic, so a shorter
run is this run's prefix. Each budget's row is the checkpoint a run of that budget would have kept as
``model.weights.h5``: the best validation BLEU among the validations it reaches. Minutes are counted at
the run's median pace (the median steps per second over its validation intervals), so that intervals
slowed by other work on the machine do not shorten the prefix; the report gives both clocks. A real run
of that budget also validates its last, partial interval, which the prefix cannot show.

Writes OUT/NAME.json and .md, a plot OUT/NAME.png, and each checkpoint's translations (gzip) in
OUT/NAME_hypotheses/.

    python scripts/bench_curve.py --model runs/recipe_tiny_120/all --moses de --budgets 15,30 \\
        --name curve_recipe_tiny_120min
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from nmt.benchinfo import report_options, start_script  # noqa: E402 (after the path)

M30K = ROOT.parent / "shared" / "data" / "multi30k"


def median_pace(metrics: list[dict]) -> float:
    """Steps per second: the median over the intervals between consecutive validations (from step 0)."""
    points = [(0, 0.0)] + [(m["step"], m["train_seconds"]) for m in metrics]
    rates = [(s1 - s0) / (t1 - t0) for (s0, t0), (s1, t1) in zip(points, points[1:]) if t1 > t0 and s1 > s0]
    if not rates:
        raise ValueError("metrics.jsonl has no validation interval with a positive duration")
    return statistics.median(rates)


def budget_choice(rows: list[dict], minutes: float) -> dict | None:
    """The row a run of ``minutes`` (at the median pace) would keep: the best validation BLEU among the
    validations it reaches, the earliest of equals (training keeps new weights only when strictly better)."""
    reached = [r for r in rows if r["paced_minutes"] <= minutes + 1e-9 and r.get("valid_bleu") is not None]
    return max(reached, key=lambda r: (r["valid_bleu"], -r["step"])) if reached else None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="a trained model directory that kept its checkpoints")
    p.add_argument("--source", default=str(M30K / "test_2016_flickr.en.gz"), help="test source")
    p.add_argument("--reference", default=str(M30K / "test_2016_flickr.de.gz"), help="test reference")
    p.add_argument("--moses", metavar="LANG", help="also score lowercased and Moses-tokenized")
    p.add_argument("--budgets", default="", metavar="MIN,...", help="training budgets (minutes) to read off the run")
    report_options(p, ROOT, "curve")
    args = p.parse_args(argv)
    try:
        budgets = [float(b) for b in args.budgets.split(",") if b.strip()]
    except ValueError:
        sys.exit(f"error: --budgets takes minutes separated by commas, e.g. 15,30; got {args.budgets!r}")
    header = start_script(args)  # refuses a dirty checkout; runs a copy of the code
    if not Path(args.source).is_file():
        sys.exit(f"skipped: {args.source} not found (the real corpora live in ../shared/data)")

    from nmt import benchinfo, model_dir as md
    from nmt.averaging import checkpoints, read_weights, weights_reader
    from nmt.corpora.parallel import read_lines
    from nmt.errors import UserError
    from nmt.evaluation import score
    from nmt.translator import Translator

    try:
        translator = Translator.load(args.model)
    except UserError as exc:
        sys.exit(f"error: {exc}")
    metrics = {m["step"]: m for m in md.read_metrics(args.model)}
    kept = checkpoints(args.model)
    if not kept or not metrics:
        sys.exit(f"error: {args.model} keeps no checkpoints or no metrics.jsonl; train with "
                 "--set train.keep_checkpoints=1000 to keep one per validation")
    pace = median_pace(sorted(metrics.values(), key=lambda m: m["step"]))
    sources, refs = read_lines(args.source), read_lines(args.reference)
    out = Path(args.out) / args.name
    out.parent.mkdir(parents=True, exist_ok=True)
    from nmt.config import Config

    config = Config.load(Path(args.model) / md.CONFIG)
    reader = weights_reader(translator.model, config)
    rows = []
    for step, prefix in kept:
        try:
            weights = read_weights(translator.model, config, prefix, reader)
        except UserError as exc:  # a damaged or foreign checkpoint: one line, and no report
            sys.exit(f"error: {exc}")
        for w, value in zip(translator.model.weights, weights):
            w.assign(value)
        hyps = [h.text for h in translator.translate(sources)]
        s, m = score(hyps, refs), metrics.get(step, {})
        row = {"step": step, "minutes": round(m["train_seconds"] / 60, 2) if m else None,
               "paced_minutes": round(step / pace / 60, 2), "tokens_per_second": m.get("tokens_per_second"),
               "valid_bleu": m.get("valid_bleu"), "bleu": s.bleu, "chrf": s.chrf, "bleu_signature": s.bleu_signature,
               "hypotheses": benchinfo.keep_hypotheses(out.parent / f"{args.name}_hypotheses" / f"{step}.hyp.gz", hyps)}
        if args.moses:
            moses = score(hyps, refs, moses=args.moses)
            row.update({"bleu_moses": moses.bleu, "bleu_moses_signature": moses.bleu_signature})
        rows.append(row)
        print(json.dumps(row), flush=True)
    chosen = {f"{b:g}": budget_choice(rows, b) for b in budgets}
    d = translator.decode_config
    result = {"name": args.name, **header, "model": benchinfo.shown_path(args.model),
              "source": benchinfo.shown_path(args.source), "sentences": len(sources),
              "decode": {"beam_size": d.beam_size, "length_penalty": d.length_penalty},
              "steps_per_second": round(pace, 4), "budgets": {b: r and r["step"] for b, r in chosen.items()},
              "rows": rows}
    out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    _plot(rows, chosen, out.with_suffix(".png"), args.moses)
    out.with_suffix(".md").write_text(_markdown(result, chosen, args))
    print(out.with_suffix(".md").read_text())


def _markdown(result: dict, chosen: dict, args) -> str:
    from nmt import benchinfo

    rows, moses = result["rows"], bool(args.moses)
    pace = result["steps_per_second"]
    lines = ["# Test BLEU along training", "", f"Command: `{result['command']}`", benchinfo.markdown_header(result), "",
             benchinfo.machine_line(result), "",
             f"Model: `{result['model']}`; test: {result['sentences']:,} sentences of `{result['source']}`; "
             f"beam {result['decode']['beam_size']}, length penalty {result['decode']['length_penalty']}. "
             f"Median pace {pace:.3f} steps/s ({pace * 60:.0f} steps a minute); *minutes* are the run's own "
             "clock, *paced* the step at the median pace. Validation BLEU is the run's own (its settings).", ""]
    if chosen:
        lines += ["## Shorter budgets of the same run", "",
                  "| budget (paced minutes) | step kept (best validation) | valid BLEU | test BLEU | test chrF |"
                  + (" test BLEU, Moses lc |" if moses else ""), "|---|---|---|---|---|" + ("---|" if moses else "")]
        for b, r in chosen.items():
            if r is None:
                lines.append(f"| {b} | no validation reached | | | |" + (" |" if moses else ""))
                continue
            lines.append(f"| {b} | {r['step']:,} | {r['valid_bleu']:.2f} | {r['bleu']:.2f} | {r['chrf']:.2f} |"
                         + (f" {r['bleu_moses']:.2f} |" if moses else ""))
        lines.append("")
    lines += ["## Every checkpoint", "", f"![test BLEU along training]({Path(args.name).name}.png)", "",
              "| step | minutes | paced minutes | target tokens/s | valid BLEU | test BLEU | test chrF |"
              + (" test BLEU, Moses lc |" if moses else ""),
              "|---|---|---|---|---|---|---|" + ("---|" if moses else "")]
    for r in rows:
        def f(v, fmt):
            return "" if v is None else format(v, fmt)
        lines.append(f"| {r['step']:,} | {f(r['minutes'], '.1f')} | {r['paced_minutes']:.1f} | "
                     f"{f(r['tokens_per_second'], ',.0f')} | {f(r['valid_bleu'], '.2f')} | {r['bleu']:.2f} | "
                     f"{r['chrf']:.2f} |" + (f" {r['bleu_moses']:.2f} |" if moses else ""))
    lines += ["", f"BLEU signature: `{rows[0]['bleu_signature']}`"]
    lines += [f"Moses convention: `{rows[0]['bleu_moses_signature']}`" if moses else "", ""]
    return "\n".join(lines)


def _plot(rows: list[dict], chosen: dict, path: Path, moses: str | None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [r["paced_minutes"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(x, [r["bleu"] for r in rows], "o-", label="test BLEU (sacreBLEU, cased)")
    if moses:
        ax.plot(x, [r["bleu_moses"] for r in rows], "s--", label="test BLEU (lowercased, Moses tokens)")
    valid = [(r["paced_minutes"], r["valid_bleu"]) for r in rows if r["valid_bleu"] is not None]
    if valid:
        ax.plot(*zip(*valid), "^:", label="validation BLEU (as trained)")
    for b in chosen:
        ax.axvline(float(b), color="grey", lw=0.8)
        ax.text(float(b), ax.get_ylim()[0], f" {b} min", color="grey", va="bottom")
    ax.set_xlabel("training minutes at the run's median pace")
    ax.set_ylabel("BLEU")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
