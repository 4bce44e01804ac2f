"""scripts/bench_peers.py: OpenNMT-tf's progress lines read into one throughput, its vocabulary and pieces
written from nmt's SentencePiece model, and (slow) the whole script against a stand-in OpenNMT-tf that
trains nothing but logs as 2.32 does, so the report's figures can be checked against what it logged.

The real OpenNMT-tf needs TensorFlow 2.13 in its own virtual environment and a download of about 1 GB,
which a test does not do; the benchmark itself runs it."""

import json
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from tests.integration.test_cli import write_corpus
from tests.integration.test_scripts_speed import _provenance, _script

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import bench_peers  # noqa: E402 (after the path)


def _line(step: int, rate: float, source: int, target: int) -> str:
    return (f"INFO:tensorflow:Step = {step} ; steps/s = {rate:0.2f}, tokens/s = {source + target} "
            f"({source} source, {target} target) ; Learning rate = 0.000100 ; Loss = 7.500000")


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 400).map(lambda r: r / 100), st.integers(1, 5000)), min_size=1, max_size=8),
       st.integers(0, 3))
def test_onmt_throughput_is_tokens_over_seconds_of_the_timed_lines(lines, skipped):
    """Each line covers ``every`` steps at its rate: the result is their tokens over their seconds, and the
    lines up to the warm-up step are not counted."""
    every = 25
    warm = [_line(every * (i + 1), 9.99, 1, 99_999) for i in range(skipped)]  # would dominate if counted
    log = "\n".join(["noise", *warm, *(_line(every * (skipped + i + 1), r, 7, t) for i, (r, t) in enumerate(lines))])
    got = bench_peers.onmt_throughput(log, every * skipped, every)
    seconds = [every / r for r, _ in lines]
    tokens = sum(t * s for (_, t), s in zip(lines, seconds))
    assert got["timed_steps"] == every * len(lines)
    assert got["target_tokens_per_second"] == pytest.approx(tokens / sum(seconds), abs=0.051)
    assert min(t for _, t in lines) - 0.051 <= got["target_tokens_per_second"] <= max(t for _, t in lines) + 0.051
    assert bench_peers.onmt_throughput("\n".join(warm), every * skipped, every) is None


def test_pieces_and_vocabulary_follow_the_sentencepiece_model(tmp_path):
    import sentencepiece as spm

    from nmt.tokenization import Tokenizer

    src, tgt = write_corpus(tmp_path, n=50)
    pairs = list(zip(src, tgt))
    Tokenizer.train(pairs, vocab_size=30).save(tmp_path / "tok")
    data = bench_peers.write_pieces(pairs, tmp_path / "tok" / "spm.model", tmp_path)
    sp = spm.SentencePieceProcessor(model_file=str(tmp_path / "tok" / "spm.model"))
    vocab = data["files"]["vocab"].read_text(encoding="utf-8").splitlines()
    # OpenNMT-tf adds <blank>, <s>, </s> and <unk> itself: the model's other pieces, each once
    assert len(vocab) == len(set(vocab)) == data["vocabulary"] == sp.get_piece_size() - 4
    assert not {"<pad>", "<unk>", "<s>", "</s>"} & set(vocab)
    lines = data["files"]["tgt"].read_text(encoding="utf-8").splitlines()
    assert [sp.decode(line.split()) for line in lines] == tgt  # the pieces decode back to the text
    assert set(" ".join(lines).split()) <= set(vocab)
    assert data["mean_target_tokens"] == pytest.approx(sum(len(x.split()) + 1 for x in lines) / len(lines))


FAKE_MAIN = '''
import sys, yaml
args = sys.argv[1:]
config = yaml.safe_load(open(args[args.index("--config") + 1]))
assert args[-1] == "train" and open(args[args.index("--model") + 1]).read().count("num_layers=3")
train, data = config["train"], config["data"]
vocab = set(open(data["target_vocabulary"], encoding="utf-8").read().split())
lines = open(data["train_labels_file"], encoding="utf-8").read().splitlines()
assert all(set(line.split()) <= vocab for line in lines)
per_batch = train["batch_size"] * sum(len(line.split()) + 1 for line in lines) / len(lines)
for step in range(train["save_summary_steps"], train["max_step"] + 1, train["save_summary_steps"]):
    rate = 4.0 if step > train["save_summary_steps"] else 0.5  # the first interval traces: slower
    print(f"INFO:tensorflow:Step = {step} ; steps/s = {rate:0.2f}, tokens/s = {int(2 * per_batch * rate)} "
          f"({int(per_batch * rate)} source, {int(per_batch * rate)} target) ; Learning rate = 0.1 ; Loss = 5.0",
          file=sys.stderr)
'''


@pytest.mark.slow  # two nmt training processes import TensorFlow and trace a d-256 step: about a minute
def test_bench_peers_reports_what_was_logged_and_measured(tmp_path):
    """Against a stand-in OpenNMT-tf (a venv whose python finds a fake ``opennmt`` logging 4 steps/s)."""
    write_corpus(tmp_path, n=600)
    fake = tmp_path / "fake"
    (fake / "opennmt" / "bin").mkdir(parents=True)
    (fake / "opennmt" / "__init__.py").write_text("__version__ = 'stand-in'\n")
    (fake / "opennmt" / "bin" / "__init__.py").write_text("")
    (fake / "opennmt" / "bin" / "main.py").write_text(FAKE_MAIN)
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text(f'#!/bin/sh\nPYTHONPATH="{fake}" exec "{sys.executable}" "$@"\n')
    (venv / "bin" / "python").chmod(0o755)
    _script("bench_peers.py", "--train-src", tmp_path / "train.src", "--train-tgt", tmp_path / "train.tgt",
            "--onmt-venv", venv, "--batch-sentences", 16, "--steps", 2, "--warmup-steps", 1, "--log-every", 1,
            "--profile-steps", 2,
            "--repeats", 1, "--name", "smoke", "--out", tmp_path / "out", "--work", tmp_path / "work", timeout=900)
    report = json.loads((tmp_path / "out" / "smoke.json").read_text())
    markdown = (tmp_path / "out" / "smoke.md").read_text()
    _provenance(report, markdown)
    assert report["peer_versions"]["opennmt-tf"] == "stand-in"
    rows = {r["system"]: r for r in report["rows"]}
    assert list(rows) == ["OpenNMT-tf", *bench_peers.NMT_ROWS]
    onmt = rows["OpenNMT-tf"]
    lines = (tmp_path / "work" / "train.tgt.pieces").read_text(encoding="utf-8").splitlines()
    per_batch = 16 * sum(len(x.split()) + 1 for x in lines) / len(lines)  # what the stand-in logs at 4 steps/s
    assert report["mean_target_tokens_per_sentence"] == round(per_batch / 16, 2)
    assert onmt["timed_steps"] == 2 and onmt["target_tokens_per_second"] == int(4 * per_batch)  # warm-up left out
    assert (tmp_path / "out" / "smoke_logs" / "onmt_0.log").read_text().count("Step = ") == 3
    peak, matmul = report["matmul_peak"]["peak_gflops"], report["matmul_parameters"]
    for system, r in rows.items():
        assert r["mfu"] == round(6.0 * matmul * r["target_tokens_per_second"] / (peak * 1e9), 3)
        s = report["summary"][system]
        assert s["runs"] == [r["target_tokens_per_second"]] and s["spread"] == 0.0
        assert s["ratio_to_onmt"] == round(r["target_tokens_per_second"] / onmt["target_tokens_per_second"], 2)
        assert f"| {system} | {r['target_tokens_per_second']:,.0f} |" in markdown
    # the matched configuration was profiled once, after its timing, with and without parallel parts: its
    # kernel types' shares of busy time
    for system in bench_peers.PROFILED:
        profile = rows[system]["profile"]
        assert profile["steps"] == 2 and abs(sum(s["share"] for s in profile["op_types"]) - 1) < 1e-3
        assert any("MatMul" in s["type"] for s in profile["op_types"])
        assert f"Where {system} spends its step" in markdown
    assert "profile" not in onmt and "profile" not in rows["nmt, benchmark configuration"]
    assert rows[bench_peers.MATCHED + bench_peers.PARTS]["settings"]["train.parallel_parts"] == 2
    # nmt's separate embeddings hold more weights than its benchmark configuration's shared ones
    assert rows["nmt, OpenNMT-tf's configuration"]["parameters"] > rows["nmt, benchmark configuration"]["parameters"]
    # the calibrated budget: nmt's batches hold as many target tokens as OpenNMT-tf's (within its 2% stop)
    assert report["nmt_batch_target_tokens"] == pytest.approx(per_batch, rel=0.02)
