"""nmt train --mixed-precision and --accumulate through the CLI."""

import json

import keras
import pytest

from tests.integration.test_cli import run, write_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("precision")
    write_corpus(folder)
    return folder


def train(folder, name, *extra):
    code, out, err = run(["train", "--model-dir", str(folder / name), "--train-src", str(folder / "train.src"),
                          "--train-tgt", str(folder / "train.tgt"), "--valid-src", str(folder / "train.src"),
                          "--valid-tgt", str(folder / "train.tgt"), "--preset", "tiny", "--vocab-size", "30",
                          "--eval-every", "20", "--lr", "0.01", "--no-progress", *extra])
    assert code == 0, err
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.slow  # 17 s each; 16-bit compute is for GPUs
@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
def test_mixed_precision_trains_and_saves_float32_weights(corpus, precision):
    summary = train(corpus, precision, "--model", "rnn", "--steps", "60", "--mixed-precision", precision)
    assert keras.mixed_precision.global_policy().name == "float32"  # not left behind for later models
    metrics = [json.loads(line) for line in (corpus / precision / "metrics.jsonl").read_text().splitlines()]
    assert metrics[-1]["train_loss"] < metrics[0]["train_loss"] and summary["best_valid_bleu"] > 20
    config = json.loads((corpus / precision / "config.json").read_text())
    assert config["train"]["mixed_precision"] == precision
    from nmt import model_dir as md

    _, _, model = md.load(corpus / precision)  # loads, and translates, in float32
    assert {w.dtype for w in model.weights} == {"float32"}
    (corpus / "in.txt").write_text("ab cd ef\n")
    code, out, err = run(["translate", str(corpus / precision), "-i", str(corpus / "in.txt")])
    assert code == 0 and out.strip() == "EF CD AB", (out, err)


@pytest.mark.slow  # 25 s; the fused-update and step tests in tests/unit cover accumulation arithmetic
def test_accumulate_counts_updates_and_reads_n_batches(corpus):
    one = train(corpus, "acc1", "--model", "rnn", "--steps", "20")
    two = train(corpus, "acc2", "--model", "rnn", "--steps", "20", "--accumulate", "2")
    assert one["steps"] == two["steps"] == 20
    seen = [tokens_seen(corpus / n) for n in ("acc1", "acc2")]
    assert 1.8 < seen[1] / seen[0] < 2.2, seen  # two batches per update


def tokens_seen(path):
    import tensorflow as tf

    reader = tf.train.load_checkpoint(str(tf.train.latest_checkpoint(str(path / "checkpoints"))))
    return int(reader.get_tensor("tokens_seen/.ATTRIBUTES/VARIABLE_VALUE"))


def test_scaling_mistakes(corpus):
    for args, message in [(["--accumulate", "0"],
                           "--accumulate must be an integer in [1, 100,000]; got 0 (train.accumulate)"),
                          (["--strategy", "horovod"], "'horovod' is not one of"),
                          (["--mixed-precision", "int8"], "'int8' is not one of")]:
        code, _, err = run(["train", "--model-dir", str(corpus / "bad"), "--train-src", str(corpus / "train.src"),
                            "--train-tgt", str(corpus / "train.tgt"), "--steps", "5", *args])
        assert code == 2 and message in err and "Traceback" not in err, err
        assert not (corpus / "bad").exists()
