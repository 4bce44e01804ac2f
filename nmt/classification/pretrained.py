"""The pretrained path: a Hugging Face BERT-family encoder (MiniLM-L6 by default) under a classifier.

:class:`WordPieceTokenizer` gives the classification code the same small interface as the project's
SentencePiece :class:`~nmt.tokenization.Tokenizer` (``encode_source``, ``source_pieces``,
``src_vocab_size``, ``save``), so training, prediction and evaluation do not ask which one they
have. ``encode_source`` returns ``[CLS] ... [SEP]`` ids as HF's BertTokenizer makes them.

A classifier directory made from a pretrained encoder stores its ``vocab.txt`` and tokenizer options
and the architecture in ``config.json`` (``head.bert``), and all weights in ``model.weights.h5``: it
loads without the pretrained package.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import tensorflow as tf

from nmt.errors import UserError

VOCAB, OPTIONS = "vocab.txt", "wordpiece.json"


class WordPieceTokenizer:
    """A BERT WordPiece vocabulary behind the classification tokenizer interface."""

    def __init__(self, vocab_path, lower_case: bool = True, strip_accents: bool | None = None, max_length: int = 512):
        from nmt.classification.bert import BertTokenizer

        self.vocab_path = Path(vocab_path)
        self.options = {"lower_case": lower_case, "strip_accents": strip_accents}
        self.bert = BertTokenizer(vocab_path, lower_case=lower_case, strip_accents=strip_accents, max_length=max_length)
        self.src_vocab_size = self.bert.vocab_size
        self.tokens = tf.constant(self.vocab_path.read_text(encoding="utf-8").split("\n")[: self.src_vocab_size])  # [V]

    @classmethod
    def from_pretrained(cls, model_dir) -> WordPieceTokenizer:
        """From a HF model folder (``vocab.txt``, optional ``tokenizer_config.json``)."""
        model_dir = Path(model_dir)
        config_path = model_dir / "tokenizer_config.json"
        options = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
        return cls(model_dir / VOCAB, options.get("do_lower_case", True), options.get("strip_accents"))

    def encode_source(self, strings) -> tf.RaggedTensor:
        ids, mask = self.bert(strings)  # [N,S] both
        return tf.RaggedTensor.from_tensor(ids, lengths=tf.reduce_sum(mask, axis=1))  # [N,(S)]

    def source_pieces(self, ids):
        return tf.ragged.map_flat_values(lambda flat: tf.gather(self.tokens, flat), ids)  # [N,(S)] strings

    def save(self, directory) -> list[Path]:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.vocab_path, directory / VOCAB)
        (directory / OPTIONS).write_text(json.dumps(self.options) + "\n", encoding="utf-8")
        return [directory / VOCAB, directory / OPTIONS]

    @classmethod
    def load(cls, directory) -> WordPieceTokenizer:
        directory = Path(directory)
        try:
            options = json.loads((directory / OPTIONS).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise UserError(f"{directory / OPTIONS} is missing or not JSON; retrain the classifier") from None
        return cls(directory / VOCAB, bool(options.get("lower_case", True)), options.get("strip_accents"))


def load_tokenizer(directory):
    """The tokenizer a classifier directory holds: WordPiece (``vocab.txt``) or SentencePiece."""
    from nmt.tokenization import Tokenizer

    directory = Path(directory)
    return WordPieceTokenizer.load(directory) if (directory / VOCAB).is_file() else Tokenizer.load(directory)


def pretrained_parts(model_dir=None):
    """(BERT architecture as a dict for ``head.bert``, tokenizer, weights path) of a HF model folder
    (default: the installed MiniLM-L6 package)."""
    from nmt.classification.bert import BertConfig, find_minilm

    model_dir = Path(model_dir) if model_dir else find_minilm()
    if not (model_dir / "config.json").is_file() or not (model_dir / "model.safetensors").is_file():
        raise UserError(f"{model_dir} is not a Hugging Face BERT folder (config.json and model.safetensors)")
    architecture = dataclasses.asdict(BertConfig.from_json(model_dir / "config.json"))
    return architecture, WordPieceTokenizer.from_pretrained(model_dir), model_dir / "model.safetensors"
