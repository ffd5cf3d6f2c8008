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
    needs: frozenset[str] | None = None  # a match contains one of these (None: unknown)


@dataclass(frozen=True)
class _Lexicon:
    rules: tuple[_Rule, ...]
    exclude: re.Pattern[str]
    context: int
    prefilter: re.Pattern[str] | None  # a text this does not match matches no rule


def _rarest(s: str, freq) -> str:
    return min(s, key=lambda ch: (freq.get(ch, 0), ch))


def _cost(s: str, freq) -> float:
    """Rough frequency of string ``s``: its rarest char's, less for each further char."""
    return (freq.get(_rarest(s, freq), 0) + 1) * 0.05 ** (len(s) - 1)


def _necessary(parsed, freq) -> set[str] | None:
    """Strings one of which every match of the parsed regex contains, or None if unknown.

    Handles what the lexicon uses: literals, groups, alternation, repeats, classes of
    literals, lookarounds and ``.``. Of several valid sets, the one whose rarest
    characters (by ``freq``) are rarest in total is returned.
    """
    from re import _constants as c

    candidates: list[set[str]] = []
    run = ""
    for op, av in parsed:
        if op is c.LITERAL:
            run += chr(av)
            continue
        if run:
            candidates.append({run})
            run = ""
        sub: set[str] | None = None
        if op is c.SUBPATTERN:
            sub = _necessary(av[3], freq)
        elif op is c.BRANCH:
            parts = [_necessary(p, freq) for p in av[1]]
            sub = None if any(p is None for p in parts) else set().union(*parts)
        elif op is c.IN:
            if all(o is c.LITERAL for o, _ in av):
                sub = {chr(v) for _, v in av}
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT) and av[0] >= 1:
            sub = _necessary(av[2], freq)
        if sub:
            candidates.append(sub)
    if run:
        candidates.append({run})
    if not candidates:
        return None
    return min(candidates, key=lambda s: sum(_cost(w, freq) for w in s))


def _needed_literals(patterns: list[str]) -> frozenset[str] | None:
    """Literal strings one of which every match of any of ``patterns`` contains."""
    from re import _parser

    from understand.segment import get_tokenizer

    freq = get_tokenizer().FREQ
    strings: set[str] = set()
    for pattern in patterns:
        parsed = _parser.parse(pattern)
        if parsed.state.flags & re.IGNORECASE:
            return None
        needed = _necessary(parsed, freq)
        if not needed:
            return None
        strings |= needed
    return frozenset(strings)


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
            needs=_needed_literals(r["patterns"]),
        )
        for r in raw["rule"]
    )
    # One alternation of every rule's literals, longest first: a plain alternation of
    # literals scans ~15x faster than the rules themselves, and most appeals match none.
    prefilter = None
    if all(r.needs for r in rules):
        literals = sorted(set().union(*(r.needs for r in rules)), key=lambda s: (-len(s), s))
        prefilter = re.compile("|".join(map(re.escape, literals)))
    return _Lexicon(rules, re.compile("|".join(raw["exclude"])), int(raw["context"]), prefilter)


def _clause_around(text: str, start: int, end: int, width: int) -> tuple[str, str]:
    """``(evidence, scope)`` of a match: up to ``width`` chars each side, not crossing a
    sentence end; ``scope``, where hypothetical wording cancels the match, ends at the
    match's own clause (the next comma). What a caller adds after a comma is a
    consequence of a present danger ("燃气泄漏了,随时可能爆炸"), not a doubt about it;
    wording before the match ("一旦发生火灾", "去年,小区着火了") is."""
    left = text[max(0, start - width) : start]
    right = text[end : end + width]
    for mark in "。!?;\n":
        left = left.rsplit(mark, 1)[-1]
        right = right.split(mark, 1)[0]
    head = left + text[start:end]
    return head + right, head + right.split(",", 1)[0]


def detect_emergency(text: str) -> EmergencyMatch | None:
    """The first emergency rule that ``text`` (normalised) matches, or ``None``."""
    lex = _lexicon()
    if lex.prefilter is not None and lex.prefilter.search(text) is None:
        return None
    for rule in lex.rules:
        if rule.needs is not None and not any(s in text for s in rule.needs):
            continue
        for m in rule.pattern.finditer(text):
            around, scope = _clause_around(text, m.start(), m.end(), lex.context)
            if lex.exclude.search(scope):
                continue
            if rule.requires is not None and not _confirmed(rule, text, m, lex):
                continue
            return EmergencyMatch(rule.reason, rule.service, around)
    return None


def _confirmed(rule: _Rule, text: str, m: re.Match[str], lex: _Lexicon) -> bool:
    """Whether a word ``rule`` requires ("受伤") occurs near match ``m``, in a clause of
    its own that is not hypothetical or reported ("导致多名学生受伤", "以免造成伤亡")."""
    assert rule.requires is not None
    for r in rule.requires.finditer(text, max(0, m.start() - rule.window), m.end() + rule.window):
        if not lex.exclude.search(_clause_around(text, r.start(), r.end(), lex.context)[1]):
            return True
    return False
