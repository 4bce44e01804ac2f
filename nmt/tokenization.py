"""SentencePiece tokenization shared by every model and task.

Models are trained with the ``sentencepiece`` library and applied in-graph with
``tensorflow_text.SentencepieceTokenizer``, so tf.data pipelines and exported models take raw
strings. Ids: 0 padding, 1 unknown, 2 beginning of sentence, 3 end of sentence.

A joint tokenizer (one model for both languages, the default) stores ``spm.model``; separate
vocabularies store ``src.spm.model`` and ``tgt.spm.model``.
"""

from __future__ import annotations

import io
import logging
import random
from collections.abc import Iterable, Sequence
from pathlib import Path

import tensorflow as tf

from nmt.errors import UserError
from nmt.io import atomic_open

PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3
log = logging.getLogger("nmt.tokenization")


def train_sentencepiece(texts: Sequence[str], vocab_size: int, model_type: str = "unigram",
                        character_coverage: float = 1.0, seed: int = 1234, max_sentences: int = 300_000) -> bytes:
    """Train a SentencePiece model on ``texts`` and return its serialized bytes."""
    import sentencepiece as spm

    if model_type not in ("unigram", "bpe"):
        raise UserError(f"unknown tokenizer type {model_type!r}; choose unigram or bpe")
    if vocab_size < 8:
        raise UserError(f"vocabulary size must be at least 8, got {vocab_size}")
    texts = [t for t in texts if t.strip()]
    if not texts:
        raise UserError("cannot train a tokenizer on an empty corpus")
    if len(texts) > max_sentences:
        texts = random.Random(seed).sample(texts, max_sentences)
    spm.set_random_generator_seed(seed)
    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts), model_writer=buffer, vocab_size=vocab_size, model_type=model_type,
        character_coverage=character_coverage, pad_id=PAD_ID, unk_id=UNK_ID, bos_id=BOS_ID, eos_id=EOS_ID,
        hard_vocab_limit=False, minloglevel=2, num_threads=2,
        max_sentence_length=100_000,
    )
    return buffer.getvalue()


class Tokenizer:
    """Source and target SentencePiece models (the same object when joint), in-graph.

    ``encode_source(strings [N]) -> RaggedTensor [N,(S)]`` ends every sentence with EOS;
    ``encode_target`` returns pieces without BOS/EOS (the pipeline adds them);
    ``decode_target(ids [N,T]) -> strings [N]`` stops nowhere: pass ids without EOS/padding.
    """

    def __init__(self, src_model: bytes, tgt_model: bytes | None = None):
        self.joint = tgt_model is None
        self.src_model = src_model
        self.tgt_model = src_model if tgt_model is None else tgt_model
        self._build()
        self.src_vocab_size = int(self.src.vocab_size())
        self.tgt_vocab_size = int(self.tgt.vocab_size())

    def _build(self):
        import tensorflow_text as tftext

        self.src = tftext.SentencepieceTokenizer(model=self.src_model, out_type=tf.int32, add_eos=True)
        self.tgt = tftext.SentencepieceTokenizer(model=self.tgt_model, out_type=tf.int32)

    def _run(self, side: str, method: str, arg):
        """Call a tensorflow-text op; eager ``tf.random.set_seed`` drops the ops' resources, so rebuild once."""
        try:
            return getattr(getattr(self, side), method)(arg)
        except tf.errors.NotFoundError:
            self._build()
            return getattr(getattr(self, side), method)(arg)

    @classmethod
    def train(cls, pairs: Iterable[tuple[str, str]], vocab_size: int = 8000, model_type: str = "unigram",
              joint: bool = True, character_coverage: float = 1.0, seed: int = 1234) -> Tokenizer:
        pairs = list(pairs)
        src = [s for s, _ in pairs]
        tgt = [t for _, t in pairs]
        kw = dict(vocab_size=vocab_size, model_type=model_type, character_coverage=character_coverage, seed=seed)
        if joint:
            return cls(train_sentencepiece(src + tgt, **kw))
        return cls(train_sentencepiece(src, **kw), train_sentencepiece(tgt, **kw))

    @classmethod
    def from_config(cls, pairs, config) -> Tokenizer:
        """Train from a :class:`nmt.config.TokenizerConfig`."""
        return cls.train(pairs, config.vocab_size, config.model_type, config.joint, config.character_coverage)

    # ----- files ------------------------------------------------------------------------------
    def save(self, directory: str | Path) -> list[Path]:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if self.joint:
            files = {"spm.model": self.src_model}
        else:
            files = {"src.spm.model": self.src_model, "tgt.spm.model": self.tgt_model}
        written = []
        for name, data in files.items():
            with atomic_open(directory / name, "wb") as f:  # never half a model after a kill
                f.write(data)
            written.append(directory / name)
        return written

    @classmethod
    def load(cls, directory: str | Path) -> Tokenizer:
        directory = Path(directory)
        if (directory / "spm.model").is_file():
            return cls(_model_bytes(directory / "spm.model"))
        if (directory / "src.spm.model").is_file() and (directory / "tgt.spm.model").is_file():
            return cls(_model_bytes(directory / "src.spm.model"), _model_bytes(directory / "tgt.spm.model"))
        raise UserError(f"{directory} holds no tokenizer (spm.model or src/tgt.spm.model); "
                        "is it a model directory made by 'nmt train'?")

    # ----- in-graph ---------------------------------------------------------------------------
    def encode_source(self, strings) -> tf.RaggedTensor:
        return self._run("src", "tokenize", strings)  # [N,(S)] ending with EOS

    def encode_target(self, strings) -> tf.RaggedTensor:
        return self._run("tgt", "tokenize", strings)  # [N,(T)]

    def encode_with_offsets(self, side: str, strings) -> tuple[tf.RaggedTensor, tf.RaggedTensor, tf.RaggedTensor]:
        """``encode_source`` (side ``src``) or ``encode_target`` (``tgt``), with where each piece comes
        from: ids, start and end [N,(S)] each, as UTF-8 byte offsets into the given strings (``</s>``:
        0, 0). The same tokenizer object and settings, so the same ids as without offsets (tested)."""
        return self._run(side, "tokenize_with_offsets", strings)  # [N,(S)] each

    def decode_target(self, ids) -> tf.Tensor:
        return self._run("tgt", "detokenize", ids)  # [N] strings

    def target_pieces(self, ids) -> tf.Tensor:
        return self._run("tgt", "id_to_string", ids)

    def target_piece_ids(self, pieces) -> tf.Tensor:
        """Target pieces (strings, e.g. a Hypothesis' tokens) -> their ids, without re-segmenting."""
        return self._run("tgt", "string_to_id", pieces)

    def source_pieces(self, ids) -> tf.Tensor:
        return self._run("src", "id_to_string", ids)

    def vocabulary(self, side: str = "src") -> list[str]:
        """Every piece of the ``src`` or ``tgt`` model, in id order (``<pad> <unk> <s> </s>`` first)."""
        size = self.src_vocab_size if side == "src" else self.tgt_vocab_size
        return [p.decode("utf-8") for p in self._run(side, "id_to_string", tf.range(size)).numpy()]


def _model_bytes(path: Path) -> bytes:
    """The bytes of a SentencePiece model file, checked by SentencePiece itself: a damaged file or
    another file under the name is a one-line UserError, not an error inside a TensorFlow op."""
    import sentencepiece as spm

    data = path.read_bytes()
    try:
        spm.SentencePieceProcessor(model_proto=data)
    except Exception:  # noqa: BLE001 - RuntimeError or OSError, by version: either way not a model
        raise UserError(f"{path} is not a SentencePiece model (damaged, or another file under its name); "
                        "restore the model directory from a copy") from None
    return data
