#!/usr/bin/env python
"""Training speed of nmt's Transformer and OpenNMT-tf's, in one run on one machine.

OpenNMT-tf (2.32, the last release; it needs TensorFlow 2.13) is installed from PyPI in its own virtual
environment (``--onmt-venv``, made on first use). Both toolkits train the same architecture (3 layers,
d 256, feed-forward 512, 4 heads, pre-norm, separate source and target embeddings, dropout 0.1 on
embeddings, sublayer outputs, attention weights and the feed-forward hidden layer, as OpenNMT-tf's
Transformer has it) on the same SentencePiece pieces of Multi30k en->de, with batches holding the same
number of target tokens on average: OpenNMT-tf takes ``--batch-sentences`` sentences per batch, and nmt
the token budget whose batches hold as many target tokens (calibrated on its own batching). nmt's
benchmark configuration (dropout only on embeddings and sublayer outputs, shared embeddings) is timed
beside them, and both again with ``train.parallel_parts=2`` (each batch computed as two independent halves,
each on one thread: the same updates).

Throughput is target tokens (pieces plus the end-of-sentence token, what both toolkits count) per
second of training steps, after warm-up steps whose time is not counted; every system runs
``--repeats`` times, alternating, each in a fresh process, so the spread between repeats shows the
noise. Model FLOPs utilisation uses the float32 matmul peak measured in the same run. Writes
OUT/NAME.json and OUT/NAME.md and keeps OpenNMT-tf's logs in OUT/NAME_logs/.

    python scripts/bench_peers.py --name peers_training
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
M30K = ROOT.parent / "shared" / "data" / "multi30k"
ONMT = ["OpenNMT-tf==2.32.0", "tensorflow-cpu==2.13.*"]
SHAPE = {"layers": 3, "d_model": 256, "ff_dim": 512, "transformer_heads": 4}
# The model OpenNMT-tf trains (its Transformer is pre-norm by default, as nmt's is)
ONMT_MODEL = """
import opennmt

def model():
    return opennmt.models.Transformer(
        source_inputter=opennmt.inputters.WordEmbedder(embedding_size={d_model}),
        target_inputter=opennmt.inputters.WordEmbedder(embedding_size={d_model}),
        num_layers={layers}, num_units={d_model}, num_heads={transformer_heads}, ffn_inner_dim={ff_dim},
        dropout=0.1, attention_dropout=0.1, ffn_dropout=0.1)
"""
# nmt configurations: OpenNMT-tf's (matched) and the benchmark's own; the batch budget is added per run
NMT_ROWS = {
    "nmt, OpenNMT-tf's configuration": {"model.family": "transformer", "model.share_embeddings": False,
                                         "model.dropout": 0.1, "model.attention_dropout": 0.1,
                                         "model.ffn_dropout": 0.1},
    "nmt, benchmark configuration": {"model.family": "transformer", "model.dropout": 0.1,
                                      "model.attention_dropout": 0.0, "model.ffn_dropout": 0.0},
}
# OpenNMT-tf 2.32's progress line: "Step = 50 ; steps/s = 1.02, tokens/s = 1853 (906 source, 947 target) ; ..."
PARTS = ", 2 parallel parts"  # the same, each batch computed as two halves, one thread each (nmt.steps)
NMT_ROWS.update({label + PARTS: {**settings, "train.parallel_parts": 2} for label, settings in list(NMT_ROWS.items())})
MATCHED = next(iter(NMT_ROWS))  # nmt in OpenNMT-tf's configuration: profiled, with and without parallel parts
PROFILED = (MATCHED, MATCHED + PARTS)
STEP_LINE = re.compile(r"Step = (\d+) ; steps/s = ([\d.]+), tokens/s = \d+ \((\d+) source, (\d+) target\)")


def onmt_python(venv: Path) -> Path:
    """The venv's python, installing OpenNMT-tf there first if it is missing."""
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import opennmt"]
    if python.is_file() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    print(f"Installing {' '.join(ONMT)} into {venv} (once) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *ONMT], check=True)
    return python


def onmt_version(python: Path) -> dict:
    code = ("import json, opennmt, tensorflow as tf; "
            "print(json.dumps({'opennmt-tf': opennmt.__version__, 'tensorflow': tf.__version__}))")
    return json.loads(subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout)


def write_pieces(pairs, sp_model: Path, work: Path) -> dict:
    """The training pairs as SentencePiece pieces (one sentence per line) and OpenNMT-tf's vocabulary
    (the model's pieces less its control and unknown symbols; OpenNMT-tf adds its own)."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(sp_model))
    files = {"src": work / "train.src.pieces", "tgt": work / "train.tgt.pieces", "vocab": work / "vocab.txt"}
    lengths = []
    for side, index in (("src", 0), ("tgt", 1)):
        encoded = sp.encode([p[index] for p in pairs], out_type=str)
        files[side].write_text("".join(" ".join(e) + "\n" for e in encoded), encoding="utf-8")
        if side == "tgt":
            lengths = [len(e) + 1 for e in encoded]  # + </s>, the label OpenNMT-tf and nmt both count
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())
              if not (sp.is_control(i) or sp.is_unknown(i))]
    files["vocab"].write_text("".join(p + "\n" for p in pieces), encoding="utf-8")
    return {"files": files, "mean_target_tokens": sum(lengths) / len(lengths), "vocabulary": len(pieces)}


def run_onmt(python: Path, work: Path, files: dict, args, log: Path) -> dict:
    """Train OpenNMT-tf for warm-up + timed steps; throughput over the timed steps from its own log."""
    import yaml

    model_dir = work / f"onmt_model_{log.stem}"
    shutil.rmtree(model_dir, ignore_errors=True)  # OpenNMT-tf would resume from an older run's checkpoint
    config = {"model_dir": str(model_dir),
              "data": {"train_features_file": str(files["src"]), "train_labels_file": str(files["tgt"]),
                       "source_vocabulary": str(files["vocab"]), "target_vocabulary": str(files["vocab"])},
              "params": {"optimizer": "Adam", "optimizer_params": {"beta_1": 0.9, "beta_2": 0.98},
                         "learning_rate": 2.0, "decay_type": "NoamDecay",
                         "decay_params": {"model_dim": SHAPE["d_model"], "warmup_steps": 400},
                         "label_smoothing": 0.1},
              "train": {"batch_size": args.batch_sentences, "batch_type": "examples",
                        "max_step": args.warmup_steps + args.steps, "save_summary_steps": args.log_every,
                        "save_checkpoints_steps": 10**9, "keep_checkpoint_max": 1,
                        "maximum_features_length": 100, "maximum_labels_length": 100, "sample_buffer_size": -1}}
    (work / "onmt.yml").write_text(yaml.safe_dump(config))
    (work / "onmt_model.py").write_text(ONMT_MODEL.format(**SHAPE))
    start = time.perf_counter()
    done = subprocess.run([str(python), "-m", "opennmt.bin.main", "--model", str(work / "onmt_model.py"),
                           "--config", str(work / "onmt.yml"), "train"], capture_output=True, text=True, cwd=work)
    log.write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        sys.exit(f"OpenNMT-tf failed (log: {log}):\n{done.stderr[-3000:]}")
    row = onmt_throughput(done.stderr + done.stdout, args.warmup_steps, args.log_every)
    if row is None:
        sys.exit(f"OpenNMT-tf logged no step after step {args.warmup_steps} (log: {log})")
    return {**row, "wall_seconds": round(time.perf_counter() - start, 1)}


def onmt_throughput(log: str, warmup_steps: int, log_every: int) -> dict | None:
    """Target tokens/s over the steps after ``warmup_steps`` from OpenNMT-tf's progress lines: each line
    covers the ``log_every`` steps before it, at its steps/s and target tokens/s (None: no such line)."""
    timed = [(float(rate), int(words)) for step, rate, _, words in STEP_LINE.findall(log) if int(step) > warmup_steps]
    if not timed:
        return None
    seconds = [log_every / rate for rate, _ in timed]
    tokens = sum(words * s for (_, words), s in zip(timed, seconds))
    return {"target_tokens_per_second": round(tokens / sum(seconds), 1), "timed_steps": log_every * len(timed),
            "timed_seconds": round(sum(seconds), 2),
            "target_tokens_per_batch": round(tokens / (log_every * len(timed)), 1)}


def nmt_batches(data, batch_tokens: int, max_tokens: int, count: int) -> float:
    """Mean real target tokens per batch of nmt's batching of the encoded ``data`` at ``batch_tokens``
    (first ``count`` batches, seed 0)."""
    import tensorflow as tf

    from nmt.pipeline import make_dataset

    batches = list(make_dataset(data, batch_tokens, max_tokens, seed=0).take(count))
    return sum(float(tf.reduce_sum(tf.cast(b[2] > 0, tf.float32))) for b in batches) / len(batches)


def calibrate(pairs, tokenizer_dir: Path, wanted: float, max_tokens: int, count: int) -> tuple[int, float]:
    """The batch budget whose batches hold ``wanted`` target tokens on average (secant steps over one
    encoding of the pairs)."""
    from nmt.pipeline import encode_pairs
    from nmt.tokenization import Tokenizer

    data = encode_pairs(pairs, Tokenizer.load(tokenizer_dir), max_tokens)
    budget = 1024
    got = nmt_batches(data, budget, max_tokens, count)
    for _ in range(4):
        budget = max(8, round(budget * wanted / got))
        got = nmt_batches(data, budget, max_tokens, count)
        if abs(got - wanted) / wanted < 0.02:
            break
    return budget, got


def run_nmt(settings: dict, args, tokenizer_dir: Path, profile_steps: int = 0) -> dict:
    from bench_throughput import CHILD

    import nmt

    code = str(Path(nmt.__path__[0]).parent)  # the copy benchinfo.start made
    spec = {"preset": "base", "set": settings, "train": [args.train_src, args.train_tgt],
            "tokenizer": str(tokenizer_dir), "steps": args.steps, "warmup": args.warmup_steps,
            "profile_steps": profile_steps}
    done = subprocess.run([sys.executable, "-c", CHILD, code, json.dumps(spec)], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"nmt failed:\n{done.stderr[-3000:]}")
    row = json.loads(done.stdout.strip().splitlines()[-1])
    row["target_tokens_per_batch"] = round(row["timed_target_tokens"] / args.steps, 1)
    return row


def main(argv=None):
    from nmt.benchinfo import report_options

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train-src", default=str(M30K / "train.en.gz"))
    p.add_argument("--train-tgt", default=str(M30K / "train.de.gz"))
    p.add_argument("--onmt-venv", default=str(ROOT / "runs" / "peers" / "onmt-venv"),
                   help="virtual environment for OpenNMT-tf (made on first use)")
    p.add_argument("--batch-sentences", type=int, default=64, help="OpenNMT-tf's batch (nmt's is matched to it)")
    p.add_argument("--steps", type=int, default=150, help="timed steps per run")
    p.add_argument("--warmup-steps", type=int, default=25, help="untimed steps first (graph tracing)")
    p.add_argument("--log-every", type=int, default=25, help="OpenNMT-tf's logging interval (divides the steps)")
    p.add_argument("--repeats", type=int, default=2, help="runs of each system, alternating")
    p.add_argument("--profile-steps", type=int, default=20,
                   help="after its first timed run, nmt (OpenNMT-tf's configuration) runs this many steps under "
                        "TensorFlow's profiler: where its time goes (0: none)")
    report_options(p, ROOT, "peers_training", work="peers")
    args = p.parse_args(argv)
    if args.steps % args.log_every or args.warmup_steps % args.log_every:
        sys.exit("error: --steps and --warmup-steps must be multiples of --log-every")
    if not Path(args.train_src).is_file():
        sys.exit(f"skipped: {args.train_src} not found (the real corpora live in ../shared/data)")
    from nmt.benchinfo import start_script

    header = start_script(args)  # refuses a dirty checkout; runs a copy of the code
    from nmt import benchinfo
    from nmt.config import preset
    from nmt.corpora.parallel import clean_pairs, read_parallel
    from nmt.tokenization import Tokenizer

    work, out = Path(args.work), Path(args.out)
    work.mkdir(parents=True, exist_ok=True)
    (out / f"{args.name}_logs").mkdir(parents=True, exist_ok=True)
    python = onmt_python(Path(args.onmt_venv))
    base = preset("base")
    pairs = clean_pairs(read_parallel(args.train_src, args.train_tgt), base.train.max_words)[0]
    Tokenizer.from_config(pairs, base.tokenizer).save(work / "tokenizer")
    data = write_pieces(pairs, work / "tokenizer" / "spm.model", work)
    wanted = args.batch_sentences * data["mean_target_tokens"]
    budget, got = calibrate(pairs, work / "tokenizer", wanted, base.train.max_tokens, 200)
    print(f"OpenNMT-tf batches of {args.batch_sentences} sentences hold {wanted:.0f} target tokens on average; "
          f"nmt's budget of {budget} tokens gives {got:.0f}", flush=True)
    print("Measuring the float32 matmul peak ...", flush=True)
    peak = benchinfo.matmul_peak_gflops()
    rows = []
    for repeat in range(args.repeats):
        row = {"system": "OpenNMT-tf", "repeat": repeat,
               **run_onmt(python, work, data["files"], args, out / f"{args.name}_logs" / f"onmt_{repeat}.log")}
        rows.append(row)
        print(json.dumps(row), flush=True)
        for label, settings in NMT_ROWS.items():
            full = {**{f"model.{k}": v for k, v in SHAPE.items()}, **settings, "train.batch_tokens": budget}
            profiled = args.profile_steps if repeat == 0 and label in PROFILED else 0
            row = {"system": label, "repeat": repeat, "settings": full,
                   **run_nmt(full, args, work / "tokenizer", profiled)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    matmul = next(r["matmul_parameters"] for r in rows if r["system"] == MATCHED)
    for r in rows:  # the same architecture in both toolkits: the same matmul weights per token
        r["mfu"] = round(6.0 * matmul * r["target_tokens_per_second"] / (peak["peak_gflops"] * 1e9), 3)
    summary = {}
    for system in dict.fromkeys(r["system"] for r in rows):
        rates = [r["target_tokens_per_second"] for r in rows if r["system"] == system]
        summary[system] = {"runs": rates, "mean": round(sum(rates) / len(rates), 1),
                           "spread": round((max(rates) - min(rates)) / min(rates), 3)}
    onmt_mean = summary["OpenNMT-tf"]["mean"]
    for s in summary.values():
        s["ratio_to_onmt"] = round(s["mean"] / onmt_mean, 2)
    report = {**header, "peer_versions": onmt_version(python), "matmul_peak": peak, "shape": SHAPE,
              "batch_sentences": args.batch_sentences, "nmt_batch_tokens": budget,
              "nmt_batch_target_tokens": round(got, 1),
              "mean_target_tokens_per_sentence": round(data["mean_target_tokens"], 2),
              "vocabulary": data["vocabulary"], "train_pairs": len(pairs), "steps": args.steps,
              "warmup_steps": args.warmup_steps, "matmul_parameters": matmul, "rows": rows, "summary": summary}
    (out / f"{args.name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / f"{args.name}.md").write_text(markdown(report, args.name))
    print(f"wrote {out / args.name}.json and .md", flush=True)


def markdown(report: dict, name: str) -> str:
    from nmt.benchinfo import markdown_header

    m, v = report["machine"], report["peer_versions"]
    mfu = {s: " / ".join(f"{x['mfu']:.0%}" for x in report["rows"] if x["system"] == s) for s in report["summary"]}
    rows = [f"| {s} | {' / '.join(f'{x:,.0f}' for x in r['runs'])} | {r['mean']:,.0f} | {r['spread']:.1%} | "
            f"{r['ratio_to_onmt']:.2f} | {mfu[s]} |" for s, r in report["summary"].items()]
    per_batch = {s: sum(x["target_tokens_per_batch"] for x in report["rows"] if x["system"] == s)
                 / len([x for x in report["rows"] if x["system"] == s]) for s in report["summary"]}
    return "\n".join([
        f"# Training speed against OpenNMT-tf, one run ({name})", "",
        f"Command: `{report['command']}`", markdown_header(report), "",
        f"Machine: {m['cpu']}, {m['cores']} cores; float32 matmul peak {report['matmul_peak']['peak_gflops']:,.0f} "
        f"GFLOP/s (measured in this run). OpenNMT-tf {v['opennmt-tf']} on TensorFlow {v['tensorflow']}; nmt on "
        f"TensorFlow {report['versions'].get('tensorflow')}.", "",
        f"Same pieces (one SentencePiece model of {report['vocabulary']:,} pieces, {report['train_pairs']:,} Multi30k "
        f"en->de pairs), same shape (3 layers, d 256, ff 512, 4 heads), {report['steps']} timed steps after "
        f"{report['warmup_steps']} untimed. OpenNMT-tf: batches of {report['batch_sentences']} sentences; nmt: "
        f"{report['nmt_batch_tokens']:,}-token batches, calibrated to hold as many target tokens. Target tokens "
        "per batch as run: " + ", ".join(f"{s} {n:,.0f}" for s, n in per_batch.items()) + ".", "",
        "| system | target tokens/s (each run) | mean | spread between runs | × OpenNMT-tf | MFU (each run) |",
        "|---|---|---|---|---|---|", *rows, "", *_profile(report)])


def _profile(report: dict) -> list[str]:
    """Where each profiled nmt configuration spent its time, by kernel type (one table each)."""
    lines = []
    for row in (r for r in report["rows"] if "profile" in r):
        p = row["profile"]
        lines += [f"Where {row['system']} spends its step ({p['steps']} steps under TensorFlow's profiler after the "
                  f"timed ones; self-time of each kernel type as a share of all kernel time, {p['busy_ms']:,.0f} ms; "
                  f"the two cores were idle {p['idle_share']:.0%} of the profiled time):", "",
                  "| kernel type | share | ms |", "|---|---|---|",
                  *[f"| {s['type']} | {s['share']:.1%} | {s['ms']:,.1f} |" for s in p["op_types"]], ""]
    return lines


if __name__ == "__main__":
    main()
