"""Spotting appeals that describe an emergency, so they are transferred at once.

Rules live in ``data/emergency_lexicon.toml``: words for fire, gas leaks, trapped people,
drowning, traffic accidents with injuries, suicide threats, violence and acute illness,
each with the service that handles it (110 police / 119 fire / 120 ambulance / 122 traffic
police). Mailbox appeals talk about hazards all the time ("消防通道被占用", "存在安全隐患",
"一旦发生火灾后果不堪设想"); matches near such hypothetical, preventive or past-tense
wording are dropped. The rules favour recall of present danger over precision only within
that limit: every match sends a person a review, never an automatic dispatch.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class EmergencyMatch:
    """An emergency found in an appeal."""

    reason: str  # e.g. 火灾
    service: str  # 110 / 119 / 120 / 122
    evidence: str  # matched text with a little context


@dataclass(frozen=True)
class _Rule:
    reason: str
    service: str
    pattern: re.Pattern[str]
    requires: re.Pattern[str] | None
    window: int


@dataclass(frozen=True)
class _Lexicon:
    rules: tuple[_Rule, ...]
    exclude: re.Pattern[str]
    context: int


@lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    raw = tomllib.loads(
        resources.files("understand.data").joinpath("emergency_lexicon.toml").read_text("utf-8")
    )
    rules = tuple(
        _Rule(
            reason=r["reason"],
            service=r["service"],
            pattern=re.compile("|".join(f"(?:{p})" for p in r["patterns"])),
            requires=re.compile("|".join(r["requires"])) if r.get("requires") else None,
            window=int(r.get("window", 40)),
        )
        for r in raw["rule"]
    )
    return _Lexicon(rules, re.compile("|".join(raw["exclude"])), int(raw["context"]))


def _clause_around(text: str, start: int, end: int, width: int) -> str:
    """Up to ``width`` chars each side of a match, not crossing a sentence end."""
    left = text[max(0, start - width) : start]
    right = text[end : end + width]
    for mark in "。!?;\n":
        left = left.rsplit(mark, 1)[-1]
        right = right.split(mark, 1)[0]
    return left + text[start:end] + right


def detect_emergency(text: str) -> EmergencyMatch | None:
    """The first emergency rule that ``text`` (normalised) matches, or ``None``."""
    lex = _lexicon()
    for rule in lex.rules:
        for m in rule.pattern.finditer(text):
            around = _clause_around(text, m.start(), m.end(), lex.context)
            if lex.exclude.search(around):
                continue
            if rule.requires is not None:
                near = text[max(0, m.start() - rule.window) : m.end() + rule.window]
                if not rule.requires.search(near):
                    continue
            return EmergencyMatch(rule.reason, rule.service, around)
    return None
