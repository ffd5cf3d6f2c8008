"""The dispatch catalogue (派单目录): departments, kinds of department and routing rules.

The catalogue is a TOML file staff can read and edit (``routing/data/catalogue.toml`` by
default, ``$HOTLINE_ROUTING_CATALOGUE`` to override). This module loads it into frozen
dataclasses and validates it as a whole, reporting every problem at once, so a bad edit
fails at start-up with a list of what to fix instead of misrouting appeals later.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from config.routing import CATALOGUE_PATH, TOPIC_PREFIX

#: Department codes become Kafka topic names (``assign.<code>``): Kafka allows
#: ``[a-zA-Z0-9._-]``; upper case is excluded so codes never differ only by case.
_CODE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
#: Kafka's limit on topic name length.
_MAX_TOPIC_LENGTH = 249
LEVELS = ("district", "city")
#: Rule id reserved for decisions no rule covered.
FALLBACK_RULE_ID = "fallback"
#: Kinds with a special role in routing.
GOVERNMENT_KIND = "zf"
STREET_KIND = "jd"


class CatalogueError(ValueError):
    """The catalogue file is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[str], source: str = "catalogue") -> None:
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s):\n  - " + "\n  - ".join(problems))


@dataclass(frozen=True)
class Kind:
    """A kind of department (职能), e.g. ``zjj`` = 住房和城乡建设局."""

    key: str
    name: str
    responsibilities: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Unit:
    """An administrative unit the centre dispatches to: the city or one of its districts."""

    name: str
    code: str


@dataclass(frozen=True)
class Department:
    """One department that can receive assignments, with its own Kafka topic."""

    code: str
    name: str
    kind: str
    serves: tuple[str, ...]
    responsibilities: str
    #: For streets and towns: the place name as appeals write it, e.g. ``泉塘街道``.
    place: str | None = None


@dataclass(frozen=True)
class Rule:
    """A routing rule: which appeals it covers and which department leads them."""

    id: str
    name: str
    lead: str
    level: str
    explanation: str
    assist: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subcategories: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


# eq=False: compared and hashed by identity, so look-up tables can be cached per catalogue.
@dataclass(frozen=True, eq=False)
class Catalogue:
    """The validated catalogue with look-ups by code, by kind and unit, and by place."""

    version: int
    city: str
    centre: str
    units: tuple[Unit, ...]
    kinds: Mapping[str, Kind]
    departments: tuple[Department, ...]
    rules: tuple[Rule, ...]
    _by_code: dict[str, Department] = field(default_factory=dict, repr=False, compare=False)
    _by_kind_unit: dict[tuple[str, str], Department] = field(
        default_factory=dict, repr=False, compare=False
    )
    _streets: dict[str, tuple[Department, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for dept in self.departments:
            self._by_code[dept.code] = dept
            for unit in dept.serves:
                # Streets share kind and unit; they are found by place name, not here.
                if dept.kind != STREET_KIND:
                    self._by_kind_unit.setdefault((dept.kind, unit), dept)
        by_unit: dict[str, list[Department]] = {}
        streets = (d for d in self.departments if d.kind == STREET_KIND)
        for street in sorted(streets, key=lambda d: -len(d.place or "")):
            for unit in street.serves:
                by_unit.setdefault(unit, []).append(street)
        self._streets.update((unit, tuple(found)) for unit, found in by_unit.items())

    def department(self, code: str) -> Department:
        """Return the department with this code; ``KeyError`` if there is none."""
        return self._by_code[code]

    def find(self, kind: str, unit: str) -> Department | None:
        """Return the department of ``kind`` serving ``unit`` (e.g. ``zjj``, ``A3区``)."""
        return self._by_kind_unit.get((kind, unit))

    def unit(self, name: str) -> Unit | None:
        """Return the unit with this name (``A市``, ``A3区``), or ``None``."""
        return next((u for u in self.units if u.name == name), None)

    def district_by_place(self, text: str) -> str | None:
        """The one district whose streets or towns ``text`` names by their full place name
        (``泉塘街道``, not a bare ``泉塘``), or ``None`` if it names none, or several
        districts' (a street alone often tells where an appeal is when no district does)."""
        found = [
            unit
            for unit, streets in self._streets.items()
            if any(s.place and s.place in text for s in streets)
        ]
        return found[0] if len(found) == 1 else None

    def streets(self, unit: str) -> tuple[Department, ...]:
        """Streets and towns (街道/镇) of a district, longest place name first."""
        return self._streets.get(unit, ())

    @property
    def centre_department(self) -> Department:
        """The 12345 centre itself: the lead for what needs manual dispatch."""
        return self._by_code[self.centre]


def department_topic(code: str, prefix: str = TOPIC_PREFIX) -> str:
    """Kafka topic carrying the assignments of one department: ``assign.<code>``.

    Raises ``ValueError`` for a code that is not a valid topic-name part, so a typo in
    the catalogue can never create a stray topic.
    """
    if not _CODE.match(code):
        raise ValueError(f"department code {code!r} is not lower-case ASCII [a-z0-9._-]")
    topic = prefix + code
    if len(topic) > _MAX_TOPIC_LENGTH:
        raise ValueError(f"topic {topic!r} is longer than Kafka's {_MAX_TOPIC_LENGTH} chars")
    return topic


def _strings(value: Any, where: str, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        problems.append(f"{where}: expected a list of non-empty strings, got {value!r}")
        return ()
    return tuple(value)


def _text(entry: Mapping[str, Any], key: str, where: str, problems: list[str]) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: missing or empty {key!r}")
        return ""
    return value


def parse_catalogue(data: Mapping[str, Any], source: str = "catalogue") -> Catalogue:
    """Build a :class:`Catalogue` from parsed TOML, raising :class:`CatalogueError`.

    Checks: unique, topic-safe department codes; known kinds and units; a government for
    every district; the centre exists; unique rule ids (``fallback`` is reserved); rule
    lead and assist kinds exist; city-level rules have a city department to lead.
    """
    problems: list[str] = []

    units: list[Unit] = []
    for i, raw in enumerate(data.get("units") or []):
        where = f"units[{i}]"
        units.append(Unit(name=_text(raw, "name", where, problems), code=raw.get("code", "")))
        if not _CODE.match(units[-1].code):
            problems.append(f"{where}: code {units[-1].code!r} is not lower-case ASCII")
    unit_names = {u.name for u in units}
    city = data.get("city", "")
    if city not in unit_names:
        problems.append(f"city {city!r} is not one of the units")

    kinds: dict[str, Kind] = {}
    for key, raw in (data.get("kinds") or {}).items():
        where = f"kinds.{key}"
        kinds[key] = Kind(
            key=key,
            name=_text(raw, "name", where, problems),
            responsibilities=_text(raw, "responsibilities", where, problems),
            aliases=_strings(raw.get("aliases"), f"{where}.aliases", problems),
        )
    for special in (GOVERNMENT_KIND, STREET_KIND):
        if special not in kinds:
            problems.append(f"kinds.{special} is required (district government / streets)")

    departments: list[Department] = []
    seen_codes: set[str] = set()
    for i, raw in enumerate(data.get("departments") or []):
        code = raw.get("code", "")
        where = f"departments[{i}] ({code or 'no code'})"
        if not isinstance(code, str) or not _CODE.match(code):
            problems.append(f"{where}: code must be lower-case ASCII [a-z0-9._-]")
        elif len(TOPIC_PREFIX + code) > _MAX_TOPIC_LENGTH:
            problems.append(f"{where}: code too long for a Kafka topic")
        if code in seen_codes:
            problems.append(f"{where}: duplicate code")
        seen_codes.add(code)
        kind = raw.get("kind", "")
        if kind not in kinds:
            problems.append(f"{where}: unknown kind {kind!r}")
        serves = _strings(raw.get("serves"), f"{where}.serves", problems)
        if not serves:
            problems.append(f"{where}: serves no unit")
        problems.extend(f"{where}: unknown unit {u!r}" for u in serves if u not in unit_names)
        place = raw.get("place")
        if kind == STREET_KIND and not place:
            problems.append(f"{where}: a street or town needs its place name")
        responsibilities = raw.get("responsibilities") or (
            kinds[kind].responsibilities if kind in kinds else ""
        )
        departments.append(
            Department(
                code=code,
                name=_text(raw, "name", where, problems),
                kind=kind,
                serves=serves,
                responsibilities=responsibilities,
                place=place,
            )
        )

    by_kind_unit = {(d.kind, u) for d in departments for u in d.serves}
    for unit in units:
        if unit.name != city and (GOVERNMENT_KIND, unit.name) not in by_kind_unit:
            problems.append(f"district {unit.name} has no government (kind {GOVERNMENT_KIND})")
    centre = data.get("centre", "")
    if centre not in seen_codes:
        problems.append(f"centre {centre!r} is not a department code")

    rules: list[Rule] = []
    seen_rules: set[str] = set()
    for i, raw in enumerate(data.get("rules") or []):
        rule_id = raw.get("id", "")
        where = f"rules[{i}] ({rule_id or 'no id'})"
        if not rule_id or rule_id == FALLBACK_RULE_ID or rule_id in seen_rules:
            problems.append(f"{where}: id missing, duplicate or reserved ({FALLBACK_RULE_ID!r})")
        seen_rules.add(rule_id)
        lead, level = raw.get("lead", ""), raw.get("level", "district")
        if lead not in kinds:
            problems.append(f"{where}: unknown lead kind {lead!r}")
        if level not in LEVELS:
            problems.append(f"{where}: level must be one of {LEVELS}, got {level!r}")
        if level == "city" and (lead, city) not in by_kind_unit:
            problems.append(f"{where}: city-level rule but no {lead!r} department serves {city}")
        assist = _strings(raw.get("assist"), f"{where}.assist", problems)
        problems.extend(f"{where}: unknown assist kind {k!r}" for k in assist if k not in kinds)
        rule = Rule(
            id=rule_id,
            name=_text(raw, "name", where, problems),
            lead=lead,
            level=level,
            explanation=_text(raw, "explanation", where, problems),
            assist=assist,
            categories=_strings(raw.get("categories"), f"{where}.categories", problems),
            subcategories=_strings(raw.get("subcategories"), f"{where}.subcategories", problems),
            keywords=_strings(raw.get("keywords"), f"{where}.keywords", problems),
        )
        if not (rule.keywords or rule.categories or rule.subcategories):
            problems.append(f"{where}: needs keywords, categories or subcategories to ever fire")
        rules.append(rule)

    if problems:
        raise CatalogueError(problems, source)
    return Catalogue(
        version=int(data.get("version", 1)),
        city=city,
        centre=centre,
        units=tuple(units),
        kinds=kinds,
        departments=tuple(departments),
        rules=tuple(rules),
    )


@lru_cache(maxsize=4)
def load_catalogue(path: Path | str | None = None) -> Catalogue:
    """Load and validate the catalogue (default: ``$HOTLINE_ROUTING_CATALOGUE``); cached."""
    path = Path(path) if path is not None else CATALOGUE_PATH
    with path.open("rb") as f:
        data = tomllib.load(f)
    return parse_catalogue(data, source=str(path))
