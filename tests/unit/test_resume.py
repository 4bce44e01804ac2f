"""An interrupted training resumed from its checkpoint continues exactly as the uninterrupted run."""

import random

import pytest

from nmt.config import preset
from nmt.training import Trainer


def _pairs():
    rng = random.Random(0)
    words = "ab cd ef gh ij kl".split()
    out = []
    for _ in range(200):
        s = [rng.choice(words) for _ in range(rng.randint(2, 5))]
        out.append((" ".join(s), " ".join(w.upper() for w in reversed(s))))
    return out


def _record(trainer, stop_at=None):
    """Per-update losses; raises KeyboardInterrupt (as Ctrl-C would) when the step reaches ``stop_at``."""
    seen, update = [], trainer.updater.update

    def hooked(batches):
        if stop_at is not None and trainer.step == stop_at:
            raise KeyboardInterrupt
        loss, tokens = update(batches)
        seen.append(float(loss))
        return loss, tokens

    trainer.updater.update = hooked
    return seen


@pytest.mark.slow  # 26-60 s each; test_bad_inputs and test_cli resume in the default tier, tests/slow kills and resumes
@pytest.mark.parametrize("family", ["transformer", "rnn"])
def test_resumed_run_repeats_the_uninterrupted_losses_exactly(tmp_path, family):
    """Dropout 0.2, so the dropout RNG state must come back too, and the data stream must skip to the
    batch the uninterrupted run would read next."""
    pairs = _pairs()
    config = preset("tiny").override("model", family=family, dropout=0.2).override("tokenizer", vocab_size=30)
    config = config.override("train", max_steps=20, eval_every=10, batch_tokens=240, learning_rate=0.003,
                             eval_sentences=10)
    straight = Trainer(config, tmp_path / "a", pairs, pairs[:10], progress=False)
    expected = _record(straight)
    straight.run()

    interrupted = Trainer(config, tmp_path / "b", pairs, pairs[:10], progress=False)
    _record(interrupted, stop_at=14)
    with pytest.raises(KeyboardInterrupt):
        interrupted.run()
    resumed = Trainer(config, tmp_path / "b", pairs, pairs[:10], progress=False, resume=True)
    assert resumed.step == 10  # the checkpoint at step 10; steps 11-14 are the lost interval
    got = _record(resumed)
    result = resumed.run()
    assert result.steps == 20
    assert got == expected[10:]  # bit for bit
    assert len(set(got)) > 5


def test_a_nan_loss_stops_with_a_message_and_keeps_the_last_good_checkpoint(tmp_path):
    import math

    import tensorflow as tf

    from nmt import model_dir as md
    from nmt.errors import UserError
    from nmt.lock import LOCK

    pairs = _pairs()
    config = preset("tiny").override("tokenizer", vocab_size=30)
    config = config.override("train", max_steps=20, eval_every=5, batch_tokens=240, eval_sentences=5)
    trainer = Trainer(config, tmp_path / "m", pairs, pairs[:5], progress=False)
    update = trainer.updater.update

    def poisoned(batches):
        loss, tokens = update(batches)
        return (tf.constant(math.nan) if trainer.step == 8 else loss), tokens

    trainer.updater.update = poisoned
    with pytest.raises(UserError, match="training diverged at step 8 .* the last good checkpoint is kept"):
        trainer.run()
    assert not (tmp_path / "m" / LOCK).exists()
    resumed = Trainer(config, tmp_path / "m", pairs, pairs[:5], progress=False, resume=True)
    assert resumed.step == 5  # the checkpoint before the NaN
    md.load(tmp_path / "m")  # weights intact
    resumed.lock.release()


@pytest.mark.slow  # two trainings
def test_a_damaged_newest_checkpoint_resumes_exactly_from_the_one_before(tmp_path, caplog):
    """A checkpoint cut short (a full disk, a copy interrupted) is skipped with a warning; the run
    resumes from the previous checkpoint and repeats the uninterrupted losses from there."""
    pairs = _pairs()
    config = preset("tiny").override("tokenizer", vocab_size=30)
    config = config.override("train", max_steps=20, eval_every=5, batch_tokens=240, learning_rate=0.003,
                             eval_sentences=10)
    straight = Trainer(config, tmp_path / "a", pairs, pairs[:10], progress=False)
    expected = _record(straight)
    straight.run()
    interrupted = Trainer(config, tmp_path / "b", pairs, pairs[:10], progress=False)
    _record(interrupted, stop_at=12)
    with pytest.raises(KeyboardInterrupt):
        interrupted.run()
    newest = tmp_path / "b" / "checkpoints" / "ckpt-10.data-00000-of-00001"
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])
    resumed = Trainer(config, tmp_path / "b", pairs, pairs[:10], progress=False, resume=True)
    assert resumed.step == 5 and "ckpt-10 is damaged" in caplog.text
    got = _record(resumed)
    resumed.run()
    assert got == expected[5:]


def test_every_checkpoint_damaged_is_one_line(tmp_path):
    from nmt.errors import UserError

    pairs = _pairs()
    config = preset("tiny").override("tokenizer", vocab_size=30)
    config = config.override("train", max_steps=5, eval_every=5, batch_tokens=240, eval_sentences=10)
    Trainer(config, tmp_path / "m", pairs, pairs[:10], progress=False).run()
    for index in (tmp_path / "m" / "checkpoints").glob("*.index"):
        index.write_bytes(b"not an index")
    with pytest.raises(UserError, match="every checkpoint in .* is damaged"):
        Trainer(config.override("train", max_steps=10), tmp_path / "m", pairs, pairs[:10], progress=False, resume=True)
