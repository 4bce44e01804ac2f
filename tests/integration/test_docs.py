"""The documentation cannot drift from the code: every command it shows parses, every link resolves.

Every command line that runs ``nmt`` in a ```` ```bash ```` block of README.md or docs/*.md is parsed
with the real click command tree, without running it (tests/docs_commands.py says how); every
``python scripts/*.py`` command line (in a block or inline) with the script's own argparse parser.
One test per command, named after its page and line, so a failure says which line to fix.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import click
import pytest

from tests.docs_commands import (
    ROOT,
    DocCommandError,
    check,
    check_nmt_args,
    commands_in,
    doc_files,
    documented_commands,
    fenced_blocks,
    logical_lines,
    tour_commands,
)

COMMANDS = documented_commands()


def _ids(commands):
    seen: dict[str, int] = {}
    ids = []
    for c in commands:
        seen[c.where] = seen.get(c.where, 0) + 1
        ids.append(c.where if seen[c.where] == 1 else f"{c.where}#{seen[c.where]}")
    return ids


@pytest.mark.parametrize("command", COMMANDS, ids=_ids(COMMANDS))
def test_documented_command_fits_the_cli(command):
    try:
        check(command)
    except DocCommandError as exc:
        pytest.fail(f"{command.where}: {command.text.strip()}\n    {exc}", pytrace=False)


def test_the_docs_show_commands_of_every_family():
    """The extraction finds the commands (an extractor that finds nothing would pass every test above)."""
    nmt = [c for c in COMMANDS if c.kind == "nmt"]
    assert len(nmt) >= 40, [c.where for c in nmt]
    checked = set()
    for c in nmt:
        words = [w for w in c.args if not w.startswith("-")]
        checked.add(words[0] if words[0] not in ("data", "classify") else " ".join(words[:2]))
    assert {"demo", "train", "translate", "align", "evaluate", "benchmark", "export", "average", "data fetch",
            "classify train", "classify evaluate", "classify predict"} <= checked
    assert any(c.kind == "script" for c in COMMANDS)


def test_the_readme_has_a_tour_of_nmt_commands():
    tour = tour_commands()
    assert len(tour) >= 3
    tour_nmt = [c for c in commands_in(ROOT / "README.md") if "tour" in c.tags and c.kind == "nmt"]
    assert {c.args[0] for c in tour_nmt} >= {"translate", "align", "evaluate"}
    assert all("nmt-demo" in c.args for c in tour_nmt), "the tour runs on the demo's model directory"


# --- the checker itself: it must find drift, and read shell the way the docs write it --------------


def _doc(tmp_path, body: str) -> Path:
    path = tmp_path / "page.md"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_a_misspelled_option_fails_and_names_the_line(tmp_path):
    page = _doc(tmp_path, """\
        # A page

        ```bash
        echo "the man sees the dog ." | nmt translate nmt-demo --beam-sise 4
        ```
        """)
    [command] = [c for c in commands_in(page) if c.kind == "nmt"]
    assert command.where == "page.md:4"
    with pytest.raises(DocCommandError, match="--beam-sise"):
        check(command)
    command.args[command.args.index("--beam-sise")] = "--beam-size"  # the same line, spelt right, passes
    assert check(command) == "nmt translate"


@pytest.mark.parametrize("line, message", [
    ("nmt transalte nmt-demo", "transalte"),                                 # no such command
    ("nmt classify trian --model-dir m", "trian"),                           # no such subcommand
    ("nmt translate nmt-demo --alignments medium", "medium"),                # not a choice
    ("nmt translate nmt-demo --beam-size four", "four"),                     # not an integer
    ("nmt train --model-dir m --time-budget half", "half"),                  # not a number
    ("nmt train --train-src a.txt --steps 5", "--model-dir"),                # required option missing
    ("nmt export runs/m30k", "OUT_DIR"),                                     # required argument missing
    ("nmt average runs/a runs/b runs/c", "runs/c"),                          # an extra argument
    ("nmt data", "subcommand"),                                              # a group alone
    ("nmt train ... --acumulate 4", "--acumulate"),                          # '...' excuses nothing else
    ("python scripts/bench_placement.py --stepz 40", "--stepz"),             # scripts: argparse
    ("python scripts/bench_placement.py --steps forty", "forty"),
    ("python scripts/no_such_script.py", "no_such_script"),
])
def test_drift_is_caught(tmp_path, line, message):
    page = _doc(tmp_path, f"```bash\n{line}\n```\n")
    [command] = [c for c in commands_in(page) if c.kind != "other"]
    with pytest.raises(DocCommandError, match=re.escape(message)):
        check(command)


def test_shell_is_read_as_a_shell_reads_it(tmp_path):
    page = _doc(tmp_path, """\
        ```bash
        # a comment line, then a continued command with a comment at its end
        nmt train --model-dir runs/m \\
            --train-src a.en --train-tgt a.de \\
            --steps 10          # minutes; or --steps N
        TF_CONFIG='{"cluster": {"worker": ["h1:1", "h2:1"]}, "task": {"type": "worker", "index": 0}}' \\
            nmt train --model-dir runs/m --strategy multiworker ...
        echo "a b ." | .venv/bin/nmt translate runs/m --n-best 2 --beam-size 2 > out.txt 2>/dev/null
        head -n 3 test.en | python -m nmt translate runs/m && pip install x; nmt evaluate --hyp h --ref r
        python3 -m venv .venv && .venv/bin/pip install .
        ```
        """)
    commands = commands_in(page)
    nmt = [(c.line, c.args) for c in commands if c.kind == "nmt"]
    assert nmt == [
        (3, ["train", "--model-dir", "runs/m", "--train-src", "a.en", "--train-tgt", "a.de", "--steps", "10"]),
        (6, ["train", "--model-dir", "runs/m", "--strategy", "multiworker", "..."]),
        (8, ["translate", "runs/m", "--n-best", "2", "--beam-size", "2"]),
        (9, ["translate", "runs/m"]),
        (9, ["evaluate", "--hyp", "h", "--ref", "r"]),
    ]
    for c in commands:
        if c.kind == "nmt":
            check(c)
    assert [c.words[0] for c in commands if c.kind == "other"] == ["echo", "head", "pip", "python3", ".venv/bin/pip"]


def test_only_blocks_tagged_tour_are_the_tour(tmp_path):
    page = _doc(tmp_path, """\
        <!-- tour -->
        ```bash
        nmt evaluate nmt-demo --embedded-test
        ```

        ```bash
        nmt train --model-dir runs/own --train-src mine.en --train-tgt mine.de --steps 5
        ```
        """)
    assert tour_commands(page) == [(3, "nmt evaluate nmt-demo --embedded-test")]
    assert [b.tags for b in fenced_blocks(page)] == [{"tour"}, set()]
    assert logical_lines(fenced_blocks(page)[1]) == [
        (7, "nmt train --model-dir runs/own --train-src mine.en --train-tgt mine.de --steps 5")]


def test_paths_that_must_exist_are_not_held_against_the_docs():
    """Docs name the reader's files: Path(exists=True) and File parameters are relaxed, nothing else."""

    @click.group()
    def root():
        pass

    @root.command()
    @click.argument("model_dir", type=click.Path(exists=True, file_okay=False))
    @click.option("--data", type=click.File("r"), required=True)
    @click.option("--n", type=int)
    def run(model_dir, data, n):
        raise AssertionError("never runs")

    assert check_nmt_args(["run", "no/such/dir", "--data", "no/such/file", "--n", "3"], root=root) == "nmt run"
    with pytest.raises(DocCommandError, match="'three'"):
        check_nmt_args(["run", "no/such/dir", "--data", "no/such/file", "--n", "three"], root=root)
    with pytest.raises(DocCommandError, match="--data"):
        check_nmt_args(["run", "no/such/dir"], root=root)
    assert run.params[0].type.exists and isinstance(run.params[1].type, click.File)  # the real command is untouched


# --- links and images -------------------------------------------------------------------------------

LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_SRC = re.compile(r"<(?:img|a)\s[^>]*(?:src|href)=\"([^\"]+)\"")


def _prose(text: str) -> str:
    """The text outside code blocks and inline code."""
    out, fence = [], False
    for line in text.split("\n"):
        if re.match(r"^\s*(`{3,}|~{3,})", line):
            fence = not fence
            out.append("")
            continue
        out.append("" if fence else re.sub(r"(`+)[^`]*?\1", "", line))
    return "\n".join(out)


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip())
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found, counts, fence = set(), {}, False
    for line in path.read_text(encoding="utf-8").split("\n"):
        if re.match(r"^\s*(`{3,}|~{3,})", line):
            fence = not fence
        elif not fence and (m := re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)):
            anchor = github_anchor(m.group(1))
            n = counts.get(anchor, 0)
            counts[anchor] = n + 1
            found.add(anchor if n == 0 else f"{anchor}-{n}")
    return found


def links(path: Path) -> list[tuple[int, str]]:
    out = []
    for i, line in enumerate(_prose(path.read_text(encoding="utf-8")).split("\n"), 1):
        out += [(i, m.group(1)) for m in LINK.finditer(line)]
        out += [(i, m.group(1)) for m in HTML_SRC.finditer(line)]
    return out


RELATIVE_LINKS = [(page, line, target) for page in doc_files() for line, target in links(page)
                  if not re.match(r"^[a-z][a-z0-9+.-]*:", target)]  # http:, https:, mailto: are not checked


def test_links_are_found():
    targets = {t for _, _, t in RELATIVE_LINKS}
    assert "results/alignment_embedded_lstm-additive.png" in targets  # the README's picture
    assert "docs/training.md" in targets and any(t.startswith("../results/") for t in targets)


@pytest.mark.parametrize("page, line, target", RELATIVE_LINKS,
                         ids=[f"{p.relative_to(ROOT).as_posix()}:{n}:{t}" for p, n, t in RELATIVE_LINKS])
def test_relative_link_exists(page, line, target):
    where = f"{page.relative_to(ROOT).as_posix()}:{line}"
    file_part, _, fragment = target.partition("#")
    resolved = (page.parent / file_part).resolve() if file_part else page
    assert resolved.exists(), f"{where}: {target} does not exist ({resolved})"
    assert ROOT in resolved.parents or resolved == ROOT, f"{where}: {target} points outside the repository"
    if fragment and resolved.suffix == ".md":
        assert fragment in anchors(resolved), f"{where}: no heading for #{fragment} in {resolved.name}"


def test_anchors_follow_github(tmp_path):
    page = _doc(tmp_path, """\
        # Training (`nmt train`, `nmt average`)
        ## LSTM + additive attention on Multi30k en→de (`scripts/bench_translation.py`)
        ## Dependencies, and why
        ## Dependencies, and why
        """)
    assert anchors(page) == {"training-nmt-train-nmt-average",
                             "lstm--additive-attention-on-multi30k-ende-scriptsbench_translationpy",
                             "dependencies-and-why", "dependencies-and-why-1"}


def test_links_are_read_from_prose_only(tmp_path):
    page = _doc(tmp_path, """\
        See [the guide](docs/guide.md#start), ![a figure](../results/a.png) and <img src="b.svg">.
        Not `[inline](code.md)`, nor [the web](https://example.org).

        ```bash
        echo "[in a block](block.md)"
        ```
        """)
    assert links(page) == [(1, "docs/guide.md#start"), (1, "../results/a.png"), (1, "b.svg"),
                           (2, "https://example.org")]
