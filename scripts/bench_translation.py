#!/usr/bin/env python
"""Train one configuration for a wall-clock budget on a parallel corpus and report quality and speed.

Writes results/NAME.json and results/NAME.md: test sacreBLEU (with signature) and chrF, training
target tokens/s, translation sentences/s (greedy and beam 4), parameters, peak memory, machine,
versions and the exact command. Defaults: Multi30k en->de from ../shared/data/multi30k.

    python scripts/bench_translation.py --minutes 15 --name lstm_additive_15min
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from nmt.benchinfo import report_options, start_script  # noqa: E402 (after the path)

M30K = ROOT.parent / "shared" / "data" / "multi30k"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train-src", default=str(M30K / "train.en.gz"))
    p.add_argument("--train-tgt", default=str(M30K / "train.de.gz"))
    p.add_argument("--valid-src", default=str(M30K / "val.en.gz"))
    p.add_argument("--valid-tgt", default=str(M30K / "val.de.gz"))
    p.add_argument("--test-src", default=str(M30K / "test_2016_flickr.en.gz"))
    p.add_argument("--test-tgt", default=str(M30K / "test_2016_flickr.de.gz"))
    p.add_argument("--minutes", type=float, default=15.0, help="training budget (validation not counted)")
    p.add_argument("--preset", default="base")
    p.add_argument("--config", help="JSON/YAML config sections over the preset")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override one option, e.g. model.attention=dot (repeatable)")
    report_options(p, ROOT, None, work="bench", name_help="result file stem [default: from the options]")
    p.add_argument("--batch-size", type=int, default=64, help="translation batch size")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    header = start_script(args)  # refuses a dirty checkout; runs a copy of the code
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from nmt import benchinfo
    from nmt.benchmark import parse_override
    from nmt.benchmark.run import load_data, run_job
    from nmt.config import preset
    from nmt.tokenization import Tokenizer

    files = {"train": [args.train_src, args.train_tgt], "valid": [args.valid_src, args.valid_tgt],
             "test": [args.test_src, args.test_tgt]}
    for f in sum(files.values(), []):
        if not Path(f).exists():
            sys.exit(f"missing corpus file {f}: pass --train-src/... or put Multi30k in {M30K}")
    config = preset(args.preset)
    if args.config:
        config = config.merge_file(args.config)
    for item in args.set:
        _, section, key, value = parse_override(item)
        config = config.override(section, **{key: value})
    config = config.override("train", time_budget=args.minutes * 60)
    name = args.name or f"{config.model.family}_{config.model.attention}_{args.minutes:g}min"
    work = Path(args.work) / name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    tokenizer = Tokenizer.from_config(load_data(files)["train"], config.tokenizer)
    tokenizer.save(work / "tokenizer")
    result = run_job({"name": name, "config": config.to_dict(), "data": files, "tokenizer": str(work / "tokenizer"),
                      "model_dir": str(work / "model"), "batch_size": args.batch_size}, progress=sys.stderr.isatty())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    kept = out / f"{name}_hypotheses"  # the test translations, so that BLEU can be re-scored
    kept.mkdir(exist_ok=True)
    for kind in ("beam4", "greedy"):
        shutil.copyfile(work / "model" / f"test.{kind}.hyp.gz", kept / f"{kind}.hyp.gz")
    result["hypotheses"] = {kind: benchinfo.shown_path(kept / f"{kind}.hyp.gz") for kind in ("beam4", "greedy")}
    report = {**header, **result,
              "data": {"files": {split: [benchinfo.shown_path(f) for f in pair] for split, pair in files.items()}}}
    (out / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / f"{name}.md").write_text(markdown(report))
    print(markdown(report))


def markdown(r: dict) -> str:
    from nmt import benchinfo

    t, tr = r["training"], r["translation"]
    lines = [
        f"# {r['name']}", "",
        f"Command: `{r['command']}`", benchinfo.markdown_header(r), "",
        benchinfo.machine_line(r), "",
        "| metric | value |", "|---|---|",
        f"| test BLEU, beam 4 | {r['test']['beam4']['bleu']} |",
        f"| test chrF, beam 4 | {r['test']['beam4']['chrf']} |",
        f"| test BLEU, greedy | {r['test']['greedy']['bleu']} |",
        f"| test BLEU, beam 4, lowercased | {r['test']['beam4_lowercase']['bleu']} |",
        f"| training budget / steps / epochs | {t['budget']} / {t['steps']:,} / {t['epochs']} |",
        f"| training PFLOP (6 per matmul weight per target token) | {t['flops'] / 1e15:,.2f} |",
        f"| training target tokens/s | {t['target_tokens_per_second']:,} |",
        f"| translation sentences/s, greedy (batch {tr['batch_size']}) | {tr['greedy_sentences_per_second']} |",
        f"| translation sentences/s, beam 4 (batch {tr['batch_size']}) | {tr['beam4_sentences_per_second']} |",
        f"| parameters | {r['parameters']:,} |",
        f"| peak memory (MiB) | {r['peak_memory_mib']:,} |",
        "", f"BLEU signature: `{r['test']['beam4']['bleu_signature']}`  ",
        f"chrF signature: `{r['test']['beam4']['chrf_signature']}`", "",
        "BLEU by source length (beam 4):", "", "| words | sentences | BLEU |", "|---|---|---|",
        *[f"| {b['bucket']} | {b['sentences']} | {b['bleu']} |" for b in r["test"]["bleu_by_length_beam4"]],
        "", "Validation history:", "", "| step | train loss | valid loss | valid BLEU (greedy) |", "|---|---|---|---|",
        *[f"| {h['step']} | {h.get('train_loss')} | {h.get('valid_loss')} | {h.get('valid_bleu')} |"
          for h in t["history"]],
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
