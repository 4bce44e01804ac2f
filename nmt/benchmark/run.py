"""Train and measure one benchmark configuration (run in its own process by ``nmt benchmark``).

A job is a JSON file: ``name``, ``config`` (a :class:`~nmt.config.Config` dict), ``data`` (see
:func:`load_data`), ``tokenizer`` (a directory holding the shared SentencePiece model),
``model_dir`` and ``batch_size`` (translation). The result is a JSON file with test scores
(beam 4 and greedy, cased and lowercased, BLEU by source length), training throughput, translation
speed, parameter counts, peak memory and the validation history. Nothing here asks which model
family it runs.

    python -m nmt.benchmark.run JOB.json RESULT.json
"""

from __future__ import annotations

import gzip
import json
import sys
import time
from pathlib import Path

from nmt import benchinfo
from nmt.benchmark.report import budget_text, significant, training_flops
from nmt.errors import UserError
from nmt.io import lines_text


def load_data(data: dict) -> dict:
    """``{"train": [src, tgt], "valid": [src, tgt], "test": [src, tgt]}`` file pairs (and optionally
    ``"train_links": path``, a line of word links per training pair), or ``{"embedded": true}`` for the
    embedded synthetic corpus. Returns pairs per split (and ``train_links``, the kept pairs' lines);
    train and valid are cleaned (blank and over-long pairs dropped), test is kept whole."""
    from nmt.corpora.parallel import clean_pairs, read_parallel

    if data.get("embedded"):
        from nmt.corpora.synthetic import splits

        return {name: [(p.src, p.tgt) for p in pairs] for name, pairs in splits().items()}
    out = {}
    for split in ("train", "valid", "test"):
        if split == "train" and data.get("train_links"):  # the pairs and their links, cleaned together
            from nmt.cli.common import read_pairs

            kept = read_pairs(*data["train"], None, "train", links=data["train_links"])
            out["train"], out["train_links"] = [(s, t) for s, t, _ in kept], [line for *_, line in kept]
            continue
        pairs = read_parallel(*data[split])
        out[split] = pairs if split == "test" else clean_pairs(pairs, label=split)[0]
    return out


def timed_translate(translator, sources, beam: int, batch_size: int):
    """Translate ``sources`` once untimed on one batch (tracing), then timed; returns (hyps, seconds)."""
    translator.translate(sources[:batch_size], beam_size=beam, batch_size=batch_size)
    start = time.perf_counter()
    hyps = translator.translate(sources, beam_size=beam, batch_size=batch_size)
    return hyps, time.perf_counter() - start


def run_job(job: dict, progress: bool = False) -> dict:
    """Train ``job['config']`` for its time budget, then score and time translation of the test set."""
    from nmt.config import Config
    from nmt.evaluation import bleu_by_length, score
    from nmt.steps import set_threads
    from nmt.tokenization import Tokenizer
    from nmt.training import Trainer
    from nmt.translator import Translator, decode_streams

    config = Config.from_dict(job["config"])
    set_threads(config.train.parallel_parts)  # before the tokenizer's first TensorFlow op
    data = load_data(job["data"])
    tokenizer = Tokenizer.load(job["tokenizer"])
    start = time.time()
    trainer = Trainer(config, job["model_dir"], data["train"], data["valid"], tokenizer=tokenizer, progress=progress,
                      train_links=data.get("train_links"))
    result = trainer.run()
    wall = time.time() - start
    model = trainer.model

    translator = Translator.load(job["model_dir"])
    sources, refs = [s for s, _ in data["test"]], [t for _, t in data["test"]]
    batch = job.get("batch_size", 64)
    greedy, greedy_s = timed_translate(translator, sources, 1, batch)
    beam, beam_s = timed_translate(translator, sources, 4, batch)
    beam_text, greedy_text = [h.text for h in beam], [h.text for h in greedy]
    for kind, texts in (("beam4", beam_text), ("greedy", greedy_text)):  # kept with the report: re-scorable
        (Path(job["model_dir"]) / f"test.{kind}.hyp.gz").write_bytes(
            gzip.compress(lines_text(texts).encode("utf-8"), mtime=0))
    out = {
        "name": job["name"],
        "config": config.to_dict(),
        "training": {
            "budget_minutes": round(config.train.time_budget / 60, 2), "budget": budget_text(config.train),
            "steps": result.steps,
            "train_seconds": round(result.train_seconds, 1), "wall_seconds_with_validation": round(wall, 1),
            "target_tokens": result.target_tokens, "target_tokens_per_second": round(result.tokens_per_second, 1),
            "epochs": round(result.target_tokens / trainer.train_data.target_tokens, 2),
            "best_valid_bleu_greedy": result.best_bleu, "history": result.history,
        },
        "parameters": int(sum(int(w.numpy().size) for w in model.trainable_weights)),
        "matmul_parameters": model.matmul_parameters(),
        "test": {
            "sentences": len(sources),
            "beam4": score(beam_text, refs).to_dict(),
            "greedy": score(greedy_text, refs).to_dict(),
            # Case-insensitive sacreBLEU; beam4_published (Multi30k: the target language is known) is the
            # convention of published Multi30k results: lowercased, Moses-tokenized, BLEU on tokens.
            "beam4_lowercase": score(beam_text, refs, lowercase=True).to_dict(),
            **({"beam4_published": score(beam_text, refs, moses=job["data"]["target_lang"]).to_dict()}
               if job["data"].get("target_lang") else {}),
            "bleu_by_length_beam4": bleu_by_length(sources, beam_text, refs),
            "bleu_by_length_greedy": bleu_by_length(sources, greedy_text, refs),
        },
        "translation": {
            "batch_size": batch,
            "batches_at_once": decode_streams(),  # > 1 when the training's parallel parts set one thread per op
            "greedy_sentences_per_second": round(len(sources) / greedy_s, 1),
            "beam4_sentences_per_second": round(len(sources) / beam_s, 1),
        },
        "peak_memory_mib": benchinfo.peak_memory_mib(),
        "hypotheses": {kind: f"hypotheses/{job['name']}.{kind}.hyp.gz" for kind in ("beam4", "greedy")},
    }
    out["training"]["flops"] = significant(training_flops(out))
    return out


def main(argv=None) -> int:
    import logging

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m nmt.benchmark.run JOB.json RESULT.json", file=sys.stderr)
        return 2
    import os

    logging.basicConfig(level=logging.INFO, format="nmt: %(message)s", stream=sys.stderr)
    for noisy in ("tensorflow", "absl", "matplotlib", "h5py"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    if os.environ.get("NMT_DEBUG") != "1":
        from nmt.quiet import import_tensorflow_quietly

        import_tensorflow_quietly()
    job = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    try:
        result = run_job(job, progress=sys.stderr.isatty())
    except UserError as exc:
        print(f"nmt benchmark: {job.get('name')}: {exc}", file=sys.stderr)
        return 2
    from nmt.io import atomic_write_text

    atomic_write_text(args[1], json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
