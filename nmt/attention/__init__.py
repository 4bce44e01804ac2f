"""Pluggable attention: the registry, the contract and the built-in mechanisms.

Register your own mechanism from Python and select it by name (``--attention mine``)::

    from nmt.attention import Attention, register

    @register("mine")
    class Mine(Attention):
        def score(self, query, keys):            # query [B,T,Dq], keys [B,S,Dm]
            return tf.matmul(query, keys, transpose_b=True)[:, None]   # [B,1,T,S]
"""

from nmt.attention import mechanisms  # noqa: F401  (registers the built-in mechanisms)
from nmt.attention.base import ATTENTION, Attention, masked_softmax, register

__all__ = ["ATTENTION", "Attention", "masked_softmax", "register", "build"]


def build(name: str, units: int, heads: int, query_dim: int) -> Attention:
    """Instantiate a registered mechanism by name (unknown names raise a UserError listing choices)."""
    return ATTENTION.get(name)(units=units, heads=heads, query_dim=query_dim, name=f"attention_{name}")
