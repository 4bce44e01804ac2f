"""nmt classify train | evaluate | predict on a generated topic corpus, and user mistakes."""

import csv
import json
import random

import numpy as np
import pytest

from tests.integration.test_cli import run

TOPICS = {
    "sport": "match goal team coach league player season score".split(),
    "money": "market shares profit bank stock price investor trade".split(),
    "science": "space research cell planet physics study genome lab".split(),
    "world": "election minister border treaty president capital army vote".split(),
}
FILLER = "the a of in on said today new after over with for and".split()


def topic_rows(n, seed):
    """(text, label) rows: filler words with 2-4 words of the label's topic, shuffled."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = list(TOPICS)[i % len(TOPICS)]
        words = rng.choices(FILLER, k=rng.randint(4, 9)) + rng.choices(TOPICS[label], k=rng.randint(2, 4))
        rng.shuffle(words)
        rows.append((" ".join(words), label))
    return rows


def write_table(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["label", "text"])
        w.writerows([(label, text) for text, label in rows])
    return path


SMALL = {"model": {"layers": 1, "d_model": 32, "ff_dim": 64, "transformer_heads": 2, "embedding_dim": 32, "units": 32},
         "tokenizer": {"vocab_size": 120}, "head": {"max_length": 24},
         "train": {"epochs": 4, "batch_size": 32, "learning_rate": 0.005, "warmup_steps": 10}}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("classify")
    write_table(folder / "train.csv", topic_rows(480, 0))
    write_table(folder / "test.csv", topic_rows(120, 1))
    (folder / "small.json").write_text(json.dumps(SMALL))
    return folder


def train(corpus, name, *extra):
    code, out, err = run(["classify", "train", "--model-dir", str(corpus / name), "--data", str(corpus / "train.csv"),
                          "--config", str(corpus / "small.json"), "--no-progress", *extra])
    assert code == 0, err
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def transformer_dir(corpus):
    summary = train(corpus, "tf", "--preset", "transformer")
    assert summary["best_valid_accuracy"] > 0.9
    return corpus / "tf"


def test_train_evaluate_writes_metrics_and_plot(corpus, transformer_dir):
    code, out, err = run(["classify", "evaluate", str(transformer_dir), "--data", str(corpus / "test.csv"),
                          "--json", str(corpus / "eval.json"), "--plot", str(corpus / "cm.png")])
    assert code == 0, err
    metrics = json.loads((corpus / "eval.json").read_text())
    assert metrics["accuracy"] > 0.9 and metrics["examples"] == 120
    assert sorted(metrics["classes"]) == sorted(TOPICS)
    assert np.asarray(metrics["confusion"]).sum() == 120
    assert "accuracy" in out and "macro-F1" in out
    assert (corpus / "cm.png").read_bytes()[:4] == b"\x89PNG"


def test_predict_labels_probabilities_and_weights(corpus, transformer_dir):
    texts = ["the goal of the team in the league match", "the bank said stock price and profit rose"]
    code, out, err = run(["classify", "predict", str(transformer_dir), *texts])
    assert code == 0, err
    lines = out.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["sport", "money"]
    probs = [float(field.split("=")[1]) for field in lines[0].split("\t")[1:]]
    # 4 classes printed with 3 decimals: +-5e-4 each, so the sum is within 2e-3 (+ float32 ~1e-7)
    assert probs == sorted(probs, reverse=True) and sum(probs) == pytest.approx(1, abs=2.1e-3)
    code, out, err = run(["classify", "predict", str(transformer_dir), "--json", texts[0]])
    assert code == 0, err
    record = json.loads(out)
    assert record["label"] == "sport" and len(record["tokens"]) == len(record["weights"])
    # pooling weights over the real tokens, 5 decimals each: <= n x 5e-6
    assert sum(record["weights"]) == pytest.approx(1, abs=1e-3)


def test_lstm_encoder_with_attention_pooling(corpus):
    summary = train(corpus, "lstm", "--preset", "lstm", "--pooling", "attention")
    assert summary["best_valid_accuracy"] > 0.9


def test_lesson_model_learns(corpus):
    summary = train(corpus, "lesson", "--preset", "lesson", "--epochs", "8", "--valid-fraction", "0.2", "--lr", "0.01",
                    "--max-length", "24")
    assert summary["best_valid_accuracy"] > 0.5  # chance is 0.25
    config = json.loads((corpus / "lesson" / "config.json").read_text())
    assert config["head"]["encoder"] == "lesson" and config["head"]["hidden"] == 20


def test_init_from_translation_model_freezes_its_decoder(corpus, tmp_path):
    from nmt import model_dir as translation_dir
    from nmt.classification import model_dir as cdir

    rows = topic_rows(200, 3)
    (tmp_path / "src").write_text("\n".join(t for t, _ in rows) + "\n")
    (tmp_path / "tgt").write_text("\n".join(t.upper() for t, _ in rows) + "\n")
    code, _, err = run(["train", "--model-dir", str(tmp_path / "mt"), "--train-src", str(tmp_path / "src"),
                        "--train-tgt", str(tmp_path / "tgt"), "--preset", "tiny", "--model", "transformer", "--layers",
                        "1", "--d-model", "32", "--ff-dim", "32", "--transformer-heads", "2", "--vocab-size", "100",
                        "--steps", "3", "--no-progress"])
    assert code == 0, err
    train(corpus, str(tmp_path / "clf"), "--init-from", str(tmp_path / "mt"), "--epochs", "1")
    _, _, mt = translation_dir.load(tmp_path / "mt")
    _, _, _, clf = cdir.load(tmp_path / "clf")
    pairs = list(zip(mt.weights, clf.seq2seq.weights))  # the same model class, built the same way
    assert len(pairs) == len(mt.weights) == len(clf.seq2seq.weights)
    decoder = [(a, b) for a, b in pairs if "decoder" in b.path]
    assert decoder and not any(b.trainable for _, b in decoder)  # frozen
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in decoder)  # untouched by training
    a, b = next((a, b) for a, b in pairs if "embedding" in b.path)
    assert not np.array_equal(a.numpy(), b.numpy())  # the encoder did train


@pytest.mark.parametrize("args, message", [
    (["classify", "train", "--model-dir", "{tmp}/m"], "exactly one of --ag-news or --data"),
    (["classify", "train", "--model-dir", "{tmp}/m", "--data", "{corpus}/train.csv", "--preset", "huge"],
     "unknown classifier preset"),
    (["classify", "train", "--model-dir", "{tmp}/m", "--data", "{corpus}/train.csv", "--text-column", "body"],
     "no column named 'body'"),
    (["classify", "train", "--model-dir", "{corpus}", "--data", "{corpus}/train.csv"],
     "already exists and is not empty"),
    (["classify", "train", "--model-dir", "{tmp}/m", "--data", "{corpus}/train.csv", "--encoder", "cnn"],
     "unknown classifier encoder 'cnn'"),
    (["classify", "train", "--model-dir", "{tmp}/m", "--ag-news", "{tmp}", "--split", "train"], "no train.csv"),
    (["classify", "evaluate", "{tmp}", "--data", "{corpus}/test.csv"], "not a classifier directory"),
    (["classify", "predict", "{corpus}/tf"], "no text to classify"),
])
def test_user_errors_one_line_exit_2(corpus, transformer_dir, tmp_path, args, message):
    args = [a.format(tmp=tmp_path, corpus=corpus) for a in args]
    code, out, err = run(args, input="")
    assert code == 2, err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "m").exists()


def test_evaluate_refuses_labels_the_model_does_not_know(corpus, transformer_dir, tmp_path):
    write_table(tmp_path / "other.csv", [("a b c", "sport"), ("d e f", "weather")])
    code, _, err = run(["classify", "evaluate", str(transformer_dir), "--data", str(tmp_path / "other.csv"),
                        "--json", str(tmp_path / "out.json")])
    assert code == 2 and "'weather'" in err
    assert not (tmp_path / "out.json").exists()


needs_safetensors = pytest.mark.skipif(__import__("importlib").util.find_spec("safetensors") is None,
                                       reason="safetensors is not installed (pip install 'safetensors>=0.4')")


@pytest.mark.slow  # 20 s
@needs_safetensors
def test_pretrained_encoder_head_phase_freezes_it_then_fine_tunes(tmp_path):
    """--encoder bert on a tiny random checkpoint in Hugging Face's format: the head-only phase leaves
    the encoder as loaded, fine-tuning changes it, and the saved directory predicts the same."""
    from nmt.classification import model_dir as cdir
    from nmt.classification.config import classify_preset
    from nmt.classification.data import LabelledTexts
    from nmt.classification.training import ClassifierTrainer, predict
    from tests.unit.test_bert import tiny_tensors, write_tiny_checkpoint

    folder = write_tiny_checkpoint(tmp_path / "hf")
    rng = random.Random(0)
    texts = [" ".join(rng.choices(["the cat sat on the mat", "the bigger cats"], k=2)) if i % 2 else
             " ".join(rng.choices(["the cafe is open", "a cafe isn't open!"], k=2)) for i in range(64)]
    data = LabelledTexts(texts, np.arange(64) % 2, ("cafe", "cat"))
    config = classify_preset("minilm").override("train", batch_size=16, epochs=10, head_epochs=1, warmup_steps=4,
                                                 learning_rate=3e-3)
    config, tokenizer, model = cdir.create(config, data.texts, 2, pretrained=folder)
    loaded = tiny_tensors()["embeddings.word_embeddings.weight"]
    assert np.allclose(model.bert.embeddings.word.embeddings.numpy(), loaded)  # the checkpoint's weights
    trainer = ClassifierTrainer(model, config, tokenizer, data, data)
    assert [p[0] for p in trainer.phases] == ["head", "all"]
    head_before = model.head.output_layer.kernel.numpy().copy()
    full_phases, trainer.phases = trainer.phases, trainer.phases[:1]
    trainer.run()
    assert np.array_equal(model.bert.embeddings.word.embeddings.numpy(), loaded)  # frozen while the head trains
    assert not np.array_equal(model.head.output_layer.kernel.numpy(), head_before)
    trainer.phases = full_phases[1:]
    result = trainer.run()
    assert not np.allclose(model.bert.embeddings.word.embeddings.numpy(), loaded)  # fine-tuned
    assert result.best_valid_accuracy > 0.9
    cdir.save(tmp_path / "clf", config, tokenizer, data.classes, model, result.history)
    _, tokenizer2, classes, model2 = cdir.load(tmp_path / "clf")
    assert classes == ["cafe", "cat"] and (tmp_path / "clf" / "vocab.txt").is_file()
    np.testing.assert_allclose(predict(model2, tokenizer2, texts, 128), predict(model, tokenizer, texts, 128),
                               atol=1e-5)
