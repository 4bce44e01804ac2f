#!/usr/bin/env python
"""Training throughput (target tokens/s) of model configurations on the same batches, one run.

Each configuration trains on the first batches of a corpus (seed 0; a few untimed, then ``--steps``
timed) in a fresh process, so configurations and code versions do not share state. Batches come from
each code version's own input pipeline, so a change in batching shows in its figures. ``--code DIR``
also runs every configuration with the ``nmt`` package of another checkout (for example the commit
before a speed change, made with ``git worktree add``), so before/after ratios come from one run on
one machine. Writes results/NAME.json and results/NAME.md (``--out`` another folder; the shared tokenizer
goes to runs/throughput/, ``--work`` another folder).

    git worktree add /tmp/before f9acba1~1
    python scripts/bench_throughput.py --code /tmp/before --name throughput_speedups \\
        --variant transformer:model.family=transformer --variant lstm:model.family=rnn
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
M30K = ROOT.parent / "shared" / "data" / "multi30k"

CHILD = r"""
import json, sys, time
code, spec = sys.argv[1], json.loads(sys.argv[2])
sys.path.insert(0, code)
import keras, tensorflow as tf
parts = int(spec["set"].get("train.parallel_parts", 1))
if parts > 1:  # before TensorFlow's first op (nmt.steps.set_threads, which older code versions lack)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(parts)
from nmt import model_dir as md
from nmt.config import preset
from nmt.corpora.parallel import clean_pairs, read_parallel
from nmt.pipeline import encode_pairs, make_dataset
from nmt.tokenization import Tokenizer
try:
    from nmt.losses import smoothed_loss
    from nmt.optimizers import make_optimizer
except ImportError:  # a --code checkout from before they left nmt.training
    from nmt.training import make_optimizer, smoothed_loss

config = preset(spec["preset"])
for key, value in spec["set"].items():
    section, name = key.split(".", 1)
    config = config.override(section, **{name: value})
pairs, _ = clean_pairs(read_parallel(*spec["train"]), config.train.max_words)
tokenizer = Tokenizer.load(spec["tokenizer"])
data = encode_pairs(pairs, tokenizer, config.train.max_tokens)
batches = list(make_dataset(data, config.train.batch_tokens, config.train.max_tokens, seed=0)
               .take(spec["steps"] + spec["warmup"]))
if len(batches) < spec["steps"] + spec["warmup"]:
    sys.exit(f"the corpus makes {len(batches)} batches; --steps and --warmup need {spec['steps'] + spec['warmup']}")
keras.utils.set_random_seed(0)
model = md.build(config, tokenizer)
optimizer = make_optimizer(config.train)

def loss_fn(src, tgt_in, tgt_out):
    return smoothed_loss(model.forward(src, tgt_in, training=True)[0], tgt_out, config.train.label_smoothing)

if parts > 1:
    from nmt.steps import split_loss
    loss_fn = split_loss(loss_fn, parts)

@tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32)] * 3)
def step(src, tgt_in, tgt_out):
    with tf.GradientTape() as tape:
        total, n = loss_fn(src, tgt_in, tgt_out)
        loss = total / n
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return n

for b in batches[:spec["warmup"]]:
    step(*b)
tokens, start = 0.0, time.perf_counter()
for b in batches[spec["warmup"]:]:
    tokens += float(step(*b))
seconds = time.perf_counter() - start
profile = {}
if spec.get("profile_steps"):  # after the timing: where the time of the timed batches' steps goes
    import tempfile
    from nmt.benchinfo import op_time_shares
    again = iter(batches[spec["warmup"]:][:spec["profile_steps"]])
    count = min(spec["profile_steps"], spec["steps"])
    profile = {"profile": op_time_shares(lambda: step(*next(again)).numpy(), count, tempfile.mkdtemp())}
real = sum(float(tf.reduce_sum(tf.cast(b[2] > 0, tf.float32))) for b in batches)
padded = sum(float(tf.size(b[2])) for b in batches)
print(json.dumps({"target_tokens_per_second": round(tokens / seconds, 1), "timed_target_tokens": int(tokens),
                  "timed_seconds": round(seconds, 4), "batches": len(batches), "target_fill": round(real / padded, 3),
                  "parameters": int(sum(int(w.numpy().size) for w in model.trainable_weights)),
                  "matmul_parameters": int(model.matmul_parameters()), **profile}))
"""


def main(argv=None):
    from nmt.benchinfo import report_options

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train-src", default=str(M30K / "train.en.gz"))
    p.add_argument("--train-tgt", default=str(M30K / "train.de.gz"))
    p.add_argument("--preset", default="base")
    p.add_argument("--variant", action="append", required=True, metavar="NAME:SECTION.KEY=VALUE[,...]",
                   help="a named configuration over the preset (repeatable)")
    p.add_argument("--code", action="append", default=[], help="also run with the nmt package of this checkout")
    p.add_argument("--steps", type=int, default=40, help="timed steps (after --warmup untimed ones)")
    p.add_argument("--warmup", type=int, default=5)
    report_options(p, ROOT, "throughput", work="throughput")
    args = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from nmt.benchinfo import start_script

    header = start_script(args)  # refuses a dirty checkout; runs a copy of the code
    from nmt import benchinfo
    from nmt.benchmark import parse_override
    from nmt.config import preset
    from nmt.corpora.parallel import clean_pairs, read_parallel
    from nmt.tokenization import Tokenizer

    variants = {}
    for text in args.variant:
        name, _, items = text.partition(":")
        settings = {}
        for item in filter(None, items.split(",")):
            _, section, key, value = parse_override(item)
            settings[f"{section}.{key}"] = value
        variants[name] = settings
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    base = preset(args.preset)
    Tokenizer.from_config(clean_pairs(read_parallel(args.train_src, args.train_tgt), base.train.max_words)[0],
                          base.tokenizer).save(work / "tokenizer")
    def described(path: Path) -> str:
        rev = subprocess.run(["git", "-C", str(path), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        return f"{path} (commit {rev.stdout.strip()})" if rev.returncode == 0 else str(path)

    import nmt

    # (label, description, the folder whose nmt package a child imports): the current code runs from the copy
    # benchinfo.start made, so a commit made during the run cannot change what is measured.
    snapshot = str(Path(nmt.__path__[0]).parent)
    others = [Path(c).resolve() for c in args.code]
    codes = [("current", described(ROOT), snapshot)] + [(c.name, described(c), str(c)) for c in others]
    rows, missing = [], []
    for name, settings in variants.items():
        for label, _, code in codes:
            spec = {"preset": args.preset, "set": settings, "train": [args.train_src, args.train_tgt],
                    "tokenizer": str(work / "tokenizer"), "steps": args.steps, "warmup": args.warmup}
            done = subprocess.run([sys.executable, "-c", CHILD, code, json.dumps(spec)],
                                  capture_output=True, text=True)
            if done.returncode != 0 and "unknown model option" in done.stderr + done.stdout and label != "current":
                print(f"{name}: not available in {label} (an option it does not know)", flush=True)
                missing.append(f"{name} ({label})")
                continue  # a setting the older code version does not have: no row, no ratio
            if done.returncode != 0:
                sys.exit(f"{name} with {label} failed:\n{done.stderr[-3000:]}")
            row = {"variant": name, "code": label, "settings": settings,
                   **json.loads(done.stdout.strip().splitlines()[-1])}
            rows.append(row)
            print(json.dumps(row), flush=True)
    for row in rows:
        ref = next((r for r in rows if r["variant"] == row["variant"] and r["code"] == codes[-1][0]), None)
        row["ratio_to_" + codes[-1][0]] = (round(row["target_tokens_per_second"] / ref["target_tokens_per_second"], 2)
                                           if ref else None)
    report = {**header,
              "preset": args.preset, "steps": args.steps, "codes": {k: v for k, v, _ in codes}, "rows": rows,
              "not_run": missing}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.name}.json").write_text(json.dumps(report, indent=2) + "\n")
    m = report["machine"]
    ratio = "ratio_to_" + codes[-1][0]
    lines = [f"# Training throughput: {args.name}", "", f"Command: `{report['command']}`",
             benchinfo.markdown_header(report), "",
             f"Machine: {m['cpu']}, {m['cores']} cores. The first {args.steps} timed batches of the corpus (after "
             f"{args.warmup} untimed; seed 0, each code version's own batching) for every row, "
             f"preset `{args.preset}`, each row in a fresh process. "
             f"Code versions: " + ", ".join(f"`{k}` = {v}" for k, v, _ in codes) + ".", "",
             f"| variant | code | target tokens/s | target positions holding tokens | {ratio.replace('_', ' ')} |",
             "|---|---|---|---|---|",
             *[f"| {r['variant']} | {r['code']} | {r['target_tokens_per_second']:,.0f} | {r['target_fill']:.1%} | "
               f"{r[ratio] or '—'} |"
               for r in rows], "",
             *([f"Not run: {', '.join(missing)}: a setting that code version does not have.", ""] if missing else [])]
    (out / f"{args.name}.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
