"""``manifest.json``: the format version of a model directory and SHA-256 checksums of its files.

Loading checks both before it reads anything else, so a file damaged on disk or in a copy, or
replaced by one from another model, is a one-line error rather than garbage translations or a
traceback. Replacing a file (the best weights, rewritten during training) happens in two steps
that a kill can interrupt anywhere: :func:`accept` adds the new file's checksum to the accepted ones
before the rename, :func:`settle` keeps only the current one after it; either file is valid between.
Directories written before manifests existed have none and load unchecked.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from nmt.errors import UserError
from nmt.io import atomic_write_text

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


def sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read(directory: Path) -> dict | None:
    path = directory / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        files, version = manifest["files"], int(manifest["version"])
        if not isinstance(files, dict):
            raise ValueError
    except (OSError, ValueError, KeyError, TypeError):
        raise UserError(f"{path} is damaged (not the JSON nmt writes); restore the directory from a copy") from None
    if version > FORMAT_VERSION:
        raise UserError(f"{directory} was written by a newer nmt (model format {version}; this one reads "
                        f"{FORMAT_VERSION}); upgrade nmt")
    return manifest


def _write(directory: Path, files: dict) -> None:
    atomic_write_text(directory / MANIFEST, json.dumps({"format": "nmt", "version": FORMAT_VERSION,
                                                       "files": dict(sorted(files.items()))}, indent=1) + "\n")


def record(directory, names) -> None:
    """Checksum ``names`` (files in ``directory``) into the manifest, replacing their old entries."""
    directory = Path(directory)
    manifest = _read(directory) or {"files": {}}
    files = manifest["files"]
    for name in names:
        files[name] = [sha256(directory / name)]
    _write(directory, files)


def accept(directory, name: str, replacement) -> None:
    """Before ``replacement`` is renamed over ``name``: accept its checksum as well as the current one."""
    directory = Path(directory)
    manifest = _read(directory) or {"files": {}}
    files = manifest["files"]
    current = [sha256(directory / name)] if (directory / name).is_file() else []
    files[name] = [sha256(replacement)] + current
    _write(directory, files)


def settle(directory, name: str) -> None:
    """After the rename: only the file now in place is accepted."""
    record(directory, [name])


def verify(directory) -> None:
    """Raise UserError unless every file the manifest lists is present with an accepted checksum."""
    directory = Path(directory)
    manifest = _read(directory)
    if manifest is None:
        return
    for name, accepted in manifest["files"].items():
        path = directory / name
        if not path.is_file():
            raise UserError(f"{path} is missing; the model directory is incomplete, restore it from a copy")
        if sha256(path) not in accepted:
            raise UserError(f"{path} is damaged or was replaced (its checksum differs from {MANIFEST}); "
                            "restore the directory from a copy or retrain")
