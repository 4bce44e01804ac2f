"""The README's Quickstart demo and five-minute tour, run verbatim as a newcomer would run them.

The commands are read from README.md (the Quickstart line that runs ``nmt demo``, and the code block
after ``<!-- tour -->``) by the same extraction as tests/integration/test_docs.py, and each runs
through ``bash -c`` in a temporary working directory that holds links to the repository's ``data/``
and to this virtual environment as ``.venv``, with the environment's ``bin`` first on PATH: so
``.venv/bin/nmt demo``, ``nmt ...`` and ``data/synthetic/test.en`` work as written, and the demo's
model directory and everything the tour writes stay in the temporary directory.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs_commands import ROOT, classify, commands_in, split_commands, tour_commands

pytestmark = pytest.mark.slow

README = ROOT / "README.md"
PIPE_LINE = re.compile(r"^\d+ \|\|\| .* \|\|\| -?\d+(\.\d+)?$")


def quickstart_demo_line() -> tuple[int, str]:
    """The README's Quickstart command line that runs ``nmt demo`` (the install step before it is not run)."""
    demo = [c for c in commands_in(README) if c.kind == "nmt" and c.args[:1] == ["demo"] and "tour" not in c.tags]
    assert demo, "README.md's Quickstart has no 'nmt demo' line"
    if len(split_commands(demo[0].text)) == 1:
        return demo[0].line, demo[0].text
    return demo[0].line, shlex.join(demo[0].words)  # only the demo of a line such as 'pip install . && nmt demo'


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("readme")
    (work / "data").symlink_to(ROOT / "data", target_is_directory=True)
    (work / ".venv").symlink_to(Path(sys.executable).parent.parent, target_is_directory=True)
    return work


def bash(line: str, cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("NMT_DEBUG", None)
    return subprocess.run(["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_quickstart_demo_then_the_tour(workdir):
    line_no, demo = quickstart_demo_line()
    result = bash(demo, workdir, timeout=3600)
    assert result.returncode == 0, f"README.md:{line_no}: {demo}\n{result.stderr[-3000:]}"
    assert re.search(r"Test .*BLEU", result.stdout), result.stdout
    assert "nrefs:1" in result.stdout  # sacreBLEU signature
    heatmap = workdir / "nmt-demo" / "attention.png"
    assert heatmap.read_bytes()[:4] == b"\x89PNG", "the demo draws nmt-demo/attention.png"

    tour = tour_commands(README)
    assert len(tour) >= 3
    for line_no, line in tour:
        where = f"README.md:{line_no}: {line}"
        result = bash(line, workdir, timeout=1200)
        assert result.returncode == 0, f"{where}\n{result.stderr[-3000:]}"
        assert result.stdout.strip(), f"{where}: printed nothing"
        for words in split_commands(line):
            kind, words, args, _ = classify(words)
            if kind == "nmt":
                check_what_it_made(args, result.stdout, workdir, where)


def _option(args: list[str], *names: str) -> str | None:
    for i, word in enumerate(args[:-1]):
        if word in names:
            return args[i + 1]
    return None


def check_what_it_made(args: list[str], stdout: str, cwd: Path, where: str) -> None:
    """What the README says each kind of tour command produces."""
    command = args[0]
    lines = stdout.strip().splitlines()
    output = _option(args, "-o", "--output")
    if output:
        assert (cwd / output).stat().st_size > 0, f"{where}: {output} is empty"
    if command == "translate":
        n_best = _option(args, "--n-best")
        if n_best:
            assert all(PIPE_LINE.match(x) for x in lines), f"{where}: not 'i ||| text ||| score' lines:\n{stdout}"
            assert len(lines) % int(n_best) == 0 and len(lines) >= int(n_best), stdout
        else:
            assert all(x.strip() for x in lines), f"{where}: an empty translation:\n{stdout}"
    elif command == "align":
        if "--gold" in args:
            assert re.search(r"AER [\d.]+\s+precision [\d.]+\s+recall [\d.]+", stdout), f"{where}:\n{stdout}"
        if output and "-t" in args:
            links = (cwd / output).read_text().splitlines()
            assert links and all(re.fullmatch(r"(\d+[-?p]\d+( \d+[-?p]\d+)*)?", x) for x in links), links[:3]
        plot_dir = _option(args, "--plot-dir")
        if plot_dir:
            plots = int(_option(args, "--plots") or 20)
            drawn = sorted(p.name for p in (cwd / plot_dir).glob("sentence_*.png"))
            assert drawn == [f"sentence_{i:04d}.png" for i in range(plots)], f"{where}: {drawn}"
    elif command == "evaluate":
        assert re.search(r"BLEU", stdout) and re.search(r"chrF", stdout), f"{where}:\n{stdout}"
        assert "nrefs:1" in stdout, f"{where}: no sacreBLEU signature:\n{stdout}"
