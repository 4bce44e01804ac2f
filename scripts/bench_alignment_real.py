#!/usr/bin/env python
"""Attention as word alignment on real language: the English–French Hansards gold, against eflomal.

Every system trains on the same text: the Multi30k en–fr training captions brought to the gold's
token conventions (Moses tokens, French contractions undone: ``nmt.corpora.conventions``) plus the
447 Hansards test pairs themselves (their sentences, never their links: the standard setting of
unsupervised aligners), all lowercased. Then:

* **eflomal** (PyPI) aligns that bitext in both directions; its two directions are scored alone and
  symmetrised by every method of ``nmt.alignment.symmetrisation``;
* ``nmt benchmark`` trains ``lstm-additive`` and ``transformer`` en->fr and fr->en on the same text
  and budget (the Hansards pairs as its test set, Multi30k's validation captions for validation);
  each model force-aligns the test pairs; links come from the step that predicts each target word
  (today's extraction) and from the step that reads it (Shift-Att), for the mean over layers and
  heads and for each layer (and head), in each direction and symmetrised: the hard links by each method
  of ``nmt.alignment.symmetrisation``, and the two directions' attention by ``nmt.alignment.soft``
  (mean and geometric mean at thresholds 0.1 ... 0.9 for the guided head, 0.5 elsewhere).

Everything is scored with ``nmt.alignment.alignment_error_rate`` against ``gold.wa`` (AER, precision,
recall). Writes OUT/NAME.json and OUT/NAME.md, heatmaps with gold and predicted links of a few
sentences, every system's links (OUT/NAME_links/), and the two ``nmt benchmark`` reports.

    python scripts/bench_alignment_real.py

The defaults are the setting issue 17 chose (``results/alignment_hansards_guided_inter_3000*.md``): both
families guided by eflomal's intersection links of the training text, the Transformer at the step that
reads each word (Shift-Att), 900 LSTM and 3,000 Transformer steps per direction (about 1.5 hours on 2
cores). ``--models lstm-additive,transformer`` adds the same models trained without guidance, as the
first report did (``--guided '' --guide-with grow-diag-final-and --steps lstm-additive=1200,transformer=1000``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
DIRECTIONS = (("en", "fr"), ("fr", "en"))


def main(argv=None):
    from nmt.benchinfo import report_options

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--multi30k", default=str(SHARED / "multi30k"), help="folder of Multi30k's train/val .en.gz/.fr.gz")
    p.add_argument("--gold-dir", default=str(SHARED / "align" / "enfr_hansards"),
                   help="test.en, test.fr, gold.wa (0-based)")
    p.add_argument("--models", default="",
                   help="models also trained without guided alignment (e.g. lstm-additive,transformer)")
    p.add_argument("--steps", default="lstm-additive=900,transformer=3000", help="passed to nmt benchmark --steps")
    p.add_argument("--minutes", type=float, default=60.0,
                   help="time cap per model (with --steps, whichever ends first)")
    p.add_argument("--guided", default="lstm-additive,transformer",
                   help="models trained again with guided alignment on eflomal's links of the training text "
                        "('' for none)")
    p.add_argument("--guide-with", default="intersection",
                   help="the symmetrisation of eflomal's links they follow")
    p.add_argument("--train-pairs", type=int, help="use only the first N Multi30k training pairs (a quick check)")
    p.add_argument("--set", action="append", default=["transformer:train.guided_shift=true"],
                   help="passed to nmt benchmark --set, after the default transformer:train.guided_shift=true (the "
                        "guided head learns at the step that reads each word; =false undoes it)")
    p.add_argument("--preset", help="passed to nmt benchmark --preset [default: base]")
    p.add_argument("--vocab-size", type=int, help="passed to nmt benchmark --vocab-size")
    p.add_argument("--plot", default="40,80,126", help="test sentences (0-based) to draw with gold links")
    p.add_argument("--resume", action="store_true",
                   help="reuse what a stopped run of the same command left in --work (eflomal's links, every "
                        "model whose nmt benchmark report was written) and run the rest")
    report_options(p, ROOT, "alignment_hansards", work="alignment_hansards")
    args = p.parse_args(argv)
    gold_dir, m30k = Path(args.gold_dir), Path(args.multi30k)
    for path in (gold_dir / "test.en", gold_dir / "test.fr", gold_dir / "gold.wa", m30k / "train.fr.gz"):
        if not path.exists():
            sys.exit(f"error: {path} not found: give --gold-dir and --multi30k (see ../shared/data/README.md)")
    try:
        import eflomal  # noqa: F401
    except ImportError:
        sys.exit("error: this benchmark trains eflomal beside the models: pip install eflomal")
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from hansards_report import SLUG, markdown

    from nmt.benchinfo import start_script

    header = start_script(args)  # refuses a dirty checkout; runs a copy of the code
    from nmt import alignment as al, benchinfo
    from nmt.alignment import format_pharaoh, read_links, symmetrisation as sym

    out, work = Path(args.out), Path(args.work)
    settings = {k: getattr(args, k) for k in ("models", "steps", "minutes", "guided", "guide_with", "train_pairs",
                                               "set", "preset", "vocab_size", "multi30k", "gold_dir", "name", "out")}
    if work.exists() and not args.resume:
        import shutil

        shutil.rmtree(work)
    recorded = work / "settings.json"
    if args.resume and recorded.is_file() and json.loads(recorded.read_text()) != settings:
        sys.exit(f"error: {work} holds a run with other settings ({work / 'settings.json'}); --resume continues the "
                 "same command only")
    work.mkdir(parents=True, exist_ok=True)
    (work / "settings.json").write_text(json.dumps(settings, indent=1) + "\n")
    test = {lang: (gold_dir / f"test.{lang}").read_text(encoding="utf-8").splitlines() for lang in ("en", "fr")}
    gold = read_links(gold_dir / "gold.wa", "gold", 0, test["en"], test["fr"])
    data = prepare(m30k, test, work / "data", args.train_pairs)
    rows: list[dict] = []
    links_dir, kept_links = out / f"{args.name}_links", {}  # written at the end, with the report
    resumed = []

    def score(system, direction, extraction, layer, head, links, seconds=None):
        r = al.alignment_error_rate(links, gold)
        rows.append({"system": system, "direction": direction, "extraction": extraction, "layer": layer, "head": head,
                     **r.to_dict(), **({"train_seconds": round(seconds, 1)} if seconds is not None else {})})
        print(json.dumps(rows[-1]), flush=True)
        return r

    eflomal_seconds, directional, everything, reused = run_eflomal(data, len(gold), work / "eflomal", args.resume)
    resumed += ["eflomal"] if reused else []
    symmetrised_all(score, "eflomal", "-", "-", "-", directional, eflomal_seconds)
    for method in ("en-fr", "grow-diag-final-and"):
        kept_links[f"eflomal.{method}.wa"] = directional[method] if method in directional else _sym(directional, method)
    guide = _sym(everything, args.guide_with)  # (en i, fr j) for every training pair
    bleu, commands = {}, []
    guided = [m for m in args.guided.split(",") if m]
    plain = [m for m in args.models.split(",") if m]
    for src, tgt in DIRECTIONS:
        links_file = work / "data" / f"train.{src}-{tgt}.{args.guide_with}.links"  # source word first
        links_file.write_text("".join(format_pharaoh(sorted(x if src == "en" else sym.transpose(x))) + "\n"
                                      for x in guide))
        for models, suffix, extra in ((",".join(plain), "", []),
                                      (",".join(guided), "_guided", ["--train-links", links_file])):
            if not models:
                continue
            shown = benchinfo.shown_path  # the command runs from the repository root, and reads as it ran
            cmd = ["benchmark", "--models", models, "--minutes", str(args.minutes),
                   "--steps", steps_for(args.steps, models.split(",")),
                   "--out", shown(out / f"{args.name}_bleu_{src}{tgt}{suffix}"),
                   "--work", shown(work / f"{src}{tgt}{suffix}"),
                   *sum((["--set", s] for s in args.set), []), *[shown(x) if isinstance(x, Path) else x for x in extra]]
            for split in ("train", "valid", "test"):
                cmd += [f"--{split}-src", shown(data[split][src]), f"--{split}-tgt", shown(data[split][tgt])]
            for option, value in (("--preset", args.preset), ("--vocab-size", args.vocab_size)):
                if value is not None:
                    cmd += [option, str(value)]
            if args.allow_dirty:
                cmd.append("--allow-dirty")
            commands.append(" ".join(["nmt", *cmd]))
            made_file = out / f"{args.name}_bleu_{src}{tgt}{suffix}" / "report.json"
            if args.resume and _finished(made_file, data["train"][src]):
                resumed.append(commands[-1])
            else:
                subprocess.run([*benchinfo.python_module("nmt"), *cmd],
                               check=True, cwd=ROOT)  # on this run's copy of the code
            made = json.loads(made_file.read_text())
            for m in made["models"]:
                m["name"] += "+guided" if suffix else ""
            bleu.setdefault(f"{src}-{tgt}", {"models": []})["models"] += made["models"]
    systems = [(m, "", m) for m in plain] + [(f"{m}+guided", "_guided", m) for m in guided]
    forced = model_alignments(systems, work, test, score, bleu)
    plots = draw(forced, test, gold, [int(n) for n in args.plot.split(",") if n], out, args.name)
    for (model, extraction, layer, head), per_direction in forced["links"].items():
        setting = forced["guided"].get(model)
        if (layer, head) == ("mean", "mean") or (setting and (layer, head) == (setting["layer"], setting["head"])):
            tag = "" if (layer, head) == ("mean", "mean") else f".layer{layer}.head{head}"
            kept_links[f"{model}{tag}.{SLUG[extraction]}.grow-diag.wa"] = _sym(per_direction, "grow-diag")
            if setting:  # the soft setting fixed in advance for guided models, so its figures re-score from files
                kept_links[f"{model}{tag}.{SLUG[extraction]}.{KEPT_SOFT[0]}-{KEPT_SOFT[1]}.wa"] = _soft(
                    forced["matrices"][(model, extraction, layer, head)], *KEPT_SOFT)
    links_dir.mkdir(parents=True, exist_ok=True)
    for file, links in kept_links.items():
        write_links(links_dir / file, links)
    report = {**header, "benchmark_commands": commands, "resumed": resumed,
              "budget": {"steps": args.steps, "minutes_cap": args.minutes},
              "guided": {"models": guided, "links": f"eflomal {args.guide_with} on the training text",
                         **({"settings": forced["guided"]} if forced["guided"] else {})},
              "data": data["summary"], "test_sentences": len(gold),
              "gold_links": {"sure": sum(len(g.sure) for g in gold), "possible": sum(len(g.possible) for g in gold)},
              "eflomal": {"version": version("eflomal"),
                          "train_seconds": None if eflomal_seconds is None else round(eflomal_seconds, 1)},
              "models": {d: [{"name": m["name"], "steps": m["training"]["steps"],
                              "train_seconds": m["training"]["train_seconds"],
                              "test_bleu_beam4": m["test"]["beam4"]["bleu"]} for m in r["models"]]
                         for d, r in bleu.items()},
              "links": benchinfo.shown_path(links_dir), "plots": plots, "rows": rows}
    (out / f"{args.name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / f"{args.name}.md").write_text(markdown(report, args.name))
    print((out / f"{args.name}.md").read_text())


def prepare(m30k: Path, test: dict, folder: Path, limit: int | None) -> dict:
    """The shared training text: Multi30k train in gold conventions + the test pairs, lowercased; the
    validation captions likewise; the test pairs lowercased (their tokens are the gold's)."""
    from nmt import benchinfo
    from nmt.corpora.conventions import to_gold_conventions
    from nmt.corpora.parallel import read_lines

    folder.mkdir(parents=True, exist_ok=True)
    files: dict = {"train": {}, "valid": {}, "test": {}}
    for lang in ("en", "fr"):
        train = read_lines(m30k / f"train.{lang}.gz")[:limit]
        valid = read_lines(m30k / f"val.{lang}.gz")
        converted = {"train": to_gold_conventions(train, lang, lowercase=True) + [s.lower() for s in test[lang]],
                     "valid": to_gold_conventions(valid, lang, lowercase=True), "test": [s.lower() for s in test[lang]]}
        for split, lines in converted.items():
            files[split][lang] = path = folder / f"{split}.{lang}"
            text = "\n".join(lines) + "\n"
            if not path.is_file() or path.read_text(encoding="utf-8") != text:  # unchanged: its time stays
                path.write_text(text, encoding="utf-8")
    files["summary"] = {"train_pairs": len(converted["train"]), "of_which_test_pairs": len(test["en"]),
                        "valid_pairs": len(converted["valid"]), "multi30k": benchinfo.shown_path(m30k),
                        "conventions": "nmt.corpora.conventions (sacremoses " + version("sacremoses")
                                       + "), lowercased"}
    return files


def run_eflomal(data: dict, n_test: int, folder: Path, resume: bool = False):
    """eflomal on the whole training text (both directions): (seconds, the links of its last ``n_test``
    pairs, the links of every pair, whether they are reused). ``resume``: read the links a finished earlier
    run left in ``folder`` (seconds as it recorded them, None if it did not)."""
    import eflomal

    fwd, rev, done = folder / "forward.wa", folder / "reverse.wa", folder / "done"
    reused = resume and (done.is_file() or (fwd.is_file() and rev.is_file() and _finished(rev, data["train"]["en"])))
    if reused:
        seconds = json.loads(done.read_text())["seconds"] if done.is_file() else None
        done.write_text(json.dumps({"seconds": seconds}))
    else:
        folder.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        with open(data["train"]["en"], encoding="utf-8") as en, open(data["train"]["fr"], encoding="utf-8") as fr:
            eflomal.Aligner().align(en, fr, links_filename_fwd=str(fwd), links_filename_rev=str(rev), quiet=True)
        seconds = time.perf_counter() - start
        done.write_text(json.dumps({"seconds": seconds}))
    from nmt.alignment.pharaoh import parse_pharaoh

    read = lambda path: [sorted(parse_pharaoh(line).sure) for line in path.read_text().splitlines()]  # noqa: E731
    everything = {"en-fr": read(fwd), "fr-en": read(rev)}  # both files are (English i, French j)
    return seconds, {k: v[-n_test:] for k, v in everything.items()}, everything, reused


def model_alignments(systems, work: Path, test: dict, score, bleu) -> dict:
    """Force-align the test pairs with every (system name, suffix of the direction's work folder, model)
    in both directions; score each extraction alone and symmetrised."""
    from nmt.alignment import symmetrisation as sym, writers as ax
    from nmt.translator import Translator

    links: dict = {}
    matrices: dict = {}  # the same keys: each direction's word matrices, (English i, French j)
    examples: dict = {}
    guided: dict = {}  # guided system -> the layer, head and extraction its configuration trained
    for src, tgt in DIRECTIONS:
        sources, targets = [s.lower() for s in test[src]], [s.lower() for s in test[tgt]]
        for model, suffix, folder in systems:
            translator = Translator.load(work / f"{src}{tgt}{suffix}" / folder)
            layers, heads = translator.model.attention_layers, translator.model.attention_heads
            trained = None
            if model.endswith("+guided"):
                tc = json.loads((work / f"{src}{tgt}{suffix}" / folder / "config.json").read_text())["train"]
                how = ("full context" if tc.get("guided_full_context") else "Shift-Att" if tc.get("guided_shift")
                       else "predicting step")
                trained = (tc["guided_layer"] % layers, tc["guided_head"]) if heads > 1 else ("mean", "mean")
                guided[model] = {"layer": trained[0], "head": trained[1], "extraction": how}
            settings = [("mean", "mean")] + [(layer, "mean") for layer in range(layers) if layers > 1]
            settings += [(layer, head) for layer in range(layers) for head in range(heads) if heads > 1]
            extractions = [("predicting step", False, False), ("Shift-Att", True, False)]
            if trained and how == "full context":  # its own pass, read at the rows it was trained on
                extractions.append(("full context", bool(tc.get("guided_shift")), True))
            for extraction, shift, full in extractions:
                forced = translator.align(sources, targets, shift=shift, full_context=full)
                for layer, head in settings:
                    aligned = ax.reduce_all(forced, layer, head)
                    found = [a.links if src == "en" else sorted(sym.transpose(a.links))
                             for a in aligned]  # (en i, fr j)
                    score(model, f"{src}-{tgt}", extraction, layer, head, found)
                    if head == "mean" or (layer, head) == trained:  # symmetrised below
                        links.setdefault((model, extraction, layer, head), {})[f"{src}-{tgt}"] = found
                        matrices.setdefault((model, extraction, layer, head), {})[f"{src}-{tgt}"] = [
                            a.word.T if src == "en" else a.word for a in aligned]
                    shown = trained or ("mean", "mean")
                    if (layer, head) == shown and src == "en":  # drawn: the guided head, else the mean
                        examples[(model, extraction)] = aligned
    for (model, extraction, layer, head), per_direction in links.items():
        symmetrised_all(score, model, extraction, layer, head, per_direction)
        trained = guided.get(model)
        on_head = trained is not None and (layer, head) == (trained["layer"], trained["head"])
        soft_all(score, model, extraction, layer, head, matrices[(model, extraction, layer, head)],
                 SWEEP if on_head else (0.5,))
    return {"links": links, "matrices": matrices, "examples": examples, "guided": guided}


SWEEP = tuple(round(0.1 * k, 1) for k in range(1, 10))  # soft thresholds tried on the guided head
KEPT_SOFT = ("soft-geometric", 0.5)  # the guided head's soft setting fixed in advance (after seed 3): its links kept


def soft_all(score, system, extraction, layer, head, per_direction, thresholds) -> None:
    """Rows ``soft-mean 0.5`` ...: the two directions' word matrices combined and thresholded."""
    from nmt.alignment.soft import COMBINE

    for combine in COMBINE:
        for threshold in thresholds:
            score(system, f"soft-{combine} {threshold}", extraction, layer, head,
                  _soft(per_direction, f"soft-{combine}", threshold))


def _soft(per_direction: dict, method: str, threshold: float) -> list:
    from nmt.alignment.soft import soft_symmetrise

    return [soft_symmetrise(f, b, method, threshold) for f, b in zip(per_direction["en-fr"], per_direction["fr-en"])]


def steps_for(steps: str, models: list) -> str:
    """``--steps`` as ``nmt benchmark --models MODELS`` takes it: the ``name=N`` entries of other models dropped
    (so the default, which names both families, serves a run of one)."""
    entries = [e for e in steps.split(",") if e]
    kept = [e for e in entries if "=" not in e or e.split("=", 1)[0].strip() in models]
    return ",".join(kept) or steps


def symmetrised_all(score, system, extraction, layer, head, per_direction, seconds=None):
    from nmt.alignment.symmetrisation import METHODS

    for method in METHODS:
        score(system, method, extraction, layer, head, _sym(per_direction, method), seconds)
    if system == "eflomal":
        for direction, found in per_direction.items():
            score(system, direction, extraction, layer, head, found, seconds)


def _sym(per_direction: dict, method: str) -> list:
    from nmt.alignment import symmetrise

    return [symmetrise(f, b, method) for f, b in zip(per_direction["en-fr"], per_direction["fr-en"])]


def draw(forced: dict, test: dict, gold: list, sentences: list, out: Path, name: str) -> list:
    """en->fr heatmaps (French rows, English columns) with the gold (squares) and predicted (dots) links."""
    from hansards_report import SLUG

    from nmt.alignment import plot_matrix

    paths = []
    for (model, extraction), aligned in forced["examples"].items():
        for n in sentences:
            if n >= len(aligned):
                continue
            a = aligned[n]
            path = out / f"{name}_{model}_{SLUG[extraction]}_{n}.png"
            plot_matrix(a.word, test["en"][n].split(), test["fr"][n].split(), path,
                        title=f"{model} en->fr, {extraction}, sentence {n}", links=a.links, gold=gold[n])
            paths.append(path.name)
    return paths


def _finished(path: Path, after: Path) -> bool:
    """A file a step writes when it ends, written after ``after`` (its input): that step is done."""
    return path.is_file() and path.stat().st_mtime >= after.stat().st_mtime


def write_links(path: Path, links: list) -> None:
    from nmt.alignment import format_pharaoh

    text = "".join(format_pharaoh(sorted(x)) + "\n" for x in links)
    # mtime 0: the same links give the same bytes, so a re-scored run changes no kept file that it did not change
    path.with_suffix(path.suffix + ".gz").write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
