"""nmt average: average the last N checkpoints of a training into a new model directory."""

from __future__ import annotations

import json

import click


@click.command()
@click.argument("model_dir", type=click.Path(file_okay=False))
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("-n", "--last", default=5, show_default=True, help="How many of the latest checkpoints to average.")
@click.option("--steps", "steps", metavar="STEP,...",
               help="Average the checkpoints of these training steps instead of the last N (one step: that "
                    "checkpoint alone, as a model directory).")
@click.option("--overwrite", is_flag=True, help="Replace OUT_DIR if it exists.")
def average(model_dir, out_dir, last, steps, overwrite):
    """Average the weights of MODEL_DIR's last N checkpoints (or those of --steps) into OUT_DIR.

    OUT_DIR is a model directory (configuration, tokenizer, averaged weights) that translates, aligns,
    evaluates and exports like MODEL_DIR; it holds no optimizer state, so it cannot --resume.
    Train with --keep-checkpoints N (and --eval-every: a checkpoint is written at every validation).

    \b
    Example:
      nmt train --model-dir runs/m --keep-checkpoints 5 ...
      nmt average runs/m runs/m-avg5 --last 5 && nmt evaluate ...
      nmt average runs/m runs/m-at3000 --steps 3000     # the model as it was at step 3,000
    """
    from nmt.averaging import average as run_average
    from nmt.errors import UserError

    chosen = None
    if steps is not None:
        try:
            chosen = sorted({int(s) for s in steps.split(",") if s.strip()})
        except ValueError:
            raise UserError(f"--steps takes training steps separated by commas, e.g. 2500,3000; got {steps!r}") \
                from None
        if not chosen:
            raise UserError("--steps needs at least one training step, e.g. 3000")
    click.echo(json.dumps({"model_dir": str(out_dir), **run_average(model_dir, out_dir, last, overwrite, chosen)}))
