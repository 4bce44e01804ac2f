"""``nmt benchmark``: several configurations on the same data, tokenizer, budget and metrics.

:data:`VARIANTS` names the configurations the benchmark knows; each is a set of config sections
laid over the base preset. The tokenizer section is the benchmark's own (one SentencePiece model
shared by every variant), so variants may not change it.
"""

from __future__ import annotations

from nmt.config import Config
from nmt.errors import UserError

# LSTM variants keep the base preset's optimisation (Adam 2e-3, constant); the Transformer gets the
# usual Transformer recipe scaled to a short budget: inverse-sqrt with a short warmup, beta2 0.98.
VARIANTS: dict[str, dict] = {
    "lstm-none": {"model": {"family": "rnn", "attention": "none"}},
    "lstm-additive": {"model": {"family": "rnn", "attention": "additive"}},
    "lstm-dot": {"model": {"family": "rnn", "attention": "dot"}},
    "lstm-general": {"model": {"family": "rnn", "attention": "general"}},
    "lstm-multi-head": {"model": {"family": "rnn", "attention": "multi-head"}},
    "transformer": {
        "model": {"family": "transformer", "dropout": 0.1},
        "train": {"learning_rate": 2e-3, "schedule": "inverse-sqrt", "warmup_steps": 400, "adam_beta2": 0.98},
    },
}
DEFAULT_MODELS = ("lstm-none", "lstm-additive", "lstm-dot", "transformer")


def variant_config(base: Config, name: str, overrides: dict | None = None) -> Config:
    """``base`` with the sections of variant ``name`` and then ``overrides`` ({section: {key: value}})."""
    if name not in VARIANTS:
        raise UserError(f"unknown benchmark model {name!r}; choose from: {', '.join(VARIANTS)}")
    config = base
    for source in (VARIANTS[name], overrides or {}):
        for section, values in source.items():
            if section == "tokenizer":
                raise UserError("the tokenizer is shared by every benchmarked model; set it with --vocab-size, not per model")
            config = config.override(section, **values)
    return config


def parse_override(text: str) -> tuple[str | None, str, str, object]:
    """``[MODEL:]SECTION.KEY=VALUE`` -> (model or None for all, section, key, value parsed as JSON or kept as text)."""
    import json

    target, sep, rest = text.partition(":")
    if not sep or "=" in target:
        target, rest = None, text
    key, eq, raw = rest.partition("=")
    section, dot, name = key.partition(".")
    if not eq or not dot or not section or not name:
        raise UserError(f"--set {text!r}: expected [MODEL:]SECTION.KEY=VALUE, e.g. transformer:train.warmup_steps=800")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return target, section, name, value
