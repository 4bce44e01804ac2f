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
  heads and for each layer (and head), in each direction and symmetrised.

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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
DIRECTIONS = (("en", "fr"), ("fr", "en"))
SLUG = {"predicting step": "predict", "Shift-Att": "shift", "full context": "full"}  # in file names, in this order


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
    from nmt.benchinfo import start_script

    header = start_script(args)  # refuses a dirty checkout; runs a copy of the code
    from nmt import alignment as al, benchinfo
    from nmt.alignment import format_pharaoh, read_links, symmetrisation as sym

    out, work = Path(args.out), Path(args.work)
    if work.exists():
        import shutil

        shutil.rmtree(work)
    test = {lang: (gold_dir / f"test.{lang}").read_text(encoding="utf-8").splitlines() for lang in ("en", "fr")}
    gold = read_links(gold_dir / "gold.wa", "gold", 0, test["en"], test["fr"])
    data = prepare(m30k, test, work / "data", args.train_pairs)
    rows: list[dict] = []
    links_dir = out / f"{args.name}_links"
    links_dir.mkdir(parents=True, exist_ok=True)

    def score(system, direction, extraction, layer, head, links, seconds=None):
        r = al.alignment_error_rate(links, gold)
        rows.append({"system": system, "direction": direction, "extraction": extraction, "layer": layer, "head": head,
                     **r.to_dict(), **({"train_seconds": round(seconds, 1)} if seconds is not None else {})})
        print(json.dumps(rows[-1]), flush=True)
        return r

    eflomal_seconds, directional, everything = run_eflomal(data, len(gold), work / "eflomal")
    symmetrised_all(score, "eflomal", "-", "-", "-", directional, eflomal_seconds)
    for method in ("en-fr", "grow-diag-final-and"):
        write_links(links_dir / f"eflomal.{method}.wa", directional[method] if method in directional
                    else _sym(directional, method))
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
            cmd = ["benchmark", "--models", models, "--minutes", str(args.minutes), "--steps", args.steps,
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
            subprocess.run([*benchinfo.python_module("nmt"), *cmd],
                           check=True, cwd=ROOT)  # on this run's copy of the code
            made = json.loads((out / f"{args.name}_bleu_{src}{tgt}{suffix}" / "report.json").read_text())
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
            write_links(links_dir / f"{model}{tag}.{SLUG[extraction]}.grow-diag.wa", _sym(per_direction, "grow-diag"))
    report = {**header, "benchmark_commands": commands, "budget": {"steps": args.steps, "minutes_cap": args.minutes},
              "guided": {"models": guided, "links": f"eflomal {args.guide_with} on the training text",
                         **({"settings": forced["guided"]} if forced["guided"] else {})},
              "data": data["summary"], "test_sentences": len(gold),
              "gold_links": {"sure": sum(len(g.sure) for g in gold), "possible": sum(len(g.possible) for g in gold)},
              "eflomal": {"version": _version("eflomal"), "train_seconds": round(eflomal_seconds, 1)},
              "models": {d: [{"name": m["name"], "steps": m["training"]["steps"],
                              "train_seconds": m["training"]["train_seconds"],
                              "test_bleu_beam4": m["test"]["beam4"]["bleu"]} for m in r["models"]]
                         for d, r in bleu.items()},
              "links": benchinfo.shown_path(links_dir), "plots": plots, "rows": rows}
    (out / f"{args.name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / f"{args.name}.md").write_text(markdown(report, args.name))
    print((out / f"{args.name}.md").read_text())


def markdown(report: dict, name: str) -> str:
    from nmt import benchinfo

    rows = report["rows"]
    best = lambda **kw: min((r for r in rows if all(r[k] == v for k, v in kw.items())), key=lambda r: r["aer"])  # noqa: E731
    fmt = lambda r: f"{100 * r['aer']:.1f} | {100 * r['precision']:.1f} | {100 * r['recall']:.1f}"  # noqa: E731
    where = lambda r: f"{r['direction']}, layer {r['layer']}, head {r['head']}"  # noqa: E731
    systems = [("eflomal", "-")] + [(m["name"], e) for m in report["models"]["en-fr"] for e in SLUG
                                    if any(r["system"] == m["name"] and r["extraction"] == e for r in rows)]
    summary = []
    for system, extraction in systems:
        fixed = {"direction": "en-fr", "layer": "-" if system == "eflomal" else "mean",
                 "head": "-" if system == "eflomal" else "mean"}
        label_fixed = "fixed: en->fr alone, layer and head mean"
        guided_head = _guided_setting(rows, system, report)
        if guided_head:
            fixed, label_fixed = {"direction": "en-fr", **guided_head}, "fixed: en->fr alone, the guided head"
        for label, kw in (("best on the gold", {}), (label_fixed, fixed)):
            try:
                r = best(system=system, extraction=extraction, **kw)
            except ValueError:
                continue
            summary.append(f"| {system} | {extraction} | {label} | {where(r)} | {fmt(r)} |")
    t = lambda **kw: best(system="transformer", **kw)  # noqa: E731

    def t_symmetrised(extraction):  # the Transformer's best AER over the symmetrisation methods and layers
        return min(r["aer"] for r in rows if r["system"] == "transformer" and r["extraction"] == extraction
                   and r["direction"] not in ("en-fr", "fr-en"))

    gains = []
    try:  # each line where its systems ran (a run may hold only one family)
        ours = min((r for r in rows if r["system"] != "eflomal"), key=lambda r: r["aer"])
        theirs = best(system="eflomal")
        gains = [f"- best of the project ({ours['system']}, {ours['extraction']}, {where(ours)}): "
                 f"AER {100 * ours['aer']:.1f} "
                 f"against eflomal's best ({theirs['direction']}) {100 * theirs['aer']:.1f}: "
                 f"{100 * (ours['aer'] - theirs['aer']):+.1f} points;"]
    except ValueError:
        pass
    try:
        base = t(extraction="predicting step", direction="en-fr", layer="mean")
        gains += [f"- Transformer, today's extraction (en->fr, mean): {100 * base['aer']:.1f}; with Shift-Att "
                 f"{100 * t(extraction='Shift-Att', direction='en-fr', layer='mean')['aer']:.1f}; "
                 "best layer, en->fr alone: predicting step "
                 f"{100 * t(extraction='predicting step', direction='en-fr')['aer']:.1f}, Shift-Att "
                 f"{100 * t(extraction='Shift-Att', direction='en-fr')['aer']:.1f}; "
                 "symmetrised, best method and layer: predicting step "
                 f"{100 * t_symmetrised('predicting step'):.1f}, "
                 f"Shift-Att {100 * t_symmetrised('Shift-Att'):.1f}."]
    except ValueError:
        pass
    try:
        for system in sorted({r["system"] for r in rows if r["system"].endswith("+guided")}):
            plain, head = system.removesuffix("+guided"), _guided_setting(rows, system, report)
            trained = report["guided"].get("settings", {}).get(system, {}).get("extraction", "predicting step")
            alone = best(system=system, extraction=trained, direction="en-fr", **head)
            symmetrised = min((r for r in rows if r["system"] == system and r["extraction"] == trained
                               and r["direction"] not in ("en-fr", "fr-en")), key=lambda r: r["aer"])
            unguided = [r for r in rows if r["system"] == plain and r["extraction"] == "predicting step"
                        and (r["direction"], r["layer"], r["head"]) == ("en-fr", "mean", "mean")]
            versus = f", against {plain}'s layer and head mean {100 * unguided[0]['aer']:.1f}" if unguided else ""
            gains.append(f"- {system} (eflomal's links of the training text), its guided head"
                         f"{f' ({trained})' if trained != 'predicting step' else ''} en->fr alone: "
                         f"{100 * alone['aer']:.1f}{versus}; "
                         f"symmetrised ({symmetrised['direction']}, layer {symmetrised['layer']}): "
                         f"{100 * symmetrised['aer']:.1f}.")
    except ValueError:  # a run without one of the systems
        pass
    models = [f"| {d} | {m['name']} | {m['steps']:,} | {m['train_seconds'] / 60:.1f} | {m['test_bleu_beam4']} |"
              for d, ms in report["models"].items() for m in ms]
    full = [f"| {r['system']} | {r['extraction']} | {r['direction']} | {r['layer']} | {r['head']} | {fmt(r)} |"
            for r in rows]
    d = report["data"]
    return "\n".join([
        f"# Attention as alignment on the English–French Hansards gold ({name})", "",
        f"Command: `{report['command']}`", benchinfo.markdown_header(report), "",
        f"Training text (every system): {d['train_pairs']:,} pairs = Multi30k en–fr train + the "
        f"{d['of_which_test_pairs']} Hansards test pairs (sentences, not links), "
        f"in the gold's conventions ({d['conventions']}). Gold: "
        f"{report['gold_links']['sure']:,} sure and {report['gold_links']['possible']:,} possible links on "
        f"{report['test_sentences']} pairs. "
        f"eflomal {report['eflomal']['version']}: {report['eflomal']['train_seconds']:.0f} s for both directions. "
        f"Models: `{'`, `'.join(report['benchmark_commands'])}`.", "",
        "| direction | model | steps | training minutes | BLEU on the Hansards pairs (beam 4) |",
        "|---|---|---|---|---|", *models, "",
        "## Best setting of each system (AER, precision, recall in %; lower AER is better)", "",
        "| system | extraction | chosen from | setting | AER | precision | recall |",
        "|---|---|---|---|---|---|---|", *summary, "",
        "## Targets of issue 17 (AER in %, same run)", "", *gains, "",
        "Choosing the best setting on the test gold favours systems with more settings; "
        "the en->fr rows of the mean are the setting fixed in advance.", "",
        *[f"![{p}]({p})" for p in report["plots"]], "",
        "## Every row", "",
        "| system | extraction | direction / symmetrisation | layer | head | AER | precision | recall |",
        "|---|---|---|---|---|---|---|---|", *full, ""])


def _guided_setting(rows: list, system: str, report: dict | None = None) -> dict:
    """The layer and head a guided system trained, or {}: as its configuration recorded it in the report,
    else (reports before ``guided.settings``) the last layer's head 0, 'mean' for one head."""
    if not system.endswith("+guided"):
        return {}
    recorded = ((report or {}).get("guided") or {}).get("settings", {}).get(system)
    if recorded:
        return {"layer": recorded["layer"], "head": recorded["head"]}
    layers = [r["layer"] for r in rows if r["system"] == system and isinstance(r["layer"], int)]
    heads = [r["head"] for r in rows if r["system"] == system and isinstance(r["head"], int)]
    return {"layer": max(layers) if layers else "mean", "head": 0 if heads else "mean"}


def prepare(m30k: Path, test: dict, folder: Path, limit: int | None) -> dict:
    """The shared training text: Multi30k train in gold conventions + the test pairs, lowercased; the
    validation captions likewise; the test pairs lowercased (their tokens are the gold's)."""
    from nmt import benchinfo
    from nmt.corpora.conventions import to_gold_conventions
    from nmt.corpora.parallel import read_lines

    folder.mkdir(parents=True)
    files: dict = {"train": {}, "valid": {}, "test": {}}
    for lang in ("en", "fr"):
        train = read_lines(m30k / f"train.{lang}.gz")[:limit]
        valid = read_lines(m30k / f"val.{lang}.gz")
        converted = {"train": to_gold_conventions(train, lang, lowercase=True) + [s.lower() for s in test[lang]],
                     "valid": to_gold_conventions(valid, lang, lowercase=True), "test": [s.lower() for s in test[lang]]}
        for split, lines in converted.items():
            files[split][lang] = folder / f"{split}.{lang}"
            files[split][lang].write_text("\n".join(lines) + "\n", encoding="utf-8")
    files["summary"] = {"train_pairs": len(converted["train"]), "of_which_test_pairs": len(test["en"]),
                        "valid_pairs": len(converted["valid"]), "multi30k": benchinfo.shown_path(m30k),
                        "conventions": "nmt.corpora.conventions (sacremoses " + _version("sacremoses")
                                       + "), lowercased"}
    return files


def run_eflomal(data: dict, n_test: int, folder: Path):
    """eflomal on the whole training text (both directions): (seconds, the links of its last ``n_test``
    pairs, the links of every pair)."""
    import eflomal

    folder.mkdir(parents=True)
    fwd, rev = folder / "forward.wa", folder / "reverse.wa"
    start = time.perf_counter()
    with open(data["train"]["en"], encoding="utf-8") as en, open(data["train"]["fr"], encoding="utf-8") as fr:
        eflomal.Aligner().align(en, fr, links_filename_fwd=str(fwd), links_filename_rev=str(rev), quiet=True)
    seconds = time.perf_counter() - start
    read = lambda path: [_links(line) for line in path.read_text().splitlines()]  # noqa: E731
    everything = {"en-fr": read(fwd), "fr-en": read(rev)}  # both files are (English i, French j)
    return seconds, {k: v[-n_test:] for k, v in everything.items()}, everything


def model_alignments(systems, work: Path, test: dict, score, bleu) -> dict:
    """Force-align the test pairs with every (system name, suffix of the direction's work folder, model)
    in both directions; score each extraction alone and symmetrised."""
    from nmt.alignment import symmetrisation as sym, writers as ax
    from nmt.translator import Translator

    links: dict = {}
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
                    shown = trained or ("mean", "mean")
                    if (layer, head) == shown and src == "en":  # drawn: the guided head, else the mean
                        examples[(model, extraction)] = aligned
    for (model, extraction, layer, head), per_direction in links.items():
        symmetrised_all(score, model, extraction, layer, head, per_direction)
    return {"links": links, "examples": examples, "guided": guided}


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


def write_links(path: Path, links: list) -> None:
    from nmt.alignment import format_pharaoh

    with gzip.open(path.with_suffix(path.suffix + ".gz"), "wt", encoding="utf-8") as f:
        f.write("".join(format_pharaoh(sorted(x)) + "\n" for x in links))


def _links(line: str) -> list:
    return [tuple(int(n) for n in token.split("-")) for token in line.split()]


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
