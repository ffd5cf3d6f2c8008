"""Reading settings from environment variables, with a registry for documentation.

Every setting of the project is declared with :func:`setting` in one of the modules of
this package, so ``hotline config`` (and the README table) can list every variable,
its default and what it means.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

PREFIX = "HOTLINE_"


@dataclass(frozen=True)
class SettingDoc:
    """One documented environment variable."""

    name: str
    default: str
    doc: str


REGISTRY: dict[str, SettingDoc] = {}


def setting(name: str, default: str, doc: str) -> str:
    """Return ``$HOTLINE_<name>`` or ``default``, and record the setting's documentation."""
    var = PREFIX + name
    REGISTRY[var] = SettingDoc(var, default, doc)
    return os.environ.get(var, default)


def int_setting(name: str, default: int, doc: str) -> int:
    """Like :func:`setting`, parsed as an integer with a clear error."""
    raw = setting(name, str(default), doc)
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{PREFIX}{name} must be an integer, got {raw!r}") from None


def float_setting(name: str, default: float, doc: str) -> float:
    """Like :func:`setting`, parsed as a float with a clear error."""
    raw = setting(name, str(default), doc)
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{PREFIX}{name} must be a number, got {raw!r}") from None
