"""nmt data: fetch real corpora (with checksums) and write the embedded corpus."""

from __future__ import annotations

import click


@click.group()
def data():
    """Get corpora: real ones with checksums, or the embedded synthetic corpus."""


@data.command()
@click.argument("name")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="Target directory [default: data/NAME].")
@click.option("--from", "from_dir", type=click.Path(file_okay=False),
              help="Copy from a local directory instead of downloading.")
@click.option("--only", multiple=True, help="Fetch only these files of the dataset.")
@click.option("--progress/--no-progress", default=True)
def fetch(name, out_dir, from_dir, only, progress):
    """Download dataset NAME (multi30k, spa_eng, ag_news) and verify its checksums.

    \b
    Examples:
      nmt data fetch multi30k
      nmt data fetch multi30k --from ../shared/data/multi30k
    """
    from nmt.corpora.fetch import fetch as do_fetch

    paths = do_fetch(name, out_dir or f"data/{name}", from_dir=from_dir, progress=progress, only=list(only) or None)
    for path in paths.values():
        click.echo(str(path))


@data.command()
@click.option("--out", "out_dir", default="data/synthetic", type=click.Path(file_okay=False), help="Target directory.")
@click.option("--seed", type=int, default=None, help="Generator seed [default: the shipped corpus' seed].")
def synthetic(out_dir, seed):
    """Write the embedded English->Synthdeutsch corpus (train/valid/test, with gold alignments)."""
    from nmt.corpora import synthetic as syn

    kwargs = {} if seed is None else {"seed": seed}
    syn.write_splits(out_dir, **kwargs)
    click.echo(out_dir)
