"""Text classifiers: a pooling head over the encoder of either translation family, and the lesson's model.

Every classifier takes token ids [B,S] (int32, 0 = padding, as ``Tokenizer.encode_source`` makes
them) and returns ``(logits [B,C], weights [B,S])``: ``weights`` says how much each token counted
in the pooled vector (1/n on the n real tokens for mean pooling, learned for attention pooling), so
a classifier's attention is as visible as a translator's.

``seq2seq``: :meth:`Seq2Seq.encode` of the family ``config.model.family`` names (the contract's
memory [B,S,D] and mask [B,S]; no family is special-cased), then pooling, dropout, an optional ReLU
layer and the output layer. The translation model is built whole, so a trained translation model
directory loads into it unchanged (``--init-from``); the decoder's weights are frozen because the
classifier never uses them.

``bert``: a pretrained BERT-family encoder (MiniLM-L6 by default) with the same head.

``lesson``: the Keras example the project grew from (TokenAndPositionEmbedding + one
TransformerBlock + global average pooling). With ``head.mask_padding=False`` (its preset) it is
kept as it was: texts padded to ``max_length``, no padding mask in attention or pooling; with True,
padding gets no attention and no share of the average.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from nmt.attention.base import masked_softmax
from nmt.registry import Registry

CLASSIFIERS = Registry("classifier encoder", "--encoder")


class Classifier(keras.Model):
    """Base of the registered classifiers: ``call(ids [B,S]) -> (logits [B,C], weights [B,S])``;
    ``build_all()`` creates every weight (sublayers build on their first call)."""

    def build(self, input_shape=None):
        self.built = True

    def build_all(self) -> None:
        self(tf.constant([[4, 3]], tf.int32))


class Pooling(keras.layers.Layer):
    """``mean`` over real tokens, or ``attention`` (Yang et al. 2016): w = softmax(v . tanh(W h)) over
    real tokens. Call: x [B,S,D], mask [B,S] bool -> pooled [B,D], weights [B,S]."""

    def __init__(self, kind: str, units: int = 128, **kwargs):
        super().__init__(**kwargs)
        self.kind = kind
        if kind == "attention":
            self.project = keras.layers.Dense(units, activation="tanh", name="project")
            self.score = keras.layers.Dense(1, use_bias=False, name="score")

    def call(self, x, mask):
        if self.kind == "attention":
            scores = self.score(self.project(x))[..., 0]  # [B,S]
            weights = masked_softmax(scores[:, None, None, :], mask)[:, 0, 0, :]  # [B,S]
        else:
            real = tf.cast(mask, x.dtype)  # [B,S]
            weights = real / tf.maximum(tf.reduce_sum(real, axis=1, keepdims=True), 1.0)  # [B,S]
        return tf.einsum("bs,bsd->bd", weights, x), weights  # [B,D], [B,S]


class _Head(keras.layers.Layer):
    """Dropout -> optional Dense(hidden, relu) -> dropout -> Dense(classes): pooled [B,D] -> logits [B,C]."""

    def __init__(self, classes: int, hidden: int, dropout: float, **kwargs):
        super().__init__(**kwargs)
        self.dropout = keras.layers.Dropout(dropout)
        self.hidden = keras.layers.Dense(hidden, activation="relu", name="hidden") if hidden else None
        self.output_layer = keras.layers.Dense(classes, name="logits")

    def call(self, x, training=False):
        x = self.dropout(x, training=training)  # [B,D]
        if self.hidden is not None:
            x = self.dropout(self.hidden(x), training=training)  # [B,hidden]
        return self.output_layer(x)  # [B,C]


@CLASSIFIERS.register("seq2seq")
class EncoderClassifier(Classifier):
    """Pooling head over ``seq2seq.encode`` (any registered translation family)."""

    def __init__(self, config, vocab_size: int, num_classes: int, seq2seq=None, **kwargs):
        super().__init__(**kwargs)
        from nmt.models import build_model

        self.seq2seq = seq2seq if seq2seq is not None else build_model(config.model, vocab_size, vocab_size)
        self.pooling = Pooling(config.head.pooling, name="pooling")
        self.head = _Head(num_classes, config.head.hidden, config.head.dropout, name="head")

    def build_all(self) -> None:
        """Create every weight (the whole translation model too) with one dummy batch."""
        dummy = tf.constant([[4, 3]], tf.int32)  # [1,2]
        self.seq2seq((dummy, dummy))
        self(dummy)

    def call(self, ids, training=False):
        encoded = self.seq2seq.encode(ids, training=training)  # memory [B,S,D], mask [B,S]
        pooled, weights = self.pooling(encoded.memory, encoded.mask)  # [B,D], [B,S]
        return self.head(pooled, training=training), weights  # [B,C], [B,S]


class _TokenAndPositionEmbedding(keras.layers.Layer):
    """The lesson's layer: token embedding + learned position embedding (Keras default init)."""

    def __init__(self, max_length: int, vocab_size: int, dim: int, **kwargs):
        super().__init__(**kwargs)
        self.token = keras.layers.Embedding(vocab_size, dim, name="token")
        self.position = keras.layers.Embedding(max_length, dim, name="position")

    def call(self, ids):
        return self.token(ids) + self.position(tf.range(tf.shape(ids)[-1]))  # [B,L,E]


class _LessonBlock(keras.layers.Layer):
    """The lesson's TransformerBlock: post-norm self-attention and feed-forward, dropout on both."""

    def __init__(self, dim: int, heads: int, ff_dim: int, dropout: float, **kwargs):
        super().__init__(**kwargs)
        self.attention = keras.layers.MultiHeadAttention(num_heads=heads, key_dim=dim, name="attention")
        self.ff_in = keras.layers.Dense(ff_dim, activation="relu", name="ff_in")
        self.ff_out = keras.layers.Dense(dim, name="ff_out")
        self.norm1 = keras.layers.LayerNormalization(epsilon=1e-6, name="norm1")
        self.norm2 = keras.layers.LayerNormalization(epsilon=1e-6, name="norm2")
        self.drop1, self.drop2 = keras.layers.Dropout(dropout), keras.layers.Dropout(dropout)

    def call(self, x, padding_mask=None, training=False):
        # [B,1,L]: padding keys get no weight
        attention_mask = None if padding_mask is None else padding_mask[:, None, :]
        x = self.norm1(x + self.drop1(self.attention(x, x, attention_mask=attention_mask, training=training),
                                      training=training))  # [B,L,E]
        return self.norm2(x + self.drop2(self.ff_out(self.ff_in(x)), training=training))  # [B,L,E]


@CLASSIFIERS.register("lesson")
class LessonClassifier(Classifier):
    """The lesson's model (a): sizes from ``config.model`` (``d_model`` embedding, ``transformer_heads``,
    ``ff_dim``, ``dropout``) and ``config.head`` (``max_length``, ``hidden``, ``dropout``)."""

    def __init__(self, config, vocab_size: int, num_classes: int, seq2seq=None, **kwargs):
        super().__init__(**kwargs)
        if seq2seq is not None:
            from nmt.errors import UserError

            raise UserError("the lesson's model has its own encoder; --init-from needs --encoder seq2seq")
        m, h = config.model, config.head
        self.max_length, self.mask_padding = h.max_length, h.mask_padding
        self.pooling = Pooling("mean", name="pooling")
        self.embedding = _TokenAndPositionEmbedding(h.max_length, vocab_size, m.d_model, name="embedding")
        self.block = _LessonBlock(m.d_model, m.transformer_heads, m.ff_dim, m.dropout, name="block")
        self.head = _Head(num_classes, h.hidden, h.dropout, name="head")

    def pool(self, ids, training=False):
        """ids [B,S] -> the pooled vector the head reads [B,E] and the pooling weights [B,S]."""
        if self.mask_padding:  # the fix: attend to and average over real tokens only
            mask = tf.not_equal(ids, 0)  # [B,S]
            x = self.block(self.embedding(ids), padding_mask=mask, training=training)  # [B,S,E]
            return self.pooling(x, mask)  # [B,E], [B,S]
        length = tf.shape(ids)[1]  # []
        ids = tf.pad(ids[:, : self.max_length], [[0, 0], [0, tf.maximum(self.max_length - length, 0)]])  # [B,L]
        x = self.block(self.embedding(ids), training=training)  # [B,L,E]
        pooled = tf.reduce_mean(x, axis=1)  # [B,E] (GlobalAveragePooling1D: padding included)
        return pooled, tf.fill(tf.shape(ids), 1.0 / self.max_length)[:, :length]  # [B,E], [B,S]

    def call(self, ids, training=False):
        pooled, weights = self.pool(ids, training=training)  # [B,E], [B,S]
        return self.head(pooled, training=training), weights  # [B,C], [B,S]


@CLASSIFIERS.register("bert")
class BertClassifier(Classifier):
    """A pretrained BERT-family encoder (:mod:`nmt.classification.bert`; architecture in ``config.head.bert``)
    with the pooling head; ids are WordPiece ids, 0 = [PAD]."""

    def __init__(self, config, vocab_size: int, num_classes: int, seq2seq=None, **kwargs):
        super().__init__(**kwargs)
        from nmt.classification.bert import BertConfig, BertEncoder
        from nmt.errors import UserError

        if seq2seq is not None or not config.head.bert:
            raise UserError("--encoder bert takes a pretrained BERT-family encoder (--pretrained DIR or the MiniLM "
                            "package), not --init-from")
        self.bert = BertEncoder(BertConfig(**config.head.bert), dropout=config.head.dropout)
        self.pooling = Pooling(config.head.pooling, name="pooling")
        self.head = _Head(num_classes, config.head.hidden, config.head.dropout, name="head")

    def build_all(self) -> None:
        self(tf.constant([[2, 3]], tf.int32))

    def call(self, ids, training=False):
        mask = tf.not_equal(ids, 0)  # [B,S]
        x = self.bert(ids, mask, training=training)  # [B,S,D]
        pooled, weights = self.pooling(x, mask)  # [B,D], [B,S]
        return self.head(pooled, training=training), weights  # [B,C], [B,S]


def head_variables(model) -> list:
    """The trainable variables of a classifier's pooling and output layers (not its encoder)."""
    layers = [layer for layer in (getattr(model, "pooling", None), model.head) if layer is not None]
    return [v for layer in layers for v in layer.trainable_variables]


def build_classifier(config, vocab_size: int, num_classes: int, seq2seq=None):
    """The registered classifier ``config.head.encoder`` with every weight created; weights the
    classifier never uses (a translation model's decoder) are frozen."""
    model = CLASSIFIERS.get(config.head.encoder)(config, vocab_size, num_classes, seq2seq=seq2seq)
    model.build_all()
    dummy = tf.constant([[4, 5, 3], [4, 3, 0]], tf.int32)  # [2,3]
    with tf.GradientTape() as tape:
        logits, _ = model(dummy, training=False)  # [2,C]
        loss = tf.reduce_sum(logits)
    grads = tape.gradient(loss, model.trainable_variables)
    for var, grad in zip(model.trainable_variables, grads):
        if grad is None:
            var.trainable = False
    return model
