"""Train a tiny model once; check overfitting, save/load, beam vs greedy, batching, resume."""

import json
import random

import numpy as np
import pytest
import tensorflow as tf

from nmt import model_dir as md
from nmt.config import preset
from nmt.errors import UserError
from nmt.losses import smoothed_loss
from nmt.training import Trainer
from nmt.translator import Translator

WORDS = "ab cd ef gh ij kl mn op".split()


def toy_pairs(n, seed):
    """Reverse the words and upper-case them: needs attention to reorder."""
    rng = random.Random(seed)
    pairs = []
    for _ in range(n):
        s = [rng.choice(WORDS) for _ in range(rng.randint(2, 5))]
        pairs.append((" ".join(s), " ".join(w.upper() for w in reversed(s))))
    return pairs


TRAIN = toy_pairs(300, 0)
HELD = toy_pairs(12, 1)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "toy"
    config = (preset("tiny").override("train", max_steps=400, eval_every=200, learning_rate=1e-2)
              .override("tokenizer", vocab_size=40))
    trainer = Trainer(config, path, TRAIN, HELD, progress=False)
    result = trainer.run()
    return path, trainer, result


def test_tiny_model_learns_to_reverse(trained):
    path, trainer, result = trained
    translator = Translator(trainer.model, trainer.tokenizer, trainer.config.decode)
    hyps = translator.translate([s for s, _ in HELD], beam_size=1)
    exact = sum(h.text == t for h, (_, t) in zip(hyps, HELD))
    assert exact >= 10, [h.text for h in hyps]
    assert result.best_bleu > 80


def test_model_dir_holds_everything(trained):
    path, trainer, _ = trained
    for name in (md.CONFIG, md.WEIGHTS, md.METRICS, "spm.model"):
        assert (path / name).is_file(), name
    metrics = md.read_metrics(path)
    assert [m["step"] for m in metrics] == [200, 400]
    assert all("valid_bleu" in m and "valid_loss" in m for m in metrics)
    assert json.loads((path / md.CONFIG).read_text())["model"]["attention"] == "additive"


def test_save_load_gives_identical_translations(trained):
    path, trainer, _ = trained
    sources = [s for s, _ in HELD]
    # The best weights were saved at one of the validations; load them into the live model too.
    trainer.model.load_weights(str(path / md.WEIGHTS))
    live = Translator(trainer.model, trainer.tokenizer, trainer.config.decode).translate(sources, beam_size=3)
    loaded = Translator.load(path).translate(sources, beam_size=3)
    assert [h.text for h in live] == [h.text for h in loaded]
    np.testing.assert_allclose([h.score for h in live], [h.score for h in loaded], atol=1e-6)


def test_beam_one_equals_greedy_and_batching_changes_nothing(trained):
    path, _, _ = trained
    translator = Translator.load(path)
    sources = [s for s, _ in HELD] + ["ab", "op op op op op op op"]
    greedy = translator.translate(sources, beam_size=1, batch_size=5)
    alone = [translator.translate([s], beam_size=1)[0] for s in sources]
    assert [h.text for h in greedy] == [h.text for h in alone]
    np.testing.assert_allclose([h.score for h in greedy], [h.score for h in alone], atol=1e-5)
    beam = translator.translate(sources, beam_size=4, batch_size=3)
    beam_alone = [translator.translate([s], beam_size=4)[0] for s in sources]
    assert [h.text for h in beam] == [h.text for h in beam_alone]
    np.testing.assert_allclose([h.score for h in beam] , [h.score for h in beam_alone], atol=1e-5)


@pytest.mark.parametrize("streams", [2, 3])
def test_concurrent_batches_give_the_same_hypotheses_in_order(trained, streams):
    """Decoding several batches at once (threads) changes neither the batches nor their order of results."""
    path, _, _ = trained
    translator = Translator.load(path)
    sources = [s for s, _ in HELD] + ["ab", "op op op op op op op", "cd ab"]
    for beam, n_best in ((1, 1), (3, 2)):
        one = translator.translate(sources, beam_size=beam, n_best=n_best, batch_size=2, streams=1,
                                   return_attention=True)
        many = translator.translate(sources, beam_size=beam, n_best=n_best, batch_size=2, streams=streams,
                                    return_attention=True)
        flat = [(h.text, h.tokens, h.score, h.source_tokens, h.attention.tolist())
                for hs in (one if n_best > 1 else [[h] for h in one]) for h in hs]
        flat_many = [(h.text, h.tokens, h.score, h.source_tokens, h.attention.tolist())
                     for hs in (many if n_best > 1 else [[h] for h in many]) for h in hs]
        assert flat_many == flat  # same batches, same graph: bit-identical


def test_attention_comes_back_with_each_hypothesis(trained):
    path, _, _ = trained
    hyp = Translator.load(path).translate(["ab cd ef"], beam_size=4, return_attention=True)[0]
    assert hyp.attention.shape == (1, 1, len(hyp.tokens), len(hyp.source_tokens))
    np.testing.assert_allclose(hyp.attention.sum(-1), 1.0, atol=1e-5)


def test_n_best(trained):
    path, _, _ = trained
    nbest = Translator.load(path).translate(["ab cd"], beam_size=4, n_best=3)[0]
    assert len(nbest) == 3 and len({h.text for h in nbest}) == 3
    assert nbest[0].score >= nbest[1].score >= nbest[2].score


def test_refuses_to_overwrite_and_resumes(trained, tmp_path):
    path, trainer, _ = trained
    with pytest.raises(UserError, match="already holds a model"):
        Trainer(trainer.config, path, TRAIN, HELD, progress=False)
    # Resume: restores step and optimizer state, then continues to the new limit.
    resumed = Trainer(trainer.config, path, TRAIN, HELD, resume=True, progress=False)
    assert resumed.step == 400
    np.testing.assert_allclose(resumed.optimizer.variables[-1].numpy(), trainer.optimizer.variables[-1].numpy())
    with pytest.raises(UserError, match="not a model directory"):
        Trainer(trainer.config, tmp_path / "nothing", TRAIN, HELD, resume=True, progress=False)


def test_label_smoothing_loss():
    logits = tf.constant([[[2.0, 0.5, -1.0, 0.0], [0.0, 0.0, 0.0, 0.0]]])  # [1,2,4]
    labels = tf.constant([[1, 0]])  # second position is padding
    total, n = smoothed_loss(logits, labels, 0.1)
    z = logits.numpy()[0, 0].astype(np.float64)
    logp = z - np.log(np.exp(z).sum())  # in float64: only the loss rounds at float32
    expected = 0.9 * -logp[1] + 0.1 * -logp.mean()
    assert float(n) == 1.0
    # float32: ~6 roundings of eps32 1.2e-7 on terms <= 2.4 (max + log-sum-exp) -> <= 1.7e-6 of a loss of 1.85
    np.testing.assert_allclose(float(total), expected, rtol=2e-6)


@pytest.mark.parametrize("parts", [1, 2])
def test_parallel_parts_say_when_the_threads_were_already_set(tmp_path, monkeypatch, caplog, parts):
    """TensorFlow fixes its threads when it starts: a Trainer that cannot set them for its parts says so
    (and how to start the process instead); one part needs nothing and says nothing."""
    import logging

    from nmt import steps

    monkeypatch.setattr(steps, "set_threads", lambda p: False)
    config = (preset("tiny").override("train", max_steps=1, eval_every=1, parallel_parts=parts)
              .override("tokenizer", vocab_size=40))
    with caplog.at_level(logging.WARNING, logger="nmt"):
        Trainer(config, tmp_path / "m", TRAIN[:40], HELD, progress=False).lock.release()
    warned = [r.getMessage() for r in caplog.records if "without its speed-up" in r.getMessage()]
    if parts == 1:
        assert not warned
    else:
        assert len(warned) == 1 and "TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=2" in warned[0]
