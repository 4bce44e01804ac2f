"""Smoke tests of the benchmark scripts that measure trained models (checkpoint averaging, CTranslate2,
decoding speed, attention alignment): each runs on a tiny model and corpus and writes a report that
carries its provenance and translations that re-score to the figures it states (issue 16)."""

import gzip
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from nmt import benchinfo
from tests.integration.test_cli import run, write_corpus

ROOT = Path(__file__).resolve().parents[2]


def script(name, *args, timeout=300):
    """Run scripts/NAME.py with ARGS on this (possibly dirty) checkout; returns its stdout."""
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / f"{name}.py"), *map(str, args), "--allow-dirty"],
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def kept(path) -> list:
    """The translations a report names (a path relative to the repository, or as given)."""
    return gzip.decompress((ROOT / path).read_bytes()).decode("utf-8").split("\n")[:-1]


def bleu(hyps, refs) -> float:
    import sacrebleu

    return round(sacrebleu.corpus_bleu(hyps, [refs]).score, 2)


def assert_provenance(report: dict, markdown: str):
    assert report["utc_date"].endswith("Z") and report["code_snapshot"] is True
    assert "commit" in report and "clean_tree" in report and report["command"]
    assert report["environment"] == benchinfo.speed_settings()  # the scripts inherit this process' settings
    assert "Date (UTC): " in markdown


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny Transformer (one layer, width 64) with two kept checkpoints, and a 30-sentence test set."""
    folder = tmp_path_factory.mktemp("scripts_models")
    src, tgt = write_corpus(folder, n=200)
    (folder / "test.src").write_text("\n".join(src[:30]) + "\n")
    (folder / "test.tgt").write_text("\n".join(tgt[:30]) + "\n")
    code, _, err = run(["train", "--model-dir", str(folder / "m"), "--train-src", str(folder / "train.src"),
                        "--train-tgt", str(folder / "train.tgt"), "--valid-src", str(folder / "test.src"),
                        "--valid-tgt", str(folder / "test.tgt"), "--preset", "tiny", "--vocab-size", "30",
                        "--model", "transformer", "--layers", "1", "--d-model", "64", "--ff-dim", "128",
                        "--steps", "40", "--eval-every", "20", "--keep-checkpoints", "2", "--lr", "0.005",
                        "--no-progress"])
    assert code == 0, err
    return folder, src[:30], tgt[:30]


@pytest.mark.slow  # 18 s; test_average.py covers the averaging itself
def test_bench_average_rows_rescore(trained, tmp_path):
    folder, src, refs = trained
    # validation: the test set's last 20 sentences reversed, so that the two columns differ
    (folder / "valid.src").write_text("\n".join(src[:-21:-1]) + "\n")
    (folder / "valid.tgt").write_text("\n".join(refs[:-21:-1]) + "\n")
    script("bench_average", "--model", folder / "m", "--source", folder / "test.src",
           "--reference", folder / "test.tgt", "--valid-source", folder / "valid.src",
           "--valid-reference", folder / "valid.tgt", "--moses", "de", "--name", "avg", "--out", tmp_path,
           "--decodes", "1:0,2:1.5")
    report = json.loads((tmp_path / "avg.json").read_text())
    markdown = (tmp_path / "avg.md").read_text()
    assert_provenance(report, markdown)
    assert report["sentences"] == len(src) and report["valid_sentences"] == 20
    # the best weights, each of the two kept checkpoints alone, and the mean of the last two
    labels = [r["weights"] for r in report["rows"]]
    assert labels[0].startswith("model.weights.h5") and labels[1:] == [
        "checkpoint 20 alone", "checkpoint 40 alone", "mean of the last 2 checkpoints (steps 20, 40)"]
    from nmt.evaluation import score

    for row in report["rows"]:
        hyps, valid_hyps = kept(row["hypotheses"]), kept(row["valid_hypotheses"])
        assert len(hyps) == len(src) and len(valid_hyps) == 20
        assert bleu(hyps, refs) == row["bleu"] and bleu(valid_hyps, refs[:-21:-1]) == row["valid_bleu"]
        assert score(hyps, refs, moses="de").bleu == row["bleu_moses"]
        bold = "**" if row["weights"] == report["chosen"] else ""
        assert (f"| {bold}{row['weights']}{bold} | {bold}{row['valid_bleu']:.2f}{bold} | {row['bleu']:.2f} | "
                f"{row['chrf']:.2f} | {row['bleu_moses']:.2f} |") in markdown
    # the choice is made on validation only: the first row with the highest validation BLEU
    best_valid = max(r["valid_bleu"] for r in report["rows"])
    assert report["chosen"] == next(r["weights"] for r in report["rows"] if r["valid_bleu"] == best_valid)
    assert report["rows"][0]["bleu_moses_signature"].endswith("|moses:de")
    # the best validation step's checkpoint is model.weights.h5: the same translations
    best = int(labels[0].rsplit("step ", 1)[1].rstrip(")"))
    same = report["rows"][labels.index(f"checkpoint {best} alone")]
    assert kept(report["rows"][0]["hypotheses"]) == kept(same["hypotheses"])
    assert report["rows"][0]["bleu"] == same["bleu"]
    # then the chosen weights with each --decodes setting after the model's own; chosen on validation too
    decode_rows = report["decode_rows"]
    assert [(r["beam_size"], r["length_penalty"]) for r in decode_rows][1:] == [(1, 0.0), (2, 1.5)]
    assert all(r["weights"] == report["chosen"] for r in decode_rows)
    # the chosen weights loaded again translate as they did in the first table
    chosen = next(r for r in report["rows"] if r["weights"] == report["chosen"])
    assert kept(decode_rows[0]["hypotheses"]) == kept(chosen["hypotheses"])
    assert kept(decode_rows[0]["valid_hypotheses"]) == kept(chosen["valid_hypotheses"])
    files = [r["hypotheses"] for r in report["rows"] + decode_rows[1:]]
    assert len(set(files)) == len(files)  # no row's translations overwrite another's
    for row in decode_rows:
        assert bleu(kept(row["hypotheses"]), refs) == row["bleu"]
        assert bleu(kept(row["valid_hypotheses"]), refs[:-21:-1]) == row["valid_bleu"]
    best_valid = max(r["valid_bleu"] for r in decode_rows)
    first_best = next(r for r in decode_rows if r["valid_bleu"] == best_valid)
    assert report["chosen_decode"] == {"beam_size": first_best["beam_size"],
                                       "length_penalty": first_best["length_penalty"]}
    assert f"| **{first_best['beam_size']}** | **{first_best['length_penalty']}** |" in markdown
    assert not (ROOT / "results" / "avg.json").exists()


def test_bench_average_refuses_a_bad_decodes_list(tmp_path):
    for bad in ("5", "0:0.6", "4:-1", "a:b"):
        done = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_average.py"), "--model", str(tmp_path),
                               "--decodes", bad], capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and "--decodes" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow  # 15 s; tests/unit/test_curve.py covers its arithmetic
def test_bench_curve_rows_rescore(trained, tmp_path):
    folder, src, refs = trained
    script("bench_curve", "--model", folder / "m", "--source", folder / "test.src", "--reference",
           folder / "test.tgt", "--moses", "de", "--budgets", "0.0001,1000", "--name", "curve", "--out", tmp_path)
    report = json.loads((tmp_path / "curve.json").read_text())
    markdown = (tmp_path / "curve.md").read_text()
    assert_provenance(report, markdown)
    assert (tmp_path / "curve.png").stat().st_size > 0
    from nmt import model_dir as md
    from nmt.evaluation import score

    metrics = {m["step"]: m for m in md.read_metrics(folder / "m")}
    assert [r["step"] for r in report["rows"]] == [20, 40]  # the two kept checkpoints, in order
    for row in report["rows"]:
        hyps = kept(row["hypotheses"])
        assert len(hyps) == len(src) and bleu(hyps, refs) == row["bleu"]
        assert score(hyps, refs, moses="de").bleu == row["bleu_moses"]
        m = metrics[row["step"]]  # the run's own clock and validation, as it logged them
        assert row["valid_bleu"] == m["valid_bleu"] and row["minutes"] == round(m["train_seconds"] / 60, 2)
        assert row["paced_minutes"] == pytest.approx(row["step"] / report["steps_per_second"] / 60, abs=0.01)
        assert f"| {row['step']:,} | {row['minutes']:.1f} | {row['paced_minutes']:.1f} |" in markdown
    # a budget that reaches every validation keeps what training kept: its last "best" step
    assert report["budgets"] == {"0.0001": None, "1000": max(s for s, m in metrics.items() if m.get("best"))}
    # the checkpoint training kept as model.weights.h5 translates as model.weights.h5 does
    from nmt.translator import Translator

    best = next(r for r in report["rows"] if r["step"] == report["budgets"]["1000"])
    assert [h.text for h in Translator.load(folder / "m").translate(src)] == kept(best["hypotheses"])


@pytest.mark.slow  # 12 s
def test_bench_curve_names_a_damaged_checkpoint_in_one_line(trained, tmp_path):
    import shutil

    folder = trained[0]
    model = tmp_path / "m"
    shutil.copytree(folder / "m", model)
    data = sorted((model / "checkpoints").glob("ckpt-40.data-*"))[0]
    data.write_bytes(data.read_bytes()[:100])  # cut short, as a full disk leaves it
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_curve.py"), "--model", str(model),
                           "--source", str(folder / "test.src"), "--reference", str(folder / "test.tgt"),
                           "--name", "curve", "--out", str(tmp_path / "out"), "--allow-dirty"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error: cannot read checkpoint")
    assert not (tmp_path / "out" / "curve.json").exists()


def test_bench_ctranslate2_rows_rescore(trained, tmp_path):
    pytest.importorskip("ctranslate2", reason="ctranslate2 is not installed (pip install 'nmt[ctranslate2]')")
    folder, src, refs = trained
    script("bench_ctranslate2", "--model", folder / "m", "--source", folder / "test.src",
           "--reference", folder / "test.tgt", "--repeats", "1", "--batch-size", "16", "--name", "ct2",
           "--parallel-batches", "2", "--out", tmp_path)
    report = json.loads((tmp_path / "ct2.json").read_text())
    markdown = (tmp_path / "ct2.md").read_text()
    assert_provenance(report, markdown)
    assert report["sentences"] == len(src) and report["versions"]["ctranslate2"]
    rows = {(r["search"], r["engine"]): r for r in report["rows"]}
    assert report["parallel_batches"] == 2 and "2 batches at once" in markdown
    assert sorted(rows) == sorted((s, e) for s in ("greedy", "beam 4")
                                  for e in ("nmt (TensorFlow)", "CTranslate2 float32", "CTranslate2 int8",
                                            "CTranslate2 float32, 2 workers", "CTranslate2 int8, 2 workers"))
    for (search, _engine), row in rows.items():
        hyps = kept(row["hypotheses"])
        assert len(hyps) == len(src)
        assert bleu(hyps, refs) == row["bleu"]
        base = rows[(search, "nmt (TensorFlow)")]
        assert row["identical_to_nmt"] == sum(a == b for a, b in zip(hyps, kept(base["hypotheses"])))
        # the ratio is the quotient of the two rounded speeds, rounded to 2 decimals
        speed = row["sentences_per_second"]
        assert speed > 0 and row["speed_ratio"] == pytest.approx(speed / base["sentences_per_second"], abs=0.005)
        assert row["first_pass_seconds"] > 0 and f"| {row['first_pass_seconds']} |" in markdown
    assert rows[("greedy", "nmt (TensorFlow)")]["speed_ratio"] == 1.0
    assert rows[("greedy", "nmt (TensorFlow)")]["identical_to_nmt"] == len(src)
    # float32 CTranslate2 searches greedily as nmt does (tests/integration/test_ctranslate2.py): the same
    # translations, but for those that reach nmt's length bound (the script gives CTranslate2 the longest one)
    assert rows[("greedy", "CTranslate2 float32")]["identical_to_nmt"] >= len(src) // 2
    assert rows[("greedy", "CTranslate2 float32, 2 workers")]["identical_to_nmt"] >= len(src) // 2
    assert not (ROOT / "results" / "ct2.json").exists()


# With --code, a second process translates with the checkout itself as the 'other' code version (and a
# third with one inter-op thread, a fourth with an environment variable set), so that the ratio column compares
# real timings: both variants together took 70 s on the idle 2-core machine.
@pytest.mark.parametrize("other", [None, pytest.param(ROOT, marks=pytest.mark.slow)], ids=["current", "with-code"])
def test_bench_decoding_rows_are_consistent(trained, tmp_path, other):
    folder, src, _ = trained
    script("bench_decoding", "--model", folder / "m", "--source", folder / "test.src", "--repeats", "1",
           "--batch-size", "16", "--name", "dec", "--out", tmp_path,
           *(["--code", other, "--inter-op", "1", "--env", "TF_CPP_MIN_LOG_LEVEL=3", "--rounds", "2"]
             if other else []))
    report = json.loads((tmp_path / "dec.json").read_text())
    markdown = (tmp_path / "dec.md").read_text()
    assert_provenance(report, markdown)
    codes = ["current, 1 inter-op", "current, TF_CPP_MIN_LOG_LEVEL=3", "current", other.name] if other else ["current"]
    assert [r["code"] for r in report["rows"]] == list(report["codes"]) == codes
    by_code = {r["code"]: r for r in report["rows"]}
    base = by_code[codes[-1]]  # the ratios' denominator: the last code version
    # the current code runs from the snapshot taken at the start, a --code checkout (even this one) as it is
    for label in codes:
        assert (by_code[label]["package"] == str(ROOT.resolve())) == (label == getattr(other, "name", None)), label
    # each process saw the environment its label names, and only that one
    expected = {"current, 1 inter-op": {"TF_NUM_INTEROP_THREADS": "1"},
                "current, TF_CPP_MIN_LOG_LEVEL=3": {"TF_CPP_MIN_LOG_LEVEL": "3"}}
    assert {r["code"]: r["environment"] for r in report["rows"]} == {c: expected.get(c, {}) for c in codes}
    for row in report["rows"]:
        assert row["batch_size"] == 16
        for kind in ("greedy", "beam4"):
            hyps = kept(row["hypotheses"][kind])
            assert len(hyps) == len(src)
            assert hashlib.sha1("\n".join(hyps).encode()).hexdigest()[:12] == row[f"{kind}_output_sha1"]
            # each row's speed is the median over its rounds, its ratio the median of the ratios within a round
            speed, mine, theirs = row[f"{kind}_sentences_per_second"], row[f"{kind}_rounds"], base[f"{kind}_rounds"]
            assert len(mine) == len(theirs) == (2 if other else 1) and all(s > 0 for s in mine)
            assert speed == pytest.approx(sum(mine) / len(mine), abs=0.06)  # the median of two or one, to 0.1
            ratios = sorted(a / b for a, b in zip(mine, theirs))
            assert row[f"{kind}_ratio"] == pytest.approx(sum(ratios) / len(ratios), abs=0.005)
            # same model, same code: the same translations, and the report says so
            assert row[f"{kind}_same_output"] is True
            assert row[f"{kind}_output_sha1"] == by_code["current"][f"{kind}_output_sha1"]
        assert (f"| {row['model']} | 16 | {row['code']} | {row['greedy_sentences_per_second']:,.1f} | "
                f"{row['greedy_ratio']} | {row['beam4_sentences_per_second']:,.1f} | {row['beam4_ratio']} | yes |"
                in markdown)
    assert base["greedy_ratio"] == base["beam4_ratio"] == 1.0
    assert not (ROOT / "results" / "dec.json").exists()


@pytest.mark.slow  # 98 s (63 s of CPU) on the 2-core machine under load: three processes import TensorFlow,
def test_bench_alignment_scores_consistently(tmp_path):  # and nmt benchmark measures the matmul peak (6 s)
    import sacrebleu

    from nmt.corpora.synthetic import splits

    sizes = (200, 10, 20)
    script("bench_alignment", "--models", "transformer", "--sizes", ",".join(map(str, sizes)), "--preset", "tiny",
           "--vocab-size", "60", "--steps", "20", "--set", "model.layers=1", "--set", "train.eval_every=20",
           "--name", "al", "--out", tmp_path / "out", "--work", tmp_path / "work")
    report = json.loads((tmp_path / "out" / "al.json").read_text())
    markdown = (tmp_path / "out" / "al.md").read_text()
    assert_provenance(report, markdown)
    test = splits(sizes=sizes)["test"]
    refs = [p.tgt for p in test]
    assert report["test_sentences"] == len(test) == sizes[2] and report["corpus_sizes"] == list(sizes)
    bleu_report = json.loads((tmp_path / "out" / "al_bleu" / "report.json").read_text())
    assert bleu_report["models"][0]["training"]["steps"] == 20
    hyps = kept(report["hypotheses"]["transformer"]["beam4"])
    assert len(hyps) == len(test)
    rows = report["rows"]
    assert rows and all(r["model"] == "transformer" for r in rows)
    assert bleu(hyps, refs) == rows[0]["test_bleu"] == bleu_report["models"][0]["test"]["beam4"]["bleu"]
    # (20 steps translate badly: chrF, unlike BLEU, is not 0)
    assert round(sacrebleu.corpus_chrf(hyps, [refs]).score, 2) == bleu_report["models"][0]["test"]["beam4"]["chrf"]
    words = sum(len(t.split()) for t in refs)
    for r in rows:
        assert all(0 <= r[k] <= 1 for k in ("aer", "precision", "recall"))
        assert r["sure"] == report["gold_links"]["sure"] and r["possible"] == report["gold_links"]["possible"]
        assert r["sentences"] == len(test) and r["links"] == words  # one link per target word
        # AER = 1 - (|A∩S| + |A∩P|) / (|A| + |S|), with precision |A∩P|/|A| and recall |A∩S|/|S|
        # (each figure rounded to 4 decimals)
        aer = 1 - (r["precision"] * r["links"] + r["recall"] * r["sure"]) / (r["links"] + r["sure"])
        assert r["aer"] == pytest.approx(aer, abs=2e-4)
        assert f"| {r['aer']:.3f} | {r['precision']:.3f} | {r['recall']:.3f} |" in markdown
    assert (tmp_path / "out" / "al_transformer.png").read_bytes()[:4] == b"\x89PNG"


def test_bench_alignment_real_passes_each_benchmark_the_steps_of_its_models():
    """The default --steps names both families; a run of one must not hand nmt benchmark the other's entry
    (which it refuses), and bare numbers or the entries of models in the run pass unchanged."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from bench_alignment_real import steps_for

    both = "lstm-additive=900,transformer=3000"
    assert steps_for(both, ["transformer"]) == "transformer=3000"
    assert steps_for(both, ["lstm-additive", "transformer"]) == both
    assert steps_for("20", ["transformer"]) == "20"
    assert steps_for("transformer=5", ["lstm-additive"]) == "transformer=5"  # nothing of its own: nmt benchmark says


# 265 s on the quiet 2-core machine: eflomal and four tiny Transformers on 200
# Multi30k pairs + the 447 Hansards pairs, then the --resume run that only aligns
@pytest.mark.slow
def test_bench_alignment_real_scores_what_it_writes(shared_data, tmp_path):
    """The Hansards benchmark on a tiny budget: its kept links re-score to its rows, every symmetrisation lies
    between the intersection and the union, and eflomal, the models and the plots are all there."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from bench_alignment_real import SWEEP

    from nmt import alignment as al

    gold_dir = shared_data / "align" / "enfr_hansards"
    script("bench_alignment_real", "--multi30k", shared_data / "multi30k", "--gold-dir", gold_dir, "--train-pairs", 200,
           "--models", "transformer", "--guided", "transformer", "--steps", 20, "--minutes", 2, "--preset", "tiny",
           "--vocab-size", 500, "--set", "model.layers=1", "--set", "train.eval_every=20", "--plot", "3", "--name",
           "real", "--out", tmp_path / "out", "--work", tmp_path / "work", "--resume", timeout=900)
    report = json.loads((tmp_path / "out" / "real.json").read_text())
    assert report["resumed"] == []  # --resume with nothing to resume runs everything
    assert_provenance(report, (tmp_path / "out" / "real.md").read_text())
    assert report["data"]["train_pairs"] == 200 + 447 and report["test_sentences"] == 447
    rows = report["rows"]
    row = {(r["system"], r["direction"], r["extraction"], r["layer"], r["head"]): r for r in rows}
    methods = ("intersection", "union", "grow-diag", "grow-diag-final", "grow-diag-final-and")
    assert {k[1] for k in row if k[0] == "eflomal"} == {*methods, "en-fr", "fr-en"}
    for extraction in ("predicting step", "Shift-Att"):
        assert ({k[1] for k in row if k[0] == "transformer" and k[2] == extraction and k[4] == "mean"}
                == {*methods, "en-fr", "fr-en", "soft-mean 0.5", "soft-geometric 0.5"})
    test = {lang: (gold_dir / f"test.{lang}").read_text(encoding="utf-8").splitlines() for lang in ("en", "fr")}
    gold = al.read_links(gold_dir / "gold.wa", "gold", 0, test["en"], test["fr"])
    for name, key in (("eflomal.grow-diag-final-and", ("eflomal", "grow-diag-final-and", "-", "-", "-")),
                      ("transformer.shift.grow-diag", ("transformer", "grow-diag", "Shift-Att", "mean", "mean")),
                      ("transformer+guided.layer0.head0.shift.soft-geometric-0.5",  # the guided head's fixed setting
                       ("transformer+guided", "soft-geometric 0.5", "Shift-Att", 0, 0))):
        lines = kept(Path(tmp_path / "out" / "real_links" / f"{name}.wa.gz"))
        links = [al.parse_pharaoh(line).sure for line in lines]
        assert al.alignment_error_rate(links, gold).to_dict() == {
            k: row[key][k] for k in al.alignment_error_rate(links, gold).to_dict()}
    for system, extraction, layer in (("eflomal", "-", "-"), ("transformer", "Shift-Att", "mean")):
        count = {m: row[(system, m, extraction, layer, layer)]["links"] for m in (*methods, "en-fr", "fr-en")}
        assert (count["intersection"] <= min(count["en-fr"], count["fr-en"])
                <= max(count["en-fr"], count["fr-en"]) <= count["union"])
        assert count["intersection"] <= count["grow-diag"] <= count["grow-diag-final"] <= count["union"]
    # the guided Transformer followed eflomal's intersection links of the training text: scored at every
    # setting, its guided head (the last layer's head 0) symmetrised too, and its links kept
    assert ({k[1] for k in row if k[0] == "transformer+guided" and (k[3], k[4]) == (0, 0)}
            == {*methods, "en-fr", "fr-en", *(f"soft-{c} {t}" for c in ("mean", "geometric") for t in SWEEP)})
    # the layer, head and extraction the guided model trained, as its config.json says (the default --set
    # transformer:train.guided_shift=true: the step that reads each word)
    assert report["guided"] == {
        "models": ["transformer"], "links": "eflomal intersection on the training text",
        "settings": {"transformer+guided": {"layer": 0, "head": 0, "extraction": "Shift-Att"}}}
    # soft symmetrisation: the guided head swept over thresholds, the other symmetrised settings at 0.5 only; a
    # higher threshold keeps no more links, and a geometric mean never exceeds the arithmetic one
    for extraction in ("predicting step", "Shift-Att"):
        count = {(c, t): row[("transformer+guided", f"soft-{c} {t}", extraction, 0, 0)]["links"]
                 for c in ("mean", "geometric") for t in SWEEP}
        for t, higher in zip(SWEEP, SWEEP[1:]):
            assert count[("mean", higher)] <= count[("mean", t)] and count[("geometric", higher)] <= count[
                ("geometric", t)]
        assert all(count[("geometric", t)] <= count[("mean", t)] for t in SWEEP)
        assert ("transformer", "soft-mean 0.5", extraction, "mean", "mean") in row
        assert ("transformer", "soft-mean 0.3", extraction, "mean", "mean") not in row
    assert "at the threshold fixed in advance (0.5): soft-mean " in (tmp_path / "out" / "real.md").read_text()
    guide = (tmp_path / "work" / "data" / "train.fr-en.intersection.links").read_text().splitlines()
    forward = (tmp_path / "work" / "data" / "train.en-fr.intersection.links").read_text().splitlines()
    assert len(guide) == len(forward) == 200 + 447
    assert ([sorted(al.parse_pharaoh(line).sure) for line in guide]
            == [sorted((j, i) for i, j in al.parse_pharaoh(line).sure) for line in forward])
    assert (tmp_path / "out" / "real_links" / "transformer+guided.layer0.head0.shift.grow-diag.wa.gz").exists()
    assert [m["name"] for m in report["models"]["en-fr"]] == ["transformer", "transformer+guided"]
    assert sorted(report["plots"]) == sorted(f"real_{m}_{x}_3.png" for m in ("transformer", "transformer+guided")
                                             for x in ("predict", "shift"))
    assert all((tmp_path / "out" / p).stat().st_size > 1000 for p in report["plots"])
    # --resume after the run: nothing is trained or aligned again, and the report scores the same links
    weights = sorted((tmp_path / "work").glob("*/*/model.weights.h5"))
    times = [w.stat().st_mtime_ns for w in weights]
    (tmp_path / "out" / "real.json").unlink()
    script("bench_alignment_real", "--multi30k", shared_data / "multi30k", "--gold-dir", gold_dir, "--train-pairs", 200,
           "--models", "transformer", "--guided", "transformer", "--steps", 20, "--minutes", 2, "--preset", "tiny",
           "--vocab-size", 500, "--set", "model.layers=1", "--set", "train.eval_every=20", "--plot", "3", "--name",
           "real", "--out", tmp_path / "out", "--work", tmp_path / "work", "--resume", timeout=900)
    again = json.loads((tmp_path / "out" / "real.json").read_text())
    assert len(weights) == 4 and [w.stat().st_mtime_ns for w in weights] == times
    assert again["resumed"] == ["eflomal", *report["benchmark_commands"]] and again["rows"] == rows
    assert again["eflomal"]["train_seconds"] == report["eflomal"]["train_seconds"]
    # other settings are refused, not mixed with the models already there
    args = ["--multi30k", shared_data / "multi30k", "--gold-dir", gold_dir, "--train-pairs", 100, "--name", "real",
            "--out", tmp_path / "out", "--work", tmp_path / "work", "--resume", "--allow-dirty"]
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_alignment_real.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and done.stderr.strip().startswith("error: ") and "other settings" in done.stderr
