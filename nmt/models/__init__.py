"""Model families behind one contract (:mod:`nmt.models.base`) and their registry."""

from nmt.registry import Registry

MODELS = Registry("model family", "--model")


def build_model(config, src_vocab_size: int, tgt_vocab_size: int):
    """Build the registered family named by ``config.family`` (a :class:`nmt.config.ModelConfig`)."""
    return MODELS.get(config.family)(config, src_vocab_size, tgt_vocab_size)


from nmt.models import rnn  # noqa: E402,F401  (registers "rnn")
from nmt.models import transformer  # noqa: E402,F401
