"""Fetch public corpora, verified against the checksums in a manifest.

Manifests are JSON files packaged in ``nmt/corpora/manifests/``. Each lists ``files``; a file entry has
``name`` (the file written to the output directory), ``sha256`` and/or ``md5`` and ``size`` of that
file, and optionally ``url`` (relative to ``base_url``; default ``name``), ``archive`` (the URL is a zip
with its own ``sha256``/``size``, and ``member`` is the file to extract) and ``local_names`` (other
names accepted with ``from_dir``; a name ending in ``.gz`` is decompressed). With ``from_dir``, a
gzipped ``NAME.gz`` and the archive itself are accepted too. Nothing is written to its final name before
its checksum has matched.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import logging
import os
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from importlib import resources
from pathlib import Path

from nmt.errors import UserError
from nmt.io import atomic_open

__all__ = ["available", "load_manifest", "fetch", "file_digests"]

logger = logging.getLogger("nmt.data")
_CHUNK = 1 << 20


def available() -> list[str]:
    """Names of the packaged dataset manifests."""
    folder = resources.files("nmt.corpora").joinpath("manifests")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))


def load_manifest(name_or_path: str | os.PathLike) -> dict:
    """Load a packaged manifest by dataset name, or a manifest JSON file by path, and validate it."""
    if isinstance(name_or_path, str) and name_or_path in available():
        packaged = resources.files("nmt.corpora").joinpath("manifests", f"{name_or_path}.json")
        where, text = name_or_path, packaged.read_text("utf-8")
    elif str(name_or_path).endswith(".json"):
        where = str(name_or_path)
        try:
            text = Path(name_or_path).read_text("utf-8")
        except OSError as e:
            raise UserError(f"cannot read manifest {where}: {e.strerror}; check the path") from None
    else:
        raise UserError(f"unknown dataset {str(name_or_path)!r}; valid names: {', '.join(available())}")
    try:
        manifest = json.loads(text)
    except ValueError as e:
        raise UserError(f"manifest {where} is not valid JSON ({e}); fix the file") from None
    return _validated(manifest, where)


def _validated(manifest: dict, where: str) -> dict:
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not files or not isinstance(files, list):
        raise UserError(f"manifest {where} has no 'files' list; add one")
    def has_checksum(d):
        return isinstance(d, dict) and bool(d.get("sha256") or d.get("md5"))

    for e in files:
        ok = has_checksum(e) and e.get("name")
        if ok and "archive" in e:
            ok = has_checksum(e["archive"]) and e["archive"].get("member") and e.get("url")
        if not ok:
            raise UserError(f"manifest {where}: a file needs 'name' and 'sha256' or 'md5' (an archive also 'url', "
                            f"'member' and a checksum); fix entry {str(e)[:120]}")
        for local in [e["name"], *e.get("local_names", [])]:
            if not _plain_name(local):
                raise UserError(f"manifest {where}: file name {local!r} is not a plain file name "
                                "(no folders, no '..'); a fetch writes only inside its output folder")
    return manifest


def _plain_name(name) -> bool:
    """A file name that stays inside the folder it is joined to: one component, not . or .., no separator."""
    return isinstance(name, str) and name not in ("", ".", "..") and not any(c in name for c in "/\\\0")


class _Digest:
    """sha256, md5 and size of a byte stream, updated chunk by chunk."""

    def __init__(self) -> None:
        self.sha256, self.md5, self.size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0

    def update(self, chunk: bytes) -> None:
        self.sha256.update(chunk)
        self.md5.update(chunk)
        self.size += len(chunk)

    def check(self, want: dict, label: str) -> None:
        """Raise :class:`UserError` unless the digest matches ``want`` (sha256 if given, else md5)."""
        algo = "sha256" if want.get("sha256") else "md5"
        got = getattr(self, algo).hexdigest()
        if got != want[algo].lower():
            size = f" ({self.size} bytes, expected {want['size']})" if want.get("size") not in (None, self.size) else ""
            raise UserError(
                f"{label}: {algo} mismatch: expected {want[algo]}, got {got}{size}; "
                "the file is corrupt, truncated or a different version, get a fresh copy"
            )


def _digest_file(path: Path) -> _Digest:
    digest = _Digest()
    for chunk in _file_chunks(path):
        digest.update(chunk)
    return digest


def file_digests(path: str | os.PathLike) -> dict:
    """``{"size", "sha256", "md5"}`` of a file, e.g. to write a manifest entry."""
    d = _digest_file(Path(path))
    return {"size": d.size, "sha256": d.sha256.hexdigest(), "md5": d.md5.hexdigest()}


def _chunks(f):
    while chunk := f.read(_CHUNK):
        yield chunk


def _file_chunks(path: Path):
    with open(path, "rb") as f:
        yield from _chunks(f)


def _gunzip_chunks(path: Path):
    try:
        with gzip.open(path, "rb") as f:
            yield from _chunks(f)
    except (OSError, EOFError, zlib.error) as e:
        raise UserError(f"{path}: not a valid gzip file ({e}); get a fresh copy") from None


def _zip_member_chunks(path: Path, member: str):
    try:
        with zipfile.ZipFile(path) as z, z.open(member) as f:
            yield from _chunks(f)
    except (KeyError, zipfile.BadZipFile, zlib.error) as e:
        raise UserError(f"{path}: cannot extract {member} ({e}); get a fresh copy of the archive") from None


def _url_chunks(url: str, progress: bool):
    from tqdm import tqdm

    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1], disable=not progress) as bar:
                while chunk := response.read(_CHUNK):
                    bar.update(len(chunk))
                    yield chunk
    except urllib.error.URLError as e:
        reason = f"HTTP {e.code} {e.reason}" if isinstance(e, urllib.error.HTTPError) else e.reason
        raise UserError(f"could not download {url}: {reason}; use --from DIR with a local copy") from None
    except (OSError, ValueError, http.client.HTTPException) as e:
        raise UserError(f"could not download {url}: {e or type(e).__name__}; "
                        "use --from DIR with a local copy") from None


def _write_verified(dest: Path, chunks, want: dict, label: str) -> None:
    """Write ``chunks`` to ``dest`` atomically; on checksum mismatch nothing is left behind."""
    digest = _Digest()
    with atomic_open(dest, "wb") as f:
        for chunk in chunks:
            digest.update(chunk)
            f.write(chunk)
        digest.check(want, label)


def _local_chunks(entry: dict, from_dir: Path):
    """Chunks of ``entry`` taken from a local directory, trying every accepted name."""
    name = entry["name"]
    names = [name, *entry.get("local_names", [])] + ([] if name.endswith(".gz") else [name + ".gz"])
    for candidate in names:
        path = from_dir / candidate
        if path.is_file():
            gunzip = candidate.endswith(".gz") and not name.endswith(".gz")
            return (_gunzip_chunks(path) if gunzip else _file_chunks(path)), path
    if "archive" in entry:
        path = from_dir / Path(entry["url"]).name
        if path.is_file():
            _digest_file(path).check(entry["archive"], str(path))
            return _zip_member_chunks(path, entry["archive"]["member"]), path
        names.append(path.name)
    raise UserError(f"{from_dir}: no {name} (looked for {', '.join(names)}); copy it there, "
                    "or fetch without --from to download it")


def fetch(name: str, out_dir: str | os.PathLike, from_dir: str | os.PathLike | None = None,
          base_url: str | None = None, progress: bool = True, manifest: dict | str | os.PathLike | None = None,
          only=None) -> dict[str, Path]:
    """Fetch dataset ``name`` into ``out_dir`` and return ``{file name: path}``.

    With ``from_dir`` the files are copied from that local directory, otherwise downloaded from
    ``base_url`` (default: the manifest's). Every file is checked against the manifest before it gets
    its final name; files already in ``out_dir`` with the right checksum are skipped. ``manifest``
    (a dict or a JSON path) replaces the packaged manifest; ``only`` restricts the file names fetched.
    """
    if isinstance(manifest, dict):
        manifest = _validated(manifest, f"for {name}")
    else:
        manifest = load_manifest(name if manifest is None else manifest)
    entries = manifest["files"]
    if only is not None:
        only, valid = set(only), [e["name"] for e in entries]
        if only - set(valid):
            raise UserError(f"{name} has no file(s) {', '.join(sorted(only - set(valid)))}; valid files: "
                            f"{', '.join(valid)}")
        entries = [e for e in entries if e["name"] in only]
    out_dir = Path(out_dir)
    if from_dir is not None and not Path(from_dir).is_dir():
        raise UserError(f"--from {from_dir}: no such directory; give the folder that holds the {name} files")
    created = not out_dir.exists()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create output directory {out_dir}: {e.strerror}; choose another one") from None
    try:
        return _fetch_into(out_dir, entries, name, manifest, from_dir, base_url, progress)
    except BaseException:
        if created and not any(out_dir.iterdir()):  # a failed fetch leaves no empty folder behind
            out_dir.rmdir()
        raise


def _fetch_into(out_dir: Path, entries, name, manifest, from_dir, base_url, progress) -> dict[str, Path]:
    base = (base_url or manifest.get("base_url") or "").rstrip("/") + "/"
    if from_dir is None and base == "/":
        raise UserError(f"the {name} manifest has no base_url; give a base URL or use --from DIR with a local copy")
    result = {}
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".fetch-") as tmp:
        archives: dict[str, Path] = {}
        for entry in entries:
            dest = out_dir / entry["name"]
            result[entry["name"]] = dest
            if dest.is_file():
                try:
                    _digest_file(dest).check(entry, str(dest))
                    logger.info("%s: already present with the right checksum, skipped", dest)
                    continue
                except UserError as e:
                    logger.warning("%s; fetching it again", e)
            if from_dir is not None:
                chunks, source = _local_chunks(entry, Path(from_dir))
                _write_verified(dest, chunks, entry, str(source))
            elif "archive" in entry:
                url = base + entry["url"]
                if url not in archives:
                    archives[url] = Path(tmp) / f"{len(archives)}.zip"
                    _write_verified(archives[url], _url_chunks(url, progress), entry["archive"], url)
                _write_verified(dest, _zip_member_chunks(archives[url], entry["archive"]["member"]), entry, url)
            else:
                url = base + entry.get("url", entry["name"])
                _write_verified(dest, _url_chunks(url, progress), entry, url)
            logger.info("%s: fetched and verified", dest)
    return result

