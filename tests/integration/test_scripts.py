"""Smoke tests of the benchmark scripts that produce the README's figures: each runs on tiny generated
inputs and writes a report that carries its provenance and its hypotheses. (More scripts to follow:
issue 16.)"""

import gzip
import json
import subprocess
import sys
from pathlib import Path

from tests.integration.test_cli import write_corpus

ROOT = Path(__file__).resolve().parents[2]


def test_bench_translation_writes_a_recheckable_report(tmp_path):
    src, tgt = write_corpus(tmp_path, n=120)
    corpus = [a for split in ("train", "valid", "test") for a in (f"--{split}-src", str(tmp_path / "train.src"),
                                                                   f"--{split}-tgt", str(tmp_path / "train.tgt"))]
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_translation.py"), *corpus, "--preset", "tiny",
                           "--set", "tokenizer.vocab_size=30", "--set", "train.eval_every=20", "--minutes", "0.05",
                           "--name", "smoke", "--out", str(tmp_path / "out"), "--work", str(tmp_path / "work"),
                           "--allow-dirty"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((tmp_path / "out" / "smoke.json").read_text())
    assert report["utc_date"].endswith("Z") and report["code_snapshot"] is True and "clean_tree" in report
    assert "Date (UTC): " in (tmp_path / "out" / "smoke.md").read_text()
    hyps = gzip.decompress(Path(report["hypotheses"]["beam4"]).read_bytes()).decode("utf-8").split("\n")[:-1]
    assert len(hyps) == len(src) == report["test"]["sentences"]
    assert sum(b["sentences"] for b in report["test"]["bleu_by_length_beam4"]) == len(src)
