"""Export a model directory as a TensorFlow SavedModel that takes raw UTF-8 strings.

The SavedModel holds the weights, the SentencePiece (or WordPiece) model as tensorflow-text ops and,
for translation, the whole beam search (one ``tf.while_loop``): a process that imports only
``tensorflow`` and ``tensorflow_text`` serves it::

    import tensorflow as tf, tensorflow_text  # noqa: F401 (registers the tokenizer ops)
    m = tf.saved_model.load("exported")
    out = m.signatures["serving_default"](tf.constant(["ein mann schläft ."]))
    out["translations"], out["scores"]        # [B] strings, [B] float32

Translation signature ``serving_default(texts [B] string)`` returns ``translations`` [B], ``scores`` [B]
(length-normalised log-probability, as ``nmt translate --scores``), with ``--n-best N > 1`` also
``nbest_translations`` / ``nbest_scores`` [B,N], and with ``--alignments`` ``alignments`` [B]: the best
hypothesis' word alignment as Pharaoh ``i-j`` links, computed exactly as ``nmt translate --alignments
hard`` does (attention reduced over the chosen layer/head, subwords merged to words, ``</s>`` dropped,
one link per target word). Whitespace is normalised and sources longer than
``decode.max_source_tokens`` pieces are cut as ``nmt translate`` does, so the outputs equal
``nmt translate`` on the same inputs.

Classifier signature ``serving_default(texts [B] string)`` returns ``labels`` [B] string,
``label_ids`` [B] int32 and ``probabilities`` [B,C] float32, as ``nmt classify predict``.

Decoding settings (beam size, n-best, length penalty, maximum length) are fixed at export time and
written to ``assets.extra/nmt_export.json`` with the model's configuration.
"""

from __future__ import annotations

import json
from pathlib import Path

import tensorflow as tf

from nmt.alignment import check_layer_head, graph
from nmt.errors import UserError
from nmt.io import atomic_directory, check_output_directory

EXPORT_INFO = "nmt_export.json"


class TranslationExport(tf.Module):
    """strings in, translations out: tokenizer, model and beam search in one graph."""

    def __init__(self, model, tokenizer, options, bos_id: int, eos_id: int, layer="mean", head="mean",
                 max_source_tokens: int = 1024):
        import tensorflow_text as tftext

        super().__init__(name="nmt_translation")
        self._model, self._options, self._ids = model, options, (bos_id, eos_id)
        self._limit = max_source_tokens
        self._layer_head = (layer, head)
        self.model_variables = list(model.variables)  # tracked, so the SavedModel holds them
        self.src_tokenizer = tftext.SentencepieceTokenizer(model=tokenizer.src_model, out_type=tf.int32, add_eos=True)
        self.tgt_tokenizer = tftext.SentencepieceTokenizer(model=tokenizer.tgt_model, out_type=tf.int32)
        self.serve = tf.function(self._translate, input_signature=[tf.TensorSpec([None], tf.string, name="texts")],
                                 autograph=False)

    def _translate(self, texts):
        count = tf.size(texts)  # [] B; an empty batch decodes one empty text (Keras' LSTM cannot run on none)
        padded = tf.cond(count > 0, lambda: texts, lambda: tf.constant([""]))  # [max(B,1)]
        return {k: v[:count] for k, v in self._translate_some(padded).items()}

    def _translate_some(self, texts):
        from nmt.decoding import decode
        from nmt.translator import cut_sources

        texts = graph.normalise_whitespace(texts)  # [B]
        src, starts, ends = self.src_tokenizer.tokenize_with_offsets(texts)  # [B,(S)] each, ids ending with EOS
        src_ids = cut_sources(src, self._limit, self._ids[1]).to_tensor(0)  # [B,S], cut as nmt translate cuts
        out = decode(self._model, src_ids, self._options, *self._ids)  # ids [B,N,T], lengths/scores [B,N]
        b, n = tf.shape(out.ids)[0], tf.shape(out.ids)[1]
        # [B*N,(T)]
        flat = tf.RaggedTensor.from_tensor(tf.reshape(out.ids, [b * n, -1]), lengths=tf.reshape(out.lengths, [-1]))
        nbest = tf.reshape(self.tgt_tokenizer.detokenize(flat), [b, n])  # [B,N]
        result = {"translations": nbest[:, 0], "scores": out.scores[:, 0]}  # [B], [B]
        if self._options.n_best > 1:
            result.update(nbest_translations=nbest, nbest_scores=out.scores)  # [B,N] both
        if self._options.return_attention:
            attention = graph.reduce(out.attention[:, 0], *self._layer_head)  # [B,T,S]
            # [B,(S)] source token of each piece
            words = graph.piece_tokens(texts, starts, ends, tf.equal(src, self._ids[1]))
            src_words = cut_sources(words, self._limit, -1).to_tensor(-1)  # [B,S], cut as the ids are
            tgt_pieces = self.tgt_tokenizer.id_to_string(out.ids[:, 0])  # [B,T]
            result["alignments"] = graph.hard_alignments(attention, src_words, tgt_pieces)  # [B]
        return result


class ClassifierExport(tf.Module):
    """strings in, label and probabilities out."""

    def __init__(self, model, tokenizer, classes, max_length: int):
        super().__init__(name="nmt_classifier")
        self._model, self._tokenizer, self._max_length = model, tokenizer, max_length
        self.model_variables = list(model.variables)
        self.tokenizer_parts = _trackables(tokenizer)
        self.classes = tf.constant(list(classes))  # [C]
        self.serve = tf.function(self._classify, input_signature=[tf.TensorSpec([None], tf.string, name="texts")],
                                 autograph=False)

    def _classify(self, texts):
        count = tf.size(texts)  # [] B; an empty batch classifies one empty text, then drops it
        texts = tf.cond(count > 0, lambda: texts, lambda: tf.constant([""]))  # [max(B,1)]
        ids = self._tokenizer.encode_source(texts)[:, : self._max_length].to_tensor(0)  # [B,S]
        logits, _ = self._model(ids, training=False)  # [B,C]
        probabilities = tf.nn.softmax(tf.cast(logits, tf.float32))  # [B,C]
        label_ids = tf.argmax(probabilities, axis=1, output_type=tf.int32)  # [B]
        out = {"labels": tf.gather(self.classes, label_ids), "label_ids": label_ids, "probabilities": probabilities}
        return {k: v[:count] for k, v in out.items()}


def _trackables(tokenizer) -> list:
    """The tensorflow-text objects (and their lookup tables) behind one of our tokenizers."""
    parts = [getattr(tokenizer, name, None) for name in ("src", "tgt")]  # SentencePiece
    bert = getattr(tokenizer, "bert", None)  # WordPiece: nmt.classification.bert.BertTokenizer
    if bert is not None:
        parts.append(bert.tokenizer)
    return [p for p in parts if isinstance(p, tf.Module)]


def _save(module: tf.Module, out_dir: Path, info: dict, overwrite: bool, source) -> Path:
    """Save through a temporary sibling folder renamed into place, so no half-written export remains."""
    with atomic_directory(out_dir, overwrite, inputs=[source]) as tmp:
        tf.saved_model.save(module, str(tmp), signatures={"serving_default": module.serve})
        extra = tmp / "assets.extra"
        extra.mkdir(exist_ok=True)
        (extra / EXPORT_INFO).write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return Path(out_dir)


def export_translation(model_dir, out_dir, beam_size=None, n_best=None, length_penalty=None, alignments=False,
                       layer="mean", head="mean", overwrite=False) -> dict:
    """Export a translation model directory; returns the export's description (also saved with it)."""
    from nmt.tokenization import BOS_ID, EOS_ID
    from nmt.translator import Translator

    check_output_directory(out_dir, overwrite, inputs=[model_dir])
    translator = Translator.load(model_dir)
    options = translator.options(beam_size, n_best, length_penalty, return_attention=alignments)
    if alignments:
        sizes = (translator.model.attention_layers, translator.model.attention_heads)
        check_layer_head(*sizes, layer, head)
        layer, head = (v if v == "mean" else int(v) % size for v, size in zip((layer, head), sizes))  # -1 -> last
    module = TranslationExport(translator.model, translator.tokenizer, options, BOS_ID, EOS_ID, layer, head,
                               translator.decode_config.max_source_tokens)
    outputs = ["translations", "scores"] + (["nbest_translations", "nbest_scores"] if options.n_best > 1 else [])
    info = {"task": "translation", "source": str(model_dir), "signature": "serving_default",
            "inputs": {"texts": "[B] string"}, "outputs": outputs + (["alignments"] if alignments else []),
            "decode": {k: v for k, v in options.__dict__.items() if k != "return_attention"},
            "alignments": {"layer": layer, "head": head} if alignments else None,
            "config": json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8"))}
    _save(module, out_dir, info, overwrite, model_dir)
    return info


def export_classifier(model_dir, out_dir, overwrite=False) -> dict:
    """Export a classifier directory made by ``nmt classify train``."""
    from nmt.classification import model_dir as classifier_dir

    check_output_directory(out_dir, overwrite, inputs=[model_dir])
    config, tokenizer, classes, model = classifier_dir.load(model_dir)
    module = ClassifierExport(model, tokenizer, classes, config.head.max_length)
    info = {"task": "classification", "source": str(model_dir), "signature": "serving_default",
            "inputs": {"texts": "[B] string"}, "outputs": ["labels", "label_ids", "probabilities"],
            "classes": list(classes), "config": config.to_dict()}
    _save(module, out_dir, info, overwrite, model_dir)
    return info


def export(model_dir, out_dir, **options) -> dict:
    """Export whatever ``model_dir`` holds: a translation model or a classifier."""
    from nmt.classification.model_dir import is_classifier_dir

    if is_classifier_dir(model_dir):
        unsupported = sorted(k for k, v in options.items() if k != "overwrite" and v not in (None, False, "mean"))
        if unsupported:
            raise UserError(f"{model_dir} is a classifier; {', '.join(unsupported)} apply to translation models only")
        return export_classifier(model_dir, out_dir, overwrite=options.get("overwrite", False))
    return export_translation(model_dir, out_dir, **options)
