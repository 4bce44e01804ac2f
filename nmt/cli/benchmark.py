"""nmt benchmark: train several models on the same data, tokenizer and budget; write one report."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import click

from nmt.cli.common import corpus_options


def _data_spec(multi30k, pair, train_src, train_tgt, train_tsv, valid_src, valid_tgt, valid_tsv, test_src, test_tgt,
               test_tsv):
    """The job's data section and a one-line description; checks that every file exists."""
    from nmt.benchinfo import shown_path
    from nmt.errors import UserError

    if any((train_tsv, valid_tsv, test_tsv)):
        raise UserError("the benchmark reads parallel files (--train-src/--train-tgt ...), not TSV files")
    given = [train_src, train_tgt, valid_src, valid_tgt, test_src, test_tgt]
    if multi30k and any(given):
        raise UserError("give either --multi30k DIR or the --train/--valid/--test files, not both")
    if multi30k:
        src, _, tgt = pair.partition("-")
        if not src or not tgt:
            raise UserError(f"--pair {pair!r}: expected SRC-TGT, e.g. en-de")
        folder = Path(multi30k)
        spec = {split: [str(folder / f"{stem}.{src}.gz"), str(folder / f"{stem}.{tgt}.gz")]
                for split, stem in (("train", "train"), ("valid", "val"), ("test", "test_2016_flickr"))}
        spec["target_lang"] = tgt  # the test set is also scored in the published convention (Moses, lowercased)
        description = f"Multi30k {src}→{tgt} from {shown_path(folder)} (train, val, test2016)"
    elif any(given):
        if not all(given):
            raise UserError("give all six corpus files: --train-src/--train-tgt, --valid-src/--valid-tgt, "
                            "--test-src/--test-tgt")
        spec = {"train": [train_src, train_tgt], "valid": [valid_src, valid_tgt], "test": [test_src, test_tgt]}
        description = (f"train {shown_path(train_src)} / {shown_path(train_tgt)}, valid {shown_path(valid_src)}, "
                       f"test {shown_path(test_src)}")
    else:
        return {"embedded": True}, ("the embedded synthetic English→Synthdeutsch corpus "
                                    "(train 20,000, valid 500, test 1,000)")
    for split in ("train", "valid", "test"):
        for f in spec[split]:
            if not Path(f).is_file():
                raise UserError(f"corpus file {f} does not exist"
                                + (" (is --multi30k the folder of train.en.gz, val.en.gz, test_2016_flickr.en.gz?)"
                                   if multi30k else ""))
    return spec, description


def _keep_hypotheses(work_dir: Path, out_dir: Path, names) -> None:
    """The models' test translations (gzip), next to the report, so that BLEU can be re-scored."""
    import shutil

    folder = out_dir / "hypotheses"
    folder.mkdir(exist_ok=True)
    for name in names:
        for kind in ("beam4", "greedy"):
            shutil.copyfile(work_dir / name / f"test.{kind}.hyp.gz", folder / f"{name}.{kind}.hyp.gz")


def _check_out_dir(out_dir: Path) -> None:
    """The report folder is made at the end; check now that it can be."""
    from nmt.errors import UserError

    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"--out {out_dir} is a file; give a folder for the report")
    parent = out_dir
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"cannot write the report under {parent}: permission denied; choose another --out")


@click.command()
@click.option("--models", default="lstm-none,lstm-additive,lstm-dot,transformer", show_default=True,
              help="Comma-separated benchmark models (docs/benchmarking.md gives each one's configuration).")
@click.option("--minutes", type=float, default=None,
              help="Training budget per model in minutes, validation not counted [default: 30 without --steps].")
@click.option("--steps", "steps_text", metavar="N | MODEL=N,...",
              help="Training budget in steps, for every model or per model (e.g. lstm-additive=2070,transformer=1640): "
                   "a budget another machine reproduces. With --minutes too, whichever ends first.")
@click.option("--multi30k", type=click.Path(file_okay=False),
              help="Folder of the Multi30k files (train/val/test_2016_flickr.LANG.gz).")
@click.option("--pair", default="en-de", show_default=True, help="Language pair for --multi30k, SRC-TGT.")
@corpus_options("train")
@click.option("--train-links", type=click.Path(dir_okay=False),
              help="Word links of the training pairs (Pharaoh, one line per pair): every model trains one head to "
                   "follow them (guided alignment; --set MODEL:train.guided_weight=0 leaves one out).")
@corpus_options("valid")
@corpus_options("test")
@click.option("--preset", type=click.Choice(["tiny", "small", "base"]), default=None,
              help="Base configuration [default: base for real data, small for the embedded corpus].")
@click.option("--vocab-size", type=int, help="Size of the shared SentencePiece vocabulary.")
@click.option("--set", "overrides", multiple=True, metavar="[MODEL:]SECTION.KEY=VALUE",
              help="Change one option for all models or one, e.g. transformer:train.warmup_steps=800 (repeatable).")
@click.option("--out", type=click.Path(file_okay=False), default="results/benchmark", show_default=True,
              help="Folder for report.md, report.json and the plots.")
@click.option("--work", type=click.Path(file_okay=False),
              help="Keep the model directories here [default: a temporary folder, removed].")
@click.option("--batch-size", type=int, default=64, show_default=True,
              help="Translation batch size for the speed figures.")
@click.option("--title", default=None, help="Report title.")
@click.option("--allow-dirty", is_flag=True, help="Run on a checkout with uncommitted changes (the report says so).")
def benchmark(models, minutes, steps_text, multi30k, pair, train_src, train_tgt, train_tsv, train_links, valid_src,
              valid_tgt, valid_tsv, test_src, test_tgt, test_tsv, preset, vocab_size, overrides, out, work, batch_size,
              title, allow_dirty):
    """Benchmark models on the same data, tokenizer, budget and metrics.

    Trains each model for --minutes in its own process, one after the other, then scores the test
    set (sacreBLEU and chrF with signatures, beam 4 and greedy, BLEU by sentence length), times
    training and translation, and writes report.md, report.json and PNG plots to --out.
    Without corpus files it runs on the embedded synthetic corpus.

    \b
    Example (the committed Multi30k report):
      nmt benchmark --multi30k ../shared/data/multi30k --minutes 30 --out results/lstm_vs_transformer_30min
    """
    from nmt import benchinfo
    from nmt.benchmark import parse_override, parse_steps, report, run, variant_config
    from nmt.config import preset as get_preset
    from nmt.errors import UserError
    from nmt.optimizers import learning_rate
    from nmt.tokenization import Tokenizer

    names = [m.strip() for m in models.split(",") if m.strip()]
    if not names:
        raise UserError("--models is empty; name at least one, e.g. --models lstm-additive,transformer")
    if len(set(names)) != len(names):
        raise UserError(f"--models names a model twice: {models}")
    steps = parse_steps(steps_text, names) if steps_text is not None else None
    if minutes is None and steps is None:
        minutes = 30.0
    if minutes is not None and not 0 < minutes <= 10**6:  # also false for NaN; infinity is no budget
        raise UserError(f"--minutes must be positive and at most 1,000,000, got {minutes}")
    if batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {batch_size}")
    data, description = _data_spec(multi30k, pair, train_src, train_tgt, train_tsv, valid_src, valid_tgt, valid_tsv,
                                   test_src, test_tgt, test_tsv)
    if train_links:
        if data.get("embedded"):
            raise UserError("--train-links numbers the words of the training files' lines; give the corpus files too")
        if not Path(train_links).is_file():
            raise UserError(f"--train-links {train_links}: no such file")
        data["train_links"] = str(train_links)
        description += f", word links {benchinfo.shown_path(train_links)}"
    base = get_preset(preset or ("small" if data.get("embedded") else "base"))
    base = base.override("tokenizer", vocab_size=vocab_size).override("train", time_budget=(minutes or 0) * 60)
    per_model: dict = {name: {} for name in names}
    for text in overrides:
        target, section, key, value = parse_override(text)
        if target is not None and target not in per_model:
            raise UserError(f"--set {text!r} names model {target!r}, which is not in --models ({', '.join(names)})")
        for name in ([target] if target else names):
            per_model[name].setdefault(section, {})[key] = value
    if steps:
        for name in names:
            per_model[name].setdefault("train", {})["max_steps"] = steps[name]
    configs = {name: variant_config(base, name, per_model[name]) for name in names}  # validates everything first
    for config in configs.values():
        learning_rate(config.train)  # a schedule the budget cannot run (cosine without --steps) fails now
    out_dir = Path(out)
    _check_out_dir(out_dir)
    header = benchinfo.start(allow_dirty)  # refuses a dirty checkout; the models' processes run a copy of the code

    work_dir = Path(work) if work else Path(tempfile.mkdtemp(prefix="nmt-benchmark-"))
    work_dir.mkdir(parents=True, exist_ok=True)
    try:
        click.echo(f"Reading data: {description}", err=True)
        pairs = run.load_data(data)
        tokenizer = Tokenizer.from_config(pairs["train"], base.tokenizer)
        tokenizer.save(work_dir / "tokenizer")
        click.echo("Measuring the float32 matmul peak ...", err=True)
        peak = benchinfo.matmul_peak_gflops()
        results = []
        for i, name in enumerate(names, 1):
            model_dir = work_dir / name
            if model_dir.exists():
                raise UserError(f"{model_dir} already exists; give --work an empty folder")
            job = {"name": name, "config": configs[name].to_dict(), "data": data,
                   "tokenizer": str(work_dir / "tokenizer"), "model_dir": str(model_dir), "batch_size": batch_size}
            job_file, result_file = work_dir / f"{name}.job.json", work_dir / f"{name}.result.json"
            job_file.write_text(json.dumps(job, indent=2) + "\n", encoding="utf-8")
            click.echo(f"[{i}/{len(names)}] {name}: training {report.budget_text(configs[name].train)}, "
                       "then translating the test set ...", err=True)
            start = time.time()
            code = subprocess.call(benchinfo.python_module("nmt.benchmark.run", str(job_file), str(result_file)))
            if code != 0 or not result_file.is_file():
                raise UserError(f"benchmark model {name} failed (exit {code}); its messages are above")
            results.append(json.loads(result_file.read_text(encoding="utf-8")))
            r = results[-1]
            click.echo(f"[{i}/{len(names)}] {name}: test BLEU {r['test']['beam4']['bleu']} (beam 4), "
                       f"{r['training']['target_tokens_per_second']:,.0f} target tokens/s, {time.time() - start:.0f} s",
                       err=True)
        full = {
            "title": title or (f"Benchmark: {', '.join(names)}, "
                               + (f"{minutes:g} min each" if minutes else "fixed steps")),
            **header,
            "matmul_peak": peak, "budget_minutes": minutes, "budget_steps": steps,
            # files as a reader can find them: relative to the repository or ../shared
            "data": {"description": description,
                     "files": {k: [benchinfo.shown_path(f) for f in v] for k, v in data.items()
                               if k in ("train", "valid", "test")}
                     if "train" in data else data,
                     **({"train_links": benchinfo.shown_path(data["train_links"])} if "train_links" in data else {}),
                     "train_pairs": len(pairs["train"]), "valid_pairs": len(pairs["valid"]),
                     "test_pairs": len(pairs["test"])},
            "tokenizer": {**base.tokenizer.__dict__, "vocab_size": tokenizer.tgt_vocab_size},
            "models": results,
        }
        paths = report.write(out_dir, full)
        _keep_hypotheses(work_dir, out_dir, names)
    finally:
        if not work:
            import shutil

            shutil.rmtree(work_dir, ignore_errors=True)
    click.echo(f"Report: {paths['markdown']} (and {', '.join(p.name for k, p in paths.items() if k != 'markdown')})")
