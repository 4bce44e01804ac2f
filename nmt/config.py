"""Frozen configuration dataclasses, JSON/YAML round-trip and named presets.

Configuration flows one way: preset -> optional config file -> explicit flags -> one resolved
:class:`Config`, saved as ``config.json`` in the model directory.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, ClassVar, Self

from nmt.checks import MAX_LAYERS, MAX_STEPS, MAX_VOCAB, MAX_WIDTH, Checked, choice, flag, mapping, modules, name, num
from nmt.errors import UserError

MAX_CONFIG_BYTES = 1_000_000
MAX_BEAM = 1024  # and at most the target vocabulary (checked when the model is known)


@dataclass(frozen=True)
class TokenizerConfig(Checked):
    SECTION = "tokenizer"
    model_type: str = choice("unigram", "unigram", "bpe")
    vocab_size: int = num(8000, 8, MAX_VOCAB)
    joint: bool = flag(True)  # one SentencePiece model for both languages
    character_coverage: float = num(1.0, 0.5, 1.0)


@dataclass(frozen=True)
class ModelConfig(Checked):
    SECTION = "model"
    family: str = name("rnn")  # registry name: rnn | transformer
    plugins: str = modules("")  # comma-separated modules imported before the model is built (nmt train --plugin)
    attention: str = name("additive")  # registry name, see nmt.attention
    # luong: attend after the recurrence | bahdanau: context feeds the recurrence
    placement: str = choice("luong", "luong", "bahdanau")
    input_feed: bool = flag(False)  # luong placement only: feed the attentional vector to the next step
    embedding_dim: int = num(256, 1, MAX_WIDTH)
    units: int = num(256, 1, MAX_WIDTH)  # encoder units per direction; the decoder has 2 * units
    encoder_layers: int = num(1, 1, MAX_LAYERS)
    decoder_layers: int = num(1, 1, MAX_LAYERS)
    attention_units: int = num(256, 1, MAX_WIDTH)
    heads: int = num(4, 1, 1024)  # multi-head attention only
    dropout: float = num(0.2, 0.0, 1.0, hi_open=True)
    tie_embeddings: bool = flag(False)  # output layer shares the target embedding matrix (Press & Wolf 2017)
    # Transformer family (Vaswani et al. 2017); the fields above, except dropout, are the LSTM family's.
    layers: int = num(3, 1, MAX_LAYERS)  # encoder layers and decoder layers
    d_model: int = num(256, 1, MAX_WIDTH)
    ff_dim: int = num(512, 1, MAX_WIDTH)
    transformer_heads: int = num(4, 1, 1024)
    pre_norm: bool = flag(True)  # layer norm before each sublayer (False: after the residual, as in the paper)
    positions: str = choice("sinusoidal", "sinusoidal", "learned")
    max_positions: int = num(512, 1, 1_000_000)  # rows of the learned position table
    share_embeddings: bool = flag(True)  # equal vocabulary sizes: one matrix for source, target and output
    attention_dropout: float | None = num(None, 0.0, 1.0, hi_open=True, optional=True)  # None: the same as dropout
    ffn_dropout: float | None = num(None, 0.0, 1.0, hi_open=True, optional=True)  # None: the same as dropout
    # Hyper-parameters a registered mechanism or family declares itself (``register(name, options=...)``):
    # `--set model.KEY=VALUE` and config files put keys that are not fields above here; the declaring
    # entry checks them when the model is built (nmt.models.check_options).
    options: dict | None = mapping()

    def check(self) -> None:
        if self.attention == "multi-head" and self.attention_units % self.heads:
            raise UserError(f"model.attention_units ({self.attention_units}) must be divisible by model.heads "
                            f"({self.heads})")
        if self.family == "transformer":
            if self.d_model % self.transformer_heads:
                raise UserError(f"model.d_model ({self.d_model}) must be divisible by model.transformer_heads "
                                f"({self.transformer_heads})")
            if self.positions == "sinusoidal" and self.d_model % 2:
                raise UserError(f"sinusoidal positions need an even model.d_model, got {self.d_model}")


@dataclass(frozen=True)
class TrainConfig(Checked):
    SECTION = "train"
    batch_tokens: int = num(2048, 1, 10_000_000)  # padded tokens per batch (longer side)
    max_tokens: int = num(100, 2, 100_000)  # drop pairs with more subword tokens on either side
    max_words: int = num(200, 1, 100_000)  # drop pairs with more words on either side (before tokenization)
    optimizer: str = choice("adam", "adam", "adamw")
    learning_rate: float = num(2e-3, 0.0, 10.0, lo_open=True)
    # inverse-sqrt: warmup then 1/sqrt(step); cosine: warmup then cosine decay to 0 at max_steps
    schedule: str = choice("constant", "constant", "inverse-sqrt", "cosine")
    warmup_steps: int = num(0, 0, MAX_STEPS)
    weight_decay: float = num(0.01, 0.0, 1.0)  # adamw only
    adam_beta2: float = num(0.999, 0.0, 1.0, hi_open=True)  # 0.98 is usual for Transformers (Vaswani et al. 2017)
    label_smoothing: float = num(0.1, 0.0, 1.0, hi_open=True)
    clip_norm: float = num(1.0, 0.0, 1e6, note="0 = off")
    max_steps: int = num(0, 0, MAX_STEPS, note="0 = no limit")
    epochs: float = num(0.0, 0.0, 1e6, note="0 = no limit")
    time_budget: float = num(0.0, 0.0, 1e9, note="seconds, 0 = no limit; --time-budget takes minutes")
    eval_every: int = num(500, 1, MAX_STEPS)  # steps between validation loss/BLEU
    eval_sentences: int = num(500, 1, 10_000_000)  # validation sentences translated for BLEU
    keep_checkpoints: int = num(3, 1, 1000)
    accumulate: int = num(1, 1, 100_000)  # batches whose gradients are summed into one update
    # slices of each batch computed side by side, each on one thread (nmt.steps; the same update)
    parallel_parts: int = num(1, 1, 64)
    # layers compute in it, weights stay float32
    mixed_precision: str = choice("float32", "float32", "float16", "bfloat16")
    patience: int = num(0, 0, 1_000_000, note="0 = off")  # early stopping: evaluations without BLEU improvement
    # stop once validation BLEU reaches this (a limit still bounds the run)
    target_bleu: float = num(0.0, 0.0, 100.0, note="0 = off")
    seed: int = num(1234, 0, 2**31 - 1)
    # Guided alignment (nmt.guided), only when training pairs come with word links (--train-links):
    guided_weight: float = num(1.0, 0.0, 1e6)  # weight of the attention's cross-entropy against the links
    guided_layer: int = num(-1, -MAX_LAYERS, MAX_LAYERS - 1)  # the attention layer it supervises (-1: the last)
    guided_head: int = num(0, 0, 1023)  # and its head
    # supervise the step that reads each target piece (Shift-Att), not the one predicting it
    guided_shift: bool = flag(False)
    # the guided head is trained in a second decoder pass that sees the whole target sentence (Garg et al.
    # 2019's full context; the transformer family), read with nmt align --full-context
    guided_full_context: bool = flag(False)


@dataclass(frozen=True)
class DecodeConfig(Checked):
    SECTION = "decode"
    beam_size: int = num(4, 1, MAX_BEAM)
    length_penalty: float = num(0.6, 0.0, 10.0)
    n_best: int = num(1, 1, MAX_BEAM)
    max_length_a: float = num(1.5, 0.0, 100.0)
    max_length_b: int = num(10, 0, 100_000)
    batch_size: int = num(64, 1, 100_000)
    # longer sources are cut to this many pieces (with a warning), as CTranslate2 does
    max_source_tokens: int = num(1024, 2, 100_000)

    def check(self) -> None:
        if self.n_best > self.beam_size:
            raise UserError(f"decode.n_best ({self.n_best}) must be at most decode.beam_size ({self.beam_size})")


class Sections:
    """What every task's configuration shares: it is a frozen dataclass whose fields are its sections
    (:class:`nmt.checks.Checked` dataclasses), and this gives it the JSON/YAML round trip, one-section
    overrides and partial config files. A new task's configuration declares only its sections (and
    ``TASK``, the name its ``config.json`` records under ``"task"``; None: no such key)."""

    TASK: ClassVar[str | None] = None

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        return data if self.TASK is None else {"task": self.TASK, **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "") -> Self:
        return build_sections(cls, cls._own(data, where), where)

    @classmethod
    def _own(cls, data: dict[str, Any], where: str) -> dict[str, Any]:
        """``data``'s sections, its ``task`` key checked: a saved config.json of this task may be given
        back whole (``--config``); one of another task is refused in one line."""
        task = data.get("task")
        if task is not None and task != cls.TASK:
            prefix = f"{where}: " if where else ""
            raise UserError(f"{prefix}this is a {task} configuration; this command takes "
                            f"{cls.TASK or 'translation'} ones")
        return {k: v for k, v in data.items() if k != "task"}

    def override(self, section: str, **values: Any) -> Self:
        """Return a copy with explicit values (None = keep) set in one section."""
        return override_section(self, section, **values)

    def save(self, path: str | Path) -> None:
        from nmt.io import atomic_write_text  # a kill mid-write must not leave half a config.json

        atomic_write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> Self:
        return cls.from_dict(read_mapping(path), str(path))

    def merge_file(self, path: str | Path) -> Self:
        """Apply the sections of a (partial) JSON or YAML config file over this config."""
        return merge_sections(self, self._own(read_mapping(path), str(path)), str(path))


@dataclass(frozen=True)
class Config(Sections):
    """A translation model's configuration."""

    model: ModelConfig = field(default_factory=ModelConfig)
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    decode: DecodeConfig = field(default_factory=DecodeConfig)


def _sections(config_cls) -> dict:
    return {f.name: f.default_factory for f in fields(config_cls)}


def build_sections(config_cls, data: dict, where: str = ""):
    """A sectioned configuration (:class:`Config`, ``ClassifyConfig``) from a mapping of sections, every
    field checked; errors start with ``where`` (the file) when given."""
    return merge_sections(config_cls(), data, where)


def merge_sections(config, data: dict, where: str = ""):
    """``config`` with the sections of ``data`` applied over it (fields it omits keep their values)."""
    prefix = f"{where}: " if where else ""
    sections = _sections(type(config))
    unknown = set(data) - set(sections)
    if unknown:
        raise UserError(f"{prefix}unknown config section(s) {sorted(map(str, unknown))}; valid: {', '.join(sections)}")
    try:
        for section, values in data.items():
            if not isinstance(values, dict):
                raise UserError(f"section {section!r} must be a mapping of options")
            config = override_section(config, section, **values) if values else config
    except UserError as exc:
        raise UserError(prefix + str(exc)) from None
    return config


def read_mapping(path: str | Path) -> dict:
    """Read a JSON or YAML file holding a mapping; any problem is the user's to fix."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"config file {path} does not exist")
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise UserError(f"config file {path} is larger than {MAX_CONFIG_BYTES:,} bytes; is it a config file?")
    try:
        text = path.read_text(encoding="utf-8")
        data = _yaml(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
    except UserError as exc:
        raise UserError(f"config file {path}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - any parse error is the user's file
        message = " ".join(str(exc).split())
        raise UserError(f"cannot parse config file {path}: {message[:300]}") from None
    if not isinstance(data, dict):
        raise UserError(f"config file {path} must hold a mapping of sections (model, tokenizer, train, decode)")
    return data


def _yaml(text: str):
    """Safe YAML without aliases: a configuration needs none, and nested aliases ("billion laughs")
    expand to gigabytes once the values are used."""
    import yaml

    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            raise UserError(f"YAML aliases (*{event.anchor}) are not supported in config files; write the values out")
    return yaml.safe_load(text) or {}


def override_section(config, section: str, **values: Any):
    """A copy of a frozen sectioned config with explicit values (None = keep) set in one section."""
    values = {k: v for k, v in values.items() if v is not None}
    if not values:
        return config
    current = getattr(config, section)
    values = _collect_options(current, values)
    _check_keys(type(current), values, section)
    return replace(config, **{section: replace(current, **values)})  # every field checked (nmt.checks)


def _collect_options(current, values: dict) -> dict:
    """A section with an ``options`` mapping (``model``) keeps there the keys its fields do not name,
    merged over the options it has; whoever declares them checks them (nmt.models.check_options)."""
    names = {f.name for f in fields(current)}
    extra = {k: v for k, v in values.items() if k not in names}
    if "options" not in names or not (extra or "options" in values):
        return values
    given = values.get("options") or {}
    if not isinstance(given, dict):
        raise UserError(f"{current.SECTION}.options must be a mapping of option names to values")
    merged = {**(current.options or {}), **given, **extra}
    return {**{k: v for k, v in values.items() if k in names}, "options": merged or None}


def _check_keys(cls, values: dict, section: str) -> None:
    valid = {f.name for f in fields(cls)}
    unknown = set(values) - valid
    if unknown:
        raise UserError(f"unknown {section} option(s) {sorted(map(str, unknown))}; valid: {', '.join(sorted(valid))}")


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
