"""The CLI through click's CliRunner: train -> translate -> evaluate, and user mistakes."""

import json
import random

import numpy as np
import pytest
from click.testing import CliRunner

from nmt.cli.main import main


def run(args, input=None):
    """Run like the console script: returns (exit code, stdout, stderr)."""
    runner = CliRunner()
    result = runner.invoke(_entry, args, input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


import click  # noqa: E402


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []})
@click.pass_context
def _entry(ctx):
    main(list(ctx.args))


def write_corpus(folder, n=200, seed=0):
    rng = random.Random(seed)
    words = "ab cd ef gh ij kl".split()
    src, tgt = [], []
    for _ in range(n):
        s = [rng.choice(words) for _ in range(rng.randint(2, 5))]
        src.append(" ".join(s))
        tgt.append(" ".join(w.upper() for w in reversed(s)))
    (folder / "train.src").write_text("\n".join(src) + "\n")
    (folder / "train.tgt").write_text("\n".join(tgt) + "\n")
    return src, tgt


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    write_corpus(folder)
    code, out, err = run(["train", "--model-dir", str(folder / "m"), "--train-src", str(folder / "train.src"),
                          "--train-tgt", str(folder / "train.tgt"), "--valid-src", str(folder / "train.src"),
                          "--valid-tgt", str(folder / "train.tgt"), "--preset", "tiny", "--vocab-size", "30",
                          "--steps", "300", "--eval-every", "150", "--lr", "0.01", "--no-progress"])
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["steps"] == 300
    return folder


def test_train_translate_evaluate(model):
    folder = model
    code, out, err = run(["translate", str(folder / "m"), "-i", str(folder / "train.src"), "-o", str(folder / "hyp"),
                          "--beam-size", "2"])
    assert code == 0, err
    hyps = (folder / "hyp").read_text().splitlines()
    assert len(hyps) == 200
    code, out, err = run(["evaluate", "--hyp", str(folder / "hyp"), "--ref", str(folder / "train.tgt"), "--json"])
    assert code == 0, err
    scores = json.loads(out)
    assert scores["bleu"] > 50 and "nrefs:1" in scores["bleu_signature"] and "nc:6" in scores["chrf_signature"]
    code, out2, err = run(["evaluate", str(folder / "m"), "--src", str(folder / "train.src"), "--ref",
                           str(folder / "train.tgt"), "--json"])
    assert code == 0, err
    assert json.loads(out2)["bleu"] == pytest.approx(scores["bleu"], abs=5)


def test_translate_stdin_and_nbest(model):
    code, out, err = run(["translate", str(model / "m"), "--beam-size", "3", "--n-best", "2"], input="ab cd\nef\n")
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 4 and lines[0].startswith("0 ||| ") and lines[2].startswith("1 ||| ")


def test_one_output_line_per_input_line_whatever_it_holds(model, tmp_path):
    # Every break str.splitlines knows but \n, inside lines, and an empty line: 6 lines in, 6 lines out,
    # the same from standard input and from a file, through translate and align alike.
    lines = ["ab\u2028cd", "ef\x0cgh\x0b", "", "ij\rkl\x85ab", "cd\x1cef\u2029gh\x1d\x1e", "ab"]
    data = "\n".join(lines) + "\n"
    (tmp_path / "in.txt").write_bytes(data.encode("utf-8"))
    code, from_stdin, err = run(["translate", str(model / "m")], input=data.encode("utf-8"))
    assert code == 0, err
    code, from_file, err = run(["translate", str(model / "m"), "-i", str(tmp_path / "in.txt")])
    assert code == 0, err
    assert from_stdin == from_file and from_file.count("\n") == len(lines) == len(from_file.split("\n")) - 1
    (tmp_path / "out.txt").write_bytes(from_file.encode("utf-8"))
    code, links, err = run(["align", str(model / "m"), "-s", str(tmp_path / "in.txt"), "-t", str(tmp_path / "out.txt")])
    assert code == 0, err
    assert links.count("\n") == len(lines)


def _variables(checkpoint_prefix) -> dict:
    import tensorflow as tf

    reader = tf.train.load_checkpoint(str(checkpoint_prefix))
    # Not compared: the object graph (it holds Keras' per-process layer names) and the training clock.
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
            if name != "_CHECKPOINTABLE_OBJECT_GRAPH" and not name.startswith("train_seconds/")}


def test_resume_without_corpus_options_continues_on_the_recorded_files(tmp_path):
    write_corpus(tmp_path, n=80)
    files = ["--train-src", str(tmp_path / "train.src"), "--train-tgt", str(tmp_path / "train.tgt"),
             "--valid-src", str(tmp_path / "train.src"), "--valid-tgt", str(tmp_path / "train.tgt")]
    common = ["--preset", "tiny", "--vocab-size", "30", "--steps", "4", "--eval-every", "2", "--no-progress"]
    for name in ("whole", "cut"):
        code, _, err = run(["train", "--model-dir", str(tmp_path / name), *files, *common])
        assert code == 0, err
    record = json.loads((tmp_path / "cut" / "data.json").read_text())
    assert [f["path"] for f in record["train"]["files"]] == [str((tmp_path / n).resolve())
                                                             for n in ("train.src", "train.tgt")]
    # "cut" as if killed after step 2: its last checkpoint removed, so a resume redoes steps 3 and 4.
    ckpts = tmp_path / "cut" / "checkpoints"
    for f in ckpts.glob("ckpt-4*"):
        f.unlink()
    (ckpts / "checkpoint").write_text('model_checkpoint_path: "ckpt-2"\nall_model_checkpoint_paths: "ckpt-2"\n')
    # no corpus options
    code, out, err = run(["train", "--model-dir", str(tmp_path / "cut"), "--resume", "--no-progress"])
    assert code == 0, err
    assert "embedded" not in err and json.loads(out.strip().splitlines()[-1])["steps"] == 4
    whole, cut = _variables(tmp_path / "whole" / "checkpoints" / "ckpt-4"), _variables(ckpts / "ckpt-4")
    assert whole.keys() == cut.keys()
    for name in whole:  # bit for bit: the same batches of the same files, in the same order
        assert np.array_equal(whole[name], cut[name]), name


def test_resume_refuses_other_or_changed_data_and_validation_files_need_training_files(tmp_path):
    write_corpus(tmp_path, n=60)
    (tmp_path / "other").mkdir()
    write_corpus(tmp_path / "other", n=60, seed=1)
    files = ["--train-src", str(tmp_path / "train.src"), "--train-tgt", str(tmp_path / "train.tgt")]
    common = ["--preset", "tiny", "--vocab-size", "30", "--steps", "2", "--eval-every", "2", "--no-progress"]
    code, _, err = run(["train", "--model-dir", str(tmp_path / "m"), *files, *common])
    assert code == 0, err
    other = ["--train-src", str(tmp_path / "other" / "train.src"), "--train-tgt", str(tmp_path / "other" / "train.tgt")]
    code, _, err = run(["train", "--model-dir", str(tmp_path / "m"), "--resume", *other, *common])
    one_line_error(code, err, "was trained on", "--resume continues on the same data")
    # The same contents under another path are the same data.
    (tmp_path / "copy").mkdir()
    for n in ("train.src", "train.tgt"):
        (tmp_path / "copy" / n).write_bytes((tmp_path / n).read_bytes())
    same = ["--train-src", str(tmp_path / "copy" / "train.src"), "--train-tgt", str(tmp_path / "copy" / "train.tgt")]
    code, _, err = run(["train", "--model-dir", str(tmp_path / "m"), "--resume", *same, *common])
    assert code == 0, err
    (tmp_path / "train.src").write_text((tmp_path / "train.src").read_text() + "ab\n")
    code, _, err = run(["train", "--model-dir", str(tmp_path / "m"), "--resume", "--no-progress"])
    one_line_error(code, err, "has changed since")
    (tmp_path / "train.src").unlink()
    code, _, err = run(["train", "--model-dir", str(tmp_path / "m"), "--resume", "--no-progress"])
    one_line_error(code, err, "which is gone")
    code, _, err = run(["train", "--model-dir", str(tmp_path / "v"), "--valid-src", str(tmp_path / "train.tgt"),
                        "--valid-tgt", str(tmp_path / "train.tgt"), *common])
    one_line_error(code, err, "validation files need training files too")
    assert not (tmp_path / "v").exists()


def one_line_error(code, err, *needles):
    assert code == 2, err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_mismatched_corpus(tmp_path):
    (tmp_path / "a").write_text("x\ny\nz\n")
    (tmp_path / "b").write_text("x\ny\n")
    code, _, err = run(["train", "--model-dir", str(tmp_path / "m"), "--train-src", str(tmp_path / "a"), "--train-tgt",
                        str(tmp_path / "b"), "--steps", "1"])
    one_line_error(code, err, "3", "2", str(tmp_path / "a"), str(tmp_path / "b"))
    assert not (tmp_path / "m").exists()


def test_missing_file(tmp_path):
    code, _, err = run(["train", "--model-dir", str(tmp_path / "m"), "--train-src", str(tmp_path / "nope"),
                        "--train-tgt", str(tmp_path / "nope2"), "--steps", "1"])
    one_line_error(code, err, "nope")


def test_unknown_attention(tmp_path):
    code, _, err = run(["train", "--model-dir", str(tmp_path / "m"), "--attention", "bahdanauu", "--steps", "1"])
    one_line_error(code, err, "bahdanauu", "additive", "multi-head")


def test_missing_model_dir(tmp_path):
    code, _, err = run(["translate", str(tmp_path / "nothing")], input="hello\n")
    one_line_error(code, err, "does not exist")


def test_no_partial_output_on_error(model, tmp_path):
    out = tmp_path / "out.txt"
    code, _, err = run(["translate", str(tmp_path / "nothing"), "-i", str(model / "train.src"), "-o", str(out)])
    one_line_error(code, err)
    assert not out.exists()
    code, _, err = run(["translate", str(model / "m"), "-i", str(model / "train.src"), "-o", str(model / "train.src")])
    one_line_error(code, err, "same file")


def test_invalid_utf8_input(model, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine\n\xff\xfe broken\n")
    code, _, err = run(["translate", str(model / "m"), "-i", str(bad)])
    one_line_error(code, err, "line 2")


def test_bad_options(model, tmp_path):
    code, _, err = run(["translate", str(model / "m"), "--beam-size", "0"], input="ab\n")
    one_line_error(code, err, "--beam-size must be an integer in [1, 1,024]; got 0")
    code, _, err = run(["train", "--model-dir", str(tmp_path / "m"), "--units", "0", "--steps", "1"])
    one_line_error(code, err, "--units")
    code, _, err = run(["train", "--model-dir", str(tmp_path / "m"), "--no-such-flag"])
    one_line_error(code, err, "no-such-flag")
    code, _, err = run(["evaluate", "--hyp", str(model / "train.src")])
    one_line_error(code, err, "--ref")


def test_every_command_has_help():
    for args in (["--help"], ["train", "--help"], ["translate", "--help"], ["evaluate", "--help"], ["data", "--help"],
                 ["data", "fetch", "--help"], ["demo", "--help"], ["benchmark", "--help"]):
        code, out, _ = run(args)
        assert code == 0 and "Usage:" in out, args


@pytest.mark.slow  # 30 s; the README tour (slow) runs the same chain, test_train_translate_evaluate on files
def test_chain_on_the_embedded_corpus(tmp_path):
    """train (embedded corpus, no files) -> translate its test split -> evaluate, via the CLI."""
    import sacrebleu

    from nmt.corpora.synthetic import splits

    test = splits()["test"][:40]
    (tmp_path / "test.en").write_text("".join(p.src + "\n" for p in test))
    (tmp_path / "test.de").write_text("".join(p.tgt + "\n" for p in test))
    code, out, err = run(["train", "--model-dir", str(tmp_path / "m"), "--preset", "tiny", "--steps", "40",
                          "--eval-every", "40", "--no-progress"])
    assert code == 0, err
    assert json.loads(out.strip().splitlines()[-1])["steps"] == 40
    code, _, err = run(["translate", str(tmp_path / "m"), "-i", str(tmp_path / "test.en"), "-o", str(tmp_path / "hyp"),
                        "--beam-size", "2"])
    assert code == 0, err
    hyps = (tmp_path / "hyp").read_text().splitlines()
    assert len(hyps) == 40
    code, out, err = run(["evaluate", "--hyp", str(tmp_path / "hyp"), "--ref", str(tmp_path / "test.de"), "--json"])
    assert code == 0, err
    expected = sacrebleu.corpus_bleu(hyps, [[p.tgt for p in test]]).score
    assert json.loads(out)["bleu"] == pytest.approx(expected, abs=0.01)


def test_training_without_an_end_leaves_no_directory(model, tmp_path):
    code, _, err = run(["train", "--model-dir", str(tmp_path / "m"), "--train-src", str(model / "train.src"),
                        "--train-tgt", str(model / "train.tgt"), "--preset", "base"])
    one_line_error(code, err, "--steps")
    assert not (tmp_path / "m").exists()


def test_transformer_through_the_same_commands(model, tmp_path):
    """The CLI never asks which family it runs: the Transformer trains and translates the same way."""
    code, out, err = run(["train", "--model-dir", str(tmp_path / "t"), "--model", "transformer", "--train-src",
                          str(model / "train.src"), "--train-tgt", str(model / "train.tgt"), "--preset", "tiny",
                          "--vocab-size", "30", "--layers", "1", "--d-model", "16", "--ff-dim", "32",
                          "--transformer-heads", "2", "--steps", "20", "--eval-every", "20", "--no-progress"])
    assert code == 0, err
    assert json.loads((tmp_path / "t" / "config.json").read_text())["model"]["family"] == "transformer"
    code, out, err = run(["translate", str(tmp_path / "t"), "--beam-size", "2"], input="ab cd\nef\n")
    assert code == 0, err
    assert len(out.splitlines()) == 2
    code, _, err = run(["train", "--model-dir", str(tmp_path / "u"), "--model", "transformer", "--d-model", "30",
                        "--transformer-heads", "4", "--steps", "1"])
    one_line_error(code, err, "divisible")
    assert not (tmp_path / "u").exists()
