"""Options and helpers shared by the CLI commands."""

from __future__ import annotations

import importlib
import logging
import sys

import click

from nmt.errors import UserError

log = logging.getLogger("nmt")


def load_plugins(modules) -> None:
    """Import user modules that register attention mechanisms or model families."""
    for name in modules or ():
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise UserError(f"cannot import plugin module {name!r} ({exc}); is it on PYTHONPATH?") from None


def embedded_splits(max_words: int | None = None) -> dict:
    """The embedded synthetic corpus as {split: [(src, tgt), ...]}; ``max_words`` keeps the pairs with at
    most that many words on either side (the corpus has sentences of 2 to 94 words)."""
    from nmt.corpora.synthetic import splits

    def short(p) -> bool:
        return max_words is None or max(len(p.src.split()), len(p.tgt.split())) <= max_words

    return {name: [(p.src, p.tgt) for p in pairs if short(p)] for name, pairs in splits(align=False).items()}


def read_pairs(src, tgt, tsv, what: str, max_words: int | None = None):
    """Pairs from two parallel files or one TSV file, cleaned (blank and over-long pairs dropped and logged)."""
    from nmt.corpora.parallel import clean_pairs, read_parallel, read_tsv

    if tsv and (src or tgt):
        raise UserError(f"give either --{what}-tsv or --{what}-src/--{what}-tgt, not both")
    if bool(src) != bool(tgt):
        raise UserError(f"--{what}-src and --{what}-tgt go together; give both files")
    if tsv:
        pairs = read_tsv(tsv)
    elif src:
        pairs = read_parallel(src, tgt)
    else:
        return None
    kept, stats = clean_pairs(pairs, max_words=max_words, label=f"{what} corpus")
    if not kept:
        raise UserError(f"the {what} corpus has no usable pairs ({stats.summary()})")
    return kept


def corpus_options(split: str, required: bool = False):
    """--SPLIT-src / --SPLIT-tgt / --SPLIT-tsv options."""

    def decorate(f):
        f = click.option(f"--{split}-tsv", type=click.Path(dir_okay=False), help=f"{split.capitalize()} pairs as one TSV file (source<TAB>target).")(f)
        f = click.option(f"--{split}-tgt", type=click.Path(dir_okay=False), help=f"{split.capitalize()} target file, one sentence per line (.gz ok).")(f)
        f = click.option(f"--{split}-src", type=click.Path(dir_okay=False), help=f"{split.capitalize()} source file, one sentence per line (.gz ok).")(f)
        return f

    return decorate


def read_text_input(path) -> list[str]:
    """Sentences from a file (or stdin for '-' / None), one per line."""
    from nmt.corpora.parallel import decode_text, read_lines, split_lines

    if path in (None, "-"):  # the same checks and line rule as a file: a U+2028 or form feed is no line break
        return split_lines(decode_text(sys.stdin.buffer.read(), "standard input"))
    return read_lines(path)
