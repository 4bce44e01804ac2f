"""Smoke tests of the speed and classification benchmark scripts (bench_classification, bench_demo,
bench_placement, bench_throughput): each runs on tiny generated inputs, writes only under tmp_path, and its
report must carry its provenance, keep what it predicted, and have figures that agree with each other.

Each script run is a fresh process that imports TensorFlow and traces at least one training step, except
bench_classification with TF-IDF alone; those runs take over half a minute here and are in the slow tier
(the time measured is beside each)."""

import csv
import gzip
import json
import random
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from tests.integration.test_cli import write_corpus

ROOT = Path(__file__).resolve().parents[2]


def _script(name: str, *args, timeout=900) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / name), *map(str, args), "--allow-dirty"],
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _provenance(report: dict, markdown: str) -> None:
    assert report["utc_date"].endswith("Z") and report["code_snapshot"] is True
    assert "commit" in report and "clean_tree" in report and "--allow-dirty" in report["command"]
    assert "Date (UTC): " in markdown


# --- bench_classification -------------------------------------------------------------------------

TOPICS = (("election", "minister", "embassy", "treaty"), ("goal", "match", "coach", "league"),
          ("stocks", "profit", "market", "bank"), ("software", "internet", "chip", "laptop"))


def _write_ag_news(folder: Path, n: int) -> list:
    """An AG News directory (ag_news_csv format: no header, every field quoted, class 1-4, title,
    description) of ``n`` rows, classes in turn; each text has one word of its class's topic, one of a
    random class's and filler, so a bag of words learns it, though not perfectly. Returns the labels (0-3)."""
    rng = random.Random(0)
    filler = "the a of in on new says report today after".split()
    folder.mkdir(parents=True, exist_ok=True)
    labels = []
    with open(folder / "test.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_ALL)
        for i in range(n):
            c = i % 4
            words = [rng.choice(TOPICS[c]), rng.choice(TOPICS[rng.randrange(4)])] + rng.choices(filler, k=4)
            rng.shuffle(words)
            writer.writerow([c + 1, " ".join(words[:3]).title(), " ".join(words[3:]) + " ."])
            labels.append(c)
    return labels


def _check_classification(out: Path, name: str, labels: list, models: list, folds: int, folds_run: int) -> dict:
    """The report of a bench_classification run against its data and its kept predictions."""
    report = json.loads((out / f"{name}.json").read_text())
    markdown = (out / f"{name}.md").read_text()
    _provenance(report, markdown)
    classes = report["classes"]
    assert len(classes) == 4 and report["examples"] == len(labels) and report["folds"] == folds
    assert list(report["models"]) == models
    for model, result in report["models"].items():
        runs = result["folds"]
        assert [r["fold"] for r in runs] == list(range(folds_run))
        # re-score the kept predictions: every test text once, its label the data's, each fold's figures
        lines = gzip.decompress(Path(result["predictions"]).read_bytes()).decode("utf-8").splitlines()
        assert lines[0] == "row\tfold\tlabel\tpredicted"
        kept = [line.split("\t") for line in lines[1:]]
        rows = [int(r) for r, _, _, _ in kept]
        assert len(set(rows)) == len(rows) and all(classes[labels[r]] == lab for r, (_, _, lab, _) in zip(rows, kept))
        if folds_run == folds:
            assert sorted(rows) == list(range(len(labels)))
        for r in runs:
            mine = [(lab, pred) for _, fold, lab, pred in kept if int(fold) == r["fold"]]
            confusion = [[sum(1 for lab, pred in mine if (lab, pred) == (t, p)) for p in classes] for t in classes]
            assert r["confusion"] == confusion, (model, r["fold"])
            assert sum(map(sum, r["confusion"])) == len(mine) in (len(labels) // folds, -(-len(labels) // folds))
            correct = sum(r["confusion"][i][i] for i in range(len(classes)))
            assert r["accuracy"] == pytest.approx(correct / len(mine), abs=1e-12)
            assert r["accuracy"] == pytest.approx(sum(lab == pred for lab, pred in mine) / len(mine), abs=1e-12)
        s, acc = result["summary"], [r["accuracy"] for r in runs]
        assert s["accuracy_mean"] == pytest.approx(statistics.fmean(acc), abs=1e-12)
        assert s["accuracy_std"] == pytest.approx(statistics.stdev(acc) if len(acc) > 1 else 0.0, abs=1e-12)
        assert s["macro_f1_mean"] == pytest.approx(statistics.fmean(r["macro_f1"] for r in runs), abs=1e-12)
        assert s["folds_at_chance"] == sum(a < 0.3 for a in acc)
        per_fold = " ".join(f"{100 * a:.1f}" for a in acc)
        assert f"| {model} | {100 * s['accuracy_mean']:.1f} ± {100 * s['accuracy_std']:.1f} | {per_fold} |" in markdown
        assert (out / f"{name}_{model}_confusion.png").stat().st_size > 0 and result["predictions"] in markdown
    return report


def test_bench_classification_keeps_predictions_that_rescore_to_its_figures(tmp_path):
    labels = _write_ag_news(tmp_path / "ag", 80)
    _script("bench_classification.py", "--ag-news", tmp_path / "ag", "--models", "tfidf", "--folds", 2,
            "--name", "smoke", "--out", tmp_path / "out", timeout=300)
    report = _check_classification(tmp_path / "out", "smoke", labels, ["tfidf"], folds=2, folds_run=2)
    assert report["models"]["tfidf"]["summary"]["accuracy_mean"] > 0.4  # the topic words are learnt (chance: 0.25)


@pytest.mark.slow  # 32-36 s on the 2-core machine at load 5-7 (TensorFlow's import, a Keras fit per fold)
def test_bench_classification_neural_model(tmp_path):
    labels = _write_ag_news(tmp_path / "ag", 80)  # 40 training texts a fold, so the 10% held out has all 4 classes
    sets = [a for kv in ("tokenizer.vocab_size=100", "train.epochs=1", "head.max_length=16", "train.batch_size=16")
            for a in ("--set", f"lesson:{kv}")]
    _script("bench_classification.py", "--ag-news", tmp_path / "ag", "--models", "tfidf,lesson", "--folds", 2,
            "--max-folds", 1, *sets, "--name", "smoke", "--out", tmp_path / "out", timeout=600)
    report = _check_classification(tmp_path / "out", "smoke", labels, ["tfidf", "lesson"], folds=2, folds_run=1)
    lesson = report["models"]["lesson"]["folds"][0]
    assert lesson["config"]["tokenizer"]["vocab_size"] == 100 and lesson["config"]["train"]["epochs"] == 1
    assert 0 <= lesson["dead_hidden_units"] <= lesson["hidden_units"] == 20


# --- bench_placement and bench_throughput ---------------------------------------------------------

def _check_speed(row: dict) -> None:
    """tokens/s is the timed tokens over the timed seconds, within what the rounding of both figures allows.

    The script divides by the exact seconds and rounds the quotient to 0.1; it rounds the seconds it reports
    to 0.1 ms. So the exact seconds lie within 0.05 ms of the reported ones, and the quotient within 0.05 of
    the reported speed: a bound that holds for 2 ms of timed work as for 2 minutes (a fixed relative
    tolerance failed when a fast machine timed 38 ms).
    """
    tokens, seconds, speed = row["timed_target_tokens"], row["timed_seconds"], row["target_tokens_per_second"]
    assert tokens > 0 and seconds > 0
    half_unit = 0.5e-4
    slowest, fastest = tokens / (seconds + half_unit), tokens / max(seconds - half_unit, 1e-12)
    slack = 0.05 + 1e-9 * fastest  # the rounding of the speed, and float64 division
    assert slowest - slack <= speed <= fastest + slack, (speed, tokens, seconds)


@settings(max_examples=300, deadline=None)
@given(tokens=st.integers(1, 10**7), seconds=st.floats(1e-4, 1e4))
def test_speed_check_accepts_every_rounding_the_scripts_do(tokens, seconds):
    """The bound of _check_speed holds for the rows bench_throughput and bench_placement write, at any speed."""
    _check_speed({"target_tokens_per_second": round(tokens / seconds, 1), "timed_target_tokens": tokens,
                  "timed_seconds": round(seconds, 4)})


@pytest.mark.slow  # 39-95 s on the 2-core machine at load 3-7: three models, each a traced training step
def test_bench_placement_ratios_are_quotients_of_its_speeds(tmp_path):
    src, _ = write_corpus(tmp_path, n=2000)  # 7 batches of the tiny preset (5 untimed + 2 timed)
    _script("bench_placement.py", "--train-src", tmp_path / "train.src", "--train-tgt", tmp_path / "train.tgt",
            "--preset", "tiny", "--steps", 2, "--out", tmp_path / "out", timeout=600)
    report = json.loads((tmp_path / "out" / "placement.json").read_text())
    markdown = (tmp_path / "out" / "placement.md").read_text()
    _provenance(report, markdown)
    assert report["steps"] == 2 and report["sentences"] == len(src)
    assert report["config"]["model"]["attention"] == "additive" and report["config"]["tokenizer"]["vocab_size"] == 400
    rows = report["rows"]
    assert [(r["placement"], r["input_feed"]) for r in rows] == [("luong", False), ("luong", True), ("bahdanau", False)]
    for r in rows:
        _check_speed(r)
        assert r["timed_target_tokens"] == rows[0]["timed_target_tokens"]  # the same batches for every placement
        assert r["ratio_to_luong"] == round(r["target_tokens_per_second"] / rows[0]["target_tokens_per_second"], 2)
        assert f"| {r['placement']} | {r['input_feed']} | {r['target_tokens_per_second']:,} | {r['ratio_to_luong']} |" \
            in markdown
    assert rows[0]["ratio_to_luong"] == 1.0


@pytest.mark.slow  # 77-106 s on the 2-core machine at load 5-7: 3 processes import TensorFlow, 2 trace a step
def test_bench_throughput_compares_code_versions(tmp_path):
    write_corpus(tmp_path, n=600)  # 3 batches of the tiny preset (1 untimed + 2 timed)
    before = tmp_path / "before"  # another checkout: here a copy of this one's package
    shutil.copytree(ROOT / "nmt", before / "nmt", ignore=shutil.ignore_patterns("__pycache__"))
    _script("bench_throughput.py", "--train-src", tmp_path / "train.src", "--train-tgt", tmp_path / "train.tgt",
            "--preset", "tiny", "--steps", 2, "--warmup", 1, "--variant", "lstm:model.family=rnn", "--code", before,
            "--name", "smoke", "--out", tmp_path / "out", "--work", tmp_path / "work", timeout=600)
    report = json.loads((tmp_path / "out" / "smoke.json").read_text())
    markdown = (tmp_path / "out" / "smoke.md").read_text()
    _provenance(report, markdown)
    assert (tmp_path / "work" / "tokenizer").exists()
    assert list(report["codes"]) == ["current", "before"] and report["codes"]["before"] == str(before.resolve())
    assert report["codes"]["current"].startswith(str(ROOT)) and report["not_run"] == []
    now, then = report["rows"]
    assert (now["variant"], now["code"], then["variant"], then["code"]) == ("lstm", "current", "lstm", "before")
    for r in (now, then):
        _check_speed(r)
        assert r["batches"] == 3 and r["settings"] == {"model.family": "rnn"}
    # the same code twice: the same batches, model and padding; the ratio is the quotient of the two speeds
    assert (now["timed_target_tokens"], now["parameters"], now["target_fill"]) == \
        (then["timed_target_tokens"], then["parameters"], then["target_fill"])
    assert now["ratio_to_before"] == round(now["target_tokens_per_second"] / then["target_tokens_per_second"], 2)
    assert then["ratio_to_before"] == 1.0
    assert f"| lstm | current | {now['target_tokens_per_second']:,.0f} | {now['target_fill']:.1%} | " \
           f"{now['ratio_to_before']} |" in markdown


# --- bench_demo -----------------------------------------------------------------------------------

@pytest.mark.slow  # 74-106 s on the 2-core machine at load 5-7: 2 processes import TensorFlow, the demo traces
def test_bench_demo_records_its_budget_and_keeps_its_translations(tmp_path):  # training and beam search
    import sacrebleu

    from nmt.cli.common import embedded_splits

    _script("bench_demo.py", "--conditions", "2cores", "--target-bleu", 50, "--max-minutes", 0.001,
            "--peak-seconds", 0.05, "--name", "smoke", "--out", tmp_path / "out", timeout=600)
    report = json.loads((tmp_path / "out" / "smoke.json").read_text())
    markdown = (tmp_path / "out" / "smoke.md").read_text()
    _provenance(report, markdown)
    assert (report["demo_target_bleu"], report["demo_max_minutes"], report["matmul_peak_seconds_per_size"]) == \
        (50.0, 0.001, 0.05)
    demo_output = (tmp_path / "out" / "smoke" / "2cores.demo.txt").read_text()
    assert "reaches 50 " in demo_output and "safety limit of 0.001 minutes" in demo_output  # what nmt demo was given
    assert "reaches 50 (or its safety limit of 0.001 minutes" in markdown
    [run] = report["runs"]
    assert run["condition"] == "2cores" and run["reached_target"] is False and run["steps"] >= 1
    assert run["validations"] >= 1 and run["training_seconds"] > 0
    assert run["matmul_peak_gflops"] == max(run["gflops_by_size"].values())
    test = embedded_splits(report["demo_preset"]["train"]["max_words"])["test"]
    hyps = gzip.decompress(Path(run["hypotheses"]).read_bytes()).decode("utf-8").split("\n")[:-1]
    assert len(hyps) == len(test)
    refs = [t for _, t in test]
    assert run["test_bleu"] == round(sacrebleu.corpus_bleu(hyps, [refs], tokenize="none").score, 2)
    assert run["test_chrf"] == round(sacrebleu.corpus_chrf(hyps, [refs]).score, 2)
    assert f"| 2cores | {run['matmul_peak_gflops']} | {run['steps']} |" in markdown
