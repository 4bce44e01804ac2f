"""``data.json``: what a model directory was trained on, so that ``--resume`` continues on exactly that.

A record holds a source for ``train`` and one for ``valid`` (or null)::

    {"embedded": true, "max_words": 20}                                   the embedded synthetic corpus
    {"format": "parallel", "files": [{"path": "/abs/train.en", "sha256": "...", "bytes": 123}, ...]}
    {"format": "tsv", "files": [{"path": "/abs/train.tsv", ...}]}
    {"format": "parallel", "files": [...], "links": {"path": "/abs/train.links", ...}}   guided alignment

Paths are absolute (a resume may start in another working directory); the checksums decide whether
two sources are the same data, wherever the files now live. :func:`resume_sources` is the whole rule:
a resume without corpus options uses the recorded sources (after checking the files are still the
same), and a resume with corpus options must name the same data, or it is refused with one line.
"""

from __future__ import annotations

import json
from pathlib import Path

from nmt.errors import UserError
from nmt.io import atomic_write_text, resolved
from nmt.manifest import sha256

DATA = "data.json"


def embedded(max_words: int | None) -> dict:
    return {"train": {"embedded": True, "max_words": max_words}, "valid": {"embedded": True, "max_words": max_words}}


def _files(role: str, src, tgt, tsv) -> dict | None:
    if tsv and (src or tgt):
        raise UserError(f"give either --{role}-tsv or --{role}-src/--{role}-tgt, not both")
    if bool(src) != bool(tgt):
        raise UserError(f"--{role}-src and --{role}-tgt go together; give both files")
    paths = [tsv] if tsv else [p for p in (src, tgt) if p]
    if not paths:
        return None
    return {"format": "tsv" if tsv else "parallel", "files": [_file(p) for p in paths]}


def _file(p) -> dict:
    path = resolved(p)
    if not path.is_file():
        raise UserError(f"{p}: no such file; check the path")
    return {"path": str(path), "sha256": sha256(path), "bytes": path.stat().st_size}


def from_options(train: tuple, valid: tuple, links=None) -> dict | None:
    """The record of the corpus options ``(src, tgt, tsv)`` for train and valid, and of the training
    pairs' word links (guided alignment); None when no corpus is given."""
    record = {"train": _files("train", *train), "valid": _files("valid", *valid)}
    if record["train"] is None:
        if record["valid"] is not None:
            raise UserError("validation files need training files too (--train-src/--train-tgt or --train-tsv); "
                            "without them nmt trains on the embedded corpus, which has its own validation split")
        if links:
            raise UserError("--train-links numbers the words of the training files' lines; give them with "
                            "--train-src/--train-tgt or --train-tsv")
        return None
    if links:
        record["train"]["links"] = _file(links)
    return record


def files_of(source: dict | None) -> list[dict]:
    """Every file a source reads: its corpus files, then its links file if it has one."""
    if source is None or source.get("embedded"):
        return []
    return source["files"] + ([source["links"]] if "links" in source else [])


def write(directory, record: dict) -> str:
    atomic_write_text(Path(directory) / DATA, json.dumps(record, indent=1) + "\n")
    return DATA


def read(directory) -> dict | None:
    path = Path(directory) / DATA
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(record, dict) or "train" not in record:
            raise ValueError
    except (OSError, ValueError):
        raise UserError(f"{path} is damaged (not the JSON nmt writes); restore the directory from a copy") from None
    return record


def describe(source: dict | None) -> str:
    if source is None:
        return "nothing"
    if source.get("embedded"):
        return "the embedded corpus"
    return " + ".join(f["path"] for f in files_of(source))


def _same(a: dict | None, b: dict | None) -> bool:
    """The same data: both embedded with the same word limit, or files with the same contents in order."""
    if a is None or b is None:
        return a is b
    if a.get("embedded") or b.get("embedded"):
        return a == b
    return a["format"] == b["format"] and [f["sha256"] for f in files_of(a)] == [f["sha256"] for f in files_of(b)]


def _check_unchanged(directory, source: dict | None) -> None:
    for f in files_of(source):
        path = Path(f["path"])
        if not path.is_file():
            raise UserError(f"{directory} was trained on {path}, which is gone; restore it (or give the same data "
                            "under another path with the corpus options) to resume")
        if path.stat().st_size != f["bytes"] or sha256(path) != f["sha256"]:
            raise UserError(f"{directory} was trained on {path}, which has changed since (its checksum differs); "
                            "restore it to resume, or train a new --model-dir on the new data")


def resume_sources(directory, given: dict | None) -> dict:
    """The sources a resume of ``directory`` trains on, given the corpus options' record ``given``."""
    recorded = read(directory)
    if recorded is None:
        if given is None:
            raise UserError(f"{directory} does not record what it was trained on (made by an older nmt); "
                            "give its corpus options again to resume")
        return given
    if given is None:
        for role in ("train", "valid"):
            _check_unchanged(directory, recorded.get(role))
        return recorded
    for role in ("train", "valid"):
        if not _same(given.get(role), recorded.get(role)):
            raise UserError(f"{directory} was trained on {describe(recorded.get(role))} ({role}), not "
                            f"{describe(given.get(role))}; --resume continues on the same data: drop the corpus "
                            "options, or train a new --model-dir")
    return given
