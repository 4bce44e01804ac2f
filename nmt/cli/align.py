"""nmt align: attention as word alignment, for given sentence pairs or for the model's own translations;
``--score`` scores an existing file of links (another aligner's) without a model."""

from __future__ import annotations

import sys
from dataclasses import replace

import click

from nmt.alignment import soft
from nmt.alignment.symmetrisation import METHODS
from nmt.cli.common import options_named, read_text_input

SCORE_OPTIONS = {"score_path", "gold", "gold_base", "source_path", "target_path"}  # what --score uses


def layer_head_options(f):
    f = click.option("--head", default="mean", show_default=True,
                     help="Attention head number, or 'mean' over heads.")(f)
    f = click.option("--layer", default="mean", show_default=True,
                     help="Decoder layer number (Transformer; -1 = last), or 'mean'.")(f)
    return f


@click.command()
@click.argument("model_dir", required=False, type=click.Path(file_okay=False))
@click.option("-s", "--source", "source_path", type=click.Path(dir_okay=False, allow_dash=True),
              help="Source sentences, one per line ('-' = stdin). With --score: optional, "
                   "checks that links index its words.")
@click.option("-t", "--target", "target_path", type=click.Path(dir_okay=False),
              help="Target sentences to align (forced alignment). Without it the model translates and aligns its "
                   "translation.")
@click.option("-o", "--output", "output_path", type=click.Path(dir_okay=False, allow_dash=True), default="-",
              help="Pharaoh links 'i-j' per line (with -t), or 'translation ||| links' (without) [default: stdout].")
@click.option("--gold", type=click.Path(dir_okay=False),
              help="Gold alignments (i-j sure, i?j or ipj possible; 0-based unless --gold-base 1): print AER, "
                   "precision, recall.")
@click.option("--gold-base", type=click.Choice(["0", "1"]), default="0", show_default=True,
              help="Number of the first word in --gold: 0 (as nmt align, fast_align and eflomal write) or 1 (as the "
                   "original shared-task files).")
@click.option("--score", "score_path", type=click.Path(dir_okay=False),
              help="Score this file of links (Pharaoh, 0-based: another aligner's output) against --gold instead of "
                   "aligning; no MODEL_DIR.")
@layer_head_options
@click.option("--shift-att", is_flag=True,
              help="Shift-Att (Chen et al. 2020): each target word's attention from the decoder step that reads it, "
                   "not the step that predicts it (translations are force-aligned again to get it).")
@click.option("--full-context", is_flag=True,
              help="Attention from a decoder pass that sees the whole target sentence (a transformer trained with "
                   "`nmt train --guided-full-context`; combine with --shift-att as it was trained).")
@click.option("--backward", "backward_dir", type=click.Path(file_okay=False),
              help="A target-to-source model: align each pair in both directions and symmetrise the links (needs -t).")
@click.option("--symmetrise", type=click.Choice([*METHODS, *soft.METHODS]), default="grow-diag", show_default=True,
              help="How --backward's links combine with the forward model's; soft-mean and soft-geometric combine the "
                   "two directions' attention (arithmetic or geometric mean) and link where it reaches --threshold.")
@click.option("--threshold", type=click.FloatRange(0.0, 1.0, min_open=True), default=0.5, show_default=True,
              help="With --symmetrise soft-mean or soft-geometric: the combined attention a word pair needs to link.")
@click.option("--jsonl", type=click.Path(dir_okay=False),
              help="Also write tokens, words and soft matrices as JSON Lines.")
@click.option("--npz", type=click.Path(dir_okay=False),
              help="Also write every layer's and head's matrix as NumPy .npz.")
@click.option("--plot-dir", type=click.Path(file_okay=False), help="Also draw heatmaps here (one file per sentence).")
@click.option("--plot-format", type=click.Choice(["png", "svg"]), default="png", show_default=True,
              help="Heatmap file format.")
@click.option("--plots", "max_plots", type=int, default=20, show_default=True, help="Draw at most this many sentences.")
@click.option("--level", type=click.Choice(["word", "subword"]), default="word", show_default=True,
              help="Heatmap level.")
@click.option("--beam-size", type=int, help="Beam size when translating (without -t) [default: the model's].")
@click.option("--batch-size", type=int, help="Sentences per batch.")
@click.pass_context
def align(ctx, model_dir, source_path, target_path, output_path, gold, gold_base, score_path, layer, head, shift_att,
          full_context, backward_dir, symmetrise, threshold, jsonl, npz, plot_dir, plot_format, max_plots, level,
          beam_size, batch_size):
    """Word alignments from attention (hard links, soft matrices, heatmaps, AER).

    Subword attention is merged to words (rows averaged over a target word's pieces, columns summed
    over a source word's pieces, </s> dropped and rows renormalised); each target word links to the
    source word it attends to most. The words of given text (-s, and -t) are its whitespace tokens,
    whatever the tokenizer does to them. Links are 0-based 'source-target' word numbers (Pharaoh).
    --backward adds a target-to-source model: its links are transposed and combined with the forward
    model's by --symmetrise (soft matrices, --jsonl, --npz and plots stay the forward model's).

    \b
    Examples:
      nmt align nmt-demo -s test.en -t test.de --gold test.align
      nmt align runs/tf -s test.en --layer -1 --head mean --plot-dir plots/
      nmt align runs/en-fr -s test.en -t test.fr --shift-att --backward runs/fr-en --symmetrise grow-diag
      nmt align runs/en-fr -s test.en -t test.fr --backward runs/fr-en --symmetrise soft-mean --threshold 0.5
      nmt align --score fast_align.wa --gold gold.wa --gold-base 1 -s test.en -t test.fr
    """
    from nmt import alignment as al
    from nmt.errors import UserError

    gold_base = int(gold_base)
    if score_path:
        given = [p.opts[0] if isinstance(p, click.Option) else p.human_readable_name for p in ctx.command.params
                 if p.name not in SCORE_OPTIONS
                 and ctx.get_parameter_source(p.name) != click.core.ParameterSource.DEFAULT]
        if given:
            raise UserError(f"--score scores an existing file of links without a model, so {given[0]} does not apply "
                            "(it takes --gold, --gold-base, and -s/-t to check the links)")
        return score_file(score_path, gold, gold_base, source_path, target_path)
    if not model_dir or not source_path:
        raise UserError("give MODEL_DIR and -s FILE to align with a model, "
                        "or --score FILE --gold FILE to score existing links")

    from nmt.corpora.parallel import read_lines
    from nmt.io import atomic_open, check_distinct_outputs, check_output_path, lines_text
    from nmt.translator import Translator

    inputs = [p for p in (source_path, target_path, gold) if p and p != "-"]
    check_distinct_outputs(output=output_path, jsonl=jsonl, npz=npz)
    for path in (output_path, jsonl, npz):
        if path and path != "-":
            check_output_path(path, inputs)
    if max_plots < 0:
        raise UserError(f"--plots must be 0 or more, got {max_plots}")
    if backward_dir and not target_path:
        raise UserError("--backward aligns given sentence pairs in both directions: give the targets with -t")
    if ctx.get_parameter_source("symmetrise") != click.core.ParameterSource.DEFAULT and not backward_dir:
        raise UserError("--symmetrise combines two directions: give the target-to-source model with --backward")
    if ctx.get_parameter_source("threshold") != click.core.ParameterSource.DEFAULT and symmetrise not in soft.METHODS:
        raise UserError("--threshold applies to --symmetrise soft-mean or soft-geometric, which threshold attention")
    sources = read_text_input(source_path)
    if not sources:
        raise UserError(f"no sentences in {'standard input' if source_path == '-' else source_path}")
    targets = read_lines(target_path) if target_path else None
    if targets is not None and len(targets) != len(sources):
        raise UserError(f"{source_path} has {len(sources)} lines but {target_path} has {len(targets)}; "
                        "give one target per source")
    gold_links = al.read_links(gold, "gold", gold_base, sources, targets) if gold else None
    translator = Translator.load(model_dir)
    layers, heads = translator.model.attention_layers, translator.model.attention_heads
    al.check_layer_head(layers, heads, layer, head)
    with options_named("decode"):
        translator.settings(beam_size=beam_size, batch_size=batch_size)
    backward = None
    if backward_dir:
        backward = Translator.load(backward_dir)
        al.check_layer_head(backward.model.attention_layers, backward.model.attention_heads, layer, head)
    if targets is not None:
        hyps = translator.align(sources, targets, batch_size=batch_size, shift=shift_att, full_context=full_context)
    else:
        again = shift_att or full_context  # attention that decoding does not give
        hyps = translator.translate(sources, beam_size=beam_size, batch_size=batch_size, return_attention=not again)
        if again:  # force-align each translation as it was segmented
            forced = translator.align(sources, [h.tokens for h in hyps], batch_size=batch_size, shift=shift_att,
                                      full_context=full_context)
            hyps = [replace(f, text=h.text, score=h.score) for f, h in zip(forced, hyps)]
    aligned = al.reduce_all(hyps, layer, head)
    if backward is not None:
        reverse = al.reduce_all(backward.align(targets, sources, batch_size=batch_size, shift=shift_att,
                                               full_context=full_context), layer, head)
        for a, r in zip(aligned, reverse):  # both in (source word, target word) orientation
            a.links = (soft.soft_symmetrise(a.word.T, r.word, symmetrise, threshold) if symmetrise in soft.METHODS
                       else al.symmetrise(a.links, al.transpose(r.links), symmetrise))
    lines = [al.format_pharaoh(a.links) if targets is not None else f"{h.text} ||| {al.format_pharaoh(a.links)}"
             for a, h in zip(aligned, hyps)]
    text = lines_text(lines)  # one line per item, whatever the items hold
    if output_path == "-":
        sys.stdout.write(text)
    else:
        with atomic_open(output_path) as f:
            f.write(text)
    if jsonl:
        al.write_jsonl(jsonl, aligned, layer, head)
    if npz:
        al.write_npz(npz, aligned)
    if plot_dir and max_plots:
        paths = al.write_plots(plot_dir, aligned, level, plot_format, max_plots, layer, head)
        click.echo(f"wrote {len(paths)} heatmaps to {plot_dir}", err=True)
    if gold_links is not None:
        if targets is None:
            click.echo("note: AER of the model's own translations compares with gold links of other target sentences; "
                       "give the reference with -t for forced alignment", err=True)
        result = al.alignment_error_rate([a.links for a in aligned], gold_links)
        click.echo(result.summary(), err=output_path == "-")


def score_file(score_path, gold, gold_base: int, source_path, target_path) -> None:
    """``nmt align --score``: AER, precision and recall of a file of links against gold links."""
    from nmt import alignment as al
    from nmt.corpora.parallel import read_lines
    from nmt.errors import UserError

    if not gold:
        raise UserError("--score needs --gold FILE: the gold links to score against")
    sources = read_text_input(source_path) if source_path else None
    targets = read_lines(target_path) if target_path else None
    if sources is not None and targets is not None and len(sources) != len(targets):
        raise UserError(f"{source_path} has {len(sources)} lines but {target_path} has {len(targets)}; "
                        "give one target per source")
    predicted = al.read_links(score_path, "link", 0, sources, targets)
    gold_links = al.read_links(gold, "gold", gold_base, sources, targets)
    if len(predicted) != len(gold_links):
        raise UserError(f"{score_path} has {len(predicted)} lines but {gold} has {len(gold_links)}; "
                        "give one line per sentence pair")
    result = al.alignment_error_rate([links.possible for links in predicted], gold_links)
    click.echo(result.summary())
