"""nmt explore: one self-contained HTML file to click through a model's attention (nmt.explorer).

A command of its own rather than ``nmt align --html``: it takes what align does not (n-best
translations, a second model to compare) and none of align's single-view outputs (--layer/--head,
links to stdout): the page holds every layer and head."""

from __future__ import annotations

import click

from nmt.cli.common import options_named, read_text_input


@click.command()
@click.argument("model_dir", type=click.Path(file_okay=False))
@click.option("-s", "--source", "source_path", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="Source sentences, one per line ('-' = stdin).")
@click.option("-t", "--target", "target_path", type=click.Path(dir_okay=False),
              help="Target sentences to align (forced alignment). Without it the model translates.")
@click.option("--gold", type=click.Path(dir_okay=False),
              help="Gold links of the -s/-t pairs (i-j sure, i?j or ipj possible): "
                   "drawn on the page with each sentence's AER.")
@click.option("--gold-base", type=click.Choice(["0", "1"]), default="0", show_default=True,
              help="Number of the first word in --gold (0 or 1).")
@click.option("--compare", "compare_dir", type=click.Path(file_okay=False),
              help="A second model directory: the same sentences through it, side by side, sortable by disagreement.")
@click.option("--beam-size", type=int, help="Beam size when translating [default: the model's].")
@click.option("--n-best", type=int, help="Hypotheses per sentence, each with its own attention (translating only).")
@click.option("--batch-size", type=int, help="Sentences per batch.")
@click.option("--title", default=None, help="Title of the page [default: the model directories' names].")
@click.option("-o", "--output", "output_path", required=True, type=click.Path(dir_okay=False),
              help="The HTML file to write (written whole or not at all).")
def explore(model_dir, source_path, target_path, gold, gold_base, compare_dir, beam_size, n_best, batch_size, title,
            output_path):
    """Write one HTML file that shows what the model attended to, opening from disk with no network.

    Pick a sentence (search, sort by length, score, AER or the two models' disagreement), switch
    layer, head and word/subword level, hover a cell for its weight, see the hard links against the
    gold links and the n-best hypotheses, each with its own attention.

    \b
    Examples:
      nmt explore nmt-demo -s test.en -t test.de --gold test.align -o explore.html
      nmt explore runs/lstm -s test.en --compare runs/transformer --beam-size 4 --n-best 3 -o compare.html
    """
    from pathlib import Path

    from nmt import explorer
    from nmt.alignment import read_links
    from nmt.config import Config
    from nmt.corpora.parallel import read_lines
    from nmt.errors import UserError
    from nmt.io import check_output_path
    from nmt.model_dir import CONFIG
    from nmt.translator import Translator

    if not output_path.endswith((".html", ".htm")):
        raise UserError(f"-o {output_path}: the explorer is an HTML page; give a file name ending in .html")
    inputs = [p for p in (source_path, target_path, gold) if p and p != "-"]
    check_output_path(output_path, inputs)
    if gold and not target_path:
        raise UserError("--gold links index the words of given targets: give them with -t (forced alignment)")
    if target_path and (n_best or beam_size):
        raise UserError("--beam-size and --n-best choose translations; with -t the given targets are aligned instead")
    sources = read_text_input(source_path)
    if not sources:
        raise UserError(f"no sentences in {'standard input' if source_path == '-' else source_path}")
    targets = read_lines(target_path) if target_path else None
    if targets is not None and len(targets) != len(sources):
        raise UserError(f"{source_path} has {len(sources)} lines but {target_path} has {len(targets)}; "
                        "give one target per source")
    gold_links = read_links(gold, "gold", int(gold_base), sources, targets) if gold else None
    runs = []
    for directory in [model_dir] + ([compare_dir] if compare_dir else []):
        translator = Translator.load(directory)
        with options_named("decode"):
            translator.settings(beam_size=beam_size, n_best=n_best, batch_size=batch_size)
        model = explorer.describe(translator, Config.load(Path(directory) / CONFIG), Path(directory).name)
        if targets is not None:
            hyps = translator.align(sources, targets, batch_size=batch_size)
        else:
            hyps = translator.translate(sources, beam_size=beam_size, n_best=n_best, batch_size=batch_size,
                                        return_attention=True)
        runs.append((model, hyps))
    names = " vs ".join(model["name"] for model, _ in runs)
    data = explorer.collect(sources, runs, gold_links, "align" if targets is not None else "translate",
                            title or f"nmt explore: {names}")
    explorer.write(output_path, data)
    click.echo(f"wrote {output_path} ({len(sources)} sentences, {names}); open it in a browser", err=True)
