"""nmt demo: train LSTM + additive attention on the embedded corpus until it translates well, then show it.

The demo stops on what it is for, a validation BLEU target, not after a fixed time: a slower or busy
machine takes longer to get there but ends with the same quality. ``--max-minutes`` is only a safety net.
"""

from __future__ import annotations

import shlex
import shutil
import time
from pathlib import Path

import click

MARKER = ".nmt-demo"


@click.command()
@click.option("--model-dir", default="nmt-demo", show_default=True, type=click.Path(file_okay=False),
              help="Where to put the demo model (an earlier demo there is replaced).")
@click.option("--target-bleu", default=None, type=float,
              help="Stop when the validation BLEU (greedy, 200 sentences) reaches this.  [default: the demo preset's]")
@click.option("--max-minutes", default=15.0, show_default=True, type=float,
              help="Safety net: stop training after this many minutes even if the target is not reached.")
@click.option("--attention", default="additive", show_default=True, help="Attention mechanism to demonstrate.")
@click.option("--progress/--no-progress", default=True)
def demo(model_dir, target_bleu, max_minutes, attention, progress):
    """Train on the embedded English->Synthdeutsch corpus, translate a few sentences, print test BLEU.

    Training stops when the validation BLEU reaches the target (about a minute of training on a
    modern 2-core CPU, longer on a slower or busy one), then the test set is translated with beam 4.
    """
    from nmt.attention import ATTENTION
    from nmt.cli.common import embedded_splits
    from nmt.config import preset
    from nmt.errors import UserError
    from nmt.progress import clock

    config = preset("demo")
    target = config.train.target_bleu if target_bleu is None else target_bleu
    if not 0 < target <= 100:  # also refuses NaN
        raise UserError(f"--target-bleu must be above 0 and at most 100, got {target_bleu}")
    if not 0 < max_minutes <= 24 * 60:
        raise UserError(f"--max-minutes must be above 0 and at most 1440, got {max_minutes}")
    ATTENTION.get(attention)  # an unknown name fails here, with the valid choices, before any work
    path = Path(model_dir)
    if path.exists():
        if not (path / MARKER).exists():
            raise UserError(f"{path} exists and is not an earlier demo; choose another --model-dir")
        shutil.rmtree(path)
    config = config.override("model", attention=attention).override("train", target_bleu=target,
                                                                     time_budget=max_minutes * 60)
    splits = embedded_splits(config.train.max_words)
    click.echo(f"Training an LSTM with {attention} attention on the {len(splits['train']):,} English->Synthdeutsch "
               f"pairs of at most {config.train.max_words} words\nuntil its validation BLEU reaches {target:g} "
               f"(checked every {config.train.eval_every} steps; a safety limit stops it after "
               f"{clock(max_minutes * 60)} of training).", err=True)
    start = time.time()
    result = _train(config, path, splits, progress)
    reached = result.best_bleu >= target
    click.echo(f"{'Reached' if reached else 'Did not reach'} the target: validation BLEU {result.best_bleu:.1f} after "
               f"{result.steps:,} step{'' if result.steps == 1 else 's'} ({clock(result.train_seconds)} of training, "
               f"{result.tokens_per_second:,.0f} target tokens/s).", err=True)
    _show(path, splits["test"], start, reached, max_minutes, config.train.max_words)


def _train(config, path: Path, splits, progress):
    from nmt import data_record
    from nmt.training import Trainer

    trainer = Trainer(config, path, splits["train"], splits["valid"], progress=progress,
                      data=data_record.embedded(config.train.max_words))  # `nmt train --resume` can continue it
    (path / MARKER).write_text("made by nmt demo\n")
    return trainer.run()


def _explorer(path: Path, translator, sources, hyps) -> Path:
    """The test translations in the attention explorer (as ``nmt explore`` writes it): no second model
    pass, the beam search already returned each translation's attention."""
    from nmt import explorer
    from nmt.config import Config
    from nmt.model_dir import CONFIG

    config = Config.load(path / CONFIG)
    data = explorer.collect(sources, [(explorer.describe(translator, config, path.name), hyps)],
                            title=f"nmt demo: {config.model.attention} attention, test translations (beam 4)")
    explorer.write(path / "explorer.html", data)
    return path / "explorer.html"


def _show(path: Path, test, start: float, reached: bool, max_minutes: float, max_words: int) -> None:
    """Translate the test split, print examples and scores, draw one heatmap and say what to try next."""
    from nmt import alignment as al
    from nmt.evaluation import score
    from nmt.io import lines_text
    from nmt.progress import clock
    from nmt.translator import Translator

    translator = Translator.load(path)
    sources, refs = [s for s, _ in test], [t for _, t in test]
    click.echo(f"Translating the {len(sources):,} test sentences of at most {max_words} words with beam 4 ...",
               err=True)
    hyps = translator.translate(sources, beam_size=4, return_attention=True)  # one search, no second trace
    texts = [h.text for h in hyps]
    (path / "test.hyp").write_text(lines_text(texts), encoding="utf-8")  # to re-score or compare
    # The embedded corpus is tokenized on purpose (punctuation split off): scored as it is, tok:none.
    scores = score(texts, refs, tokenize="none")
    click.echo("")
    for i in sorted(range(len(sources)), key=lambda i: len(sources[i].split()))[:: max(1, len(sources) // 5)][:5]:
        click.echo(f"  EN   {sources[i]}\n  REF  {refs[i]}\n  NMT  {texts[i]}\n")
    click.echo(f"Test {scores.summary()}")
    # One heatmap in the manner of Bahdanau et al. 2015, Fig. 3: the longest test sentence of at most 16 words.
    example = max((i for i in range(len(sources)) if len(sources[i].split()) <= 16),
                  key=lambda i: len(sources[i].split()))
    a = al.reduce_all([hyps[example]])[0]
    plot = al.plot_matrix(a.word, a.source_words, a.target_words, path / "attention.png")
    click.echo(f"Attention heatmap: {plot}")
    page = _explorer(path, translator, sources, hyps)
    click.echo(f"Attention explorer (open it in a browser): {page}")
    click.echo(f"Done in {clock(time.time() - start)}. Model directory: {path}")
    if not reached:
        click.echo(f"(The safety limit of {max_minutes:g} minutes stopped training early; rerun with a larger "
                   f"--max-minutes on a busy machine.)")
    quoted = shlex.quote(str(path))
    click.echo(
        "\nNext, try:\n"
        f"  echo 'the man sees the dog .' | nmt translate {quoted}\n"
        "  nmt data synthetic --out corpus     # the corpus as files, with the gold word alignments\n"
        f"  head -n 3 corpus/test.en | nmt translate {quoted} --beam-size 8 --n-best 2\n"
        f"  nmt align {quoted} -s corpus/test.en -t corpus/test.de --gold corpus/test.align "
        "--plot-dir plots --plots 3\n"
        "  nmt train --help                    # your own parallel text, the Transformer, other attention")
