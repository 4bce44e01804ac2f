"""Smoke test of scripts/bench_explorer.py on a tiny corpus in Multi30k's layout: it writes only under
tmp_path, and its report carries its provenance and figures that agree with each other.

Slow tier: a fresh process that imports TensorFlow, trains a few steps and drives chromium twice
(measured 26 s on the 2-core development machine)."""

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from nmt.corpora.synthetic import splits

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_explorer_smoke(tmp_path):
    pytest.importorskip("playwright.sync_api", reason="the explorer benchmark drives chromium through playwright")
    if not Path("/usr/bin/chromium").is_file():
        pytest.skip("the explorer benchmark needs /usr/bin/chromium (apt-get install chromium)")
    data = tmp_path / "m30k"
    data.mkdir()
    pairs = splits(sizes=(400, 20, 40))
    for split, name in (("train", "train"), ("valid", "val"), ("test", "test_2016_flickr")):
        for side in ("src", "tgt"):
            text = "".join(getattr(p, side) + "\n" for p in pairs[split])
            (data / f"{name}.{'en' if side == 'src' else 'de'}.gz").write_bytes(gzip.compress(text.encode()))
    out = tmp_path / "results"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_explorer.py"), "--data", str(data), "--steps", "3",
                           "--d-model", "16", "--ff-dim", "32", "--vocab-size", "200", "--sentences", "30",
                           "--long-pieces", "120", "--opens", "2", "--switches", "5", "--out", str(out), "--allow-dirty"],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((out / "explorer_scale.json").read_text())
    markdown = (out / "explorer_scale.md").read_text()
    assert report["utc_date"].endswith("Z") and "--allow-dirty" in report["command"] and "Date (UTC): " in markdown
    assert report["model"]["layers"] == 3 and report["model"]["heads"] == 4 and report["model"]["trained_steps"] == 3
    runs = report["runs"]
    assert runs["sentences"]["sentences"] == 30 and runs["long"]["sentences"] == 1
    assert report["long_source_pieces"] <= 120 and runs["long"]["source_pieces"] == report["long_source_pieces"]
    for run in runs.values():
        assert run["bytes"] > 0 and abs(run["megabytes"] - run["bytes"] / 1e6) < 0.01
        assert len(run["open_ms"]) == 2 and min(run["open_ms"]) <= run["open_ms_median"] <= max(run["open_ms"])
        assert 0 < run["switch_ms_median"] <= run["switch_ms_p95"] <= run["switch_ms_max"]
        assert run["network_requests_refused"] == 0
        assert max(run["switch_ms_all"]) == run["switch_ms_max"] and len(run["switch_ms_all"]) == run["switches"]
    assert f"{runs['sentences']['megabytes']} MB" in markdown
