"""Raw strings in, hypotheses out: tokenization, length-sorted batching, decoding, detokenization.

    translator = Translator.load("nmt-demo")
    hyps = translator.translate(["the man sees the dog ."], beam_size=4, return_attention=True)
    hyps[0].text, hyps[0].score, hyps[0].attention.shape   # [L,H,T,S]
"""

from __future__ import annotations

import collections
import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
import tensorflow as tf

from nmt import model_dir
from nmt.alignment import WordMap, given_words
from nmt.config import DecodeConfig
from nmt.decoding import DecodeOptions, make_decode_fn
from nmt.errors import UserError
from nmt.pipeline import length_sorted_batches
from nmt.tokenization import BOS_ID, EOS_ID

log = logging.getLogger("nmt.translate")
DECODE_SCORES = 1 << 25  # floats in one decoding step's [sentences x beam, vocabulary] scores (128 MiB)


def cut_sources(src: tf.RaggedTensor, limit: int, eos_id: int = EOS_ID) -> tf.RaggedTensor:
    """Source ids [N,(S)] ending with ``</s>`` -> at most ``limit`` pieces each, ``</s>`` kept last.

    A 10,000-word line would otherwise decode for minutes (its length bound grows with it). Shared by
    the Translator, the exported graph and the CTranslate2 helper, so all three cut alike."""
    body = src[:, :-1][:, : max(2, limit) - 1]  # [N,(S)] without </s>, at most limit-1 pieces
    eos = tf.fill(tf.stack([body.nrows(), 1]), tf.constant(eos_id, src.dtype))  # [N,1]
    return tf.concat([body, tf.RaggedTensor.from_tensor(eos).with_row_splits_dtype(body.row_splits.dtype)], axis=1)


def decode_streams() -> int:
    """Batches to decode at once by default: the inter-op threads when each op runs on one thread (set
    by :func:`nmt.steps.set_threads` before TensorFlow starts), else 1: two searches on one core each
    keep both cores busier than one search whose small ops are split across both."""
    threading = tf.config.threading
    intra = threading.get_intra_op_parallelism_threads() or int(os.environ.get("TF_NUM_INTRAOP_THREADS", 0))
    inter = threading.get_inter_op_parallelism_threads() or int(os.environ.get("TF_NUM_INTEROP_THREADS", 0))
    return max(1, inter) if intra == 1 else 1


def in_order(fn, items: Sequence, streams: int):
    """``fn`` of each item, yielded in order; with ``streams`` > 1, up to that many calls run at once in
    worker threads, and at most twice that many are started ahead of the one yielded, so an error or an
    interrupt leaves little running (what has not started is cancelled)."""
    if streams <= 1 or len(items) <= 1:
        yield from map(fn, items)
        return
    pool = ThreadPoolExecutor(min(streams, len(items)), thread_name_prefix="nmt-decode")
    ahead: collections.deque = collections.deque()
    try:
        for item in items:
            ahead.append(pool.submit(fn, item))
            if len(ahead) >= 2 * streams:
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class Hypothesis:
    """One translation: detokenized ``text``, target ``tokens`` (pieces, EOS excluded), ``score``
    (length-normalised log-probability), source ``source_tokens`` (pieces, EOS included), and
    ``attention`` [L,H,T,S] over those tokens when requested (None otherwise). With attention,
    ``source_words`` maps the source pieces to the source's whitespace tokens (``text.split()``, by
    byte offsets), and after forced alignment of a given sentence ``target_words`` does the same for
    the target (None: words from the pieces' ``▁`` marks); see :mod:`nmt.alignment`."""

    text: str
    tokens: list[str]
    score: float
    source_tokens: list[str]
    attention: np.ndarray | None = None
    source_words: WordMap | None = None
    target_words: WordMap | None = None


class Translator:
    """Translate with any model that implements the contract of :mod:`nmt.models.base`."""

    def __init__(self, model, tokenizer, decode: DecodeConfig | None = None):
        self.model, self.tokenizer = model, tokenizer
        self.decode_config = decode or DecodeConfig()
        self._fns: dict = {}
        self._forward = None
        self._full_context = None

    @classmethod
    def load(cls, path, **decode_overrides) -> Translator:
        config, tokenizer, model = model_dir.load(path)
        decode = replace(config.decode, **{k: v for k, v in decode_overrides.items() if v is not None})
        return cls(model, tokenizer, decode)

    def _fn(self, options: DecodeOptions):
        if options not in self._fns:
            self._fns[options] = make_decode_fn(self.model, options, BOS_ID, EOS_ID)
        return self._fns[options]

    def settings(self, **overrides) -> DecodeConfig:
        """The model's decoding configuration with explicit values (None = keep) set, every field
        checked (:mod:`nmt.checks`). A beam wider than the vocabulary is allowed (its extra rows start at
        -inf and fill from the second step); its memory is bounded by :meth:`_batch_limit`."""
        return replace(self.decode_config, **{k: v for k, v in overrides.items() if v is not None})

    def options(self, beam_size=None, n_best=None, length_penalty=None, return_attention=False) -> DecodeOptions:
        d = self.settings(beam_size=beam_size, n_best=n_best, length_penalty=length_penalty)
        return DecodeOptions(beam_size=d.beam_size, length_penalty=d.length_penalty, n_best=d.n_best,
                             max_length_a=d.max_length_a, max_length_b=d.max_length_b,
                             return_attention=return_attention)

    def translate(self, sentences: Sequence[str], beam_size: int | None = None, n_best: int | None = None,
                  length_penalty: float | None = None, batch_size: int | None = None,
                  return_attention: bool = False, progress=None, streams: int | None = None):
        """Translate ``sentences``; returns one Hypothesis per sentence, or a list of ``n_best`` when n_best > 1.

        ``streams``: batches decoded at once, each from its own Python thread (the search's graph runs
        outside the interpreter lock). None: :func:`decode_streams`, one per inter-op thread when
        TensorFlow runs each op on one thread (``nmt translate --parallel-batches``), else one. The
        batches and therefore the translations are the same either way."""
        options = self.options(beam_size, n_best, length_penalty, return_attention)
        batch_size = self._batch_limit(self.settings(batch_size=batch_size).batch_size, options.beam_size)
        sentences = [" ".join(s.split()) for s in sentences]
        if not sentences:
            return []
        fn = self._fn(options)
        if return_attention:  # the source's words, to merge its pieces' attention into
            src, words = self._encode_words("src", sentences)  # [N,(S)]
        else:
            src, words = self.tokenizer.encode_source(tf.constant(sentences)), None  # [N,(S)]
        src = self._cut(src)  # [N,(S)]
        lengths = src.row_lengths().numpy()
        results: list = [None] * len(sentences)
        batches = length_sorted_batches(lengths, batch_size)
        streams = decode_streams() if streams is None else max(1, streams)
        # [B,S] each; with streams > 1, the next batches decode while this one's results are collected
        outs = in_order(lambda idx: fn(tf.gather(src, idx).to_tensor(0)), batches, streams)
        for idx, out in zip(batches, outs):
            self._collect(out, src, idx, options, results, words)
            if progress is not None:
                progress.update(len(idx))
        return results if options.n_best > 1 else [r[0] for r in results]

    def _batch_limit(self, batch_size: int, beam_size: int) -> int:
        """Sentences per batch such that one step's scores, [sentences x beam, vocabulary], stay under
        ``DECODE_SCORES`` floats: a wide beam decodes in smaller batches instead of exhausting memory."""
        limit = max(1, DECODE_SCORES // (beam_size * self.tokenizer.tgt_vocab_size))
        if batch_size > limit:
            log.info("beam %d over %d target pieces: decoding %d sentences per batch instead of %d",
                     beam_size, self.tokenizer.tgt_vocab_size, limit, batch_size)
        return min(batch_size, limit)

    def _cut(self, src: tf.RaggedTensor) -> tf.RaggedTensor:
        """:func:`cut_sources` to ``decode.max_source_tokens``, with a warning when it cuts anything."""
        limit = max(2, self.decode_config.max_source_tokens)
        long = int(tf.reduce_sum(tf.cast(src.row_lengths() > limit, tf.int32)))
        if not long:
            return src
        log.warning("%d source sentence(s) longer than %d pieces were cut to %d (decode.max_source_tokens)",
                    long, limit, limit)
        return cut_sources(src, limit)

    def _encode_words(self, side: str, sentences: list[str]) -> tuple[tf.RaggedTensor, list[WordMap]]:
        """Ids [N,(S)] of whitespace-normalised ``sentences`` and each one's :class:`WordMap`: its
        ``split()`` tokens, and the token each piece comes from (by byte offsets; ``</s>`` -1)."""
        ids, starts, ends = self.tokenizer.encode_with_offsets(side, tf.constant(sentences))  # [N,(S)] each
        maps = [given_words(text, s, e, [i == EOS_ID for i in row])
                for text, s, e, row in zip(sentences, starts.to_list(), ends.to_list(), ids.to_list())]
        return ids, maps

    def _collect(self, out, src, idx, options, results, words=None):
        ids, lengths, scores = out.ids.numpy(), out.lengths.numpy(), out.scores.numpy()  # [B,N,T] [B,N] [B,N]
        b, n, t = ids.shape
        ragged = tf.RaggedTensor.from_tensor(ids.reshape(b * n, t), lengths=lengths.reshape(-1))  # [B*N,(T)]
        texts = self.tokenizer.decode_target(ragged).numpy()
        pieces = self.tokenizer.target_pieces(ragged).to_list()
        src_pieces = self.tokenizer.source_pieces(tf.gather(src, idx)).to_list()
        attention = out.attention.numpy() if options.return_attention else None  # [B,N,T,L,H,S]
        for i, sent in enumerate(idx):
            hyps = []
            for j in range(n):
                k = i * n + j
                att = None
                if attention is not None:
                    s_len, t_len = len(src_pieces[i]), int(lengths[i, j])
                    att = np.transpose(attention[i, j, :t_len, :, :, :s_len], (1, 2, 0, 3))  # [L,H,T,S]
                hyps.append(Hypothesis(texts[k].decode("utf-8"), [p.decode("utf-8") for p in pieces[k]],
                                       float(scores[i, j]), [p.decode("utf-8") for p in src_pieces[i]], att,
                                       words[sent].cut(len(src_pieces[i])) if words else None))
            results[sent] = hyps

    def _both_passes(self, src_ids, tgt_in_ids):
        """The causal pass's logits and the full-context pass's attention over one encoding of the batch."""
        encoded = self.model.encode(src_ids, training=False)
        logits, _ = self.model.forward(src_ids, tgt_in_ids, training=False, encoded=encoded)  # [B,T,V]
        return logits, self.model.forward_full_context(src_ids, tgt_in_ids, training=False, encoded=encoded)

    def align(self, sources: Sequence[str], targets: Sequence, batch_size: int | None = None, progress=None,
              shift: bool = False, full_context: bool = False) -> list[Hypothesis]:
        """Forced alignment: the model reads each given target (teacher forcing) instead of choosing one.

        A target is a sentence, or a list of SentencePiece pieces (e.g. a Hypothesis' ``tokens``),
        which is used as it is segmented. The words of a given sentence are its ``split()`` tokens,
        whatever the tokenizer does to them (``source_words``, ``target_words``: see :class:`Hypothesis`).
        Returns one :class:`Hypothesis` per pair with the given target's ``text`` and ``tokens``, its
        ``score`` (mean log-probability per target token, ``</s>`` included) and ``attention`` [L,H,T,S]
        (T = target pieces, no ``</s>`` row; S = source pieces with ``</s>``).

        Which decoder step gives target piece t its row: by default the step that *predicts* t (its
        input is the piece before t, or ``<s>``); with ``shift`` (Shift-Att, Chen et al. 2020) the step
        that *reads* t as its input, one later, which has seen the word it is aligning (the decoder
        computes T+1 steps here: the last one reads the last piece and predicts ``</s>``).
        ``full_context``: the attention comes from a second pass in which every step sees the whole target
        (``forward_full_context``: models trained with ``--guided-full-context``); the score stays the
        left-to-right one.
        """
        if len(sources) != len(targets):
            raise UserError(f"{len(sources)} source sentences but {len(targets)} target sentences; "
                            "give one target per source")
        batch_size = self.settings(batch_size=batch_size).batch_size
        sources = [" ".join(s.split()) for s in sources]
        if not sources:
            return []
        tgt_words = None
        if all(isinstance(t, str) for t in targets):
            targets = [" ".join(t.split()) for t in targets]
            tgt, tgt_words = self._encode_words("tgt", targets)  # [N,(T)]
        else:  # given as pieces: keep the segmentation (a detokenised hypothesis may re-segment)
            tgt = self.tokenizer.target_piece_ids(tf.ragged.constant([list(t) for t in targets], dtype=tf.string))
            tgt = tf.cast(tgt, tf.int32)  # [N,(T)]
            targets = ["".join(t).replace("\u2581", " ").strip() for t in targets]
        spec = tf.TensorSpec([None, None], tf.int32)
        if self._forward is None:
            self._forward = tf.function(lambda s, t: self.model.forward(s, t, training=False),
                                        input_signature=[spec, spec], autograph=False)
        if full_context and self._full_context is None:
            self.model.forward_full_context(tf.constant([[EOS_ID]]), tf.constant([[BOS_ID]]))  # a family without it
            self._full_context = tf.function(self._both_passes, input_signature=[spec, spec], autograph=False)
        src, src_words = self._encode_words("src", sources)  # [N,(S)]
        results: list = [None] * len(sources)
        first = 1 if shift else 0  # row of target piece 0: the step predicting it, or the step reading it
        for idx in length_sorted_batches(src.row_lengths().numpy() + tgt.row_lengths().numpy(), batch_size):
            s_batch, t_batch = tf.gather(src, idx), tf.gather(tgt, idx)
            bos = tf.RaggedTensor.from_tensor(tf.fill([len(idx), 1], BOS_ID))  # [B,1]
            eos = tf.RaggedTensor.from_tensor(tf.fill([len(idx), 1], EOS_ID))  # [B,1]
            s_in, t_in = s_batch.to_tensor(0), tf.concat([bos, t_batch], 1).to_tensor(0)  # [B,S], [B,T+1]
            # [B,T+1,V], [B,L,H,T+1,S]: the full-context pass's attention beside the causal pass's scores
            logits, attention = (self._full_context if full_context else self._forward)(s_in, t_in)
            gold = tf.concat([t_batch, eos], 1).to_tensor(0)  # [B,T+1]
            logp = tf.gather(tf.nn.log_softmax(tf.cast(logits, tf.float32)), gold, batch_dims=2).numpy()  # [B,T+1]
            attention = attention.numpy()
            src_pieces = self.tokenizer.source_pieces(s_batch).to_list()
            tgt_pieces = self.tokenizer.target_pieces(t_batch).to_list()
            for i, sent in enumerate(idx):
                s_len, t_len = len(src_pieces[i]), len(tgt_pieces[i])
                results[sent] = Hypothesis(targets[sent], [p.decode("utf-8") for p in tgt_pieces[i]],
                                           float(logp[i, :t_len + 1].mean()),
                                           [p.decode("utf-8") for p in src_pieces[i]],
                                           # [L,H,T,S]
                                           np.asarray(attention[i, :, :, first:first + t_len, :s_len],
                                                      dtype=np.float32),
                                           src_words[sent], tgt_words[sent] if tgt_words else None)
            if progress is not None:
                progress.update(len(idx))
        return results
