"""Find the city and district (county-level unit) an appeal is about.

Place names in the shared data are masked by letter and number: cities are ``A市``,
``B市`` …; districts, counties and county-level cities are ``A3区``, ``A7县``, ``A9市``
and belong to the city with the same letter. Real deployments add their own names to
``KNOWN_DISTRICTS`` (a data change, not a code change).

Names are read in traditional characters (``A3區``, ``A7縣``) and in full-width letters and
digits (``Ａ３区``, an input method's full-width mode) too: the intake reads the raw text,
and a district it misses there is lost, as the router then takes the stored ``A市`` as given.

Not every ``B2区`` is a district: car parks, estates and markets label their zones so
(地下车库B2区, 小区A3区域). A name followed by 域/间/块 (区域, 区间, 区块) or 场 (市场) is not read
as one, and a bare label yields to a district the texts back up (see :func:`extract_district`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import cache

from understand.text_normalise import to_simplified

#: A masked district name, not followed by what makes it a zone label (区域, 区间, 区块, 市场):
#: what follows a real one (某小区, 的, punctuation, 人民政府, 教育局, 县城, 区划归, 区间歇性停水)
#: is left alone.
#: The masking sometimes left a space before the suffix (``J10 县``, 40 times in the replies,
#: never written without it there): one space is allowed and dropped from the name.
#: (The look-ahead first: scanning for a letter and a digit is a third cheaper than trying
#: the look-behind at every character.)
_DISTRICT = re.compile(
    r"(?=[A-Z][0-9])(?<![A-Za-z0-9])([A-Z])([0-9]{1,2})[ \u3000]?(区(?!域|间(?!歇)|块)|县|市(?!场))"
)
_CITY = re.compile(r"(?=[A-Z]市)(?<![A-Za-z0-9])([A-Z])市")

#: Extra real-world names → (city, district); empty for the masked data.
KNOWN_DISTRICTS: dict[str, tuple[str, str]] = {}

_FULL_WIDTH = re.compile("[\uff10-\uff19\uff21-\uff3a]")
_TO_ASCII = {c: c - 0xFEE0 for c in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B))}


def _plain(text: str) -> str:
    """``text`` with simplified characters and ASCII upper-case letters and digits."""
    # masked names (A3區) differ from simplified only in 區/縣; real names may in any char
    if KNOWN_DISTRICTS or "區" in text or "縣" in text:
        text = to_simplified(text)
    return text.translate(_TO_ASCII) if _FULL_WIDTH.search(text) else text


@dataclass(frozen=True)
class District:
    """A county-level unit and its city, e.g. ``A市`` / ``A3区``."""

    city: str
    district: str | None

    @property
    def name(self) -> str:
        """Full name as 12345 staff write it, e.g. ``A市A3区``."""
        return f"{self.city}{self.district or ''}"


def extract_district(*texts: str | None, known: Collection[str] | None = None) -> District | None:
    """Return the district the texts talk about, or the city alone, or ``None``.

    Texts are given in order of trust (address, title, content): the first text with a
    district mention decides, and within it the most mentioned district wins (ties go to
    the first mention). A city named without a district yields a city-only result.

    A bare ``B2区`` may be a car park's or an estate's zone (地下车库B2区), so it counts only
    while nothing better is in sight: it yields to a district the texts back up anywhere
    (one whose city they name, as in ``A市A3区``, one of ``known``, full names such as
    ``A市A3区``, by default the configured dispatch catalogue's districts, or one of
    ``KNOWN_DISTRICTS``), and to a city they name (``A市某小区`` with a car park's ``B2区`` is
    in A市, not B市). Counties (县) and county-level cities (市) are not zone labels.
    """
    plain = [_plain(text) for text in texts if text]
    names = _catalogue_districts() if known is None else known
    doubt: _Doubt | None = None  # what all the texts back up, read only when needed
    for text in plain:
        found = _mentions(text, names)
        if any(not b and d.endswith("区") for _, d, b in found):
            # a bare 区 is in doubt: it counts only with no district backed up and no
            # city named in any of the texts
            doubt = doubt or _Doubt.of(plain, names)
            found = [(c, d, b) for c, d, b in found if doubt.keeps(c, d, b)]
        if found:
            return District(*_most_mentioned([(c, d) for c, d, _ in found]))
    for text in plain:
        if m := _CITY.search(text):
            return District(city=f"{m.group(1)}市", district=None)
    return None


def _mentions(text: str, names: Collection[str]) -> list[tuple[str, str, bool]]:
    """``(city, district, backed by name)`` of each district mention in ``text``."""
    found = []
    for m in _DISTRICT.finditer(text):
        city, district = f"{m.group(1)}市", f"{m.group(1)}{m.group(2)}{m.group(3)}"
        found.append((city, district, city + district in names))
    found += [(c, d, True) for name, (c, d) in KNOWN_DISTRICTS.items() if name in text]
    return found


@dataclass(frozen=True)
class _Doubt:
    """Whether the texts back up some district, and the cities they name."""

    backed: bool
    cities: frozenset[str]

    @classmethod
    def of(cls, plain: list[str], names: Collection[str]) -> _Doubt:
        """What ``plain`` (every text) backs up; read only when a bare 区 is in doubt."""
        cities = frozenset(f"{m.group(1)}市" for text in plain for m in _CITY.finditer(text))
        mentions = [m for text in plain for m in _mentions(text, names)]
        return cls(any(b or c in cities for c, _, b in mentions), cities)

    def keeps(self, city: str, district: str, by_name: bool) -> bool:
        """A mention counts unless it is a bare 区 nothing backs while something else is."""
        return (
            by_name
            or city in self.cities
            or not district.endswith("区")
            or not (self.backed or self.cities)
        )


def _most_mentioned(found: list[tuple[str, str]]) -> tuple[str, str]:
    """The most frequent of ``found``; ties go to the first.

    A Counter keeps first-seen order and ``max`` the first maximum: one pass. (With
    ``found.index`` in the key, an address listing thousands of names took seconds.)"""
    counts = Counter(found)
    return max(counts, key=counts.__getitem__)


@cache
def _catalogue_districts() -> frozenset[str]:
    """Full names (``A市A3区``) of the districts of the configured dispatch catalogue; empty
    when it cannot be read (the router, which needs it, reports that at its start)."""
    from routing.catalogue import load_catalogue  # not at import: the intake reads names too

    try:
        catalogue = load_catalogue()
    except (OSError, ValueError):
        return frozenset()
    return catalogue_districts(catalogue.city, (u.name for u in catalogue.units))


def catalogue_districts(city: str, units: Iterable[str]) -> frozenset[str]:
    """Full names of a catalogue's districts: ``city`` + each unit other than the city."""
    return frozenset(f"{city}{unit}" for unit in units if unit != city)
