"""Options and helpers shared by the CLI commands."""

from __future__ import annotations

import contextlib
import logging
import re
import sys

import click

from nmt.errors import UserError

log = logging.getLogger("nmt")


def load_plugins(modules) -> None:
    """Import user modules that register attention mechanisms or model families."""
    from nmt.registry import import_plugins

    import_plugins(modules or ())


def override(config, section: str, aliases: dict | None = None, **values):
    """``config.override(section, **values)`` with errors that name the command-line option (see
    :func:`options_named`)."""
    with options_named(section, aliases):
        return config.override(section, **values)


@contextlib.contextmanager
def options_named(section: str, aliases: dict | None = None):
    """Errors about fields of ``section`` name the command-line options, with the fields after them:
    "--units must be an integer in [1, 65,536]; got 0 (model.units)", "--n-best (5) must be at most
    --beam-size (2) (decode.n_best, decode.beam_size)". ``aliases``: field -> the command's parameter
    name where they differ (``--tokenizer-type`` sets ``tokenizer.model_type``). Fields the command
    has no option for keep their names."""
    try:
        yield
    except UserError as exc:
        ctx = click.get_current_context(silent=True)
        flags = {p.name: p.opts[0] for p in ctx.command.params if p.opts} if ctx else {}
        named = []

        def flag(match):
            option = flags.get((aliases or {}).get(match.group(1), match.group(1)))
            if option is None or not option.startswith("--"):
                return match.group(0)
            named.append(match.group(0))
            return option

        message = re.sub(rf"\b{section}\.(\w+)", flag, str(exc))
        if not named:
            raise
        raise UserError(f"{message} ({', '.join(named)})") from None


def parallel_batches_option(f):
    """--parallel-batches: batches decoded at once (see :func:`start_threads`)."""
    return click.option("--parallel-batches", type=click.IntRange(1, 256), default=None,
                        help="Batches decoded at once, each on one core (TensorFlow then runs each op on one "
                             "thread). [default: the CPU cores; 1 with a GPU]")(f)


def start_threads(parallel_batches: int | None) -> int:
    """Sets TensorFlow's threads for ``parallel_batches`` concurrent searches (None: one per core) before
    the model is loaded; returns how many the translator will run (1 if TensorFlow had already started)."""
    from nmt.steps import default_streams, set_threads
    from nmt.translator import decode_streams

    wanted = default_streams() if parallel_batches is None else parallel_batches
    if wanted > 1 and not set_threads(wanted):
        log.warning("--parallel-batches %d has no effect: TensorFlow had started with its threads", wanted)
    return decode_streams()


def embedded_splits(max_words: int | None = None) -> dict:
    """The embedded synthetic corpus as {split: [(src, tgt), ...]}; ``max_words`` keeps the pairs with at
    most that many words on either side (the corpus has sentences of 2 to 94 words)."""
    from nmt.corpora.synthetic import splits

    def short(p) -> bool:
        return max_words is None or max(len(p.src.split()), len(p.tgt.split())) <= max_words

    return {name: [(p.src, p.tgt) for p in pairs if short(p)] for name, pairs in splits(align=False).items()}


def read_pairs(src, tgt, tsv, what: str, max_words: int | None = None, links=None):
    """Pairs from two parallel files or one TSV file, cleaned (blank and over-long pairs dropped and logged);
    with ``links`` (a file of one Pharaoh line per pair), ``(source, target, links)`` triples."""
    from nmt.corpora.parallel import clean_pairs, read_lines, read_parallel, read_tsv

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
    if links:
        lines = read_lines(links)
        if len(lines) != len(pairs):
            raise UserError(f"{links} has {len(lines)} lines but the {what} corpus has {len(pairs)} pairs; "
                            "give one line of word links per pair (blank: no links)")
        pairs = [(s, t, line) for (s, t), line in zip(pairs, lines)]
    kept, stats = clean_pairs(pairs, max_words=max_words, label=f"{what} corpus")
    if not kept:
        raise UserError(f"the {what} corpus has no usable pairs ({stats.summary()})")
    return kept


def corpus_options(split: str, required: bool = False):
    """--SPLIT-src / --SPLIT-tgt / --SPLIT-tsv options."""

    def decorate(f):
        f = click.option(f"--{split}-tsv", type=click.Path(dir_okay=False),
                         help=f"{split.capitalize()} pairs as one TSV file (source<TAB>target).")(f)
        f = click.option(f"--{split}-tgt", type=click.Path(dir_okay=False),
                         help=f"{split.capitalize()} target file, one sentence per line (.gz ok).")(f)
        f = click.option(f"--{split}-src", type=click.Path(dir_okay=False),
                         help=f"{split.capitalize()} source file, one sentence per line (.gz ok).")(f)
        return f

    return decorate


def read_text_input(path) -> list[str]:
    """Sentences from a file (or stdin for '-' / None), one per line."""
    return list(iter_text_input(path))


def iter_text_input(path):
    """Sentences from a file or standard input ('-' / None), one per line, read as they are needed:
    the same line rule and checks for both (a U+2028 or form feed is no line break), and bounded
    memory for endless input (a line of over 1 MiB is refused)."""
    from nmt.corpora.parallel import read_lines, stream_lines

    if path in (None, "-"):
        yield from stream_lines(sys.stdin.buffer, "standard input")
        return
    if is_stream(path):  # a pipe or device (-i /dev/stdin, <(cmd), /dev/zero): never read whole
        try:
            with open(path, "rb") as f:
                yield from stream_lines(f, str(path))
        except PermissionError:
            raise UserError(f"{path}: permission denied; make it readable") from None
        return
    yield from read_lines(path)


def is_stream(path) -> bool:
    from pathlib import Path

    from nmt.io import is_special

    return is_special(Path(path))
