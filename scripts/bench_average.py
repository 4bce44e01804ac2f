#!/usr/bin/env python
"""Checkpoint averaging: BLEU of the best weights, each kept checkpoint, and the mean of the last N.

For a trained model directory, scores on the same validation and test sets (same beam and penalty, the
model's decoding settings): ``model.weights.h5`` (best validation BLEU during training), each kept checkpoint
alone, and ``nmt average --last N`` for every N from 2 to the number kept. The row with the best validation
BLEU is the one chosen (the test set plays no part in the choice). ``--moses LANG`` adds test BLEU in the
convention of published Multi30k results (lowercased, Moses-tokenized, as ``nmt evaluate --moses``).
``--decodes 5:0.6,5:1.0`` then decodes the chosen weights with each listed beam size and length penalty
as well, and chooses among those (and the model's own setting) on validation too. Writes
OUT/NAME.json and .md (OUT: results/ by default) and keeps each row's translations (gzip) in
OUT/NAME_hypotheses/, so that its BLEU can be re-scored.

    python scripts/bench_average.py --model runs/bench31/transformer --moses de --name average_transformer_30min
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
    p.add_argument("--source", default=str(M30K / "test_2016_flickr.en.gz"), help="test source")
    p.add_argument("--reference", default=str(M30K / "test_2016_flickr.de.gz"), help="test reference")
    p.add_argument("--valid-source", default=str(M30K / "val.en.gz"), help="validation source (for the choice)")
    p.add_argument("--valid-reference", default=str(M30K / "val.de.gz"), help="validation reference")
    p.add_argument("--moses", metavar="LANG", help="also score the test set lowercased and Moses-tokenized")
    p.add_argument("--decodes", type=decodes, default=[], metavar="BEAM:PENALTY,...",
                   help="other beam sizes and length penalties to try on the chosen weights (chosen on validation)")
    report_options(p, ROOT, "average")
    args = p.parse_args(argv)
    header = start_script(args)  # refuses a dirty checkout; runs a copy of the code
    for path in (args.source, args.valid_source):
        if not Path(path).is_file():
            sys.exit(f"skipped: {path} not found (the real corpora live in ../shared/data)")

    from nmt import benchinfo, model_dir as md
    from nmt.averaging import average, checkpoints, read_weights
    from nmt.corpora.parallel import read_lines
    from nmt.evaluation import score
    from nmt.translator import Translator

    sets = {"valid": (read_lines(args.valid_source), read_lines(args.valid_reference)),
            "test": (read_lines(args.source), read_lines(args.reference))}
    sources = sets["test"][0]
    out = Path(args.out) / args.name
    out.parent.mkdir(parents=True, exist_ok=True)
    kept = checkpoints(args.model)
    best_step = max((m for m in md.read_metrics(args.model) if m.get("best")), key=lambda m: m["step"])["step"]
    rows, decode_rows = [], []
    tmp = tempfile.TemporaryDirectory()

    loaders = {}  # each row's weights: how to load them again (for --decodes)

    def assign(translator, prefix):  # a kept checkpoint's weights into the translator's model
        for w, value in zip(translator.model.weights,
                            read_weights(translator.model, translator_config(args.model), prefix)):
            w.assign(value)
        return translator

    def evaluate(label, translator, table=rows, beam_size=None, length_penalty=None):
        row, number = {"weights": label}, len(rows) + len(decode_rows)
        if beam_size is not None:
            row.update(beam_size=beam_size, length_penalty=length_penalty)
        for part, (srcs, refs) in sets.items():
            hyps = [h.text for h in translator.translate(srcs, beam_size=beam_size, length_penalty=length_penalty)]
            s = score(hyps, refs)
            prefix = "" if part == "test" else "valid_"
            row.update({f"{prefix}bleu": s.bleu, f"{prefix}chrf": s.chrf, f"{prefix}bleu_signature": s.bleu_signature,
                        f"{prefix}hypotheses": benchinfo.keep_hypotheses(
                            out.parent / f"{args.name}_hypotheses" / f"{number}.{part}.hyp.gz", hyps)})
            if args.moses and part == "test":
                m = score(hyps, refs, moses=args.moses)
                row.update({"bleu_moses": m.bleu, "bleu_moses_signature": m.bleu_signature})
        table.append(row)
        print(json.dumps(row), flush=True)

    label = f"model.weights.h5 (best validation BLEU, step {best_step})"
    loaders[label] = lambda: Translator.load(args.model)
    translator = loaders[label]()
    evaluate(label, translator)
    for step, prefix in kept:
        label = f"checkpoint {step} alone"
        loaders[label] = lambda prefix=prefix: assign(Translator.load(args.model), prefix)
        evaluate(label, assign(translator, prefix))
    for n in range(2, len(kept) + 1):
        summary = average(args.model, Path(tmp.name) / f"avg{n}", last=n)
        label = f"mean of the last {n} checkpoints (steps {', '.join(map(str, summary['steps']))})"
        loaders[label] = lambda n=n: Translator.load(Path(tmp.name) / f"avg{n}")
        evaluate(label, loaders[label]())
    d = translator.decode_config
    chosen = max(rows, key=lambda r: r["valid_bleu"])  # the first of equals: the simplest weights
    others = [(b, lp) for b, lp in args.decodes if (b, lp) != (d.beam_size, d.length_penalty)]
    if others:  # the chosen weights loaded again: the model's own setting first, then each other one
        chosen_translator = loaders[chosen["weights"]]()
        for b, lp in [(d.beam_size, d.length_penalty), *others]:
            evaluate(chosen["weights"], chosen_translator, decode_rows, b, lp)
    else:
        decode_rows.append({**chosen, "beam_size": d.beam_size, "length_penalty": d.length_penalty})
    tmp.cleanup()
    chosen_decode = max(decode_rows, key=lambda r: r["valid_bleu"])  # the first of equals: the model's own
    result = {"name": args.name, **header, "model": benchinfo.shown_path(args.model),
              "source": benchinfo.shown_path(args.source), "sentences": len(sources),
              "valid_source": benchinfo.shown_path(args.valid_source), "valid_sentences": len(sets["valid"][0]),
              "decode": {"beam_size": d.beam_size, "length_penalty": d.length_penalty},
              "chosen": chosen["weights"], "rows": rows,
              "chosen_decode": {"beam_size": chosen_decode["beam_size"],
                                "length_penalty": chosen_decode["length_penalty"]},
              "decode_rows": decode_rows if others else []}
    out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    lines = ["# Checkpoint averaging (`nmt average`)", "", f"Command: `{result['command']}`",
             benchinfo.markdown_header(result), "",
             benchinfo.machine_line(result), "",
             f"Model: `{benchinfo.shown_path(args.model)}` ({_described(args.model)}); validation: "
             f"{result['valid_sentences']:,} sentences of `{result['valid_source']}`; test: {len(sources):,} "
             f"sentences of `{result['source']}`; beam {d.beam_size}, length penalty {d.length_penalty}. "
             "The weights with the best validation BLEU are chosen (**bold**); the test set plays no part.", "",
             "| weights | valid BLEU | test BLEU | test chrF |" + (" test BLEU, Moses lc |" if args.moses else ""),
             "|---|---|---|---|" + ("---|" if args.moses else "")]
    for r in rows:
        b = "**" if r is chosen else ""
        lines.append(f"| {b}{r['weights']}{b} | {b}{r['valid_bleu']:.2f}{b} | {r['bleu']:.2f} | {r['chrf']:.2f} |"
                     + (f" {r['bleu_moses']:.2f} |" if args.moses else ""))
    if others:
        lines += ["", "The chosen weights with other beam sizes and length penalties; the setting with the best "
                  "validation BLEU is chosen (**bold**; the first of equals, the model's own setting first):", "",
                  "| beam | length penalty | valid BLEU | test BLEU | test chrF |"
                  + (" test BLEU, Moses lc |" if args.moses else ""),
                  "|---|---|---|---|---|" + ("---|" if args.moses else "")]
        for r in decode_rows:
            b = "**" if r is chosen_decode else ""
            lines.append(f"| {b}{r['beam_size']}{b} | {b}{r['length_penalty']}{b} | {b}{r['valid_bleu']:.2f}{b} | "
                         f"{r['bleu']:.2f} | {r['chrf']:.2f} |" + (f" {r['bleu_moses']:.2f} |" if args.moses else ""))
    lines += ["", f"BLEU signature: `{rows[0]['bleu_signature']}`"]
    lines += [f"Moses convention: `{rows[0]['bleu_moses_signature']}`" if args.moses else "", ""]
    out.with_suffix(".md").write_text("\n".join(lines))
    print(out.with_suffix(".md").read_text())


def decodes(text: str) -> list[tuple[int, float]]:
    """``"5:0.6,5:1.0"`` -> [(5, 0.6), (5, 1.0)]; argparse turns a ValueError into a one-line usage error."""
    out = []
    for item in filter(None, (t.strip() for t in text.split(","))):
        beam, sep, penalty = item.partition(":")
        if not sep or int(beam) < 1 or float(penalty) < 0:
            raise ValueError(item)
        out.append((int(beam), float(penalty)))
    return out


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
