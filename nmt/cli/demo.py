"""nmt demo: train a small LSTM + additive attention model on the embedded corpus, translate, score."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import click

MARKER = ".nmt-demo"


@click.command()
@click.option("--model-dir", default="nmt-demo", show_default=True, type=click.Path(file_okay=False),
              help="Where to put the demo model (an earlier demo there is replaced).")
@click.option("--minutes", default=3.0, show_default=True, type=float, help="Training time budget.")
@click.option("--attention", default="additive", show_default=True, help="Attention mechanism to demonstrate.")
@click.option("--progress/--no-progress", default=True)
def demo(model_dir, minutes, attention, progress):
    """Train on the embedded English->Synthdeutsch corpus, translate a few sentences, print test BLEU.

    Takes about four minutes on two CPU cores.
    """
    from nmt.cli.common import embedded_splits
    from nmt.config import preset
    from nmt.errors import UserError
    from nmt.evaluation import score
    from nmt.training import Trainer
    from nmt.translator import Translator

    path = Path(model_dir)
    if path.exists():
        if not (path / MARKER).exists():
            raise UserError(f"{path} exists and is not an earlier demo; choose another --model-dir")
        shutil.rmtree(path)
    if minutes <= 0:
        raise UserError(f"--minutes must be positive, got {minutes}")
    splits = embedded_splits()
    config = preset("small").override("model", attention=attention).override("train", time_budget=minutes * 60)
    click.echo(f"Training LSTM + {attention} attention on {len(splits['train']):,} synthetic pairs for {minutes:g} min ...", err=True)
    start = time.time()
    trainer = Trainer(config, path, splits["train"], splits["valid"], progress=progress)
    (path / MARKER).write_text("made by nmt demo\n")
    result = trainer.run()
    translator = Translator.load(path)
    test = splits["test"]
    sources, refs = [s for s, _ in test], [t for _, t in test]
    hyps = [h.text for h in translator.translate(sources, beam_size=4)]
    scores = score(hyps, refs)
    click.echo("")
    for i in sorted(range(len(sources)), key=lambda i: len(sources[i].split()))[:: max(1, len(sources) // 5)][:5]:
        click.echo(f"  EN   {sources[i]}\n  REF  {refs[i]}\n  NMT  {hyps[i]}\n")
    click.echo(f"{result.steps} steps, {result.tokens_per_second:,.0f} target tokens/s, {time.time() - start:.0f} s in all")
    click.echo(f"Test {scores.summary()}")
    click.echo(f"Model directory: {path}  (try: echo 'the man sees the dog .' | nmt translate {path})")
    # One heatmap in the manner of Bahdanau et al. 2015, Fig. 3: the longest test sentence of at most 16 words.
    from nmt import alignment_export as ax
    from nmt.heatmap import plot_matrix

    example = max((i for i in range(len(sources)) if len(sources[i].split()) <= 16), key=lambda i: len(sources[i].split()))
    hyp = translator.translate([sources[example]], beam_size=4, return_attention=True)[0]
    a = ax.reduce_all([hyp])[0]
    plot = plot_matrix(a.word, a.source_words, a.target_words, path / "attention.png")
    click.echo(f"Attention heatmap: {plot}  (more with: nmt align {path} -s FILE --plot-dir DIR)")
