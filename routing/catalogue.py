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
from understand.dataset import CATEGORIES
from understand.taxonomy import level2_by_category

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
#: The keys each part of the catalogue may have. Any other key is a typo (``levle``) or a
#: feature the catalogue does not have (a rule's ``district``): ignored, it would change
#: routing without a word, so it is reported.
_KEYS = {
    "top level": {
        "version",
        "city",
        "centre",
        "emergencies",
        "units",
        "kinds",
        "departments",
        "rules",
    },
    "units": {"name", "code"},
    "kinds": {"name", "responsibilities", "aliases"},
    "departments": {"code", "name", "kind", "serves", "responsibilities", "place"},
    "rules": {
        "id",
        "name",
        "lead",
        "level",
        "explanation",
        "assist",
        "categories",
        "subcategories",
        "keywords",
    },
}


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
    #: emergency service (110/119/120/122) or reason (燃气泄漏) → kind of department that
    #: follows up such an emergency when nothing in the text chose one
    emergencies: Mapping[str, str] = field(default_factory=dict)
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

    def unknown_code(self, code: str) -> str:
        """Why ``code`` is not a department, with the codes meant most likely: the same kind
        elsewhere (``a3.rq`` → ``a.rq``: the gas company serves the whole city), codes
        spelt alike, or departments whose name contains it (``燃气``, ``A3区住房``)."""
        import difflib

        kind = code.rsplit(".", 1)[-1]
        same_kind = [d for d in self.departments if d.kind == kind]
        by_name = [d for d in self.departments if code and code in d.name]
        alike = difflib.get_close_matches(code, list(self._by_code), n=3, cutoff=0.75)
        seen: dict[str, Department] = {}
        for dept in [*(self._by_code[c] for c in alike), *by_name, *same_kind]:
            seen.setdefault(dept.code, dept)
        hint = ", ".join(f"{d.code} ({d.name})" for d in list(seen.values())[:5])
        return f"unknown department code {code!r}" + (f"; did you mean {hint}?" if hint else "")

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


def _padded(value: str) -> bool:
    """Blank, or with leading or trailing spaces (the full-width U+3000 included)."""
    return not value.strip() or value != value.strip()


def _strings(value: Any, where: str, problems: list[str]) -> tuple[str, ...]:
    # Every list is matched against text or names: a blank word (a full-width space) is in
    # countless appeals, a padded one in none.
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and not _padded(v) for v in value):
        problems.append(
            f"{where}: expected a list of non-empty strings without leading or trailing "
            f"spaces, got {value!r}"
        )
        return ()
    return tuple(value)


def _string(
    entry: Mapping[str, Any], key: str, where: str, problems: list[str], default: str = ""
) -> str | None:
    """A key holding one name or code (``lead``, ``kind`` …); ``None`` after reporting any
    other type (a list of two leads, a number), so no further check repeats the problem."""
    value = entry.get(key, default)
    if isinstance(value, str):
        return value
    problems.append(f"{where}: {key!r} must be a string, got {value!r}")
    return None


def _tables(data: Mapping[str, Any], key: str, problems: list[str]) -> list[tuple[int, dict]]:
    """The entries of a ``[[key]]`` list with their positions; other values are reported."""
    value = data.get(key) or []
    if not isinstance(value, list):
        problems.append(f"{key}: expected a list of tables ([[{key}]]), got {value!r:.60}")
        return []
    out = []
    for i, entry in enumerate(value):
        if isinstance(entry, dict):
            out.append((i, entry))
        else:
            problems.append(f"{key}[{i}]: expected a table {{ … }}, got {entry!r:.60}")
    return out


def _unknown_keys(entry: Mapping[str, Any], part: str, where: str, problems: list[str]) -> None:
    known = _KEYS[part]
    problems.extend(
        f"{where}: unknown key {key!r} (known: {', '.join(sorted(known))})"
        for key in entry
        if key not in known
    )


@lru_cache(maxsize=1)
def _subcategories() -> frozenset[str]:
    """Second-level categories of the label taxonomy (what the classifier passes on)."""
    return frozenset(name for names in level2_by_category().values() for name in names)


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
    lead and assist kinds exist and have departments; city-level rules have a city
    department to lead; rule
    categories and subcategories exist in the taxonomy; no two departments of one kind
    serve one unit (no two streets one place); every value has its type, no key is unknown
    and no word is blank or padded with spaces.
    """
    problems: list[str] = []

    _unknown_keys(data, "top level", "top level", problems)
    version = data.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool):
        problems.append(f"'version' must be a whole number, got {version!r}")
        version = 1

    units: list[Unit] = []
    for i, raw in _tables(data, "units", problems):
        where = f"units[{i}]"
        _unknown_keys(raw, "units", where, problems)
        code = _string(raw, "code", where, problems)
        units.append(Unit(name=_text(raw, "name", where, problems), code=code or ""))
        if code is not None and not _CODE.match(code):
            problems.append(f"{where}: code {code!r} is not lower-case ASCII")
        if units[-1].name and _padded(units[-1].name):
            problems.append(f"{where}: name {units[-1].name!r} has leading or trailing spaces")
    unit_names = {u.name for u in units}
    city = _string(data, "city", "top level", problems)
    if city is not None and city not in unit_names:
        problems.append(f"city {city!r} is not one of the units")
    city = city or ""

    kinds: dict[str, Kind] = {}
    raw_kinds = data.get("kinds") or {}
    if not isinstance(raw_kinds, dict):
        problems.append(f"kinds: expected a table of kinds ([kinds.zjj] …), got {raw_kinds!r:.60}")
        raw_kinds = {}
    for key, raw in raw_kinds.items():
        where = f"kinds.{key}"
        if not isinstance(raw, dict):
            problems.append(f"{where}: expected a table, got {raw!r:.60}")
            continue
        _unknown_keys(raw, "kinds", where, problems)
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
    # (kind, unit, place for streets) -> code: the router finds a department by its kind
    # and unit (a street by its place), so a second one would never get an appeal.
    taken: dict[tuple[str, str, str | None], str] = {}
    for i, raw in _tables(data, "departments", problems):
        where = f"departments[{i}] ({raw.get('code') or 'no code'})"
        _unknown_keys(raw, "departments", where, problems)
        code = _string(raw, "code", where, problems)
        duplicate = code in seen_codes
        if code is None:
            code = ""
        elif not _CODE.match(code):
            problems.append(f"{where}: code must be lower-case ASCII [a-z0-9._-]")
        elif len(TOPIC_PREFIX + code) > _MAX_TOPIC_LENGTH:
            problems.append(f"{where}: code too long for a Kafka topic")
        if duplicate:
            problems.append(f"{where}: duplicate code")
        seen_codes.add(code)
        kind = _string(raw, "kind", where, problems)
        if kind is not None and kind not in kinds:
            problems.append(f"{where}: unknown kind {kind!r}")
        kind = kind or ""
        serves = _strings(raw.get("serves"), f"{where}.serves", problems)
        if not serves:
            problems.append(f"{where}: serves no unit")
        problems.extend(f"{where}: unknown unit {u!r}" for u in serves if u not in unit_names)
        place = raw.get("place")
        if place is not None and not isinstance(place, str):
            problems.append(f"{where}: 'place' must be one place name, got {place!r}")
            place = None
        elif place and _padded(place):
            problems.append(f"{where}: place {place!r} has leading or trailing spaces")
        if kind == STREET_KIND and not place:
            problems.append(f"{where}: a street or town needs its place name")
        street_without_place = kind == STREET_KIND and not place
        for unit in () if duplicate or not kind or street_without_place else serves:
            slot = (kind, unit, place if kind == STREET_KIND else None)
            if slot in taken:
                what = f"a street or town {place!r}" if kind == STREET_KIND else f"a {kind!r}"
                problems.append(
                    f"{where}: {unit} already has {what} department ({taken[slot]}); "
                    "only the first would ever get an appeal"
                )
            taken.setdefault(slot, code)
        responsibilities = _string(raw, "responsibilities", where, problems) or (
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
    centre = _string(data, "centre", "top level", problems)
    if centre is not None and centre not in seen_codes:
        problems.append(f"centre {centre!r} is not a department code")
    centre = centre or ""

    rules: list[Rule] = []
    seen_rules: set[str] = set()
    staffed = {kind for kind, _ in by_kind_unit}
    for i, raw in _tables(data, "rules", problems):
        where = f"rules[{i}] ({raw.get('id') or 'no id'})"
        _unknown_keys(raw, "rules", where, problems)
        rule_id = _string(raw, "id", where, problems)
        if rule_id is not None and (
            not rule_id or rule_id == FALLBACK_RULE_ID or rule_id in seen_rules
        ):
            problems.append(f"{where}: id missing, duplicate or reserved ({FALLBACK_RULE_ID!r})")
        rule_id = rule_id or ""
        seen_rules.add(rule_id)
        lead = _string(raw, "lead", where, problems)
        level = _string(raw, "level", where, problems, default="district")
        if lead is not None and lead not in kinds:
            problems.append(f"{where}: unknown lead kind {lead!r}")
        if level is not None and level not in LEVELS:
            problems.append(f"{where}: level must be one of {LEVELS}, got {level!r}")
        lead, level = lead or "", level or ""
        if level == "city" and lead and (lead, city) not in by_kind_unit:
            problems.append(f"{where}: city-level rule but no {lead!r} department serves {city}")
        elif lead in kinds and lead not in staffed:
            # the rule would fire and then hand its appeals to the fallback
            problems.append(f"{where}: no department of lead kind {lead!r} to send appeals to")
        assist = _strings(raw.get("assist"), f"{where}.assist", problems)
        problems.extend(f"{where}: unknown assist kind {k!r}" for k in assist if k not in kinds)
        problems.extend(
            f"{where}: no department of assist kind {k!r}"
            for k in assist
            if k in kinds and k not in staffed
        )
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
        # A category no appeal is given would never add to the score: a typo (城建) or a
        # third-level name (物业服务) where the router gets the second level.
        problems.extend(
            f"{where}: unknown category {c!r} (one of {'/'.join(CATEGORIES)})"
            for c in rule.categories
            if c not in CATEGORIES
        )
        problems.extend(
            f"{where}: unknown subcategory {s!r} (not a second-level category of "
            "understand/data/label_taxonomy.csv)"
            for s in rule.subcategories
            if s not in _subcategories()
        )
        if not (rule.keywords or rule.categories or rule.subcategories):
            problems.append(f"{where}: needs keywords, categories or subcategories to ever fire")
        rules.append(rule)

    emergencies = _emergencies(data.get("emergencies"), kinds, staffed, problems)
    if problems:
        raise CatalogueError(problems, source)
    return Catalogue(
        version=version,
        city=city,
        centre=centre,
        units=tuple(units),
        kinds=kinds,
        departments=tuple(departments),
        rules=tuple(rules),
        emergencies=emergencies,
    )


def _emergencies(
    raw: Any, kinds: Mapping[str, Kind], staffed: set[str], problems: list[str]
) -> dict[str, str]:
    """``emergencies = { "110" = "gaj", "燃气泄漏" = "rq", … }``: service or reason → kind,
    each kind staffed somewhere."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(f"'emergencies' must be a table of service = kind, got {raw!r:.40}")
        return {}
    from understand.emergency import emergency_reasons

    reasons = emergency_reasons()  # reason → service, as the emergency rules give them
    services = sorted(set(reasons.values()))
    found: dict[str, str] = {}
    for service, kind in raw.items():
        where = f"emergencies.{service}"
        if service not in services and service not in reasons:
            problems.append(
                f"{where}: neither an emergency service ({'/'.join(services)}) nor "
                f"a reason of understand/data/emergency_lexicon.toml ({'/'.join(reasons)})"
            )
        elif not isinstance(kind, str) or kind not in kinds:
            problems.append(f"{where}: unknown kind {kind!r}")
        elif kind not in staffed:
            problems.append(f"{where}: no department of kind {kind!r}")
        else:
            found[service] = kind
    return found


@lru_cache(maxsize=4)
def load_catalogue(path: Path | str | None = None) -> Catalogue:
    """Load and validate the catalogue (default: ``$HOTLINE_ROUTING_CATALOGUE``); cached."""
    path = Path(path) if path is not None else CATALOGUE_PATH
    raw = path.read_bytes()
    try:
        # utf-8-sig: Windows Notepad's "UTF-8" starts with a BOM, which is not content
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        body = exc.object  # after a BOM, if there is one
        line = body[: exc.start].count(b"\n") + 1
        problem = f"line {line}: not UTF-8 (byte 0x{body[exc.start]:02x}); save the file as UTF-8"
        try:
            raw.decode("gb18030")
            problem += " (it reads as GBK/GB18030, as Chinese Windows editors save it)"
        except UnicodeDecodeError:
            pass
        raise CatalogueError([problem], str(path)) from None
    return parse_catalogue(tomllib.loads(text), source=str(path))
