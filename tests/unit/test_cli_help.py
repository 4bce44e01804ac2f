"""The names `nmt train --help` lists without importing TensorFlow are the registries' built-ins."""

from nmt.attention import ATTENTION
from nmt.cli.train import FAMILIES, MECHANISMS
from nmt.models import MODELS


def test_help_names_are_the_registered_built_ins():
    assert list(MECHANISMS) == ATTENTION.names()[: len(MECHANISMS)] and set(MECHANISMS) <= set(ATTENTION.names())
    assert list(FAMILIES) == MODELS.names()[: len(FAMILIES)]
