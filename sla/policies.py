"""Time-limit policies as data (``sla/data/policies.toml``) and the rules that pick one.

A policy says how long each clock may run (whole case, sign-for, handling), how soon a
wrongly assigned case may be returned, and how many/long extensions are allowed. Each
duration carries its own kind of time: working time (``wd``/``wh``/``wm``) or wall time
(``d``/``h``/``m``), so an emergency runs through the night while a general appeal does not.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any


class ClockMode(StrEnum):
    """Which time a clock counts."""

    WORKING = "w"  # working time: stands still outside working periods
    WALL = "c"  # wall-clock (calendar) time: always runs


_UNITS: dict[str, tuple[ClockMode, int | None]] = {
    # unit → (mode, seconds per unit; None = one working day, known only from the hours)
    "wd": (ClockMode.WORKING, None),
    "wh": (ClockMode.WORKING, 3600),
    "wm": (ClockMode.WORKING, 60),
    "d": (ClockMode.WALL, 86400),
    "h": (ClockMode.WALL, 3600),
    "m": (ClockMode.WALL, 60),
    "s": (ClockMode.WALL, 1),  # for short test limits
}
_DURATION = re.compile(r"^\s*(\d+)\s*(wd|wh|wm|d|h|m|s)\s*$")


@dataclass(frozen=True)
class Duration:
    """An allowed time such as ``5wd`` (5 working days) or ``24h`` (24 wall-clock hours)."""

    amount: int
    unit: str

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Parse ``"<number><unit>"``; units ``wd wh wm`` (working) and ``d h m s`` (wall)."""
        m = _DURATION.match(str(text))
        if not m:
            raise ValueError(f"bad duration {text!r}: want e.g. 5wd, 2wh, 30wm, 24h, 30m, 1d")
        return cls(int(m.group(1)), m.group(2))

    @property
    def mode(self) -> ClockMode:
        """Working or wall time."""
        return _UNITS[self.unit][0]

    def seconds(self, day_seconds: int) -> int:
        """Length in seconds of its own time; ``day_seconds`` is one working day."""
        per = _UNITS[self.unit][1]
        return self.amount * (day_seconds if per is None else per)

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


@dataclass(frozen=True)
class Policy:
    """Time limits for one kind of appeal."""

    key: str
    name: str
    case: Duration
    sign_for: Duration
    handling: Duration
    return_window: Duration
    max_extensions: int
    max_extension_days: int


@dataclass(frozen=True)
class Rule:
    """Picks ``policy`` when every given criterion matches (empty criterion = any)."""

    policy: str
    appeal_types: tuple[str, ...] = ()
    urgencies: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def matches(
        self, appeal_type: str | None, category: str | None, urgency: str | None, tags: set[str]
    ) -> bool:
        """True if the appeal satisfies every criterion of the rule."""
        if self.appeal_types and appeal_type not in self.appeal_types:
            return False
        if self.urgencies and urgency not in self.urgencies:
            return False
        if self.categories and not (
            category and any(_category_prefix(category, c) for c in self.categories)
        ):
            return False
        return all(t in tags for t in self.tags)


def _category_prefix(category: str, prefix: str) -> bool:
    # Prefix by whole levels: "城乡建设/安全生产" matches "城乡建设/安全生产/安全隐患" but
    # "城乡建设/安全" does not.
    return category == prefix or category.startswith(prefix.rstrip("/") + "/")


class UnknownPolicyError(KeyError):
    """A policy the policies file does not define (removed or renamed since a case began)."""


@dataclass(frozen=True)
class PolicyBook:
    """All policies and the ordered rules choosing among them."""

    policies: Mapping[str, Policy]
    rules: tuple[Rule, ...]
    default: str

    def get(self, key: str) -> Policy:
        """The policy named ``key``; :class:`UnknownPolicyError` (a ``KeyError``) if unknown."""
        try:
            return self.policies[key]
        except KeyError:
            raise UnknownPolicyError(
                f"policy {key!r} is not in the policies file (removed or renamed after the "
                "case began? restore it, then replay the dead letters)"
            ) from None

    @property
    def tags(self) -> frozenset[str]:
        """Every tag some rule reads (what a dispatcher can usefully set)."""
        return frozenset(t for rule in self.rules for t in rule.tags)

    def select(
        self,
        appeal_type: str | None = None,
        category: str | None = None,
        urgency: str | None = None,
        tags: Iterable[str] = (),
    ) -> Policy:
        """The policy of the first matching rule, else the default policy."""
        tagset = set(tags)
        for rule in self.rules:
            if rule.matches(appeal_type, category, urgency, tagset):
                return self.policies[rule.policy]
        return self.policies[self.default]


def parse_policies(data: Mapping[str, Any], source: str = "policies") -> PolicyBook:
    """Validate a parsed policies document, reporting every problem at once."""
    problems: list[str] = []
    policies: dict[str, Policy] = {}
    for key, p in (data.get("policy") or {}).items():
        try:
            policy = Policy(
                key=key,
                name=str(p.get("name", key)),
                case=Duration.parse(p["case"]),
                sign_for=Duration.parse(p["sign_for"]),
                handling=Duration.parse(p["handling"]),
                return_window=Duration.parse(p.get("return_window", "2wh")),
                max_extensions=int(p.get("max_extensions", 0)),
                max_extension_days=int(p.get("max_extension_days", 0)),
            )
        except KeyError as e:
            problems.append(f"policy.{key}: missing {e.args[0]}")
            continue
        except (ValueError, TypeError) as e:
            problems.append(f"policy.{key}: {e}")
            continue
        # Policy keys are stored in every case hash: keep them short and plain.
        if not re.fullmatch(r"[a-z0-9_]{1,16}", key):
            problems.append(f"policy.{key}: key must be 1-16 of [a-z0-9_]")
        if policy.max_extensions < 0 or policy.max_extension_days < 0:
            problems.append(f"policy.{key}: extension limits must not be negative")
        if policy.max_extensions and policy.max_extension_days == 0:
            problems.append(f"policy.{key}: max_extensions > 0 needs max_extension_days > 0")
        policies[key] = policy
    rules: list[Rule] = []
    for i, r in enumerate(data.get("rule") or []):
        if r.get("policy") not in policies:
            problems.append(f"rule[{i}]: unknown policy {r.get('policy')!r}")
            continue
        unknown = set(r) - {"policy", "appeal_types", "urgencies", "categories", "tags"}
        if unknown:
            problems.append(f"rule[{i}]: unknown criteria {sorted(unknown)}")
        for name in ("appeal_types", "urgencies", "categories", "tags"):
            # `urgencies = "emergency"` would read as the characters e, m, e, …: a rule
            # that silently never matches
            value = r.get(name, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append(f"rule[{i}]: {name} must be a list of strings")
        rules.append(
            Rule(
                policy=r["policy"],
                appeal_types=tuple(r.get("appeal_types", ())),
                urgencies=tuple(r.get("urgencies", ())),
                categories=tuple(r.get("categories", ())),
                tags=tuple(r.get("tags", ())),
            )
        )
    default = data.get("default")
    if default not in policies:
        problems.append(f"default policy {default!r} is not defined")
    if problems:
        raise ValueError(f"{source}: " + "; ".join(problems))
    return PolicyBook(policies=policies, rules=tuple(rules), default=default)


@lru_cache(maxsize=8)
def load_policies(path: Path | str) -> PolicyBook:
    """Read and validate a policies TOML file (cached per path)."""
    p = Path(path)
    with p.open("rb") as fh:
        return parse_policies(tomllib.load(fh), source=str(p))
