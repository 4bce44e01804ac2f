"""A plug-in attention survives its model directory: config.json records the module, and every later
command, in a fresh process that never saw --plugin, imports it before it builds the model."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nmt.attention import ATTENTION
from nmt.config import ModelConfig
from nmt.errors import UserError
from nmt.models import build_model
from tests.integration.test_cli import write_corpus

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = '''
from dataclasses import dataclass

import tensorflow as tf
from nmt.attention import Attention, register
from nmt.checks import Checked, num

@dataclass(frozen=True)
class Sharpness(Checked):
    sharpness: float = num(10.0, 0.0, 1000.0, lo_open=True)

@register("cosine-plugin-test", options=Sharpness)
class CosineAttention(Attention):
    """score(s, h) = sharpness * cos(s, h): a hyper-parameter of its own (--set model.sharpness=5)."""
    def score(self, query, keys):
        q, k = tf.math.l2_normalize(query, -1), tf.math.l2_normalize(keys, -1)
        return self.options.sharpness * tf.matmul(q, k, transpose_b=True)[:, None]
'''
# Run by a fresh process in which the plug-in was never imported: each command through the console
# entry point, which prints one-line errors; a missing module is one of them.
DRIVER = '''
import json, sys
from click.testing import CliRunner
from tests.integration.test_cli import _entry
model, folder = sys.argv[1], sys.argv[2]
results = {}
for name, args in {
    "translate": ["translate", model, "-i", folder + "/train.src", "-o", folder + "/hyp.txt"],
    "align": ["align", model, "-s", folder + "/train.src", "-t", folder + "/train.tgt", "-o", folder + "/links.txt"],
    "evaluate": ["evaluate", model, "--src", folder + "/train.src", "--ref", folder + "/train.tgt"],
    "export": ["export", model, folder + "/exported"],
}.items():
    result = CliRunner().invoke(_entry, args, catch_exceptions=False)
    results[name] = [result.exit_code, result.stderr]
sharpness = None
if "cosine_plugin_for_test" in sys.modules:
    from nmt.translator import Translator
    sharpness = Translator.load(model).model.attention.options.sharpness
print(json.dumps({"results": results, "plugin": "cosine_plugin_for_test" in sys.modules, "sharpness": sharpness}))
'''


def _python(args, pythonpath, timeout=600):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, pythonpath))}
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def test_building_a_model_imports_the_modules_its_configuration_names(tmp_path, monkeypatch):
    """The in-process half of the rule: build_model imports model.plugins before it looks the mechanism up."""
    (tmp_path / "cosine_plugin_for_test.py").write_text(textwrap.dedent(PLUGIN))
    config = ModelConfig(attention="cosine-plugin-test", plugins="cosine_plugin_for_test", embedding_dim=8, units=8,
                         attention_units=8)
    with pytest.raises(UserError,
                       match="cannot import plugin module 'cosine_plugin_for_test' .the model's config.json"):
        build_model(config, 20, 20)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "cosine_plugin_for_test", raising=False)
    try:
        model = build_model(config, 20, 20)
        assert type(model.attention).nmt_name == "cosine-plugin-test" and model.attention.options.sharpness == 10.0
    finally:  # other tests list the registered mechanisms
        ATTENTION.unregister("cosine-plugin-test")
        sys.modules.pop("cosine_plugin_for_test", None)


@pytest.mark.slow  # 40 s quiet, 80 s at load 3: three fresh processes import TensorFlow, one exports a SavedModel
def test_a_plugin_mechanism_is_recorded_and_imported_by_every_command(tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "cosine_plugin_for_test.py").write_text(textwrap.dedent(PLUGIN))
    write_corpus(tmp_path, n=200)
    model = tmp_path / "m"
    done = _python(["-m", "nmt", "train", "--model-dir", str(model), "--train-src", str(tmp_path / "train.src"),
                    "--train-tgt", str(tmp_path / "train.tgt"), "--preset", "tiny", "--vocab-size", "40", "--steps",
                    "20", "--eval-every", "20", "--plugin", "cosine_plugin_for_test", "--attention",
                    "cosine-plugin-test", "--set", "model.sharpness=5", "--no-progress"], [ROOT, plugins])
    assert done.returncode == 0, done.stderr
    config = json.loads((model / "config.json").read_text())["model"]
    assert (config["plugins"], config["attention"]) == ("cosine_plugin_for_test", "cosine-plugin-test")
    assert config["options"] == {"sharpness": 5}  # its own hyper-parameter, recorded with the model

    (tmp_path / "driver.py").write_text(DRIVER)
    done = _python([str(tmp_path / "driver.py"), str(model), str(tmp_path)], [ROOT, plugins])
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["plugin"]  # imported because config.json names it, not because anyone said --plugin
    assert report["sharpness"] == 5.0  # and its hyper-parameter came back from config.json
    for name, (code, err) in report["results"].items():
        assert code == 0, (name, err)
    assert len((tmp_path / "hyp.txt").read_text().splitlines()) == 200
    assert len((tmp_path / "links.txt").read_text().splitlines()) == 200
    assert (tmp_path / "exported" / "saved_model.pb").is_file()

    # Without the module on the path: one line that names the module and where it is recorded
    done = _python([str(tmp_path / "driver.py"), str(model), str(tmp_path)], [ROOT])
    report = json.loads(done.stdout.strip().splitlines()[-1])
    for name in ("translate", "align", "evaluate"):
        code, err = report["results"][name]
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1, (name, err)
        assert "cannot import plugin module 'cosine_plugin_for_test' (the model's config.json names it)" in lines[0]
