#!/usr/bin/env python
"""Alignment error rate of attention against gold alignments, on the embedded corpus.

Trains the given benchmark models on the embedded English->Synthdeutsch corpus with ``nmt benchmark``
(same tokenizer and budget for all; its BLEU report lands in OUT/NAME_bleu/), then force-aligns the
test split's reference translations with each model and scores the hard links (each target word to
the source word it attends to most, ``</s>`` excluded) against the gold sure/possible links: AER,
precision, recall, for the mean over layers and heads and for every layer (Transformer) and head.
Writes OUT/NAME.json, OUT/NAME.md and one heatmap per model of the same test sentence; the report
names each model's test translations, which ``nmt benchmark`` keeps (gzip) in OUT/NAME_bleu/hypotheses/.
``--sizes`` draws a smaller corpus from the same generator (the test pairs are the first ones of the
full corpus' test split), for a quick check.

    python scripts/bench_alignment.py --minutes 5 --name alignment_embedded
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    from nmt.benchinfo import report_options

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default="lstm-additive,lstm-dot,lstm-general,transformer")
    p.add_argument("--minutes", type=float, default=5.0, help="training budget per model")
    p.add_argument("--steps", help="passed to nmt benchmark --steps (a step budget; with --minutes, whichever ends "
                                    "first)")
    p.add_argument("--set", action="append", default=[], help="passed to nmt benchmark --set")
    p.add_argument("--preset", help="passed to nmt benchmark --preset [default: small]")
    p.add_argument("--vocab-size", type=int, help="passed to nmt benchmark --vocab-size")
    p.add_argument("--sizes", metavar="TRAIN,VALID,TEST",
                   help="pairs per split of a smaller corpus from the same generator [default: the embedded "
                        "corpus, 20000,500,1000]")
    report_options(p, ROOT, "alignment_embedded", work="alignment")
    p.add_argument("--sentence", type=int, default=None,
                   help="test sentence to plot [default: a long one with crossing links]")
    args = p.parse_args(argv)
    sizes = None
    if args.sizes:
        try:
            sizes = tuple(int(n) for n in args.sizes.split(","))
        except ValueError:
            sizes = ()
        if len(sizes) != 3 or min(sizes) < 1:
            sys.exit(f"error: --sizes {args.sizes!r}: expected three positive numbers TRAIN,VALID,TEST, e.g. 400,20,40")
    sys.path.insert(0, str(ROOT))
    from nmt.benchinfo import start_script

    header = start_script(args)  # refuses a dirty checkout; runs a copy of the code
    from nmt import alignment as al, benchinfo
    from nmt.corpora.synthetic import DEFAULT_SIZES, splits
    from nmt.translator import Translator

    out, work = Path(args.out), Path(args.work)
    if work.exists():
        import shutil

        shutil.rmtree(work)
    cmd = ["benchmark", "--models", args.models, "--minutes", str(args.minutes),
           "--out", str(out / f"{args.name}_bleu"), "--work", str(work), *sum((["--set", s] for s in args.set), [])]
    for option, value in (("--steps", args.steps), ("--preset", args.preset), ("--vocab-size", args.vocab_size)):
        if value is not None:
            cmd += [option, str(value)]
    if sizes:
        from nmt.corpora.synthetic import write_splits

        write_splits(work / "corpus", sizes=sizes)  # files for nmt benchmark; the embedded corpus' preset
        for split in ("train", "valid", "test"):
            cmd += [f"--{split}-src", str(work / "corpus" / f"{split}.en"), f"--{split}-tgt",
                    str(work / "corpus" / f"{split}.de")]
        if args.preset is None:
            cmd += ["--preset", "small"]
    if args.allow_dirty:
        cmd.append("--allow-dirty")
    subprocess.run([*benchinfo.python_module("nmt"), *cmd], check=True, cwd=ROOT)  # on this run's copy of the code
    bleu = json.loads((out / f"{args.name}_bleu" / "report.json").read_text())

    test = splits(sizes=sizes or DEFAULT_SIZES)["test"]
    sources, targets = [p.src for p in test], [p.tgt for p in test]
    gold = [al.parse_pharaoh(p.alignment) for p in test]
    crossing = [i for i, p in enumerate(test) if 10 <= len(p.src.split()) <= 14
                and any(i1 < i2 and j1 > j2 for i1, j1 in gold[i].sure for i2, j2 in gold[i].sure)]
    sentence = args.sentence if args.sentence is not None else (crossing or [0])[0]
    rows, grids = [], []
    for model in bleu["models"]:
        name = model["name"]
        translator = Translator.load(work / name)
        forced = translator.align(sources, targets)
        layers, heads = translator.model.attention_layers, translator.model.attention_heads
        settings = [("mean", "mean")] + [(layer, "mean") for layer in range(layers) if layers > 1]
        settings += [(layer, head) for layer in range(layers) for head in range(heads) if heads > 1]
        for layer, head in settings:
            links = [a.links for a in al.reduce_all(forced, layer, head)]  # words: the given tokens
            r = al.alignment_error_rate(links, gold)
            rows.append({"model": name, "layer": layer, "head": head, **r.to_dict(),
                         "test_bleu": model["test"]["beam4"]["bleu"]})
            print(json.dumps(rows[-1]), flush=True)
        a = al.reduce_all([forced[sentence]])[0]
        al.plot_matrix(a.word, a.source_words, a.target_words, out / f"{args.name}_{name}.png",
                    title=f"{name}: test sentence {sentence}")
        if layers * heads > 1:  # every layer and head, as `nmt align --plot-dir` draws it
            grid = np.array([[al.to_words(a.attention[layer, head], a.source_map, a.target_map)
                              for head in range(heads)]
                             for layer in range(layers)])  # [L,H,T,S] words
            al.plot_grid(grid, a.source_words, a.target_words, out / f"{args.name}_{name}_grid.png")
            grids.append(name)
    report = {**header,
              "benchmark_command": " ".join(["nmt", *cmd]), "minutes": args.minutes,
              "corpus_sizes": list(sizes or DEFAULT_SIZES), "test_sentences": len(test),
              "hypotheses": {m["name"]: {kind: benchinfo.shown_path(out / f"{args.name}_bleu" / path)
                                         for kind, path in m["hypotheses"].items()} for m in bleu["models"]},
              "gold_links": {"sure": sum(len(g.sure) for g in gold), "possible": sum(len(g.possible) for g in gold)},
              "plotted_sentence": sentence, "rows": rows}
    (out / f"{args.name}.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [f"# Alignment error rate of attention on the embedded corpus ({args.name})", "",
             f"Command: `{report['command']}`", benchinfo.markdown_header(report), "",
             f"Models trained by `{report['benchmark_command']}` "
             f"(BLEU report: [{args.name}_bleu/report.md]({args.name}_bleu/report.md)); "
             f"the {len(test):,} test pairs force-aligned (teacher forcing on the reference), "
             "hard links = each target word's most-attended source word after merging pieces to words, "
             "`</s>` excluded. Gold: "
             f"{report['gold_links']['sure']:,} sure and {report['gold_links']['possible']:,} possible links.", "",
             "| model | layer | head | AER | precision | recall | test BLEU (beam 4) |",
             "|---|---|---|---|---|---|---|",
             *[f"| {r['model']} | {r['layer']} | {r['head']} | {r['aer']:.3f} | {r['precision']:.3f} | "
               f"{r['recall']:.3f} | {r['test_bleu']} |"
               for r in rows], "",
             f"Heatmaps of test sentence {sentence} (mean over layers and heads): "
             + " ".join(f"![{m['name']}]({args.name}_{m['name']}.png)" for m in bleu["models"]), "",
             *[f"Every layer (rows) and head (columns) of {name}, same sentence: "
               f"![{name} grid]({args.name}_{name}_grid.png)\n"
               for name in grids]]
    (out / f"{args.name}.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
