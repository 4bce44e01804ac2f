"""The demo's promise: LSTM + additive attention on the embedded corpus, under 5 minutes, high BLEU."""

import re
import time

import pytest
from click.testing import CliRunner

from nmt.cli.main import cli

pytestmark = pytest.mark.slow


def test_demo_learns_the_embedded_corpus_within_five_minutes(tmp_path):
    start = time.time()
    result = CliRunner().invoke(cli, ["demo", "--model-dir", str(tmp_path / "demo"), "--no-progress"])
    elapsed = time.time() - start
    assert result.exit_code == 0, result.output
    bleu = float(re.search(r"Test BLEU ([\d.]+)", result.output).group(1))
    assert bleu > 80, result.output
    assert elapsed < 300
    heatmap = tmp_path / "demo" / "attention.png"
    assert f"Attention heatmap: {heatmap}" in result.output
    assert heatmap.read_bytes()[:4] == b"\x89PNG"
