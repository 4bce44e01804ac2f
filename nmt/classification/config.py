"""Configuration of text classifiers: the encoder (a translation family's, or the lesson's), the head,
the tokenizer and training, and presets (the JSON/YAML round trip comes from :class:`nmt.config.Sections`).

The ``model`` section is :class:`nmt.config.ModelConfig`, so a classifier's encoder is configured
exactly as a translation model's (and may be one: ``nmt classify train --init-from MODEL_DIR``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nmt.checks import MAX_STEPS, MAX_WIDTH, Checked, choice, flag, mapping, name, num
from nmt.config import ModelConfig, Sections, TokenizerConfig
from nmt.errors import UserError


@dataclass(frozen=True)
class HeadConfig(Checked):
    SECTION = "head"
    encoder: str = name("seq2seq")  # CLASSIFIERS registry: seq2seq (the encoder of model.family) | lesson | bert
    pooling: str = choice("mean", "mean", "attention")  # attention: learned weights over tokens
    dropout: float = num(0.1, 0.0, 1.0, hi_open=True)
    hidden: int = num(0, 0, MAX_WIDTH, note="0 = none")  # units of a ReLU layer before the output layer
    max_length: int = num(256, 2, 100_000)  # tokens per text; longer texts are truncated
    # lesson only: False = the lesson's model (pad to max_length, attend to and average padding)
    mask_padding: bool = flag(True)
    bert: dict | None = mapping()  # encoder "bert": the pretrained architecture (config.json fields), set by training


@dataclass(frozen=True)
class ClassifyTrainConfig(Checked):
    SECTION = "train"
    batch_size: int = num(64, 1, 1_000_000)
    epochs: float = num(5.0, 0.0, 1e6)
    learning_rate: float = num(1e-3, 0.0, 10.0, lo_open=True)
    optimizer: str = choice("adam", "adam", "adamw")
    weight_decay: float = num(0.01, 0.0, 1.0)  # adamw only
    schedule: str = choice("constant", "constant", "linear")  # linear: warmup, then linear decay to 0 at the last step
    warmup_steps: int = num(0, 0, MAX_STEPS)
    clip_norm: float = num(1.0, 0.0, 1e6, note="0 = off")
    label_smoothing: float = num(0.0, 0.0, 1.0, hi_open=True)
    head_epochs: float = num(0.0, 0.0, 1e6)  # first train only the pooling and output layers (encoder frozen) this long
    head_learning_rate: float = num(1e-3, 0.0, 10.0, lo_open=True)  # Adam, constant, for those head-only epochs
    # held out of the training data when no validation file is given
    valid_fraction: float = num(0.1, 0.0, 1.0, hi_open=True)
    time_budget: float = num(0.0, 0.0, 1e9, note="seconds, 0 = no limit; --minutes takes minutes")
    seed: int = num(1234, 0, 2**31 - 1)


@dataclass(frozen=True)
class ClassifyConfig(Sections):
    """A text classifier's configuration; its ``config.json`` says ``"task": "classification"``."""

    TASK = "classification"
    model: ModelConfig = field(default_factory=ModelConfig)
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    head: HeadConfig = field(default_factory=HeadConfig)
    train: ClassifyTrainConfig = field(default_factory=ClassifyTrainConfig)

    def validate(self) -> None:
        """What a training run needs beyond valid fields: a limit."""
        if self.train.epochs == 0 and self.train.time_budget == 0:
            raise UserError("training needs a limit: give --epochs or --minutes")


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

