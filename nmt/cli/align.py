"""nmt align: attention as word alignment, for given sentence pairs or for the model's own translations."""

from __future__ import annotations

import sys

import click

from nmt.cli.common import options_named, read_text_input


def layer_head_options(f):
    f = click.option("--head", default="mean", show_default=True, help="Attention head number, or 'mean' over heads.")(f)
    f = click.option("--layer", default="mean", show_default=True, help="Decoder layer number (Transformer; -1 = last), or 'mean'.")(f)
    return f


@click.command()
@click.argument("model_dir", type=click.Path(file_okay=False))
@click.option("-s", "--source", "source_path", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="Source sentences, one per line ('-' = stdin).")
@click.option("-t", "--target", "target_path", type=click.Path(dir_okay=False),
              help="Target sentences to align (forced alignment). Without it the model translates and aligns its translation.")
@click.option("-o", "--output", "output_path", type=click.Path(dir_okay=False, allow_dash=True), default="-",
              help="Pharaoh links 'i-j' per line (with -t), or 'translation ||| links' (without) [default: stdout].")
@click.option("--gold", type=click.Path(dir_okay=False), help="Gold alignments (i-j sure, i?j possible): print AER, precision, recall.")
@layer_head_options
@click.option("--jsonl", type=click.Path(dir_okay=False), help="Also write tokens, words and soft matrices as JSON Lines.")
@click.option("--npz", type=click.Path(dir_okay=False), help="Also write every layer's and head's matrix as NumPy .npz.")
@click.option("--plot-dir", type=click.Path(file_okay=False), help="Also draw heatmaps here (one file per sentence).")
@click.option("--plot-format", type=click.Choice(["png", "svg"]), default="png", show_default=True)
@click.option("--plots", "max_plots", type=int, default=20, show_default=True, help="Draw at most this many sentences.")
@click.option("--level", type=click.Choice(["word", "subword"]), default="word", show_default=True, help="Heatmap level.")
@click.option("--beam-size", type=int, help="Beam size when translating (without -t) [default: the model's].")
@click.option("--batch-size", type=int, help="Sentences per batch.")
def align(model_dir, source_path, target_path, output_path, gold, layer, head, jsonl, npz, plot_dir, plot_format,
          max_plots, level, beam_size, batch_size):
    """Word alignments from attention (hard links, soft matrices, heatmaps, AER).

    Subword attention is merged to words (rows averaged over a target word's pieces, columns summed
    over a source word's pieces, </s> dropped and rows renormalised); each target word links to the
    source word it attends to most. Links are 0-based 'source-target' word numbers (Pharaoh).

    \b
    Examples:
      nmt align nmt-demo -s test.en -t test.de --gold test.align
      nmt align runs/tf -s test.en --layer -1 --head mean --plot-dir plots/
    """
    from nmt import alignment as al
    from nmt import alignment_export as ax
    from nmt.corpora.parallel import read_lines
    from nmt.errors import UserError
    from nmt.io import atomic_open, check_distinct_outputs, check_output_path, lines_text
    from nmt.translator import Translator

    inputs = [p for p in (source_path, target_path, gold) if p and p != "-"]
    check_distinct_outputs(output=output_path, jsonl=jsonl, npz=npz)
    for path in (output_path, jsonl, npz):
        if path and path != "-":
            check_output_path(path, inputs)
    if max_plots < 0:
        raise UserError(f"--plots must be 0 or more, got {max_plots}")
    sources = read_text_input(source_path)
    if not sources:
        raise UserError(f"no sentences in {'standard input' if source_path == '-' else source_path}")
    targets = read_lines(target_path) if target_path else None
    if targets is not None and len(targets) != len(sources):
        raise UserError(f"{source_path} has {len(sources)} lines but {target_path} has {len(targets)}; give one target per source")
    gold_links = None
    if gold:
        gold_lines = read_lines(gold)
        if len(gold_lines) != len(sources):
            raise UserError(f"{gold} has {len(gold_lines)} lines but there are {len(sources)} sentences; give one gold line per sentence")
        gold_links = [al.parse_pharaoh(line, f"{gold} line {i + 1}") for i, line in enumerate(gold_lines)]
    translator = Translator.load(model_dir)
    layers, heads = translator.model.attention_layers, translator.model.attention_heads
    al.check_layer_head(layers, heads, layer, head)
    with options_named("decode"):
        translator.settings(beam_size=beam_size, batch_size=batch_size)
    if targets is not None:
        hyps = translator.align(sources, targets, batch_size=batch_size)
    else:
        hyps = translator.translate(sources, beam_size=beam_size, batch_size=batch_size, return_attention=True)
    aligned = ax.reduce_all(hyps, layer, head)
    lines = [al.format_pharaoh(a.links) if targets is not None else f"{h.text} ||| {al.format_pharaoh(a.links)}"
             for a, h in zip(aligned, hyps)]
    text = lines_text(lines)  # one line per item, whatever the items hold
    if output_path == "-":
        sys.stdout.write(text)
    else:
        with atomic_open(output_path) as f:
            f.write(text)
    if jsonl:
        ax.write_jsonl(jsonl, aligned, layer, head)
    if npz:
        ax.write_npz(npz, aligned)
    if plot_dir and max_plots:
        paths = ax.write_plots(plot_dir, aligned, level, plot_format, max_plots, layer, head)
        click.echo(f"wrote {len(paths)} heatmaps to {plot_dir}", err=True)
    if gold_links is not None:
        if targets is None:
            click.echo("note: AER of the model's own translations compares with gold links of other target sentences; "
                       "give the reference with -t for forced alignment", err=True)
        result = al.alignment_error_rate([a.links for a in aligned], gold_links)
        click.echo(result.summary(), err=output_path == "-")
