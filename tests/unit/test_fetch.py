"""Tests for nmt.corpora.fetch against a local HTTP server and local directories (no internet)."""

import functools
import gzip
import hashlib
import json
import logging
import os
import socket
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from nmt.corpora.fetch import available, fetch, file_digests, load_manifest
from nmt.errors import UserError

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def served(tmp_path, monkeypatch):
    """A directory of small files served on 127.0.0.1, and a manifest describing them."""
    for var in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(var, "127.0.0.1,localhost")  # never route the local server through a proxy
    root = tmp_path / "remote"
    root.mkdir()
    (root / "a.en").write_bytes(b"hello\nworld\n")
    (root / "a.de.gz").write_bytes(gzip.compress(b"hallo\nwelt\n", mtime=0))
    with zipfile.ZipFile(root / "pairs.zip", "w") as z:
        z.writestr("pairs/pairs.tsv", "Go.\tVe.\n")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    tsv = {"sha256": hashlib.sha256(b"Go.\tVe.\n").hexdigest(), "size": 8}
    manifest = {
        "name": "tiny",
        "base_url": f"http://127.0.0.1:{server.server_address[1]}/",
        "files": [
            {"name": "a.en", **file_digests(root / "a.en")},
            {"name": "a.de.gz", **file_digests(root / "a.de.gz")},
            {"name": "pairs.tsv", **tsv, "url": "pairs.zip",
             "archive": {**file_digests(root / "pairs.zip"), "member": "pairs/pairs.tsv"}},
        ],
    }
    yield root, manifest
    server.shutdown()
    server.server_close()


def test_download_verifies_and_writes_files(served, tmp_path):
    root, manifest = served
    out = tmp_path / "out"
    paths = fetch("tiny", out, manifest=manifest, progress=True)
    assert paths == {name: out / name for name in ("a.en", "a.de.gz", "pairs.tsv")}
    assert (out / "a.en").read_bytes() == (root / "a.en").read_bytes()
    assert (out / "a.de.gz").read_bytes() == (root / "a.de.gz").read_bytes()
    assert (out / "pairs.tsv").read_bytes() == b"Go.\tVe.\n"
    assert sorted(os.listdir(out)) == ["a.de.gz", "a.en", "pairs.tsv"]  # no temp files or archive left


def test_manifest_can_be_a_json_path(served, tmp_path):
    root, manifest = served
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(manifest))
    assert load_manifest(path)["name"] == "tiny"
    fetch("tiny", tmp_path / "out", manifest=path, progress=False, only=["a.en"])
    assert os.listdir(tmp_path / "out") == ["a.en"]


def test_checksum_mismatch_raises_and_leaves_no_file(served, tmp_path):
    _, manifest = served
    wrong = "0" * 64
    manifest["files"][0]["sha256"] = wrong
    out = tmp_path / "out"
    with pytest.raises(UserError) as err:
        fetch("tiny", out, manifest=manifest, progress=False)
    msg = str(err.value)
    assert "a.en" in msg and wrong in msg and hashlib.sha256(b"hello\nworld\n").hexdigest() in msg
    assert not out.exists()  # nothing left: no file, no empty folder


def test_archive_checksum_mismatch_leaves_no_file(served, tmp_path):
    _, manifest = served
    manifest["files"][2]["archive"]["sha256"] = "1" * 64
    with pytest.raises(UserError, match=r"pairs\.zip: sha256 mismatch"):
        fetch("tiny", tmp_path / "out", manifest=manifest, progress=False, only=["pairs.tsv"])
    assert not (tmp_path / "out").exists()


def test_unreachable_server_is_a_user_error(served, tmp_path):
    _, manifest = served
    with pytest.raises(UserError, match=r"could not download http://127\.0\.0\.1:\d+/a\.en: .*use --from DIR"):
        fetch("tiny", tmp_path / "out", manifest=manifest, progress=False, base_url=f"http://127.0.0.1:{closed_port()}")
    assert not (tmp_path / "out").exists()  # a failed fetch leaves no empty folder behind
    (tmp_path / "mine").mkdir()  # ... but never removes a folder it did not create
    with pytest.raises(UserError):
        fetch("tiny", tmp_path / "mine", manifest=manifest, progress=False,
              base_url=f"http://127.0.0.1:{closed_port()}")
    assert os.listdir(tmp_path / "mine") == []


@pytest.mark.parametrize("name", ["../x", "/etc/x", "a/b", "..", ".", "", "a\\b", "x\0"])
def test_a_manifest_name_cannot_leave_the_output_folder(served, tmp_path, name):
    _, manifest = served
    manifest["files"][0]["name"] = name
    with pytest.raises(UserError, match="is not a plain file name|needs 'name'"):
        fetch("tiny", tmp_path / "out", manifest=manifest, progress=False)
    manifest["files"][0]["name"] = "a.en"
    manifest["files"][0]["local_names"] = [name]
    with pytest.raises(UserError, match="is not a plain file name|needs 'name'"):
        fetch("tiny", tmp_path / "out", manifest=manifest, progress=False)
    assert not (tmp_path / "out").exists() and not (tmp_path / "x").exists()


def test_http_404_is_a_user_error(served, tmp_path):
    _, manifest = served
    manifest["files"][0]["url"] = "missing.en"
    with pytest.raises(UserError, match=r"could not download .*missing\.en: HTTP 404"):
        fetch("tiny", tmp_path / "out", manifest=manifest, progress=False)


def test_present_files_with_right_checksum_are_skipped(served, tmp_path, caplog):
    _, manifest = served
    out = tmp_path / "out"
    fetch("tiny", out, manifest=manifest, progress=False)
    (out / "a.de.gz").write_bytes(b"corrupted")
    manifest["base_url"] = f"http://127.0.0.1:{closed_port()}/"  # anything not skipped would now fail to download ...
    with pytest.raises(UserError, match="could not download"):
        fetch("tiny", out, manifest=manifest, progress=False)
    with caplog.at_level(logging.INFO, logger="nmt.data"):
        fetch("tiny", out, manifest=manifest, progress=False, only=["a.en", "pairs.tsv"])  # ... but these are
    assert "already present" in caplog.text


def test_from_dir_copies_and_verifies(served, tmp_path):
    root, manifest = served
    local = tmp_path / "local"
    local.mkdir()
    (local / "a.en").write_bytes((root / "a.en").read_bytes())
    (local / "a.de.gz").write_bytes((root / "a.de.gz").read_bytes())
    (local / "pairs.tsv.gz").write_bytes(gzip.compress(b"Go.\tVe.\n"))  # gzipped copy is accepted
    out = tmp_path / "out"
    fetch("tiny", out, from_dir=local, manifest=manifest)
    assert (out / "pairs.tsv").read_bytes() == b"Go.\tVe.\n"
    assert (out / "a.en").read_bytes() == b"hello\nworld\n"

    (local / "pairs.tsv.gz").unlink()
    (local / "pairs.zip").write_bytes((root / "pairs.zip").read_bytes())  # so is the archive itself
    (out / "pairs.tsv").unlink()
    fetch("tiny", out, from_dir=local, manifest=manifest, only=["pairs.tsv"])
    assert (out / "pairs.tsv").read_bytes() == b"Go.\tVe.\n"


def test_from_dir_bad_copy_and_missing_file(served, tmp_path):
    _, manifest = served
    local = tmp_path / "local"
    local.mkdir()
    (local / "a.en").write_bytes(b"tampered\n")
    out = tmp_path / "out"
    with pytest.raises(UserError, match=r"local/a\.en: sha256 mismatch"):
        fetch("tiny", out, from_dir=local, manifest=manifest, only=["a.en"])
    assert not out.exists()
    with pytest.raises(UserError, match=r"no a\.de\.gz \(looked for a\.de\.gz\)"):
        fetch("tiny", out, from_dir=local, manifest=manifest, only=["a.de.gz"])
    with pytest.raises(UserError, match="no such directory"):
        fetch("tiny", out, from_dir=tmp_path / "nowhere", manifest=manifest)


def test_unknown_dataset_and_file_names(tmp_path):
    with pytest.raises(UserError, match="unknown dataset 'nope'; valid names: ag_news, multi30k, spa_eng"):
        fetch("nope", tmp_path)
    with pytest.raises(UserError, match="valid files: train.en.gz"):
        fetch("multi30k", tmp_path, only=["train.xx.gz"])
    with pytest.raises(UserError, match="sha256"):
        fetch("bad", tmp_path, manifest={"files": [{"name": "x"}]})


def test_packaged_manifests():
    assert available() == ["ag_news", "multi30k", "spa_eng"]
    m = load_manifest("multi30k")
    assert m["base_url"].endswith("/a3d2e0d26b56f3846f66a952536ffed4e401d05a/data/task1/raw/")
    names = {f["name"] for f in m["files"]}
    assert names == {f"{s}.{lang}.gz" for s in ("train", "val", "test_2016_flickr") for lang in ("en", "de", "fr")}
    for name in available():
        assert {"license", "citation", "description"} <= set(load_manifest(name))


def test_packaged_checksums_match_shared_data(tmp_path):
    if not (SHARED_DATA / "multi30k").is_dir():
        pytest.skip(f"shared corpora not found at {SHARED_DATA}")
    for f in load_manifest("multi30k")["files"]:
        got = file_digests(SHARED_DATA / "multi30k" / f["name"])
        assert (got["size"], got["sha256"]) == (f["size"], f["sha256"]), f["name"]
    # gzipped copies of the canonical ag_news test.csv and spa_eng spa.txt verify through from_dir
    fetch("ag_news", tmp_path / "ag", from_dir=SHARED_DATA / "ag_news", only=["test.csv"], progress=False)
    fetch("spa_eng", tmp_path / "spa", from_dir=SHARED_DATA / "spa_eng", progress=False)
    assert sorted(os.listdir(tmp_path / "spa")) == ["_about.txt", "spa.txt"]
