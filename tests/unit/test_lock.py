"""One training per model directory; a stale lock from a dead process is taken over."""

import os
import socket
import subprocess
import sys

import pytest

from nmt.errors import UserError
from nmt.lock import LOCK, TrainingLock


def test_second_lock_refuses_and_names_the_process(tmp_path):
    first = TrainingLock(tmp_path / "m").acquire()
    assert first.created_directory and (tmp_path / "m" / LOCK).is_file()
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / "m" / LOCK).write_text(f"{holder.pid} {socket.gethostname()}\n")
        with pytest.raises(UserError, match=f"another training \\(pid {holder.pid}\\) is writing"):
            TrainingLock(tmp_path / "m").acquire()
    finally:
        holder.kill()
        holder.wait()
    taken = TrainingLock(tmp_path / "m").acquire()  # the holder is dead now: stale, taken over
    assert (tmp_path / "m" / LOCK).read_text().split()[0] == str(os.getpid())
    taken.release()
    assert not (tmp_path / "m" / LOCK).exists()


def test_half_written_and_foreign_locks(tmp_path):
    (tmp_path / LOCK).write_text("")  # killed while writing its lock: stale
    TrainingLock(tmp_path).acquire().release()
    (tmp_path / LOCK).write_text("123 another-host\n")
    with pytest.raises(UserError, match="locked by a training on host another-host"):
        TrainingLock(tmp_path).acquire()


def test_failed_start_removes_the_directory_it_created(tmp_path):
    from nmt.config import preset
    from nmt.training import Trainer

    with pytest.raises(UserError, match="cannot resume"):
        Trainer(preset("tiny"), tmp_path / "new", [("a b", "c d")], [], progress=False, resume=True)
    assert not (tmp_path / "new").exists()


def test_training_holds_the_lock_until_it_ends(tmp_path):
    from nmt.config import preset
    from nmt.training import Trainer

    pairs = [("ab cd", "CD AB"), ("ef", "EF"), ("cd ef", "EF CD")] * 20
    config = (preset("tiny").override("tokenizer", vocab_size=20)
              .override("train", max_steps=2, eval_every=2, eval_sentences=2))
    trainer = Trainer(config, tmp_path / "m", pairs, pairs[:2], progress=False)
    with pytest.raises(UserError, match=f"another training \\(pid {os.getpid()}\\)"):
        Trainer(config, tmp_path / "m", pairs, pairs[:2], progress=False, resume=True)
    assert (tmp_path / "m" / LOCK).is_file()  # the refused one did not release the first one's lock
    trainer.run()
    assert not (tmp_path / "m" / LOCK).exists()
    assert Trainer(config, tmp_path / "m", pairs, pairs[:2], progress=False, resume=True).run().steps == 2
