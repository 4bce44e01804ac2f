#!/usr/bin/env python
"""Small trained classifier directories, kept as written, so later code is tested against them.

Writes tests/data/classifier_dirs/: one directory per encoder (``nmt classify train``'s layout,
through :mod:`nmt.classification.model_dir`) trained for a few epochs on a toy two-class corpus, and
``expected.json``: the commit that wrote them, the texts, and each directory's probabilities and
pooling weights for those texts. tests/unit/test_classifier_dirs.py loads the directories with the
current code and checks it predicts the same: a saved directory records registered names
(``head.encoder``, ``model.family``) and Keras weight paths, never a module path, and the test holds
that to be true across moves and renames of the code.

    .venv/bin/python scripts/make_classifier_dirs.py      # from the repository root, on a clean tree

Rewrite them only when the directory format changes on purpose (then old directories no longer load,
which this test exists to notice).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "classifier_dirs"
CLASSES = ("cafe", "cat")
# The tiny BERT checkpoint's vocabulary (tests/unit/test_bert.py) covers these words
CAFE = ["the cafe is open", "a cafe isn't open!", "the bigger cafe is open."]
CAT = ["the cat sat on the mat", "the bigger cats sat", "a cat sat on a big mat."]
TEXTS = ["the cafe is open!", "the cats sat on the mat.", "a big cafe, open", "cat"]
SMALL = {"embedding_dim": 8, "units": 8, "attention_units": 8, "heads": 2, "layers": 1, "d_model": 8, "ff_dim": 16,
         "transformer_heads": 2, "dropout": 0.0}
TRAIN = {"batch_size": 8, "epochs": 6, "learning_rate": 1e-2, "schedule": "constant", "warmup_steps": 0,
         "valid_fraction": 0.0}


def corpus(n: int = 48):
    rng = random.Random(0)
    texts = [rng.choice(CAT if i % 2 else CAFE) for i in range(n)]
    return texts, [i % 2 for i in range(n)]


def configs(pretrained: Path):
    from nmt.classification.config import ClassifyConfig, classify_preset

    base = ClassifyConfig().override("model", **SMALL).override("tokenizer", vocab_size=40).override("train", **TRAIN)
    return {
        "seq2seq-rnn": (base.override("model", family="rnn").override("head", pooling="attention", max_length=16),
                        None),
        "seq2seq-transformer": (base.override("model", family="transformer").override("head", pooling="mean", hidden=4,
                                                                                      max_length=16), None),
        "lesson": (classify_preset("lesson").override("model", d_model=8, ff_dim=8).override("tokenizer", vocab_size=40)
                   .override("head", max_length=16, hidden=4).override("train", **TRAIN), None),
        "bert": (classify_preset("minilm").override("head", max_length=16).override("train", **TRAIN, head_epochs=1),
                 pretrained),
    }


def commit() -> str:
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()

    return git("rev-parse", "HEAD") + ("-dirty" if git("status", "--porcelain", "--", "nmt") else "")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))

    import numpy as np

    from nmt.classification import model_dir as cdir
    from nmt.classification.data import LabelledTexts
    from nmt.classification.training import ClassifierTrainer, predict_with_weights
    from tests.unit.test_bert import write_tiny_checkpoint

    texts, labels = corpus()
    data = LabelledTexts(texts, np.array(labels), CLASSES)
    expected = {"commit": commit(), "classes": list(CLASSES), "texts": TEXTS, "directories": {}}
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, (config, pretrained) in configs(write_tiny_checkpoint(Path(tmp) / "hf")).items():
            config, tokenizer, model = cdir.create(config, texts, len(CLASSES), pretrained=pretrained)
            result = ClassifierTrainer(model, config, tokenizer, data, data).run()
            cdir.save(args.out / name, config, tokenizer, CLASSES, model, result.history)
            probs, weights = predict_with_weights(model, tokenizer, TEXTS, config.head.max_length)
            expected["directories"][name] = {
                "valid_accuracy": result.best_valid_accuracy,
                "probabilities": [[float(f"{x:.7g}") for x in row] for row in probs.tolist()],
                "weights": [[float(f"{x:.7g}") for x in np.asarray(w).tolist()] for w in weights]}
            print(f"{name}: accuracy {result.best_valid_accuracy:.2f} -> {args.out / name}")
    (args.out / "expected.json").write_text(json.dumps(expected, separators=(",", ":")) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
