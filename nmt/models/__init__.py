"""Model families behind one contract (:mod:`nmt.models.base`) and their registry."""

from nmt.models import rnn, transformer  # noqa: F401  (the built-in families register themselves)
from nmt.models.registry import MODELS
from nmt.registry import import_plugins


def build_model(config, src_vocab_size: int, tgt_vocab_size: int):
    """Build the registered family named by ``config.family`` (a :class:`nmt.config.ModelConfig`), after
    importing the plug-in modules it records (``config.plugins``)."""
    import_plugins(config.plugins, "config.json")
    return MODELS.get(config.family)(config, src_vocab_size, tgt_vocab_size)


def check_size(config, src_vocab_size: int, tgt_vocab_size: int, batch_tokens: int | None = None) -> None:
    """Refuse, with one line and before anything is allocated, a model (and, given ``batch_tokens``, a
    training batch) larger than this machine's memory. Families without an ``estimate`` are not checked."""
    from nmt.checks import check_memory

    import_plugins(config.plugins, "config.json")
    estimate = getattr(MODELS.get(config.family), "estimate", None)
    if estimate is None:
        return
    params, per_token = estimate(config, src_vocab_size, tgt_vocab_size)
    # float32 weights; training adds their gradients and Adam's two moments, and the batch's activations
    needed = 4 * params if batch_tokens is None else 16 * params + 4 * per_token * batch_tokens
    what = "training this model" if batch_tokens else "this model"
    check_memory(what, needed, f"{params:,} parameters" + (f", batches of {batch_tokens:,} tokens" if batch_tokens else ""))
