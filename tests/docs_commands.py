"""The command lines shown in README.md and docs/*.md, and checks that they still fit the CLI.

Shared by ``tests/integration/test_docs.py`` (every ``nmt`` command parses against the real click
command tree, without running it) and ``tests/slow/test_readme_tour.py`` (the README's tour runs
verbatim).

A *command line* is one logical line of a fenced ```` ```bash ```` block: ``\\`` continuations are
joined, comments dropped, and the line is split into shell words (``shlex``) and into the commands
of a pipeline or list (``|``, ``&&``, ``||``, ``;``). A command invokes ``nmt`` when, after
``NAME=value`` environment prefixes, its program is ``nmt`` (any path ending in ``/nmt``, such as
``.venv/bin/nmt``) or ``python -m nmt``; it invokes a script when it is ``python scripts/NAME.py``.
A block is tagged by an HTML comment on the line before its fence, e.g. ``<!-- tour -->``.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import importlib.util
import io
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
ELLIPSIS = "..."  # in a doc command: arguments left out
SEPARATORS = {"|", "&&", "||", ";", "&", "|&"}
REDIRECTIONS = {"<", ">", ">>", "<<", "<<<", ">&", "&>", "<>", ">|"}
ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
PYTHON = re.compile(r"^(.*/)?python(3(\.\d+)?)?$")


def doc_files(root: Path = ROOT) -> list[Path]:
    """README.md and every page under docs/."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


@dataclass
class Block:
    path: Path
    line: int  # 1-based line of the first line inside the fence
    language: str
    lines: list[str]
    tags: set[str] = field(default_factory=set)


@dataclass
class Command:
    """One command of a documented command line."""

    path: Path
    line: int  # 1-based line in the file where the command line starts
    text: str  # the whole logical line, as a shell would read it (continuations joined)
    words: list[str]  # this command's words, environment prefixes and redirections removed
    kind: str  # "nmt", "script" or "other"
    args: list[str]  # for nmt: the arguments after the program; for a script: after its path
    script: str | None = None  # for kind "script": the script's path relative to the repository
    tags: set[str] = field(default_factory=set)

    @property
    def where(self) -> str:
        try:
            name = self.path.relative_to(ROOT).as_posix()
        except ValueError:
            name = self.path.name
        return f"{name}:{self.line}"


def fenced_blocks(path: Path) -> list[Block]:
    """Every fenced code block of a Markdown file, with the tags of an HTML comment just before it."""
    blocks, current, fence = [], None, ""
    lines = path.read_text(encoding="utf-8").split("\n")
    for i, line in enumerate(lines):
        stripped = line.strip()
        if current is None:
            m = re.match(r"^(`{3,}|~{3,})\s*([\w+-]*)", stripped)
            if m:
                fence = m.group(1)
                tags = set()
                previous = lines[i - 1].strip() if i else ""
                tag = re.fullmatch(r"<!--\s*(.*?)\s*-->", previous)
                if tag:
                    tags = set(tag.group(1).split())
                current = Block(path, i + 2, m.group(2).lower(), [], tags)
        elif stripped.startswith(fence) and stripped.strip(fence[0]) == "":
            blocks.append(current)
            current = None
        else:
            current.lines.append(line)
    return blocks


def logical_lines(block: Block) -> list[tuple[int, str]]:
    """(line number, text) of each logical line: continuations joined, blank and comment lines skipped."""
    out, pending, start = [], "", 0
    for offset, raw in enumerate(block.lines):
        line = raw.rstrip()
        if not pending:
            start = block.line + offset
            if not line.strip() or line.lstrip().startswith("#"):
                continue
        if line.endswith("\\") and not _in_comment(line):
            pending += line[:-1] + " "
            continue
        out.append((start, pending + line))
        pending = ""
    if pending:
        out.append((start, pending))
    return out


def _in_comment(line: str) -> bool:
    """Whether the trailing backslash of ``line`` sits in a comment (then it continues nothing)."""
    quote, start_of_word = None, True
    for ch in line:
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and start_of_word:
            return True
        start_of_word = ch.isspace()
    return False


def _split(text: str) -> list[str]:
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    return list(lexer)


def split_commands(text: str) -> list[list[str]]:
    """The shell words of each command of a pipeline or list, redirections removed."""
    commands, words, skip = [], [], False
    text = re.sub(r"(?<=\s)\d(?=[<>])", "", text)  # 2>file: the descriptor goes with the redirection
    for word in _split(text):
        if skip:
            skip = False
            continue
        if word in SEPARATORS:
            commands.append(words)
            words = []
        elif word in REDIRECTIONS:
            skip = True  # the redirection's target goes with it
        else:
            words.append(word)
    commands.append(words)
    return [c for c in commands if c]


def classify(words: list[str]) -> tuple[str, list[str], list[str], str | None]:
    """(kind, words without environment prefixes, arguments, script) of one command."""
    while words and ENV_ASSIGNMENT.match(words[0]):
        words = words[1:]
    if not words:
        return "other", words, [], None
    program = words[0]
    if program == "nmt" or program.endswith("/nmt"):
        return "nmt", words, words[1:], None
    if PYTHON.match(program):
        rest = words[1:]
        if rest[:2] == ["-m", "nmt"]:
            return "nmt", words, rest[2:], None
        if rest and re.fullmatch(r"scripts/[\w.-]+\.py", rest[0]):
            return "script", words, rest[1:], rest[0]
    return "other", words, [], None


def commands_in(path: Path, languages=("bash", "sh", "shell", "console")) -> list[Command]:
    """Every command of every logical line of the shell code blocks of one Markdown file."""
    out = []
    for block in fenced_blocks(path):
        if block.language not in languages:
            continue
        for line, text in logical_lines(block):
            for words in split_commands(text):
                kind, words, args, script = classify(words)
                out.append(Command(path, line, text, words, kind, args, script, set(block.tags)))
    return out


def inline_script_commands(path: Path) -> list[Command]:
    """``python scripts/NAME.py ...`` written inline (in backticks) outside code blocks: full command lines."""
    out, fence = [], False
    for i, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if re.match(r"^\s*(`{3,}|~{3,})", line):
            fence = not fence
            continue
        if fence:
            continue
        for m in re.finditer(r"`(python3? scripts/[^`]+)`", line):
            for words in split_commands(m.group(1)):
                kind, words, args, script = classify(words)
                if kind == "script":
                    out.append(Command(path, i, m.group(1), words, kind, args, script))
    return out


def documented_commands(paths=None) -> list[Command]:
    """Every nmt and script command shown in the docs (README.md and docs/*.md by default), in page order."""
    out = []
    for path in paths or doc_files():
        page_commands = [c for c in commands_in(path) if c.kind != "other"] + inline_script_commands(path)
        out += sorted(page_commands, key=lambda c: c.line)
    return out


def tour_commands(readme: Path = ROOT / "README.md", tag: str = "tour") -> list[tuple[int, str]]:
    """(line, text) of each logical line of the README's code blocks tagged ``<!-- tour -->``."""
    return [lt for block in fenced_blocks(readme) if tag in block.tags for lt in logical_lines(block)]


# --- checking nmt commands against the click command tree ------------------------------------------


class DocCommandError(Exception):
    """A documented command does not fit the CLI; the message says why."""


def _relaxed(command):
    """A copy of a click command whose path and file parameters take any string.

    Documented commands name the reader's files, which do not exist here; a ``click.Path(exists=True)``
    would refuse them and a ``click.File`` would open them. Everything else (names, choices, number
    types, required parameters) is left as it is.
    """
    import click

    relaxed = copy.copy(command)
    relaxed.params = [copy.copy(param) for param in command.params]  # copies: the originals stay untouched
    for param in relaxed.params:
        if isinstance(param.type, (click.Path, click.File)):
            param.type = click.STRING
    return relaxed


def _drop_ellipses(command, args: list[str]) -> tuple[list[str], bool]:
    """Remove ``...`` words that stand for left-out arguments; keep one given as an option's value."""
    takes_value = set()
    for param in command.params:
        if getattr(param, "is_flag", False) or getattr(param, "count", False) or param.param_type_name != "option":
            continue
        takes_value.update(param.opts)
    out, elided = [], False
    for i, word in enumerate(args):
        if word == ELLIPSIS:
            elided = True
            if not (i and args[i - 1] in takes_value):
                continue
        out.append(word)
    return out, elided


def check_nmt_args(args: list[str], root=None) -> str:
    """Parse ``nmt ARGS`` with the real command tree without running anything; return the command path.

    Raises DocCommandError when a subcommand or option does not exist, a choice or number does not
    convert, or a required option or argument is missing (not checked where ``...`` leaves arguments out).
    ``root`` is the command tree (default: ``nmt.cli.main:cli``).
    """
    import click

    if root is None:
        from nmt.cli.main import cli as root
    cli = root
    names = ["nmt"]
    try:
        ctx = cli.make_context("nmt", list(args))
        command, rest = cli, [*getattr(ctx, "_protected_args", []), *ctx.args]
        while isinstance(command, click.Group):
            if not rest:
                raise DocCommandError(f"'{' '.join(names)}' needs a subcommand")
            name, sub, rest = command.resolve_command(ctx, rest)
            names.append(name)
            elided = False
            if not isinstance(sub, click.Group):  # a group passes its arguments on to a subcommand
                rest, elided = _drop_ellipses(sub, rest)
            relaxed = _relaxed(sub)
            if elided:
                for param in relaxed.params:
                    param.required = False
            ctx = relaxed.make_context(name, list(rest), parent=ctx)
            command, rest = sub, [*getattr(ctx, "_protected_args", []), *ctx.args]
    except click.exceptions.Exit as exc:  # --help or --version
        if exc.exit_code != 0:
            raise DocCommandError(f"'{' '.join(names)}' exited with status {exc.exit_code}") from None
    except click.ClickException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # a group given nothing prints its help (click >= 8.2)
            raise DocCommandError(f"'{' '.join(names)}' needs a subcommand") from None
        raise DocCommandError(f"'{' '.join(names)}': {exc.format_message()}") from None
    return " ".join(names)


def check_nmt(command: Command) -> str:
    if command.kind != "nmt":
        raise ValueError(f"{command.where} is not an nmt command")
    return check_nmt_args(command.args)


# --- checking scripts against their argparse parsers ----------------------------------------------


class _Parsed(Exception):
    pass


_script_modules: dict[str, object] = {}


def _load_script(script: str):
    if script not in _script_modules:
        path = ROOT / script
        if not path.is_file():
            raise DocCommandError(f"{script} does not exist")
        spec = importlib.util.spec_from_file_location(f"_doc_script_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if not hasattr(module, "main"):
            raise DocCommandError(f"{script} has no main(argv)")
        _script_modules[script] = module
    return _script_modules[script]


def check_script_args(script: str, args: list[str]) -> None:
    """Parse ``python SCRIPT ARGS`` with the script's own argparse parser, stopping right after parsing.

    Every script's ``main(argv)`` builds its parser and parses first; parse_args is intercepted, so
    nothing after it runs.
    """
    module = _load_script(script)
    original = argparse.ArgumentParser.parse_args

    def parse_then_stop(self, args=None, namespace=None):
        raise _Parsed(original(self, args, namespace))

    stderr = io.StringIO()
    with mock.patch.object(argparse.ArgumentParser, "parse_args", parse_then_stop), contextlib.redirect_stderr(stderr):
        try:
            module.main(list(args))
        except _Parsed:
            return
        except SystemExit as exc:
            if exc.code in (0, None):
                return
            message = stderr.getvalue().strip().splitlines()
            raise DocCommandError(message[-1] if message else f"exit status {exc.code}") from None
    raise DocCommandError(f"{script}: main() returned without parsing its arguments")


def check(command: Command) -> str:
    """Check one documented command; returns what was checked."""
    if command.kind == "nmt":
        return check_nmt(command)
    if command.kind == "script":
        check_script_args(command.script, command.args)
        return command.script
    raise ValueError(f"{command.where}: nothing to check for {command.words[:1]}")

