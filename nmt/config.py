"""Frozen configuration dataclasses, JSON/YAML round-trip and named presets.

Configuration flows one way: preset -> optional config file -> explicit flags -> one resolved
:class:`Config`, saved as ``config.json`` in the model directory.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from nmt.errors import UserError


@dataclass(frozen=True)
class TokenizerConfig:
    model_type: str = "unigram"  # unigram | bpe
    vocab_size: int = 8000
    joint: bool = True  # one SentencePiece model for both languages
    character_coverage: float = 1.0


@dataclass(frozen=True)
class ModelConfig:
    family: str = "rnn"  # registry name: rnn | transformer
    attention: str = "additive"  # registry name, see nmt.attention
    placement: str = "luong"  # luong: attend after the recurrence | bahdanau: context feeds the recurrence
    input_feed: bool = False  # luong placement only: feed the attentional vector to the next step
    embedding_dim: int = 256
    units: int = 256  # encoder units per direction; the decoder has 2 * units
    encoder_layers: int = 1
    decoder_layers: int = 1
    attention_units: int = 256
    heads: int = 4  # multi-head attention only
    dropout: float = 0.2
    tie_embeddings: bool = False  # output layer shares the target embedding matrix (Press & Wolf 2017)
    # Transformer family (Vaswani et al. 2017); the fields above, except dropout, are the LSTM family's.
    layers: int = 3  # encoder layers and decoder layers
    d_model: int = 256
    ff_dim: int = 512
    transformer_heads: int = 4
    pre_norm: bool = True  # layer norm before each sublayer (False: after the residual, as in the paper)
    positions: str = "sinusoidal"  # sinusoidal | learned
    max_positions: int = 512  # rows of the learned position table
    share_embeddings: bool = True  # equal vocabulary sizes: one matrix for source, target and output
    attention_dropout: float | None = None  # on the attention weights; None: the same as dropout
    ffn_dropout: float | None = None  # on the feed-forward hidden layer; None: the same as dropout


@dataclass(frozen=True)
class TrainConfig:
    batch_tokens: int = 2048  # padded tokens per batch (longer side)
    max_tokens: int = 100  # drop pairs with more subword tokens on either side
    max_words: int = 200  # drop pairs with more words on either side (before tokenization)
    optimizer: str = "adam"  # adam | adamw
    learning_rate: float = 2e-3
    schedule: str = "constant"  # constant | inverse-sqrt (warmup then 1/sqrt(step))
    warmup_steps: int = 0
    weight_decay: float = 0.01  # adamw only
    adam_beta2: float = 0.999  # 0.98 is usual for Transformers (Vaswani et al. 2017)
    label_smoothing: float = 0.1
    clip_norm: float = 1.0
    max_steps: int = 0  # 0 = no limit
    epochs: float = 0.0  # 0 = no limit
    time_budget: float = 0.0  # seconds of training, 0 = no limit
    eval_every: int = 500  # steps between validation loss/BLEU
    eval_sentences: int = 500  # validation sentences translated for BLEU
    keep_checkpoints: int = 3
    accumulate: int = 1  # batches whose gradients are summed into one update
    mixed_precision: str = "float32"  # float32 | float16 | bfloat16 (layers compute in it, weights stay float32)
    patience: int = 0  # early stopping: evaluations without BLEU improvement, 0 = off
    target_bleu: float = 0.0  # stop once validation BLEU reaches this, 0 = off (a step/epoch/time limit still bounds the run)
    seed: int = 1234


@dataclass(frozen=True)
class DecodeConfig:
    beam_size: int = 4
    length_penalty: float = 0.6
    n_best: int = 1
    max_length_a: float = 1.5
    max_length_b: int = 10
    batch_size: int = 64
    max_source_tokens: int = 1024  # longer sources are cut to this many pieces (with a warning), as CTranslate2 does


@dataclass(frozen=True)
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    decode: DecodeConfig = field(default_factory=DecodeConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Config":
        sections = {f.name: f.type for f in fields(cls)}
        unknown = set(data) - set(sections)
        if unknown:
            raise UserError(f"unknown config section(s) {sorted(unknown)}; valid: {sorted(sections)}")
        kwargs = {}
        for name, sub in (("model", ModelConfig), ("tokenizer", TokenizerConfig), ("train", TrainConfig), ("decode", DecodeConfig)):
            kwargs[name] = _build(sub, data.get(name, {}), name)
        return cls(**kwargs)

    def override(self, section: str, **values: Any) -> "Config":
        """Return a copy with explicit values (None = keep) set in one section."""
        return override_section(self, section, **values)

    def save(self, path: str | Path) -> None:
        from nmt.io import atomic_write_text  # a kill mid-write must not leave half a config.json

        atomic_write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> "Config":
        return cls.from_dict(read_mapping(path))

    def merge_file(self, path: str | Path) -> "Config":
        """Apply the sections of a (partial) JSON or YAML config file over this config."""
        data = read_mapping(path)
        unknown = set(data) - {f.name for f in fields(self)}
        if unknown:
            raise UserError(f"{path}: unknown config section(s) {sorted(unknown)}; valid: model, tokenizer, train, decode")
        merged = self
        for section, values in data.items():
            if not isinstance(values, dict):
                raise UserError(f"{path}: section {section!r} must be a mapping of options")
            merged = merged.override(section, **values)
        return merged


def read_mapping(path: str | Path) -> dict:
    """Read a JSON or YAML file holding a mapping; any problem is the user's to fix."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"config file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            data = json.loads(text)
    except Exception as exc:  # noqa: BLE001 - any parse error is the user's file
        raise UserError(f"cannot parse config file {path}: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict):
        raise UserError(f"config file {path} must hold a mapping of sections (model, tokenizer, train, decode)")
    return data


def override_section(config, section: str, **values: Any):
    """A copy of a frozen sectioned config with explicit values (None = keep) set in one section."""
    values = {k: v for k, v in values.items() if v is not None}
    if not values:
        return config
    current = getattr(config, section)
    _check_keys(type(current), values, section)
    return replace(config, **{section: replace(current, **values)})


def _check_keys(cls, values: dict, section: str) -> None:
    valid = {f.name for f in fields(cls)}
    unknown = set(values) - valid
    if unknown:
        raise UserError(f"unknown {section} option(s) {sorted(unknown)}; valid: {', '.join(sorted(valid))}")


def _build(cls, values: dict, section: str):
    _check_keys(cls, values, section)
    return cls(**values)


PRESETS: dict[str, Config] = {
    # Seconds on a laptop: for tests and trying things out.
    "tiny": Config(
        model=ModelConfig(embedding_dim=32, units=32, attention_units=32, heads=2, dropout=0.0),
        tokenizer=TokenizerConfig(vocab_size=400),
        train=TrainConfig(batch_tokens=1024, learning_rate=5e-3, eval_every=100, eval_sentences=100),
        decode=DecodeConfig(beam_size=4, batch_size=64),
    ),
    # nmt train on the embedded corpus (the whole of it) when no preset is named.
    "small": Config(
        model=ModelConfig(embedding_dim=128, units=128, attention_units=128, heads=4, dropout=0.1),
        tokenizer=TokenizerConfig(vocab_size=1000),
        train=TrainConfig(batch_tokens=3072, learning_rate=3e-3, eval_every=200, eval_sentences=200),
    ),
    # nmt demo: LSTM + additive attention on the embedded corpus until validation BLEU reaches the target.
    # Chosen for validation BLEU per second on a slow CPU (scripts/bench_demo.py): the pairs of at most 20
    # words (80% of the pairs, 58% of the words; an LSTM's step costs grow with the longest sentence
    # of its batch), a BPE vocabulary that keeps the corpus' ~1,700 words whole (shorter sequences;
    # BPE trains in 0.2 s where unigram takes 4 s on these 32,000 sentences), no
    # dropout (grammar-made pairs do not overfit in a few epochs), and smaller batches at a higher rate
    # (more updates for the same tokens).
    "demo": Config(
        model=ModelConfig(embedding_dim=128, units=128, attention_units=128, heads=4, dropout=0.0),
        tokenizer=TokenizerConfig(model_type="bpe", vocab_size=2000),
        train=TrainConfig(batch_tokens=1536, learning_rate=6e-3, eval_every=50, eval_sentences=200, target_bleu=82.0,
                          max_words=20),
    ),
    # Multi30k-sized corpora.
    "base": Config(),
}


def preset(name: str) -> Config:
    if name not in PRESETS:
        raise UserError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    return PRESETS[name]
