"""nmt translate: translate sentences with a trained model directory."""

from __future__ import annotations

import contextlib
import sys

import click

from nmt.cli.align import layer_head_options
from nmt.cli.common import iter_text_input, options_named, parallel_batches_option, start_threads

CHUNK = 10_000  # sentences read, translated and written at a time


@click.command()
@click.argument("model_dir", type=click.Path(file_okay=False))
@click.option("-i", "--input", "input_path", type=click.Path(dir_okay=False, allow_dash=True), default="-",
              help="Source sentences, one per line (default: stdin).")
@click.option("-o", "--output", "output_path", type=click.Path(dir_okay=False, allow_dash=True), default="-",
              help="Where to write translations (default: stdout). Written atomically.")
@click.option("--beam-size", type=int, help="Beam size (1 = greedy). [default: the model's]")
@click.option("--n-best", type=int, help="Hypotheses per sentence (<= beam size), written as 'i ||| text ||| score'.")
@click.option("--length-penalty", type=float, help="GNMT length penalty alpha (0 = none).")
@click.option("--batch-size", type=int, help="Sentences per batch.")
@parallel_batches_option
@click.option("--scores", is_flag=True, help="Append ' ||| score' to each line.")
@click.option("--alignments", type=click.Choice(["hard", "soft"]),
              help="Append ' ||| ' and word alignments from attention: Pharaoh i-j links, or soft rows (Marian style).")
@layer_head_options
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on stderr [default: when writing to a file].")
def translate(model_dir, input_path, output_path, beam_size, n_best, length_penalty, batch_size, parallel_batches,
              scores, alignments, layer, head, progress):
    """Translate text with the model in MODEL_DIR.

    \b
    Examples:
      echo "the man sees the dog ." | nmt translate nmt-demo
      nmt translate runs/m30k -i test.en -o test.hyp --beam-size 4
    """
    import itertools

    from tqdm.auto import tqdm

    from nmt.errors import UserError
    from nmt.io import atomic_open, check_output_path, lines_text
    from nmt.translator import Translator

    to_stdout = output_path == "-"
    if not to_stdout:
        check_output_path(output_path, [] if input_path == "-" else [input_path])
    start_threads(parallel_batches)  # before TensorFlow runs its first op
    translator = Translator.load(model_dir)
    options = dict(beam_size=beam_size, n_best=n_best, length_penalty=length_penalty, batch_size=batch_size)
    with options_named("decode"):
        translator.settings(**options)  # every option checked before any input is read
    if alignments:
        from nmt import alignment as al

        al.check_layer_head(translator.model.attention_layers, translator.model.attention_heads, layer, head)

        def extra(h):
            word = al.reduce_all([h], layer, head)[0]
            return " ||| " + (al.format_pharaoh(word.links) if alignments == "hard" else al.soft_line(word.word))
    else:
        def extra(h):
            return ""

    def render(results, offset):
        lines = []
        for i, r in enumerate(results, offset):
            if isinstance(r, list):
                lines.extend(f"{i} ||| {h.text} ||| {h.score:.4f}{extra(h)}" for h in r)
            else:
                lines.append((f"{r.text} ||| {r.score:.4f}" if scores else r.text) + extra(r))
        return lines_text(lines)  # one line per item, whatever the items hold

    # The input is translated in chunks as it is read (length-sorted within a chunk), so an endless or
    # very long stream needs memory for one chunk, not for all of it.
    lines = iter_text_input(input_path)
    chunk = list(itertools.islice(lines, CHUNK))  # read (and checked) before a progress bar is drawn
    if not chunk:
        raise UserError(f"no sentences to translate in {'standard input' if input_path == '-' else input_path}")
    show = (not to_stdout) if progress is None else progress
    bar = tqdm(total=len(chunk) if len(chunk) < CHUNK else None, disable=not show, unit="sent", desc="translate",
               file=sys.stderr)
    done = 0
    try:
        with contextlib.nullcontext(sys.stdout) if to_stdout else atomic_open(output_path) as out:
            while chunk:
                results = translator.translate(chunk, progress=bar, return_attention=bool(alignments), **options)
                out.write(render(results, done))
                out.flush()
                done += len(chunk)
                chunk = list(itertools.islice(lines, CHUNK))
    except BaseException:
        bar.leave = False  # the bar clears its line, so the error that follows is the one line shown
        raise
    finally:
        bar.close()
