"""Model families behind one contract (:mod:`nmt.models.base`) and their registry."""

from nmt.models import rnn, transformer  # noqa: F401  (the built-in families register themselves)
from nmt.models.registry import MODELS
from nmt.registry import import_plugins


def check_options(config) -> None:
    """Refuse, in one line, ``model.options`` keys that neither the chosen family nor the chosen attention
    mechanism declares, and values their rules reject (after importing ``config.plugins``, which may
    declare them)."""
    from dataclasses import fields

    from nmt.attention import ATTENTION
    from nmt.errors import UserError

    import_plugins(config.plugins, "config.json")
    given = config.options or {}
    declared: list[str] = []
    for registry, name in ((MODELS, config.family), (ATTENTION, config.attention)):
        registry.build_options(name, given)  # checks its own keys' values
        spec = registry.options(name)
        declared += [f.name for f in fields(spec)] if spec else []
    unknown = set(given) - set(declared)
    if unknown:
        valid = sorted(f.name for f in fields(config) if f.name != "options") + sorted(declared)
        raise UserError(f"unknown model option(s) {sorted(map(str, unknown))}; valid: {', '.join(valid)}")


def build_model(config, src_vocab_size: int, tgt_vocab_size: int):
    """Build the registered family named by ``config.family`` (a :class:`nmt.config.ModelConfig`), after
    importing the plug-in modules it records (``config.plugins``) and checking its options."""
    check_options(config)
    return MODELS.get(config.family)(config, src_vocab_size, tgt_vocab_size)


def check_size(config, src_vocab_size: int, tgt_vocab_size: int, batch_tokens: int | None = None) -> None:
    """Refuse, with one line and before anything is allocated, a model (and, given ``batch_tokens``, a
    training batch) larger than this machine's memory. Families without an ``estimate`` are not checked."""
    from nmt.checks import check_memory

    check_options(config)
    estimate = getattr(MODELS.get(config.family), "estimate", None)
    if estimate is None:
        return
    params, per_token = estimate(config, src_vocab_size, tgt_vocab_size)
    # float32 weights; training adds their gradients and Adam's two moments, and the batch's activations
    needed = 4 * params if batch_tokens is None else 16 * params + 4 * per_token * batch_tokens
    what = "training this model" if batch_tokens else "this model"
    check_memory(what, needed, f"{params:,} parameters"
                 + (f", batches of {batch_tokens:,} tokens" if batch_tokens else ""))
