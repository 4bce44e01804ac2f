#!/usr/bin/env python
"""Translation speed of a trained Transformer in nmt (TensorFlow) and in CTranslate2, in one run.

Converts the model directory with ``nmt export --format ctranslate2`` (float32, and int8 weights),
then translates the same sentences with each engine, greedy and beam 4, all with the same bound on
the output length and no length penalty (GNMT's and CTranslate2's penalties differ; with none both
searches rank by log-probability). Each timing is the median of --repeats passes after an untimed one;
CTranslate2 runs with as many threads as nmt's TensorFlow uses (the machine's cores). Reports
sentences/s, the ratio to nmt, BLEU/chrF against the references and how many translations equal
nmt's. Writes OUT/NAME.json and .md (OUT: results/ by default) and keeps every row's translations
(gzip) in OUT/NAME_hypotheses/, so that its BLEU and its count of identical translations can be re-checked.

    python scripts/bench_ctranslate2.py --model runs/bench31/transformer --name ctranslate2_decoding
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from nmt.benchinfo import report_options, start_script  # noqa: E402 (after the path)

M30K = ROOT.parent / "shared" / "data" / "multi30k"


def timed(fn, sources, repeats):
    """(translations, median seconds of ``repeats`` passes, seconds of the first pass). The first pass is
    not in the median: it traces TensorFlow's graphs and warms CTranslate2's allocator."""
    start = time.perf_counter()
    fn(sources)
    first = time.perf_counter() - start
    seconds, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn(sources)
        seconds.append(time.perf_counter() - start)
    return out, sorted(seconds)[len(seconds) // 2], first


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="a trained Transformer model directory")
    p.add_argument("--source", default=str(M30K / "test_2016_flickr.en.gz"))
    p.add_argument("--reference", default=str(M30K / "test_2016_flickr.de.gz"))
    p.add_argument("--sentences", type=int, default=1000)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--parallel-batches", type=int, default=None,
                   help="as nmt translate's: batches nmt decodes at once, each op on one thread (default: the CPU "
                        "cores; 1 keeps TensorFlow's default threads); CTranslate2 gets rows with as many workers")
    report_options(p, ROOT, "ctranslate2_decoding")
    args = p.parse_args(argv)
    header = start_script(args)  # refuses a dirty checkout; runs a copy of the code
    if not Path(args.source).is_file():
        sys.exit(f"skipped: {args.source} not found (the real corpora live in ../shared/data)")

    from nmt.cli.common import start_threads

    streams = start_threads(args.parallel_batches)  # as nmt translate does, before TensorFlow's first op
    from nmt import benchinfo
    from nmt.corpora.parallel import read_lines
    from nmt.ctranslate2_export import CTranslate2Translator, convert
    from nmt.evaluation import score
    from nmt.translator import Translator

    sources = read_lines(args.source)[: args.sentences]
    references = read_lines(args.reference)[: args.sentences]
    translator = Translator.load(args.model)
    decode = translator.decode_config
    threads = os.cpu_count() or 1
    rows, outputs = [], {}
    out_stem = Path(args.out) / args.name
    out_stem.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for quantization in ("float32", "int8"):
            convert(args.model, Path(tmp) / quantization, quantization=quantization)
        # One CTranslate2 engine loaded at a time: a second one idle in the process (its own thread pool)
        # slowed the first by about a tenth in a probe, so each is made for its own rows and let go.
        engines = ["nmt (TensorFlow)", "CTranslate2 float32", "CTranslate2 int8"]
        if streams > 1:  # CTranslate2's own way to run batches at once: workers of one thread each
            engines[2:2] = [f"CTranslate2 float32, {streams} workers"]
            engines.append(f"CTranslate2 int8, {streams} workers")
        for engine in engines:
            quantization, _, workers = engine.partition(", ")
            ct2 = translator if engine.startswith("nmt") else CTranslate2Translator(
                Path(tmp) / quantization.split()[-1], intra_threads=1 if workers else threads,
                inter_threads=streams if workers else 1)
            for search, beam in (("greedy", 1), ("beam 4", 4)):
                if isinstance(ct2, Translator):
                    fn = lambda s, beam=beam, nmt=ct2: [h.text for h in nmt.translate(  # noqa: E731
                        s, beam_size=beam, length_penalty=0.0, batch_size=args.batch_size)]
                else:
                    fn = lambda s, beam=beam, ct2=ct2: ct2.translate(  # noqa: E731
                        s, beam_size=beam, length_penalty=0.0, max_length_a=decode.max_length_a,
                        max_length_b=decode.max_length_b, batch_size=args.batch_size)
                out, seconds, first = timed(fn, sources, args.repeats)
                outputs[(search, engine)] = out
                scores = score(out, references)
                base = outputs[(search, "nmt (TensorFlow)")]
                rows.append({"search": search, "engine": engine,
                             "sentences_per_second": round(len(sources) / seconds, 1),
                             "first_pass_seconds": round(first, 2), "bleu": scores.bleu,
                             "chrf": scores.chrf, "bleu_signature": scores.bleu_signature,
                             "identical_to_nmt": sum(a == b for a, b in zip(out, base)),
                             "hypotheses": benchinfo.keep_hypotheses(
                                 out_stem.parent / f"{args.name}_hypotheses" / f"{_slug(search, engine)}.hyp.gz", out)})
                print(json.dumps(rows[-1]), flush=True)
            del ct2, fn  # the CTranslate2 engine's threads go before the next one's start
    rows.sort(key=lambda r: r["search"] != "greedy")  # greedy rows first, engines in their order within each
    for row in rows:
        base = next(r for r in rows if r["search"] == row["search"] and r["engine"] == "nmt (TensorFlow)")
        row["speed_ratio"] = round(row["sentences_per_second"] / base["sentences_per_second"], 2)
    result = {"name": args.name, **header, "versions": {**header["versions"],
                                                        "ctranslate2": __import__("ctranslate2").__version__},
              "model": benchinfo.shown_path(args.model), "source": benchinfo.shown_path(args.source),
              "sentences": len(sources), "batch_size": args.batch_size, "threads": threads, "repeats": args.repeats,
              "parallel_batches": streams,
              "rows": rows}
    out = out_stem
    out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    lines = ["# Decoding speed: nmt (TensorFlow) and CTranslate2 on the same Transformer", "",
             f"Command: `{result['command']}`", benchinfo.markdown_header(result), "",
             benchinfo.machine_line(result), "",
             f"Model: `{benchinfo.shown_path(args.model)}` ({_described(args.model)}); "
             f"{len(sources):,} sentences of `{benchinfo.shown_path(args.source)}`, batches of {args.batch_size}, "
             f"no length penalty, at most ceil({decode.max_length_a}·(S+1)+{decode.max_length_b}) tokens; "
             f"nmt decodes {_batches(streams)}; CTranslate2 runs {threads} threads (in the rows with workers: "
             f"that many workers of one thread each); median of {args.repeats} timed passes.", "",
             "| search | engine | sentences/s | × nmt | first pass (s) | BLEU | chrF | identical to nmt |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['search']} | {r['engine']} | {r['sentences_per_second']:,} | {r['speed_ratio']} | "
                     f"{r['first_pass_seconds']} | {r['bleu']:.2f} | {r['chrf']:.2f} | "
                     f"{r['identical_to_nmt']:,} / {len(sources):,} |")
    lines += ["", "The first pass over all the sentences (not timed in the median) traces TensorFlow's graphs and "
              "warms CTranslate2's allocator."]
    lines += ["", f"BLEU signature: `{rows[0]['bleu_signature']}`", ""]
    out.with_suffix(".md").write_text("\n".join(lines))
    print(out.with_suffix(".md").read_text())


def _described(model_dir) -> str:
    """What the model is, from its config.json: a report outlives the folder it ran on."""
    from nmt.config import Config

    m = Config.load(Path(model_dir) / "config.json").model
    if m.family == "transformer":
        return (f"Transformer, {m.layers} layers, width {m.d_model}, feed-forward {m.ff_dim}, "
                f"{m.transformer_heads} heads")
    return f"LSTM, {m.attention} attention, {m.units} units, embeddings {m.embedding_dim}"


def _batches(streams: int) -> str:
    return ("one batch at a time (TensorFlow's default threads)" if streams == 1
            else f"{streams} batches at once (one thread per op: --parallel-batches {streams})")


def _slug(search: str, engine: str) -> str:
    """A file name for a row: beam4.nmt, greedy.ctranslate2-int8, greedy.ctranslate2-float32-2-workers ..."""
    kind = {"nmt (TensorFlow)": "nmt"}.get(engine, engine.lower().replace(",", "").replace(" ", "-"))
    return f"{search.replace(' ', '')}.{kind}"


if __name__ == "__main__":
    main()
