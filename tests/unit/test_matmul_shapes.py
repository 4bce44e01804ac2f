"""scripts/bench_matmul_shapes.py's bookkeeping: the products it times are the Transformer's own weight
products (their weights add up to the model's), each weight's three products of a training step have the
FLOPs of its forward one, and the step's rate is FLOP-weighted over the products' counts."""

import dataclasses
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings, strategies as st

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("bench_matmul_shapes", ROOT / "scripts" / "bench_matmul_shapes.py")
shapes = importlib.util.module_from_spec(spec)
spec.loader.exec_module(shapes)


@pytest.mark.parametrize("layers,d,ff,vocab", [(1, 16, 32, 24), (2, 8, 40, 30)])
def test_products_hold_every_weight_of_the_model_once(layers, d, ff, vocab):
    from nmt.config import ModelConfig
    from nmt.models import build_model

    config = dataclasses.replace(ModelConfig(), family="transformer", layers=layers, d_model=d, ff_dim=ff,
                                 transformer_heads=2, share_embeddings=True)
    model = build_model(config, vocab, vocab)
    model((tf.constant([[5, 6, 3]]), tf.constant([[2, 5, 6]])))  # built
    vectors = sum(int(np.prod(w.shape)) for w in model.trainable_weights if len(w.shape) == 1)  # biases, norms
    timed = sum(count * k * n for _name, count, _m, k, n in shapes.products(7, d, ff, vocab, layers))
    assert timed == model.matmul_parameters() - vectors


@given(st.integers(1, 50), st.integers(1, 50), st.integers(1, 50))
@settings(max_examples=30, deadline=None)
def test_a_weights_three_products_have_its_forward_flops_and_chain(m, k, n):
    forward, inputs, weights = shapes.gradients(m, k, n)
    # x [m,k] . W [k,n]; dy [m,n] . W^T -> [m,k]; x^T [k,m] . dy [m,n] -> [k,n]
    assert forward[1:] == ("forward", m, k, n, False, False)[1:]
    assert inputs[1:] == (m, n, k, False, True) and weights[1:] == (k, m, n, True, False)
    assert {p[1] * p[2] * p[3] for p in (forward, inputs, weights)} == {m * k * n}


def test_step_rate_weights_products_by_their_counts():
    result = {"products": [{"flops": 100, "count": 3, "seconds": 1.0}, {"flops": 10, "count": 1, "seconds": 2.0}]}
    assert shapes.step_rate(result) == (310, 5.0)


@pytest.mark.slow  # 3 TensorFlow processes and the square peak: about 20 s
def test_report_rates_recompute_from_its_products(tmp_path):
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_matmul_shapes.py"), "--rows", "16", "--d", "8",
                           "--ff", "16", "--vocab", "20", "--layers", "1", "--seconds", "0.01", "--name", "shapes",
                           "--out", str(tmp_path), "--allow-dirty"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((tmp_path / "shapes.json").read_text())
    assert len(report["whole"]["products"]) == 3 * len(shapes.products(16, 8, 16, 20, 1))
    assert {p["m"] for p in report["halves"][0]["products"] if p["pass"] == "forward"} == {8}  # half the rows
    flops, seconds = shapes.step_rate(report["whole"])
    assert report["gflops"]["whole batch, 2 threads"] == round(flops / seconds / 1e9, 1)
    halves = [shapes.step_rate(h) for h in report["halves"]]
    both = sum(f for f, _ in halves) / max(s for _, s in halves) / 1e9
    assert report["gflops"]["two halves, 1 thread each, side by side"] == round(both, 1)
    assert report["share_of_peak"]["whole batch, 2 threads"] == round(
        flops / seconds / 1e9 / report["matmul_peak"]["peak_gflops"], 3)
    assert "| whole batch, 2 threads |" in (tmp_path / "shapes.md").read_text()
