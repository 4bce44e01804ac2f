"""One training per model directory: ``<model_dir>/.lock`` names the process that trains into it.

The lock file is created with ``O_CREAT | O_EXCL`` (atomic on local file systems) and holds
``pid hostname``. A second training finds it and refuses, naming the process; a lock whose process is
gone (killed, crashed: nothing removed the file) is stale and is taken over with a log line. A lock
from another host cannot be checked and is respected; delete the file if that host is not training.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
from pathlib import Path

from nmt.errors import UserError

LOCK = ".lock"
log = logging.getLogger("nmt.train")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class TrainingLock:
    """``acquire()`` before writing a model directory, ``release()`` when done (idempotent)."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.path = self.directory / LOCK
        self.created_directory = False
        self.held = False

    def _holder(self) -> tuple[int, str] | None:
        try:
            pid, _, host = self.path.read_text(encoding="utf-8").strip().partition(" ")
            return int(pid), host
        except (OSError, ValueError):
            return None  # vanished, or half-written by a process killed while writing it: stale

    def acquire(self) -> TrainingLock:
        if not self.directory.exists():
            try:
                self.directory.mkdir(parents=True)
                self.created_directory = True
            except FileExistsError:
                pass
            except OSError as exc:
                raise UserError(f"cannot create {self.directory}: {exc.strerror}") from None
        me = f"{os.getpid()} {socket.gethostname()}\n"
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder is not None:
                    pid, host = holder
                    if host != socket.gethostname():
                        raise UserError(f"{self.directory} is locked by a training on host {host} (pid {pid}); "
                                        f"if none runs there, delete {self.path}") from None
                    if _alive(pid):  # this process too: a second Trainer on a directory it is writing
                        raise UserError(f"another training (pid {pid}) is writing {self.directory}; "
                                        "wait for it, stop it, or choose another --model-dir") from None
                log.info("taking over the stale lock %s (process %s is gone)", self.path, holder[0] if holder else "?")
                try:
                    self.path.unlink()
                except FileNotFoundError:
                    pass
                continue
            except OSError as exc:
                if exc.errno in (errno.EACCES, errno.EROFS):
                    raise UserError(f"cannot write to {self.directory}: {exc.strerror}") from None
                raise
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(me)
            self.held = True
            return self
        raise UserError(f"cannot take the lock {self.path}: other processes keep replacing it")

    def release(self, remove_empty_directory: bool = False) -> None:
        if self.held:
            self.held = False
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
        if remove_empty_directory and self.created_directory:
            try:
                self.directory.rmdir()  # only if nothing else was written
            except OSError:
                pass
