"""Convert a trained Transformer model directory to CTranslate2 (``nmt export --format ctranslate2``).

CTranslate2 is a C++ inference engine for Transformer models (OpenNMT's); its ``TransformerSpec``
names every weight of a standard encoder-decoder, and this module fills it from the Keras weights:

==========================================  ==================================================
nmt (Keras)                                 CTranslate2 spec
==========================================  ==================================================
shared / source / target embedding [V,D]    ``encoder.embeddings[0]``, ``decoder.embeddings``
sqrt(D) embedding scale                     ``scale_embeddings = True``
sinusoidal positions ``[sin | cos]``        ``position_encodings.encodings`` (the same table)
``qkv`` Dense [D,3D] (q, k, v; heads        ``self_attention.linear[0]`` [3D,D] (transposed:
contiguous)                                 CTranslate2 stores ``out x in``), ``linear[1]`` output
``query`` [D,D], ``kv`` [D,2D]              ``attention.linear[0]``, ``attention.linear[1]``
``norm_*`` (pre-norm)                       the sublayer's ``layer_norm``; final ``layer_norm``
``ff_in`` / ``ff_out``                      ``ffn.linear_0`` / ``ffn.linear_1``
tied output projection + ``output_bias``    ``decoder.projection`` (target embedding, bias)
==========================================  ==================================================

The vocabulary is the SentencePiece model's pieces in id order (``<pad> <unk> <s> </s>`` first), and
the source must end with ``</s>`` as nmt's encoder input does (``add_source_eos``). Only the
Transformer family with sinusoidal or learned positions converts; an LSTM has no CTranslate2 spec
here. ``tests/integration/test_ctranslate2.py`` checks that greedy translations are identical (except
an empty source: CTranslate2 returns an empty translation without running the model, where nmt
translates the lone ``</s>``).
"""

from __future__ import annotations

import numpy as np

from nmt.errors import UserError

INSTALL = "pip install ctranslate2 (or pip install 'nmt[ctranslate2]')"
QUANTIZATIONS = ("int8", "int8_float32", "int16", "float16", "bfloat16", "float32")


def _ctranslate2():
    try:
        import ctranslate2
    except ImportError:
        raise UserError(f"CTranslate2 is not installed: {INSTALL}") from None
    return ctranslate2


def _linear(spec, dense, bias=True):
    spec.weight = np.ascontiguousarray(dense.kernel.numpy().T)  # [out,in]
    if bias:
        spec.bias = dense.bias.numpy()


def _norm(spec, norm):
    spec.gamma, spec.beta = norm.gamma.numpy(), norm.beta.numpy()


def build_spec(config, tokenizer, model):
    """A ``ctranslate2.specs.TransformerSpec`` holding ``model``'s weights."""
    _ctranslate2()
    from ctranslate2.specs import transformer_spec

    m = config.model
    if m.family != "transformer":
        raise UserError(f"only Transformer models convert to CTranslate2; this one is {m.family!r}")
    spec = transformer_spec.TransformerSpec.from_config(m.layers, m.transformer_heads, pre_norm=m.pre_norm)
    spec.config.layer_norm_epsilon = 1e-6  # nmt.layers.transformer.LAYER_NORM_EPSILON
    spec.config.add_source_eos = True
    rows = max(m.max_positions, 1024)
    if m.positions == "sinusoidal":
        from nmt.layers.transformer import sinusoidal_encoding

        table = sinusoidal_encoding(np.arange(rows), m.d_model).numpy()  # [P,D]
    else:
        table = model.position_encoding.table.embeddings.numpy()  # [P,D]
    target = model.tgt_embedding.embeddings.numpy()  # [V,D]
    source = (model.src_embedding or model.tgt_embedding).embeddings.numpy()
    for side, embeddings in ((spec.encoder, source), (spec.decoder, target)):
        (side.embeddings[0] if isinstance(side.embeddings, list) else side.embeddings).weight = embeddings
        side.scale_embeddings = True
        side.position_encodings.encodings = table
        if m.pre_norm:
            _norm(side.layer_norm, model.encoder_norm if side is spec.encoder else model.decoder_norm)
    for layer_spec, layer in zip(spec.encoder.layer, model.encoder_stack):
        _linear(layer_spec.self_attention.linear[0], layer.self_attention.qkv)
        _linear(layer_spec.self_attention.linear[1], layer.self_attention.output_projection)
        _norm(layer_spec.self_attention.layer_norm, layer.norm_attention)
        _feed_forward(layer_spec.ffn, layer, layer.norm_ff)
    for layer_spec, layer in zip(spec.decoder.layer, model.decoder_stack):
        _linear(layer_spec.self_attention.linear[0], layer.self_attention.qkv)
        _linear(layer_spec.self_attention.linear[1], layer.self_attention.output_projection)
        _norm(layer_spec.self_attention.layer_norm, layer.norm_self)
        _linear(layer_spec.attention.linear[0], layer.cross_attention.query)
        _linear(layer_spec.attention.linear[1], layer.cross_attention.kv)
        _linear(layer_spec.attention.linear[2], layer.cross_attention.output_projection)
        _norm(layer_spec.attention.layer_norm, layer.norm_cross)
        _feed_forward(layer_spec.ffn, layer, layer.norm_ff)
    spec.decoder.projection.weight = target
    spec.decoder.projection.bias = model.output_bias.numpy()
    spec.register_source_vocabulary(tokenizer.vocabulary("src"))
    spec.register_target_vocabulary(tokenizer.vocabulary("tgt"))
    return spec


def _feed_forward(spec, layer, norm):
    _linear(spec.linear_0, layer.ff_in)
    _linear(spec.linear_1, layer.ff_out)
    _norm(spec.layer_norm, norm)


def convert(model_dir, out_dir, quantization: str | None = None, overwrite: bool = False) -> dict:
    """Write ``model_dir``'s Transformer as a CTranslate2 model directory ``out_dir``."""
    from nmt import model_dir as md
    from nmt.io import atomic_directory, check_output_directory

    ct2 = _ctranslate2()
    if quantization is not None and quantization not in QUANTIZATIONS:
        raise UserError(f"unknown quantization {quantization!r}; choose one of: {', '.join(QUANTIZATIONS)}")
    check_output_directory(out_dir, overwrite, inputs=[model_dir])
    config, tokenizer, model = md.load(model_dir)
    spec = build_spec(config, tokenizer, model)

    class _Converter(ct2.converters.Converter):
        def _load(self):
            return spec

    with atomic_directory(out_dir, overwrite, inputs=[model_dir]) as tmp:
        _Converter().convert(str(tmp), quantization=quantization, force=True)
        tokenizer.save(tmp)  # the SentencePiece model(s), to segment and detokenize around CTranslate2
    return {"task": "translation", "format": "ctranslate2", "source": str(model_dir),
            "quantization": quantization or "float32", "outputs": ["tokens"]}


class CTranslate2Translator:
    """Raw strings in, strings out through a converted model (for tests and benchmarks)."""

    def __init__(self, path, device: str = "cpu", intra_threads: int = 0, compute_type: str = "default",
                 max_source_tokens: int = 1024, inter_threads: int = 1):
        ct2 = _ctranslate2()
        from nmt.tokenization import Tokenizer

        self.tokenizer, self.max_source_tokens = Tokenizer.load(path), max_source_tokens
        # inter_threads: batches translated at once (CTranslate2 splits a call into batches of
        # max_batch_size and gives them to that many workers, each with intra_threads threads)
        self.translator = ct2.Translator(str(path), device=device, intra_threads=intra_threads,
                                         inter_threads=inter_threads, compute_type=compute_type)

    def translate(self, sentences, beam_size: int = 4, length_penalty: float = 0.0, max_length_a: float = 2.0,
                  max_length_b: int = 10, batch_size: int = 64, per_sentence_limit: bool = False) -> list[str]:
        """Translate raw ``sentences``. CTranslate2 takes one ``max_decoding_length`` per call, so the
        batch's longest bound applies to all; ``per_sentence_limit`` calls once per distinct bound, so
        that every sentence gets nmt's own ``ceil(a * (S + 1) + b)`` (S + 1: the source with ``</s>``)."""
        import tensorflow as tf

        sentences = [" ".join(s.split()) for s in sentences]
        from nmt.translator import cut_sources

        ids = cut_sources(self.tokenizer.encode_source(tf.constant(sentences)), self.max_source_tokens)  # [N,(S)]
        # the source's own SentencePiece model; CTranslate2 appends </s> itself (add_source_eos)
        pieces = [[p.decode("utf-8") for p in row] for row in self.tokenizer.source_pieces(ids[:, :-1]).to_list()]
        limits = [int(np.ceil(max_length_a * (len(p) + 1) + max_length_b)) for p in pieces]
        groups = {}
        for i, limit in enumerate(limits):
            groups.setdefault(limit if per_sentence_limit else max(limits), []).append(i)
        out: list = [None] * len(pieces)
        for limit, idx in groups.items():
            results = self.translator.translate_batch([pieces[i] for i in idx], beam_size=beam_size,
                                                      length_penalty=length_penalty, max_decoding_length=limit,
                                                      max_batch_size=batch_size)
            for i, r in zip(idx, results):
                out[i] = r.hypotheses[0]
        ragged = (tf.ragged.constant(out, dtype=tf.string, ragged_rank=1) if out
                  else tf.ragged.constant([[]], tf.string)[:0])
        texts = self.tokenizer.decode_target(tf.cast(self.tokenizer.target_piece_ids(ragged), tf.int32))
        return [t.decode("utf-8") for t in texts.numpy()]
