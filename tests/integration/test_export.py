"""nmt export: SavedModels fed raw strings in a process that never imports nmt give nmt's own outputs."""

import json
import subprocess
import sys

import numpy as np
import pytest

from tests.integration.test_classify import SMALL, topic_rows, write_table
from tests.integration.test_cli import run, write_corpus

# Every test here shares one fixture of four trainings and exports served in a fresh process: 80 s.
pytestmark = pytest.mark.slow

# whitespace runs, tabs, a no-break space, an empty text: the export must normalise as the Translator does; and
# characters NFKC removes or splits (zero-width space, ¨), full-width letters and <unk>: it must map pieces to
# words alike
SENTENCES = ["ab cd ef", "  gh\tij  kl ab ", "cd\u00a0ef  gh", "", "kl", "ab cd ef gh ij", "ab\u200b cd¨ef ＡＢ ß gh"]

LOADER = """
import json, sys
import tensorflow as tf, tensorflow_text  # noqa: F401 (registers the SentencePiece/WordPiece ops)
def plain(x):
    return [plain(v) for v in x] if isinstance(x, list) else x.decode("utf-8") if isinstance(x, bytes) else x
out = {}
for name, path, texts in json.loads(sys.argv[1]):
    serve = tf.saved_model.load(path).signatures["serving_default"]
    result = {k: plain(v.numpy().tolist()) for k, v in serve(texts=tf.constant(texts, tf.string)).items()}
    empty = serve(texts=tf.constant([], tf.string))
    result["empty_shapes"] = {k: list(v.shape) for k, v in empty.items()}
    out[name] = result
out["nmt_imported"] = any(m == "nmt" or m.startswith("nmt.") for m in sys.modules)
print(json.dumps(out))
"""


def load_in_clean_process(jobs, cwd):
    """Serve each (name, export path, texts) in a fresh Python that imports only tensorflow(-text)."""
    proc = subprocess.run([sys.executable, "-c", LOADER, json.dumps(jobs)], cwd=cwd, capture_output=True, text=True,
                          env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"}, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out.pop("nmt_imported") is False
    return out


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    write_corpus(folder)
    common = ["--train-src", str(folder / "train.src"), "--train-tgt", str(folder / "train.tgt"), "--valid-src",
              str(folder / "train.src"), "--valid-tgt", str(folder / "train.tgt"), "--preset", "tiny", "--vocab-size",
              "30", "--eval-every", "1000", "--no-progress"]
    for name, extra in (("lstm", ["--model", "rnn", "--steps", "80", "--lr", "0.01"]),
                        ("transformer", ["--model", "transformer", "--layers", "2", "--steps", "60", "--lr", "0.003"])):
        code, _, err = run(["train", "--model-dir", str(folder / name), *common, *extra])
        assert code == 0, err
        code, out, err = run(["export", str(folder / name), str(folder / f"{name}.export"), "--beam-size", "3",
                              "--n-best", "2", "--alignments"])
        assert code == 0, err
        assert json.loads(out)["decode"]["beam_size"] == 3
    # classifiers: a SentencePiece one trained here, and a WordPiece (BERT-format) one from a tiny checkpoint
    write_table(folder / "train.csv", topic_rows(240, 0))
    (folder / "small.json").write_text(json.dumps(SMALL))
    code, _, err = run(["classify", "train", "--model-dir", str(folder / "clf"), "--data", str(folder / "train.csv"),
                        "--config", str(folder / "small.json"), "--preset", "transformer", "--epochs", "1",
                        "--no-progress"])
    assert code == 0, err
    _write_bert_classifier(folder)
    for name in ("clf", "bert"):
        code, _, err = run(["export", str(folder / name), str(folder / f"{name}.export")])
        assert code == 0, err
    texts = [text for text, _ in topic_rows(12, 5)] + ["", "  an odd   CASE, with: punctuation! "]
    jobs = [[name, str(folder / f"{name}.export"), SENTENCES] for name in ("lstm", "transformer")]
    jobs += [[name, str(folder / f"{name}.export"), texts] for name in ("clf", "bert")]
    return folder, texts, load_in_clean_process(jobs, folder)


def _write_bert_classifier(folder):
    from nmt.classification import model_dir as cdir
    from nmt.classification.config import classify_preset
    from tests.unit.test_bert import write_tiny_checkpoint

    pretrained = write_tiny_checkpoint(folder / "hf")
    config, tokenizer, model = cdir.create(classify_preset("minilm"), [], 3, pretrained=pretrained)
    cdir.save(folder / "bert", config, tokenizer, ["a", "b", "c"], model)


@pytest.mark.parametrize("name", ["lstm", "transformer"])
def test_translation_export_equals_nmt_translate(exports, name):
    folder, _, served = exports
    out = served[name]
    (folder / "in.txt").write_text("\n".join(SENTENCES) + "\n")
    code, text, err = run(["translate", str(folder / name), "-i", str(folder / "in.txt"), "--beam-size", "3",
                           "--scores", "--alignments", "hard"])
    assert code == 0, err
    rows = [line.split(" ||| ") for line in text.rstrip("\n").split("\n")]
    assert out["translations"] == [r[0] for r in rows]
    # nmt translate prints 4 decimals (+-5e-5), and the two graphs' float32 scores differ as in the
    # n-best check below (1e-5 + 1e-5 relative; 2e-6 seen): 6e-5 + 1e-5 relative
    np.testing.assert_allclose(out["scores"], [float(r[1]) for r in rows], rtol=1e-5, atol=6e-5)
    assert out["alignments"] == [r[2] for r in rows]
    assert any(r[2] for r in rows)  # some sentence has links to compare

    from nmt.translator import Translator

    nbest = Translator.load(folder / name).translate(SENTENCES, beam_size=3, n_best=2)
    assert out["nbest_translations"] == [[h.text for h in hyps] for hyps in nbest]
    # summed float32 log-probabilities from two graphs: ~10 roundings of eps32 1.2e-7 x |logit| <= 4 per step
    np.testing.assert_allclose(out["nbest_scores"], [[h.score for h in hyps] for hyps in nbest], rtol=1e-5, atol=1e-5)
    assert out["empty_shapes"] == {"translations": [0], "scores": [0], "alignments": [0],
                                   "nbest_translations": [0, 2], "nbest_scores": [0, 2]}


@pytest.mark.parametrize("name", ["clf", "bert"])
def test_classifier_export_equals_predict(exports, name):
    from nmt.classification import model_dir as cdir
    from nmt.classification.training import predict

    folder, texts, served = exports
    config, tokenizer, classes, model = cdir.load(folder / name)
    probs = predict(model, tokenizer, texts, config.head.max_length)
    out = served[name]
    np.testing.assert_allclose(out["probabilities"], probs, atol=1e-5)
    assert out["label_ids"] == probs.argmax(1).tolist()
    assert out["labels"] == [classes[i] for i in probs.argmax(1)]
    assert out["empty_shapes"]["probabilities"] == [0, len(classes)]
    info = json.loads((folder / f"{name}.export" / "assets.extra" / "nmt_export.json").read_text())
    assert info["task"] == "classification" and info["classes"] == classes


def test_export_mistakes_are_one_line_errors(exports, tmp_path):
    folder, _, _ = exports
    for args, message in [
        (["export", str(folder / "lstm"), str(folder / "clf.export")], "already exists and is not empty"),
        (["export", str(tmp_path), str(tmp_path / "out")], "not a model directory"),
        (["export", str(folder / "clf"), str(tmp_path / "out"), "--alignments"], "translation models only"),
        (["export", str(folder / "lstm"), str(tmp_path / "out"), "--alignments", "--layer", "3"], "does not exist"),
        (["export", str(folder / "lstm"), str(tmp_path / "out"), "--n-best", "5", "--beam-size", "2"], "n-best"),
    ]:
        code, _, err = run(args)
        assert code == 2 and message in err and "Traceback" not in err, (args, err)
        assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary export left behind


def test_overwrite_replaces_an_export(exports, tmp_path):
    folder, _, _ = exports
    for extra in ([], ["--overwrite", "--beam-size", "1"]):
        code, _, err = run(["export", str(folder / "lstm"), str(tmp_path / "x"), *extra])
        assert code == 0, err
    info = json.loads((tmp_path / "x" / "assets.extra" / "nmt_export.json").read_text())
    assert info["task"] == "translation" and info["decode"]["beam_size"] == 1 and info["alignments"] is None
