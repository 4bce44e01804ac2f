#!/usr/bin/env python
"""Checkpoint averaging: test BLEU of the best weights, the last checkpoint, and the mean of the last N.

For a trained model directory, scores on the same test set (same beam and penalty, the model's
decoding settings): ``model.weights.h5`` (best validation BLEU), each kept checkpoint alone, and
``nmt average --last N`` for every N from 2 to the number kept. Writes OUT/NAME.json and .md (OUT:
results/ by default) and keeps each row's translations (gzip) in OUT/NAME_hypotheses/, so that its
BLEU can be re-scored.

    python scripts/bench_average.py --model runs/bench31/transformer --name average_transformer_30min
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from nmt.benchinfo import report_options, start_script  # noqa: E402 (after the path)

M30K = ROOT.parent / "shared" / "data" / "multi30k"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="a trained model directory with several checkpoints")
    p.add_argument("--source", default=str(M30K / "test_2016_flickr.en.gz"))
    p.add_argument("--reference", default=str(M30K / "test_2016_flickr.de.gz"))
    report_options(p, ROOT, "average")
    args = p.parse_args(argv)
    header = start_script(args)  # refuses a dirty checkout; runs a copy of the code
    if not Path(args.source).is_file():
        sys.exit(f"skipped: {args.source} not found (the real corpora live in ../shared/data)")

    from nmt import benchinfo, model_dir as md
    from nmt.averaging import average, checkpoints, read_weights
    from nmt.corpora.parallel import read_lines
    from nmt.evaluation import score
    from nmt.translator import Translator

    sources, references = read_lines(args.source), read_lines(args.reference)
    out = Path(args.out) / args.name
    out.parent.mkdir(parents=True, exist_ok=True)
    kept = checkpoints(args.model)
    best_step = max((m for m in md.read_metrics(args.model) if m.get("best")), key=lambda m: m["step"])["step"]
    rows = []

    def evaluate(label, translator):
        hyps = [h.text for h in translator.translate(sources)]
        s = score(hyps, references)
        kept_at = benchinfo.keep_hypotheses(out.parent / f"{args.name}_hypotheses" / f"{len(rows)}.hyp.gz", hyps)
        rows.append({"weights": label, "bleu": s.bleu, "chrf": s.chrf, "bleu_signature": s.bleu_signature,
                     "hypotheses": kept_at})
        print(json.dumps(rows[-1]), flush=True)

    translator = Translator.load(args.model)
    evaluate(f"model.weights.h5 (best validation BLEU, step {best_step})", translator)
    for step, prefix in kept:
        for w, value in zip(translator.model.weights,
                            read_weights(translator.model, translator_config(args.model), prefix)):
            w.assign(value)
        evaluate(f"checkpoint {step} alone", translator)
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(2, len(kept) + 1):
            summary = average(args.model, Path(tmp) / f"avg{n}", last=n)
            evaluate(f"mean of the last {n} checkpoints (steps {', '.join(map(str, summary['steps']))})",
                     Translator.load(Path(tmp) / f"avg{n}"))
    d = translator.decode_config
    result = {"name": args.name, **header, "model": benchinfo.shown_path(args.model),
              "source": benchinfo.shown_path(args.source), "sentences": len(sources),
              "decode": {"beam_size": d.beam_size, "length_penalty": d.length_penalty}, "rows": rows}
    out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    lines = ["# Checkpoint averaging (`nmt average`)", "", f"Command: `{result['command']}`",
             benchinfo.markdown_header(result), "",
             "Machine: {cpu}, {cores} cores, {memory_gib} GiB; ".format(**result["machine"])
             + ", ".join(f"{k} {v}" for k, v in result["versions"].items()) + ".", "",
             f"Model: `{benchinfo.shown_path(args.model)}` ({_described(args.model)}); "
             f"{len(sources):,} sentences of `{benchinfo.shown_path(args.source)}`, beam {d.beam_size}, "
             f"length penalty {d.length_penalty}.", "", "| weights | BLEU | chrF |", "|---|---|---|"]
    lines += [f"| {r['weights']} | {r['bleu']:.2f} | {r['chrf']:.2f} |" for r in rows]
    lines += ["", f"BLEU signature: `{rows[0]['bleu_signature']}`", ""]
    out.with_suffix(".md").write_text("\n".join(lines))
    print(out.with_suffix(".md").read_text())


def translator_config(path):
    from nmt.config import Config

    return Config.load(Path(path) / "config.json")


def _described(model_dir) -> str:
    """What the model is, from its config.json: a report outlives the folder it ran on."""
    from nmt.config import Config

    m = Config.load(Path(model_dir) / "config.json").model
    if m.family == "transformer":
        return (f"Transformer, {m.layers} layers, width {m.d_model}, feed-forward {m.ff_dim}, "
                f"{m.transformer_heads} heads")
    return f"LSTM, {m.attention} attention, {m.units} units, embeddings {m.embedding_dim}"


if __name__ == "__main__":
    main()
