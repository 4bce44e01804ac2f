#!/usr/bin/env python
"""The attention explorer at scale: file size, time to open and time to switch sentence, in chromium.

Trains a 3-layer, 4-head Transformer briefly on Multi30k en->de (``--steps``; a brief training is
enough for size and speed: the page stores every layer's and head's matrix whatever the weights; a
barely trained model attends more diffusely, which compresses worse, so the size is if anything an
overestimate), or takes a trained one (``--model``), then writes two explorer files with
``nmt.explorer`` exactly as ``nmt explore`` does:

* ``sentences``: the first ``--sentences`` (1,000) test_2016_flickr pairs, force-aligned on their
  references (``nmt explore -s test.en -t test.de``);
* ``long``: one input of ``--long-pieces`` (500) source pieces (``</s>`` included): test sentences
  joined and cut to that many pieces, force-aligned on the joined references of the same sentences.

Each file is opened ``--opens`` times in Debian's chromium (Playwright, every network request refused):
time to open is the page's ``ready`` mark (performance API: from navigation start to the first sentence
drawn). Then ``--switches`` sentences are shown one after another (``explorer.show``, its cache
cleared first, so each switch inflates its matrices), each timed with ``performance.now()`` from the
call until the next animation frame after it. Budget (issue 18): open <= 2 s, switch <= 100 ms,
file <= 20 MB. Writes results/NAME.json and .md with the machine and command.

    python scripts/bench_explorer.py                 # 1,000 sentences, 500 pieces, 400 training steps
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
M30K = ROOT.parent / "shared" / "data" / "multi30k"
BUDGET = {"open_ms": 2000, "switch_ms": 100, "file_mb": 20}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=M30K, help="Multi30k folder (train/test_2016_flickr .en.gz/.de.gz).")
    p.add_argument("--model", type=Path, help="A trained model directory to use instead of training one.")
    p.add_argument("--steps", type=int, default=400, help="Training steps of the Transformer (without --model).")
    p.add_argument("--d-model", type=int, default=256)
    p.add_argument("--ff-dim", type=int, default=512)
    p.add_argument("--vocab-size", type=int, default=8000)
    p.add_argument("--sentences", type=int, default=1000)
    p.add_argument("--long-pieces", type=int, default=500)
    p.add_argument("--opens", type=int, default=3)
    p.add_argument("--switches", type=int, default=100)
    p.add_argument("--chromium", default="/usr/bin/chromium")
    p.add_argument("--name", default="explorer_scale")
    p.add_argument("--out", type=Path, default=ROOT / "results")
    p.add_argument("--work", type=Path, help="Where to keep the model and pages [default: a temporary folder].")
    p.add_argument("--allow-dirty", action="store_true", help="Run on uncommitted changes (the report says so).")
    return p.parse_args(argv)


def train(args, work: Path) -> Path:
    from nmt.config import preset
    from nmt.corpora.parallel import read_parallel
    from nmt.training import Trainer

    pairs = read_parallel(args.data / "train.en.gz", args.data / "train.de.gz")
    valid = read_parallel(args.data / "val.en.gz", args.data / "val.de.gz")[:100]
    config = (preset("base").override("model", family="transformer", layers=3, transformer_heads=4,
                                      d_model=args.d_model, ff_dim=args.ff_dim)
              .override("tokenizer", vocab_size=args.vocab_size)
              .override("train", max_steps=args.steps, eval_every=args.steps, eval_sentences=min(100, len(valid))))
    Trainer(config, work / "model", pairs, valid, progress=False).run()
    return work / "model"


def long_input(translator, sources, targets, pieces: int):
    """Test sentences joined until the source has ``pieces`` pieces (</s> included), cut there; the
    references of the same sentences joined as its target. Returns (source, target, source pieces)."""
    import tensorflow as tf

    src_words, tgt_words, used = [], [], 0
    for s, t in zip(sources, targets):
        src_words += s.split()
        tgt_words += t.split()
        used += 1
        if len(translator.tokenizer.encode_source(tf.constant([" ".join(src_words)]))[0]) >= pieces:
            break
    while (len(src_words) > 1
           and len(translator.tokenizer.encode_source(tf.constant([" ".join(src_words)]))[0]) > pieces):
        src_words.pop()
    source = " ".join(src_words)
    return source, " ".join(tgt_words), len(translator.tokenizer.encode_source(tf.constant([source]))[0])


def write_page(translator, config, path: Path, sources, targets) -> dict:
    from nmt import explorer

    start = time.perf_counter()
    hyps = translator.align(sources, targets)
    aligned = time.perf_counter()
    data = explorer.collect(sources, [(explorer.describe(translator, config, "transformer-3x4"), hyps)], mode="align")
    explorer.write(path, data)
    return {"align_seconds": round(aligned - start, 2), "write_seconds": round(time.perf_counter() - aligned, 2),
            "bytes": path.stat().st_size, "megabytes": round(path.stat().st_size / 1e6, 2),
            "target_pieces": sum(len(h.tokens) for h in hyps), "source_pieces": sum(len(h.source_tokens) for h in hyps)}


SWITCH = """async (order) => {
  const out = [];
  for (const i of order) {
    explorer.cache.clear();
    const t = performance.now();
    await explorer.show(i);
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    out.push(performance.now() - t);
  }
  return out;
}"""


def measure(path: Path, opens: int, switches: int, chromium: str) -> dict:
    from playwright.sync_api import sync_playwright

    url = path.resolve().as_uri()
    refused = []

    def route(r):
        if r.request.url.split("#")[0] == url:
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    load_before = [round(x, 2) for x in os.getloadavg()]  # others' work on the machine slows the browser
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium)
        open_ms = []
        for _ in range(opens):
            page = browser.new_page(viewport={"width": 1500, "height": 950})
            page.route("**/*", route)
            page.goto(url, timeout=120_000)
            page.wait_for_selector("body[data-ready='1']", timeout=120_000)
            open_ms.append(page.evaluate("performance.getEntriesByName('ready')[0].startTime"))
            page.close()
        page = browser.new_page(viewport={"width": 1500, "height": 950})
        page.route("**/*", route)
        page.goto(url, timeout=120_000)
        page.wait_for_selector("body[data-ready='1']", timeout=120_000)
        n = page.evaluate("explorer.data.sentences.length")
        order = [random.Random(0).randrange(n) for _ in range(switches)]
        switch_ms = page.evaluate(SWITCH, order)
        browser.close()
    return {"open_ms": [round(x, 1) for x in open_ms], "open_ms_median": round(statistics.median(open_ms), 1),
            "switch_ms_median": round(statistics.median(switch_ms), 1), "switch_ms_max": round(max(switch_ms), 1),
            "switch_ms_p95": round(sorted(switch_ms)[int(0.95 * (len(switch_ms) - 1))], 1), "switches": len(switch_ms),
            "network_requests_refused": len(refused), "switch_ms_all": [round(x, 1) for x in switch_ms],
            "load_average_1_5_15min": {"before": load_before, "after": [round(x, 2) for x in os.getloadavg()]}}


def main(argv=None) -> None:
    args = parse_args(argv)
    if not (args.data / "test_2016_flickr.en.gz").is_file():
        sys.exit(f"skipped: Multi30k not found at {args.data} (test_2016_flickr.en.gz); give --data")
    if not Path(args.chromium).is_file():
        sys.exit(f"skipped: chromium not found at {args.chromium} (apt-get install chromium); give --chromium")
    from nmt import benchinfo

    header = benchinfo.start_script(args)
    import tempfile

    from nmt.config import Config
    from nmt.corpora.parallel import read_parallel
    from nmt.model_dir import CONFIG
    from nmt.translator import Translator

    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        model = args.model or train(args, work)
        train_seconds = round(time.perf_counter() - started, 1)
        translator, config = Translator.load(model), Config.load(Path(model) / CONFIG)
        test = read_parallel(args.data / "test_2016_flickr.en.gz", args.data / "test_2016_flickr.de.gz")
        sources, targets = [s for s, _ in test[: args.sentences]], [t for _, t in test[: args.sentences]]
        runs = {"sentences": write_page(translator, config, work / "sentences.html", sources, targets)}
        runs["sentences"]["sentences"] = len(sources)
        source, target, pieces = long_input(translator, [s for s, _ in test], [t for _, t in test], args.long_pieces)
        runs["long"] = write_page(translator, config, work / "long.html", [source], [target])
        runs["long"]["sentences"] = 1
        for name in runs:
            runs[name].update(measure(work / f"{name}.html", args.opens, args.switches if name == "sentences" else 3,
                                      args.chromium))
    m = config.model
    result = {**header, "model": {"given": benchinfo.shown_path(args.model) if args.model else None,
                                  "trained_steps": None if args.model else args.steps,
                                  "train_seconds": None if args.model else train_seconds,
                                  "layers": m.layers, "heads": m.transformer_heads, "d_model": m.d_model,
                                  "vocab_size": config.tokenizer.vocab_size},
              "data": benchinfo.shown_path(args.data), "long_source_pieces": pieces, "budget": BUDGET, "runs": runs}
    r = runs["sentences"]
    result["within_budget"] = {"open (median)": r["open_ms_median"] <= BUDGET["open_ms"],
                               "switch (95th percentile)": r["switch_ms_p95"] <= BUDGET["switch_ms"],
                               "switch (every one)": r["switch_ms_max"] <= BUDGET["switch_ms"],
                               "file": r["megabytes"] <= BUDGET["file_mb"]}
    out = args.out / args.name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    out.with_suffix(".md").write_text(markdown(result))
    print(json.dumps({k: runs[k] for k in runs}), flush=True)


def markdown(r: dict) -> str:
    m = r["model"]
    trained = (f"{m['trained_steps']} training steps ({m['train_seconds']} s)" if m["given"] is None
               else f"model {m['given']}")
    rows = ["| file | sentences | pieces (source + target) | size | open (median of opens, ms) "
            "| switch median / p95 / max (ms) | requests refused |",
            "|---|---|---|---|---|---|---|"]
    for name, x in r["runs"].items():
        rows.append(f"| {name} | {x['sentences']:,} | {x['source_pieces']:,} + {x['target_pieces']:,} | "
                    f"{x['megabytes']} MB | {x['open_ms_median']} ({', '.join(map(str, x['open_ms']))}) | "
                    f"{x['switch_ms_median']} / "
                    f"{x['switch_ms_p95']} / {x['switch_ms_max']} | {x['network_requests_refused']} |")
    b = r["budget"]
    return "\n".join([
        "# The attention explorer at scale", "",
        f"Command: `{r['command']}`  ", benchinfo_header(r) + "  ",
        f"Machine: {r['machine'].get('cpu', '?')}, {r['machine'].get('cores', '?')} cores; chromium headless.", "",
        f"A Transformer of {m['layers']} layers x {m['heads']} heads "
        f"(d_model {m['d_model']}, vocabulary {m['vocab_size']}), "
        f"{trained}; Multi30k test_2016_flickr ({r['data']}) force-aligned on its references. The long input has "
        f"{r['long_source_pieces']} source pieces. Every layer, head and mean view is stored (4 x 5 = 20 views).", "",
        *rows, "",
        f"Budget for the 1,000 sentences: open <= {b['open_ms']} ms, switch <= {b['switch_ms']} ms, file <= "
        f"{b['file_mb']} MB: " + "; ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in r["within_budget"].items())
        + ".", "",
        "Load average (1, 5, 15 min) of the machine around the measurements, which other work shared: " +
        "; ".join(f"{name} {x['load_average_1_5_15min']['before']} before, {x['load_average_1_5_15min']['after']} after"
                  for name, x in r["runs"].items()) + ". Every switch time is in the JSON report.", ""])


def benchinfo_header(r: dict) -> str:
    from nmt.benchinfo import markdown_header

    return markdown_header(r)


if __name__ == "__main__":
    main()
