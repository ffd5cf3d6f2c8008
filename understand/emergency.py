"""Spotting appeals that describe an emergency, so they are transferred at once.

Rules live in ``data/emergency_lexicon.toml``: words for fire, gas leaks, trapped people,
drowning, traffic accidents with injuries, suicide threats, violence and acute illness,
each with the service that handles it (110 police / 119 fire / 120 ambulance / 122 traffic
police). Mailbox appeals talk about hazards all the time ("消防通道被占用", "存在安全隐患",
"一旦发生火灾后果不堪设想"); matches near such hypothetical, preventive or past-tense
wording are dropped, and so are negated or denied ones ("没有人受伤", "无人被困", "不是煤气泄漏")
and dangers dealt with already ("煤气泄漏已经处理好了"). The
rules favour recall of present danger over precision only within that limit: every match
sends a person a review, never an automatic dispatch.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

#: A time in the past relative to now, days or more ago (三天前, 半个月前, 前几天, 上星期,
#: 那时): added to the lexicon's ``exclude``, which names absolute and named times (去年,
#: 上周, 5月13日). Minutes and hours ago (十分钟前) are still now.
_RELATIVE_PAST = (
    r"[0-9零一二两三四五六七八九十百几半多]+个?(?:天|日|周|星期|礼拜|月|年)(?:以|之)?前"
    r"|前(?:几|两|些|一)(?:天|日|个?月|年|周|星期)|前一?段时间|前一?阵|上个?(?:星期|礼拜)|那时"
)
#: A negation right before a match or a required word: 没有人落水 (the rule reads 有人落水),
#: 没有燃气泄漏, 所幸无人受伤, 未造成人员受伤, 司机没有受伤. Only the words in between that
#: keep it the same statement are allowed (无辜行人受伤, 未成年人, 没想到有人… are not), and
#: 没/无 ending another word negate nothing (淹没被困在楼顶的老人, 有无人受伤). 不是 and 并非
#: deny what follows (不是煤气泄漏,是下水道的味道); 是不是 asks about it, which a caller with
#: a suspicion does (是不是煤气泄漏了): that stays a match.
_NEGATED = re.compile(
    r"(?:(?<![淹埋吞沉覆出])没有?|(?<!有)无|未|不曾|(?<!是)(?:并)?不是|并非)"
    r"(?:有|造成)?(?:任何)?(?:人员|一人|人)?$"
)


def _negated(text: str, start: int) -> bool:
    """Whether the match starting at ``start`` is negated (see ``_NEGATED``)."""
    return _NEGATED.search(text, max(0, start - 8), start) is not None


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
    needs_any: re.Pattern[str] | None = None  # ``needs`` as one alternation (faster than any())
    reported: bool = False  # only in a call-centre report of a call ("来电人称家中着火")


@dataclass(frozen=True)
class _Lexicon:
    rules: tuple[_Rule, ...]
    exclude: re.Pattern[str]
    context: int
    prefilter: re.Pattern[str] | None  # a text this does not match matches no rule
    #: how a call-centre agent opens a work order ("来电人称…"), or None
    report_frame: re.Pattern[str] | None = None
    #: the prefilter of a report (its own rules too), or None
    report_prefilter: re.Pattern[str] | None = None
    #: how far past the frame a report's own rules look (the call, not a long story)
    report_window: int = 80


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
        before, run = run, ""
        if before:
            candidates.append({before})
        sub: set[str] | None = None
        if op is c.SUBPATTERN:
            sub = _necessary(av[3], freq)
        elif op is c.BRANCH:
            if before and all(o is c.LITERAL for p in av[1] for o, _ in p):
                # 偷(车|电动车): the parser moves a shared first char out of the branch;
                # the literal before it and each alternative make the rarer strings
                candidates.append({before + "".join(chr(v) for _, v in p) for p in av[1]})
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


def _rule(r: dict) -> _Rule:
    needs = _needed_literals(r["patterns"])
    return _Rule(
        reason=r["reason"],
        service=r["service"],
        pattern=re.compile("|".join(f"(?:{p})" for p in r["patterns"])),
        requires=re.compile("|".join(r["requires"])) if r.get("requires") else None,
        window=int(r.get("window", 40)),
        needs=needs,
        needs_any=_alternation(needs) if needs else None,
        reported=bool(r.get("reported", False)),
    )


@lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    raw = tomllib.loads(
        resources.files("understand.data").joinpath("emergency_lexicon.toml").read_text("utf-8")
    )
    rules = tuple(_rule(r) for r in raw["rule"])
    # One alternation of every rule's literals, longest first: a plain alternation of
    # literals scans ~15x faster than the rules themselves, and most appeals match none.
    # Reports have a prefilter of their own: their rules' bare words (着火, 昏迷) are
    # common in complaints, and would let most complaints past a shared one.
    prefilter = report_prefilter = None
    if all(r.needs for r in rules):
        prefilter = _alternation(set().union(*(r.needs for r in rules if not r.reported)))
        report_prefilter = _alternation(set().union(*(r.needs for r in rules)))
    exclude = re.compile("|".join([*raw["exclude"], _RELATIVE_PAST]))
    frame = re.compile(raw["report_frame"]) if raw.get("report_frame") else None
    window = int(raw.get("report_window", 80))
    return _Lexicon(rules, exclude, int(raw["context"]), prefilter, frame, report_prefilter, window)


def emergency_reasons() -> dict[str, str]:
    """Every reason the rules give, with its service (e.g. ``{"火灾": "119", …}``)."""
    return {r.reason: r.service for r in _lexicon().rules}


def _alternation(literals: Iterable[str]) -> re.Pattern[str]:
    """One regex that finds whether any of ``literals`` occurs (not which one).

    Written as a trie (火(?:势|灾)|…): the regex engine tries one branch per first
    character instead of every literal, 1.7x faster for the prefilter's 250 literals. A
    literal that starts with another one is dropped: the shorter one is found anyway.
    """
    return re.compile(_trie(sorted(set(literals))))


def _trie(literals: list[str]) -> str:
    """Regex source of a trie of sorted, distinct, non-empty ``literals``."""
    by_first: dict[str, list[str]] = {}
    for s in literals:
        by_first.setdefault(s[0], []).append(s[1:])
    branches = []
    for first, rests in by_first.items():
        if "" in rests:  # the char alone is one of the literals: the longer ones add nothing
            branches.append(re.escape(first))
        elif len(rests) == 1:
            branches.append(re.escape(first + rests[0]))
        else:
            branches.append(f"{re.escape(first)}(?:{_trie(rests)})")
    return "|".join(branches)


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
    frame = lex.report_frame.match(text) if lex.report_frame is not None else None
    prefilter = lex.report_prefilter if frame is not None else lex.prefilter
    if prefilter is not None and prefilter.search(text) is None:
        return None
    for rule in lex.rules:
        end = len(text)
        if rule.reported:
            if frame is None:
                continue
            end = frame.end() + lex.report_window
        if rule.needs_any is not None and rule.needs_any.search(text, 0, end) is None:
            continue
        for m in rule.pattern.finditer(text, 0, end):
            if _negated(text, m.start()):
                continue
            around, scope = _clause_around(text, m.start(), m.end(), lex.context)
            if lex.exclude.search(scope):
                continue
            if rule.requires is not None and not _confirmed(rule, text, m, lex):
                continue
            return EmergencyMatch(rule.reason, rule.service, around)
    return None


def _confirmed(rule: _Rule, text: str, m: re.Match[str], lex: _Lexicon) -> bool:
    """Whether a word ``rule`` requires ("受伤") occurs near match ``m``, in a clause of
    its own that is not hypothetical, reported or negated ("导致多名学生受伤", "以免造成伤亡",
    "所幸无人受伤")."""
    assert rule.requires is not None
    for r in rule.requires.finditer(text, max(0, m.start() - rule.window), m.end() + rule.window):
        if _negated(text, r.start()):
            continue
        if not lex.exclude.search(_clause_around(text, r.start(), r.end(), lex.context)[1]):
            return True
    return False
