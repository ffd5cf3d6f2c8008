"""Reading settings from environment variables, with a registry for documentation.

Every setting of the project is declared with :func:`setting` in one of the modules of
this package, so ``hotline config`` (and the README table) can list every variable,
its default and what it means.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PREFIX = "HOTLINE_"


@dataclass(frozen=True)
class SettingDoc:
    """One documented environment variable."""

    name: str
    default: str
    doc: str


REGISTRY: dict[str, SettingDoc] = {}


class SettingError(ValueError):
    """A ``HOTLINE_*`` variable whose value cannot be used; the message names it. Commands
    and the worker say it in one line and exit 2."""


def setting(name: str, default: str, doc: str) -> str:
    """Return ``$HOTLINE_<name>`` or ``default``, and record the setting's documentation."""
    var = PREFIX + name
    REGISTRY[var] = SettingDoc(var, default, doc)
    return os.environ.get(var, default)


def int_setting(
    name: str, default: int, doc: str, *, low: int | None = None, high: int | None = None
) -> int:
    """Like :func:`setting`, parsed as an integer from ``low`` to ``high`` (inclusive, either
    may be left open), with a clear error: an out-of-range value (a port of 99999, a batch
    size of 0) otherwise failed later, deep inside Redis, Kafka or faust, as a traceback."""
    raw = setting(name, str(default), doc)
    if low is not None and high is not None:
        span = f" from {low} to {high}"
    elif low is not None:
        span = f" of {low} or more"
    elif high is not None:
        span = f" of {high} or less"
    else:
        span = ""
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or (low is not None and value < low) or (high is not None and value > high):
        raise SettingError(f"{PREFIX}{name} must be an integer{span}, got {raw!r}")
    return value


def float_setting(
    name: str, default: float, doc: str, *, low: float = 0.0, high: float | None = None
) -> float:
    """Like :func:`setting`, parsed as a finite float from ``low`` to ``high`` (inclusive),
    with a clear error. NaN and infinities are refused: a threshold of ``nan`` compares
    false with everything, which silently turns a check (human review) off."""
    raw = setting(name, str(default), doc)
    span = f"from {low:g} to {high:g}" if high is not None else f"of {low:g} or more"
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < low or (high is not None and value > high):
        raise SettingError(f"{PREFIX}{name} must be a number {span}, got {raw!r}")
    return value


def zone_setting(name: str, default: str, doc: str) -> str:
    """Like :func:`setting`, an IANA time zone name (``Asia/Shanghai``) that exists here: a
    misspelt one failed deep inside the first date computed, as a traceback."""
    raw = setting(name, default, doc)
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingError(
            f"{PREFIX}{name} must be a time zone name such as Asia/Shanghai, got {raw!r}"
        ) from None
    return raw


#: What redis-py's ``from_url`` accepts.
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def redis_url_setting(name: str, default: str, doc: str) -> str:
    """Like :func:`setting`, a Redis URL with its scheme: ``localhost:6379`` alone failed
    in redis-py at the first connection, as a traceback."""
    raw = setting(name, default, doc)
    if not raw.startswith(REDIS_SCHEMES):
        raise SettingError(
            f"{PREFIX}{name} must be a Redis URL starting with "
            f"{', '.join(REDIS_SCHEMES)} (e.g. redis://localhost:6379/0), got {raw!r}"
        )
    return raw
