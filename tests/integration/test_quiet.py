"""A new user's terminal shows nmt's output, not TensorFlow's C++ start-up notices (which ignore
TF_CPP_MIN_LOG_LEVEL and are written to file descriptor 2 directly, so only a real process shows them)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTICES = ("oneDNN custom operations", "cudart_stub", "cpu_feature_guard", "absl::InitializeLog")


def test_command_help_prints_no_tensorflow_notices():
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "NMT_DEBUG")}
    done = subprocess.run([sys.executable, "-m", "nmt", "train", "--help"], capture_output=True, text=True,
                          env={**env, "PYTHONPATH": str(ROOT)}, cwd=ROOT, timeout=300)
    assert done.returncode == 0 and "--target-bleu" in done.stdout
    assert not [n for n in NOTICES if n in done.stderr], done.stderr


HELP_WITHOUT_TENSORFLOW = """
import sys
import click
from nmt.cli.main import LazyGroup, cli, main

def run(args):
    try:
        main(args + ["--help"])
    except SystemExit as e:
        assert e.code == 0, args
    assert "tensorflow" not in sys.modules, f"nmt {' '.join(args)} --help imported TensorFlow"

for name in sorted(LazyGroup.commands_table):
    run([name])
    ctx = click.Context(cli, info_name="nmt")
    ctx.meta["nmt.help_only"] = True
    command = cli.get_command(ctx, name)
    assert isinstance(command, click.Command) and command.name == name, (name, command)  # the table names it
    for sub in sorted(getattr(command, "commands", {})):
        run([name, sub])
print("checked", len(LazyGroup.commands_table))
"""


def test_help_of_every_command_answers_without_importing_tensorflow():
    # `nmt train --help` used to import TensorFlow (5 s) to list the registries' names.
    done = subprocess.run([sys.executable, "-c", HELP_WITHOUT_TENSORFLOW], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT, timeout=120)
    assert done.returncode == 0 and "checked 11" in done.stdout, done.stderr[-2000:]
