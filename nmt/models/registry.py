"""The registry of model families: a module of its own, so that a family's module (built-in or a
plug-in) imports it without importing :mod:`nmt.models`, which imports the built-in families."""

from nmt.registry import Registry

MODELS = Registry("model family", "--model")
