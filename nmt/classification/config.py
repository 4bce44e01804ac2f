"""Configuration of text classifiers: the encoder (a translation family's, or the lesson's), the head,
the tokenizer and training; presets, JSON round trip.

The ``model`` section is :class:`nmt.config.ModelConfig`, so a classifier's encoder is configured
exactly as a translation model's (and may be one: ``nmt classify train --init-from MODEL_DIR``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nmt.config import ModelConfig, TokenizerConfig, _build, override_section, read_mapping
from nmt.errors import UserError


@dataclass(frozen=True)
class HeadConfig:
    encoder: str = "seq2seq"  # registry name: seq2seq (the encoder of model.family) | lesson | bert
    pooling: str = "mean"  # mean (over real tokens) | attention (learned weights over tokens)
    dropout: float = 0.1
    hidden: int = 0  # units of a ReLU layer before the output layer; 0 = none
    max_length: int = 256  # tokens per text; longer texts are truncated
    mask_padding: bool = True  # lesson only: False = the lesson's model (pad to max_length, attend to and average padding)
    bert: dict | None = None  # encoder "bert": the pretrained architecture (config.json fields), set by training


@dataclass(frozen=True)
class ClassifyTrainConfig:
    batch_size: int = 64
    epochs: float = 5.0
    learning_rate: float = 1e-3
    optimizer: str = "adam"  # adam | adamw
    weight_decay: float = 0.01  # adamw only
    schedule: str = "constant"  # constant | linear (warmup, then linear decay to 0 at the last step)
    warmup_steps: int = 0
    clip_norm: float = 1.0  # 0 = no clipping
    label_smoothing: float = 0.0
    head_epochs: float = 0.0  # first train only the pooling and output layers (encoder frozen) this long
    head_learning_rate: float = 1e-3  # Adam, constant, for those head-only epochs
    valid_fraction: float = 0.1  # held out of the training data when no validation file is given
    time_budget: float = 0.0  # seconds of training, 0 = no limit
    seed: int = 1234


_SECTIONS = {"model": ModelConfig, "tokenizer": TokenizerConfig, "head": HeadConfig, "train": ClassifyTrainConfig}


@dataclass(frozen=True)
class ClassifyConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    head: HeadConfig = field(default_factory=HeadConfig)
    train: ClassifyTrainConfig = field(default_factory=ClassifyTrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return {"task": "classification", **dataclasses.asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ClassifyConfig":
        data = {k: v for k, v in data.items() if k != "task"}
        unknown = set(data) - set(_SECTIONS)
        if unknown:
            raise UserError(f"unknown classifier config section(s) {sorted(unknown)}; valid: {', '.join(_SECTIONS)}")
        return cls(**{name: _build(sub, data.get(name, {}), name) for name, sub in _SECTIONS.items()})

    def override(self, section: str, **values: Any) -> "ClassifyConfig":
        """A copy with explicit values (None = keep) set in one section."""
        return override_section(self, section, **values)

    def merge_file(self, path: str | Path) -> "ClassifyConfig":
        merged = self
        for section, values in read_mapping(path).items():
            if section not in _SECTIONS or not isinstance(values, dict):
                raise UserError(f"{path}: {section!r} is not a mapping of a classifier section ({', '.join(_SECTIONS)})")
            merged = merged.override(section, **values)
        return merged

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "ClassifyConfig":
        return cls.from_dict(read_mapping(path))

    def validate(self) -> None:
        h, t = self.head, self.train
        if h.pooling not in ("mean", "attention"):
            raise UserError(f"unknown pooling {h.pooling!r}; choose mean or attention")
        if h.max_length < 2 or t.batch_size < 1 or h.hidden < 0:
            raise UserError("max length must be at least 2, batch size at least 1 and hidden units at least 0")
        if not 0 <= h.dropout < 1 or not 0 <= t.label_smoothing < 1:
            raise UserError("dropout and label smoothing must be in [0, 1)")
        if t.learning_rate <= 0 or t.epochs < 0 or t.time_budget < 0:
            raise UserError("learning rate must be positive; epochs and time budget at least 0")
        if t.head_epochs < 0 or t.head_learning_rate <= 0:
            raise UserError("head epochs must be at least 0 and the head learning rate positive")
        if t.epochs == 0 and t.time_budget == 0:
            raise UserError("training needs a limit: give --epochs or --minutes")
        if t.optimizer not in ("adam", "adamw") or t.schedule not in ("constant", "linear"):
            raise UserError("optimizer must be adam or adamw, schedule constant or linear")


# The lesson's model (a): a TokenAndPositionEmbedding (32) and one TransformerBlock (2 heads, feed-
# forward 32), global average pooling, dropout 0.1, Dense(20, relu), dropout 0.1, softmax; texts cut
# to 256 tokens of a 20,000-entry vocabulary; Adam 1e-3 in batches of 128. The vocabulary here is
# SentencePiece's (the project's one tokenization module), not Keras' word-level TextVectorization.
PRESETS: dict[str, ClassifyConfig] = {
    "lesson": ClassifyConfig(
        model=ModelConfig(family="transformer", d_model=32, transformer_heads=2, ff_dim=32, dropout=0.1, layers=1),
        tokenizer=TokenizerConfig(vocab_size=20000),
        head=HeadConfig(encoder="lesson", pooling="mean", dropout=0.1, hidden=20, max_length=256, mask_padding=False),
        train=ClassifyTrainConfig(batch_size=128, epochs=10, learning_rate=1e-3, clip_norm=0.0, valid_fraction=0.0),
    ),
    # The encoders of the two translation families at a size that trains on 2 CPU cores in minutes.
    "transformer": ClassifyConfig(
        model=ModelConfig(family="transformer", layers=2, d_model=128, ff_dim=256, transformer_heads=4, dropout=0.1),
        tokenizer=TokenizerConfig(vocab_size=8000),
        head=HeadConfig(pooling="attention", dropout=0.1, max_length=128),
        train=ClassifyTrainConfig(batch_size=64, epochs=4, learning_rate=1e-3, schedule="linear", warmup_steps=100),
    ),
    # A pretrained BERT-family encoder (MiniLM-L6 unless --pretrained names another HF folder), as the
    # lesson fine-tunes one: the head alone first (encoder frozen), then everything with AdamW, linear
    # warmup and decay.
    "minilm": ClassifyConfig(
        head=HeadConfig(encoder="bert", pooling="mean", dropout=0.1, max_length=128),
        train=ClassifyTrainConfig(batch_size=32, head_epochs=1, head_learning_rate=1e-3, epochs=2, learning_rate=5e-5,
                                  optimizer="adamw", schedule="linear", warmup_steps=100),
    ),
    "lstm": ClassifyConfig(
        model=ModelConfig(family="rnn", embedding_dim=128, units=128, dropout=0.2),
        tokenizer=TokenizerConfig(vocab_size=8000),
        head=HeadConfig(pooling="attention", dropout=0.2, max_length=128),
        train=ClassifyTrainConfig(batch_size=64, epochs=4, learning_rate=2e-3, schedule="linear", warmup_steps=100),
    ),
}


def classify_preset(name: str) -> ClassifyConfig:
    if name not in PRESETS:
        raise UserError(f"unknown classifier preset {name!r}; choose one of: {', '.join(PRESETS)}")
    return PRESETS[name]

