"""Run by the distributed tests in fresh processes (devices and TF_CONFIG must be set before
TensorFlow initialises); prints the per-update losses of a tiny model as JSON.

    distributed_run.py mirrored FAMILY            one device accumulating two batches per update, then
                                                  MirroredStrategy over two logical CPUs (one batch each)
    distributed_run.py single FAMILY              one device accumulating two batches per update
    distributed_run.py worker FAMILY I PORT0 PORT1 DIR   worker I of a two-worker MultiWorkerMirroredStrategy
"""

import json
import os
import random
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
MODE, FAMILY = sys.argv[1], sys.argv[2]
if MODE == "worker":
    index, ports = int(sys.argv[3]), sys.argv[4:6]
    os.environ["TF_CONFIG"] = json.dumps({"cluster": {"worker": [f"localhost:{p}" for p in ports]},
                                          "task": {"type": "worker", "index": index}})

import tensorflow as tf  # noqa: E402

if MODE == "mirrored":
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


def losses(family, strategy, accumulate, folder, steps=12):
    config = preset("tiny").override("model", family=family, dropout=0.0, attention_dropout=0.0, ffn_dropout=0.0)
    config = config.override("tokenizer", vocab_size=30)
    # clip_norm 0.5: clipping is active, so clipping the summed gradient (not each replica's part) is tested too
    config = config.override("train", max_steps=steps, eval_every=steps, batch_tokens=240, learning_rate=0.003,
                             clip_norm=0.5, eval_sentences=20, accumulate=accumulate)
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
    return {"losses": seen, "replicas": replicas, "wrote": str(trainer.dir)}


if __name__ == "__main__":
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        if MODE == "worker":
            out["multiworker"] = losses(FAMILY, "multiworker", 1, sys.argv[6])
        else:
            # two replicas taking one batch each make the updates of one device accumulating two batches
            out["none"] = losses(FAMILY, "none", 2, os.path.join(tmp, "none"))
            if MODE == "mirrored":
                out["mirrored"] = losses(FAMILY, "mirrored", 1, os.path.join(tmp, "mirrored"))
    print(json.dumps(out))
