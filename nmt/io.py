"""Safe output files.

:func:`atomic_open` writes to a temporary file next to the target and renames it into place only when
the ``with`` block finishes without an exception, so an interrupted or failed command never leaves a
half-written output; :func:`atomic_directory` does the same for a whole output folder.
:func:`check_output_path` rejects unusable output paths before any work starts.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from nmt.errors import UserError

__all__ = ["atomic_directory", "check_output_directory", "atomic_open", "atomic_write_text", "check_output_path",
           "check_distinct_outputs", "is_special", "lines_text"]


def _umask() -> int:
    """The process umask, read without changing it where /proc allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", encoding: str = "utf-8") -> Iterator[IO]:
    """Open ``path`` for writing (``"w"`` text or ``"wb"`` binary) through a temporary file.

    The temporary file lives in the same directory (so the final rename is atomic) and is renamed over
    ``path`` when the block exits normally; on any exception it is deleted and ``path`` is untouched.
    Text mode writes ``\\n`` line endings on every platform.
    """
    if mode not in ("w", "wt", "wb"):
        raise ValueError(f"atomic_open supports modes 'w' and 'wb', not {mode!r}")
    path = Path(path)
    binary = "b" in mode
    if is_special(path):  # /dev/null, /dev/stdout, a named pipe: written in place, never replaced by a file
        with open(path, mode, encoding=None if binary else encoding, newline=None if binary else "\n") as f:
            yield f
        return
    parent = path.parent
    try:
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp")
    except FileNotFoundError:
        raise UserError(f"cannot write {path}: directory {parent} does not exist; create it first") from None
    except PermissionError:
        raise UserError(f"cannot write {path}: directory {parent} is not writable; "
                        "choose another output path") from None
    try:
        with os.fdopen(fd, mode, encoding=None if binary else encoding, newline=None if binary else "\n") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        try:
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        except FileNotFoundError:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def resolved(path: str | os.PathLike) -> Path:
    """The absolute path without symbolic links; a link loop is a one-line UserError (Python raises
    RuntimeError or OSError for it, depending on the version)."""
    try:
        return Path(path).resolve()
    except (RuntimeError, OSError):
        raise UserError(f"{path}: a symbolic link points back to itself (a loop); fix or remove the link") from None


def is_special(path: Path) -> bool:
    """An existing output that is not a regular file or folder: a device (``/dev/null``) or a pipe."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def check_distinct_outputs(**outputs) -> None:
    """Raise UserError when two output options name the same file (one would overwrite the other).
    ``outputs``: option name -> path or None; ``-`` (standard output) and devices may repeat."""
    seen: dict = {}
    for option, path in outputs.items():
        if path in (None, "-") or is_special(Path(path)):
            continue
        key = resolved(path)
        if key in seen:
            raise UserError(f"--{seen[key].replace('_', '-')} and --{option.replace('_', '-')} both name {path}; "
                            "give each output its own file")
        seen[key] = option


def lines_text(lines: Iterable[str]) -> str:
    """``lines`` as text, one ``\\n``-terminated line each. A ``\\n`` or ``\\r`` inside an item (a
    translation copying an odd source character) becomes a space, so N items are exactly N lines for
    :func:`nmt.corpora.parallel.split_lines` and for ``wc -l``."""
    return "".join(line.replace("\r\n", " ").replace("\n", " ").replace("\r", " ") + "\n" for line in lines)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_open`) and return the path."""
    with atomic_open(path, "w", encoding=encoding) as f:
        f.write(text)
    return Path(path)


def check_output_directory(path: str | os.PathLike, overwrite: bool = False,
                           inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """Raise UserError unless a folder may be written at ``path`` (see :func:`atomic_directory`)."""
    path = Path(path)
    for inp in inputs:
        inp = Path(inp)
        if _same_file(path, inp) or (inp.exists() and path.exists() and resolved(inp).is_relative_to(resolved(path))):
            raise UserError(f"output {path} would replace input {inp}; choose another output directory")
    if path.exists() and not (path.is_dir() and not any(path.iterdir())) and not overwrite:
        raise UserError(f"{path} already exists and is not empty; choose another path or pass --overwrite")
    base = path.parent  # the folder is created in its nearest existing ancestor: can anything be?
    while not base.exists() and base != base.parent:
        base = base.parent
    if not base.is_dir() or not _can_create_in(base):
        raise UserError(f"cannot write {path}: {base} is not a writable directory; choose another path")
    return path


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike, overwrite: bool = False,
                     inputs: Iterable[str | os.PathLike] = ()) -> Iterator[Path]:
    """Yield a temporary sibling folder of ``path``; when the block succeeds, it replaces ``path``.

    Refuses (UserError) a ``path`` that exists and is not empty unless ``overwrite``, and one that is
    or contains one of ``inputs``. On an exception the temporary folder is removed and ``path`` is untouched.
    """
    import shutil

    path = check_output_directory(path, overwrite, inputs)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    except OSError as exc:
        raise UserError(f"cannot write to {path.parent}: {exc.strerror}") from None
    try:
        yield tmp
        tmp.chmod(0o777 & ~_umask())  # mkdtemp makes it private; give it the usual permissions
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        tmp.rename(path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _can_create_in(folder: Path) -> bool:
    """Try it: os.access says yes to root even where nothing can be created (read-only mounts, /sys)."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".nmt-probe-", dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(probe)
    return True


def _same_file(a: Path, b: Path) -> bool:
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return resolved(a) == resolved(b)


def check_output_path(path: str | os.PathLike, inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """Return ``path`` as a :class:`Path` if an output file can be written there.

    Raises :class:`UserError` when the parent directory is missing or not writable, when ``path`` is a
    directory, or when ``path`` is the same file as one of ``inputs`` (writing would destroy the input).
    """
    path = Path(path)
    if is_special(path):
        if not os.access(path, os.W_OK):
            raise UserError(f"cannot write {path}: permission denied; choose another output path")
        return path
    parent = path.parent
    if not parent.is_dir():
        raise UserError(f"cannot write {path}: directory {parent} does not exist; "
                        "create it or choose another output path")
    if not os.access(parent, os.W_OK | os.X_OK) or not _can_create_in(parent):
        raise UserError(f"cannot write {path}: directory {parent} is not writable; choose another output path")
    if path.is_dir():
        raise UserError(f"cannot write {path}: it is a directory; give a file name")
    for inp in inputs:
        if _same_file(path, Path(inp)):
            raise UserError(f"output {path} is the same file as input {inp}; choose a different output path")
    return path
