"""manifest.json: a damaged, missing, foreign or too-new file is a one-line error before anything loads."""

import json

import pytest

from nmt import manifest, model_dir as md
from nmt.config import preset
from nmt.errors import UserError
from nmt.training import Trainer


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("manifest") / "m"
    pairs = [("ab cd", "CD AB"), ("ef", "EF"), ("cd ef", "EF CD")] * 20
    config = (preset("tiny").override("tokenizer", vocab_size=20)
              .override("train", max_steps=4, eval_every=2, eval_sentences=2))
    Trainer(config, folder, pairs, pairs[:2], progress=False).run()
    return folder


def _copy(trained, tmp_path):
    import shutil

    return shutil.copytree(trained, tmp_path / "copy")


def test_training_writes_checksums_that_load_checks(trained):
    files = json.loads((trained / manifest.MANIFEST).read_text())["files"]
    assert set(files) == {"config.json", "spm.model", "model.weights.h5"}
    assert all(len(v) == 1 for v in files.values())  # settled: only the file in place is accepted
    md.load(trained)


@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / "model.weights.h5").write_bytes((d / "model.weights.h5").read_bytes()[:-7] + b"garbage"),
     "is damaged or was replaced"),
    (lambda d: (d / "spm.model").unlink(), "spm.model is missing"),
    (lambda d: (d / "config.json").write_text((d / "config.json").read_text().replace("1", "2", 1)),
     "config.json is damaged"),
    (lambda d: (d / manifest.MANIFEST).write_text("{not json"), "manifest.json is damaged"),
    (lambda d: (d / manifest.MANIFEST).write_text(json.dumps({"version": 99, "files": {}})), "written by a newer nmt"),
])
def test_damage_is_a_user_error(trained, tmp_path, damage, message):
    copy = _copy(trained, tmp_path)
    damage(copy)
    with pytest.raises(UserError, match=message):
        md.load(copy)


def test_directories_without_a_manifest_still_load(trained, tmp_path):
    copy = _copy(trained, tmp_path)
    (copy / manifest.MANIFEST).unlink()
    md.load(copy)


def test_a_kill_during_a_weights_replacement_leaves_a_loadable_directory(trained, tmp_path):
    copy = _copy(trained, tmp_path)
    config, _, model = md.load(copy)
    model.weights[0].assign(model.weights[0] * 2.0)
    new = copy / "tmp.model.weights.h5"
    model.save_weights(str(new))
    manifest.accept(copy, md.WEIGHTS, new)
    md.load(copy)  # killed before the rename: the old weights are still accepted
    new.replace(copy / md.WEIGHTS)
    md.load(copy)  # killed after it, before settle: the new ones are accepted too
    manifest.settle(copy, md.WEIGHTS)
    assert len(json.loads((copy / manifest.MANIFEST).read_text())["files"][md.WEIGHTS]) == 1
