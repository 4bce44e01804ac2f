"""Run by test_distributed.py in a fresh process: two logical CPU devices must be set up before
TensorFlow initialises. Trains tiny models without and with MirroredStrategy and prints their losses."""

import json
import os
import random
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

from nmt.config import preset  # noqa: E402
from nmt.training import Trainer  # noqa: E402


def pairs(n=200, seed=0):
    rng = random.Random(seed)
    words = "ab cd ef gh ij kl".split()
    out = []
    for _ in range(n):
        s = [rng.choice(words) for _ in range(rng.randint(2, 5))]
        out.append((" ".join(s), " ".join(w.upper() for w in reversed(s))))
    return out


def losses(family, strategy, folder, steps=12):
    config = preset("tiny").override("model", family=family, dropout=0.0, attention_dropout=0.0, ffn_dropout=0.0)
    config = config.override("tokenizer", vocab_size=30)
    # clip_norm 0.5: clipping is active, so clipping the summed gradient (not each replica's part) is tested too
    config = config.override("train", max_steps=steps, eval_every=steps, batch_tokens=240, learning_rate=0.003,
                             clip_norm=0.5, eval_sentences=20)
    data = pairs()
    trainer = Trainer(config, folder, data, data[:20], progress=False, strategy=strategy)
    seen = []
    update = trainer.updater.update

    def record(batches):
        loss, tokens = update(batches)
        seen.append([float(loss), float(tokens)])
        return loss, tokens

    trainer.updater.update = record
    trainer.run()
    replicas = trainer.strategy.num_replicas_in_sync if trainer.strategy else 1
    return {"losses": seen, "replicas": replicas}


if __name__ == "__main__":
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for family in sys.argv[1:]:
            for strategy in ("none", "mirrored"):
                out[f"{family}/{strategy}"] = losses(family, strategy, os.path.join(tmp, f"{family}-{strategy}"))
    print(json.dumps(out))
