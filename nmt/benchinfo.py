"""Machine, versions and command line for benchmark reports."""

from __future__ import annotations

import os
import platform
import resource
import shlex
import sys


def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = None
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            mem = round(int(f.readline().split()[1]) / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem, "platform": platform.platform()}


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0]}
    for pkg in ("tensorflow", "keras", "tensorflow-text", "sentencepiece", "sacrebleu", "numpy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def command() -> str:
    """The command line of this process, with the ``nmt`` console script shown by its name and absolute
    paths as :func:`shown_path` names them (a reader's checkout is not this one)."""
    prog = sys.argv[0]
    if os.path.basename(prog) == "nmt" or prog.endswith(os.path.join("nmt", "__main__.py")):
        prog = "nmt"
    elif os.path.exists(prog):
        prog = os.path.relpath(prog)

    def shown(arg: str) -> str:
        option, eq, value = arg.rpartition("=") if arg.startswith("--") else ("", "", arg)
        return option + eq + shown_path(value) if os.path.isabs(value) else arg

    return " ".join(shlex.quote(a) for a in [prog, *map(shown, sys.argv[1:])])


def provenance(root=None) -> dict:
    """When and from what code a report was made: UTC date, commit, and whether the work tree was clean
    (a dirty tree's figures come from code no commit holds)."""
    import datetime
    import subprocess
    from pathlib import Path

    root = Path(root or Path(__file__).resolve().parents[1])

    def git(*args):
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else None

    status = git("status", "--porcelain", "--untracked-files=no")
    return {"utc_date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "commit": git("rev-parse", "HEAD"), "clean_tree": None if status is None else status == ""}


# Environment variables read once when TensorFlow starts that change its speed (or its summation order): a
# report records those set when it began, since its command line alone would not reproduce the run.
SPEED_SETTINGS = ("TF_ENABLE_ONEDNN_OPTS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS",
                  "TF_XLA_FLAGS")


def speed_settings() -> dict:
    """The :data:`SPEED_SETTINGS` set in this process' environment."""
    return {name: os.environ[name] for name in SPEED_SETTINGS if name in os.environ}


def start(allow_dirty: bool = False, root=None) -> dict:
    """Call first in a benchmark: the report's header (UTC date, commit, clean-tree flag, command,
    TensorFlow's speed settings in the environment, machine, versions). A checkout with uncommitted
    changes is refused unless ``allow_dirty`` (the report then says so), and the ``nmt`` package is
    copied aside for the run: child processes import the copy (``PYTHONPATH``) and so do this process'
    later imports, so commits made while a benchmark runs cannot change the code it measures. Outside a
    git checkout (an installed package) the commit and flag are null and nothing is refused."""
    import atexit
    import json
    import os
    import shutil
    import tempfile
    from pathlib import Path

    import nmt
    from nmt.errors import UserError

    info = provenance(root)
    inherited = os.environ.get("NMT_PROVENANCE")
    if info["commit"] is None and inherited:  # a benchmark started by another, on that one's copy of the code
        info.update({k: v for k, v in json.loads(inherited).items() if k in ("commit", "clean_tree")})
    if info["clean_tree"] is False and not allow_dirty:
        raise UserError("the checkout has uncommitted changes, so no commit holds the code this benchmark would "
                        "measure; commit them first, or pass --allow-dirty (the report records clean_tree: false)")
    package = Path(nmt.__file__).resolve().parent
    snapshot = Path(tempfile.mkdtemp(prefix="nmt-code-"))
    shutil.copytree(package, snapshot / "nmt", ignore=shutil.ignore_patterns("__pycache__"))
    atexit.register(shutil.rmtree, snapshot, True)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(snapshot), os.environ.get("PYTHONPATH")]))
    os.environ["NMT_PROVENANCE"] = json.dumps({"commit": info["commit"], "clean_tree": info["clean_tree"]})
    if not os.environ.get("NMT_CHECKOUT"):  # shown_path names files against the checkout, not the copy
        os.environ["NMT_CHECKOUT"] = str(Path(root).resolve() if root else package.parent)
    nmt.__path__[:] = [str(snapshot / "nmt")]  # modules imported from now on come from the copy
    return {**info, "command": command(), "environment": speed_settings(), "machine": machine(),
            "versions": versions(), "code_snapshot": True}


def report_options(parser, root, name: str | None, work: str | None = None, name_help: str | None = None) -> None:
    """The options every ``scripts/bench_*.py`` report shares: ``--name`` (file stem), ``--out`` (folder,
    ``root/results``), ``--work`` when the script keeps model folders (``root/runs/WORK``) and
    ``--allow-dirty``; one definition, so their defaults and help read the same everywhere."""
    from pathlib import Path

    parser.add_argument("--name", default=name, help=name_help or "file stem of the report: OUT/NAME.json and .md")
    parser.add_argument("--out", default=str(Path(root) / "results"), help="folder of the report and its raw outputs")
    if work is not None:
        parser.add_argument("--work", default=str(Path(root) / "runs" / work),
                            help="working folder (model directories, tokenizers)")
    parser.add_argument("--allow-dirty", action="store_true",
                        help="run on a checkout with uncommitted changes (the report says so)")


def start_script(args) -> dict:
    """:func:`start` for a ``scripts/bench_*.py`` whose parsed ``args`` have ``allow_dirty``: a refusal
    ends the script with one line (``error: ...``, exit 1) instead of a traceback."""
    import sys

    from nmt.errors import UserError

    try:
        return start(args.allow_dirty)
    except UserError as exc:
        sys.exit(f"error: {exc}")


def python_module(module: str, *args: str) -> list[str]:
    """The command that runs ``python -m MODULE ARGS`` on the code this process runs (after :func:`start`,
    its copy). ``python -m`` alone puts the working directory first on ``sys.path``, and from the
    repository root that is the live checkout, which later commits change, not the copy."""
    import sys
    from pathlib import Path

    import nmt

    root = str(Path(nmt.__path__[0]).parent)
    code = (f"import runpy, sys; sys.path.insert(0, {root!r}); "
            f"runpy.run_module({module!r}, run_name='__main__', alter_sys=True)")
    return [sys.executable, "-c", code, *args]


def shown_path(path, root=None) -> str:
    """A path as a report should name it: relative to the repository, or to its sibling ``shared``
    folder as ``../shared/...``; other paths as given (a report must not name a temporary folder it
    ran in, which means nothing to a reader)."""
    from pathlib import Path

    # after start(), this module runs from a copy of the code: the checkout is the one start() recorded
    root = Path(root or os.environ.get("NMT_CHECKOUT") or Path(__file__).resolve().parents[1])
    full = Path(path).resolve()
    for base, shown in ((root, ""), (root.parent / "shared", "../shared/")):
        if full.is_relative_to(base.resolve()):
            return shown + full.relative_to(base.resolve()).as_posix()
    return str(path)


def keep_hypotheses(path, texts) -> str:
    """Write translations (one per line, gzip, reproducible bytes) where a report keeps them; returns the
    path as the report should name it."""
    import gzip
    from pathlib import Path

    from nmt.io import atomic_open, lines_text

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, "wb") as f:
        f.write(gzip.compress(lines_text(texts).encode("utf-8"), mtime=0))
    return shown_path(path)


def markdown_header(report: dict) -> str:
    """One Markdown line of a report's provenance."""
    clean = {True: "clean tree", False: "UNCOMMITTED CHANGES", None: "not a git checkout"}[report.get("clean_tree")]
    line = f"Date (UTC): {report.get('utc_date')}; commit `{report.get('commit')}` ({clean})."
    if report.get("environment"):  # settings the command line does not show
        line += " Environment: " + ", ".join(f"`{k}={v}`" for k, v in report["environment"].items()) + "."
    return line


def machine_line(report: dict) -> str:
    """One Markdown line of the machine a report was measured on and the package versions it ran."""
    return ("Machine: {cpu}, {cores} cores, {memory_gib} GiB; ".format(**report["machine"])
            + ", ".join(f"{k} {v}" for k, v in report["versions"].items()) + ".")


def peak_memory_mib() -> float:
    """Peak resident memory of this process (Linux ru_maxrss is in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def matmul_peak_gflops(sizes=(512, 1024, 2048), seconds: float = 2.0) -> dict:
    """The machine's measured float32 matrix-multiply rate: square ``tf.matmul`` in a tf.function,
    about ``seconds`` per size after one warm-up call. Returns GFLOP/s per size and the best one,
    the reference for model FLOPs utilisation."""
    import time

    import tensorflow as tf

    matmul = tf.function(lambda a, b: tf.matmul(a, b))
    rates = {}
    for n in sizes:
        a, b = tf.random.normal([n, n]), tf.random.normal([n, n])
        matmul(a, b).numpy()
        start = time.perf_counter()
        reps = 0
        while time.perf_counter() - start < seconds:
            matmul(a, b).numpy()
            reps += 1
        rates[str(n)] = round(2 * n**3 * reps / (time.perf_counter() - start) / 1e9, 1)
    return {"gflops_by_size": rates, "peak_gflops": max(rates.values())}


def op_time_shares(run, steps: int, logdir, top: int = 12) -> dict:
    """Where the time of ``steps`` calls of ``run()`` goes, by TensorFlow's profiler: the self-time of each
    kernel type (its framework_op_stats tool) as a share of all busy time, the largest ``top`` kept (the
    rest summed as ``other``), and the idle share. With several threads, kernels overlap, so shares are
    of summed kernel time, not of wall time."""
    import glob
    import json

    import tensorflow as tf
    from tensorflow.python.profiler.internal import _pywrap_profiler_plugin as plugin

    tf.profiler.experimental.start(str(logdir))
    try:
        for _ in range(steps):
            run()
    finally:
        tf.profiler.experimental.stop()
    paths = sorted(glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True))
    data, ok = plugin.xspace_to_tools_data(paths, "framework_op_stats", {})
    if not ok:
        raise RuntimeError(f"the profiler wrote nothing readable under {logdir}: {data[:200]!r}")
    table = json.loads(data)[0]
    cols = [c["id"] for c in table["cols"]]
    kind, self_us = cols.index("type"), cols.index("total_self_time")
    totals: dict = {}
    for row in table["rows"]:
        cells = [c.get("v") for c in row["c"]]
        totals[cells[kind]] = totals.get(cells[kind], 0.0) + float(cells[self_us])
    idle = totals.pop("IDLE", 0.0)
    busy = sum(totals.values()) or 1.0
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])
    shares = [{"type": k, "share": round(v / busy, 4), "ms": round(v / 1000, 1)} for k, v in ranked[:top]]
    if len(ranked) > top:
        rest = sum(v for _, v in ranked[top:])
        shares.append({"type": "other", "share": round(rest / busy, 4), "ms": round(rest / 1000, 1)})
    return {"steps": steps, "busy_ms": round(busy / 1000, 1), "idle_share": round(idle / (busy + idle), 4),
            "op_types": shares}
