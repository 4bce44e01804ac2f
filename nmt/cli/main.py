"""The ``nmt`` command: a click group whose commands live in one small module each.

User mistakes (:class:`nmt.errors.UserError`, click usage errors) print one line and exit 2;
internal errors (bugs) one line and exit 1; Ctrl-C exits 130; nothing prints a traceback unless
``NMT_DEBUG=1``.
"""

from __future__ import annotations

import errno
import importlib
import logging
import os
import sys

import click

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported anywhere


class LazyGroup(click.Group):
    """Imports each command's module only when it runs, so ``nmt --help`` is instant."""

    # The one command table: name -> (module:attribute of its click command, one line for `nmt --help`).
    # A new command is a module under nmt/cli/ and one line here.
    commands_table = {
        "train": ("nmt.cli.train:train", "Train a translation model (LSTM with pluggable attention, or Transformer)."),
        "translate": ("nmt.cli.translate:translate", "Translate text with a trained model directory."),
        "evaluate": ("nmt.cli.evaluate:evaluate",
                     "Score translations with sacreBLEU (BLEU and chrF, with signatures)."),
        "align": ("nmt.cli.align:align", "Word alignments from attention: links, soft matrices, heatmaps, AER."),
        "explore": ("nmt.cli.explore:explore", "Write one offline HTML page to click through a model's attention."),
        "data": ("nmt.cli.data:data", "Get corpora: real ones with checksums, or the embedded synthetic corpus."),
        "demo": ("nmt.cli.demo:demo", "Train a small model on the embedded corpus, translate, print test BLEU."),
        "benchmark": ("nmt.cli.benchmark:benchmark",
                      "Train several models on the same data, tokenizer and budget; write a report."),
        "classify": ("nmt.cli.classify:classify",
                     "Text classification (AG News, your CSV/TSV) over the translation encoders."),
        "export": ("nmt.cli.export:export", "Export a model directory as a SavedModel that takes raw strings."),
        "average": ("nmt.cli.average:average",
                    "Average the last N checkpoints of a training into a new model directory."),
    }

    def format_commands(self, ctx, formatter):
        with formatter.section("Commands"):
            formatter.write_dl([(name, self.commands_table[name][1]) for name in self.list_commands(ctx)])

    def list_commands(self, ctx):
        return sorted(self.commands_table)

    def resolve_command(self, ctx, args):
        # `nmt CMD --help` only prints: it imports no TensorFlow (command modules import it lazily).
        ctx.meta["nmt.help_only"] = any(a in ctx.help_option_names for a in args[1:])
        return super().resolve_command(ctx, args)

    def get_command(self, ctx, name):
        if name not in self.commands_table:
            return None
        _quiet_tensorflow(ctx)  # before the command's module can import it
        module, attr = self.commands_table[name][0].split(":")
        return getattr(importlib.import_module(module), attr)


def _quiet_tensorflow(ctx) -> None:
    """Import TensorFlow with its C++ start-up lines hidden, unless asked for them or only printing help."""
    if ctx.meta.get("nmt.help_only") or ctx.params.get("verbose") or os.environ.get("NMT_DEBUG") == "1":
        return
    from nmt.quiet import import_tensorflow_quietly

    import_tensorflow_quietly()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("-v", "--verbose", is_flag=True, help="Show debug logging.")
@click.version_option(package_name="nmt")
def cli(verbose: bool):
    """nmt: neural machine translation in which attention is visible.

    Start with 'nmt demo'. Every command has --help.
    """
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="nmt: %(message)s", stream=sys.stderr)
    _quiet_tensorflow(click.get_current_context())
    for noisy in ("tensorflow", "absl", "matplotlib", "h5py"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def main(argv=None) -> None:
    """Console entry point."""
    from nmt.errors import UserError

    debug = os.environ.get("NMT_DEBUG") == "1"
    try:
        cli.main(args=argv, prog_name="nmt", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("nmt: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:  # usage errors: one line, with where to look
        cmd = exc.ctx.command_path if getattr(exc, "ctx", None) else "nmt"
        click.echo(f"error: {exc.format_message()} (see '{cmd} --help')", err=True)
        sys.exit(exc.exit_code)
    except UserError as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("nmt: interrupted", err=True)
        sys.exit(130)
    except OSError as exc:
        if debug or exc.errno not in _ENVIRONMENT:
            raise _internal(exc, debug)  # noqa: B904 (exc itself under NMT_DEBUG, else SystemExit)
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"error: {where}{exc.strerror or exc}; {_ENVIRONMENT[exc.errno]}", err=True)
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001 - a bug, not the user's mistake: one line and exit 1
        raise _internal(exc, debug)  # noqa: B904 (as above: exc itself, or SystemExit)
    sys.exit(0)


# Errors of the machine rather than of nmt (a full disk, a symbolic-link loop, a permission): the
# user's to fix, so one line and exit 2; the writers left nothing half-written behind (nmt.io).
_ENVIRONMENT = {
    errno.ENOSPC: "free some space or write somewhere else (nothing was left half-written)",
    errno.EDQUOT: "your disk quota is used up; free some space or write somewhere else",
    errno.EFBIG: "the file system does not take files this large; write somewhere else",
    errno.EROFS: "that file system is read-only; write somewhere else",
    errno.EACCES: "check the permissions",
    errno.EPERM: "check the permissions",
    errno.ELOOP: "a symbolic link points back to itself (a loop); fix or remove the link",
    errno.ENAMETOOLONG: "use a shorter path",
    errno.ENOENT: "check the path",
    errno.ENOTDIR: "a part of the path is a file, not a folder; check the path",
    errno.EISDIR: "that is a folder; give a file",
    errno.EMFILE: "too many open files; raise the limit (ulimit -n)",
    errno.EIO: "the device reported an input/output error",
}


def _internal(exc, debug):
    if debug:
        return exc
    message = " ".join(str(exc).split())[:300]
    click.echo(f"internal error: {type(exc).__name__}: {message} (a bug in nmt; NMT_DEBUG=1 shows the traceback)",
               err=True)
    return SystemExit(1)


if __name__ == "__main__":
    main()
