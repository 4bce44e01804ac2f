"""Name -> class registries for the pluggable axes (attention mechanisms, model families).

Registration is explicit (``@ATTENTION.register("additive")``); duplicate and unknown names raise
errors that list the valid choices, and the CLI builds its ``--attention`` / ``--model`` choices
from :meth:`Registry.names`.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from nmt.errors import UserError

T = TypeVar("T")


class Registry(Generic[T]):
    """A named collection of classes, e.g. ``ATTENTION`` or ``MODELS``."""

    def __init__(self, kind: str, option: str):
        self.kind = kind  # "attention mechanism"
        self.option = option  # "--attention"
        self._items: dict[str, type[T]] = {}
        self._options: dict[str, type] = {}

    def register(self, name: str, options: type | None = None) -> Callable[[type[T]], type[T]]:
        """Register a class under ``name``; ``options``: its own hyper-parameters, a frozen dataclass
        (best a :class:`nmt.checks.Checked` one, whose fields carry their rules) whose fields become
        ``model`` options: set by ``--set model.KEY=VALUE`` or a config file, recorded in config.json's
        ``model.options``, and handed to the class by :meth:`build_options`."""
        if options is not None and not dataclasses.is_dataclass(options):
            raise TypeError(f"options of {self.kind} {name!r} must be a dataclass, got {options!r}")

        def add(cls: type[T]) -> type[T]:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is already registered (by {self._items[name].__name__})")
            self._items[name] = cls
            if options is not None:
                if not getattr(options, "SECTION", ""):
                    options.SECTION = "model"  # its rules' errors name model.KEY, as the user set it
                self._options[name] = options
            cls.nmt_name = name
            return cls

        return add

    def unregister(self, name: str) -> None:
        self._items.pop(name, None)
        self._options.pop(name, None)

    def options(self, name: str) -> type | None:
        """The options dataclass ``name`` declared, or None."""
        self.get(name)
        return self._options.get(name)

    def build_options(self, name: str, values: dict | None):
        """``name``'s options (None if it declares none) from a model's ``options`` mapping: the keys it
        declares, each checked by its field's rule; the rest are other entries' (see
        :func:`nmt.models.check_options`)."""
        spec = self.options(name)
        if spec is None:
            return None
        own = {f.name for f in dataclasses.fields(spec)}
        return spec(**{k: v for k, v in (values or {}).items() if k in own})

    def get(self, name: str) -> type[T]:
        if name not in self._items:
            raise UserError(f"unknown {self.kind} {name!r} for {self.option}; choose one of: {', '.join(self.names())}")
        return self._items[name]

    def names(self) -> list[str]:
        return list(self._items)

    def __contains__(self, name: str) -> bool:
        return name in self._items


def import_plugins(modules: Iterable[str] | str, recorded_in: str | None = None) -> None:
    """Import the user modules that register attention mechanisms or model families (``modules``: names,
    or one comma-separated string as ``model.plugins`` records them); ``recorded_in`` names the file that
    asked for them, for the error a missing module gives."""
    names = [m.strip() for m in (modules.split(",") if isinstance(modules, str) else modules) if m.strip()]
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            where = f" (the model's {recorded_in} names it)" if recorded_in else ""
            raise UserError(f"cannot import plugin module {name!r}{where} ({exc}); is it on PYTHONPATH?") from None
