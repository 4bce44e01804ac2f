#!/usr/bin/env python
"""Training throughput of the LSTM decoder's attention placements, measured in one run.

Same data (the first batches of a corpus), tokenizer, model size and steps for each placement:
``luong`` (attend after the recurrence; the LSTM runs over the whole target sequence at once),
``luong`` with input feeding, and ``bahdanau`` (context fed into the recurrence). Reports target
tokens/s (the timed target tokens over the timed seconds, both kept) and the ratio to ``luong``.
Writes results/placement.json and results/placement.md (``--out`` another folder).

    python scripts/bench_placement.py --steps 40
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from nmt.benchinfo import start_script  # noqa: E402 (after the path)

M30K = ROOT.parent / "shared" / "data" / "multi30k"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train-src", default=str(M30K / "train.en.gz"))
    p.add_argument("--train-tgt", default=str(M30K / "train.de.gz"))
    p.add_argument("--preset", default="base")
    p.add_argument("--attention", default="additive")
    p.add_argument("--steps", type=int, default=40, help="timed steps per placement (after 5 untimed)")
    p.add_argument("--out", default=str(ROOT / "results"))
    p.add_argument("--allow-dirty", action="store_true",
        help="run on a checkout with uncommitted changes (the report says so)")
    args = p.parse_args(argv)
    header = start_script(args)  # refuses a dirty checkout; runs a copy of the code

    import keras
    import tensorflow as tf

    from nmt import benchinfo, model_dir as md
    from nmt.config import preset
    from nmt.corpora.parallel import clean_pairs, read_parallel
    from nmt.losses import smoothed_loss
    from nmt.optimizers import make_optimizer
    from nmt.pipeline import encode_pairs, make_dataset
    from nmt.tokenization import Tokenizer

    base = preset(args.preset).override("model", attention=args.attention)
    pairs, _ = clean_pairs(read_parallel(args.train_src, args.train_tgt), base.train.max_words)
    tokenizer = Tokenizer.from_config(pairs, base.tokenizer)
    data = encode_pairs(pairs, tokenizer, base.train.max_tokens)
    batches = list(make_dataset(data, base.train.batch_tokens, base.train.max_tokens, seed=0).take(args.steps + 5))
    if len(batches) < args.steps + 5:
        sys.exit(f"error: the corpus makes {len(batches)} batches of preset {args.preset!r}; --steps {args.steps} "
                 f"needs {args.steps + 5} (5 untimed): give a larger corpus or fewer --steps")

    def train_step(model, optimizer):
        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32)] * 3)
        def step(src, tgt_in, tgt_out):
            with tf.GradientTape() as tape:
                total, n = smoothed_loss(model.forward(src, tgt_in, training=True)[0], tgt_out, 0.1)
                loss = total / n
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return n
        return step

    rows = []
    for placement, feed in (("luong", False), ("luong", True), ("bahdanau", False)):
        keras.utils.set_random_seed(0)
        config = base.override("model", placement=placement, input_feed=feed)
        model = md.build(config, tokenizer)
        step = train_step(model, make_optimizer(config.train))
        for b in batches[:5]:
            step(*b)
        tokens, start = 0.0, time.perf_counter()
        for b in batches[5:]:
            tokens += float(step(*b))
        seconds = time.perf_counter() - start
        rows.append({"placement": placement, "input_feed": feed, "target_tokens_per_second": round(tokens / seconds, 1),
                     "timed_target_tokens": int(tokens), "timed_seconds": round(seconds, 4)})
        print(rows[-1], flush=True)
    for r in rows:
        r["ratio_to_luong"] = round(r["target_tokens_per_second"] / rows[0]["target_tokens_per_second"], 2)
    report = {**header, "data": [benchinfo.shown_path(args.train_src), benchinfo.shown_path(args.train_tgt)],
              "sentences": len(pairs), "config": base.to_dict(), "steps": args.steps, "rows": rows}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "placement.json").write_text(json.dumps(report, indent=2) + "\n")
    m = report["machine"]
    md_lines = ["# Attention placement: training throughput", "", f"Command: `{report['command']}`",
                benchinfo.markdown_header(report), "",
                f"Machine: {m['cpu']}, {m['cores']} cores. Same {args.steps} batches of "
                f"`{report['data'][0]}` -> `{report['data'][1]}` for each row, "
                f"preset `{args.preset}`, attention `{args.attention}`.", "",
                "| placement | input feed | target tokens/s | ratio to luong |", "|---|---|---|---|",
                *[f"| {r['placement']} | {r['input_feed']} | {r['target_tokens_per_second']:,} | "
                  f"{r['ratio_to_luong']} |" for r in rows], ""]
    (out / "placement.md").write_text("\n".join(md_lines))


if __name__ == "__main__":
    main()
