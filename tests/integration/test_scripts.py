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


def _fake_run(folder: Path, refs_file: Path, seed: int, systems: dict, title="t", attention="additive") -> None:
    """A report folder as nmt benchmark writes it, for the systems {name: translations}."""
    import sacrebleu

    refs = refs_file.read_text().splitlines()
    models = []
    for name, hyps in systems.items():
        (folder / "hypotheses").mkdir(parents=True, exist_ok=True)
        (folder / "hypotheses" / f"{name}.beam4.hyp.gz").write_bytes(gzip.compress(("\n".join(hyps) + "\n").encode()))
        bleu = round(sacrebleu.corpus_bleu(hyps, [refs]).score, 2)
        models.append({"name": name, "config": {"model": {"attention": attention}, "train": {"seed": seed}},
                       "training": {"steps": 100}, "hypotheses": {"beam4": f"hypotheses/{name}.beam4.hyp.gz"},
                       "test": {"beam4": {"bleu": bleu, "chrf": round(sacrebleu.corpus_chrf(hyps, [refs]).score, 2)},
                                "greedy": {"bleu": bleu}, "beam4_lowercase": {"bleu": bleu}}})
    report = {"title": title, "models": models, "tokenizer": {"vocab_size": 8},
              "data": {"description": "generated", "files": {"test": ["src.txt", str(refs_file)]}}}
    (folder / "report.json").write_text(json.dumps(report))


def _corrupted(refs: list, share: float, seed: int) -> list:
    import random

    rng = random.Random(seed)
    return [" ".join(w if rng.random() > share else "zzz" for w in r.split()) for r in refs]


def test_bench_seeds_finds_a_real_difference_and_not_a_random_one(tmp_path):
    import random
    import statistics

    import sacrebleu

    rng = random.Random(0)
    words = [f"w{i}" for i in range(300)]
    refs = [" ".join(rng.choice(words) for _ in range(rng.randint(5, 20))) for _ in range(300)]
    refs_file = tmp_path / "refs.txt"
    refs_file.write_text("\n".join(refs) + "\n")
    seeds = (7, 8, 9)
    for s in seeds:  # 'good' loses 10% of its words, 'bad' 40%, 'good-too' is 'good' with other random draws
        _fake_run(tmp_path / f"seed_{s}", refs_file, s,
                  {"good": _corrupted(refs, 0.1, s), "bad": _corrupted(refs, 0.4, s),
                                                         "good-too": _corrupted(refs, 0.1, 100 + s)})
    script = [sys.executable, str(ROOT / "scripts" / "bench_seeds.py"), "--samples", "300", "--allow-dirty"]
    done = subprocess.run([*script, *(str(tmp_path / f"seed_{s}") for s in seeds), "--out", str(tmp_path / "summary")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["seeds"] == list(seeds) and summary["utc_date"].endswith("Z")
    good = [sacrebleu.corpus_bleu(_corrupted(refs, 0.1, s), [refs]).score for s in seeds]
    assert summary["models"]["good"]["BLEU beam 4"]["mean"] == round(statistics.fmean(round(g, 2) for g in good), 2)
    assert summary["models"]["good"]["BLEU beam 4"]["sd"] == round(statistics.stdev(round(g, 2) for g in good), 2)
    pairs = {(p["baseline"], p["system"]): p for p in summary["pairs"]}
    real = pairs[("good", "bad")]
    assert real["mean"] < 0 and max(real["p_values"]) < 0.05 and real["larger_than_noise"] is True
    same = pairs[("good", "good-too")]
    assert same["larger_than_noise"] is False and max(same["p_values"]) > 0.05
    assert "| bad − good |" in (tmp_path / "summary.md").read_text()

    # refused: runs that differ in more than the seed, the same seed twice, translations that do not re-score
    _fake_run(tmp_path / "other", refs_file, 10, {"good": refs, "bad": refs, "good-too": refs}, attention="dot")
    _fake_run(tmp_path / "again", refs_file, 7, {"good": refs, "bad": refs, "good-too": refs})
    for runs, needle in (([tmp_path / "seed_7", tmp_path / "other"], "differ in more than their seed"),
                         ([tmp_path / "seed_7", tmp_path / "again"], "same seed")):
        done = subprocess.run([*script, *map(str, runs), "--out", str(tmp_path / "x")], capture_output=True, text=True)
        assert done.returncode != 0 and needle in done.stderr and not (tmp_path / "x.json").exists(), done.stderr
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("\n".join(reversed(refs)) + "\n")
    done = subprocess.run([*script, str(tmp_path / "seed_7"), str(tmp_path / "seed_8"), "--refs", str(wrong),
                           "--out", str(tmp_path / "x")], capture_output=True, text=True)
    assert done.returncode != 0 and "wrong references?" in done.stderr, done.stderr


def _hansards_report(seed, eflomal: dict, guided: dict, links="eflomal intersection on the training text", steps=3000):
    """A scripts/bench_alignment_real.py report with eflomal's rows and the guided head's (AER as fractions)."""
    head = {"layer": 2, "head": 0, "extraction": "Shift-Att"}
    rows = [{"system": "eflomal", "direction": m, "extraction": "-", "layer": "-", "head": "-", "aer": a}
            for m, a in eflomal.items()]
    rows += [{"system": "transformer+guided", "direction": m, **head, "aer": a} for m, a in guided.items()]
    rows += [{"system": "transformer+guided", "direction": "intersection", "extraction": "Shift-Att", "layer": 1,
              "head": 0, "aer": 0.01}]  # another head: never the one compared
    seed_option = f" --set transformer:train.seed={seed}" if seed is not None else ""
    return {"command": f"scripts/bench_alignment_real.py --guided transformer{seed_option}", "commit": "abc",
            "budget": {"steps": f"transformer={steps}", "minutes_cap": 120.0},
            "guided": {"links": links, "settings": {"transformer+guided": head}}, "rows": rows}


def test_hansards_runs_counts_one_run_per_seed_and_not_the_run_that_chose_a_setting(tmp_path):
    """Differences are the guided head's method minus eflomal's best symmetrisation (its directional rows and
    the other heads ignored); a repeated seed and the run that chose a setting are shown, not counted; the
    verdict needs a lead in every counted run beyond twice the spread; a mixed recipe is refused."""
    runs = {"a": _hansards_report(None, {"intersection": 0.133, "grow-diag": 0.15, "en-fr": 0.10},
                                  {"intersection": 0.129, "soft-geometric 0.5": 0.125}),
            "b": _hansards_report(None, {"intersection": 0.133}, {"intersection": 0.128, "soft-geometric 0.5": 0.0}),
            "c": _hansards_report(2, {"intersection": 0.130}, {"intersection": 0.132, "soft-geometric 0.5": 0.120}),
            "d": _hansards_report(3, {"intersection": 0.130}, {"intersection": 0.125, "soft-geometric 0.5": 0.100})}
    for name, report in runs.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(report))
    command = [sys.executable, str(ROOT / "scripts" / "hansards_runs.py"), *(str(tmp_path / f"{n}.json") for n in runs),
               "--method", "intersection", "--method", "soft-geometric 0.5", "--chosen-on", "soft-geometric 0.5=d",
               "--out", str(tmp_path / "out" / "runs"), "--allow-dirty"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((tmp_path / "out" / "runs.json").read_text())
    row = {r["run"]: r for r in report["runs"]}
    assert row["a"]["eflomal"] == 13.3 and row["a"]["eflomal_method"] == "intersection"  # not en-fr's 10.0
    assert row["a"]["difference"] == {"intersection": -0.4, "soft-geometric 0.5": -0.8}
    assert report["same_seed_as"] == {"b": "a"}
    inter, soft = report["verdicts"]["intersection"], report["verdicts"]["soft-geometric 0.5"]
    assert inter["runs"] == ["a", "c", "d"] and inter["differences"] == [-0.4, 0.2, -0.5]
    assert inter["ahead_in"] == 2 and inter["ahead_beyond_spread"] is False
    assert soft["runs"] == ["a", "c"] and soft["differences"] == [-0.8, -1.0]  # b: seed of a; d chose it
    assert soft["mean"] == -0.9 and soft["ahead_beyond_spread"] is True  # 0.9 > 2 x sd 0.14
    markdown = (tmp_path / "out" / "runs.md").read_text()
    assert "(chose it)" in markdown and "as a: not counted" in markdown and "Date (UTC): " in markdown
    other = _hansards_report(2, {"intersection": 0.13}, {"intersection": 0.12},
                             links="eflomal grow-diag-final-and on the training text")
    (tmp_path / "c.json").write_text(json.dumps(other))
    refused = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 1 and refused.stderr.startswith("error: the runs differ in their recipe")
