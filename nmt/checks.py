"""The one validation layer: every configuration field declares what it accepts, and every way a
value arrives (a CLI option, a ``--config`` file, a model's ``config.json``, ``nmt benchmark --set``,
``Config(...)`` in Python) goes through the same check before any work starts.

A field is declared with its default and its rule::

    units: int = num(256, 1, MAX_WIDTH)          # an integer from 1 to 65,536
    dropout: float = num(0.2, 0.0, 1.0, hi_open=True)   # a finite number in [0, 1)
    positions: str = choice("sinusoidal", "sinusoidal", "learned")

and the section inherits :class:`Checked`, whose ``__post_init__`` checks every field (types, finite
numbers, ranges, choices) and raises one-line :class:`~nmt.errors.UserError` naming
``section.field``, the accepted values and what was given. ``tests/unit/test_checks.py`` throws
random values at every field of every section (Hypothesis).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from nmt.errors import UserError

MAX_WIDTH = 65_536  # embedding, hidden and feed-forward widths
MAX_LAYERS = 64
MAX_STEPS = 10**12
MAX_VOCAB = 1_000_000


@dataclass(frozen=True)
class Rule:
    """What one field accepts: ``kind`` (int, float, str or bool), an inclusive or open numeric range,
    a set of choices, and whether None is allowed."""

    kind: type
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    choices: tuple = ()
    optional: bool = False
    note: str = ""
    valid_text: Callable[[str], bool] | None = None  # text: this test instead of "not empty"

    def describe(self) -> str:
        if self.kind is bool:
            text = "true or false"
        elif self.kind is dict:
            text = "a mapping"
        elif self.kind is str:
            text = ("one of " + ", ".join(self.choices) if self.choices
                    else "a text" if self.valid_text else "a non-empty text")
        else:
            what = "an integer" if self.kind is int else "a finite number"
            left = "(" if self.lo_open else "["
            right = ")" if self.hi_open else "]"
            text = f"{what} in {left}{_num(self.lo)}, {_num(self.hi)}{right}"
        text += " or null" if self.optional else ""
        return text + (f" ({self.note})" if self.note else "")

    def check(self, name: str, value: Any) -> Any:
        """The value (an int given for a float field becomes a float) or a one-line UserError."""
        if value is None and self.optional:
            return None
        if self.kind is bool:
            ok = isinstance(value, bool)
        elif self.kind is str:
            ok = isinstance(value, str) and (value in self.choices if self.choices else
                                             self.valid_text(value) if self.valid_text else bool(value.strip()))
        elif self.kind is dict:
            ok = isinstance(value, dict)
        elif self.kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool) and self._in_range(value)
        else:
            ok = (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
                  and self._in_range(value))
            value = float(value) if ok else value
        if not ok:
            hint = (" (a text: in YAML write numbers like 1.0e-3, with a dot)"
                    if isinstance(value, str) and self.kind in (int, float) else "")
            raise UserError(f"{name} must be {self.describe()}; got {_shown(value)}{hint}")
        return value

    def _in_range(self, value) -> bool:
        if self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo):
            return False
        return self.hi is None or (value < self.hi if self.hi_open else value <= self.hi)


def num(default, lo=None, hi=None, *, lo_open=False, hi_open=False, optional=False, note=""):
    """A numeric field: int if the default (or, for None, ``lo``) is an int, else float."""
    kind = type(default if default is not None else lo)
    kind = float if kind is float else int
    return field(default=default, metadata={"rule": Rule(kind, lo, hi, lo_open, hi_open, optional=optional, note=note)})


def choice(default: str, *choices: str):
    return field(default=default, metadata={"rule": Rule(str, choices=tuple(choices))})


def name(default: str):
    """A registry name (checked against the registry when the model is built: plug-ins add names)."""
    return field(default=default, metadata={"rule": Rule(str)})


def modules(default: str = ""):
    """Comma-separated Python module names (plug-ins), or empty."""
    return field(default=default, metadata={"rule": Rule(str, valid_text=_module_names,
                                                         note="comma-separated Python module names, or empty")})


def _module_names(text: str) -> bool:
    return text == "" or all(part and all(name.isidentifier() for name in part.split(".")) for part in text.split(","))


def flag(default: bool):
    return field(default=default, metadata={"rule": Rule(bool)})


def mapping(default=None):
    return field(default=default, metadata={"rule": Rule(dict, optional=True)})


def rule_of(f) -> Rule | None:
    return f.metadata.get("rule")


class Checked:
    """Mixin of frozen configuration sections: checks every declared field on construction (also on
    ``dataclasses.replace``), then the section's own cross-field rules in :meth:`check`."""

    SECTION: ClassVar[str] = ""

    def __post_init__(self) -> None:
        for f in fields(self):
            rule = rule_of(f)
            if rule is not None:
                value = rule.check(f"{self.SECTION}.{f.name}", getattr(self, f.name))
                object.__setattr__(self, f.name, value)
        self.check()

    def check(self) -> None:
        """Cross-field rules of the section (override); raise UserError."""


def unchecked_fields(cls) -> list[str]:
    """Fields of a configuration section that declare no rule (a test keeps this empty)."""
    return [f.name for f in fields(cls) if rule_of(f) is None]


def _num(x) -> str:
    if x is None:
        return "inf"
    return f"{x:,}" if isinstance(x, int) else f"{x:g}"


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ----- memory: sizes refused before anything is allocated ----------------------------------------
def physical_memory() -> int:
    """Bytes of RAM on this machine (``NMT_MEMORY_BYTES`` overrides, for tests)."""
    if os.environ.get("NMT_MEMORY_BYTES"):
        return int(os.environ["NMT_MEMORY_BYTES"])
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX: no check
        return 1 << 62


def gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB"


def check_memory(what: str, needed: float, describe: str) -> None:
    """Refuse with one line when ``needed`` bytes exceed this machine's memory."""
    have = physical_memory()
    if needed > have:
        raise UserError(f"{what} would need about {gib(needed)} ({describe}) and this machine has {gib(have)}; "
                        "choose smaller sizes")
