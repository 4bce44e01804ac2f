"""Report provenance: paths as a reader can follow them, and the header a report starts with."""

from pathlib import Path

import pytest

from nmt import benchinfo
from nmt.errors import UserError

ROOT = Path(__file__).resolve().parents[2]


def test_paths_are_named_relative_to_the_repository_or_shared(tmp_path):
    assert benchinfo.shown_path(ROOT / "results" / "demo.md") == "results/demo.md"
    shared = ROOT.parent / "shared" / "data" / "multi30k" / "train.en.gz"
    assert benchinfo.shown_path(shared) == "../shared/data/multi30k/train.en.gz"
    assert benchinfo.shown_path(tmp_path / "x") == str(tmp_path / "x")  # elsewhere: as given


def test_the_markdown_header_says_whether_the_tree_was_clean():
    dirty = benchinfo.markdown_header({"utc_date": "2026-11-30T12:00:00Z", "commit": "abc", "clean_tree": False})
    assert dirty == "Date (UTC): 2026-11-30T12:00:00Z; commit `abc` (UNCOMMITTED CHANGES)."
    assert "(clean tree)" in benchinfo.markdown_header({"utc_date": "d", "commit": "c", "clean_tree": True})
    assert "(not a git checkout)" in benchinfo.markdown_header({"utc_date": "d", "commit": None, "clean_tree": None})


def test_reports_record_the_speed_settings_the_command_line_does_not_show(tmp_path, monkeypatch):
    import nmt

    monkeypatch.setattr(nmt, "__path__", list(nmt.__path__))  # start() points the package at its code copy
    monkeypatch.setenv("PYTHONPATH", "")
    monkeypatch.setenv("NMT_PROVENANCE", "")
    monkeypatch.setenv("NMT_CHECKOUT", "")
    for name in benchinfo.SPEED_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    monkeypatch.setenv("TF_NUM_INTEROP_THREADS", "2")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")  # logging only: not a speed setting
    settings = benchinfo.speed_settings()
    assert settings == {"TF_ENABLE_ONEDNN_OPTS": "0", "TF_NUM_INTEROP_THREADS": "2"}
    assert benchinfo.start(root=tmp_path)["environment"] == settings  # what every report's header holds
    line = benchinfo.markdown_header({"utc_date": "d", "commit": "c", "clean_tree": True, "environment": settings})
    assert line == "Date (UTC): d; commit `c` (clean tree). Environment: `TF_ENABLE_ONEDNN_OPTS=0`, " \
                   "`TF_NUM_INTEROP_THREADS=2`."
    for name in benchinfo.SPEED_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    assert benchinfo.speed_settings() == {}
    assert "Environment" not in benchinfo.markdown_header({"utc_date": "d", "commit": "c", "clean_tree": True,
                                                           "environment": {}})


def test_the_machine_line_names_what_the_report_recorded():
    report = {"machine": benchinfo.machine(), "versions": benchinfo.versions()}  # what every script records
    line = benchinfo.machine_line(report)
    assert line.startswith(f"Machine: {report['machine']['cpu']}, {report['machine']['cores']} cores, ")
    assert all(f"{name} {version}" in line for name, version in report["versions"].items())
    assert line.endswith(".") and "\n" not in line


def test_kept_hypotheses_read_back_line_for_line(tmp_path):
    import gzip

    texts = ["ein Hund .", "zwei\u2028Zeilen?", ""]
    shown = benchinfo.keep_hypotheses(tmp_path / "h" / "beam4.hyp.gz", texts)
    data = (tmp_path / "h" / "beam4.hyp.gz").read_bytes()
    assert gzip.decompress(data).decode("utf-8").split("\n")[:-1] == texts
    assert shown == str(tmp_path / "h" / "beam4.hyp.gz")
    assert benchinfo.keep_hypotheses(tmp_path / "h" / "again.gz", texts)
    assert (tmp_path / "h" / "again.gz").read_bytes() == data


def test_child_processes_run_the_code_copy_even_from_the_repository_root(tmp_path, monkeypatch):
    """``python -m`` from the repository root would import the live checkout (the working directory comes
    first on sys.path), which commits made during a benchmark change; python_module runs the copy."""
    import subprocess

    import nmt

    copy = tmp_path / "copy" / "nmt"
    copy.mkdir(parents=True)
    (copy / "__init__.py").write_text("")
    (copy / "probe.py").write_text("import nmt, sys\nprint(nmt.__file__, sys.argv[1:])\n")
    monkeypatch.setattr(nmt, "__path__", [str(copy)])
    done = subprocess.run(benchinfo.python_module("nmt.probe", "a", "b c"), cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{copy / '__init__.py'} ['a', 'b c']"


def test_a_benchmark_started_by_another_reports_the_first_ones_commit(tmp_path, monkeypatch):
    """Run from a copy of the code (no git checkout), start() takes the commit and clean flag the starting
    benchmark recorded, rather than reporting none."""
    import json

    import nmt

    monkeypatch.setattr(nmt, "__path__", list(nmt.__path__))
    monkeypatch.setenv("PYTHONPATH", "")
    monkeypatch.setenv("NMT_CHECKOUT", "")
    monkeypatch.setenv("NMT_PROVENANCE", json.dumps({"commit": "abc123", "clean_tree": True}))
    info = benchinfo.start(root=tmp_path)  # tmp_path: not a git checkout, as a copy of the code is not
    assert (info["commit"], info["clean_tree"]) == ("abc123", True)
    monkeypatch.setenv("NMT_PROVENANCE", json.dumps({"commit": "abc123", "clean_tree": False}))
    with pytest.raises(UserError, match="uncommitted changes"):
        benchinfo.start(root=tmp_path)
    assert benchinfo.start(allow_dirty=True, root=ROOT)["commit"] != "abc123"  # a real checkout reports its own


def test_a_benchmark_on_its_code_copy_names_files_against_the_checkout(tmp_path, monkeypatch):
    """After start(), this module runs from a copy of the package in a temporary folder; paths under the
    checkout must still be named relative to it, in the report's files and in its command line."""
    import shutil
    import sys

    import nmt

    monkeypatch.setattr(nmt, "__path__", list(nmt.__path__))
    monkeypatch.setenv("PYTHONPATH", "")
    monkeypatch.setenv("NMT_CHECKOUT", "")
    monkeypatch.setenv("NMT_PROVENANCE", "")
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT / "nmt", checkout / "nmt", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(nmt, "__path__", [str(checkout / "nmt")])  # start() copies this package aside
    benchinfo.start(allow_dirty=True, root=checkout)
    copy = Path(nmt.__path__[0]).parent
    assert copy != checkout and not copy.is_relative_to(checkout)
    data = checkout / "runs" / "data" / "train.en"
    assert benchinfo.shown_path(data) == "runs/data/train.en"
    assert benchinfo.shown_path(checkout.parent / "shared" / "x.gz") == "../shared/x.gz"
    monkeypatch.setattr(sys, "argv", ["nmt", "benchmark", "--train-src", str(data), f"--out={checkout / 'results'}",
                                      "--minutes", "5", str(tmp_path / "elsewhere")])
    assert benchinfo.command() == ("nmt benchmark --train-src runs/data/train.en --out=results --minutes 5 "
                                   f"{tmp_path}/elsewhere")


def test_op_time_shares_rank_the_kernels_a_profile_saw(tmp_path):
    """A large product next to a small addition: the product's kernel type leads, the shares are of busy
    time (they sum to 1 up to their rounding) and the milliseconds agree with them."""
    import tensorflow as tf

    from nmt.benchinfo import op_time_shares

    a, b = tf.random.normal([384, 384]), tf.random.normal([8])
    step = tf.function(lambda: (tf.matmul(a, a), b + 1.0), autograph=False)
    step()
    got = op_time_shares(lambda: [t.numpy() for t in step()], 5, tmp_path / "profile", top=1)
    assert got["steps"] == 5 and 0 <= got["idle_share"] < 1 and got["busy_ms"] > 0
    first = got["op_types"][0]
    assert "MatMul" in first["type"] and first["share"] > 0.5, got
    assert abs(sum(s["share"] for s in got["op_types"]) - 1) <= 1e-4 * len(got["op_types"])
    assert len(got["op_types"]) <= 2 and (len(got["op_types"]) == 1 or got["op_types"][1]["type"] == "other")
    for s in got["op_types"]:
        assert abs(s["ms"] - s["share"] * got["busy_ms"]) <= 0.1 + 1e-3 * got["busy_ms"]


def test_report_options_are_the_same_for_every_script(tmp_path):
    import argparse

    with_work, without = argparse.ArgumentParser(), argparse.ArgumentParser()
    benchinfo.report_options(with_work, tmp_path, "alpha", work="models")
    benchinfo.report_options(without, tmp_path, "beta")
    args = with_work.parse_args([])
    assert (args.name, args.out, args.work, args.allow_dirty) == (
        "alpha", str(tmp_path / "results"), str(tmp_path / "runs" / "models"), False)
    assert without.parse_args(["--allow-dirty", "--name", "x"]).allow_dirty
    assert not hasattr(without.parse_args([]), "work")
    with pytest.raises(SystemExit):  # a script without model folders has no --work
        without.parse_args(["--work", "w"])
