"""nmt average: average the last N checkpoints of a training into a new model directory."""

from __future__ import annotations

import json

import click


@click.command()
@click.argument("model_dir", type=click.Path(file_okay=False))
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("-n", "--last", default=5, show_default=True, help="How many of the latest checkpoints to average.")
@click.option("--overwrite", is_flag=True, help="Replace OUT_DIR if it exists.")
def average(model_dir, out_dir, last, overwrite):
    """Average the weights of MODEL_DIR's last N checkpoints into OUT_DIR.

    OUT_DIR is a model directory (configuration, tokenizer, averaged weights) that translates, aligns,
    evaluates and exports like MODEL_DIR; it holds no optimizer state, so it cannot --resume.
    Train with --keep-checkpoints N (and --eval-every: a checkpoint is written at every validation).

    \b
    Example:
      nmt train --model-dir runs/m --keep-checkpoints 5 ...
      nmt average runs/m runs/m-avg5 --last 5 && nmt evaluate ...
    """
    from nmt.averaging import average as run_average

    click.echo(json.dumps({"model_dir": str(out_dir), **run_average(model_dir, out_dir, last, overwrite)}))
