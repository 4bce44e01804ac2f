"""nmt export: a SavedModel that takes raw strings (translation or classification)."""

from __future__ import annotations

import json

import click

from nmt.cli.align import layer_head_options


@click.command()
@click.argument("model_dir", type=click.Path(file_okay=False))
@click.argument("out_dir", type=click.Path())
@click.option("--beam-size", type=int, help="Beam size fixed in the export (1 = greedy). [default: the model's]")
@click.option("--n-best", type=int, help="Also return the N best translations and their scores.")
@click.option("--length-penalty", type=float, help="GNMT length penalty alpha fixed in the export.")
@click.option("--alignments", is_flag=True, help="Also return word alignments (Pharaoh i-j) of the best translation.")
@layer_head_options
@click.option("--format", "fmt", type=click.Choice(["savedmodel", "ctranslate2"]), default="savedmodel",
              show_default=True,
              help="savedmodel: TensorFlow, raw strings in; ctranslate2: a Transformer for the CTranslate2 engine.")
@click.option("--quantization", type=click.Choice(["int8", "int8_float32", "int16", "float16", "bfloat16", "float32"]),
              help="ctranslate2 only: store the weights quantized. [default: float32]")
@click.option("--overwrite", is_flag=True, help="Replace OUT_DIR if it exists.")
def export(model_dir, out_dir, beam_size, n_best, length_penalty, alignments, layer, head, fmt, quantization,
           overwrite):
    """Export MODEL_DIR (translation model or classifier) to a SavedModel in OUT_DIR.

    The SavedModel's serving_default signature takes a batch of raw UTF-8 strings; tokenization
    (SentencePiece or WordPiece, as tensorflow-text ops) and beam search run inside the graph. It
    loads with tf.saved_model.load in a process that imports only tensorflow and tensorflow_text,
    and serves with TensorFlow Serving (see docs/export.md).

    With --format ctranslate2, a Transformer is converted for the CTranslate2 engine instead
    (pip install ctranslate2); its directory also holds the SentencePiece model.

    \b
    Examples:
      nmt export runs/m30k exported/m30k --beam-size 4
      nmt export runs/agnews exported/agnews
      nmt export runs/m30k exported/m30k-ct2 --format ctranslate2 --quantization int8
    """
    from nmt.cli.common import options_named
    from nmt.errors import UserError
    from nmt.export import export as run_export

    if fmt == "ctranslate2":
        from nmt.ctranslate2_export import convert

        given = [name for name, value in (("--beam-size", beam_size), ("--n-best", n_best),
                                          ("--length-penalty", length_penalty), ("--alignments", alignments)) if value]
        if given:
            raise UserError(f"{', '.join(given)} apply to --format savedmodel; "
                            "CTranslate2 takes decoding options when it translates")
        click.echo(json.dumps({"export": str(out_dir), **convert(model_dir, out_dir, quantization, overwrite)}))
        return
    if quantization:
        raise UserError("--quantization applies to --format ctranslate2 only")
    with options_named("decode"):
        info = run_export(model_dir, out_dir, beam_size=beam_size, n_best=n_best, length_penalty=length_penalty,
                          alignments=alignments, layer=layer, head=head, overwrite=overwrite)
    summary = {"export": str(out_dir), "task": info["task"], "outputs": info["outputs"]}
    if "decode" in info:
        summary["decode"] = info["decode"]
    click.echo(json.dumps(summary))
