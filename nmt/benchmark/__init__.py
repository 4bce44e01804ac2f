"""``nmt benchmark``: several configurations on the same data, tokenizer, budget and metrics.

:data:`VARIANTS` names the configurations the benchmark knows; each is a set of config sections
laid over the base preset. The tokenizer section is the benchmark's own (one SentencePiece model
shared by every variant), so variants may not change it.
"""

from __future__ import annotations

from nmt.config import Config
from nmt.errors import UserError

# Every variant gets the same optimisation: Adam (beta2 0.98), peak learning rate 2e-3 after a
# 400-step warmup, then inverse-sqrt decay. With the base preset's constant rate the LSTMs level off
# after about 10 minutes on Multi30k (validation BLEU 35.9 at 1,921 steps, 35.7 at 3,500), so a
# longer budget bought them nothing; the decay is what lets a 30-minute budget count for both.
_OPTIMISER = {"learning_rate": 2e-3, "schedule": "inverse-sqrt", "warmup_steps": 400, "adam_beta2": 0.98}
VARIANTS: dict[str, dict] = {
    "lstm-none": {"model": {"family": "rnn", "attention": "none"}, "train": _OPTIMISER},
    "lstm-additive": {"model": {"family": "rnn", "attention": "additive"}, "train": _OPTIMISER},
    "lstm-dot": {"model": {"family": "rnn", "attention": "dot"}, "train": _OPTIMISER},
    "lstm-general": {"model": {"family": "rnn", "attention": "general"}, "train": _OPTIMISER},
    "lstm-multi-head": {"model": {"family": "rnn", "attention": "multi-head"}, "train": _OPTIMISER},
    # Dropout where Vaswani et al. 2017 (section 5.4) and fairseq put it: embeddings and sublayer
    # outputs, not attention weights or the feed-forward hidden layer (fewer random masks a step:
    # results/throughput_speedups_2.md measures both placements).
    "transformer": {"model": {"family": "transformer", "dropout": 0.1, "attention_dropout": 0.0, "ffn_dropout": 0.0},
                    "train": _OPTIMISER},
    # The long-budget recipe (issue 20; results/multi30k_recipe_tiny_120min): a small, heavily
    # regularised Transformer as fairseq's transformer_tiny for Multi30k (Wu et al. 2021): 4 layers of
    # width 128, 4 heads, feed-forward 256, dropout 0.3; peak rate 5e-3 after 2,000 warmup steps,
    # 4,096-token batches, the last 10 checkpoints kept for averaging.
    "transformer-tiny": {"model": {"family": "transformer", "layers": 4, "d_model": 128, "ff_dim": 256,
                                   "transformer_heads": 4, "dropout": 0.3, "attention_dropout": 0.0,
                                   "ffn_dropout": 0.0},
                         "train": {**_OPTIMISER, "learning_rate": 5e-3, "warmup_steps": 2000, "batch_tokens": 4096,
                                   "keep_checkpoints": 10}},
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
                raise UserError("the tokenizer is shared by every benchmarked model; set it with --vocab-size, "
                                "not per model")
            config = config.override(section, **values)
    return config


def parse_steps(text: str, names: list[str]) -> dict[str, int]:
    """``--steps``: ``N`` for every model, or ``MODEL=N,MODEL=N`` naming each of ``names`` once."""
    from nmt.config import MAX_STEPS

    def count(raw: str, label: str) -> int:
        try:
            steps = int(raw.replace("_", ""))
        except ValueError:
            raise UserError(f"--steps {label}: expected a whole number of training steps, got {raw!r}") from None
        if not 0 < steps <= MAX_STEPS:
            raise UserError(f"--steps {label}: must be between 1 and {MAX_STEPS:,}, got {steps:,}")
        return steps

    if "=" not in text:
        return {name: count(text.strip(), text.strip()) for name in names}
    steps: dict[str, int] = {}
    for item in filter(None, (x.strip() for x in text.split(","))):
        name, _, raw = item.partition("=")
        name = name.strip()
        if name not in names:
            raise UserError(f"--steps names model {name!r}, which is not in --models ({', '.join(names)})")
        if name in steps:
            raise UserError(f"--steps names model {name!r} twice")
        steps[name] = count(raw.strip(), item)
    missing = [n for n in names if n not in steps]
    if missing:
        raise UserError(f"--steps gives no budget for {', '.join(missing)}; name every model, e.g. {names[0]}=2000")
    return steps


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
