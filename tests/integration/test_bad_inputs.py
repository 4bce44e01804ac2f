"""A catalogue of bad inputs across the commands (README, Troubleshooting).

Every user mistake must exit with status 2, print exactly one line that names the problem (and
usually the fix), no traceback, and leave no output file behind. A few inputs that look bad but are
handled (BOM, CRLF, a blank line, a 10,000-word line, Ctrl-C) are checked for what happens instead.
"""

import csv
import json
import logging
import random
import shutil
from pathlib import Path

import pytest

from tests.integration.test_classify import SMALL, topic_rows, write_table
from tests.integration.test_cli import run, write_corpus


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    src, tgt = write_corpus(d, n=200)
    (d / "short.tgt").write_text("\n".join(tgt[:199]) + "\n")
    (d / "empty.txt").write_text("")
    (d / "bad_utf8.txt").write_bytes(b"ab cd\n\xff\xfe broken\n")
    (d / "utf16.txt").write_bytes("ab cd\nef gh\n".encode("utf-16"))
    (d / "nul.txt").write_bytes(b"ab\x00cd\nef\n")
    (d / "three.txt").write_text("ab cd\nef\ngh ij\n")
    (d / "two.txt").write_text("CD AB\nEF\n")
    (d / "badlinks.txt").write_text("0-0 x-1\n0-0\n0-0\n")
    (d / "clean.txt").write_text("ab cd ef\ngh ij\n")
    (d / "bom_crlf.txt").write_bytes("\ufeffab cd ef\r\ngh ij\r\n".encode("utf-8"))
    (d / "bad.yaml").write_text("model: [unclosed\n")
    (d / "loop1").symlink_to(d / "loop2")  # a symbolic-link loop
    (d / "loop2").symlink_to(d / "loop1")
    (d / "string_lr.yaml").write_text("train:\n  learning_rate: 1e-3\n")  # PyYAML reads 1e-3 as text
    (d / "list_section.json").write_text('{"model": [1, 2]}')
    (d / "laughs.yaml").write_text("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
                                   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nmodel: [*c, *c, *c, *c, *c, *c, *c, *c]\n")
    code, _, err = run(["train", "--model-dir", str(d / "m"), "--train-src", str(d / "train.src"), "--train-tgt",
                        str(d / "train.tgt"), "--preset", "tiny", "--vocab-size", "30", "--steps", "150",
                        "--eval-every", "150", "--lr", "0.01", "--no-progress"])
    assert code == 0, err
    write_table(d / "clf.csv", topic_rows(240, 0))
    rows = list(csv.reader(open(d / "clf.csv")))
    rows[1][0] = "Astrology"  # a class the classifier never saw
    with open(d / "unknown_label.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)
    (d / "small.json").write_text(json.dumps(SMALL))
    code, _, err = run(["classify", "train", "--model-dir", str(d / "c"), "--data", str(d / "clf.csv"), "--config",
                        str(d / "small.json"), "--preset", "transformer", "--epochs", "1", "--no-progress"])
    assert code == 0, err
    _broken_copies(d)
    return d


def _broken_copies(d: Path):
    noweights = d / "m_noweights"  # a training killed before its first validation
    noweights.mkdir()
    for name in ("config.json", "spm.model"):
        shutil.copy(d / "m" / name, noweights / name)
    foreign = shutil.copytree(d / "m", d / "m_foreign")  # weights of another configuration
    config = json.loads((foreign / "config.json").read_text())
    config["model"]["units"] *= 2
    (foreign / "config.json").write_text(json.dumps(config))
    (foreign / "manifest.json").unlink()
    badtok = shutil.copytree(d / "m", d / "m_badtok")  # a tokenizer from another model
    shutil.copy(d / "c" / "spm.model", badtok / "spm.model")
    (badtok / "manifest.json").unlink()
    damaged = shutil.copytree(d / "m", d / "m_damaged")
    weights = damaged / "model.weights.h5"
    weights.write_bytes(weights.read_bytes()[:-100])
    badconfig = shutil.copytree(d / "m", d / "m_badconfig")  # a config.json edited by hand, no manifest
    config = json.loads((badconfig / "config.json").read_text())
    config["model"]["units"] = 10**9
    (badconfig / "config.json").write_text(json.dumps(config))
    (badconfig / "manifest.json").unlink()
    garbage = shutil.copytree(d / "m", d / "m_garbage_spm")  # another file under the tokenizer's name
    (garbage / "spm.model").write_text("not a model\n")
    (garbage / "manifest.json").unlink()
    newer = shutil.copytree(d / "m", d / "m_newer")
    manifest = json.loads((newer / "manifest.json").read_text())
    (newer / "manifest.json").write_text(json.dumps({**manifest, "version": 99}))
    (d / "exported").mkdir()
    (d / "exported" / "keep.txt").write_text("someone's file")


TRAIN = ["train", "--model-dir", "{t}/new", "--preset", "tiny", "--steps", "1", "--no-progress"]
FILES = ["--train-src", "{d}/train.src", "--train-tgt", "{d}/train.tgt"]

# (id, arguments, words the one-line message must contain)
MISTAKES = [
    ("train: sides of different lengths", TRAIN + ["--train-src", "{d}/train.src", "--train-tgt", "{d}/short.tgt"],
     "has 200 lines but"),
    ("train: empty files", TRAIN + ["--train-src", "{d}/empty.txt", "--train-tgt", "{d}/empty.txt"], "no usable pairs"),
    ("train: invalid UTF-8", TRAIN + ["--train-src", "{d}/bad_utf8.txt", "--train-tgt", "{d}/two.txt"],
     "line 2 is not valid UTF-8"),
    ("train: UTF-16 file", TRAIN + ["--train-src", "{d}/utf16.txt", "--train-tgt", "{d}/two.txt"], "is UTF-16 encoded"),
    ("train: NUL bytes", TRAIN + ["--train-src", "{d}/nul.txt", "--train-tgt", "{d}/two.txt"], "contains a NUL byte"),
    ("train: missing file", TRAIN + ["--train-src", "{d}/nope.txt", "--train-tgt", "{d}/two.txt"], "no such file"),
    ("train: a directory as corpus", TRAIN + ["--train-src", "{d}", "--train-tgt", "{d}/two.txt"], "is a directory"),
    ("train: one side only", TRAIN + ["--train-src", "{d}/train.src"], "go together"),
    ("train: unknown attention", TRAIN + FILES + ["--attention", "psychic"], "unknown attention mechanism 'psychic'"),
    ("train: unknown model family", TRAIN + FILES + ["--model", "gru"], "unknown model family 'gru'"),
    ("train: zero units", TRAIN + FILES + ["--units", "0"],
     "--units must be an integer in [1, 65,536]; got 0 (model.units)"),
    ("train: negative layers", TRAIN + FILES + ["--layers", "-2"], "--layers must be an integer in [1, 64]; got -2"),
    ("train: dropout of 1.5", TRAIN + FILES + ["--dropout", "1.5"],
     "--dropout must be a finite number in [0, 1); got 1.5"),
    ("train: zero batch tokens", TRAIN + FILES + ["--batch-tokens", "0"],
     "--batch-tokens must be an integer in [1, 10,000,000]; got 0"),
    ("train: zero accumulation", TRAIN + FILES + ["--accumulate", "0"],
     "--accumulate must be an integer in [1, 100,000]; got 0"),
    ("train: heads that do not divide",
     TRAIN + FILES + ["--attention", "multi-head", "--attention-units", "32", "--heads", "3"],
     "--attention-units (32) must be divisible by --heads (3) (model.attention_units, model.heads)"),
    ("train: no end", ["train", "--model-dir", "{t}/new", "--preset", "tiny", "--steps", "0", "--no-progress"] + FILES,
     "training has no end"),
    ("train: into an existing model", ["train", "--model-dir", "{d}/m", "--steps", "1"] + FILES,
     "already holds a model"),
    ("train: validation files alone", TRAIN + ["--valid-src", "{d}/train.src", "--valid-tgt", "{d}/train.tgt"],
     "validation files need training files too"),
    ("train: resume on other data", ["train", "--model-dir", "{d}/m", "--resume", "--no-progress", "--train-src",
                                     "{d}/three.txt", "--train-tgt", "{d}/three.txt"],
     "--resume continues on the same data"),
    ("train: resume with another model size",
     ["train", "--model-dir", "{d}/m", "--resume", "--units", "64", "--steps", "200"],
     "model.units (32 -> 64). --resume continues the saved configuration"),
    ("train: resume with another preset", ["train", "--model-dir", "{d}/m", "--resume", "--preset", "base"],
     "was trained with other settings"),
    ("train: resume nothing", ["train", "--model-dir", "{t}/nothing", "--resume", "--steps", "1"] + FILES,
     "cannot resume"),
    ("train: missing config file", TRAIN + FILES + ["--config", "{d}/nope.yaml"], "does not exist"),
    ("train: broken YAML", TRAIN + FILES + ["--config", "{d}/bad.yaml"], "cannot parse config file"),
    ("train: missing plugin", TRAIN + FILES + ["--plugin", "no_such_module_here"], "cannot import plugin module"),
    ("train: unknown strategy", TRAIN + FILES + ["--strategy", "horovod"], "'horovod' is not one of"),
    ("align: two outputs naming one file",
     ["align", "{d}/m", "-s", "{d}/clean.txt", "-o", "{t}/same.txt", "--jsonl", "{t}/same.txt"],
     "both name"),
    ("translate: missing model directory", ["translate", "{t}/absent", "-i", "{d}/clean.txt"], "does not exist"),
    ("translate: not a model directory", ["translate", "{d}", "-i", "{d}/clean.txt"], "is not a model directory"),
    ("translate: half-written model directory", ["translate", "{d}/m_noweights", "-i", "{d}/clean.txt"],
     "has no model.weights.h5"),
    ("translate: weights of another configuration", ["translate", "{d}/m_foreign", "-i", "{d}/clean.txt"],
     "does not match config.json"),
    ("translate: tokenizer of another model", ["translate", "{d}/m_badtok", "-i", "{d}/clean.txt"],
     "does not match config.json"),
    ("translate: damaged weights", ["translate", "{d}/m_damaged", "-i", "{d}/clean.txt"], "is damaged or was replaced"),
    ("translate: model from a newer nmt", ["translate", "{d}/m_newer", "-i", "{d}/clean.txt"],
     "written by a newer nmt"),
    ("translate: empty input", ["translate", "{d}/m", "-i", "{d}/empty.txt"], "no sentences to translate"),
    ("translate: invalid UTF-8 input", ["translate", "{d}/m", "-i", "{d}/bad_utf8.txt"], "not valid UTF-8"),
    ("translate: beam size 0", ["translate", "{d}/m", "-i", "{d}/clean.txt", "--beam-size", "0"],
     "--beam-size must be an integer in [1, 1,024]; got 0 (decode.beam_size)"),
    ("translate: n-best above the beam",
     ["translate", "{d}/m", "-i", "{d}/clean.txt", "--beam-size", "2", "--n-best", "5"],
     "--n-best (5) must be at most --beam-size (2) (decode.n_best, decode.beam_size)"),
    ("translate: batch size 0", ["translate", "{d}/m", "-i", "{d}/clean.txt", "--batch-size", "0"],
     "--batch-size must be an integer in [1, 100,000]; got 0"),
    ("translate: output = input", ["translate", "{d}/m", "-i", "{d}/clean.txt", "-o", "{d}/clean.txt"],
     "is the same file as input"),
    ("translate: output in a missing folder", ["translate", "{d}/m", "-i", "{d}/clean.txt", "-o", "{t}/no/out.txt"],
     "does not exist"),
    ("translate: output is a folder", ["translate", "{d}/m", "-i", "{d}/clean.txt", "-o", "{d}"], "is a directory"),
    ("translate: output where nothing can be written",
     ["translate", "{d}/m", "-i", "{d}/clean.txt", "-o", "/sys/out.txt"], "is not writable"),
    ("translate: a layer that does not exist",
     ["translate", "{d}/m", "-i", "{d}/clean.txt", "--alignments", "hard", "--layer", "5"], "--layer 5 does not exist"),
    ("align: sources and targets differ in number", ["align", "{d}/m", "-s", "{d}/three.txt", "-t", "{d}/two.txt"],
     "has 3 lines but"),
    ("align: unreadable gold links",
     ["align", "{d}/m", "-s", "{d}/three.txt", "-t", "{d}/three.txt", "--gold", "{d}/badlinks.txt"],
     "cannot read link 'x-1'"),
    ("evaluate: hypotheses and references differ in number",
     ["evaluate", "--hyp", "{d}/three.txt", "--ref", "{d}/two.txt"], "3"),
    ("evaluate: no references", ["evaluate", "{d}/m", "--src", "{d}/three.txt"], "give --ref FILE"),
    ("classify: unknown preset",
     ["classify", "train", "--model-dir", "{t}/c", "--data", "{d}/clf.csv", "--preset", "huge"],
     "unknown classifier preset 'huge'"),
    ("classify: missing text column",
     ["classify", "train", "--model-dir", "{t}/c", "--data", "{d}/clf.csv", "--text-column", "body"],
     "no column named 'body'"),
    ("classify: labels it was not trained on", ["classify", "evaluate", "{d}/c", "--data", "{d}/unknown_label.csv"],
     "are not among the classes"),
    ("classify: nothing to classify", ["classify", "predict", "{d}/c"], "no text to classify"),
    ("export: over someone's folder", ["export", "{d}/m", "{d}/exported"], "already exists and is not empty"),
    ("export: alignments from a classifier", ["export", "{d}/c", "{t}/out", "--alignments"], "translation models only"),
    ("average: more checkpoints than kept", ["average", "{d}/m", "{t}/avg", "--last", "9"], "fewer than --last 9"),
    ("data: unknown corpus", ["data", "fetch", "wikipedia", "--out", "{t}/data"], "unknown dataset 'wikipedia'"),
    ("benchmark: zero minutes", ["benchmark", "--minutes", "0", "--out", "{t}/bench"], "--minutes must be positive"),
    ("benchmark: NaN minutes", ["benchmark", "--minutes", "nan", "--out", "{t}/bench"], "--minutes must be positive"),
    ("benchmark: no models", ["benchmark", "--models", "", "--out", "{t}/bench"], "--models is empty"),
    ("benchmark: a model twice", ["benchmark", "--models", "transformer,transformer", "--out", "{t}/bench"],
     "names a model twice"),
    ("demo: zero minutes", ["demo", "--max-minutes", "0", "--model-dir", "{t}/demo"], "--max-minutes must be above 0"),
    ("demo: NaN minutes", ["demo", "--max-minutes", "nan", "--model-dir", "{t}/demo"], "--max-minutes must be above 0"),
    ("demo: target BLEU over 100", ["demo", "--target-bleu", "101", "--model-dir", "{t}/demo"],
     "--target-bleu must be above 0"),
    ("demo: unknown attention", ["demo", "--attention", "nope", "--model-dir", "{t}/demo"], "nope"),
    ("train: negative target BLEU", ["train", "--model-dir", "{t}/m", "--target-bleu", "-1", "--steps", "1"],
     "--target-bleu must be a finite number in [0, 100]"),
    ("demo: over a model that is not a demo", ["demo", "--model-dir", "{d}/m"], "is not an earlier demo"),
    ("data: --from a missing folder", ["data", "fetch", "multi30k", "--from", "{t}/nowhere", "--out", "{t}/data"],
     "no such directory"),
    ("align: a negative number of plots", ["align", "{d}/m", "-s", "{d}/three.txt", "--plots", "-1"],
     "--plots must be 0 or more"),
    ("evaluate: embedded test and files at once", ["evaluate", "{d}/m", "--embedded-test", "--src", "{d}/three.txt"],
     "--embedded-test replaces"),
    # Values checked before any work starts (nmt.checks): the option and its range in one line.
    ("train: NaN learning rate", TRAIN + FILES + ["--lr", "nan"],
     "--lr must be a finite number in (0, 10]; got nan (train.learning_rate)"),
    ("train: negative steps", TRAIN + FILES + ["--steps", "-5"],
     "--steps must be an integer in [0, 1,000,000,000,000]"),
    ("train: label smoothing above 1", TRAIN + FILES + ["--label-smoothing", "1.5"],
     "--label-smoothing must be a finite number in [0, 1)"),
    ("train: NaN epochs", TRAIN + FILES + ["--epochs", "nan"], "--epochs must be a finite number"),
    ("train: validation every 0 steps", TRAIN + FILES + ["--eval-every", "0"],
     "--eval-every must be an integer in [1,"),
    ("train: 0 checkpoints kept", TRAIN + FILES + ["--keep-checkpoints", "0"],
     "--keep-checkpoints must be an integer in [1, 1,000]"),
    ("train: negative seed", TRAIN + FILES + ["--seed", "-1"], "--seed must be an integer in [0, 2,147,483,647]"),
    ("train: a billion units", TRAIN + FILES + ["--units", "1000000000"], "--units must be an integer in [1, 65,536]"),
    ("train: a model larger than memory", TRAIN + FILES + ["--units", "65536", "--embedding-dim", "65536"],
     "training this model would need about"),
    ("train: a string where a number belongs", TRAIN + FILES + ["--config", "{d}/string_lr.yaml"],
     "train.learning_rate must be a finite number in (0, 10]; got '1e-3'"),
    ("train: a config section that is not a mapping", TRAIN + FILES + ["--config", "{d}/list_section.json"],
     "section 'model' must be a mapping"),
    ("train: YAML aliases", TRAIN + FILES + ["--config", "{d}/laughs.yaml"], "YAML aliases (*a) are not supported"),
    ("translate: a million beams", ["translate", "{d}/m", "-i", "{d}/clean.txt", "--beam-size", "1000000"],
     "--beam-size must be an integer in [1, 1,024]"),
    ("translate: NaN length penalty", ["translate", "{d}/m", "-i", "{d}/clean.txt", "--length-penalty", "nan"],
     "--length-penalty must be a finite number in [0, 10]"),
    ("translate: an endless input", ["translate", "{d}/m", "-i", "/dev/zero", "-o", "{t}/out.txt"],
     "/dev/zero: line 1 contains a NUL byte"),
    ("translate: a model whose config.json is out of range", ["translate", "{d}/m_badconfig", "-i", "{d}/clean.txt"],
     "config.json: model.units must be an integer in [1, 65,536]"),
    ("align: batch size 0", ["align", "{d}/m", "-s", "{d}/clean.txt", "--batch-size", "0"],
     "--batch-size must be an integer in [1, 100,000]; got 0 (decode.batch_size)"),
    ("explore: batch size 0", ["explore", "{d}/m", "-s", "{d}/clean.txt", "--batch-size", "0", "-o", "{t}/x.html"],
     "--batch-size must be an integer in [1, 100,000]; got 0 (decode.batch_size)"),
    ("explore: more hypotheses than beams",
     ["explore", "{d}/m", "-s", "{d}/clean.txt", "--beam-size", "2", "--n-best", "3", "-o", "{t}/x.html"],
     "must be at most"),
    ("benchmark: a setting out of range", ["benchmark", "--set", "model.units=0", "--out", "{t}/bench"],
     "model.units must be an integer in [1, 65,536]; got 0"),
    ("benchmark: a cosine schedule without a step budget",
     ["benchmark", "--set", "train.schedule=cosine", "--minutes", "1", "--out", "{t}/bench"],
     "the cosine schedule decays to zero at train.max_steps: give a step budget"),
    ("train: a cosine schedule that ends before its warmup", TRAIN + ["--schedule", "cosine", "--steps", "10",
                                                                      "--warmup", "20"], "must exceed"),
    ("classify: negative validation fraction",
     ["classify", "train", "--model-dir", "{t}/c", "--data", "{d}/clf.csv", "--valid-fraction", "-0.1"],
     "--valid-fraction must be a finite number in [0, 1)"),
    ("classify: into a folder that cannot be written",
     ["classify", "train", "--model-dir", "/sys/c", "--data", "{d}/clf.csv"], "is not a writable directory"),
    ("classify: batch size 0", ["classify", "predict", "{d}/c", "some text", "--batch-size", "0"],
     "0 is not in the range"),
    # The machine's errors (nmt/cli/main.py maps them): one line, exit 2, nothing half-written.
    ("translate: a full disk", ["translate", "{d}/m", "-i", "{d}/clean.txt", "-o", "/dev/full", "--no-progress"],
     "No space left on device; free some space"),
    ("translate: a symbolic-link loop as input", ["translate", "{d}/m", "-i", "{d}/loop1"],
     "a symbolic link points back to itself"),
    ("train: a symbolic-link loop as corpus", TRAIN + ["--train-src", "{d}/loop1", "--train-tgt", "{d}/loop2"],
     "a symbolic link points back to itself"),
    ("translate: another file under the tokenizer's name", ["translate", "{d}/m_garbage_spm", "-i", "{d}/clean.txt"],
     "spm.model is not a SentencePiece model"),
    ("classify: texts and --input at once", ["classify", "predict", "{d}/c", "some text", "--input", "{d}/clean.txt"],
     "not both"),
]


@pytest.mark.parametrize("args, words", [c[1:] for c in MISTAKES], ids=[c[0] for c in MISTAKES])
def test_a_mistake_is_one_line_and_exit_2(env, tmp_path, args, words):
    args = [a.format(d=env, t=tmp_path) for a in args]
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out, err = run(args)
    assert code == 2, (code, out, err)
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("error: ") and words in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written, not even an empty folder


def test_the_catalogue_has_forty_mistakes():
    assert len(MISTAKES) >= 40 and len({c[0] for c in MISTAKES}) == len(MISTAKES)


def test_a_resume_may_extend_the_step_limit_and_remembers_it(env, tmp_path):
    from nmt import manifest

    model = shutil.copytree(env / "m", tmp_path / "m")
    code, out, err = run(["train", "--model-dir", str(model), "--resume", "--steps", "160", "--no-progress"])
    assert code == 0, err
    assert json.loads(out.strip().splitlines()[-1])["steps"] == 160
    saved = json.loads((model / "config.json").read_text())
    assert saved["train"]["max_steps"] == 160 and saved["model"]["units"] == 32  # the rest as it was
    manifest.verify(model)  # the rewritten config.json is checksummed


def test_a_disk_that_fills_up_mid_write_leaves_nothing_behind(env, tmp_path, monkeypatch):
    """A fault-injecting writer: every file nmt writes through nmt.io fails with ENOSPC after 10 bytes."""
    import errno
    import os

    import nmt.io

    real_fdopen = os.fdopen

    class Full:
        def __init__(self, f):
            self.f, self.written = f, 0

        def write(self, data):
            self.written += len(data)
            if self.written > 10:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.f.write(data)

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self.f.__exit__(*exc)

    monkeypatch.setattr(nmt.io.os, "fdopen", lambda *a, **k: Full(real_fdopen(*a, **k)))
    for args in (["translate", str(env / "m"), "-i", str(env / "clean.txt"), "-o", str(tmp_path / "out.txt"),
                  "--no-progress"],
                 ["align", str(env / "m"), "-s", str(env / "three.txt"), "-t", str(env / "three.txt"), "-o",
                  str(tmp_path / "links.txt")]):
        code, _, err = run(args)
        assert code == 2 and len(err.strip().splitlines()) == 1 and "No space left on device" in err, err
        assert list(tmp_path.iterdir()) == []  # no output, no temporary file


def test_bom_and_crlf_are_read_as_clean_text(env):
    code_a, clean, _ = run(["translate", str(env / "m"), "-i", str(env / "clean.txt"), "--beam-size", "1"])
    code_b, messy, _ = run(["translate", str(env / "m"), "-i", str(env / "bom_crlf.txt"), "--beam-size", "1"])
    assert code_a == code_b == 0 and clean == messy and clean.strip()


def test_a_blank_line_on_one_side_drops_that_pair(env, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    src = (env / "train.src").read_text().splitlines()
    tgt = (env / "train.tgt").read_text().splitlines()
    tgt[5] = ""
    (tmp_path / "s").write_text("\n".join(src) + "\n")
    (tmp_path / "t").write_text("\n".join(tgt) + "\n")
    code, _, err = run(["train", "--model-dir", str(tmp_path / "m"), "--train-src", str(tmp_path / "s"), "--train-tgt",
                        str(tmp_path / "t"), "--preset", "tiny", "--vocab-size", "30", "--steps", "1", "--no-progress"])
    assert code == 0, err
    assert "train corpus: kept 199 of 200 pairs (1 blank" in caplog.text  # counted in the log, not silently


def test_a_10000_word_line_is_cut_not_decoded_for_minutes(env, tmp_path, caplog):
    rng = random.Random(0)
    (tmp_path / "long.txt").write_text(" ".join(rng.choice(["ab", "cd", "ef"]) for _ in range(10_000)) + "\nab cd\n")
    code, out, err = run(["translate", str(env / "m"), "-i", str(tmp_path / "long.txt"), "--beam-size", "1"])
    assert code == 0, err
    assert len(out.splitlines()) == 2 and "1 source sentence(s) longer than 1024 pieces were cut" in caplog.text


def test_a_beam_larger_than_the_vocabulary_still_translates(env):
    vocabulary = json.loads((env / "m" / "config.json").read_text())["tokenizer"]["vocab_size"]
    code, out, err = run(["translate", str(env / "m"), "-i", str(env / "clean.txt"), "--beam-size",
                          str(vocabulary + 10)])
    greedy = run(["translate", str(env / "m"), "-i", str(env / "clean.txt"), "--beam-size", "1"])[1]
    assert code == 0 and len(out.splitlines()) == 2 and out.strip(), err
    assert out.splitlines()[0] == greedy.splitlines()[0]  # the model is sure enough of this one


def test_ctrl_c_during_translate_exits_130_and_writes_nothing(env, tmp_path, monkeypatch):
    from nmt.translator import Translator

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Translator, "translate", interrupted)
    code, _, err = run(["translate", str(env / "m"), "-i", str(env / "clean.txt"), "-o", str(tmp_path / "out.txt")])
    assert code == 130 and "interrupted" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_an_internal_error_is_one_line_and_exit_1(env, tmp_path, monkeypatch):
    from nmt.translator import Translator

    def broken(*args, **kwargs):
        raise RuntimeError("an invariant\nthat broke")

    monkeypatch.setattr(Translator, "translate", broken)
    code, _, err = run(["translate", str(env / "m"), "-i", str(env / "clean.txt"), "-o", str(tmp_path / "out.txt")])
    # what a terminal shows: \r returns to the line start
    shown = [line.rsplit("\r", 1)[-1] for line in err.split("\n")]
    assert code == 1 and "Traceback" not in err and len([line for line in shown if line.strip()]) == 1, err
    assert "internal error: RuntimeError: an invariant that broke (a bug in nmt; NMT_DEBUG=1" in err
    assert list(tmp_path.iterdir()) == []
