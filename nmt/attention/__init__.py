"""Pluggable attention: the registry, the contract and the built-in mechanisms.

Register your own mechanism from Python and select it by name (``--attention mine``)::

    from nmt.attention import Attention, register

    @register("mine")
    class Mine(Attention):
        def score(self, query, keys):            # query [B,T,Dq], keys [B,S,Dm]
            return tf.matmul(query, keys, transpose_b=True)[:, None]   # [B,1,T,S]

A mechanism with hyper-parameters of its own declares them as a dataclass; they are set with
``--set model.temperature=2`` (or a config file), recorded in config.json and checked by their rules::

    @dataclass(frozen=True)
    class Temperature(Checked):
        temperature: float = num(1.0, 0.0, 1000.0, lo_open=True)

    @register("warm", options=Temperature)
    class Warm(Attention):
        def score(self, query, keys):
            return self.options.temperature * tf.matmul(query, keys, transpose_b=True)[:, None]
"""

from nmt.attention import mechanisms  # noqa: F401  (registers the built-in mechanisms)
from nmt.attention.base import ATTENTION, Attention, masked_softmax, register

__all__ = ["ATTENTION", "Attention", "masked_softmax", "register", "build"]


def build(name: str, units: int, heads: int, query_dim: int, options: dict | None = None) -> Attention:
    """Instantiate a registered mechanism by name (unknown names raise a UserError listing choices);
    ``options``: the model's ``options`` mapping, of which a mechanism registered with its own options
    dataclass receives its fields as ``self.options``."""
    own = ATTENTION.build_options(name, options)
    extra = {} if own is None else {"options": own}
    return ATTENTION.get(name)(units=units, heads=heads, query_dim=query_dim, name=f"attention_{name}", **extra)
