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
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_explorer.py"), "--data", str(data), "--steps",
                           "3", "--d-model", "16", "--ff-dim", "32", "--vocab-size", "200", "--sentences", "30",
                           "--long-pieces", "120", "--opens", "2", "--switches", "5", "--out", str(out),
                           "--allow-dirty"],
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


@pytest.mark.slow
def test_a_thousand_sentence_file_opens_within_the_budget(tmp_path):
    """Issue 18's budget on 1,000 sentences of a 3-layer, 4-head model, measured as bench_explorer.py
    measures it: open <= 2 s (median of 3), switch <= 100 ms (median), file <= 20 MB. No model to train:
    random attention, each row peaking on one source piece with random noise elsewhere, as a trained
    model's rows do (uniformly random rows compress worse: 21.8 MB for these lengths, where the real
    Multi30k run of bench_explorer.py gives 15.0 MB). Sentences of 8 to 22 words, one piece each, as
    Multi30k's test set averages 15.6 source pieces. Slow tier: a timing (measured 16 s here; the file is 18.5 MB)."""
    pytest.importorskip("playwright.sync_api", reason="the budget is measured in chromium through playwright")
    if not Path("/usr/bin/chromium").is_file():
        pytest.skip("the budget is measured in /usr/bin/chromium (apt-get install chromium)")
    import random

    import numpy as np

    sys.path.insert(0, str(ROOT / "scripts"))
    from bench_explorer import BUDGET, measure

    from nmt import explorer
    from nmt.translator import Hypothesis

    rng, words = np.random.default_rng(0), random.Random(0)
    vocab = [f"w{i}" for i in range(500)]
    sources, hyps = [], []
    for _ in range(1000):
        src, tgt = words.choices(vocab, k=words.randint(8, 22)), words.choices(vocab, k=words.randint(8, 22))
        logits = rng.normal(size=(3, 4, len(tgt), len(src) + 1))  # [L,H,T,S]
        peaks = rng.integers(0, len(src) + 1, size=(3, 4, len(tgt)))  # each row peaks on one piece, as trained rows do
        np.put_along_axis(logits, peaks[..., None], 5.0, axis=-1)
        att = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)  # [L,H,T,S]
        sources.append(" ".join(src))
        hyps.append(Hypothesis(" ".join(tgt), ["▁" + w for w in tgt], -1.0, ["▁" + w for w in src] + ["</s>"],
                               att.astype(np.float32)))
    model = {"name": "random 3x4", "family": "transformer", "attention": "multi-head (cross)", "layers": 3, "heads": 4,
             "informative": True, "views": [[str(layer), str(h)] for layer, h in explorer.views(3, 4)]}
    path = tmp_path / "thousand.html"
    explorer.write(path, explorer.collect(sources, [(model, hyps)], mode="align"))
    result = measure(path, opens=3, switches=30, chromium="/usr/bin/chromium")
    assert path.stat().st_size <= BUDGET["file_mb"] * 1e6
    assert result["open_ms_median"] <= BUDGET["open_ms"], result
    assert result["switch_ms_median"] <= BUDGET["switch_ms"], result
    assert result["network_requests_refused"] == 0
