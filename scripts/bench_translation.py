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
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
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
    p.add_argument("--name", default=None, help="result file stem [default: from the options]")
    p.add_argument("--out", default=str(ROOT / "results"))
    p.add_argument("--work", default=str(ROOT / "runs" / "bench"), help="where model directories go")
    p.add_argument("--batch-size", type=int, default=64, help="translation batch size")
    return p.parse_args(argv)


def apply_overrides(config, items):
    for item in items:
        key, _, raw = item.partition("=")
        section, _, name = key.partition(".")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        config = config.override(section, **{name: value})
    return config


def timed_translate(translator, sources, beam, batch_size):
    translator.translate(sources[:batch_size], beam_size=beam, batch_size=batch_size)  # trace once
    start = time.perf_counter()
    hyps = translator.translate(sources, beam_size=beam, batch_size=batch_size)
    return hyps, time.perf_counter() - start


def main(argv=None):
    args = parse_args(argv)
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from nmt import benchinfo
    from nmt.config import preset
    from nmt.corpora.parallel import clean_pairs, read_lines, read_parallel
    from nmt.evaluation import bleu_by_length, score
    from nmt.training import Trainer
    from nmt.translator import Translator

    for f in (args.train_src, args.train_tgt, args.test_src, args.test_tgt):
        if not Path(f).exists():
            sys.exit(f"missing corpus file {f}: pass --train-src/... or put Multi30k in {M30K}")
    config = preset(args.preset)
    if args.config:
        config = config.merge_file(args.config)
    config = apply_overrides(config, args.set).override("train", time_budget=args.minutes * 60)
    name = args.name or f"{config.model.family}_{config.model.attention}_{args.minutes:g}min"
    work = Path(args.work) / name
    if work.exists():
        import shutil

        shutil.rmtree(work)
    train_pairs, _ = clean_pairs(read_parallel(args.train_src, args.train_tgt), config.train.max_words)
    valid_pairs, _ = clean_pairs(read_parallel(args.valid_src, args.valid_tgt), config.train.max_words)
    test_src, test_ref = read_lines(args.test_src), read_lines(args.test_tgt)

    start = time.time()
    trainer = Trainer(config, work, train_pairs, valid_pairs, progress=sys.stderr.isatty())
    result = trainer.run()
    wall = time.time() - start
    params = int(sum(v.numpy().size for v in trainer.model.trainable_variables))

    translator = Translator.load(work)
    greedy, greedy_s = timed_translate(translator, test_src, 1, args.batch_size)
    beam, beam_s = timed_translate(translator, test_src, 4, args.batch_size)
    beam_scores = score([h.text for h in beam], test_ref)
    greedy_scores = score([h.text for h in greedy], test_ref)
    lower = score([h.text for h in beam], test_ref, lowercase=True)
    report = {
        "name": name,
        "command": benchinfo.command(),
        "machine": benchinfo.machine(),
        "versions": benchinfo.versions(),
        "config": config.to_dict(),
        "data": {"train": [args.train_src, args.train_tgt], "valid": [args.valid_src, args.valid_tgt],
                 "test": [args.test_src, args.test_tgt], "train_pairs": len(train_pairs),
                 "train_target_tokens_per_epoch": trainer.train_data.target_tokens},
        "training": {"budget_minutes": args.minutes, "steps": result.steps, "train_seconds": round(result.train_seconds, 1),
                     "wall_seconds_with_validation": round(wall, 1),
                     "target_tokens_per_second": round(result.tokens_per_second, 1),
                     "epochs": round(result.target_tokens / trainer.train_data.target_tokens, 2),
                     "best_valid_bleu": result.best_bleu, "history": result.history},
        "parameters": params,
        "test": {"beam4": beam_scores.to_dict(), "greedy": greedy_scores.to_dict(),
                 "beam4_lowercase": lower.to_dict(),
                 "bleu_by_length_beam4": bleu_by_length(test_src, [h.text for h in beam], test_ref)},
        "translation": {"batch_size": args.batch_size, "sentences": len(test_src),
                        "greedy_sentences_per_second": round(len(test_src) / greedy_s, 1),
                        "beam4_sentences_per_second": round(len(test_src) / beam_s, 1)},
        "peak_memory_mib": benchinfo.peak_memory_mib(),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / f"{name}.md").write_text(markdown(report))
    print(markdown(report))


def markdown(r: dict) -> str:
    t, tr, m = r["training"], r["translation"], r["machine"]
    lines = [
        f"# {r['name']}", "",
        f"Command: `{r['command']}`", "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; " + ", ".join(f"{k} {v}" for k, v in r["versions"].items()), "",
        "| metric | value |", "|---|---|",
        f"| test BLEU, beam 4 | {r['test']['beam4']['bleu']} |",
        f"| test chrF, beam 4 | {r['test']['beam4']['chrf']} |",
        f"| test BLEU, greedy | {r['test']['greedy']['bleu']} |",
        f"| test BLEU, beam 4, lowercased | {r['test']['beam4_lowercase']['bleu']} |",
        f"| training budget (min) / steps / epochs | {t['budget_minutes']} / {t['steps']} / {t['epochs']} |",
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
        *[f"| {h['step']} | {h.get('train_loss')} | {h.get('valid_loss')} | {h.get('valid_bleu')} |" for h in t["history"]],
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
